// What replay reads and in which order: archive files by run and file sequence whatever order
// they are given in (or a clock step put them in), each file once, not a data root's discovery
// answers or hidden files; ".open" files cut anywhere; joined archives; layouts rewritten by
// other tools; records after --at.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/archive/writer.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
constexpr UnixNanos kHour = 1'773'306'000'000'000'000;  // 2026-03-12T09:00Z, an hour start
constexpr UnixNanos kSecond = 1'000'000'000;

ArchiveWriterOptions small_files(const fs::path& root, std::string run_id) {
  ArchiveWriterOptions o;
  o.root = root;
  o.run_id = std::move(run_id);
  o.block_bytes = 4096;
  o.max_file_bytes = 8 << 10;  // several files per run
  o.fsync = FsyncPolicy::kNone;
  return o;
}

// One run of `frames` price changes after the books, into several files; returns their paths
// in file sequence order.
std::vector<fs::path> write_run(const fs::path& root, const std::string& run_id,
                                testing::StreamGen& gen, UnixNanos start, int frames) {
  ArchiveWriter w(small_files(root, run_id));
  testing::FrameWriter fw(w, run_id + "-c1", 1);
  fw.open(start, gen.ids());
  UnixNanos t = start;
  for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), ++t);
  for (int i = 0; i < frames; ++i) fw.write(gen.price_change(), ++t);
  w.close();
  std::vector<fs::path> files;
  for (const ManifestEntry& e : w.closed_files()) files.push_back(root / e.path);
  return files;
}

std::vector<std::string> names(const std::vector<fs::path>& v) {
  std::vector<std::string> out;
  for (const fs::path& p : v) out.push_back(p.filename().string());
  return out;
}

TEST(ArchiveFileName, ParsesWhatTheWriterNames) {
  const std::string name = archive_file_name("polymarket", "ws_raw", kHour,
                                             "20260312T091500Z-0a1b2c3d", 42);
  const std::optional<ArchiveName> n = parse_archive_file_name(name);
  ASSERT_TRUE(n.has_value()) << name;
  EXPECT_EQ(n->venue_stream, "polymarket_ws_raw");
  EXPECT_EQ(n->run_id, "20260312T091500Z-0a1b2c3d");
  EXPECT_EQ(n->sequence, 42u);
  for (const char* other : {"frames.jsonl.gz", "a_b_c_1.jsonl.gz", "x_20260312T09Z_r_12a.jsonl.gz",
                            "polymarket_ws_raw_20260312T09Z_r_000001.jsonl", ""}) {
    EXPECT_FALSE(parse_archive_file_name(other).has_value()) << other;
  }
}

TEST(ReplayInputs, FilesGivenInAnyOrderAreReadInRunAndSequenceOrder) {
  testing::TempDir dir;
  testing::StreamGen gen(51, 4);
  const std::vector<fs::path> a = write_run(dir.path(), "20260312T090000Z-0000000a", gen,
                                            kHour, 400);
  const std::vector<fs::path> b = write_run(dir.path(), "20260312T093000Z-0000000b", gen,
                                            kHour + 1'800 * kSecond, 400);
  ASSERT_GE(a.size(), 3u);
  ASSERT_GE(b.size(), 3u);
  std::vector<fs::path> given(b.rbegin(), b.rend());
  given.insert(given.end(), a.rbegin(), a.rend());
  std::vector<std::string> errors;
  std::vector<fs::path> want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(names(ArchiveReader::expand(given, errors)), names(want));
  EXPECT_TRUE(errors.empty());

  Replayer replay;
  const ReplaySummary& s = replay.run(given);
  EXPECT_EQ(s.global.backwards, 0u);
  EXPECT_EQ(s.global.gaps, 0u);
  EXPECT_LT(s.first_received, s.last_received);
}

TEST(ReplayInputs, AClockSteppedBackAcrossTheHourDoesNotReorderARun) {
  testing::TempDir dir;
  testing::StreamGen gen(52, 2);
  {
    ArchiveWriter w(small_files(dir.path(), "20260312T095900Z-0000000c"));
    testing::FrameWriter fw(w, "c1", 1);
    UnixNanos t = kHour + 3'599 * kSecond;  // 09:59:59, then the clock steps back 10 s
    fw.open(t, gen.ids());
    for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), t);
    for (int i = 0; i < 50; ++i) fw.write(gen.price_change(), t += kSecond / 10);  // to 10:00:04
    t -= 10 * kSecond;  // back to 09:59:54: the next file goes into the 09 folder again
    for (int i = 0; i < 50; ++i) fw.write(gen.price_change(), t += kSecond / 100);
    w.close();
    ASSERT_GE(w.closed_files().size(), 3u);
    // The 10 o'clock file sits between two 09 o'clock files in the run's sequence.
    ASSERT_NE(w.closed_files()[1].path.find("hour=10"), std::string::npos);
  }
  Replayer replay;
  const ReplaySummary& s = replay.run({dir.path()});
  EXPECT_EQ(s.frames, 2u + 100u);
  EXPECT_EQ(s.global.backwards, 0u);  // by path (hour folders) it went backwards
  EXPECT_EQ(s.per_session.backwards, 0u);
}

