// `booktape record` under a service manager, with the test playing systemd: a unix datagram
// socket as NOTIFY_SOCKET and WATCHDOG_USEC set for a real recorder against a real simulator.
// It must say READY=1 once connected, WATCHDOG=1 at a quarter of the interval, STOPPING=1 at
// SIGTERM, and stop pinging while one of its threads is stuck.
//
// A stuck thread is made honestly, from outside and without a test hook in the recorder: the
// test ptrace-stops that one thread (PTRACE_SEIZE + PTRACE_INTERRUPT stop a single thread, where
// SIGSTOP would stop the whole process), so the rest of the recorder runs on and must notice.
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int kWatchdogMs = 2000;  // WATCHDOG_USEC: pings every 500 ms, stage stall bound 2 s

// The service manager's end of NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] bool bound() const { return bound_; }
  [[nodiscard]] const fs::path& path() const { return path_; }

  // The next datagram, or "" after `timeout`.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  // Reads until a datagram with `what` in it arrives (true) or `timeout` passes (false); every
  // datagram read is appended to `seen`.
  bool wait_for(const std::string& what, std::chrono::milliseconds timeout, std::string& seen) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      const std::string d = next(std::max(left, 1ms));
      if (d.empty()) continue;
      seen += d + "\n--\n";
      if (d.find(what) != std::string::npos) return true;
    }
    return false;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool bound_ = false;
};

// One thread of another process, held in a ptrace stop until thaw() or destruction.
class FrozenThread {
 public:
  explicit FrozenThread(pid_t tid) : tid_(tid) {
    if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
      error_ = std::string("PTRACE_SEIZE: ") + std::strerror(errno);
      return;
    }
    seized_ = true;
    int st = 0;
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 ||
        ::waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st)) {
      error_ = std::string("PTRACE_INTERRUPT: ") + std::strerror(errno);
    }
  }
  ~FrozenThread() { thaw(); }
  FrozenThread(const FrozenThread&) = delete;
  FrozenThread& operator=(const FrozenThread&) = delete;
  [[nodiscard]] const std::string& error() const { return error_; }
  void thaw() {
    if (seized_) ::ptrace(PTRACE_DETACH, tid_, nullptr, nullptr);
    seized_ = false;
  }

 private:
  pid_t tid_;
  bool seized_ = false;
  std::string error_;
};

// The thread of `pid` named `name` (pthread_setname_np; the main thread carries the binary's
// name), or -1.
pid_t thread_named(pid_t pid, const std::string& name) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  pid_t found = -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(dir + "/" + e->d_name + "/comm");
    std::string c;
    std::getline(comm, c);
    if (c == name) found = static_cast<pid_t>(std::stoi(e->d_name));
  }
  ::closedir(d);
  return found;
}

// A recorder under the test's "service manager", against `sim`. Its log goes to the test log.
struct ServiceRun {
  // `ws_url`: the market channel, if not the simulator's.
  ServiceRun(const testing::SimChild& sim, const testing::TempDir& dir, std::string ws_url = "")
      : notify(dir.path() / "notify"),
        recorder({"/bin/sh", "-c", command(sim, dir, ws_url.empty() ? sim.ws_url() : ws_url)}) {}

  static std::string command(const testing::SimChild& sim, const testing::TempDir& dir,
                             const std::string& ws_url) {
    // Short network timers, so a frozen network thread is judged stuck after
    // 2 x max(0.5, 1, 1) + 5 = 7 s.
    const fs::path cfg = dir.path() / "record.yaml";
    std::ofstream(cfg) << "ping_interval_seconds: 0.5\npong_timeout_seconds: 1\n"
                          "stale_connection_seconds: 1\n";
    return "exec env NOTIFY_SOCKET='" + (dir.path() / "notify").string() +
           "' WATCHDOG_USEC=" + std::to_string(kWatchdogMs * 1000) + " '" + BOOKTAPE_BINARY +
           "' record --config '" + cfg.string() + "' --ws-url '" + ws_url + "' --gamma-url '" +
           sim.url() + "' --rest-url '" + sim.url() + "' --series btc-up-or-down-5m --out '" +
           (dir.path() / "data").string() +
           "' --status log --rest-checkpoint-interval-seconds 0 >/dev/null";
  }

  NotifySocket notify;
  testing::Child recorder;
  std::string seen;  // every datagram, for failure messages
};

TEST(ServiceNotify, ReadyOnceConnectedThenWatchdogPingsThenStoppingAtSigterm) {
  testing::SimChild sim({"--rate", "200", "--seed", "5"});
  ASSERT_FALSE(sim.ws_url().empty());
  testing::TempDir dir;
  ServiceRun run(sim, dir);
  ASSERT_TRUE(run.notify.bound());
  ASSERT_TRUE(run.recorder.started());

  ASSERT_TRUE(run.notify.wait_for("READY=1", 30s, run.seen)) << run.seen;
  std::string after_ready;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(run.notify.wait_for("WATCHDOG=1", 10s, after_ready)) << after_ready;
  }
  // The status line of a connected recorder.
  ASSERT_TRUE(run.notify.wait_for("STATUS=", 10s, after_ready)) << after_ready;
  EXPECT_NE(after_ready.find("conns 1/1"), std::string::npos) << after_ready;

  run.recorder.signal(SIGTERM);
  std::string at_stop;
  EXPECT_TRUE(run.notify.wait_for("STOPPING=1", 20s, at_stop)) << at_stop;
  EXPECT_EQ(run.recorder.wait(30s), 0);
}

