// The real `booktape record` binary against a real `booktape sim` child: signals, exit codes,
// the bounded run's gate files, and the messages a user sees when something is wrong.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "codecs/sha256.hpp"
#include "io/archive/paths.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::SimChild;
namespace fs = std::filesystem;

// `booktape record ARGS` through a shell so stderr (the recorder's log) is read too.
testing::Child record(const std::vector<std::string>& args) {
  std::string cmd = std::string("exec '") + BOOKTAPE_BINARY + "' record";
  for (const std::string& a : args) cmd += " '" + a + "'";
  return testing::Child({"/bin/sh", "-c", cmd + " 2>&1"});
}

std::vector<std::string> sim_flags(const SimChild& sim, const fs::path& out) {
  return {"--ws-url", sim.ws_url(), "--rest-url", sim.url(), "--gamma-url", sim.url(),
          "--out", out.string(), "--status", "log", "--rest-checkpoint-interval-seconds", "0.5"};
}

bool any_open_file(const fs::path& root) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (is_open_name(e.path().filename().string())) return true;
  return false;
}

std::size_t verified_manifest_entries(const fs::path& out) {
  std::size_t n = 0;
  simdjson::dom::parser p;
  for (const char* stream : {"polymarket_ws_raw", "polymarket_rest_checkpoints"}) {
    std::ifstream in(out / "manifests" / (std::string(stream) + ".manifest.jsonl"));
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element m = p.parse(line);
      std::ifstream f(out / std::string(std::string_view(m["path"])), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(f)), {});
      EXPECT_EQ(sha256_hex(bytes), std::string_view(m["sha256"]));
      ++n;
    }
  }
  return n;
}

// Whether some line starts "YYYY-MM-DDTHH:MM:SS.mmmZ booktape record: " (by hand: GCC 12 warns
// falsely inside <regex> in the ASan build, and warnings are errors).
bool has_line_stamped_to_the_millisecond(const std::string& log) {
  static constexpr std::string_view kShape = "####-##-##T##:##:##.###Z booktape record: ";
  for (std::size_t at = 0; at < log.size();) {
    const std::size_t end = std::min(log.find('\n', at), log.size());
    const std::string_view line(log.data() + at, end - at);
    bool ok = line.size() >= kShape.size();
    for (std::size_t i = 0; ok && i < kShape.size(); ++i)
      ok = kShape[i] == '#' ? std::isdigit(static_cast<unsigned char>(line[i])) != 0
                            : line[i] == kShape[i];
    if (ok) return true;
    at = end + 1;
  }
  return false;
}

