// booktape upload ROOT --remote REMOTE:PATH: offload a data root with rclone
// (docs/ARCHIVE_TOOLS.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "apps/commands.hpp"
#include "core/clock.hpp"
#include "io/archive/upload.hpp"
#include "io/archive/verify.hpp"

namespace booktape::apps {

namespace {

struct UploadArgs {
  std::string root;
  std::string remote;
  bool dry_run = false;
  bool cleanup = false;
  std::string bwlimit;
  int retries = 3;
  int low_level_retries = 10;
  bool json = false;
};

void say(std::string_view line) {
  std::fprintf(stderr, "%s booktape upload: %.*s\n", format_utc(realtime_now()).c_str(),
               static_cast<int>(line.size()), line.data());
}

int run_upload(const UploadArgs& a) {
  std::error_code ec;
  if (!std::filesystem::is_directory(a.root, ec) || !is_data_root(a.root)) {
    std::fprintf(stderr,
                 "booktape upload: %s is not a data root (no raw_orderbooks/ or manifests/ in it; "
                 "give the --out of booktape record)\n",
                 a.root.c_str());
    return 2;
  }
  UploadOptions o;
  o.root = a.root;
  o.remote = a.remote;
  o.dry_run = a.dry_run;
  o.cleanup_after_verify = a.cleanup;
  o.bwlimit = a.bwlimit;
  o.retries = a.retries;
  o.low_level_retries = a.low_level_retries;
  o.log = say;
  const UploadResult r = upload_archive(o);
  if (r.exit_code == 2) {
    std::fprintf(stderr, "booktape upload: %s\n", r.fatal.c_str());
    return 2;
  }
  if (a.json) {
    std::fputs(r.json().c_str(), stdout);
  } else {
    for (const UploadedFile& f : r.files) {
      if (f.status == UploadStatus::kAlreadyUploaded && !f.removed) continue;
      std::printf("%-16s %s%s%s\n", to_string(f.status), f.path.c_str(),
                  f.removed ? "  (removed locally)" : "",
                  f.why.empty() ? "" : ("  " + f.why).c_str());
    }
    for (const std::string& p : r.local_problems)
      std::printf("kept (local verify failed) %s\n", p.c_str());
    std::printf("%s: %llu verified (%s), %llu failed, %llu uploaded before, %llu removed locally%s\n",
                r.remote.c_str(), static_cast<unsigned long long>(r.count(UploadStatus::kVerified)),
                r.verified_by.c_str(), static_cast<unsigned long long>(r.count(UploadStatus::kFailed)),
                static_cast<unsigned long long>(r.count(UploadStatus::kAlreadyUploaded)),
                static_cast<unsigned long long>(r.removed()),
                a.dry_run ? " (dry run: nothing sent, written or removed)" : "");
  }
  return r.exit_code;
}

}  // namespace

Command add_upload_command(CLI::App& app) {
  auto args = std::make_shared<UploadArgs>();
  CLI::App* cmd = app.add_subcommand(
      "upload",
      "Offload a data root with rclone (any rclone remote: Google Drive, S3, SFTP, WebDAV, ...):\n"
      "closed data files and manifests only, each verified on the remote (a common hash, else a\n"
      "download), recorded in manifests/uploads.jsonl; a second run sends only what is missing.\n"
      "Exit 0 all verified; 1 a file failed; 2 rclone or the remote is not usable.");
  cmd->add_option("root", args->root, "The data root (the --out of booktape record)")->required();
  cmd->add_option("--remote", args->remote,
                  "REMOTE:PATH as rclone takes it, e.g. gdrive:booktape (`rclone config` makes "
                  "remotes; credentials stay in rclone's config)")
      ->required();
  cmd->add_flag("--dry-run", args->dry_run,
                "Show what would be uploaded (rclone --dry-run); write and delete nothing");
  cmd->add_flag("--cleanup-after-verify", args->cleanup,
                "Delete local data files whose upload was verified in this run and whose local "
                "verify passed (never .open files, never a file that failed verify)");
  cmd->add_option("--bwlimit", args->bwlimit, "rclone --bwlimit, e.g. 10M or \"08:00,512K 19:00,off\"");
  cmd->add_option("--retries", args->retries,
                  "rclone --retries (whole-run attempts); lower for a quick failure on a dead remote")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--low-level-retries", args->low_level_retries,
                  "rclone --low-level-retries (per request; rate limits need them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  return [args] { return run_upload(*args); };
}

}  // namespace booktape::apps
