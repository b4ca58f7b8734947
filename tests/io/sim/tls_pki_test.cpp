// The generated PKI is only worth having if a verifying client accepts it and rejects everything
// else, so these tests use OpenSSL's real verifier and a real TLS handshake, never mocks.
#include "io/sim/tls_pki.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

template <auto Free>
struct OpenSslFree {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, OpenSslFree<&X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<&EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree<&BN_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<&X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree<&X509_STORE_CTX_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<&SSL_free>>;

std::vector<X509Ptr> read_certs(const fs::path& path) {
  std::vector<X509Ptr> certs;
  const BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) throw std::runtime_error("cannot open " + path.string());
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // PEM_read_bio_X509 reports the end of the file as an error
  return certs;
}

X509Ptr read_cert(const fs::path& path) {
  std::vector<X509Ptr> certs = read_certs(path);
  if (certs.empty()) throw std::runtime_error("no certificate in " + path.string());
  return std::move(certs.front());
}

PkeyPtr read_key(const fs::path& path) {
  const BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) throw std::runtime_error("cannot open " + path.string());
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("no private key in " + path.string());
  return key;
}

unsigned file_mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  return st.st_mode & 07777u;
}

// Seconds from now to `t` (negative: in the past); double for EXPECT_NEAR.
double seconds_from_now(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, t) != 1) throw std::runtime_error("ASN1_TIME_diff");
  return days * 86400.0 + secs;
}

// SSL_set_tlsext_host_name is a macro whose C cast (void*)name trips -Wold-style-cast; this is
// its expansion. OpenSSL copies the name and never writes through the pointer.
int set_sni(SSL* ssl, const char* name) {
  return static_cast<int>(SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                   const_cast<char*>(name)));
}

std::string verify_error_text(int err) {
  return X509_verify_cert_error_string(err);
}

// What a TLS client checks, with nothing but `trusted` as trust anchors: the chain, the
// serverAuth purpose, and the host name or IP if given. X509_V_OK on success, else the error.
int verify(X509* leaf, const std::vector<X509*>& trusted, const char* host = nullptr,
           const char* ip = nullptr) {
  const StorePtr store(X509_STORE_new());
  const StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx) throw std::runtime_error("X509_STORE allocation");
  for (X509* ca : trusted) {
    if (X509_STORE_add_cert(store.get(), ca) != 1) throw std::runtime_error("X509_STORE_add_cert");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER) != 1) {
    throw std::runtime_error("X509_STORE_CTX setup");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (host != nullptr && X509_VERIFY_PARAM_set1_host(param, host, 0) != 1) {
    throw std::runtime_error("X509_VERIFY_PARAM_set1_host");
  }
  if (ip != nullptr && X509_VERIFY_PARAM_set1_ip_asc(param, ip) != 1) {
    throw std::runtime_error("X509_VERIFY_PARAM_set1_ip_asc");
  }
  const int ok = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (ok == 1) return X509_V_OK;
  return err != X509_V_OK ? err : X509_V_ERR_UNSPECIFIED;
}

class TlsPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = generate_test_pki(dir_.path() / "pki");
    ca_ = read_cert(files_.ca_cert);
    leaf_ = read_cert(files_.server_cert);
  }

  TempDir dir_;
  TlsFiles files_;
  X509Ptr ca_;
  X509Ptr leaf_;
};

TEST_F(TlsPkiTest, WritesThreeFilesWithPrivateKeyMode0600) {
  EXPECT_EQ(files_.ca_cert, dir_.path() / "pki" / "ca.pem");
  EXPECT_EQ(files_.server_cert, dir_.path() / "pki" / "server.pem");
  EXPECT_EQ(files_.server_key, dir_.path() / "pki" / "server.key");
  EXPECT_EQ(file_mode(dir_.path() / "pki"), 0700u);
  EXPECT_EQ(file_mode(files_.server_key), 0600u);

  const std::vector<X509Ptr> chain = read_certs(files_.server_cert);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(X509_cmp(chain[1].get(), ca_.get()), 0) << "server.pem must end with the CA";
  EXPECT_EQ(read_certs(files_.ca_cert).size(), 1u);

  const PkeyPtr key = read_key(files_.server_key);
  EXPECT_EQ(X509_check_private_key(chain[0].get(), key.get()), 1);

  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.path() / "pki")) ++entries;
  EXPECT_EQ(entries, 3u) << "no temporary files left behind";
}

