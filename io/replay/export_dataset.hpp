#pragma once
// `booktape export`: normalized datasets derived from the raw archive, in Tardis.dev's CSV
// layouts (docs/ORDERBOOK_SCHEMA.md). The raw archive stays the source of truth; this is a view.
//
// The archive is replayed with the replayer's own decoder and books (so what the CSV says is
// what `booktape replay` builds), and each event is watched as it is applied:
// - incremental_book_L2: every level the book actually changed (a change applied to a live
//   book; a change the book suppressed while stale is not a row), and every accepted `book`
//   snapshot as is_snapshot=true rows. Books cleared without a snapshot (a new tick size, a
//   rejected snapshot) become amount-0 rows. Each daily file starts with the books as they are
//   (is_snapshot rows), so a file stands alone;
// - book_snapshot_<depth>: the top <depth> levels of each book that changed, sampled at every
//   multiple of the interval (receive time; the state after every frame received at or before
//   it, as `replay --at` has it), or on every change with interval 0;
// - trades: every last_trade_price; quotes: the best bid and ask with their sizes, whenever
//   either changes.
// One file per kind per UTC day (by receive time), gzip CSV, and export_manifest.json.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace booktape {

enum class ExportKind : std::uint8_t { kIncrementalBookL2, kBookSnapshot, kTrades, kQuotes };
// "incremental_book_L2", "book_snapshot" (the file name adds the depth), "trades", "quotes".
const char* to_string(ExportKind k) noexcept;
bool parse_export_kind(std::string_view s, ExportKind& out) noexcept;

struct ExportOptions {
  std::vector<std::filesystem::path> inputs;  // data roots or archive files
  std::filesystem::path out;
  std::vector<ExportKind> kinds = {ExportKind::kIncrementalBookL2, ExportKind::kBookSnapshot,
                                   ExportKind::kTrades, ExportKind::kQuotes};
  std::int64_t interval_ns = 1'000'000'000;  // book_snapshot sampling; 0: on every change
  int depth = 25;                            // book_snapshot levels per side
  std::optional<UnixNanos> from, to;         // receive time range, inclusive
  std::vector<std::string> assets;           // only these token ids (empty: all)
  // About once a second: frames replayed so far.
  std::function<void(std::uint64_t frames, const std::filesystem::path& file)> progress;
};

struct ExportedFile {
  std::string kind;  // "incremental_book_L2", "book_snapshot_25", ...
  std::string date;  // YYYY-MM-DD (UTC, receive time)
  std::string name;  // file name under `out`
  std::uint64_t rows = 0, bytes = 0, csv_bytes = 0;
  std::string sha256;
  std::int64_t first_local_us = 0, last_local_us = 0;
};

struct ExportResult {
  std::vector<ExportedFile> files;
  std::uint64_t frames = 0;            // frames replayed (all, for the books)
  std::uint64_t frames_in_range = 0;   // of those, inside --from/--to
  std::uint64_t frames_without_envelope = 0;  // plain frame files: no receive time, not exported
  std::uint64_t damaged_files = 0;     // inputs that do not match their manifest (replay's check)
  std::uint64_t sequence_gaps = 0;
  std::vector<std::string> input_errors;
  std::string note;                    // e.g. why the dataset is empty
  double elapsed_seconds = 0;
  std::string manifest_json;           // what export_manifest.json holds
};

// Throws std::runtime_error when the output cannot be written.
ExportResult run_export(const ExportOptions& o);

inline constexpr std::string_view kExportManifestName = "export_manifest.json";

}  // namespace booktape
