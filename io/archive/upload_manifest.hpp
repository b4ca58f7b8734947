#pragma once
// The upload manifest, <root>/manifests/uploads.jsonl: one line per archive file whose upload
// was verified, and one when its local copy was removed (docs/ARCHIVE_TOOLS.md). Append-only,
// like the archive's manifests. `booktape upload` writes it; `verify` reads it to tell a file
// that was offloaded from one that went missing, and the soak report shows it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/clock.hpp"

namespace booktape {

inline constexpr std::string_view kUploadManifestName = "uploads.jsonl";

struct UploadRecord {
  std::string path;         // relative to the data root, as in the archive's manifest
  std::string sha256;       // of the local file that was uploaded
  std::uint64_t bytes = 0;
  std::string remote;       // "remote:base/path" as given to rclone
  std::string remote_path;  // the file's full rclone path
  std::string verified_by;  // "md5", "sha1", ... (the remote's hash) or "download"
  UnixNanos verified_at = 0;
  UnixNanos removed_at = 0;  // when the local copy was deleted (--cleanup-after-verify); 0: kept
};

std::string render_upload_line(const UploadRecord& r);   // a verified upload
std::string render_removal_line(const UploadRecord& r);  // its local copy removed

// The latest record per path (a removal line completes the upload it follows). Lines that do not
// parse are skipped.
std::map<std::string, UploadRecord> read_upload_manifest(const std::filesystem::path& file);

inline std::filesystem::path upload_manifest_path(const std::filesystem::path& root) {
  return root / "manifests" / std::string(kUploadManifestName);
}

}  // namespace booktape
