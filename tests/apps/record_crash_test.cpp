// SIGKILL at random moments: the real `booktape record` binary against a real `booktape sim`
// child, killed (seeded, bounded delays) and restarted over and over with `fsync: block`. Each
// start seals what the last kill left; at the end the archive is compared with what the
// simulator says it sent (docs/RELIABILITY.md has the numbers).
//
// Acknowledged-as-written: a frame whose block's write() returned and whose fdatasync returned
// (fsync: block). A SIGKILL keeps the page cache, so every such frame is in a complete gzip member
// of the ".open" file the kill left; the test reads those files right after each kill (before the
// restart can touch them) and requires every frame in them to be in the final archive. Frames
// the simulator sent that never reached a complete member were in flight at the kill: in socket
// buffers, in the ring, in the block being filled, or in a torn member (write not returned).
//
// BOOKTAPE_CRASH_KILLS (default 50) and BOOKTAPE_CRASH_SEED change the rounds and the moments.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "codecs/sha256.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/net/http_client.hpp"
#include "io/sim/truth.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

testing::Child record(const std::vector<std::string>& args) {
  std::string cmd = std::string("exec '") + BOOKTAPE_BINARY + "' record";
  for (const std::string& a : args) cmd += " '" + a + "'";
  return testing::Child({"/bin/sh", "-c", cmd + " 2>&1"});
}

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// The run id from the recorder's "run <id>: ..." start-up line, "" if it is not in `log`.
std::string run_id_in(const std::string& log) {
  const std::string key = "booktape record: run ";
  const std::size_t at = log.find(key);
  if (at == std::string::npos) return {};
  const std::size_t start = at + key.size();
  return log.substr(start, log.find(':', start) - start);
}

std::vector<fs::path> open_files_under(const fs::path& root) {
  std::vector<fs::path> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && is_open_name(e.path().filename().string())) out.push_back(e.path());
  return out;
}

using FrameKey = std::pair<std::string, std::uint64_t>;  // run id, global message sequence

// Frames in the complete members of the files (a torn tail is not read).
class KeyCollector final : public ArchiveVisitor {
 public:
  explicit KeyCollector(std::set<FrameKey>& keys) : keys_(keys) {}
  bool on_frame(const ArchiveFrame& f) override {
    keys_.emplace(std::string(f.run_id), f.global_sequence);
    return true;
  }

 private:
  std::set<FrameKey>& keys_;
};

// Everything the final archive holds, by run and connection.
struct ArchiveContents final : ArchiveVisitor {
  struct Conn {
    std::uint64_t frames = 0, last_message = 0;
    bool contiguous = true;
    PayloadChain chain;
  };
  std::map<std::string, std::map<std::uint64_t, Conn>> runs;
  std::map<std::string, std::uint64_t> last_global;
  std::set<FrameKey> keys;
  std::uint64_t frames = 0, duplicates = 0, global_gaps = 0;
  std::uint64_t sha_mismatches = 0, length_mismatches = 0, bad_files = 0;

  explicit ArchiveContents(const fs::path& dir) {
    std::vector<std::string> errors;
    ArchiveReader::Options o;
    o.verify_sha256 = true;
    ArchiveReader reader(o);
    for (const fs::path& f : ArchiveReader::expand({dir}, errors)) {
      FileReport r;
      reader.read_file(f, *this, r);
      sha_mismatches += r.sha_mismatches;
      length_mismatches += r.length_mismatches;
      if (!r.error.empty() || r.corrupt || r.open_file || r.bad_lines > 0) {
        ++bad_files;
        ADD_FAILURE() << f << ": " << r.error;
      }
    }
  }
  std::vector<LossRecord> crashes;  // crash records the starts after each kill wrote
  void on_record(std::string_view line) override {
    LossRecord l;
    if (parse_loss_record(line, l) && l.reason == LossReason::kCrash) crashes.push_back(l);
  }
  bool on_frame(const ArchiveFrame& f) override {
    const std::string run(f.run_id);
    if (!keys.emplace(run, f.global_sequence).second) ++duplicates;
    Conn& c = runs[run][f.connection_sequence];
    c.contiguous &= f.message_sequence == c.last_message + 1;
    c.last_message = f.message_sequence;
    ++c.frames;
    c.chain.add(f.payload());
    std::uint64_t& g = last_global[run];
    global_gaps += f.global_sequence != g + 1;
    g = f.global_sequence;
    ++frames;
    return true;
  }
  [[nodiscard]] std::uint64_t frames_of(const std::string& run) const {
    std::uint64_t n = 0;
    if (auto it = runs.find(run); it != runs.end())
      for (const auto& [seq, c] : it->second) n += c.frames;
    return n;
  }
};

