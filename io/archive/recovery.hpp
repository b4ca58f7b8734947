#pragma once
// Crash recovery at the recorder's start: every ".open" file a killed run left under the archive
// streams is sealed, before any new file is opened (docs/RELIABILITY.md).
//
// For each ".open" file: every complete gzip member is kept, the torn tail (a member the crash
// cut short) is cut off, the manifest gets an entry with "recovered": true and the torn tail's
// bytes and rows, and the file is renamed to its closed name. The entry is counted and sealed by
// the same code as a normal close (manifest.hpp). Files that are damaged rather than torn are
// left where they are, untouched, and reported; an empty file (the crash came before its first
// block) is removed, since it holds nothing. A file another live recorder holds (its lock,
// archive_writer.cpp) is left alone.
//
// The torn tail is not kept anywhere: its write never returned, so none of its frames were
// acknowledged as written, and a cut deflate stream cannot be checked against its CRC. What it
// held is counted (torn_tail_rows, from the member's header when that survived).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/archive/manifest.hpp"

namespace booktape {

struct RecoveryOptions {
  std::filesystem::path root;          // the data root (--out)
  std::filesystem::path manifest_dir;  // default: <root>/manifests
  std::string venue = "polymarket";
  std::vector<std::string> streams = {"ws_raw", "rest_checkpoints"};
  bool durable = true;                 // fsync entries, truncations and renames (fsync != none)
  // The classifier's limit for the recounted frames: the archive stage's (max_frame_bytes).
  std::size_t max_frame_bytes = std::size_t{16} << 20;
};

struct RecoveryResult {
  std::uint64_t open_files = 0;        // ".open" files found
  std::uint64_t files_recovered = 0;   // sealed with a new "recovered" manifest entry
  std::uint64_t seals_completed = 0;   // already had their entry (a crash mid-seal): renamed only
  std::uint64_t empty_removed = 0;     // zero bytes: removed
  std::uint64_t in_use = 0;            // locked by a live writer: left alone
  std::uint64_t corrupt = 0;           // damaged, not just torn: left in place (alarm)
  std::uint64_t failed = 0;            // could not be sealed (I/O error): left in place (alarm)
  std::uint64_t frames = 0;            // frames in the files recovered
  std::uint64_t records = 0;           // data records (REST checkpoints) in them
  std::uint64_t rows = 0;              // all their lines
  std::uint64_t torn_tail_bytes = 0;   // bytes cut off
  std::uint64_t torn_tail_rows = 0;    // rows the torn members' headers said they held
  std::vector<ManifestEntry> entries;  // the entries written, in the order sealed
  std::vector<std::string> problems;   // one line per corrupt or failed file: path and why

  [[nodiscard]] bool alarm() const noexcept { return corrupt + failed > 0; }
};

// Seals every ".open" file under <root>/raw_orderbooks/<venue>/<stream>/ for the streams asked.
// Never throws for a bad file (it is counted and described in `problems`).
RecoveryResult recover_open_files(const RecoveryOptions& o);

}  // namespace booktape
