// The fault matrix against the real binaries: `booktape record` as a child process recording a
// `booktape sim` child over 127.0.0.1, with faults the recorder must survive without losing a
// frame. Each test compares the archive with the simulator's ground truth at the end.
//
// - 1,000 connection drops (BOOKTAPE_FAULT_DROPS changes the count; about 17 s on 2 shared
//   cores), reconnecting after 10 ms each time: every frame sent is archived once, every drop is a
//   session record, and the recorder's descriptors and resident memory do not grow with the number
//   of connections.
// - A file size limit (RLIMIT_FSIZE through prlimit on the running recorder): writes fail with
//   EFBIG, the recorder alarms and keeps its books, then writes everything once the limit is
//   lifted.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "io/archive/paths.hpp"
#include "io/net/http_client.hpp"
#include "tests/support/archive_truth.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ArchivedStream;
using testing::SimChild;
namespace fs = std::filesystem;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The simulator's control endpoint (docs/SIM.md): status, faults, truth.
class SimControl {
 public:
  explicit SimControl(const std::string& url)
      : http_(HttpClientOptions{url, {}, 10'000ms, 256 << 20}) {}

  struct Conn {
    std::uint64_t id = 0, frames = 0, assets = 0;
  };
  std::vector<Conn> connections() {
    std::vector<Conn> out;
    const HttpResponse r = http_.get("/control/status");
    simdjson::dom::element e;
    if (r.status != 200 || parser_.parse(r.body).get(e) != simdjson::SUCCESS) return out;
    for (simdjson::dom::element c : simdjson::dom::array(e["connections"]))
      out.push_back(
          {std::uint64_t(c["id"]), std::uint64_t(c["frames"]), std::uint64_t(c["assets"])});
    return out;
  }
  bool fault(const std::string& kind, const std::string& target) {
    return http_.post_json("/control/fault?kind=" + kind + "&target=" + target, "").status == 200;
  }
  std::string truth() { return http_.post_json("/control/truth", "").body; }

 private:
  HttpClient http_;
  simdjson::dom::parser parser_;
};

// `booktape record --config FILE`, its log (stdout and stderr) into a file so that a long run
// never blocks on a full pipe. `shell_prefix` runs first in the same shell (e.g. a trap).
class RecorderChild {
 public:
  RecorderChild(const fs::path& config, const fs::path& log, const std::string& shell_prefix = "")
      : log_(log),
        child_({"/bin/sh", "-c",
                shell_prefix + "exec '" + std::string(BOOKTAPE_BINARY) + "' record --config '" +
                    config.string() + "' >'" + log.string() + "' 2>&1"}) {}
  [[nodiscard]] pid_t pid() const { return child_.pid(); }
  std::string log() const { return read_text(log_); }
  int stop(int sig = SIGINT) {
    child_.signal(sig);
    return child_.wait(60s);
  }
  int wait(std::chrono::milliseconds t) { return child_.wait(t); }

 private:
  fs::path log_;
  testing::Child child_;
};

// A recorder config for the simulator at `sim`, with `extra` YAML lines appended.
fs::path write_config(const fs::path& dir, const std::string& ws_url, const std::string& http_url,
                      const fs::path& out, const std::string& extra) {
  const fs::path file = dir / "record.yaml";
  std::ofstream f(file);
  f << "ws_url: \"" << ws_url << "\"\n"
    << "rest_url: \"" << http_url << "\"\n"
    << "gamma_url: \"" << http_url << "\"\n"
    << "out: \"" << out.string() << "\"\n"
    << "status: log\n"
    << "status_interval_seconds: 0.25\n"
    << "rest_checkpoint_interval_seconds: 0\n"
    << "connect_stagger_seconds: 0\n"
    // A small ring (the smallest allowed), so that warm-up has touched all of it before memory
    // is measured.
    << "ring_bytes: 1048576\n"
    << "max_frame_bytes: 131072\n"
    << extra;
  return file;
}
fs::path write_config(const fs::path& dir, const SimChild& sim, const fs::path& out,
                      const std::string& extra) {
  return write_config(dir, sim.ws_url(), sim.url(), out, extra);
}

std::size_t open_fds(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// VmRSS of `pid` in KiB (0 if unreadable).
std::uint64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

fs::path ws_dir(const fs::path& out) {
  return archive_stream_dir(out, "polymarket", "ws_raw");
}

// The websocket archive's ".open" file (the one being written), if any.
std::optional<fs::path> open_archive_file(const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(ws_dir(out), ec)) return std::nullopt;
  for (const auto& e : fs::recursive_directory_iterator(ws_dir(out), ec))
    if (is_open_name(e.path().filename().string())) return e.path();
  return std::nullopt;
}

std::uint64_t size_or_zero(const std::optional<fs::path>& p) {
  std::error_code ec;
  return p ? fs::file_size(*p, ec) : 0;
}

template <class F>
bool eventually(F done, std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// The status log lines' counters: "... books 8/8 live, ... | frames 12345".
struct StatusLine {
  std::uint64_t live = 0, tokens = 0, frames = 0;
};
// (Parsed by hand: std::regex trips GCC 12's -Wmaybe-uninitialized under the ASan build.)
std::vector<StatusLine> status_lines(const std::string& log) {
  std::vector<StatusLine> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    const std::size_t books = line.find("books ");
    const std::size_t frames = line.rfind("| frames ");
    if (books == std::string::npos || frames == std::string::npos ||
        line.find(" live", books) == std::string::npos)
      continue;
    StatusLine s;
    char* end = nullptr;
    s.live = std::strtoull(line.c_str() + books + 6, &end, 10);
    if (end == nullptr || *end != '/') continue;
    s.tokens = std::strtoull(end + 1, nullptr, 10);
    s.frames = std::strtoull(line.c_str() + frames + 9, nullptr, 10);
    out.push_back(s);
  }
  return out;
}

// Whether the recorder's status log comes to show at least `frames` read (within a minute).
bool has_read(const RecorderChild& rec, std::uint64_t frames) {
  return eventually(
      [&] {
        const auto lines = status_lines(rec.log());
        return !lines.empty() && lines.back().frames >= frames;
      },
      60s);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// ------------------------------------------------------------------ connection drops --------

TEST(FaultMatrix, RepeatedConnectionDropsLoseNoFrameAndLeakNoFdOrMemory) {
  const std::uint64_t drops = env_or("BOOKTAPE_FAULT_DROPS", 1'000);
  ASSERT_GE(drops, 20u);
  SimChild sim({"--rate", "5000", "--seed", "21", "--markets", "2"});
  ASSERT_FALSE(sim.url().empty());
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  // Reconnect 10 ms (+-20%) after every drop: backoff_max = initial, so it never grows.
  RecorderChild rec(write_config(dir.path(), sim, out,
                                 "backoff_initial_seconds: 0.01\n"
                                 "backoff_max_seconds: 0.01\n"),
                    dir.path() / "record.log");
  SimControl ctl(sim.url());

  // One drop: wait for the recorder's next connection to be subscribed and flowing (its initial
  // dump and a few frames), then end it.
  std::uint64_t last_id = 0;
  auto next_connection = [&]() -> std::optional<SimControl::Conn> {
    const auto until = Clock::now() + 15s;
    while (Clock::now() < until) {
      for (const SimControl::Conn& c : ctl.connections())
        if (c.id > last_id && c.assets > 0 && c.frames >= 10) return c;
      std::this_thread::sleep_for(1ms);
    }
    return std::nullopt;
  };

  const std::uint64_t warm_up = drops / 5;
  std::size_t fds_warm = 0;
  std::uint64_t rss_warm = 0, rss_max = 0;
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < drops; ++i) {
    const std::optional<SimControl::Conn> c = next_connection();
    ASSERT_TRUE(c) << "no new subscribed connection after drop " << i << "\n" << rec.log();
    if (i == warm_up) {
      fds_warm = open_fds(rec.pid());
      rss_warm = rss_kib(rec.pid());
    }
    if (i >= warm_up) rss_max = std::max(rss_max, rss_kib(rec.pid()));
    last_id = c->id;
    ASSERT_TRUE(ctl.fault("drop", std::to_string(c->id))) << "drop " << i;
  }
  // The connection after the last drop, flowing; then the same measurements.
  ASSERT_TRUE(next_connection()) << rec.log();
  std::this_thread::sleep_for(300ms);
  const std::size_t fds_end = open_fds(rec.pid());
  const std::uint64_t rss_end = rss_kib(rec.pid());
  rss_max = std::max(rss_max, rss_end);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_EQ(rec.stop(), 0) << rec.log();
  const std::string truth = ctl.truth();

  ArchivedStream a(ws_dir(out));
  const testing::TruthComparison cmp = testing::compare_with_truth(truth, a);
  std::printf(
      "[ drops ] %llu drops in %.1f s; %llu connections, %llu frames sent, %llu archived, "
      "%llu lost; fds %zu -> %zu; RSS %llu -> %llu KiB (max %llu)\n",
      static_cast<unsigned long long>(drops), seconds,
      static_cast<unsigned long long>(cmp.connections_sent),
      static_cast<unsigned long long>(cmp.frames_sent),
      static_cast<unsigned long long>(cmp.frames_archived),
      static_cast<unsigned long long>(cmp.frames_lost), fds_warm, fds_end,
      static_cast<unsigned long long>(rss_warm), static_cast<unsigned long long>(rss_end),
      static_cast<unsigned long long>(rss_max));

  // Zero lost, zero twice: every connection's frames, in order, with the same digest.
  EXPECT_EQ(cmp.connections_sent, drops + 1);
  EXPECT_EQ(cmp.connections_missing, 0u);
  EXPECT_EQ(cmp.connections_unexpected, 0u);
  EXPECT_EQ(cmp.frames_archived, cmp.frames_sent);
  EXPECT_TRUE(cmp.every_connection_contiguous);
  EXPECT_TRUE(a.global_contiguous);
  EXPECT_EQ(a.frames_after_close, 0u);
  EXPECT_TRUE(a.clean());

  // Every drop is a session: an open and a close with the reason; the last one closed by the stop.
  const auto opens = a.sessions("open");
  const auto closes = a.sessions("close");
  EXPECT_EQ(opens.size(), drops + 1);
  EXPECT_EQ(closes.size(), drops + 1);
  std::size_t lost = 0, shutdown = 0;
  for (const std::string& s : closes) {
    lost += s.find("connection lost") != std::string::npos;
    shutdown += s.find("shutdown") != std::string::npos;
  }
  EXPECT_EQ(lost, drops);
  EXPECT_EQ(shutdown, 1u);

  // No descriptor per connection: at most a few more than after warm-up (a socket in flight).
  EXPECT_LE(fds_end, fds_warm + 4)
      << "fds after warm-up " << fds_warm << ", at the end " << fds_end;
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan freed memory sits in its quarantine, so RSS grows with churn, leak or not; there
  // LeakSanitizer checks the recorder instead: a leak makes its exit code (asserted above) fail.
  (void)rss_warm;
#else
  // No memory per connection: 4 MiB of slack covers allocator noise (warm-up has cycled the
  // 1 MiB ring many times); a leak of 5 KiB per connection exceeds it over the 800 connections
  // measured in the 1,000-drop run.
  EXPECT_LE(rss_end, rss_warm + 4 * 1024)
      << "RSS after warm-up " << rss_warm << " KiB, end " << rss_end << " KiB";
#endif
}

// ------------------------------------------------------------------ a paused recorder -------

TEST(FaultMatrix, APausedRecorderKeepsItsConnectionAndLosesNothingOfTheBacklog) {
  // The recorder stops for 3 s (SIGSTOP: a starved host, a swap storm, a debugger) while the
  // simulator keeps sending; its PONG and stale limits are 1 s. On waking, the venue's backlog
  // (the PONG inside it) is waiting in the socket: the recorder must read it, not judge the
  // connection dead and throw the backlog away with it.
  SimChild sim({"--rate", "5000", "--seed", "23", "--markets", "2"});
  ASSERT_FALSE(sim.url().empty());
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  RecorderChild rec(write_config(dir.path(), sim, out,
                                 "ping_interval_seconds: 0.2\n"
                                 "pong_timeout_seconds: 1\n"
                                 "stale_connection_seconds: 1\n"),
                    dir.path() / "record.log");
  SimControl ctl(sim.url());
  ASSERT_TRUE(eventually(
      [&] {
        const auto c = ctl.connections();
        return !c.empty() && c.back().assets > 0 && c.back().frames > 1'000;
      },
      15s))
      << rec.log();
  ::kill(rec.pid(), SIGSTOP);
  std::this_thread::sleep_for(3s);
  const std::uint64_t sent_while_paused = ctl.connections().back().frames;
  ::kill(rec.pid(), SIGCONT);
  // Awake for longer than both limits, with PINGs going out every 0.2 s.
  std::this_thread::sleep_for(2500ms);
  // Then until it has caught up: read the backlog, and then what was sent while it read. A
  // slow build (the sanitizers, a loaded machine) needs longer than 2.5 s for that, and a stop
  // before it would leave the rest unread in the socket (the stop's grace is 2 s), which is a
  // stop's loss, not the pause's. The status log's frame count says how far it has read.
  ASSERT_TRUE(has_read(rec, sent_while_paused)) << rec.log();
  ASSERT_TRUE(has_read(rec, ctl.connections().back().frames)) << rec.log();
  ASSERT_EQ(rec.stop(), 0) << rec.log();
  const std::string log = rec.log();
  const std::string truth = ctl.truth();

  ArchivedStream a(ws_dir(out));
  const testing::TruthComparison cmp = testing::compare_with_truth(truth, a);
  EXPECT_EQ(cmp.connections_sent, 1u) << log;  // never reconnected
  EXPECT_EQ(log.find("no PONG"), std::string::npos) << log;
  EXPECT_EQ(log.find("stale:"), std::string::npos) << log;
  EXPECT_GT(cmp.frames_sent, sent_while_paused);
  EXPECT_TRUE(cmp.exact()) << cmp.frames_sent << " sent, " << cmp.frames_archived << " archived\n"
                           << log;
  EXPECT_TRUE(a.clean());
}

// ------------------------------------------------------------------ a venue that does not close

TEST(FaultMatrix, AVenueThatIgnoresOurEndIsCutOffAfterTheGraceAndSaysSo) {
  // At a stop the recorder unsubscribes, ends its side (FIN) and reads on until the venue
  // closes. A venue that ignores the FIN is cut off after the stop grace (5 s): the stop still
  // ends, the archive is whole, and the log says that frames still on their way were not read.
  SimChild sim({"--rate", "2000", "--seed", "29", "--markets", "1"});
  ASSERT_FALSE(sim.url().empty());
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  RecorderChild rec(write_config(dir.path(), sim, out, ""), dir.path() / "record.log");
  SimControl ctl(sim.url());
  ASSERT_TRUE(eventually(
      [&] {
        const auto c = ctl.connections();
        return !c.empty() && c.back().frames > 500;
      },
      15s))
      << rec.log();
  ASSERT_TRUE(ctl.fault("ignore_fin", "all"));
  // Stopped once it has read what was sent so far (a slow build may lag), so that all of it
  // must be in the archive.
  const std::uint64_t before_stop = ctl.connections().back().frames;
  ASSERT_TRUE(has_read(rec, before_stop)) << rec.log();
  ASSERT_EQ(rec.stop(), 0) << rec.log();
  const std::string log = rec.log();
  EXPECT_NE(log.find("connection 1: the venue had not closed 5 s after we did; cut off"),
            std::string::npos)
      << log;

  ArchivedStream a(ws_dir(out));
  EXPECT_TRUE(a.clean());
  const auto closes = a.sessions("close");
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_NE(closes[0].find("\"reason\":\"shutdown\""), std::string::npos) << closes[0];
  const testing::TruthComparison cmp = testing::compare_with_truth(ctl.truth(), a);
  EXPECT_EQ(cmp.connections_sent, 1u);
  EXPECT_TRUE(cmp.every_connection_contiguous);
  EXPECT_GE(cmp.frames_archived, before_stop);
  EXPECT_LE(cmp.frames_archived, cmp.frames_sent);
}

// ------------------------------------------------------------------ file size limit ---------

// Holds the recorder's RLIMIT_FSIZE at `bytes` (soft) until destroyed, then lifts it.
class FileSizeLimit {
 public:
  FileSizeLimit(pid_t pid, rlim_t bytes) : pid_(pid) {
    rlimit now{};
    ok_ = ::prlimit(pid_, RLIMIT_FSIZE, nullptr, &now) == 0;
    hard_ = now.rlim_max;
    const rlimit lim{bytes, hard_};
    ok_ = ok_ && ::prlimit(pid_, RLIMIT_FSIZE, &lim, nullptr) == 0;
    if (!ok_) error_ = std::strerror(errno);
  }
  ~FileSizeLimit() { lift(); }
  void lift() {
    if (lifted_) return;
    lifted_ = true;
    const rlimit lim{hard_, hard_};
    ::prlimit(pid_, RLIMIT_FSIZE, &lim, nullptr);
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  pid_t pid_;
  rlim_t hard_ = RLIM_INFINITY;
  bool ok_ = false, lifted_ = false;
  std::string error_;
};

// The recorder under a file size limit it cannot write past, then with the limit lifted.
// `shell_prefix` runs before exec in the recorder's shell.
void run_under_file_size_limit(const std::string& shell_prefix, bool expect_survival) {
  SimChild sim({"--rate", "2000", "--seed", "22", "--markets", "2"});
  ASSERT_FALSE(sim.url().empty());
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  RecorderChild rec(write_config(dir.path(), sim, out,
                                 "block_max_age_seconds: 0.05\n"
                                 "block_bytes: 16384\n"),
                    dir.path() / "record.log", shell_prefix);
  SimControl ctl(sim.url());

  // Data reaches the disk first.
  std::optional<fs::path> file;
  ASSERT_TRUE(eventually(
      [&] {
        file = open_archive_file(out);
        return size_or_zero(file) >= 64 * 1024;  // above the log file's size: both are limited
      },
      20s))
      << rec.log();

  // The limit: the current size, so the next block's write fails (EFBIG; SIGXFSZ first).
  const std::uint64_t at_limit = size_or_zero(file);
  FileSizeLimit limit(rec.pid(), at_limit);
  ASSERT_TRUE(limit.ok()) << limit.error();
  const bool alarmed = eventually(
      [&] { return rec.log().find("ALARM: archive write failed") != std::string::npos; }, 10s);
  if (!expect_survival) {
    // Without SIGXFSZ ignored, the first write past the limit must still not kill the recorder.
    EXPECT_EQ(rec.wait(2s), -1) << "the recorder ended (128 + SIGXFSZ = " << 128 + SIGXFSZ
                                << " means killed by SIGXFSZ)\n"
                                << rec.log();
  }
  ASSERT_TRUE(alarmed) << rec.log();
  // What the file held when writes began to fail (a block may have landed just before the
  // limit took effect).
  const std::uint64_t frozen = size_or_zero(open_archive_file(out));
  EXPECT_GE(frozen, at_limit);
  const std::string during_start = rec.log();
  const std::size_t lines_before = status_lines(during_start).size();
  std::this_thread::sleep_for(2500ms);  // the outage: well inside max_pending_bytes (512 MiB)
  const std::string during = rec.log();
  // The books kept running: status lines during the outage show frames growing, books live.
  const auto lines = status_lines(during);
  ASSERT_GE(lines.size(), lines_before + 4) << during;
  const StatusLine& first = lines[lines_before];
  const StatusLine& last = lines.back();
  EXPECT_GT(last.frames, first.frames + 1000) << during;
  EXPECT_EQ(last.live, last.tokens) << during;
  EXPECT_GT(last.tokens, 0u);
  // The alarm says what failed, where, why, and what waits in memory; the status line keeps
  // saying it while it lasts.
  const std::string alarm = during.substr(during.find("ALARM: archive write failed"));
  const std::string first_alarm = alarm.substr(0, alarm.find('\n'));
  EXPECT_NE(first_alarm.find(".jsonl.gz.open"), std::string::npos) << first_alarm;
  EXPECT_NE(first_alarm.find("File too large (errno 27)"), std::string::npos) << first_alarm;
  EXPECT_NE(first_alarm.find("waiting in memory: "), std::string::npos) << first_alarm;
  EXPECT_GE(count_of(during, "ARCHIVE WRITES FAILING"), 2u) << during;
  // Nothing past the limit reached the file, and nothing half-written stayed.
  EXPECT_EQ(size_or_zero(open_archive_file(out)), frozen);

  // Space again: the kept blocks are written (the retry comes within about a second).
  limit.lift();
  ASSERT_TRUE(eventually([&] { return size_or_zero(open_archive_file(out)) > frozen; }, 10s))
      << rec.log();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(rec.stop(), 0) << rec.log();  // 3 would mean frames lost or files left open
  const std::string log = rec.log();
  EXPECT_NE(log.find("archive writes work again"), std::string::npos) << log;
  EXPECT_NE(log.find(": every frame is in a sealed file"), std::string::npos) << log;

  ArchivedStream a(ws_dir(out));
  const testing::TruthComparison cmp = testing::compare_with_truth(ctl.truth(), a);
  EXPECT_TRUE(cmp.exact()) << "sent " << cmp.frames_sent << " archived " << cmp.frames_archived;
  EXPECT_GT(cmp.frames_sent, 3000u);  // most of them sent during the outage
  EXPECT_TRUE(a.global_contiguous);
  EXPECT_TRUE(a.clean());
}

TEST(FaultMatrix, AFileSizeLimitFailsWritesThatResumeWhenLiftedWithNothingLost) {
  // SIGXFSZ ignored by the shell before exec (inherited): writes past the limit fail with EFBIG.
  run_under_file_size_limit("trap '' XFSZ; ", true);
}

// Without the shell's help: the recorder itself ignores SIGXFSZ, so a file size limit (a
// `ulimit -f` in a service unit, a quota) is an EFBIG write error it retries, not a kill.
TEST(FaultMatrix, AFileSizeLimitDoesNotKillTheRecorder) {
  run_under_file_size_limit("", false);
}

// ------------------------------------------------------------------ listeners ---------------

struct Listener {
  std::string table;    // "tcp" or "tcp6"
  std::string address;  // as /proc/net/tcp* prints it (hex, in network order per 32-bit word)
  unsigned port = 0;
};

// The listening TCP sockets that `pid` holds, from its descriptors and /proc/net/tcp{,6}.
std::vector<Listener> listeners_of(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code lec;
    const std::string target = fs::read_symlink(it->path(), lec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::vector<Listener> out;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in(std::string("/proc/net/") + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream row(line);
      std::vector<std::string> f;
      for (std::string w; row >> w;) f.push_back(w);
      if (f.size() < 10 || f[3] != "0A" || inodes.count(f[9]) == 0) continue;  // 0A: LISTEN
      const std::size_t colon = f[1].find(':');
      out.push_back({table, f[1].substr(0, colon),
                     static_cast<unsigned>(std::stoul(f[1].substr(colon + 1), nullptr, 16))});
    }
  }
  return out;
}

bool loopback(const Listener& l) {
  if (l.table == "tcp") return l.address.size() == 8 && l.address.substr(6) == "7F";  // 127/8
  return l.address == "00000000000000000000000001000000" ||                           // ::1
         (l.address.rfind("0000000000000000FFFF0000", 0) == 0 && l.address.substr(30) == "7F");
}

TEST(SecurityListeners, TheSimulatorListensOnLoopbackOnlyByDefaultAndTheRecorderNowhere) {
  for (const bool tls : {false, true}) {
    testing::TempDir dir;
    std::vector<std::string> args = {BOOKTAPE_BINARY, "sim", "--rate", "200", "--seed", "23"};
    if (tls) args.insert(args.end(), {"--tls", "--tls-dir", (dir.path() / "tls").string()});
    testing::Child sim(args);  // no --bind: the default
    const std::string ready = sim.read_line(10s);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    ASSERT_EQ(p.parse(ready).get(e), simdjson::SUCCESS) << ready;
    const std::uint64_t port = e["port"];
    const std::vector<Listener> ls = listeners_of(sim.pid());
    ASSERT_FALSE(ls.empty()) << "no listening socket found for the simulator";
    bool found_port = false;
    for (const Listener& l : ls) {
      EXPECT_TRUE(loopback(l)) << l.table << " " << l.address << ":" << l.port << " (tls " << tls
                               << ")";
      found_port |= l.port == port;
    }
    EXPECT_TRUE(found_port) << "the ready line's port " << port;

    if (!tls) {  // the recorder, recording it, opens no port of its own
      const std::string ws_url{std::string_view(e["ws_url"])};
      const std::string http_url{std::string_view(e["http_url"])};
      EXPECT_NE(ws_url.find("127.0.0.1"), std::string::npos) << ws_url;
      const fs::path out = dir.path() / "data";
      RecorderChild rec(write_config(dir.path(), ws_url, http_url, out, ""),
                        dir.path() / "record.log");
      ASSERT_TRUE(eventually([&] { return size_or_zero(open_archive_file(out)) > 0; }, 20s))
          << rec.log();
      EXPECT_TRUE(listeners_of(rec.pid()).empty());
      EXPECT_EQ(rec.stop(), 0) << rec.log();
    }
    sim.signal(SIGTERM);
    EXPECT_EQ(sim.wait(10s), 0);
  }
}

}  // namespace
}  // namespace booktape
