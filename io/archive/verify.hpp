#pragma once
// `booktape verify`: an archive checked against its manifests (docs/ARCHIVE_TOOLS.md).
//
// For every data root: each closed file is read whole (every gzip member's CRC, every payload's
// sha256) and compared with its manifest entry (sha256, bytes, rows, members); the frames'
// global sequence numbers must run on without a gap within each file and across the files of a
// run, except where a loss record (written by the recorder) names the frames as lost; ".open"
// files, files no manifest lists and listed files that are gone are reported. A file that fails
// is labelled invalid in its manifest (an appended `manifest_label` line: the manifest stays
// append-only and nothing is deleted); one that passes again after such a label is labelled valid.
//
// A bad file is never fatal to the others: each is reported with what is wrong and the rest are
// checked as usual.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/archive/loss_record.hpp"
#include "io/archive/manifest.hpp"
#include "io/archive/reader.hpp"

namespace booktape {


enum class FileVerdict : std::uint8_t {
  kOk,          // matches its manifest entry; every check passed
  kInvalid,     // listed, present, and does not match or cannot be read whole
  kMissing,     // listed, not at its path, and no verified upload says where it went
  kOffloaded,   // listed, removed locally after a verified upload (the upload manifest says so)
  kUnlisted,    // a closed archive file no manifest lists
  kOpenInUse,   // an ".open" file a live recorder holds
  kOpenLeft,    // an ".open" file nobody holds: a crash left it; the recorder's next start seals it
  kForeign,     // not a booktape archive file (another tool's file, a temporary): reported only
};
const char* to_string(FileVerdict v) noexcept;
// Whether a verdict fails the verification (exit 1).
bool fails(FileVerdict v) noexcept;

struct VerifiedFile {
  std::string path;    // relative to the data root
  std::string stream;  // "ws_raw", ... ("" if unknown)
  FileVerdict verdict = FileVerdict::kOk;
  std::vector<std::string> problems;  // what is wrong, one sentence each
  FileReport report;                  // what reading it found (not for missing/offloaded files)
  std::optional<ManifestEntry> entry;
  std::string label_written;          // "invalid"/"valid" if this run appended a label
};

// A run of global sequence numbers that no file holds.
struct SequenceGap {
  std::string run_id;
  std::uint64_t first = 0, last = 0;  // the missing sequences, inclusive
  std::string where;                  // "before <file>", "between <a> and <b>", "inside <file>"
  bool recorded_loss = false;         // covered by loss records: lost, said so, not unexplained
  std::string loss_reason;            // their reasons, if recorded
  bool in_damaged_file = false;       // inside a file that is invalid (already failing)
};

struct RunSummary {
  std::string run_id;
  std::uint64_t files = 0;
  std::uint64_t frames = 0;
  std::uint64_t first_sequence = 0, last_sequence = 0;
  std::uint64_t lost_recorded = 0;     // frames in gaps that loss records cover
  std::uint64_t missing_unexplained = 0;
  std::uint64_t loss_records = 0;
  std::uint64_t crash_records = 0;     // loss records whose end is unknown (a crash's tail)
};

struct RootVerification {
  std::filesystem::path root;
  std::vector<VerifiedFile> files;
  std::vector<SequenceGap> gaps;
  std::vector<RunSummary> runs;
  std::vector<LossRecord> losses;
  std::vector<std::string> errors;  // the root itself: cannot list, no manifests, labels not written
  std::uint64_t manifest_bad_lines = 0;
};

struct VerifyOptions {
  bool label = true;             // append manifest_label lines (off: a read-only check)
  bool verify_payloads = true;   // recompute every payload's sha256
  // When set, only the files (paths relative to the root) it accepts are read and reported:
  // `upload` checks only what it will upload or remove. Sequences are then partial.
  std::function<bool(const std::string& path)> select;
  // About once a second: files and frames done so far, the file being read.
  std::function<void(std::uint64_t files, std::uint64_t frames, const std::string& file)> progress;
};

struct VerifyResult {
  std::vector<RootVerification> roots;
  [[nodiscard]] bool ok() const noexcept;  // nothing fails
  [[nodiscard]] std::uint64_t count(FileVerdict v) const noexcept;
  [[nodiscard]] std::uint64_t unexplained_gaps() const noexcept;
  [[nodiscard]] std::string json() const;  // the report (docs/ARCHIVE_TOOLS.md)
};

// Whether `dir` looks like a data root (has raw_orderbooks/ or manifests/).
bool is_data_root(const std::filesystem::path& dir);

RootVerification verify_root(const std::filesystem::path& root, const VerifyOptions& o);
VerifyResult verify_archive(const std::vector<std::filesystem::path>& roots,
                            const VerifyOptions& o);

}  // namespace booktape
