#pragma once
// `booktape report`: seed 002's soak report (checkpoint 8) for a data root, as markdown, JSON and
// SVG plots (docs/ARCHIVE_TOOLS.md). Everything comes from what the recorder left on disk: the
// websocket archive (replayed with replay's own books, for frames, connections, losses and data
// quality), the REST checkpoint archive (API errors, rate limits), the manifests (file sizes),
// `verify` (damaged files, sequence gaps, losses), the upload manifest and the file system.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codecs/polymarket_events.hpp"
#include "core/clock.hpp"
#include "io/archive/connections.hpp"

namespace booktape {

struct SoakReportOptions {
  std::filesystem::path root;
  std::optional<UnixNanos> since;  // count only what happened from then on (books still need all)
  std::function<void(std::uint64_t frames, const std::filesystem::path& file)> progress;
};

struct StreamFiles {
  std::uint64_t files = 0, bytes = 0, min_bytes = 0, median_bytes = 0, max_bytes = 0;
  std::uint64_t recovered = 0;  // sealed by crash recovery
};

struct SoakReport {
  std::filesystem::path root;
  std::optional<UnixNanos> since;
  UnixNanos generated_at = 0;
  UnixNanos from = 0, to = 0;  // first and last thing that happened (in range)
  // Uptime: time some connection was open, over the period.
  std::int64_t covered_ns = 0;
  std::vector<TimeInterval> downtime;  // no connection open
  // Markets.
  std::uint64_t assets = 0, markets = 0;
  std::vector<std::string> market_slugs;
  // Frames.
  std::uint64_t frames = 0;
  std::array<std::uint64_t, polymarket::kEventTypeCount> events_by_type{};
  std::array<std::uint64_t, polymarket::kFrameKindCount> frames_by_kind{};
  // Connections and restarts.
  std::uint64_t runs = 0, connections = 0, connection_losses = 0, crashes = 0;
  std::map<std::string, std::uint64_t> close_reasons;  // non-graceful ones
  std::int64_t missed_ns = 0;  // time inside the period with no connection open
  // REST checkpoints (the venue's API).
  std::uint64_t rest_requests = 0, rest_ok = 0, rest_rate_limited = 0, rest_http_errors = 0,
                rest_transport_errors = 0;
  std::map<std::string, std::uint64_t> rest_by_status;  // "200", "429", "error: timeout", ...
  // Files.
  StreamFiles ws_files, rest_files;
  std::uint64_t raw_bytes = 0, compressed_bytes = 0;  // websocket archive, read back
  // Disk.
  std::uint64_t disk_bytes = 0;  // everything under the root
  std::uint64_t fs_capacity = 0, fs_available = 0;
  // Upload.
  std::uint64_t uploaded_files = 0, uploaded_bytes = 0, removed_local = 0, not_uploaded = 0;
  UnixNanos last_upload = 0;
  // Data quality.
  std::uint64_t checks = 0, divergences = 0, crossed_events = 0, crossed_books_at_end = 0;
  std::uint64_t epochs = 0,
                unconfirmed_epochs = 0;  // book epochs (snapshot to snapshot) never checked
  std::uint64_t stale_books_at_end = 0, books = 0;
  std::uint64_t parse_errors = 0, unknown_events = 0;
  std::uint64_t sequence_gaps = 0, frames_missing = 0, unexplained_gaps = 0;
  std::uint64_t loss_records = 0, frames_lost = 0, crash_records = 0;
  std::uint64_t invalid_files = 0, missing_files = 0, open_files = 0;
  // Time series (UTC), bucketed.
  std::int64_t bucket_ns = 0;
  std::vector<std::pair<UnixNanos, double>> frames_per_second;
  std::vector<std::pair<UnixNanos, double>> reconnects;  // connection losses + restarts per bucket
  std::vector<std::pair<UnixNanos, double>> archive_bytes;  // cumulative closed-file bytes
  std::vector<std::string> findings;                        // what needs a look, one sentence each

  [[nodiscard]] std::string json() const;
  // `plots` are the SVG file names, linked from the markdown.
  [[nodiscard]] std::string markdown(const std::array<std::string, 3>& plots) const;
  [[nodiscard]] std::array<std::string, 3> svgs() const;  // frames/s, reconnects, disk use
};

SoakReport build_soak_report(const SoakReportOptions& o);

// Writes soak_test_<date>.md, .json and _frames.svg, _reconnects.svg, _disk.svg into `dir`
// (the date of the report's first day, UTC); returns the markdown's path.
std::filesystem::path write_soak_report(const SoakReport& r, const std::filesystem::path& dir);

}  // namespace booktape