TEST(ServiceNotify, NotReadyWhileTheVenueRefusesConnectionsYetPingingAndSayingWhy) {
  testing::SimChild sim({"--rate", "50", "--seed", "5"});
  ASSERT_FALSE(sim.ws_url().empty());
  // A bound socket that never listens: every connection to it is refused at once.
  const int refuser = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(refuser, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(refuser, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string refused = "ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/ws/market";
  testing::TempDir dir;
  ServiceRun run(sim, dir, refused);
  ASSERT_TRUE(run.notify.bound());

  // It says what it waits for, and pings (a network thread backing off is not stuck)...
  ASSERT_TRUE(run.notify.wait_for("STATUS=waiting for the first connection", 20s, run.seen))
      << run.seen;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(run.notify.wait_for("WATCHDOG=1", 10s, run.seen));
  // ...but is not ready: nothing is recorded.
  // Its status line names the one planned connection, none up (discovery may finish after the
  // first STATUS on a busy machine, so a later line may be the first to say so).
  if (run.seen.find("conns 0/1") == std::string::npos) {
    EXPECT_TRUE(run.notify.wait_for("conns 0/1", 15s, run.seen)) << run.seen;
  }
  EXPECT_EQ(run.seen.find("READY=1"), std::string::npos) << run.seen;

  run.recorder.signal(SIGTERM);
  std::string at_stop;
  EXPECT_TRUE(run.notify.wait_for("STOPPING=1", 20s, at_stop)) << at_stop;
  EXPECT_EQ(at_stop.find("READY=1"), std::string::npos) << at_stop;
  EXPECT_EQ(run.recorder.wait(30s), 0);
  ::close(refuser);
}

// Which thread to freeze, and what the recorder says about it ("" for the control loop: a
// frozen control loop says nothing, it just stops pinging).
struct Stuck {
  const char* thread;
  const char* alarm;
};

void PrintTo(const Stuck& s, std::ostream* os) {
  *os << s.thread;
}

class StuckThread : public ::testing::TestWithParam<Stuck> {};

TEST_P(StuckThread, StopsTheWatchdogPingsUntilItMovesAgain) {
  const Stuck s = GetParam();
  testing::SimChild sim({"--rate", "200", "--seed", "6"});
  ASSERT_FALSE(sim.ws_url().empty());
  testing::TempDir dir;
  ServiceRun run(sim, dir);
  ASSERT_TRUE(run.notify.bound());
  ASSERT_TRUE(run.notify.wait_for("READY=1", 30s, run.seen)) << run.seen;
  ASSERT_TRUE(run.notify.wait_for("WATCHDOG=1", 10s, run.seen)) << run.seen;

  const std::string name = s.thread;
  const pid_t tid = name == "control" ? run.recorder.pid() : thread_named(run.recorder.pid(), name);
  ASSERT_GT(tid, 0) << "no thread " << name;
  {
    FrozenThread frozen(tid);
    ASSERT_EQ(frozen.error(), "");
    std::string stuck;
    if (*s.alarm != '\0') {
      // The rest of the recorder notices (frames keep arriving, so a frozen stage has work
      // waiting) and says so in its status.
      ASSERT_TRUE(run.notify.wait_for(s.alarm, 30s, stuck)) << stuck;
    } else {
      // A ping already on its way may still arrive.
      (void)run.notify.wait_for("WATCHDOG=1", 1s, stuck);
    }
    // Then no ping at all for 6 ping intervals (3 s), while the thread stays stuck.
    std::string silent;
    EXPECT_FALSE(run.notify.wait_for("WATCHDOG=1", 3s, silent)) << silent;
    frozen.thaw();
  }
  std::string after;
  EXPECT_TRUE(run.notify.wait_for("WATCHDOG=1", 30s, after)) << after;

  // And a recorder that was stuck for a while still shuts down cleanly.
  run.recorder.signal(SIGTERM);
  EXPECT_EQ(run.recorder.wait(30s), 0);
}

INSTANTIATE_TEST_SUITE_P(
    ServiceNotify, StuckThread,
    ::testing::Values(Stuck{"bt-book", "ALARM: the book stage has released nothing"},
                      Stuck{"bt-archive", "ALARM: the archive stage has released nothing"},
                      Stuck{"bt-net", "ALARM: the network thread has moved no counter"},
                      Stuck{"control", ""}),
    [](const ::testing::TestParamInfo<Stuck>& i) {
      std::string n = i.param.thread;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

}  // namespace
}  // namespace booktape
