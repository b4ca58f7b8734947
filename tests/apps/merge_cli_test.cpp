// Two real recorders (`booktape record`) on one real simulator: A is SIGKILLed and restarted, B is
// stopped (SIGTERM) and restarted at another time. `booktape merge A B` must give an archive whose
// replay equals the simulator's truth, holding every price_change payload either recorder saw
// exactly once; merging again (with the merged archive as an input too) adds nothing, and the
// same inputs give the same files.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "codecs/book_json.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/net/http_client.hpp"
#include "tests/apps/cli_run.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SimConnection {
  std::uint64_t frames = 0;
  bool closed = false;
};

struct SimState {
  std::uint64_t generated = 0;
  std::vector<SimConnection> conns;
  std::string books;  // the truth's books, --dump-books shape
};

SimState sim_state(HttpClient& http) {
  SimState s;
  const HttpResponse r = http.post_json("/control/truth", "");
  simdjson::dom::parser p;
  simdjson::dom::element root;
  if (r.status != 200 || p.parse(r.body).get(root) != simdjson::SUCCESS) return s;
  s.generated = std::uint64_t(root["frames_generated"]);
  for (simdjson::dom::element c : simdjson::dom::array(root["connections"]))
    s.conns.push_back({std::uint64_t(c["frames"]), c["closed_at_utc"].error() == simdjson::SUCCESS});
  s.books = simdjson::minify(root["books"]);
  return s;
}

// Waits until `ok` holds for the simulator's state (bounded).
template <typename Pred>
SimState wait_for(HttpClient& http, Pred ok, std::chrono::seconds limit = 30s) {
  const auto until = Clock::now() + limit;
  for (;;) {
    SimState s = sim_state(http);
    if (ok(s) || Clock::now() >= until) return s;
    std::this_thread::sleep_for(50ms);
  }
}

// A recorder whose log goes to a file (a pipe nobody reads would stall it).
std::unique_ptr<testing::Child> record(const std::vector<std::string>& args, const fs::path& log) {
  std::string cmd = std::string("exec '") + BOOKTAPE_BINARY + "' record";
  for (const std::string& a : args) cmd += " '" + a + "'";
  return std::make_unique<testing::Child>(
      std::vector<std::string>{"/bin/sh", "-c", cmd + " >>'" + log.string() + "' 2>&1"});
}

// Frames of an archive, in order.
struct Payloads final : ArchiveVisitor {
  std::vector<std::string> all;
  explicit Payloads(const fs::path& root) {
    std::vector<std::string> errors;
    ArchiveReader reader;
    for (const fs::path& f :
         ArchiveReader::expand({archive_stream_dir(root, "polymarket", "ws_raw")}, errors)) {
      FileReport r;
      reader.read_file(f, *this, r);
      EXPECT_FALSE(r.damaged()) << f << ": " << r.error;
    }
  }
  bool on_frame(const ArchiveFrame& f) override {
    all.emplace_back(f.payload());
    return true;
  }
};

bool is_price_change(const std::string& p) {
  return p.find("\"event_type\":\"price_change\"") != std::string::npos;
}

std::map<std::string, std::string> data_file_digests(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const fs::path& f : testing::files_under(root / "raw_orderbooks", ".jsonl.gz"))
    out[f.filename().string()] = testing::read_file(f.string());
  return out;
}