struct Truth {
  struct Conn {
    std::uint64_t id = 0, frames = 0;
    bool closed = false;
    std::string chain;
  };
  std::vector<Conn> conns;
};

Truth fetch_truth(HttpClient& http) {
  Truth t;
  const HttpResponse r = http.post_json("/control/truth", "");
  simdjson::dom::parser p;
  simdjson::dom::element root;
  if (r.status != 200 || p.parse(r.body).get(root) != simdjson::SUCCESS) return t;
  for (simdjson::dom::element c : simdjson::dom::array(root["connections"])) {
    Truth::Conn tc;
    tc.id = std::uint64_t(c["id"]);
    tc.frames = std::uint64_t(c["frames"]);
    tc.closed = c["closed_at_utc"].error() == simdjson::SUCCESS;
    std::string_view chain;
    if (c["payload_chain_sha256"].get_string().get(chain) == simdjson::SUCCESS) tc.chain = chain;
    t.conns.push_back(tc);
  }
  return t;
}

// The truth once the simulator has noticed every connection of a dead recorder closing.
Truth settled_truth(HttpClient& http) {
  const auto until = Clock::now() + 10s;
  for (;;) {
    Truth t = fetch_truth(http);
    bool all_closed = true;
    for (const Truth::Conn& c : t.conns) all_closed &= c.closed;
    if (all_closed || Clock::now() >= until) return t;
    std::this_thread::sleep_for(20ms);
  }
}

// ALARM lines other than the one each start after a kill must say: that the previous run did
// not stop cleanly (and that a crash record names its unknown tail).
std::string unexpected_alarms(const std::string& log) {
  std::string out;
  for (std::size_t at = log.find("ALARM"); at != std::string::npos; at = log.find("ALARM", at + 1)) {
    const std::size_t end = log.find('\n', at);
    const std::string line = log.substr(at, end == std::string::npos ? end : end - at);
    if (line.find("did not stop cleanly") == std::string::npos) out += line + "\n";
  }
  return out;
}

// "N sealed as recovered (F frames" from a recorder's start-up log, summed over `log`.
std::uint64_t sealed_as_recovered_in(const std::string& log) {
  std::uint64_t sum = 0;
  for (std::size_t at = log.find("recovery: "); at != std::string::npos;
       at = log.find("recovery: ", at + 1)) {
    unsigned long long open = 0, sealed = 0;
    if (std::sscanf(log.c_str() + at, "recovery: %llu file(s) left open by an earlier run: %llu",
                    &open, &sealed) == 2)
      sum += sealed;
  }
  return sum;
}

