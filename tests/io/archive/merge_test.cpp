// merge_archives on archives written by the real writer, for what the two-recorder test cannot
// arrange: a time no recorder covered, streams that disagree on an order, heartbeat answers, and
// the merge records.
#include <gtest/gtest.h>

#include "io/archive/merge.hpp"
#include "io/archive/paths.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::Collector;
using testing::FrameWriter;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;
constexpr UnixNanos kMs = 1'000'000;

// A recorder's archive: `frames[i]` received at `times[i]`, on one connection that closes
// (reason `close_reason`) at `close_at`.
void write_root(const fs::path& root, const std::string& run, const std::vector<std::string>& frames,
                const std::vector<UnixNanos>& times, UnixNanos open_at, UnixNanos close_at,
                const std::string& close_reason = "shutdown") {
  ArchiveWriterOptions o;
  o.root = root;
  o.run_id = run;
  ArchiveWriter w(o);
  FrameWriter fw(w, run + "-c1", 1);
  fw.open(open_at);
  for (std::size_t i = 0; i < frames.size(); ++i) fw.write(frames[i], times[i]);
  w.close_session(fw.session(), close_at, close_reason);
  w.close();
}

std::vector<std::string> merged_payloads(const fs::path& root, std::vector<std::string>* records = nullptr) {
  Collector c;
  ArchiveReader reader;
  std::vector<std::string> errors;
  for (const fs::path& f : ArchiveReader::expand({root}, errors)) {
    FileReport r;
    reader.read_file(f, c, r);
  }
  std::vector<std::string> out;
  for (const auto& f : c.frames) out.push_back(f.payload);
  if (records) *records = c.records;
  return out;
}

TEST(Merge, ATimeNoRecorderCoveredIsReportedAndEndsTheMergedConnection) {
  TempDir dir;
  testing::StreamGen gen(4, 2);
  std::vector<std::string> early, late;
  std::vector<UnixNanos> te, tl;
  early.push_back(gen.snapshot(0));
  te.push_back(kT0 + 1 * kMs);
  for (int i = 0; i < 20; ++i) {
    early.push_back(gen.price_change());
    te.push_back(kT0 + (2 + i) * kMs);
  }
  late.push_back(gen.snapshot(0));
  tl.push_back(kT0 + 5'000 * kMs);
  for (int i = 0; i < 20; ++i) {
    late.push_back(gen.price_change());
    tl.push_back(kT0 + (5'001 + i) * kMs);
  }
  // A covers [0, 1 s], B covers [4 s, 6 s]: 1 s .. 4 s nobody did.
  write_root(dir.path() / "A", "20251121T053412Z-0000000a", early, te, kT0, kT0 + 1'000 * kMs, "network error");
  write_root(dir.path() / "B", "20251121T053416Z-0000000b", late, tl, kT0 + 4'000 * kMs, kT0 + 6'000 * kMs);
  MergeOptions o;
  o.inputs = {dir.path() / "A", dir.path() / "B"};
  o.out = dir.path() / "M";
  const MergeResult r = merge_archives(o);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  ASSERT_EQ(r.uncovered.size(), 1u);
  EXPECT_EQ(r.uncovered[0].from, kT0 + 1'000 * kMs);
  EXPECT_EQ(r.uncovered[0].to, kT0 + 4'000 * kMs);
  EXPECT_EQ(r.frames, early.size() + late.size());
  EXPECT_EQ(r.duplicates, 0u);
  std::vector<std::string> records;
  const std::vector<std::string> got = merged_payloads(o.out, &records);
  std::vector<std::string> want = early;
  want.insert(want.end(), late.begin(), late.end());
  EXPECT_EQ(got, want);
  // The merged connection closes at the uncovered time (not a graceful stop) and a second opens.
  bool closed_uncovered = false, reopened = false, merge_record = false, seen = false;
  for (const std::string& rec : records) {
    closed_uncovered |= rec.find("\"event\":\"close\"") != std::string::npos &&
                        rec.find("uncovered") != std::string::npos;
    reopened |= rec.find("\"event\":\"open\"") != std::string::npos &&
                rec.find("\"connection_sequence\":2") != std::string::npos;
    merge_record |= rec.starts_with("{\"record\":\"merge\"");
    seen |= rec.starts_with("{\"record\":\"merge_seen\"");
  }
  EXPECT_TRUE(closed_uncovered && reopened && merge_record && seen);
  // Replay of the merged archive: one run, no sequence gap, the session close honoured.
  Replayer replay;
  const ReplaySummary& s = replay.run({o.out});
  EXPECT_EQ(s.frames, r.frames);
  EXPECT_EQ(s.global.gaps, 0u);
}

TEST(Merge, CopiesAreDroppedHeartbeatsLeftOutAndADisagreementOnOrderIsCounted) {
  TempDir dir;
  testing::StreamGen gen(6, 2);
  std::vector<std::string> f;
  for (int i = 0; i < 6; ++i) f.push_back(gen.price_change());
  // A: f0 f1 PONG f2 f3 f4 f5; B: f0 f2 f1 f3 (B swapped two) f5 and its own f6.
  const std::string f6 = gen.price_change();
  write_root(dir.path() / "A", "20251121T053412Z-0000000a",
             {f[0], f[1], "PONG", f[2], f[3], f[4], f[5]},
             {kT0 + 1, kT0 + 2, kT0 + 3, kT0 + 4, kT0 + 5, kT0 + 6, kT0 + 7}, kT0, kT0 + 100);
  write_root(dir.path() / "B", "20251121T053412Z-0000000b", {f[0], f[2], f[1], f[3], f[5], f6},
             {kT0 + 2, kT0 + 3, kT0 + 4, kT0 + 5, kT0 + 8, kT0 + 9}, kT0, kT0 + 100);
  MergeOptions o;
  o.inputs = {dir.path() / "A", dir.path() / "B"};
  o.out = dir.path() / "M";
  const MergeResult r = merge_archives(o);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  const std::vector<std::string> got = merged_payloads(o.out);
  // Every frame once, no PONG; f1/f2 in the order received first (A's), f6 after f5.
  EXPECT_EQ(got, (std::vector<std::string>{f[0], f[1], f[2], f[3], f[4], f[5], f6}));
  EXPECT_EQ(r.sources[0].control_frames, 1u);
  EXPECT_GE(r.order_conflicts, 1u);
  EXPECT_EQ(r.duplicates, 5u);
  EXPECT_EQ(r.sources[0].only_here, 1u);  // f4
  EXPECT_EQ(r.sources[1].only_here, 1u);  // f6
  // A received f0 first (kT0 + 1 against B's kT0 + 2): its time is the primary.
  EXPECT_EQ(r.sources[0].primary, 5u);  // f0 f1 f3 f4 f5 (B got f2 first)
}

TEST(Merge, ANonEmptyOutputOrAMissingInputIsRefused) {
  TempDir dir;
  write_root(dir.path() / "A", "20251121T053412Z-0000000a", {"{}"}, {kT0 + 1}, kT0, kT0 + 2);
  MergeOptions o;
  o.inputs = {dir.path() / "A", dir.path() / "nothing"};
  o.out = dir.path() / "M";
  EXPECT_EQ(merge_archives(o).exit_code, 2);
  o.inputs = {dir.path() / "A", dir.path() / "A"};
  o.out = dir.path() / "A";
  const MergeResult r = merge_archives(o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.error.find("not empty"), std::string::npos);
}

}  // namespace
}  // namespace booktape
