#pragma once
// Manifest entries: one JSON line per closed archive file, appended to
// <manifest_dir>/<venue>_<stream>.manifest.jsonl and fsynced (docs/DATA_CONTRACT.md).
//
// The counting and the sealing live here, not in the writer, because two owners build entries:
// the archive writer as it appends and closes a file, and crash recovery (archive_recovery.hpp)
// as it reads an ".open" file back and seals it. One definition keeps a recovered entry exactly
// like a closed one.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "codecs/polymarket_classifier.hpp"
#include "codecs/polymarket_events.hpp"
#include "codecs/sha256.hpp"
#include "core/clock.hpp"

namespace booktape {

struct ManifestEntry {
  std::string path;            // relative to the archive root
  std::string sha256;          // of the closed file's bytes
  std::uint64_t bytes = 0;
  std::uint64_t rows = 0;      // JSONL lines (file + session + frame records)
  std::uint64_t frames = 0;    // frame records
  std::uint64_t records = 0;   // other data records (e.g. REST checkpoints)
  std::uint64_t members = 0;   // gzip members (blocks)
  UnixNanos first_received_ns = 0, last_received_ns = 0;
  std::uint64_t first_global_sequence = 0, last_global_sequence = 0;
  std::array<std::uint64_t, polymarket::kEventTypeCount> events_by_type{};
  std::array<std::uint64_t, polymarket::kFrameKindCount> frames_by_kind{};
  std::string run_id;
  std::uint64_t file_sequence = 0;
  UnixNanos closed_at = 0;
  // Set when the file was sealed by crash recovery instead of a normal close.
  bool recovered = false;
  std::uint64_t torn_tail_bytes = 0;  // bytes cut off the end (an incomplete gzip member)
  std::uint64_t torn_tail_rows = 0;   // rows that member claimed to hold, if its header survived
  // Rows that stand for frames the file does not hold (written only when not 0):
  std::uint64_t oversized_frames = 0;  // stubs of frames over max_frame_bytes (skipped unread)
  std::uint64_t loss_records = 0;      // loss records (loss_record.hpp)
  std::uint64_t frames_lost = 0;       // the frames those records count (null counts add 0)
};

std::string render_manifest_entry(const ManifestEntry& e);  // one line, ending in '\n'

// What one line of a file adds to its entry. Every line is a row; frames also count their times,
// sequences and classification; data records (REST checkpoints) their time `at`.
void count_frame(ManifestEntry& e, UnixNanos received_ns, std::uint64_t global_sequence,
                 const polymarket::Classification& c) noexcept;
void count_data_record(ManifestEntry& e, UnixNanos at) noexcept;
void count_other_row(ManifestEntry& e) noexcept;  // a file or session record
// A stub for a frame over max_frame_bytes: its times and sequences count like a frame's.
void count_oversized(ManifestEntry& e, UnixNanos received_ns, std::uint64_t global_sequence) noexcept;
void count_loss(ManifestEntry& e, std::uint64_t frames_lost) noexcept;  // a loss record
// What a block's lines added (counted into `block` as it filled) joins the file's entry once the
// block is written: counts add up, the first times and sequences stay, the last ones move on.
void merge_counts(ManifestEntry& file, const ManifestEntry& block) noexcept;
// Zeroes every count (a block's, once merged or dropped); path, run id and names stay.
void clear_counts(ManifestEntry& e) noexcept;

// A file's `path` in the manifest: relative to the data root, by name (lexically), so a root
// reached through symlinks (a data disk linked under --out) still gives "raw_orderbooks/...".
std::string manifest_path_of(const std::filesystem::path& file, const std::filesystem::path& root);

// Sealing a file: its manifest entry is appended (fsynced when `durable`) FIRST, then the file is
// cut back to the entry's `bytes` if it is longer (a torn tail) and renamed from its ".open" name
// (the rename and the directory fsynced when durable). A file therefore never has its final name
// without an entry; a crash between the two leaves the ".open" file with its entry already in
// the manifest, and recovery then only finishes the seal (finish_seal) instead of adding a
// second entry.
struct SealPaths {
  std::filesystem::path root;          // entry paths are relative to it
  std::filesystem::path open_path;     // the hidden ".open" name
  std::filesystem::path final_path;    // the closed name
  std::filesystem::path manifest_file;
};
struct SealOutcome {
  bool entry_written = false;
  bool sealed = false;   // renamed to the final name
  std::string error;     // what failed, if anything (the file then keeps its ".open" name)
};
// Fills in the entry's path, sha256, bytes and closed time, then seals. `fd` is the file, still
// open (the caller closes it); `digest` covers exactly its first `bytes` bytes.
SealOutcome seal_archive_file(int fd, const SealPaths& p, ManifestEntry& e,
                              const Sha256Digest& digest, std::uint64_t bytes,
                              UnixNanos closed_at, bool durable);
// The part after the manifest entry: cut to `bytes`, rename, fsync. Returns "" or what failed.
std::string finish_seal(int fd, const SealPaths& p, std::uint64_t bytes, bool durable);

// Appends `line` with O_APPEND (one write) and fsyncs when asked. Creates the directory.
// Returns an empty string on success, else what failed.
std::string append_line(const std::filesystem::path& file, const std::string& line, bool fsync);

}  // namespace booktape
