// `verify` on archives written by the real writer, then damaged the ways disks and people
// damage them: each damage found and named, labelled in the manifest once, nothing deleted, and
// sequence gaps told apart by whether a loss record explains them.
#include <gtest/gtest.h>

#include <fstream>

#include "io/archive/manifest_index.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/upload_manifest.hpp"
#include "io/archive/verify.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::FrameWriter;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;
constexpr char kRun[] = "20251121T053412Z-0000feed";

// A loss record as the recorder writes it (docs/DATA_CONTRACT.md, "loss").
std::string loss_line(std::string_view run, std::string_view reason, std::optional<std::uint64_t> first,
                      std::optional<std::uint64_t> last, std::optional<std::uint64_t> frames) {
  auto n = [](const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : std::string("null");
  };
  return "{\"record\":\"loss\",\"run_id\":\"" + std::string(run) + "\",\"reason\":\"" +
         std::string(reason) + "\",\"at_utc\":\"2025-11-21T05:40:00.000000000Z\",\"at_ns\":" +
         std::to_string(kT0 + 1) + ",\"frames\":" + n(frames) +
         ",\"first_global_message_sequence\":" + n(first) +
         ",\"last_global_message_sequence\":" + n(last) +
         ",\"sessions\":[],\"unread_bytes\":null,\"detail\":\"test\"}\n";
}

