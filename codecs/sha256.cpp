#include "codecs/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace booktape {

struct Sha256::Impl {
  EVP_MD* md = nullptr;  // fetched once: an implicit fetch per digest costs more than the hash
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->md == nullptr || impl_->ctx == nullptr ||
      EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) != 1) {
    EVP_MD_CTX_free(impl_->ctx);
    EVP_MD_free(impl_->md);
    delete impl_;
    throw std::runtime_error("OpenSSL cannot provide SHA-256");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  EVP_MD_free(impl_->md);
  delete impl_;
}

void Sha256::reset() noexcept { EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr); }

void Sha256::update(const void* data, std::size_t n) noexcept {
  EVP_DigestUpdate(impl_->ctx, data, n);
}

Sha256Digest Sha256::finish() noexcept {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
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
