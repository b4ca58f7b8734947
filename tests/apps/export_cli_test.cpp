// The real `booktape export` on real archives (the simulator recorded by the real recorder, and
// archives written by the real writer with the awkward cases: stale periods, a dropped tick
// grid, a snapshot right after a snapshot, an empty snapshot, midnight), read back by an
// independent Python reader (tests/apps/export_reader.py, pandas): the books it rebuilds from
// incremental_book_L2 equal `replay --dump-books`, and book_snapshot rows equal
// `replay --asset --at` at their time.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <random>

#include "io/archive/writer.hpp"
#include "tests/apps/cli_run.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::booktape;
using testing::CliResult;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-pandas

// 2025-11-21T23:59:50Z: the archive crosses midnight.
constexpr UnixNanos kT0 = 1'763'769'590'000'000'000;

std::string book_msg(const std::string& id, std::string_view bids, std::string_view asks, int ts) {
  return "{\"event_type\":\"book\",\"asset_id\":\"" + id + "\",\"market\":\"0x" +
         std::string(64, 'a') + "\",\"timestamp\":\"" + std::to_string(1'763'769'000'000 + ts) +
         "\",\"hash\":\"0xabc\",\"bids\":[" + std::string(bids) + "],\"asks\":[" +
         std::string(asks) + "]}";
}

// The awkward archive: 4 tokens, snapshots, price changes, trades, a connection lost (its books
// stale until fresh snapshots), a tick size change (the book dropped), a snapshot straight after
// a snapshot, an empty snapshot, and midnight in the middle.
void write_awkward(const fs::path& root) {
  ArchiveWriterOptions o;
  o.root = root;
  o.run_id = "20251121T235950Z-0000e0e0";
  o.block_bytes = 16 << 10;
  ArchiveWriter w(o);
  testing::StreamGen gen(23, 4);
  UnixNanos t = kT0;
  testing::FrameWriter c1(w, o.run_id + "-c1", 1);
  c1.open(t, gen.ids());
  for (std::size_t i = 0; i < 4; ++i) c1.write(gen.snapshot(i), t += 1'000'000);
  // Token 3 gets no fresh snapshot after the connection drops, so its final book shows what
  // the earlier cases left (a later snapshot would hide a reader's mistake).
  const std::string& a = gen.ids()[3];
  for (int i = 0; i < 600; ++i) {
    c1.write(gen.price_change(), t += 10'000'000);
    if (i % 50 == 7)
      c1.write("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" + gen.ids()[static_cast<std::size_t>(i % 4)] +
                   "\",\"market\":\"0xm\",\"fee_rate_bps\":\"0\",\"price\":\"0.5\",\"side\":\"" +
                   (i % 100 == 7 ? "BUY" : "SELL") + "\",\"size\":\"12.5\",\"timestamp\":\"" +
                   std::to_string(1'763'769'000'000 + i) + "\",\"transaction_hash\":\"0x" +
                   std::to_string(i) + "\"}",
               t += 1'000'000);
    if (i == 100) {
      // A big snapshot, then at once a small one: a reader must not merge them.
      c1.write(gen.snapshot(3), t += 1'000'000);
      c1.write(book_msg(a, R"({"price":"0.3","size":"10"})", R"({"price":"0.7","size":"5"})", i),
               t += 1'000'000);
    }
    if (i == 200) {
      c1.write(book_msg(a, "", "", i), t += 1'000'000);  // an empty book
    }
    if (i == 300) {
      c1.write("{\"event_type\":\"tick_size_change\",\"asset_id\":\"" + gen.ids()[2] +
                   "\",\"market\":\"0xm\",\"old_tick_size\":\"0.01\",\"new_tick_size\":\"0.001\","
                   "\"timestamp\":\"1763769000300\"}",
               t += 1'000'000);
    }
    if (i == 350) c1.write(gen.snapshot(2), t += 1'000'000);
    if (i == 500) {  // token 3's grid changes: its book is dropped and stays so to the end
      c1.write("{\"event_type\":\"tick_size_change\",\"asset_id\":\"" + a +
                   "\",\"market\":\"0xm\",\"old_tick_size\":\"0.01\",\"new_tick_size\":\"0.001\","
                   "\"timestamp\":\"1763769000500\"}",
               t += 1'000'000);
    }
  }
  // The connection drops: its books are stale, changes suppressed until fresh snapshots.
  w.close_session(c1.session(), t += 1'000'000, "network error");
  testing::FrameWriter c2(w, o.run_id + "-c2", 2);
  c2.skip_global(c1.sent().size());
  c2.open(t += 1'000'000, gen.ids());
  for (int i = 0; i < 30; ++i) c2.write(gen.price_change(), t += 10'000'000);
  for (std::size_t i = 0; i < 3; ++i) c2.write(gen.snapshot(i), t += 1'000'000);  // not token 3
  for (int i = 0; i < 900; ++i) c2.write(gen.price_change(), t += 10'000'000);
  w.close_session(c2.session(), t += 1'000'000, "shutdown");
  w.close();
}

