#include "codecs/sha256.hpp"

// OpenSSL 3 deprecates the low-level SHA256_* functions in favour of EVP, but EVP_DigestInit_ex2
// frees and reallocates its provider context on every digest (one heap allocation per frame,
// caught by tests/alloc). The low-level functions run the same SHA-NI/AVX2 assembly with the
// state on our side, so this file keeps using them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace booktape {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(new Impl) { reset(); }

Sha256::~Sha256() { delete impl_; }

void Sha256::reset() noexcept { SHA256_Init(&impl_->ctx); }

void Sha256::update(const void* data, std::size_t n) noexcept {
  SHA256_Update(&impl_->ctx, data, n);
}

Sha256Digest Sha256::finish() noexcept {
  Sha256Digest d{};
  SHA256_Final(d.data(), &impl_->ctx);
  return d;
}

Sha256Digest Sha256::peek() const noexcept {
  SHA256_CTX copy = impl_->ctx;  // plain state: finishing a copy leaves the original running
  Sha256Digest d{};
  SHA256_Final(d.data(), &copy);
  return d;
}

void Sha256::hex_digest(std::string_view data, char* out) noexcept {
  reset();
  update(data.data(), data.size());
  const Sha256Digest d = finish();
  to_hex(d.data(), d.size(), out);
}

void to_hex(const std::uint8_t* bytes, std::size_t n, char* out) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  std::string out(kSha256HexChars, '\0');
  h.hex_digest(data, out.data());
  return out;
}

}  // namespace booktape