// Writes `frames` frames in several files (rotation by size); `skip_at` > 0 leaves a gap of
// `skip` sequence numbers before frame `skip_at`, and `loss` is written after the gap.
struct Written {
  std::vector<ManifestEntry> files;
};
Written write_run(const fs::path& root, int frames, int skip_at = 0, std::uint64_t skip = 0,
                  const std::string& loss = {}, const char* run = kRun) {
  ArchiveWriterOptions o;
  o.root = root;
  o.run_id = run;
  o.block_bytes = 2'048;
  o.max_file_bytes = 16'384;
  ArchiveWriter w(o);
  FrameWriter fw(w, std::string(run) + "-c1", 1);
  fw.open(kT0);
  testing::StreamGen gen(3);
  for (int i = 0; i < frames; ++i) {
    if (i == skip_at && skip > 0) {
      fw.skip_global(skip);
      if (!loss.empty()) w.append_record(kT0 + i, 0, loss);
    }
    fw.write(gen.price_change(), kT0 + i * 1'000);
  }
  w.close();
  return Written{w.closed_files()};
}

fs::path ws_manifest(const fs::path& root) {
  return manifest_path(root / "manifests", "polymarket", "ws_raw");
}

const VerifiedFile* find(const RootVerification& r, std::string_view path) {
  for (const VerifiedFile& f : r.files)
    if (f.path == path) return &f;
  return nullptr;
}

void write_bytes(const fs::path& p, std::string_view b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

TEST(Verify, AnIntactArchivePassesAndIsNotTouched) {
  TempDir root;
  const Written w = write_run(root.path(), 1'500);
  ASSERT_GT(w.files.size(), 3u) << "rotation by size gives several files";
  const std::string manifest_before = testing::read_file(ws_manifest(root.path()).string());
  const VerifyResult r = verify_archive({root.path()}, {});
  EXPECT_TRUE(r.ok()) << r.json();
  EXPECT_EQ(r.count(FileVerdict::kOk), w.files.size());
  ASSERT_EQ(r.roots[0].runs.size(), 1u);
  EXPECT_EQ(r.roots[0].runs[0].first_sequence, 1u);
  EXPECT_EQ(r.roots[0].runs[0].last_sequence, 1'500u);
  EXPECT_EQ(r.roots[0].runs[0].frames, 1'500u);
  EXPECT_TRUE(r.roots[0].gaps.empty());
  EXPECT_EQ(testing::read_file(ws_manifest(root.path()).string()), manifest_before);
}

TEST(Verify, EachDamageIsNamedLabelledOnceAndNothingIsDeleted) {
  TempDir root;
  const Written w = write_run(root.path(), 1'500);
  ASSERT_GE(w.files.size(), 5u);
  const fs::path truncated = root.path() / w.files[0].path;
  const fs::path flipped = root.path() / w.files[1].path;
  const fs::path emptied = root.path() / w.files[2].path;
  const fs::path deleted = root.path() / w.files[3].path;
  std::string b = testing::read_file(truncated.string());
  write_bytes(truncated, std::string_view(b).substr(0, b.size() * 2 / 3));
  b = testing::read_file(flipped.string());
  b[b.size() / 2] ^= 0x10;
  write_bytes(flipped, b);
  write_bytes(emptied, "");
  const std::string deleted_bytes = testing::read_file(deleted.string());
  fs::remove(deleted);
  // A closed-looking file no manifest lists, another tool's file, and a crash's ".open" file.
  const fs::path hour = truncated.parent_path();
  const fs::path unlisted = hour / "polymarket_ws_raw_20251121T05Z_20251121T053412Z-0000dead_000001.jsonl.gz";
  fs::copy_file(root.path() / w.files[4].path, unlisted);
  write_bytes(hour / "notes.txt", "hello");
  write_bytes(hour / open_name("polymarket_ws_raw_20251121T05Z_20251121T060000Z-0000beef_000001.jsonl.gz"),
              testing::read_file((root.path() / w.files[4].path).string()));
  const fs::path manifest = ws_manifest(root.path());
  const std::string manifest_before = testing::read_file(manifest.string());

  const VerifyResult r = verify_archive({root.path()}, {});
  EXPECT_FALSE(r.ok());
  const RootVerification& v = r.roots[0];
  const VerifiedFile* t = find(v, w.files[0].path);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->verdict, FileVerdict::kInvalid);
  EXPECT_GT(t->report.missing_rows, 0u);
  EXPECT_EQ(t->label_written, "invalid");
  ASSERT_NE(find(v, w.files[1].path), nullptr);
  EXPECT_EQ(find(v, w.files[1].path)->verdict, FileVerdict::kInvalid);
  EXPECT_EQ(find(v, w.files[2].path)->verdict, FileVerdict::kInvalid);
  EXPECT_EQ(find(v, w.files[2].path)->report.missing_rows, w.files[2].rows);
  EXPECT_EQ(find(v, w.files[3].path)->verdict, FileVerdict::kMissing);
  EXPECT_EQ(find(v, w.files[4].path)->verdict, FileVerdict::kOk);
  EXPECT_EQ(find(v, manifest_path_of(unlisted, root.path()))->verdict, FileVerdict::kUnlisted);
  EXPECT_EQ(r.count(FileVerdict::kForeign), 1u);
  EXPECT_EQ(r.count(FileVerdict::kOpenLeft), 1u);
  EXPECT_EQ(r.count(FileVerdict::kInvalid), 3u);
  // The frames the damage took are gaps in the run, blamed on the damaged files, not unexplained.
  EXPECT_EQ(r.unexplained_gaps(), 0u) << r.json();
  EXPECT_FALSE(v.gaps.empty());

  // Four labels appended (3 invalid + 1 missing), the old lines untouched, every file still there.
  const std::string after = testing::read_file(manifest.string());
  ASSERT_TRUE(after.starts_with(manifest_before));
  const ManifestIndex ix = ManifestIndex::load(manifest);
  ASSERT_NE(ix.label(w.files[0].path), nullptr);
  EXPECT_EQ(ix.label(w.files[0].path)->label, "invalid");
  EXPECT_NE(ix.label(w.files[0].path)->reason.find("cut short"), std::string::npos);
  EXPECT_NE(ix.label(w.files[3].path)->reason.find("missing"), std::string::npos);
  std::size_t labels = 0;
  for (std::size_t p = after.find("manifest_label"); p != std::string::npos;
       p = after.find("manifest_label", p + 1))
    ++labels;
  EXPECT_EQ(labels, 4u);
  EXPECT_TRUE(fs::exists(truncated) && fs::exists(flipped) && fs::exists(emptied) &&
              fs::exists(unlisted) && fs::exists(hour / "notes.txt"));

  // A second verify says the same and labels nothing again.
  const VerifyResult again = verify_archive({root.path()}, {});
  EXPECT_EQ(again.count(FileVerdict::kInvalid), 3u);
  EXPECT_EQ(testing::read_file(manifest.string()), after);

  // The deleted file restored from a copy: labelled valid again.
  write_bytes(deleted, deleted_bytes);
  const VerifyResult restored = verify_archive({root.path()}, {});
  EXPECT_EQ(find(restored.roots[0], w.files[3].path)->verdict, FileVerdict::kOk);
  EXPECT_EQ(find(restored.roots[0], w.files[3].path)->label_written, "valid");
  EXPECT_EQ(ManifestIndex::load(manifest).label(w.files[3].path)->label, "valid");
}

TEST(Verify, AGapNoLossRecordExplainsFailsAndOneALossRecordCoversIsLost) {
  {
    TempDir root;
    write_run(root.path(), 1'000, 600, 25);
    const VerifyResult r = verify_archive({root.path()}, {});
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.roots[0].gaps.size(), 1u) << r.json();
    EXPECT_EQ(r.roots[0].gaps[0].first, 601u);
    EXPECT_EQ(r.roots[0].gaps[0].last, 625u);
    EXPECT_FALSE(r.roots[0].gaps[0].recorded_loss);
    EXPECT_EQ(r.roots[0].runs[0].missing_unexplained, 25u);
    EXPECT_EQ(r.unexplained_gaps(), 1u);
  }
  {
    TempDir root;
    write_run(root.path(), 1'000, 600, 25, loss_line(kRun, "disk_full", 601, 625, 25));
    const VerifyResult r = verify_archive({root.path()}, {});
    EXPECT_TRUE(r.ok()) << r.json();
    ASSERT_EQ(r.roots[0].gaps.size(), 1u);
    EXPECT_TRUE(r.roots[0].gaps[0].recorded_loss);
    EXPECT_EQ(r.roots[0].gaps[0].loss_reason, "disk_full");
    EXPECT_EQ(r.roots[0].runs[0].lost_recorded, 25u);
    EXPECT_EQ(r.roots[0].runs[0].missing_unexplained, 0u);
    EXPECT_EQ(r.roots[0].runs[0].loss_records, 1u);
    EXPECT_NE(r.json().find("\"status\":\"lost_recorded\""), std::string::npos);
  }
  {
    // A loss record that covers only part of the gap does not explain it.
    TempDir root;
    write_run(root.path(), 1'000, 600, 25, loss_line(kRun, "disk_full", 601, 610, 10));
    EXPECT_FALSE(verify_archive({root.path()}, {}).ok());
  }
}

TEST(Verify, ACrashRecordWrittenByTheNextRunIsCountedForTheCrashedRun) {
  TempDir root;
  write_run(root.path(), 300);
  // The next run writes the crashed run's record: frames after 300 unknown.
  write_run(root.path(), 10, 0, 0, {}, "20251121T060000Z-0000aaaa");
  {
    ArchiveWriterOptions o;
    o.root = root.path();
    o.run_id = "20251121T060500Z-0000bbbb";
    ArchiveWriter w(o);
    w.append_record(kT0, 0, loss_line(kRun, "crash", 301, std::nullopt, std::nullopt));
    w.close();
  }
  const VerifyResult r = verify_archive({root.path()}, {});
  EXPECT_TRUE(r.ok()) << r.json();
  const RootVerification& v = r.roots[0];
  ASSERT_EQ(v.losses.size(), 1u);
  EXPECT_FALSE(v.losses[0].frames.has_value());
  for (const RunSummary& run : v.runs) {
    if (run.run_id == kRun) {
      EXPECT_EQ(run.crash_records, 1u);
    }
  }
}

TEST(Verify, AFileRemovedAfterAVerifiedUploadIsOffloadedNotMissing) {
  TempDir root;
  const Written w = write_run(root.path(), 1'500);
  const ManifestEntry& e = w.files[1];
  UploadRecord u;
  u.path = e.path;
  u.sha256 = e.sha256;
  u.bytes = e.bytes;
  u.remote = "r:base";
  u.remote_path = "r:base/" + e.path;
  u.verified_by = "md5";
  u.verified_at = kT0;
  u.removed_at = kT0 + 1;
  const fs::path um = upload_manifest_path(root.path());
  ASSERT_EQ(append_line(um, render_upload_line(u), false), "");
  ASSERT_EQ(append_line(um, render_removal_line(u), false), "");
  fs::remove(root.path() / e.path);
  const VerifyResult r = verify_archive({root.path()}, {});
  EXPECT_TRUE(r.ok()) << r.json();
  EXPECT_EQ(find(r.roots[0], e.path)->verdict, FileVerdict::kOffloaded);
  EXPECT_TRUE(r.roots[0].gaps.empty()) << "its sequences are accounted for by its entry";
}

TEST(Verify, NotADataRootIsAnErrorAndNoLabelLeavesManifestsAlone) {
  TempDir dir;
  const VerifyResult r = verify_archive({dir.path()}, {});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.roots[0].errors.size(), 1u);
  EXPECT_NE(r.roots[0].errors[0].find("not a booktape data root"), std::string::npos);

  TempDir root;
  const Written w = write_run(root.path(), 600);
  write_bytes(root.path() / w.files[0].path, "");
  const std::string before = testing::read_file(ws_manifest(root.path()).string());
  VerifyOptions o;
  o.label = false;
  const VerifyResult ro = verify_archive({root.path()}, o);
  EXPECT_FALSE(ro.ok());
  EXPECT_EQ(testing::read_file(ws_manifest(root.path()).string()), before);
}

}  // namespace
}  // namespace booktape
