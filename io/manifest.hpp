#pragma once
// Manifest entries: one JSON line per closed archive file, appended to
// <manifest_dir>/<venue>_<stream>.manifest.jsonl and fsynced (docs/DATA_CONTRACT.md).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "codecs/polymarket_events.hpp"
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
};

std::string render_manifest_entry(const ManifestEntry& e);  // one line, ending in '\n'

// Appends `line` with O_APPEND (one write) and fsyncs when asked. Creates the directory.
// Returns an empty string on success, else what failed.
std::string append_line(const std::filesystem::path& file, const std::string& line, bool fsync);

}  // namespace booktape
