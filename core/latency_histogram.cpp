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

void LatencyHistogram::reset() noexcept {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

}  // namespace booktape
