#include "io/net/metrics_exposition.hpp"

#include <prometheus/check_names.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cassert>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace booktape {

namespace {

// The smallest and largest edges: below 255 ns nothing on this path happens; above ~34 s a
// frame is not late but lost, and +Inf says so.
constexpr std::uint64_t kFirstEdgeNs = 255;
constexpr std::uint64_t kLastEdgeNs = std::uint64_t{1} << 35;

prometheus::ClientMetric& new_metric(std::vector<prometheus::MetricFamily>& f,
                                     const MetricFamilies::Labels& labels) {
  assert(!f.empty() && "sample() before counter() or gauge()");
  prometheus::ClientMetric& m = f.back().metric.emplace_back();
  for (const auto& [k, v] : labels) {
    assert(prometheus::CheckLabelName(k) && "a label name Prometheus accepts");
    m.label.push_back({k, v});
  }
  return m;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::vector<std::uint64_t> histogram_edges_ns() {
  std::vector<std::uint64_t> edges;
  for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
    const std::uint64_t upper = LatencyHistogram::bucket_upper(b);
    if (upper < kFirstEdgeNs) continue;
    if (upper > kLastEdgeNs) break;
    const std::size_t sub = b & ((1u << LatencyHistogram::kSubBits) - 1);
    if (sub == 7 || sub == 15) edges.push_back(upper);  // 1.5 * 2^k - 1 and 2^k - 1
  }
  return edges;
}

MetricFamilies::MetricFamilies()
    : families_(std::make_unique<std::vector<prometheus::MetricFamily>>()) {}
MetricFamilies::~MetricFamilies() = default;

MetricFamilies& MetricFamilies::counter(std::string name, std::string help) {
  assert(prometheus::CheckMetricName(name) && "a metric name Prometheus accepts");
  families_->push_back({std::move(name), std::move(help), prometheus::MetricType::Counter, {}});
  return *this;
}

MetricFamilies& MetricFamilies::gauge(std::string name, std::string help) {
  assert(prometheus::CheckMetricName(name) && "a metric name Prometheus accepts");
  families_->push_back({std::move(name), std::move(help), prometheus::MetricType::Gauge, {}});
  return *this;
}

MetricFamilies& MetricFamilies::sample(double value, Labels labels) {
  prometheus::ClientMetric& m = new_metric(*families_, labels);
  if (families_->back().type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return *this;
}

MetricFamilies& MetricFamilies::histogram_seconds(std::string name, std::string help,
                                                  const LatencyHistogram& h) {
  assert(prometheus::CheckMetricName(name) && "a metric name Prometheus accepts");
  families_->push_back({std::move(name), std::move(help), prometheus::MetricType::Histogram, {}});
  prometheus::ClientMetric& m = new_metric(*families_, {});
  // The recording thread goes on while we read: the count is the sum of the buckets as read,
  // so that +Inf equals the count, as the format requires.
  const std::vector<std::uint64_t> edges = histogram_edges_ns();
  std::uint64_t cumulative = 0;
  std::size_t next_edge = 0;
  for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
    cumulative += h.bucket_count(b);
    if (next_edge < edges.size() && LatencyHistogram::bucket_upper(b) == edges[next_edge]) {
      m.histogram.bucket.push_back({cumulative, static_cast<double>(edges[next_edge]) / 1e9});
      ++next_edge;
    }
  }
  m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(h.sum()) / 1e9;
  return *this;
}

MetricFamilies& MetricFamilies::process() {
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: the command name (field 2) may hold spaces and parentheses, so fields are
  // counted from the last ')'.
  const std::string stat = read_file("/proc/self/stat");
  const std::size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(stat.substr(close + 2));
    std::vector<std::string> f;  // f[0] is field 3 (state)
    for (std::string w; in >> w;) f.push_back(w);
    if (f.size() > 21) {
      const double utime = std::stod(f[11]), stime = std::stod(f[12]);  // fields 14, 15
      counter("process_cpu_seconds_total", "User and system CPU time of the process, seconds")
          .sample((utime + stime) / tick);
      const double vsize = std::stod(f[20]);  // field 23, bytes
      gauge("process_virtual_memory_bytes", "Virtual memory size, bytes").sample(vsize);
      // Field 22: start time in ticks after boot; boot time from /proc/stat.
      const std::string boot = read_file("/proc/stat");
      const std::size_t at = boot.find("\nbtime ");
      if (at != std::string::npos) {
        const double btime = std::stod(boot.substr(at + 7));
        gauge("process_start_time_seconds", "Start time of the process, seconds since the epoch")
            .sample(btime + std::stod(f[19]) / tick);
      }
    }
  }
  std::istringstream statm(read_file("/proc/self/statm"));
  double size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    gauge("process_resident_memory_bytes", "Resident memory size, bytes")
        .sample(resident_pages * page);
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  gauge("process_open_fds", "Open file descriptors").sample(fds);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    gauge("process_max_fds", "The limit on open file descriptors")
        .sample(lim.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                              : static_cast<double>(lim.rlim_cur));
  }
  return *this;
}

std::string MetricFamilies::text() const {
  return prometheus::TextSerializer().Serialize(*families_);
}

const std::vector<prometheus::MetricFamily>& MetricFamilies::families() const noexcept {
  return *families_;
}

}  // namespace booktape
