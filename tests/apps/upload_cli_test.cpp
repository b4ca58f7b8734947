// The real `booktape upload` against a real WebDAV server (`rclone serve webdav` on loopback)
// that is killed in the middle of the upload: nothing is deleted and nothing unverified is
// recorded, and the next run, with the server back, completes. WebDAV has no hashes, so this is
// also the download-compare path.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "io/archive/upload_manifest.hpp"
#include "io/archive/writer.hpp"
#include "tests/apps/cli_run.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;
constexpr const char* kRclone = "/usr/bin/rclone";  // Debian's package (scripts/install-deps.sh)

// About 1 MB in several files: payloads of random hex do not compress below half.
std::vector<ManifestEntry> write_root(const fs::path& root) {
  ArchiveWriterOptions o;
  o.root = root;
  o.max_file_bytes = 128 << 10;
  ArchiveWriter w(o);
  testing::FrameWriter fw(w, "s-1", 1);
  fw.open(kT0);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1'000; ++i) {
    std::string p(2'048, '0');
    for (char& c : p) c = "0123456789abcdef"[rng() % 16];
    fw.write(p, kT0 + i * 1'000'000);
  }
  w.close();
  return w.closed_files();
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::unique_ptr<testing::Child> serve_webdav(const fs::path& dir, std::uint16_t port) {
  auto c = std::make_unique<testing::Child>(std::vector<std::string>{
      kRclone, "serve", "webdav", dir.string(), "--addr", "127.0.0.1:" + std::to_string(port)});
  for (int i = 0; i < 100 && !accepts(port); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(accepts(port)) << "rclone serve webdav did not start";
  return c;
}

std::uint64_t bytes_under(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

TEST(UploadCli, AWebDavServerKilledMidUploadDeletesNothingAndTheNextRunCompletes) {
  ASSERT_TRUE(fs::exists(kRclone)) << "rclone is required: apt-get install rclone";
  testing::TempDir root, dav;
  const std::vector<ManifestEntry> files = write_root(root.path());
  ASSERT_GE(files.size(), 4u);
  std::map<std::string, std::string> original;
  for (const ManifestEntry& e : files) original[e.path] = testing::read_file((root.path() / e.path).string());

  const std::uint16_t port = testing::dead_port();
  const std::string remote = ":webdav,url='http://127.0.0.1:" + std::to_string(port) + "':base";
  auto server = serve_webdav(dav.path(), port);
  {
    testing::Child upload({BOOKTAPE_BINARY, "upload", root.path().string(), "--remote", remote,
                           "--bwlimit", "150K", "--cleanup-after-verify", "--retries", "1",
                           "--low-level-retries", "1"});
    // Kill the server once the upload is under way (some bytes arrived), well before its end.
    for (int i = 0; i < 200 && bytes_under(dav.path()) == 0; ++i) std::this_thread::sleep_for(25ms);
    const std::uint64_t arrived = bytes_under(dav.path());
    server->signal(SIGKILL);
    server->wait(5s);
    EXPECT_GT(arrived, 0u) << "the upload never started";
    EXPECT_LT(arrived, 1'000'000u) << "the upload finished before the server was killed";
    // rclone paces its retries against the dead server; with one try each this takes seconds.
    const int status = upload.wait(120s);
    EXPECT_EQ(status, 1) << upload.read_all(1s);
  }
  // Nothing deleted, nothing changed, nothing recorded as verified that is not whole on the server.
  for (const auto& [path, bytes] : original)
    EXPECT_EQ(testing::read_file((root.path() / path).string()), bytes) << path;
  const auto recorded = read_upload_manifest(upload_manifest_path(root.path()));
  for (const auto& [path, rec] : recorded) {
    EXPECT_EQ(rec.removed_at, 0) << path;
    EXPECT_EQ(testing::read_file((dav.path() / "base" / path).string()), original[path]) << path;
  }

  // The server back on the same port: the next run completes and only then deletes.
  server = serve_webdav(dav.path(), port);
  const testing::CliResult second = testing::booktape(
      "upload " + root.path().string() + " --remote \"" + remote + "\" --cleanup-after-verify --json");
  EXPECT_EQ(second.status, 0) << second.out;
  EXPECT_NE(second.out.find("\"verified_by\":\"download\""), std::string::npos) << second.out;
  for (const auto& [path, bytes] : original) {
    EXPECT_FALSE(fs::exists(root.path() / path)) << path;
    EXPECT_EQ(testing::read_file((dav.path() / "base" / path).string()), bytes) << path;
  }
  const auto after = read_upload_manifest(upload_manifest_path(root.path()));
  EXPECT_EQ(after.size(), files.size());
  for (const auto& [path, rec] : after) {
    EXPECT_EQ(rec.verified_by, "download");
    EXPECT_GT(rec.removed_at, 0) << path;
  }
  EXPECT_EQ(testing::booktape("verify --no-label " + root.path().string()).status, 0);
  server->signal(SIGTERM);
  server->wait(5s);
}

TEST(UploadCli, WithoutRcloneOnThePathItExitsTwoAndSaysWhatToInstall) {
  testing::TempDir root;
  write_root(root.path());
  // No rclone on the PATH (the binary is named by its full path; rclone is looked up).
  const testing::CliResult r = testing::shell(std::string("env PATH=/nonexistent ") +
                                                  BOOKTAPE_BINARY + " upload " +
                                                  root.path().string() + " --remote r:x 2>&1");
  const std::string& out = r.out;
  EXPECT_EQ(r.status, 2) << out;
  EXPECT_NE(out.find("apt-get install rclone"), std::string::npos) << out;
  EXPECT_NE(testing::booktape("upload --help").out.find("--cleanup-after-verify"), std::string::npos);
}

}  // namespace
}  // namespace booktape
