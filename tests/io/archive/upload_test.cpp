// `upload` with the real rclone (Debian's) against a local remote: what is sent, what is never
// sent, what is recorded, what a second run does, what cleanup may delete, and how a missing or
// misconfigured rclone is reported.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "io/archive/manifest_index.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/upload.hpp"
#include "io/archive/upload_manifest.hpp"
#include "io/archive/verify.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;

std::vector<ManifestEntry> write_root(const fs::path& root, int frames = 1'200) {
  ArchiveWriterOptions o;
  o.root = root;
  o.run_id = "20251121T053412Z-0000abab";
  o.block_bytes = 2'048;
  o.max_file_bytes = 16'384;
  ArchiveWriter w(o);
  testing::FrameWriter fw(w, "s-1", 1);
  fw.open(kT0);
  testing::StreamGen gen(17);
  for (int i = 0; i < frames; ++i) fw.write(gen.price_change(), kT0 + i * 1'000);
  w.close();
  return w.closed_files();
}

std::size_t lines_of(const fs::path& p, std::string_view kind) {
  std::ifstream in(p);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.find(kind) != std::string::npos;
  return n;
}

// Every rclone this test starts reads this config (a remote named "archive_test" of type local),
// never the user's.
class Upload : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path conf = config_dir_.path() / "rclone.conf";
    std::ofstream(conf) << "[archive_test]\ntype = local\n";
    old_config_ = std::getenv("RCLONE_CONFIG") ? std::getenv("RCLONE_CONFIG") : "";
    ::setenv("RCLONE_CONFIG", conf.c_str(), 1);
  }
  void TearDown() override {
    if (old_config_.empty()) {
      ::unsetenv("RCLONE_CONFIG");
    } else {
      ::setenv("RCLONE_CONFIG", old_config_.c_str(), 1);
    }
  }
  UploadOptions options(const fs::path& root, const fs::path& remote_dir) {
    UploadOptions o;
    o.root = root;
    o.remote = "archive_test:" + remote_dir.string();
    return o;
  }
  TempDir config_dir_;
  std::string old_config_;
};

TEST_F(Upload, SendsClosedFilesAndManifestsOnlyVerifiesAndRecordsEach) {
  TempDir root, remote;
  const std::vector<ManifestEntry> files = write_root(root.path());
  ASSERT_GT(files.size(), 2u);
  const fs::path hour = (root.path() / files[0].path).parent_path();
  const std::string open = open_name("polymarket_ws_raw_20251121T05Z_20251121T060000Z-0000cdcd_000001.jsonl.gz");
  std::ofstream(hour / open) << "being written";
  std::ofstream(hour / ".tmp-partial") << "temporary";

  const UploadResult r = upload_archive(options(root.path(), remote.path()));
  EXPECT_EQ(r.exit_code, 0) << r.json();
  EXPECT_EQ(r.verified_by, "md5");
  EXPECT_EQ(r.count(UploadStatus::kVerified), files.size());
  EXPECT_TRUE(r.manifests_uploaded);
  for (const ManifestEntry& e : files) {
    EXPECT_EQ(testing::read_file((remote.path() / e.path).string()),
              testing::read_file((root.path() / e.path).string()))
        << e.path;
  }
  EXPECT_FALSE(fs::exists(remote.path() / fs::relative(hour / open, root.path())));
  EXPECT_FALSE(fs::exists(remote.path() / fs::relative(hour / ".tmp-partial", root.path())));
  EXPECT_TRUE(fs::exists(remote.path() / "manifests" / "polymarket_ws_raw.manifest.jsonl"));
  const fs::path um = upload_manifest_path(root.path());
  EXPECT_EQ(lines_of(um, "\"record\":\"upload\""), files.size());
  const auto recorded = read_upload_manifest(um);
  for (const ManifestEntry& e : files) {
    ASSERT_TRUE(recorded.contains(e.path));
    EXPECT_EQ(recorded.at(e.path).sha256, e.sha256);
    EXPECT_EQ(recorded.at(e.path).verified_by, "md5");
    EXPECT_EQ(recorded.at(e.path).remote_path, "archive_test:" + (remote.path() / e.path).string());
    EXPECT_GT(recorded.at(e.path).verified_at, 0);
  }
  EXPECT_TRUE(fs::exists(root.path() / files[0].path)) << "no cleanup asked: every file stays";

  // A second run sends nothing and records nothing new.
  const UploadResult again = upload_archive(options(root.path(), remote.path()));
  EXPECT_EQ(again.exit_code, 0) << again.json();
  EXPECT_EQ(again.count(UploadStatus::kAlreadyUploaded), files.size());
  EXPECT_EQ(again.count(UploadStatus::kVerified), 0u);
  EXPECT_EQ(lines_of(um, "\"record\":\"upload\""), files.size());
}

