#pragma once
// The families of one Prometheus scrape, built from counters read at that moment and written
// in the text exposition format (version 0.0.4) by prometheus-cpp (Debian's
// prometheus-cpp-dev: its MetricFamily model and TextSerializer).
//
// Why not prometheus-cpp's Registry and Counter objects: their counters are atomics the
// instrumented code increments, which would put a second increment (a compare-and-swap loop on
// a double) beside every counter our stages already keep. Instead nothing on the hot path
// changes: a scrape reads the stages' own relaxed atomics and turns them into families here
// (the "custom collector" pattern). Adding a family is two lines:
//
//   m.counter("booktape_redis_published_total", "Books published to Redis")
//       .sample(stats.published.load());
//   m.gauge("booktape_books", "Books by sync state")
//       .sample(live, {{"state", "live"}})
//       .sample(stale, {{"state", "stale"}});
//
// Names follow Prometheus conventions (docs/OPERATIONS.md): `booktape_` prefix, base units in
// the name (`_seconds`, `_bytes`), `_total` on counters. Never a token id as a label (its
// cardinality is the venue's whole market list).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/latency_histogram.hpp"

namespace prometheus {
struct MetricFamily;
}

namespace booktape {

class MetricFamilies {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  MetricFamilies();
  ~MetricFamilies();
  MetricFamilies(const MetricFamilies&) = delete;
  MetricFamilies& operator=(const MetricFamilies&) = delete;

  // Starts a family; sample() adds to the family started last.
  MetricFamilies& counter(std::string name, std::string help);
  MetricFamilies& gauge(std::string name, std::string help);
  MetricFamilies& sample(double value, Labels labels = {});

  // A latency histogram in seconds: the recorder's log-linear buckets summed into Prometheus
  // buckets at two edges per power of two, 2^k - 1 ns and 1.5 * 2^k - 1 ns, from 255 ns to
  // ~34 s. Each edge is an exact bucket edge of ours, so every `le` count is exact, not
  // interpolated.
  MetricFamilies& histogram_seconds(std::string name, std::string help, const LatencyHistogram& h);

  // The process families every Prometheus client exports, from /proc/self:
  // process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
  // process_open_fds, process_max_fds, process_start_time_seconds.
  MetricFamilies& process();

  // The text exposition format.
  [[nodiscard]] std::string text() const;
  [[nodiscard]] const std::vector<prometheus::MetricFamily>& families() const noexcept;

  // Content-Type of text().
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::unique_ptr<std::vector<prometheus::MetricFamily>> families_;
};

// The Prometheus histogram edges histogram_seconds() uses, in ns (for tests and docs).
std::vector<std::uint64_t> histogram_edges_ns();

}  // namespace booktape