TEST(MergeCli, TwoRecordersKilledAndStoppedAtDifferentTimesMergeIntoTheSimulatorsTruth) {
  testing::SimChild sim({"--rate", "400", "--seed", "5", "--markets", "2", "--frames", "5000",
                         "--linger-seconds", "120"});
  ASSERT_FALSE(sim.url().empty());
  testing::TempDir dir;
  const fs::path a = dir.path() / "A", b = dir.path() / "B", m = dir.path() / "M";
  const fs::path config = dir.path() / "record.yaml";
  std::ofstream(config) << "fsync: block\nblock_max_age_seconds: 0.05\nstatus: log\n"
                           "series:\n  - btc-up-or-down-5m\n  - btc-up-or-down-15m\n";
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"--config", config.string(), "--ws-url", sim.ws_url(),
                                    "--rest-url", sim.url(), "--gamma-url", sim.url(),
                                    "--out", out.string()};
  };
  HttpClientOptions ho;
  ho.base_url = sim.url();
  HttpClient http(ho);
  auto open_with = [](std::size_t n, std::uint64_t frames) {
    return [n, frames](const SimState& s) {
      std::size_t live = 0;
      for (const SimConnection& c : s.conns) live += !c.closed && c.frames >= frames;
      return s.conns.size() >= n && live >= std::min<std::size_t>(n, 2);
    };
  };

  auto rec_a = record(args(a), dir.path() / "A.log");
  auto rec_b = record(args(b), dir.path() / "B.log");
  SimState s = wait_for(http, open_with(2, 300));
  ASSERT_GE(s.conns.size(), 2u) << "the recorders did not connect";

  // A dies without a word; B covers. A comes back a little later.
  rec_a->signal(SIGKILL);
  EXPECT_EQ(rec_a->wait(10s), 128 + SIGKILL);
  wait_for(http, [](const SimState& st) {
    std::size_t closed = 0;
    for (const SimConnection& c : st.conns) closed += c.closed;
    return closed >= 1;
  });
  std::this_thread::sleep_for(700ms);
  rec_a = record(args(a), dir.path() / "A.log");
  wait_for(http, open_with(3, 200));

  // B stops cleanly; A covers. B comes back.
  rec_b->signal(SIGTERM);
  EXPECT_EQ(rec_b->wait(20s), 0);
  std::this_thread::sleep_for(700ms);
  rec_b = record(args(b), dir.path() / "B.log");
  wait_for(http, open_with(4, 200));

  // The simulator's last frame out, read by both; then both stop.
  s = wait_for(http, [](const SimState& st) { return st.generated >= 5000; }, 60s);
  ASSERT_GE(s.generated, 5000u);
  std::this_thread::sleep_for(1500ms);
  rec_a->signal(SIGTERM);
  rec_b->signal(SIGTERM);
  EXPECT_EQ(rec_a->wait(20s), 0) << testing::read_file((dir.path() / "A.log").string());
  EXPECT_EQ(rec_b->wait(20s), 0) << testing::read_file((dir.path() / "B.log").string());
  const SimState truth = sim_state(http);

  const testing::CliResult merged = testing::booktape("merge --json " + a.string() + " " +
                                                      b.string() + " --out " + m.string());
  ASSERT_EQ(merged.status, 0) << merged.out;
  simdjson::dom::parser p;
  simdjson::dom::element report;
  ASSERT_EQ(p.parse(merged.out).get(report), simdjson::SUCCESS) << merged.out;
  EXPECT_EQ(simdjson::dom::array(report["uncovered"]).size(), 0u) << merged.out;
  // Each recorder filled some of the other's gaps.
  EXPECT_GT(std::uint64_t(report["sources"].at(0)["only_here"]), 0u) << merged.out;
  EXPECT_GT(std::uint64_t(report["sources"].at(1)["only_here"]), 0u) << merged.out;

  // The merged replay's books are the simulator's.
  const fs::path books = dir.path() / "merged_books.json";
  ASSERT_EQ(testing::booktape("replay " + m.string() + " --dump-books " + books.string()).status, 0);
  // Levels only: state_since is when each replay saw the book's snapshot, not what it holds.
  const auto want = books_by_asset(truth.books);
  const auto got = books_by_asset(testing::read_file(books.string()));
  ASSERT_FALSE(got.empty());
  for (const auto& [asset, book] : got) {
    ASSERT_TRUE(want.contains(asset)) << asset;
    EXPECT_EQ(book, want.at(asset)) << asset;
  }

  // Every price_change payload either recorder saw is in the merged archive exactly once.
  const Payloads pa(a), pb(b), pm(m);
  std::map<std::string, int> in_merged;
  for (const std::string& pl : pm.all)
    if (is_price_change(pl)) ++in_merged[pl];
  std::size_t seen = 0, only_a = 0, only_b = 0;
  std::map<std::string, int> in_a, in_b;
  for (const std::string& pl : pa.all)
    if (is_price_change(pl)) ++in_a[pl];
  for (const std::string& pl : pb.all)
    if (is_price_change(pl)) ++in_b[pl];
  for (const auto* src : {&in_a, &in_b}) {
    for (const auto& [pl, n] : *src) {
      ++seen;
      ASSERT_EQ(in_merged[pl], 1) << "seen " << n << " times by a recorder: " << pl.substr(0, 120);
    }
  }
  for (const auto& [pl, n] : in_a) only_a += !in_b.contains(pl);
  for (const auto& [pl, n] : in_b) only_b += !in_a.contains(pl);
  EXPECT_GT(only_a, 0u) << "A alone saw B's gap";
  EXPECT_GT(only_b, 0u) << "B alone saw A's gap";
  for (const auto& [pl, n] : in_merged) EXPECT_TRUE(in_a.contains(pl) || in_b.contains(pl));
  EXPECT_EQ(testing::booktape("verify --no-label " + m.string()).status, 0);
  // export reads it as it reads a recorder's archive: every merged frame, no damaged file.
  const fs::path e = dir.path() / "E";
  ASSERT_EQ(testing::booktape("export " + m.string() + " --out " + e.string() +
                              " --kinds incremental_book_L2").status,
            0);
  simdjson::dom::element em;
  ASSERT_EQ(p.load((e / "export_manifest.json").string()).get(em), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(em["frames_replayed"]), pm.all.size());
  EXPECT_EQ(std::uint64_t(em["damaged_input_files"]), 0u);

  // Idempotent: the merged archive merged again with its inputs gives the same frames; the same
  // inputs merged again give the same files.
  const fs::path m2 = dir.path() / "M2", m3 = dir.path() / "M3";
  ASSERT_EQ(testing::booktape("merge " + m.string() + " " + a.string() + " " + b.string() +
                              " --out " + m2.string()).status, 0);
  EXPECT_EQ(Payloads(m2).all, pm.all);
  ASSERT_EQ(testing::booktape("merge " + a.string() + " " + b.string() + " --out " + m3.string()).status, 0);
  EXPECT_EQ(data_file_digests(m3), data_file_digests(m));
  // A folder that is not empty is refused.
  EXPECT_EQ(testing::booktape("merge " + a.string() + " " + b.string() + " --out " + m.string() +
                              " 2>/dev/null").status, 2);
}

}  // namespace
}  // namespace booktape
