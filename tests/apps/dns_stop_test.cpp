// A stop while a DNS server does not answer: the real `booktape record` in a mount namespace of
// its own whose /etc/resolv.conf names a loopback "server" that takes the queries and never
// replies. Needs root with CAP_SYS_ADMIN (unshare -m); otherwise the test skips saying why.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

// A UDP socket on 127.0.0.1:53 that reads nothing and answers nothing.
class SilentDns {
 public:
  SilentDns() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      error_ = std::string("cannot bind udp 127.0.0.1:53: ") + std::strerror(errno);
    }
  }
  ~SilentDns() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentDns(const SilentDns&) = delete;
  SilentDns& operator=(const SilentDns&) = delete;
  [[nodiscard]] const std::string& error() const { return error_; }
  // Queries that arrived (and were never answered).
  int queries() const {
    int n = 0;
    char buf[512];
    while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) ++n;
    return n;
  }

 private:
  int fd_ = -1;
  std::string error_;
};

TEST(DnsStop, AStopWhileDnsDoesNotAnswerTakesSecondsNotTheResolverTimeout) {
  if (std::system("unshare -m true 2>/dev/null") != 0)
    GTEST_SKIP() << "unshare -m failed (needs root with CAP_SYS_ADMIN)";
  SilentDns dns;
  if (!dns.error().empty()) GTEST_SKIP() << dns.error();
  testing::TempDir dir;
  const std::string resolv = (dir.path() / "resolv.conf").string();
  // One try of 30 s: with a lookup that cannot be walked away from, the stop waits that long.
  std::ofstream(resolv) << "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n";

  const std::string record = std::string("exec '") + BOOKTAPE_BINARY +
                             "' record --ws-url ws://dns-hang.test:9/ws/market --rest-url "
                             "http://dns-hang.test:9 --asset 123 --duration-seconds 1 "
                             "--rest-checkpoint-interval-seconds 0.2 --status log --out '" +
                             (dir.path() / "data").string() + "'";
  const auto t0 = std::chrono::steady_clock::now();
  testing::Child rec({"/bin/sh", "-c",
                      "exec unshare -m sh -c 'mount --bind " + resolv +
                          " /etc/resolv.conf && " + record + "' 2>&1"});
  const std::string log = rec.read_all(45s);
  const int code = rec.wait(5s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  EXPECT_GE(dns.queries(), 2) << "the lookups did not reach the silent server:\n" << log;
  EXPECT_TRUE(code == 0 || code == 1) << code << "\n" << log;  // 1: the gate (no frames)
  EXPECT_LT(took, 10.0) << "the stop waited for the DNS timeout\n" << log;
}

}  // namespace
}  // namespace booktape