TEST_F(TlsPkiTest, CertificatesHaveTheAdvertisedShape) {
  for (X509* cert : {ca_.get(), leaf_.get()}) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    ASSERT_NE(key, nullptr);
    EXPECT_TRUE(EVP_PKEY_is_a(key, "EC"));
    std::array<char, 64> group{};
    ASSERT_EQ(EVP_PKEY_get_group_name(key, group.data(), group.size(), nullptr), 1);
    EXPECT_STREQ(group.data(), "prime256v1");
    EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
    EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);

    const BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
    ASSERT_NE(serial, nullptr);
    EXPECT_EQ(BN_num_bits(serial.get()), 128);

    // Valid from an hour ago for 30 days from now (a minute's slack for a slow machine).
    EXPECT_NEAR(seconds_from_now(X509_get0_notBefore(cert)), -3600, 60);
    EXPECT_NEAR(seconds_from_now(X509_get0_notAfter(cert)), 30 * 86400, 60);
  }
  EXPECT_EQ(X509_check_ca(ca_.get()), 1);
  EXPECT_NE(X509_get_key_usage(ca_.get()) & KU_KEY_CERT_SIGN, 0u);
  EXPECT_EQ(X509_check_ca(leaf_.get()), 0);
  EXPECT_NE(X509_get_extended_key_usage(leaf_.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_check_issued(ca_.get(), leaf_.get()), X509_V_OK);
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(ca_.get()), X509_get0_serialNumber(leaf_.get())), 0);
}

TEST_F(TlsPkiTest, LeafVerifiesAgainstTheCaFileAndNothingElse) {
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}), X509_V_OK)
      << verify_error_text(verify(leaf_.get(), {ca_.get()}));
  EXPECT_EQ(verify(leaf_.get(), {}), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  // The CA is not a server certificate: trusting the leaf alone proves nothing about the CA.
  EXPECT_NE(verify(ca_.get(), {leaf_.get()}), X509_V_OK);
}

TEST_F(TlsPkiTest, HostnameCheckAcceptsLocalhostOnly) {
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}, "localhost"), X509_V_OK);
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}, "example.com"), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}, "localhost.example"), X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(TlsPkiTest, IpCheckAcceptsBothLoopbacksOnly) {
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}, nullptr, "127.0.0.1"), X509_V_OK);
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}, nullptr, "::1"), X509_V_OK);
  EXPECT_EQ(verify(leaf_.get(), {ca_.get()}, nullptr, "127.0.0.2"), X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(TlsPkiTest, TwoCallsMakeUnrelatedAuthorities) {
  const TlsFiles other = generate_test_pki(dir_.path() / "other");
  const X509Ptr other_ca = read_cert(other.ca_cert);
  const X509Ptr other_leaf = read_cert(other.server_cert);

  EXPECT_EQ(verify(other_leaf.get(), {other_ca.get()}, "localhost"), X509_V_OK);
  EXPECT_NE(verify(leaf_.get(), {other_ca.get()}, "localhost"), X509_V_OK);
  EXPECT_NE(verify(other_leaf.get(), {ca_.get()}, "localhost"), X509_V_OK);
  // Distinct subjects, so the verifier cannot even pick the wrong CA as a candidate issuer.
  EXPECT_EQ(verify(leaf_.get(), {other_ca.get()}), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_NE(X509_NAME_cmp(X509_get_subject_name(ca_.get()), X509_get_subject_name(other_ca.get())),
            0);
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(ca_.get()), X509_get0_serialNumber(other_ca.get())),
      0);
}

TEST_F(TlsPkiTest, HonoursCustomNamesAndLifetime) {
  const TlsFiles custom = generate_test_pki(
      dir_.path() / "custom", {"sim.booktape.test", "*.feeds.booktape.test"}, {"10.1.2.3"}, 2);
  const X509Ptr ca = read_cert(custom.ca_cert);
  const X509Ptr leaf = read_cert(custom.server_cert);
  EXPECT_EQ(verify(leaf.get(), {ca.get()}, "sim.booktape.test"), X509_V_OK);
  EXPECT_EQ(verify(leaf.get(), {ca.get()}, "book.feeds.booktape.test"), X509_V_OK);
  EXPECT_EQ(verify(leaf.get(), {ca.get()}, "localhost"), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify(leaf.get(), {ca.get()}, nullptr, "10.1.2.3"), X509_V_OK);
  EXPECT_EQ(verify(leaf.get(), {ca.get()}, nullptr, "127.0.0.1"), X509_V_ERR_IP_ADDRESS_MISMATCH);
  EXPECT_NEAR(seconds_from_now(X509_get0_notAfter(leaf.get())), 2 * 86400, 60);
}

