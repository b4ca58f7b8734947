#pragma once
// Reading manifests back: the entries of a <venue>_<stream>.manifest.jsonl by path, and the
// labels `booktape verify` appends to it (docs/DATA_CONTRACT.md, "Labels").
//
// A manifest is append-only: a file sealed twice (recovery finishing a seal whose first entry
// described other bytes) has two entries and the later one is the file's; a label says what a
// later check found, and the latest label for a path is its current one. Lines that do not
// parse (an append a crash cut short) are counted and skipped, never fatal.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/archive/manifest.hpp"

namespace booktape {

// What `booktape verify` found about a listed file. `label` is "invalid" (the file does not match
// its entry or cannot be read whole; the reason says how) or "valid" (verified again after an
// "invalid" label, e.g. restored from a copy).
struct ManifestLabel {
  std::string path;
  std::string label;
  std::string reason;
  UnixNanos labelled_at = 0;
  std::string by;  // the writer, "booktape 0.1.0"
};

// One manifest line as an entry; false for a line that is not a manifest_entry.
bool parse_manifest_entry(std::string_view line, ManifestEntry& out);
std::string render_manifest_label(const ManifestLabel& l);  // one line, ending in '\n'

class ManifestIndex {
 public:
  // Reads `file`; a missing file gives an empty index (loaded() false).
  static ManifestIndex load(const std::filesystem::path& file);

  [[nodiscard]] const ManifestEntry* find(std::string_view path) const;
  [[nodiscard]] const ManifestLabel* label(std::string_view path) const;
  // The current entry of every listed path, in the order their last entries were appended.
  [[nodiscard]] std::vector<const ManifestEntry*> entries() const;
  [[nodiscard]] bool loaded() const noexcept { return loaded_; }
  [[nodiscard]] std::uint64_t bad_lines() const noexcept { return bad_lines_; }
  [[nodiscard]] std::uint64_t file_bytes() const noexcept { return file_bytes_; }

 private:
  std::vector<ManifestEntry> all_;                  // every entry line, in file order
  std::unordered_map<std::string, std::size_t> by_path_;  // -> the last entry for the path
  std::unordered_map<std::string, ManifestLabel> labels_;
  std::uint64_t bad_lines_ = 0;
  std::uint64_t file_bytes_ = 0;
  bool loaded_ = false;
};

// Where a closed archive file's data root and manifest are, from its path:
// <root>/raw_orderbooks/<venue>/<stream>/date=.../hour=.../<name>. nullopt for other paths.
struct ArchiveLocation {
  std::filesystem::path root;
  std::string venue, stream;
  std::string manifest_path;  // the file's `path` in the manifest (relative to root)
};
std::optional<ArchiveLocation> locate_archive_file(const std::filesystem::path& file);

}  // namespace booktape
