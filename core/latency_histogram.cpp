#include "core/latency_histogram.hpp"

#include <cstdio>

namespace booktape {

std::uint64_t LatencyHistogram::bucket_upper(std::size_t b) noexcept {
  if (b < (1u << kSubBits)) return b;
  const std::size_t shift = (b >> kSubBits) - 1;
  const std::uint64_t sub = b & ((1u << kSubBits) - 1);
  const std::uint64_t base = (std::uint64_t{1} << kSubBits) | sub;
  return ((base + 1) << shift) - 1;
}

double LatencyHistogram::mean() const noexcept {
  const std::uint64_t n = count();
  return n == 0 ? 0.0 : static_cast<double>(sum_.load(std::memory_order_relaxed)) / static_cast<double>(n);
}

std::uint64_t LatencyHistogram::quantile(double q) const noexcept {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n));
  if (rank >= n) rank = n - 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b].load(std::memory_order_relaxed);
    if (seen > rank) return std::min(bucket_upper(b), max());
  }
  return max();
}

std::string LatencyHistogram::summary_json() const {
  char buf[320];
  auto q = [this](double x) { return static_cast<unsigned long long>(quantile(x)); };
  std::snprintf(buf, sizeof buf,
                "{\"count\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,\"p999_ns\":%llu,"
                "\"p9999_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%.0f}",
                static_cast<unsigned long long>(count()), q(0.5), q(0.9), q(0.99), q(0.999),
                q(0.9999), static_cast<unsigned long long>(max()), mean());
  return buf;
}

std::string format_duration_ns(std::uint64_t ns) {
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f \u00b5s", v / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f ms", v / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", v / 1e9);
  }
  return buf;
}

std::string LatencyHistogram::summary_text() const {
  const std::uint64_t n = count();
  if (n == 0) return "-";
  return "p50 " + format_duration_ns(quantile(0.5)) + ", p90 " + format_duration_ns(quantile(0.9)) +
         ", p99 " + format_duration_ns(quantile(0.99)) + ", p99.9 " +
         format_duration_ns(quantile(0.999)) + ", max " + format_duration_ns(max()) +
         " (n=" + std::to_string(n) + ")";
}

void LatencyHistogram::reset() noexcept {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

}  // namespace booktape