std::string python_check(const fs::path& out, const fs::path& books, int depth = 25) {
  const CliResult r = testing::shell(std::string(kPython) + " " + BOOKTAPE_SOURCE_DIR +
                          "/tests/apps/export_reader.py " + out.string() + " " + books.string() +
                          " " + std::to_string(depth));
  EXPECT_EQ(r.status, 0) << r.out;
  return r.out;
}

std::vector<std::string> csv_lines(const fs::path& gz) {
  const CliResult r = testing::shell("zcat " + gz.string());
  std::vector<std::string> out;
  for (std::size_t a = 0; a < r.out.size();) {
    std::size_t b = r.out.find('\n', a);
    if (b == std::string::npos) b = r.out.size();
    out.push_back(r.out.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::size_t a = 0;
  for (std::size_t b; (b = line.find(',', a)) != std::string::npos; a = b + 1)
    out.push_back(line.substr(a, b - a));
  out.push_back(line.substr(a));
  return out;
}

std::vector<fs::path> exported(const fs::path& out, std::string_view kind) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().filename().string().starts_with("polymarket_" + std::string(kind) + "_"))
      v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

// Rows of book_snapshot files against `replay --asset --at` at their own time.
void expect_snapshot_rows_match_replay(const fs::path& root, const fs::path& out, int samples) {
  std::vector<std::vector<std::string>> rows;
  for (const fs::path& f : exported(out, "book_snapshot_25")) {
    const std::vector<std::string> lines = csv_lines(f);
    for (std::size_t i = 1; i < lines.size(); ++i)
      if (!lines[i].empty()) rows.push_back(split(lines[i]));
  }
  ASSERT_GT(rows.size(), static_cast<std::size_t>(samples));
  std::mt19937 rng(3);
  for (int n = 0; n < samples; ++n) {
    const std::vector<std::string>& row = rows[rng() % rows.size()];
    ASSERT_EQ(row.size(), 4u + 100u + 4u);
    const std::string& asset = row[1];
    const std::string& at_ns = row[104];
    const CliResult r = booktape("replay " + root.string() + " --asset " + asset + " --at " + at_ns);
    ASSERT_EQ(r.status, 0) << r.out;
    simdjson::dom::parser p;
    simdjson::dom::element e;
    ASSERT_EQ(p.parse(r.out).get(e), simdjson::SUCCESS) << r.out;
    EXPECT_EQ(std::string_view(e["state"]), row[105]);
    for (const auto& [side, col] : {std::pair{"asks", 4}, std::pair{"bids", 6}}) {
      simdjson::dom::array levels = e["book"][side];
      std::size_t i = 0;
      for (simdjson::dom::element l : levels) {
        if (i == 25) break;
        EXPECT_EQ(std::string_view(l.at(0)), row[static_cast<std::size_t>(col) + 4 * i]) << asset << " " << side << i;
        EXPECT_EQ(std::string_view(l.at(1)), row[static_cast<std::size_t>(col) + 4 * i + 1]);
        ++i;
      }
      for (; i < 25; ++i) EXPECT_EQ(row[static_cast<std::size_t>(col) + 4 * i], "") << "no level " << i;
    }
  }
}

TEST(ExportCli, TheSimulatorsArchiveRebuildsToReplaysBooksAndSnapshotRowsToReplayAt) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "root", out = dir.path() / "out";
  const CliResult demo = booktape("demo --out " + root.string() + " --frames 6000 2>/dev/null");
  ASSERT_EQ(demo.status, 0) << demo.out;
  const CliResult ex = booktape("export " + root.string() + " --out " + out.string());
  ASSERT_EQ(ex.status, 0) << ex.out;
  ASSERT_EQ(booktape("replay " + root.string() + " --dump-books " + (dir.path() / "books.json").string()).status, 0);
  const std::string py = python_check(out, dir.path() / "books.json");
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(py).get(e), simdjson::SUCCESS) << py;
  EXPECT_GT(std::uint64_t(e["incremental_rows"]), 6000u);
  EXPECT_EQ(std::uint64_t(e["books_equal"]), std::uint64_t(e["books"]));
  // Every trade the replay counted is a row.
  const CliResult js = booktape("replay --json " + root.string());
  simdjson::dom::parser p2;
  simdjson::dom::element s;
  ASSERT_EQ(p2.parse(js.out).get(s), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(e["trades"]), std::uint64_t(s["events_by_type"]["last_trade_price"]));
  expect_snapshot_rows_match_replay(root, out, 6);
}