TEST_F(TlsPkiTest, RegeneratingReplacesFilesAndKeepsTheKeyPrivateUnderAnyUmask) {
  const mode_t old_umask = ::umask(0);
  const TlsFiles again = generate_test_pki(dir_.path() / "pki");
  ::umask(old_umask);

  EXPECT_EQ(file_mode(again.server_key), 0600u);
  const X509Ptr new_ca = read_cert(again.ca_cert);
  const X509Ptr new_leaf = read_cert(again.server_cert);
  EXPECT_NE(X509_cmp(new_ca.get(), ca_.get()), 0);
  EXPECT_EQ(verify(new_leaf.get(), {new_ca.get()}, "localhost"), X509_V_OK);
  const PkeyPtr key = read_key(again.server_key);
  EXPECT_EQ(X509_check_private_key(new_leaf.get(), key.get()), 1);
  ERR_clear_error();
}

TEST_F(TlsPkiTest, RejectsUnusableArguments) {
  const fs::path out = dir_.path() / "bad";
  EXPECT_THROW(generate_test_pki(out, {"localhost"}, {}, 0), std::invalid_argument);
  EXPECT_THROW(generate_test_pki(out, {}, {}), std::invalid_argument);
  EXPECT_THROW(generate_test_pki(out, {""}, {}), std::invalid_argument);
  EXPECT_THROW(generate_test_pki(out, {"localhost"}, {"not-an-ip"}), std::invalid_argument);
  EXPECT_THROW(generate_test_pki(out, {"localhost"}, {"127.0.0.1/8"}), std::invalid_argument);
  // A regular file where the directory should be.
  EXPECT_THROW(generate_test_pki(files_.ca_cert / "sub"), std::runtime_error);
  EXPECT_THROW(generate_test_pki(files_.ca_cert), std::runtime_error);
}

// ---- A real handshake over a socket pair ------------------------------------------------------

enum class ClientTrust { kCaFile, kSystemStoreOnly };

struct HandshakeOutcome {
  bool client_connected = false;
  long client_verify_result = X509_V_OK;
  int client_ssl_error = SSL_ERROR_NONE;
  int client_reason = 0;  // ERR_GET_REASON of the first queued error on failure
  std::string echoed;     // what the server sent back after the handshake
  bool server_accepted = false;
  std::string server_saw_sni;
};

struct SocketPair {
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
      throw std::runtime_error("socketpair");
    }
    // Every read and write gives up after 5 s, so a broken handshake fails instead of hanging.
    const timeval limit{5, 0};
    for (const int fd : fds) {
      if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
          ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0) {
        throw std::runtime_error("setsockopt");
      }
    }
  }
  ~SocketPair() {
    for (const int fd : fds) ::close(fd);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  std::array<int, 2> fds{-1, -1};  // [0] client, [1] server
};

SslCtxPtr make_server_ctx(const TlsFiles& files) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), files.server_cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), files.server_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw std::runtime_error("server SSL_CTX setup");
  }
  return ctx;
}

SslCtxPtr make_client_ctx(const TlsFiles& files, ClientTrust trust) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("SSL_CTX_new");
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const int loaded = trust == ClientTrust::kCaFile
                         ? SSL_CTX_load_verify_file(ctx.get(), files.ca_cert.c_str())
                         : SSL_CTX_set_default_verify_paths(ctx.get());
  if (loaded != 1) throw std::runtime_error("client trust store setup");
  return ctx;
}