TEST(RecordCrash, SigkillAtRandomMomentsLosesNoAcknowledgedFrameAndRecoveryLeavesAVerifiedArchive) {
  const std::uint64_t kills = env_or("BOOKTAPE_CRASH_KILLS", 50);
  const std::uint64_t seed = env_or("BOOKTAPE_CRASH_SEED", 20251121);
  std::mt19937_64 rng(seed);
  const auto t0 = Clock::now();

  testing::SimChild sim({"--rate", "4000", "--seed", "9"});
  ASSERT_FALSE(sim.url().empty());
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  const fs::path config = dir.path() / "record.yaml";
  // The strictest durability; small blocks (50 ms) so many are acknowledged between kills;
  // REST checkpoints often so their archive is cut too.
  std::ofstream(config) << "fsync: block\nblock_max_age_seconds: 0.05\nmax_frame_bytes: 1048576\n"
                           "ring_bytes: 8388608\nrest_checkpoint_interval_seconds: 0.3\n"
                           "status: log\nmarket_limit: 1\n";
  const std::vector<std::string> args = {"--config", config.string(), "--ws-url", sim.ws_url(),
                                         "--rest-url", sim.url(), "--gamma-url", sim.url(),
                                         "--out", out.string()};
  HttpClientOptions ho;
  ho.base_url = sim.url();
  HttpClient http(ho);

  std::set<FrameKey> acknowledged;            // in complete members on disk at a kill
  std::map<std::string, std::uint64_t> sent;  // run id -> frames the simulator sent it
  std::set<std::uint64_t> attributed;         // simulator connection ids already counted
  std::string all_logs;
  std::uint64_t early_kills = 0, unknown_run_frames = 0;

  // Connections the simulator opened since the last look belong to the run that just ended.
  auto attribute = [&](const std::string& run, const Truth& t) {
    for (const Truth::Conn& c : t.conns) {
      if (!attributed.insert(c.id).second) continue;
      if (run.empty()) {
        unknown_run_frames += c.frames;
      } else {
        sent[run] += c.frames;
      }
    }
  };

  for (std::uint64_t k = 0; k < kills; ++k) {
    testing::Child rec = record(args);
    std::string log;
    // One kill in five comes at once, during start-up (possibly in the middle of recovery);
    // the others while frames flow, 50-650 ms after the run began.
    if (rng() % 5 == 0) {
      ++early_kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
    } else {
      const auto until = Clock::now() + 20s;
      while (run_id_in(log).empty() && Clock::now() < until) {
        const std::string line = rec.read_line(500ms);
        if (!line.empty()) log += line + "\n";
      }
      ASSERT_FALSE(run_id_in(log).empty()) << "round " << k << ": no start-up line\n" << log;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 600));
    }
    rec.signal(SIGKILL);
    ASSERT_EQ(rec.wait(10s), 128 + SIGKILL) << "round " << k;
    log += rec.read_all(2s);  // the pipe closes with the process
    EXPECT_EQ(unexpected_alarms(log), "") << "round " << k << "\n" << log;
    all_logs += log;

    // What the kill left on disk, before the next start can change it.
    for (const fs::path& f : open_files_under(out)) {
      KeyCollector keys(acknowledged);
      FileReport r;
      ArchiveReader().read_file(f, keys, r);
      EXPECT_FALSE(r.corrupt) << f << ": " << r.error;
    }
    attribute(run_id_in(log), settled_truth(http));
  }

  // A last, clean run: it recovers what the last kill left, records a while, and stops on SIGINT.
  testing::Child rec = record(args);
  std::string log;
  const auto until = Clock::now() + 20s;
  while (run_id_in(log).empty() && Clock::now() < until) {
    const std::string line = rec.read_line(500ms);
    if (!line.empty()) log += line + "\n";
  }
  const std::string final_run = run_id_in(log);
  ASSERT_FALSE(final_run.empty()) << log;
  std::this_thread::sleep_for(1500ms);
  rec.signal(SIGINT);
  log += rec.read_all(30s);
  ASSERT_EQ(rec.wait(30s), 0) << log;
  EXPECT_EQ(unexpected_alarms(log), "") << log;
  EXPECT_NE(log.find("did not stop cleanly"), std::string::npos) << log;  // the last kill's run
  all_logs += log;
  const Truth truth = settled_truth(http);
  std::vector<std::string> final_chains;
  for (const Truth::Conn& c : truth.conns)
    if (!attributed.count(c.id) && c.frames > 0) final_chains.push_back(c.chain);
  attribute(final_run, truth);

  // Nothing left open; every manifest entry verifies, and names a file that has no other entry.
  EXPECT_TRUE(open_files_under(out).empty());
  std::map<std::string, int> entries_per_file;
  std::uint64_t recovered_entries = 0, torn_files = 0, torn_rows = 0, torn_bytes = 0;
  simdjson::dom::parser p;
  for (const char* stream : {"ws_raw", "rest_checkpoints"}) {
    std::ifstream in(manifest_path(out / "manifests", "polymarket", stream));
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element m;
      ASSERT_EQ(p.parse(line).get(m), simdjson::SUCCESS) << line;
      const std::string path{std::string_view(m["path"])};
      ++entries_per_file[path];
      std::ifstream f(out / path, std::ios::binary);
      ASSERT_TRUE(f.good()) << "the manifest names a missing file: " << path;
      const std::string bytes((std::istreambuf_iterator<char>(f)), {});
      EXPECT_EQ(bytes.size(), std::uint64_t(m["bytes"])) << path;
      EXPECT_EQ(sha256_hex(bytes), std::string_view(m["sha256"])) << path;
      if (m["recovered"].get_bool().value()) {
        ++recovered_entries;
        torn_files += std::uint64_t(m["torn_tail_bytes"]) > 0;
        torn_bytes += std::uint64_t(m["torn_tail_bytes"]);
        torn_rows += std::uint64_t(m["torn_tail_rows"]);
      }
    }
  }
  std::size_t sealed_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out / "raw_orderbooks")) {
    if (!e.is_regular_file()) continue;
    ++sealed_files;
    const std::string rel = fs::relative(e.path(), out).string();
    EXPECT_EQ(entries_per_file[rel], 1) << rel;
  }
  EXPECT_EQ(entries_per_file.size(), sealed_files);
  // Every recovery logs what it sealed, unless a kill came between the seal and the log line
  // (only the start-up kills can).
  const std::uint64_t logged = sealed_as_recovered_in(all_logs);
  EXPECT_GE(recovered_entries, logged);
  EXPECT_LE(recovered_entries, logged + early_kills);
  EXPECT_GT(recovered_entries, kills / 2) << "most kills should leave a file to recover";

  // The archive against the simulator's truth.
  const ArchiveContents a(archive_stream_dir(out, "polymarket", "ws_raw"));
  EXPECT_EQ(a.bad_files, 0u);
  EXPECT_EQ(a.duplicates, 0u);
  EXPECT_EQ(a.global_gaps, 0u);  // every run's archived frames are 1..n: only tails were lost
  EXPECT_EQ(a.sha_mismatches, 0u);
  EXPECT_EQ(a.length_mismatches, 0u);
  for (const auto& [run, conns] : a.runs)
    for (const auto& [seq, c] : conns) EXPECT_TRUE(c.contiguous) << run << " c" << seq;
  std::uint64_t ack_lost = 0;
  for (const FrameKey& key : acknowledged) ack_lost += a.keys.count(key) == 0;
  EXPECT_EQ(ack_lost, 0u) << "acknowledged frames lost";
  // Every killed run that recorded frames is named by a crash record of a later start: its tail
  // after the last sealed frame is unknown (was: never stated; replay said 0 gaps).
  std::uint64_t named_runs = 0;
  for (const auto& [run, last] : a.last_global) {
    if (run == final_run) continue;
    bool named = false;
    for (const LossRecord& c : a.crashes) {
      if (c.run_id != run) continue;
      named = true;
      EXPECT_EQ(c.first_global_sequence, last + 1) << run;
      EXPECT_FALSE(c.frames.has_value());
      EXPECT_FALSE(c.written_by_run_id.empty());
    }
    EXPECT_TRUE(named) << run << ": killed, and no crash record names it";
    named_runs += named;
  }
  for (const LossRecord& c : a.crashes) EXPECT_NE(c.run_id, final_run);
  EXPECT_EQ(unknown_run_frames, 0u) << "a run that never logged its start got frames";

  // The clean run lost nothing: its connection's frames are the simulator's, digest for digest.
  std::vector<std::string> archived_chains;
  if (auto it = a.runs.find(final_run); it != a.runs.end())
    for (const auto& [seq, c] : it->second) archived_chains.push_back(c.chain.hex());
  EXPECT_EQ(archived_chains, final_chains);

  std::uint64_t total_sent = 0, total_archived = 0, in_flight = 0, max_in_flight = 0;
  for (const auto& [run, n] : sent) {
    const std::uint64_t kept = a.frames_of(run);
    EXPECT_LE(kept, n) << run << ": more frames archived than the simulator sent";
    total_sent += n;
    total_archived += kept;
    if (run == final_run) continue;
    const std::uint64_t lost = n > kept ? n - kept : 0;
    in_flight += lost;
    max_in_flight = std::max(max_in_flight, lost);
  }
  const double seconds =
      std::chrono::duration<double>(Clock::now() - t0).count();
  const std::string summary =
      "kills " + std::to_string(kills) + " (" + std::to_string(early_kills) +
      " during start-up), seed " + std::to_string(seed) + ": simulator sent " +
      std::to_string(total_sent) + " frames, archive holds " + std::to_string(total_archived) +
      "; acknowledged at a kill " + std::to_string(acknowledged.size()) + ", of them lost " +
      std::to_string(ack_lost) + "; in flight at the kills (lost) " + std::to_string(in_flight) +
      " = " + std::to_string(static_cast<double>(in_flight) / static_cast<double>(kills)) +
      " per kill, max " + std::to_string(max_in_flight) + "; files recovered " +
      std::to_string(recovered_entries) + ", crash records " + std::to_string(a.crashes.size()) +
      " naming " + std::to_string(named_runs) + " killed runs with frames, torn tails " +
      std::to_string(torn_files) + " (" +
      std::to_string(torn_bytes) + " bytes, " + std::to_string(torn_rows) + " rows); " +
      std::to_string(seconds) + " s";
  std::printf("[ crash    ] %s\n", summary.c_str());
  RecordProperty("summary", summary);
}

}  // namespace
}  // namespace booktape
