#pragma once
// Reads archives back: booktape files (closed, or ".open" ones left by a crash: every complete
// gzip member is recovered and the torn tail reported) and plain frame files written by other
// recorders (.jsonl or .jsonl.gz, one websocket text frame per line).
//
// A closed file is not trusted: in a data root it is checked against its manifest entry
// (bytes, rows, members, sha256), and a closed file cut short is damaged, never a "torn tail"
// (only a crash's ".open" file can be torn). A damaged gzip member is skipped: the reader looks
// for the next valid booktape member header (its BT subfield gives the length), reads on, and
// reports the span it could not read.
//
// The format is told from the first line, not the name: a booktape file starts with a
// {"record":"file",...} line. Payloads are handed out with kPadding readable bytes after them
// so the decoder parses them in place.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/envelope.hpp"
#include "core/clock.hpp"

namespace booktape {

enum class FileFormat : std::uint8_t { kUnknown, kBooktape, kPlainFrames };
const char* to_string(FileFormat f) noexcept;

struct ArchiveFrame {
  const char* data = nullptr;  // payload bytes, exactly as received
  std::size_t size = 0;
  std::size_t readable = 0;    // >= size + 64
  bool has_envelope = false;   // false for plain frame files: the fields below are unknown (0)
  UnixNanos received_ns = 0;
  MonoNanos monotonic_ns = 0;
  std::uint64_t connection_sequence = 0;
  std::uint64_t message_sequence = 0;
  std::uint64_t global_sequence = 0;
  std::string_view session_id;
  std::string_view run_id;     // from the file record
  Opcode opcode = Opcode::kText;
  [[nodiscard]] std::string_view payload() const noexcept { return {data, size}; }
};

// Bytes of a booktape file that could not be read: a member that failed its checks, with
// whatever follows it up to the next valid member header (or the end of the file).
struct CorruptSpan {
  std::uint64_t offset = 0;  // from the start of the file
  std::uint64_t bytes = 0;
  std::uint64_t rows = 0;    // rows the damaged member's header says it held (0: unknown)
  std::string reason;
};

// How a file compares with its manifest entry (closed booktape files under a data root).
enum class ManifestCheck : std::uint8_t {
  kNotChecked,  // an ".open" file, a file outside a data root, or checking was off
  kNotListed,   // in a data root, but its manifest has no entry for it
  kMatches,     // bytes, sha256, rows and members as the entry says
  kMismatch,    // damaged: see manifest_problem
};
const char* to_string(ManifestCheck c) noexcept;

// What reading one file found.
struct FileReport {
  std::filesystem::path path;
  FileFormat format = FileFormat::kUnknown;
  bool gzip = false;
  bool booktape_members = false;  // gzip members carrying our BT subfield
  bool open_file = false;         // a ".open" file: the writer did not close it
  std::uint64_t bytes = 0;
  std::uint64_t raw_bytes = 0;   // decompressed bytes read (the JSONL); for compression ratios
  std::uint64_t members = 0;
  std::uint64_t lines = 0;
  std::uint64_t frames = 0;
  std::uint64_t records = 0;           // file/session records
  std::uint64_t bad_lines = 0;         // lines that are not a readable record
  std::uint64_t length_mismatches = 0; // payload_length_bytes disagrees with the payload
  std::uint64_t sha_mismatches = 0;    // payload_sha256 disagrees (only with verify_sha256)
  // ".open" files only: bytes after the last complete gzip member (a crash cut it short).
  std::uint64_t torn_tail_bytes = 0;
  std::uint64_t torn_tail_rows = 0;    // rows the torn member's header says it held (0: unknown)
  bool corrupt = false;                // damaged data was skipped (corrupt_spans), not just torn
  bool unreadable = false;             // could not be opened or read at all
  std::string error;                   // what went wrong, if anything
  std::string run_id;
  std::vector<CorruptSpan> corrupt_spans;  // in file order
  std::uint64_t corrupt_bytes = 0;         // their total
  std::uint64_t corrupt_rows = 0;          // rows their headers said they held (a lower bound)
  // Closed files only: bytes of a last member the file's end cuts off (also its last corrupt
  // span; in an ".open" file the same bytes are the torn tail).
  std::uint64_t cut_short_bytes = 0;
  // Against the manifest entry (see ManifestCheck); the entry's numbers when there is one.
  ManifestCheck manifest = ManifestCheck::kNotChecked;
  std::uint64_t manifest_bytes = 0;
  std::uint64_t manifest_rows = 0;
  std::uint64_t manifest_members = 0;
  std::string manifest_sha256;
  std::uint64_t missing_rows = 0;          // rows the entry lists that could not be read
  std::string manifest_problem;            // why kMismatch: each difference, "; "-separated
  // Damaged: corrupt bytes, or a closed file that does not match its manifest entry.
  [[nodiscard]] bool damaged() const noexcept {
    return corrupt || manifest == ManifestCheck::kMismatch;
  }
};

class ArchiveVisitor {
 public:
  virtual ~ArchiveVisitor() = default;
  // Return false to stop reading (the current file's report is still completed).
  virtual bool on_frame(const ArchiveFrame& f) = 0;
  // A file or session record, as its raw JSON line.
  virtual void on_record(std::string_view /*line*/) {}
};

class ArchiveReader {
 public:
  static constexpr std::size_t kPadding = 64;

  struct Options {
    bool verify_sha256 = false;  // recompute every payload's sha256 (slower)
    // Check closed files under a data root against <root>/manifests (ManifestCheck).
    bool check_manifest = true;
  };

  ArchiveReader();
  explicit ArchiveReader(const Options& options);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // Reads one file; returns false if the visitor asked to stop.
  bool read_file(const std::filesystem::path& path, ArchiveVisitor& visitor, FileReport& report);

  // Expands files and directories (recursively) into the files to read, each once: booktape
  // archive files first, by run id (chronological) then file sequence, whatever order they were
  // given in (".open" files sort as their closed name); then plain frame files in the order
  // given (a directory's by path). Manifests, hidden files and a data root's discovery/ folder
  // are skipped. Missing paths are reported in `errors`.
  static std::vector<std::filesystem::path> expand(const std::vector<std::filesystem::path>& in,
                                                   std::vector<std::string>& errors);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
