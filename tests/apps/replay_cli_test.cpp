// Runs the real `booktape replay` binary on archives written by the real writer and checks what
// a user sees: exit codes, the --json summary, --dump-books, --asset/--at and the errors.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "io/archive/writer.hpp"
#include "tests/apps/cli_run.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using testing::booktape;
using testing::CliResult;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;  // 2025-11-21T05:34:12Z

// An archive: the initial books of 4 tokens, then 500 price changes, 1 ms apart.
struct Archive {
  testing::TempDir dir;
  testing::StreamGen gen{99, 4};
  std::vector<std::string> frames;
  Archive() {
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.block_bytes = 8 << 10;
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    for (std::size_t t = 0; t < gen.ids().size(); ++t) frames.push_back(gen.snapshot(t));
    for (int i = 0; i < 500; ++i) frames.push_back(gen.price_change());
    for (std::size_t i = 0; i < frames.size(); ++i)
      fw.write(frames[i], kT0 + static_cast<UnixNanos>(i) * 1'000'000);
    w.close();
  }
};

TEST(ReplayCli, JsonSummaryCountsWhatTheArchiveHolds) {
  Archive a;
  const CliResult r = booktape("replay --json " + a.dir.path().string());
  ASSERT_EQ(r.status, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_EQ(parser.parse(r.out).get(e), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::uint64_t(e["frames"]), 504u);
  EXPECT_EQ(std::uint64_t(e["events_by_type"]["book"]), 4u);
  EXPECT_EQ(std::uint64_t(e["events_by_type"]["price_change"]), 500u);
  EXPECT_EQ(std::uint64_t(e["tokens"]), 4u);
  EXPECT_EQ(std::uint64_t(e["divergences"]), 0u);
  EXPECT_GE(std::uint64_t(e["checks"]), 500u);
  EXPECT_EQ(std::uint64_t(e["parse_errors"]), 0u);
  EXPECT_EQ(std::uint64_t(e["unknown"]), 0u);
  EXPECT_EQ(std::uint64_t(e["sequence_gaps"]), 0u);
  EXPECT_EQ(std::string_view(e["first_received_at_utc"]), "2025-11-21T05:34:12.000000000Z");
}

TEST(ReplayCli, DumpBooksWritesEveryBookBestFirstAsExactDecimals) {
  Archive a;
  const auto dump = a.dir.path() / "books.json";
  const CliResult r = booktape("replay --dump-books " + dump.string() + " " + a.dir.path().string());
  ASSERT_EQ(r.status, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_EQ(parser.load(dump.string()).get(e), simdjson::SUCCESS);
  simdjson::dom::array books = e;
  ASSERT_EQ(books.size(), 4u);
  for (simdjson::dom::element b : books) {
    const std::string id{std::string_view(b["asset_id"])};
    const auto it = std::find(a.gen.ids().begin(), a.gen.ids().end(), id);
    ASSERT_NE(it, a.gen.ids().end());
    const auto index = static_cast<std::size_t>(it - a.gen.ids().begin());
    const auto& model = a.gen.model(index);
    // Each book says how far to trust it, since when: live since its snapshot was received.
    EXPECT_EQ(std::string_view(b["state"]), "live");
    EXPECT_EQ(std::string_view(b["state_since"]),
              format_utc(kT0 + static_cast<UnixNanos>(index) * 1'000'000));
    simdjson::dom::array bids = b["bids"];
    ASSERT_EQ(bids.size(), model.bids.size());
    auto m = model.bids.rbegin();  // best (highest) first
    for (simdjson::dom::element level : bids) {
      EXPECT_EQ(std::string_view(level.at(0)), format_price(m->first));
      EXPECT_EQ(std::string_view(level.at(1)), format_size(m->second));
      ++m;
    }
    simdjson::dom::array asks = b["asks"];
    ASSERT_EQ(asks.size(), model.asks.size());
    EXPECT_EQ(std::string_view(asks.at(0).at(0)), format_price(model.asks.begin()->first));
  }
}

TEST(ReplayCli, ADumpTheDiskRefusesFailsTheRun) {
  Archive a;
  // A small dump fits the stream's buffer: the failure shows only when it is written out.
  const CliResult r = booktape("replay --dump-books /dev/full " + a.dir.path().string());
  EXPECT_EQ(r.status, 1) << r.out;
}

TEST(ReplayCli, AssetAtTimeShowsTheBookAsOfThatReceiveTime) {
  Archive a;
  const std::string& token = a.gen.ids()[0];
  // Just after the snapshots (frames 0..3): the book is the first snapshot, untouched by the
  // price changes that come later.
  const CliResult early = booktape("replay --asset " + token + " --at 2025-11-21T05:34:12.0035Z " +
                             a.dir.path().string());
  ASSERT_EQ(early.status, 0) << early.out;
  testing::StreamGen fresh(99, 4);  // same seed: the same first snapshot
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(early.out);
  EXPECT_EQ(std::string_view(e["state"]), "live");
  EXPECT_EQ(std::string_view(e["state_since"]), "2025-11-21T05:34:12.000000000Z");
  EXPECT_EQ(std::string_view(e["book"]["state"]), "live");
  const auto& initial = fresh.model(0);
  EXPECT_EQ(std::string_view(e["best_bid"]), format_price(initial.bids.rbegin()->first));
  EXPECT_EQ(std::string_view(e["best_ask"]), format_price(initial.asks.begin()->first));
  simdjson::dom::array bids = e["book"]["bids"];
  EXPECT_EQ(bids.size(), initial.bids.size());

  // Before any frame: the token is unknown at that time, a clear error.
  const CliResult before = booktape("replay --asset " + token + " --at 2025-11-21T05:34:11Z " +
                              a.dir.path().string() + " 2>/dev/null");
  EXPECT_EQ(before.status, 1);
}

TEST(ReplayCli, ReadsPlainFrameFilesFromOtherRecorders) {
  testing::TempDir dir;
  const auto path = dir.path() / "frames.jsonl";
  {
    std::ofstream out(path);
    out << "{\"event_type\":\"book\",\"asset_id\":\"1\",\"bids\":[{\"price\":\".48\",\"size\":\"10\"}],"
           "\"asks\":[{\"price\":\"0.52\",\"size\":\"5\"}]}\r\n"
        << "PONG\n\n"
        << "{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"1\",\"price\":\"0.49\","
           "\"size\":\"3\",\"side\":\"BUY\",\"best_bid\":\"0.49\",\"best_ask\":\"0.52\"}]}";
  }
  const CliResult r = booktape("replay --json " + path.string());
  ASSERT_EQ(r.status, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(r.out);
  EXPECT_EQ(std::uint64_t(e["frames"]), 3u);  // the blank line is not a frame
  EXPECT_EQ(std::uint64_t(e["frames_without_envelope"]), 3u);
  EXPECT_EQ(std::uint64_t(e["frames_by_kind"]["pong"]), 1u);
  EXPECT_EQ(std::uint64_t(e["checks"]), 1u);
  EXPECT_EQ(std::uint64_t(e["divergences"]), 0u);
  EXPECT_EQ(std::string_view(e["files"].at(0)["format"]), "plain_frames");

  // --at needs receive times, which plain frame files do not have.
  const CliResult at = booktape("replay --asset 1 --at 2026-01-01 " + path.string() + " 2>/dev/null");
  EXPECT_EQ(at.status, 2);
}

// Issue 22: a closed file truncated or emptied behind the recorder's back is damaged, with the
// rows missing, and the run says so in its exit code; never a "torn tail" or "0 frames, rc 0".
TEST(ReplayCli, ATruncatedOrEmptiedClosedFileIsDamagedAndFailsTheRun) {
  Archive a;
  const auto files = testing::files_under(a.dir.path() / "raw_orderbooks", ".jsonl.gz");
  ASSERT_EQ(files.size(), 1u);
  const std::string bytes = testing::read_file(files[0].string());
  for (const std::size_t keep : {bytes.size() / 3, std::size_t{0}}) {
    {
      std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(keep));
    }
    const CliResult r = booktape("replay --json " + a.dir.path().string() + " 2>/dev/null");
    EXPECT_EQ(r.status, 1) << "kept " << keep << " bytes: " << r.out;
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(r.out).get(e), simdjson::SUCCESS) << r.out;
    EXPECT_EQ(std::uint64_t(e["damaged_files"]), 1u);
    EXPECT_EQ(std::uint64_t(e["torn_tail_bytes"]), 0u);
    // The entry lists 506 rows: the file record, the session record and 504 frames. Frames
    // read plus rows missing is all of them (the emptied file lost the two records as well).
    EXPECT_EQ(std::uint64_t(e["frames"]) + std::uint64_t(e["missing_rows"]),
              keep == 0 ? 506u : 504u)
        << r.out;
    EXPECT_EQ(std::string_view(e["files"].at(0)["manifest"]), "mismatch");
    const CliResult human = booktape("replay " + a.dir.path().string() + " 2>/dev/null");
    EXPECT_EQ(human.status, 1);
    EXPECT_NE(human.out.find("DAMAGED"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("missing"), std::string::npos) << human.out;
  }
}

TEST(ReplayCli, MissingPathsAndBadTimesAreClearErrors) {
  EXPECT_EQ(booktape("replay /nonexistent/archive 2>/dev/null").status, 1);
  EXPECT_EQ(booktape("replay --asset 1 --at yesterday /tmp 2>/dev/null").status, 2);
  EXPECT_NE(booktape("replay 2>/dev/null").status, 0);  // no path: usage error
  const CliResult help = booktape("replay --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--dump-books"), std::string::npos);
}

}  // namespace
}  // namespace booktape
