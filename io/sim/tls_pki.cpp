#include "io/sim/tls_pki.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "io/archive/paths.hpp"

namespace booktape {

namespace fs = std::filesystem;

namespace {

// Certificates start an hour in the past so a client whose clock runs a little behind the
// simulator's does not reject a certificate made a second ago as "not yet valid".
constexpr long kBackdateSeconds = 3600;
// RFC 1035: a DNS name is at most 253 characters; also keeps lengths well inside OpenSSL's int.
constexpr std::size_t kMaxDnsNameLength = 253;

template <auto Free>
struct OpenSslFree {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<&EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<&X509_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslFree<&X509_EXTENSION_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree<&BN_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree<&BIO_free_all>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslFree<&GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslFree<&GENERAL_NAME_free>>;
using Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, OpenSslFree<&ASN1_IA5STRING_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, OpenSslFree<&ASN1_OCTET_STRING_free>>;

// Drains this thread's OpenSSL error queue into the message, so the caller sees the library's
// reason ("bad extension value", "malloc failure", ...) rather than just which step failed.
[[noreturn]] void throw_openssl(std::string_view what) {
  std::string message = "generate_test_pki: ";
  message += what;
  std::array<char, 256> buf{};
  const char* separator = ": ";
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    ERR_error_string_n(e, buf.data(), buf.size());
    message += separator;
    message += buf.data();
    separator = "; ";
  }
  throw std::runtime_error(message);
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), "generate_test_pki: " + what);
}

PkeyPtr make_p256_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw_openssl("generating an EC P-256 key");
  return key;
}

std::string random_hex(int bytes) {
  std::array<unsigned char, 16> raw{};
  if (bytes <= 0 || static_cast<std::size_t>(bytes) > raw.size() ||
      RAND_bytes(raw.data(), bytes) != 1) {
    throw_openssl("drawing random bytes");
  }
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < static_cast<std::size_t>(bytes); ++i) {
    hex += kDigits[raw[i] >> 4];
    hex += kDigits[raw[i] & 0xfu];
  }
  return hex;
}

// RFC 5280 wants serials unique per issuer and unpredictable; 128 random bits with the top bit
// forced on (so the value is never zero and always encodes in 17 octets, under the 20 allowed).
void set_random_serial(X509* cert) {
  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    throw_openssl("setting a random serial number");
  }
}

void add_name_entry(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    throw_openssl("setting subject " + value);
  }
}

// A v3 certificate for `key` with a fresh serial and the validity window; issuer, extensions and
// signature are the caller's.
X509Ptr new_certificate(EVP_PKEY* key, const std::string& common_name, int days) {
  X509Ptr cert(X509_new());
  if (!cert) throw_openssl("allocating a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) throw_openssl("setting version 3");
  set_random_serial(cert.get());
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
    throw_openssl("setting the validity period");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  add_name_entry(subject, NID_organizationName, "booktape");
  add_name_entry(subject, NID_commonName, common_name);
  if (X509_set_pubkey(cert.get(), key) != 1) throw_openssl("setting the public key");
  return cert;
}

// `value` is OpenSSL's config syntax ("critical,CA:TRUE"); `ctx` names issuer and subject, which
// the key identifier extensions read.
void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  // X509_add_ext stores a copy, so ours is freed either way.
  const ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    throw_openssl(std::string("adding extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
}

void push_name(GENERAL_NAMES* names, GeneralNamePtr name) {
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) throw_openssl("growing subjectAltName");
  static_cast<void>(name.release());  // the stack owns it now
}

// Built as GENERAL_NAMEs rather than a "DNS:a,IP:b" config string so that a name containing a
// comma or colon cannot smuggle in another entry, and IPv6 literals need no escaping.
void add_subject_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
  const GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) throw_openssl("allocating subjectAltName");
  for (const std::string& dns : dns_names) {
    if (dns.empty() || dns.size() > kMaxDnsNameLength) {
      throw std::invalid_argument("generate_test_pki: bad DNS name '" + dns + "'");
    }
    Ia5StringPtr ia5(ASN1_IA5STRING_new());
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!ia5 || !name ||
        ASN1_STRING_set(ia5.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      throw_openssl("encoding DNS name " + dns);
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, ia5.release());
    push_name(names.get(), std::move(name));
  }
  for (const std::string& ip : ip_addresses) {
    OctetStringPtr octets(a2i_IPADDRESS(ip.c_str()));
    if (!octets) {
      ERR_clear_error();
      throw std::invalid_argument("generate_test_pki: not an IPv4 or IPv6 address: '" + ip + "'");
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) throw_openssl("allocating a GENERAL_NAME");
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets.release());
    push_name(names.get(), std::move(name));
  }
  // Not critical: the subject DN is non-empty (RFC 5280 4.2.1.6).
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    throw_openssl("adding subjectAltName");
  }
}

void sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) throw_openssl("signing a certificate");
}

// Creates `dir` as 0700 (parents with the default mode); an existing directory is left as is.
void make_output_dir(const fs::path& dir) {
  if (dir.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) throw_errno(ec.value(), "creating " + dir.parent_path().string());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw_errno(errno, "creating " + dir.string());
  }
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("generate_test_pki: not a directory: " + dir.string());
  }
}

// PEM text of what `write_pem` writes, rendered in memory (then written by
// write_file_atomically with the file's mode). The buffer is wiped when the BIO is freed.
template <class WritePem>
std::string pem_text(const char* what, WritePem write_pem) {
  const BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || !write_pem(bio.get())) throw_openssl(std::string("writing ") + what);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) throw_openssl(std::string("writing ") + what);
  return std::string(data, static_cast<std::size_t>(n));
}

void write_pem_file(const fs::path& dir, const char* name, mode_t mode, std::string pem) {
  struct Wipe {  // the key's copy does not outlive the write, whatever happens
    std::string& text;
    ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
  } wipe{pem};
  try {
    write_file_atomically(dir, name, pem, mode);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("generate_test_pki: ") + e.what());
  }
}

}  // namespace

TlsFiles generate_test_pki(const fs::path& dir, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses, int days) {
  if (days <= 0) throw std::invalid_argument("generate_test_pki: days must be positive");
  if (dns_names.empty() && ip_addresses.empty()) {
    throw std::invalid_argument("generate_test_pki: need at least one DNS name or IP address");
  }
  ERR_clear_error();  // so a failure reports our reasons, not a stale one from earlier
  make_output_dir(dir);

  // The CA. Its name carries random hex so two generated CAs never share a subject: a client that
  // trusts several of them (or an old one) then fails with "unable to get issuer" rather than
  // trying the wrong CA's key.
  const PkeyPtr ca_key = make_p256_key();
  const X509Ptr ca = new_certificate(ca_key.get(), "booktape test CA " + random_hex(8), days);
  if (X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) != 1) {
    throw_openssl("setting the CA issuer");
  }
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, ca.get(), ca.get(), nullptr, nullptr, 0);
  add_extension(ca.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), &ctx, NID_subject_key_identifier, "hash");
  sign(ca.get(), ca_key.get());

  // The server certificate. digitalSignature is all an ECDSA key needs for TLS 1.2 ECDHE and 1.3.
  const PkeyPtr server_key = make_p256_key();
  const X509Ptr server = new_certificate(server_key.get(), "booktape test server", days);
  if (X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get())) != 1) {
    throw_openssl("setting the server issuer");
  }
  X509V3_set_ctx(&ctx, ca.get(), server.get(), nullptr, nullptr, 0);
  add_extension(server.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(server.get(), &ctx, NID_key_usage, "critical,digitalSignature");
  add_extension(server.get(), &ctx, NID_ext_key_usage, "serverAuth");
  add_extension(server.get(), &ctx, NID_subject_key_identifier, "hash");
  add_extension(server.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  add_subject_alt_names(server.get(), dns_names, ip_addresses);
  sign(server.get(), ca_key.get());

  TlsFiles files{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  write_pem_file(dir, "server.key", 0600, pem_text("server.key", [&](BIO* bio) {
                   // Unencrypted PKCS#8: the simulator loads it unattended, and the file mode
                   // protects it.
                   return PEM_write_bio_PrivateKey(bio, server_key.get(), nullptr, nullptr, 0,
                                                   nullptr, nullptr) == 1;
                 }));
  write_pem_file(dir, "server.pem", 0644, pem_text("server.pem", [&](BIO* bio) {
                   return PEM_write_bio_X509(bio, server.get()) == 1 &&
                          PEM_write_bio_X509(bio, ca.get()) == 1;
                 }));
  write_pem_file(dir, "ca.pem", 0644, pem_text("ca.pem", [&](BIO* bio) {
                   return PEM_write_bio_X509(bio, ca.get()) == 1;
                 }));
  return files;
}

}  // namespace booktape