TEST(RecordCli, SigintStopsCleanlyWithEveryFileClosedAndVerified) {
  SimChild sim({"--rate", "2000", "--seed", "3"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  testing::Child rec = record(sim_flags(sim, out));
  // Wait until data flows (the periodic summary comes every 10 s: watch the files instead).
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until &&
         !fs::exists(out / "raw_orderbooks" / "polymarket" / "rest_checkpoints")) {
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(500ms);
  rec.signal(SIGINT);
  const std::string log = rec.read_all(30s);
  EXPECT_EQ(rec.wait(30s), 0) << log;
  EXPECT_NE(log.find("stopping: closing connections"), std::string::npos) << log;
  EXPECT_NE(log.find("connection 1 (shard 0) up"), std::string::npos) << log;
  // Log times in UTC with milliseconds and the zone (was: seconds, no zone).
  EXPECT_TRUE(has_line_stamped_to_the_millisecond(log)) << log;
  EXPECT_FALSE(any_open_file(out));
  EXPECT_GE(verified_manifest_entries(out), 2u);
}

// Reads the recorder's log until `text` appears (or 20 s pass); returns what it read.
std::string read_until(testing::Child& rec, std::string_view text) {
  std::string log;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (log.find(text) == std::string::npos && std::chrono::steady_clock::now() < until) {
    const std::string line = rec.read_line(500ms);
    if (!line.empty()) log += line + "\n";
  }
  return log;
}

// SIGTERM and SIGHUP (a closed ssh session) stop it like SIGINT: every file closed, exit 0
// (was, for SIGHUP: exit 129 and ".open" files left, as after a crash).
TEST(RecordCli, SigtermAndSighupStopCleanlyLikeSigint) {
  for (const int sig : {SIGTERM, SIGHUP}) {
    SimChild sim({"--rate", "1000", "--seed", "3"});
    testing::TempDir dir;
    const fs::path out = dir.path() / "data";
    testing::Child rec = record(sim_flags(sim, out));
    std::string log = read_until(rec, "connection 1 (shard 0) up");
    std::this_thread::sleep_for(500ms);
    rec.signal(sig);
    log += rec.read_all(30s);
    EXPECT_EQ(rec.wait(30s), 0) << strsignal(sig) << "\n" << log;
    EXPECT_NE(log.find("every frame is in a sealed file"), std::string::npos) << log;
    EXPECT_FALSE(any_open_file(out)) << strsignal(sig);
    EXPECT_GE(verified_manifest_entries(out), 1u);
  }
}

// SIGPIPE is ignored: neither the signal itself nor a log pipe nobody reads any more (a
// terminal or a `| head` gone) ends the recorder; it stops cleanly when asked.
TEST(RecordCli, SigpipeAndAClosedLogPipeDoNotEndTheRecorder) {
  SimChild sim({"--rate", "1000", "--seed", "3"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  std::vector<std::string> args = sim_flags(sim, out);
  args.insert(args.end(), {"--status-interval-seconds", "0.2"});  // it writes all the time
  testing::Child rec = record(args);
  const std::string log = read_until(rec, "connection 1 (shard 0) up");
  ASSERT_NE(log.find("connection 1 (shard 0) up"), std::string::npos) << log;
  rec.signal(SIGPIPE);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rec.wait(0ms), -1) << "ended by SIGPIPE";
  rec.close_output();
  std::this_thread::sleep_for(1s);  // five status lines into a closed pipe
  EXPECT_EQ(rec.wait(0ms), -1) << "ended by writing to a closed pipe";
  rec.signal(SIGTERM);
  EXPECT_EQ(rec.wait(30s), 0);
  EXPECT_FALSE(any_open_file(out));
}

// One recorder per archive root: a second one on the same --out exits 2 at once, naming the
// PID that writes there, before its recovery could touch the live run's files (was: both
// recorded, and the second reported the first's file as "in use").
TEST(RecordCli, ASecondRecorderOnTheSameOutIsRefusedNamingThePid) {
  SimChild sim({"--rate", "1000", "--seed", "3"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  testing::Child first = record(sim_flags(sim, out));
  const std::string first_log = read_until(first, "connection 1 (shard 0) up");
  ASSERT_NE(first_log.find("connection 1 (shard 0) up"), std::string::npos) << first_log;
  testing::Child second = record(sim_flags(sim, out));
  const std::string log = second.read_all(20s);
  EXPECT_EQ(second.wait(10s), 2) << log;
  EXPECT_NE(log.find("another booktape record (PID " + std::to_string(first.pid()) + ", run "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("one recorder per archive root"), std::string::npos) << log;
  EXPECT_EQ(log.find("recovery:"), std::string::npos) << "it must not look at the files";
  first.signal(SIGINT);
  EXPECT_EQ(first.wait(30s), 0) << first.read_all(5s);
  EXPECT_FALSE(any_open_file(out));
  // Once the first is gone, a recorder may use the root again.
  testing::Child third = record(sim_flags(sim, out));
  const std::string third_log = read_until(third, "connection 1 (shard 0) up");
  EXPECT_NE(third_log.find("connection 1 (shard 0) up"), std::string::npos) << third_log;
  EXPECT_EQ(third_log.find("did not stop cleanly"), std::string::npos) << third_log;
  third.signal(SIGINT);
  EXPECT_EQ(third.wait(30s), 0);
}

// REST checkpoint failures are said as they happen (at most a line per 10 s), with the error,
// not only archived (was: "Connection refused" went into the REST archive and nowhere else).
TEST(RecordCli, RestFailuresAreLoggedAsTheyHappen) {
  SimChild sim({"--rate", "500", "--seed", "6", "--fault", "rest_500@0:1000"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  std::vector<std::string> args = sim_flags(sim, out);  // a REST round every 0.5 s
  args.insert(args.end(), {"--duration-seconds", "2"});
  testing::Child rec = record(args);
  const std::string log = rec.read_all(60s);
  EXPECT_EQ(rec.wait(30s), 1) << log;  // the gate: no successful REST checkpoint
  EXPECT_NE(log.find("REST checkpoint request failed: POST " + sim.url() + "/books: HTTP 500"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("REST checkpoint request failed", log.find("REST checkpoint request failed") + 1),
            std::string::npos)
      << "one line per 10 s, not one per failure\n"
      << log;
}

TEST(RecordCli, ABoundedRunWritesTheSeedManifestAndReportWithItsGate) {
  SimChild sim({"--rate", "500", "--seed", "4"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  std::vector<std::string> args = sim_flags(sim, out);
  args.insert(args.end(), {"--duration-seconds", "2.5", "--market-limit", "1"});
  testing::Child rec = record(args);
  const std::string log = rec.read_all(60s);
  ASSERT_EQ(rec.wait(30s), 0) << log;
  EXPECT_NE(log.find("gate WS_RAW_SAMPLE_PASS"), std::string::npos) << log;
  simdjson::dom::parser p;
  simdjson::dom::element m;
  ASSERT_EQ(p.load((out / "manifests" / "checkpoint_010b_ws_raw_sample.json").string()).get(m),
            simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(m["gate"]), "WS_RAW_SAMPLE_PASS");
  EXPECT_EQ(simdjson::dom::array(m["markets"]).size(), 1u);  // --market-limit 1
  EXPECT_GT(std::uint64_t(m["websocket"]["frames"]), 0u);
  std::ifstream report(out / "reports" / "checkpoints" / "checkpoint_010b_ws_raw_sample.md");
  const std::string md((std::istreambuf_iterator<char>(report)), {});
  EXPECT_EQ(md.rfind("# booktape websocket raw sample: WS_RAW_SAMPLE_PASS", 0), 0u) << md;
}

TEST(RecordCli, ExplicitTokenIdsGateAsNeedsReviewWithExitCodeOne) {
  // The seed's gate wants a discovered BTC market with both tokens; bare ids carry none.
  SimChild sim({"--rate", "200", "--seed", "5"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  std::vector<std::string> args = sim_flags(sim, out);
  args.insert(args.end(), {"--duration-seconds", "1.5", "--asset", "123"});
  testing::Child rec = record(args);
  const std::string log = rec.read_all(60s);
  EXPECT_EQ(rec.wait(30s), 1) << log;
  EXPECT_NE(log.find("gate WS_RAW_SAMPLE_NEEDS_REVIEW"), std::string::npos) << log;
  EXPECT_NE(log.find("recording 1 token ids given explicitly"), std::string::npos) << log;
}

TEST(RecordCli, BadSettingsAndAnUnreachableVenueExitTwoAndPointAtTheDemo) {
  testing::TempDir dir;
  testing::Child bad = record({"--gzip-level", "99", "--out", dir.path().string()});
  const std::string bad_log = bad.read_all(30s);
  EXPECT_EQ(bad.wait(30s), 2) << bad_log;
  EXPECT_NE(bad_log.find("gzip_level"), std::string::npos) << bad_log;
  EXPECT_NE(bad_log.find("booktape demo"), std::string::npos) << bad_log;

  testing::Child missing = record({"--config", (dir.path() / "nope.yaml").string()});
  const std::string missing_log = missing.read_all(30s);
  EXPECT_EQ(missing.wait(30s), 2) << missing_log;
  EXPECT_NE(missing_log.find("nope.yaml"), std::string::npos) << missing_log;

  // A bounded run does not wait for Gamma (an unbounded one does: the next test).
  testing::Child dead = record({"--gamma-url", "http://127.0.0.1:1", "--out",
                                (dir.path() / "data").string(), "--duration-seconds", "60"});
  const std::string dead_log = dead.read_all(30s);
  EXPECT_EQ(dead.wait(30s), 2) << dead_log;
  EXPECT_NE(dead_log.find("cannot discover markets at http://127.0.0.1:1"), std::string::npos)
      << dead_log;
  EXPECT_NE(dead_log.find("booktape demo"), std::string::npos) << dead_log;

  testing::Child help = record({"--help"});
  const std::string help_text = help.read_all(30s);
  EXPECT_EQ(help.wait(30s), 0);
  for (const char* flag : {"--config", "--market-limit", "--duration-seconds",
                           "--rest-checkpoint-interval-seconds", "--out", "--ws-url", "--rest-url",
                           "--gamma-url", "--ca-file", "--asset", "--cpus", "--wait",
                           "--discovery-interval-seconds", "--status-interval-seconds",
                           "--stop-grace-seconds", "SIGHUP", "3: the archive is not clean"}) {
    EXPECT_NE(help_text.find(flag), std::string::npos) << flag;
  }
}

// A service started while Gamma is down: an unbounded run keeps trying (1 s, 2 s, 4 s, ...),
// saying each try, and records once Gamma answers (was: exit 2, leaving it to a restart policy).
TEST(RecordCli, AnUnboundedRunWaitsForGammaWithBackoffAndThenRecords) {
  const std::uint16_t port = testing::dead_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  testing::Child rec = record({"--gamma-url", base, "--rest-url", base, "--ws-url",
                               "ws://127.0.0.1:" + std::to_string(port) + "/ws/market", "--out",
                               out.string(), "--status", "log"});
  std::string log = read_until(rec, "attempt 2 failed, the next in 2 s");
  ASSERT_NE(log.find("attempt 1 failed, the next in 1 s"), std::string::npos) << log;
  ASSERT_NE(log.find("attempt 2 failed, the next in 2 s"), std::string::npos) << log;
  EXPECT_NE(log.find("cannot discover markets at " + base), std::string::npos) << log;
  EXPECT_EQ(rec.wait(0ms), -1) << "still running";
  SimChild sim({"--rate", "500", "--seed", "3", "--port", std::to_string(port)});
  ASSERT_FALSE(sim.url().empty());
  log += read_until(rec, "connection 1 (shard 0) up");
  EXPECT_NE(log.find("connection 1 (shard 0) up"), std::string::npos) << log;
  rec.signal(SIGINT);
  log += rec.read_all(30s);
  EXPECT_EQ(rec.wait(30s), 0) << log;
}

}  // namespace
}  // namespace booktape