TEST_F(Upload, CleanupDeletesOnlyVerifiedUploadsOfFilesThatVerifyLocally) {
  TempDir root, remote;
  const std::vector<ManifestEntry> files = write_root(root.path());
  ASSERT_GT(files.size(), 2u);
  // One file damaged locally: it is uploaded as it is (it may be the only copy) but kept.
  const fs::path damaged = root.path() / files[1].path;
  std::string b = testing::read_file(damaged.string());
  b[b.size() / 2] ^= 0x01;
  std::ofstream(damaged, std::ios::binary | std::ios::trunc) << b;
  const fs::path open_file =
      (root.path() / files[0].path).parent_path() /
      open_name("polymarket_ws_raw_20251121T05Z_20251121T060000Z-0000cdcd_000001.jsonl.gz");
  std::ofstream(open_file) << "being written";

  UploadOptions o = options(root.path(), remote.path());
  o.cleanup_after_verify = true;
  const UploadResult r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 0) << r.json();
  EXPECT_EQ(r.removed(), files.size() - 1);
  EXPECT_TRUE(fs::exists(damaged));
  EXPECT_EQ(testing::read_file((remote.path() / files[1].path).string()), b) << "uploaded as it is";
  EXPECT_TRUE(fs::exists(open_file));
  ASSERT_EQ(r.local_problems.size(), 1u);
  EXPECT_NE(r.local_problems[0].find(files[1].path), std::string::npos);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i == 1) continue;
    EXPECT_FALSE(fs::exists(root.path() / files[i].path)) << files[i].path;
    EXPECT_TRUE(fs::exists(remote.path() / files[i].path)) << files[i].path;
  }
  // verify now calls them offloaded, and the damaged one invalid.
  VerifyOptions vo;
  vo.label = false;
  const RootVerification v = verify_root(root.path(), vo);
  std::size_t offloaded = 0;
  for (const VerifiedFile& f : v.files) offloaded += f.verdict == FileVerdict::kOffloaded;
  EXPECT_EQ(offloaded, files.size() - 1);
}

TEST_F(Upload, UploadedBeforeThenCleanupRechecksTheRemoteBeforeDeleting) {
  TempDir root, remote;
  const std::vector<ManifestEntry> files = write_root(root.path());
  ASSERT_EQ(upload_archive(options(root.path(), remote.path())).exit_code, 0);
  // Someone deleted one remote copy since: cleanup must not trust the old record for it.
  fs::remove(remote.path() / files[0].path);
  UploadOptions o = options(root.path(), remote.path());
  o.cleanup_after_verify = true;
  const UploadResult r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 1) << r.json();
  EXPECT_TRUE(fs::exists(root.path() / files[0].path));
  EXPECT_EQ(r.removed(), files.size() - 1);
}

TEST_F(Upload, DryRunSendsWritesAndDeletesNothing) {
  TempDir root, remote;
  const std::vector<ManifestEntry> files = write_root(root.path());
  const std::string manifest = testing::read_file((root.path() / "manifests/polymarket_ws_raw.manifest.jsonl").string());
  UploadOptions o = options(root.path(), remote.path());
  o.dry_run = true;
  o.cleanup_after_verify = true;
  const UploadResult r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 0) << r.json();
  EXPECT_EQ(r.count(UploadStatus::kWouldUpload), files.size());
  EXPECT_TRUE(fs::is_empty(remote.path()));
  EXPECT_FALSE(fs::exists(upload_manifest_path(root.path())));
  for (const ManifestEntry& e : files) EXPECT_TRUE(fs::exists(root.path() / e.path));
  EXPECT_EQ(testing::read_file((root.path() / "manifests/polymarket_ws_raw.manifest.jsonl").string()), manifest);
}

TEST_F(Upload, AMissingRcloneOrUnknownRemoteOrBadRateSaysWhatToInstallOrConfigure) {
  TempDir root, remote;
  write_root(root.path(), 50);
  UploadOptions o = options(root.path(), remote.path());
  o.rclone = "/nonexistent/bin/rclone";
  UploadResult r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.fatal.find("apt-get install rclone"), std::string::npos) << r.fatal;

  o = options(root.path(), remote.path());
  o.remote = "nosuchremote:base";
  r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.fatal.find("no remote named 'nosuchremote'"), std::string::npos) << r.fatal;
  EXPECT_NE(r.fatal.find("archive_test"), std::string::npos) << "lists the remotes there are";
  EXPECT_NE(r.fatal.find("rclone.conf"), std::string::npos) << "names the config file";

  o.remote = "no-colon-here";
  EXPECT_EQ(upload_archive(o).exit_code, 2);

  o = options(root.path(), remote.path());
  o.bwlimit = "fast";
  r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.fatal.find("--bwlimit"), std::string::npos) << r.fatal;
  EXPECT_FALSE(fs::exists(upload_manifest_path(root.path())));
}

TEST_F(Upload, AConnectionStringsValuesNeverReachTheManifestOrTheResult) {
  EXPECT_EQ(redact_remote(":s3,access_key_id=AKIA,secret_access_key='x:y,z':bucket/p"),
            ":s3,access_key_id=***,secret_access_key=***:bucket/p");
  EXPECT_EQ(redact_remote("gdrive:booktape"), "gdrive:booktape");
  EXPECT_EQ(redact_remote("gdrive,team_drive=ABC:x"), "gdrive,team_drive=***:x");

  TempDir root, remote;
  write_root(root.path(), 100);
  UploadOptions o;
  o.root = root.path();
  o.remote = ":local,description=hunter2:" + remote.path().string();
  const UploadResult r = upload_archive(o);
  EXPECT_EQ(r.exit_code, 0) << r.json();
  EXPECT_EQ(r.json().find("hunter2"), std::string::npos);
  EXPECT_EQ(testing::read_file(upload_manifest_path(root.path()).string()).find("hunter2"),
            std::string::npos);
}

}  // namespace
}  // namespace booktape
