#pragma once
// SHA-256 through OpenSSL (SHA-NI where the CPU has it). The state lives in the hasher, so
// hashing allocates nothing per call (see sha256.cpp for why not EVP).
// One hasher per thread; not thread-safe.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace booktape {

inline constexpr std::size_t kSha256Bytes = 32;
inline constexpr std::size_t kSha256HexChars = 64;
using Sha256Digest = std::array<std::uint8_t, kSha256Bytes>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Streaming use: reset(), update()..., finish(). finish() leaves the hasher needing reset().
  void reset() noexcept;
  void update(const void* data, std::size_t n) noexcept;
  Sha256Digest finish() noexcept;
  // The digest of what was hashed so far, leaving the hasher free to continue.
  [[nodiscard]] Sha256Digest peek() const noexcept;

  // One-shot: the digest of `data` as 64 lowercase hex characters written to `out`.
  void hex_digest(std::string_view data, char* out) noexcept;

 private:
  struct Impl;
  Impl* impl_;
};

// Lowercase hex of `n` bytes into `out` (2n chars).
void to_hex(const std::uint8_t* bytes, std::size_t n, char* out) noexcept;
// Convenience for tests and cold paths (allocates).
std::string sha256_hex(std::string_view data);

}  // namespace booktape
