// Closed files are not trusted: the reader checks each one under a data root against its
// manifest entry, calls a closed file cut short damaged (with the rows missing), never a torn
// tail, and reads on past a damaged member (issue 22).
#include <gtest/gtest.h>

#include <fstream>

#include "codecs/gzip_member.hpp"
#include "io/archive/manifest_index.hpp"
#include "io/archive/paths.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::Collector;
using testing::FrameWriter;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;
constexpr int kFrames = 400;

// A closed file of many members written by the real writer into a data root.
struct ClosedArchive {
  TempDir root;
  fs::path file;
  ManifestEntry entry;
  std::string bytes;

  ClosedArchive() {
    ArchiveWriterOptions o;
    o.root = root.path();
    o.run_id = "20251121T053412Z-0000cafe";
    o.block_bytes = 2'048;
    ArchiveWriter w(o);
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    testing::StreamGen gen(5);
    for (int i = 0; i < kFrames; ++i) fw.write(gen.price_change(), kT0 + i);
    w.close();
    entry = w.closed_files().at(0);
    file = root.path() / entry.path;
    bytes = testing::read_file(file.string());
  }
  void rewrite(std::string_view b) const {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  // Offsets of member starts.
  [[nodiscard]] std::vector<std::size_t> member_offsets() const {
    std::vector<std::size_t> out;
    for (std::size_t off = 0; off < bytes.size();) {
      MemberHeader h;
      if (parse_member_header(reinterpret_cast<const std::uint8_t*>(bytes.data()) + off,
                              bytes.size() - off, h) != MemberStatus::kOk)
        break;
      out.push_back(off);
      off += h.member_bytes;
    }
    return out;
  }
};

FileReport read(const fs::path& p, Collector& got) {
  ArchiveReader reader;
  FileReport r;
  reader.read_file(p, got, r);
  return r;
}

TEST(ReaderTrust, AnIntactClosedFileMatchesItsManifestEntry) {
  ClosedArchive a;
  Collector got;
  const FileReport r = read(a.file, got);
  EXPECT_EQ(r.manifest, ManifestCheck::kMatches) << r.manifest_problem;
  EXPECT_FALSE(r.damaged());
  EXPECT_EQ(r.manifest_rows, a.entry.rows);
  EXPECT_EQ(got.frames.size(), static_cast<std::size_t>(kFrames));
}

TEST(ReaderTrust, AClosedFileCutShortIsDamagedWithItsRowsMissingNeverATornTail) {
  ClosedArchive a;
  const std::size_t cut = a.bytes.size() / 2;
  a.rewrite(std::string_view(a.bytes).substr(0, cut));
  Collector got;
  const FileReport r = read(a.file, got);
  EXPECT_TRUE(r.damaged());
  EXPECT_EQ(r.torn_tail_bytes, 0u);
  EXPECT_EQ(r.torn_tail_rows, 0u);
  EXPECT_GT(r.cut_short_bytes, 0u);
  EXPECT_EQ(r.manifest, ManifestCheck::kMismatch);
  EXPECT_EQ(r.missing_rows, a.entry.rows - r.lines);
  EXPECT_GT(r.missing_rows, static_cast<std::uint64_t>(kFrames) / 3) << "about half the rows";
  EXPECT_EQ(got.frames.size() + r.missing_rows, a.entry.frames) << "one row a frame, after the first member";
  EXPECT_NE(r.manifest_problem.find("cut short: " + std::to_string(cut) + " of the " +
                                    std::to_string(a.entry.bytes)),
            std::string::npos)
      << r.manifest_problem;
  EXPECT_NE(r.manifest_problem.find("missing"), std::string::npos) << r.manifest_problem;
}

TEST(ReaderTrust, AClosedFileCutAtAMemberBoundaryIsCaughtByItsManifestEntry) {
  ClosedArchive a;
  const std::vector<std::size_t> starts = a.member_offsets();
  ASSERT_GT(starts.size(), 4u);
  a.rewrite(std::string_view(a.bytes).substr(0, starts[starts.size() / 2]));
  Collector got;
  const FileReport r = read(a.file, got);
  EXPECT_FALSE(r.corrupt) << "every member left is whole";
  EXPECT_EQ(r.cut_short_bytes, 0u);
  EXPECT_TRUE(r.damaged());
  EXPECT_EQ(r.missing_rows, a.entry.rows - r.lines);
  EXPECT_GT(r.missing_rows, 0u);
}

TEST(ReaderTrust, AnEmptiedClosedFileIsDamagedWithEveryRowMissing) {
  ClosedArchive a;
  a.rewrite("");
  Replayer replay;
  const ReplaySummary& s = replay.run({a.root.path()});
  ASSERT_EQ(s.files.size(), 1u);
  const FileReport& r = s.files[0];
  EXPECT_TRUE(r.damaged());
  EXPECT_EQ(r.missing_rows, a.entry.rows);
  EXPECT_EQ(s.frames, 0u);
  const std::string json = replay.summary_json();
  EXPECT_NE(json.find("\"damaged_files\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"missing_rows\":" + std::to_string(a.entry.rows)), std::string::npos)
      << json;
}

TEST(ReaderTrust, BytesAddedToAClosedFileAreAMismatch) {
  ClosedArchive a;
  a.rewrite(a.bytes + "\n");
  Collector got;
  const FileReport r = read(a.file, got);
  EXPECT_EQ(r.manifest, ManifestCheck::kMismatch);
  EXPECT_NE(r.manifest_problem.find("1 more than"), std::string::npos) << r.manifest_problem;
  EXPECT_EQ(got.frames.size(), static_cast<std::size_t>(kFrames)) << "every member is still read";
}

TEST(ReaderTrust, AFlippedByteIsASha256MismatchAndTheMembersAfterItAreRead) {
  ClosedArchive a;
  const std::vector<std::size_t> starts = a.member_offsets();
  ASSERT_GT(starts.size(), 6u);
  std::string b = a.bytes;
  const std::size_t victim = starts[3];
  b[victim + (starts[4] - victim) / 2] ^= 0x40;
  a.rewrite(b);
  Collector got;
  const FileReport r = read(a.file, got);
  EXPECT_TRUE(r.corrupt);
  ASSERT_EQ(r.corrupt_spans.size(), 1u);
  EXPECT_EQ(r.corrupt_spans[0].offset, victim);
  EXPECT_EQ(r.corrupt_spans[0].bytes, starts[4] - victim);
  EXPECT_NE(r.manifest_problem.find("sha256 differs"), std::string::npos) << r.manifest_problem;
  EXPECT_EQ(r.missing_rows, r.corrupt_spans[0].rows);
  // The frames after the damaged member were read: the last frame of the file is there.
  ASSERT_FALSE(got.frames.empty());
  EXPECT_EQ(got.frames.back().global_sequence, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(got.frames.size() + r.missing_rows, static_cast<std::size_t>(kFrames));
}

TEST(ReaderTrust, AFileItsManifestDoesNotListIsSaidToBeUnlisted) {
  ClosedArchive a;
  fs::remove(a.root.path() / "manifests" / "polymarket_ws_raw.manifest.jsonl");
  Collector got;
  const FileReport r = read(a.file, got);
  EXPECT_EQ(r.manifest, ManifestCheck::kNotListed);
  EXPECT_FALSE(r.damaged());
  // Outside a data root there is no manifest to ask.
  TempDir elsewhere;
  const fs::path copy = elsewhere.path() / a.file.filename();
  fs::copy_file(a.file, copy);
  Collector got2;
  EXPECT_EQ(read(copy, got2).manifest, ManifestCheck::kNotChecked);
}

TEST(ReaderTrust, TheLastEntryForAPathIsItsEntryAndLabelsAreSeen) {
  ClosedArchive a;
  const fs::path m = a.root.path() / "manifests" / "polymarket_ws_raw.manifest.jsonl";
  ManifestLabel l;
  l.path = a.entry.path;
  l.label = "invalid";
  l.reason = "sha256 differs";
  l.labelled_at = kT0;
  ASSERT_EQ(append_line(m, render_manifest_label(l), false), "");
  ASSERT_EQ(append_line(m, "{\"record\":\"manifest_en", false), "");  // a torn append
  const ManifestIndex ix = ManifestIndex::load(m);
  ASSERT_NE(ix.find(a.entry.path), nullptr);
  EXPECT_EQ(ix.find(a.entry.path)->sha256, a.entry.sha256);
  EXPECT_EQ(ix.find(a.entry.path)->rows, a.entry.rows);
  EXPECT_EQ(ix.find(a.entry.path)->last_global_sequence, static_cast<std::uint64_t>(kFrames));
  ASSERT_NE(ix.label(a.entry.path), nullptr);
  EXPECT_EQ(ix.label(a.entry.path)->reason, "sha256 differs");
  EXPECT_EQ(ix.label(a.entry.path)->labelled_at, kT0);
  EXPECT_EQ(ix.bad_lines(), 1u);
}

}  // namespace
}  // namespace booktape