TEST(ReplayInputs, EachFileOnceAndNotDiscoveryAnswersOrHiddenFiles) {
  testing::TempDir dir;
  testing::StreamGen gen(53, 2);
  const std::vector<fs::path> files = write_run(dir.path(), "20260312T090000Z-0000000d", gen,
                                                kHour, 50);
  fs::create_directories(dir.path() / "discovery" / "raw");
  std::ofstream(dir.path() / "discovery" / "raw" / "gamma_20260312T0900Z.jsonl.gz") << "{}\n";
  std::ofstream(files[0].parent_path() / "._copy.jsonl.gz") << "metadata\n";
  std::vector<std::string> errors;
  // The root and a folder inside it: the folder's files are already in the root's.
  const std::vector<fs::path> got =
      ArchiveReader::expand({dir.path(), dir.path() / "raw_orderbooks"}, errors);
  EXPECT_EQ(names(got), names(files));
  EXPECT_TRUE(errors.empty());
}

TEST(ReplayInputs, AnOpenFileCutAfterItsFirstByteIsATornTailNotAPlainFrameFile) {
  testing::TempDir dir;
  const fs::path f =
      dir.path() / open_name("polymarket_ws_raw_20260312T09Z_20260312T090000Z-0000000e_000001"
                             ".jsonl.gz");
  std::ofstream(f, std::ios::binary) << '\x1f';
  ArchiveReader reader;
  testing::Collector c;
  FileReport r;
  reader.read_file(f, c, r);
  EXPECT_EQ(r.frames, 0u);
  EXPECT_EQ(r.torn_tail_bytes, 1u);
  EXPECT_NE(r.format, FileFormat::kPlainFrames);
  EXPECT_FALSE(r.unreadable);

  FileReport missing;
  reader.read_file(dir.path() / "gone.jsonl.gz", c, missing);
  EXPECT_TRUE(missing.unreadable);
}

TEST(ReplayInputs, TwoArchivesJoinedWithCatAreTwoRunsNotOneGoingBackwards) {
  testing::TempDir dir;
  testing::StreamGen gen(54, 2);
  ArchiveWriterOptions o = small_files(dir.path() / "a", "20260312T090000Z-0000000f");
  o.max_file_bytes = std::uint64_t{1} << 30;  // one file per run
  std::string joined;
  for (const char* run : {"20260312T090000Z-0000000f", "20260312T091000Z-00000010"}) {
    o.root = dir.path() / run;
    o.run_id = run;
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, std::string(run) + "-c1", 1);
    fw.open(kHour, gen.ids());
    for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), kHour + 1);
    for (int i = 0; i < 30; ++i) fw.write(gen.price_change(), kHour + 2 + i);
    w.close();
    std::ifstream in(o.root / w.closed_files().at(0).path, std::ios::binary);
    joined.append(std::istreambuf_iterator<char>(in), {});
  }
  const fs::path cat = dir.path() / "joined.jsonl.gz";
  std::ofstream(cat, std::ios::binary) << joined;
  Replayer replay;
  const ReplaySummary& s = replay.run({cat});
  EXPECT_EQ(s.frames, 2u * 32u);
  EXPECT_EQ(s.global.backwards, 0u);
}

TEST(ReplayInputs, AFrameLineInAnotherToolsLayoutIsStillAFrame) {
  testing::TempDir dir;
  const fs::path f = dir.path() / "rewritten.jsonl";
  std::ofstream(f) << R"({"record":"file","format":"booktape-archive/1","run_id":"r1"})" << '\n'
                   << R"({"record": "frame", "received_at_ns": 1773306000000000001, )"
                      R"("session_id": "r1-c1", "connection_sequence": 1, "message_sequence": 1, )"
                      R"("global_message_sequence": 1, "opcode": "text", "raw_text": "PONG"})"
                   << '\n';
  Replayer replay;
  const ReplaySummary& s = replay.run({f});
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].format, FileFormat::kBooktape);
  EXPECT_EQ(s.frames, 1u);
  EXPECT_EQ(s.files[0].bad_lines, 0u);
}

TEST(ReplayInputs, APlainFrameFileWithABomAndBlankLinesLosesNoFrame) {
  testing::TempDir dir;
  const fs::path f = dir.path() / "other-recorder.jsonl";
  std::ofstream(f, std::ios::binary) << "\xEF\xBB\xBF" << R"({"event_type":"book","asset_id":"1"})"
                                     << "\r\n  \t\n\nPONG\n";
  Replayer replay;
  const ReplaySummary& s = replay.run({f});
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].format, FileFormat::kPlainFrames);
  EXPECT_EQ(s.frames, 2u);  // the book (its BOM was not part of it) and the PONG
  EXPECT_EQ(replay.decoder_stats().events_by_type[static_cast<std::size_t>(
                polymarket::EventType::kBook)],
            1u);
}

TEST(ReplayInputs, AtATimeAConnectionCloseRecordedAfterItHasNotHappenedYet) {
  testing::TempDir dir;
  testing::StreamGen gen(55, 2);
  {
    ArchiveWriter w(small_files(dir.path(), "20260312T090000Z-00000011"));
    testing::FrameWriter fw(w, "c1", 1);
    fw.open(kHour, gen.ids());
    for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), kHour + 1);
    w.close_session("c1", kHour + 5 * kSecond, "stale: no market data for 30 s");
    w.close();
  }
  ReplayOptions o;
  o.stop_after = kHour + 2 * kSecond;  // the books are live then; the close comes later
  Replayer replay(o);
  replay.run({dir.path()});
  const TokenIndex t = replay.books().find(gen.ids()[0]);
  ASSERT_NE(t, kNoToken);
  EXPECT_EQ(replay.books().book(t).state, BookState::kLive);

  Replayer whole;  // without --at the close applies
  whole.run({dir.path()});
  EXPECT_EQ(whole.books().book(whole.books().find(gen.ids()[0])).state, BookState::kStale);
}

}  // namespace
}  // namespace booktape
