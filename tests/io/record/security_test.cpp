// Security checks of the fault matrix (issue 5) that the other suites do not cover:
// - TLS below 1.2 is refused: a real OpenSSL server on 127.0.0.1 that speaks at most TLS 1.1
//   (proved by a control client that completes a TLS 1.1 handshake with it) is refused by the
//   HTTP client (Gamma, REST) and by the recorder's websocket; the same server allowing TLS 1.2
//   is accepted, so the refusal is the protocol version, not the certificate.
// - The archive is private whatever the umask: every directory the recorder creates is 0750 and
//   every file 0640 (websocket and REST archives, manifests, discovery, the run's report).
// - Config paths are checked before anything starts: a ca_file or assets_file that is not a
//   regular file is a problem validate() reports.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/archive/paths.hpp"
#include "io/net/http_client.hpp"
#include "io/record/recorder_config.hpp"
#include "io/sim/tls_pki.hpp"
#include "tests/support/archive_truth.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/sim_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::RecorderRun;
using testing::Sim;
namespace fs = std::filesystem;

// A TLS server on 127.0.0.1 that speaks TLS 1.0 up to `max_version` (security level 0, so that
// OpenSSL itself allows the old versions on this side). Each accepted connection is handshaken;
// a successful one gets a minimal HTTP 200 answer to whatever it sends.
class OldTlsServer {
 public:
  OldTlsServer(const TlsFiles& pki, int max_version) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    ok_ = SSL_CTX_use_certificate_chain_file(ctx_, pki.server_cert.c_str()) == 1 &&
          SSL_CTX_use_PrivateKey_file(ctx_, pki.server_key.c_str(), SSL_FILETYPE_PEM) == 1;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ok_ = ok_ && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          ::listen(fd_, 16) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OldTlsServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  OldTlsServer(const OldTlsServer&) = delete;
  OldTlsServer& operator=(const OldTlsServer&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int handshakes_ok() const { return handshakes_ok_; }
  [[nodiscard]] int handshakes_failed() const { return handshakes_failed_; }
  std::string failures() {
    std::lock_guard lock(mu_);
    std::string s;
    for (const std::string& f : failures_) s += f + "\n";
    return s;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{2, 0};  // a client that stops talking cannot hold the server
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        ++handshakes_ok_;
        char buf[4096];
        std::string req;
        while (req.find("\r\n\r\n") == std::string::npos) {
          const int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, static_cast<std::size_t>(n));
        }
        const std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\nok";
        SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
        SSL_shutdown(ssl);
      } else {
        ++handshakes_failed_;
        char err[256];
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        std::lock_guard lock(mu_);
        failures_.emplace_back(err);
      }
      ERR_clear_error();
      SSL_free(ssl);
      ::close(c);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1, port_ = 0;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_ok_{0}, handshakes_failed_{0};
  std::mutex mu_;
  std::vector<std::string> failures_;
  std::thread thread_;
};

// The protocol version a permissive client (security level 0, TLS 1.0 to 1.3, no verification)
// negotiates with 127.0.0.1:port, or 0 if the handshake fails: proof of what the server speaks.
int negotiated_version(int port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  int version = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      version = SSL_version(ssl);
      SSL_write(ssl, "GET / HTTP/1.1\r\n\r\n", 18);
      char buf[256];
      SSL_read(ssl, buf, sizeof buf);
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return version;
}