// Client on this thread, server on another, over an AF_UNIX socket pair. `sni` and `host` may be
// null (no SNI, no host-name check); `ip` asks the client to check the certificate's IP instead.
// Both descriptors stay open until the server thread is joined, so neither side can write into a
// closed peer (no SIGPIPE); each side half-closes when done so the other sees EOF at once.
HandshakeOutcome handshake(const TlsFiles& files, ClientTrust trust, const char* sni,
                           const char* host, const char* ip = nullptr) {
  const SslCtxPtr server_ctx = make_server_ctx(files);
  const SslCtxPtr client_ctx = make_client_ctx(files, trust);
  const SocketPair sockets;
  const int client_fd = sockets.fds[0];
  const int server_fd = sockets.fds[1];

  const SslPtr client(SSL_new(client_ctx.get()));
  if (!client || SSL_set_fd(client.get(), client_fd) != 1) throw std::runtime_error("client SSL");
  if (sni != nullptr && set_sni(client.get(), sni) != 1) {
    throw std::runtime_error("SSL_set_tlsext_host_name");
  }
  if (host != nullptr && SSL_set1_host(client.get(), host) != 1) {
    throw std::runtime_error("SSL_set1_host");
  }
  if (ip != nullptr && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(client.get()), ip) != 1) {
    throw std::runtime_error("X509_VERIFY_PARAM_set1_ip_asc");
  }

  HandshakeOutcome out;
  {
    // jthread: joined on scope exit even if an assertion below throws.
    const std::jthread server([&] {
      const SslPtr ssl(SSL_new(server_ctx.get()));
      if (ssl && SSL_set_fd(ssl.get(), server_fd) == 1 && SSL_accept(ssl.get()) == 1) {
        out.server_accepted = true;
        const char* name = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
        if (name != nullptr) out.server_saw_sni = name;
        std::array<char, 16> buf{};
        const int n = SSL_read(ssl.get(), buf.data(), static_cast<int>(buf.size()));
        if (n > 0) SSL_write(ssl.get(), buf.data(), n);
        SSL_shutdown(ssl.get());
      }
      ERR_clear_error();
      ::shutdown(server_fd, SHUT_WR);
    });

    const int rc = SSL_connect(client.get());
    out.client_verify_result = SSL_get_verify_result(client.get());
    if (rc == 1) {
      out.client_connected = true;
      constexpr std::string_view kPing = "ping";
      if (SSL_write(client.get(), kPing.data(), static_cast<int>(kPing.size())) > 0) {
        std::array<char, 16> buf{};
        const int n = SSL_read(client.get(), buf.data(), static_cast<int>(buf.size()));
        if (n > 0) out.echoed.assign(buf.data(), static_cast<std::size_t>(n));
      }
      SSL_shutdown(client.get());
    } else {
      out.client_ssl_error = SSL_get_error(client.get(), rc);
      out.client_reason = ERR_GET_REASON(ERR_peek_error());
    }
    ERR_clear_error();
    ::shutdown(client_fd, SHUT_WR);
  }
  return out;
}

class TlsPkiHandshakeTest : public ::testing::Test {
 protected:
  TempDir dir_;
  TlsFiles files_ = generate_test_pki(dir_.path());
};

TEST_F(TlsPkiHandshakeTest, SucceedsWhenClientTrustsTheCaFile) {
  const HandshakeOutcome out = handshake(files_, ClientTrust::kCaFile, "localhost", "localhost");
  EXPECT_TRUE(out.client_connected)
      << verify_error_text(static_cast<int>(out.client_verify_result));
  EXPECT_EQ(out.client_verify_result, X509_V_OK);
  EXPECT_TRUE(out.server_accepted);
  EXPECT_EQ(out.server_saw_sni, "localhost");
  EXPECT_EQ(out.echoed, "ping");
}

TEST_F(TlsPkiHandshakeTest, FailsWhenClientTrustsOnlyTheSystemStore) {
  const HandshakeOutcome out =
      handshake(files_, ClientTrust::kSystemStoreOnly, "localhost", "localhost");
  EXPECT_FALSE(out.client_connected);
  EXPECT_FALSE(out.server_accepted);
  EXPECT_EQ(out.client_ssl_error, SSL_ERROR_SSL);
  EXPECT_EQ(out.client_reason, SSL_R_CERTIFICATE_VERIFY_FAILED);
  // The server sends its chain, root included, so the verifier finds a root it does not trust.
  EXPECT_TRUE(out.client_verify_result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
              out.client_verify_result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
      << verify_error_text(static_cast<int>(out.client_verify_result));
}

TEST_F(TlsPkiHandshakeTest, FailsWhenClientChecksAnotherHostname) {
  const HandshakeOutcome out =
      handshake(files_, ClientTrust::kCaFile, "wrong.example", "wrong.example");
  EXPECT_FALSE(out.client_connected);
  EXPECT_FALSE(out.server_accepted);
  EXPECT_EQ(out.client_ssl_error, SSL_ERROR_SSL);
  EXPECT_EQ(out.client_reason, SSL_R_CERTIFICATE_VERIFY_FAILED);
  EXPECT_EQ(out.client_verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(TlsPkiHandshakeTest, ChecksAnIpAddressWhenDialledByAddress) {
  // No SNI: RFC 6066 forbids IP literals in server_name.
  const HandshakeOutcome ok = handshake(files_, ClientTrust::kCaFile, nullptr, nullptr, "::1");
  EXPECT_TRUE(ok.client_connected) << verify_error_text(static_cast<int>(ok.client_verify_result));
  EXPECT_EQ(ok.echoed, "ping");
  const HandshakeOutcome bad =
      handshake(files_, ClientTrust::kCaFile, nullptr, nullptr, "192.0.2.1");
  EXPECT_FALSE(bad.client_connected);
  EXPECT_EQ(bad.client_verify_result, X509_V_ERR_IP_ADDRESS_MISMATCH);
}

}  // namespace
}  // namespace booktape