TEST(ExportCli, StalePeriodsDroppedGridsBackToBackAndEmptySnapshotsAndMidnightStillRebuildExactly) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "root", out = dir.path() / "out";
  write_awkward(root);
  const CliResult ex = booktape("export " + root.string() + " --out " + out.string());
  ASSERT_EQ(ex.status, 0) << ex.out;
  EXPECT_EQ(exported(out, "incremental_book_L2").size(), 2u) << "one file a UTC day";
  ASSERT_EQ(booktape("replay " + root.string() + " --dump-books " + (dir.path() / "books.json").string()).status, 0);
  const std::string py = python_check(out, dir.path() / "books.json");
  EXPECT_NE(py.find("\"books_equal\": 4"), std::string::npos) << py;
  // The second day's file stands alone: it opens with every book as snapshot rows.
  const std::vector<std::string> day2 = csv_lines(exported(out, "incremental_book_L2")[1]);
  ASSERT_GT(day2.size(), 2u);
  EXPECT_EQ(split(day2[1])[4], "true");
  EXPECT_EQ(split(day2[1])[3], "1763769600000000") << "at midnight";
  expect_snapshot_rows_match_replay(root, out, 6);
}

TEST(ExportCli, FromToAndAssetNarrowTheDatasetAndAnEmptyRangeIsANoteNotAnError) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "root";
  write_awkward(root);
  testing::StreamGen gen(23, 4);
  const std::string asset = gen.ids()[3];
  const fs::path out = dir.path() / "narrow";
  // 2025-11-21T23:59:55Z .. 2025-11-22T00:00:05Z
  const CliResult ex = booktape("export " + root.string() + " --out " + out.string() +
                                " --asset " + asset + " --from 1763769595000000000 --to "
                                "2025-11-22T00:00:05Z --kinds incremental_book_L2,quotes");
  ASSERT_EQ(ex.status, 0) << ex.out;
  EXPECT_TRUE(exported(out, "trades").empty());
  std::size_t rows = 0;
  bool first = true;
  for (const fs::path& f : exported(out, "incremental_book_L2")) {
    const std::vector<std::string> lines = csv_lines(f);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      const std::vector<std::string> c = split(lines[i]);
      EXPECT_EQ(c[1], asset);
      const long long local = std::stoll(c[3]);
      EXPECT_GE(local, 1763769595000000LL);
      EXPECT_LE(local, 1763769605000000LL);
      if (first) {
        EXPECT_EQ(c[4], "true") << "the range opens with the book as it was";
      }
      first = false;
      ++rows;
    }
  }
  EXPECT_GT(rows, 0u);

  const fs::path empty = dir.path() / "empty";
  const CliResult none = booktape("export " + root.string() + " --out " + empty.string() +
                                  " --from 2030-01-01");
  EXPECT_EQ(none.status, 0) << none.out;
  EXPECT_NE(none.out.find("note: no frames were received in the range"), std::string::npos) << none.out;
  for (const auto& e : fs::directory_iterator(empty))
    EXPECT_FALSE(e.path().string().ends_with(".csv.gz")) << e.path();
  simdjson::dom::parser p;
  simdjson::dom::element m;
  ASSERT_EQ(p.load((empty / "export_manifest.json").string()).get(m), simdjson::SUCCESS);
  EXPECT_EQ(simdjson::dom::array(m["files"]).size(), 0u);
  EXPECT_NE(std::string_view(m["note"]).find("empty"), std::string_view::npos);
}

TEST(ExportCli, BadArgumentsExitTwoAndSayTheExpectedForm) {
  testing::TempDir dir;
  write_awkward(dir.path() / "root");
  const std::string root = (dir.path() / "root").string(), out = (dir.path() / "o").string();
  EXPECT_EQ(booktape("export " + root + " --out " + out + " --kinds candles 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("export " + root + " --out " + out + " --interval soon 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("export " + root + " --out " + out + " --from yesterday 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("export " + root + " --out " + out + " --depth 0 2>/dev/null").status, 2);
  const fs::path plain = dir.path() / "frames.jsonl";
  std::ofstream(plain) << "{\"event_type\":\"book\"}\n";
  EXPECT_EQ(booktape("export " + plain.string() + " --out " + out + " 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("export /nonexistent --out " + out + " 2>/dev/null").status, 2);
}

}  // namespace
}  // namespace booktape