TEST(Security, ATls11OnlyServerIsRefusedByTheHttpClientAndTheRecordersWebsocket) {
  testing::TempDir dir;
  const TlsFiles pki = generate_test_pki(dir.path() / "tls");
  OldTlsServer old(pki, TLS1_1_VERSION);
  ASSERT_TRUE(old.ok());
  // The server does speak TLS 1.1: a client that allows it completes the handshake.
  ASSERT_EQ(negotiated_version(old.port()), TLS1_1_VERSION)
      << "this OpenSSL cannot speak TLS 1.1 at all; " << old.failures();
  const int control_ok = old.handshakes_ok();

  // The HTTP client (Gamma discovery, REST checkpoints) refuses it.
  const std::string url = "https://localhost:" + std::to_string(old.port());
  HttpClient http(HttpClientOptions{url, pki.ca_cert, 5'000ms, 1 << 20});
  try {
    const HttpResponse r = http.get("/");
    ADD_FAILURE() << "TLS 1.1 accepted: status " << r.status;
  } catch (const HttpError& e) {
    EXPECT_NE(std::string(e.what()).find("TLS"), std::string::npos) << e.what();
  }

  // The recorder's websocket refuses it too: connect failures, never a connection.
  RecorderConfig c;
  c.ws_url = "wss://localhost:" + std::to_string(old.port()) + "/ws/market";
  c.ca_file = pki.ca_cert;
  c.assets = {"1"};
  c.out = dir.path() / "data";
  c.status = "off";
  c.rest_checkpoint_interval_seconds = 0;
  c.ring_bytes = std::size_t{8} << 20;
  c.max_frame_bytes = std::size_t{1} << 20;
  c.backoff_initial_seconds = 0.1;
  {
    RecorderRun run(c);
    ASSERT_TRUE(eventually([&] { return run.counter("network", "connect_failures") >= 2; }, 10s));
    run.stop();
    EXPECT_EQ(run.counter("network", "connects"), 0u);
  }
  EXPECT_EQ(old.handshakes_ok(), control_ok) << "a client of ours completed a TLS 1.1 handshake";
  EXPECT_GE(old.handshakes_failed(), 3) << old.failures();
  testing::ArchivedStream a(archive_stream_dir(c.out, "polymarket", "ws_raw"));
  const auto closes = a.sessions("close");
  ASSERT_FALSE(closes.empty());
  EXPECT_NE(closes[0].find("connect failed: TLS handshake"), std::string::npos) << closes[0];
}

TEST(Security, TheSameServerAllowingTls12IsAcceptedSoTheRefusalIsTheVersion) {
  testing::TempDir dir;
  const TlsFiles pki = generate_test_pki(dir.path() / "tls");
  OldTlsServer server(pki, TLS1_2_VERSION);
  ASSERT_TRUE(server.ok());
  HttpClient http(HttpClientOptions{"https://localhost:" + std::to_string(server.port()),
                                    pki.ca_cert, 5'000ms, 1 << 20});
  const HttpResponse r = http.get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(server.handshakes_ok(), 1);
}

// ------------------------------------------------------------------ archive permissions -----

// Sets the process umask for the life of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

TEST(Security, EveryArchiveFileAndDirectoryIsPrivateWhateverTheUmask) {
  testing::TempDir dir;
  SimServerOptions so;
  so.market.seed = 51;
  so.market.lanes = 2;
  so.rate = 1'000;
  Sim sim(so);
  RecorderConfig c;
  c.ws_url = sim->ws_url();
  c.rest_url = c.gamma_url = sim->http_url();
  c.out = dir.path() / "data";
  c.status = "off";
  c.ring_bytes = std::size_t{8} << 20;
  c.max_frame_bytes = std::size_t{1} << 20;
  c.rest_checkpoint_interval_seconds = 0.4;
  c.duration_seconds = 2.5;  // bounded: the run manifest and report are written too
  {
    // umask 0: the modes must come from the recorder, not from a careful caller.
    const ScopedUmask open_umask(0);
    RecorderRun run(c);
    EXPECT_EQ(run.wait(), 0) << run.get().status_json();
  }

  std::size_t files = 0, dirs = 0;
  std::vector<std::string> where;  // which kinds of output were checked
  for (const auto& e : fs::recursive_directory_iterator(c.out)) {
    struct stat st {};
    ASSERT_EQ(::lstat(e.path().c_str(), &st), 0) << e.path();
    const mode_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      ++dirs;
      EXPECT_EQ(mode, 0750u) << e.path() << " mode " << std::oct << mode;
    } else {
      ++files;
      EXPECT_TRUE(S_ISREG(st.st_mode)) << e.path();
      EXPECT_EQ(mode, 0640u) << e.path() << " mode " << std::oct << mode;
    }
  }
  struct stat root {};
  ASSERT_EQ(::stat(c.out.c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 07777, 0750u)
      << "the archive root " << std::oct << (root.st_mode & 07777);
  // The run wrote every kind of output this check is about.
  const fs::path ws = archive_stream_dir(c.out, "polymarket", "ws_raw");
  const fs::path rest = archive_stream_dir(c.out, "polymarket", "rest_checkpoints");
  for (const fs::path& p :
       {ws, rest, c.out / "manifests", c.out / "discovery", c.out / "reports" / "checkpoints"}) {
    bool any = false;
    if (fs::exists(p))
      for (const auto& e : fs::recursive_directory_iterator(p)) any |= e.is_regular_file();
    EXPECT_TRUE(any) << "no file under " << p;
  }
  EXPECT_GE(files, 8u);
  EXPECT_GE(dirs, 5u);
}

// ------------------------------------------------------------------ config paths ------------

TEST(Security, ConfigPathsThatAreNotRegularFilesAreRefusedBeforeAnythingStarts) {
  testing::TempDir dir;
  RecorderConfig c;
  EXPECT_TRUE(validate(c).empty());
  auto mentions = [](const std::vector<std::string>& problems, const std::string& key) {
    std::size_t n = 0;
    for (const std::string& p : problems) n += p.find(key) != std::string::npos;
    return n;
  };
  c.ca_file = dir.path();  // a directory is not a CA bundle
  EXPECT_EQ(mentions(validate(c), "ca_file"), 1u);
  c.ca_file = dir.path() / "missing.pem";
  EXPECT_EQ(mentions(validate(c), "ca_file"), 1u);
  c.ca_file.clear();
  c.assets_file = dir.path();  // nor is it a list of token ids
  EXPECT_EQ(mentions(validate(c), "assets_file"), 1u);
  c.assets_file = "/dev/zero";  // a device would be read forever
  EXPECT_EQ(mentions(validate(c), "assets_file"), 1u);
  c.assets_file.clear();
  c.out.clear();
  EXPECT_EQ(mentions(validate(c), "out"), 1u);
  // And the Recorder refuses to be built from such a config.
  c.out = dir.path() / "data";
  c.ca_file = dir.path();
  EXPECT_THROW({ Recorder r(c); }, ConfigError);
  EXPECT_FALSE(fs::exists(c.out)) << "nothing is created before the config is accepted";
}

}  // namespace
}  // namespace booktape
