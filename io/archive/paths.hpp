#pragma once
// Where archive files live and what they are called (docs/DATA_CONTRACT.md):
//   <root>/raw_orderbooks/<venue>/<stream>/date=YYYY-MM-DD/hour=HH/
//       <venue>_<stream>_YYYYMMDDTHHZ_<run_id>_<seq:06>.jsonl.gz        (closed)
//       .<venue>_<stream>_YYYYMMDDTHHZ_<run_id>_<seq:06>.jsonl.gz.open  (being written)
//   <root>/manifests/<venue>_<stream>.manifest.jsonl
// Run ids start with their UTC start time, so names sort chronologically within an hour.
// Also the small file-system helpers every writer of the data root shares: private
// directories, durable directory entries, files replaced atomically.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace booktape {

inline constexpr std::string_view kOpenSuffix = ".open";

std::filesystem::path archive_stream_dir(const std::filesystem::path& root, std::string_view venue,
                                         std::string_view stream);
std::filesystem::path archive_hour_dir(const std::filesystem::path& root, std::string_view venue,
                                       std::string_view stream, UnixNanos hour_start);
std::string archive_file_name(std::string_view venue, std::string_view stream,
                              UnixNanos hour_start, std::string_view run_id,
                              std::uint64_t sequence);
// What a closed archive file name says (archive_file_name's parts); nullopt for other names.
struct ArchiveName {
  std::string venue_stream;  // "<venue>_<stream>"
  std::string run_id;
  std::uint64_t sequence = 0;
};
std::optional<ArchiveName> parse_archive_file_name(std::string_view closed_name);
std::filesystem::path manifest_path(const std::filesystem::path& manifest_dir,
                                    std::string_view venue, std::string_view stream);

// "." + name + ".open" <-> name
std::string open_name(std::string_view closed_name);
bool is_open_name(std::string_view name) noexcept;
std::string closed_name_of(std::string_view open_name);

// mkdir -p creating missing directories as 0750 (owner and group read; others nothing).
// Throws std::runtime_error naming the directory that could not be made.
void make_private_dirs(const std::filesystem::path& dir);

// fsync a directory, so the renames and creations in it are durable (errors ignored: best effort).
void fsync_dir(const std::filesystem::path& dir) noexcept;

// Writes `data` to a mkostemp file in `dir` (created 0600, set to `mode` before any byte is
// written, so a key is never readable by others even for an instant), fsyncs it and renames it
// to `name`: a reader sees the old file or the whole new one, and a crash leaves at most a
// dot-named temporary behind. The default mode is the archive's (owner writes, group reads).
// Throws std::runtime_error saying what failed.
void write_file_atomically(const std::filesystem::path& dir, const std::string& name,
                           std::string_view data, mode_t mode = 0640);

// "20261121T053412Z-1a2b3c4d": the start time plus 32 random bits.
std::string make_run_id(UnixNanos now);

}  // namespace booktape
