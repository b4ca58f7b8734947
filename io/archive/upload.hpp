#pragma once
// `booktape upload`: offloads a data root with rclone (docs/ARCHIVE_TOOLS.md).
//
// rclone runs as a child process with an explicit argv, so every rclone backend works (Google
// Drive, S3, R2, SFTP, WebDAV, a local folder) and its config and credentials stay in rclone's
// own config file: we never read, log or store them, and a connection-string remote
// (":s3,secret_access_key=...:bucket") has its parameter values masked wherever we print it.
//
// One run: check rclone and the remote; verify the local files it will touch (verify.hpp);
// `rclone copy` the closed data files that have no verified upload yet (never ".open" or hidden
// files); `rclone check` each one against the remote (by a hash both sides have, else by
// downloading it); append a line to manifests/uploads.jsonl for each one verified; with
// cleanup, delete the local files whose upload was verified in this run AND whose local verify
// passed; finally copy the manifests. A second run uploads only what is missing.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace booktape {

struct UploadOptions {
  std::filesystem::path root;
  std::string remote;           // REMOTE:PATH as rclone takes it
  bool dry_run = false;         // rclone --dry-run; nothing is written or deleted
  bool cleanup_after_verify = false;
  std::string bwlimit;          // passed to rclone --bwlimit ("" = none)
  // rclone's --retries and --low-level-retries (its defaults). Against a dead remote they take
  // minutes (rclone paces every retry); lower them for a quick failure: the next run retries
  // whatever was not verified.
  int retries = 3;
  int low_level_retries = 10;
  std::string rclone = "rclone";  // the program (looked up on PATH)
  // Progress and rclone's error lines (verbatim), one line each.
  std::function<void(std::string_view)> log;
};

enum class UploadStatus : std::uint8_t {
  kVerified,        // uploaded (now or before) and verified on the remote in this run
  kFailed,          // rclone did not copy it, or the remote copy does not match
  kAlreadyUploaded, // a verified upload of these bytes is in the upload manifest: not sent again
  kWouldUpload,     // --dry-run
};
const char* to_string(UploadStatus s) noexcept;

struct UploadedFile {
  std::string path;  // relative to the root
  std::string sha256;
  std::uint64_t bytes = 0;
  UploadStatus status = UploadStatus::kFailed;
  bool local_verified = false;  // the local file matched its manifest entry
  bool removed = false;         // deleted locally (--cleanup-after-verify)
  std::string why;              // for kFailed
};

struct UploadResult {
  int exit_code = 0;     // 0 everything verified; 1 some file failed; 2 rclone or the remote unusable
  std::string fatal;     // why exit 2: what to install or configure
  std::string remote;    // as printed (connection-string values masked)
  std::string verified_by;  // "md5" (a hash both sides have) or "download"
  std::vector<UploadedFile> files;
  std::vector<std::string> rclone_errors;  // rclone's own error lines, verbatim
  std::vector<std::string> local_problems;  // files whose local verify failed (uploaded, kept)
  bool manifests_uploaded = false;
  [[nodiscard]] std::uint64_t count(UploadStatus s) const noexcept;
  [[nodiscard]] std::uint64_t removed() const noexcept;
  [[nodiscard]] std::string json() const;
};

UploadResult upload_archive(const UploadOptions& o);

// A remote as it may be printed: the values of a connection string's parameters masked
// (":s3,access_key_id=AK,secret_access_key=SK:bucket" -> ":s3,access_key_id=***,secret_access_key=***:bucket").
std::string redact_remote(std::string_view remote);

}  // namespace booktape
