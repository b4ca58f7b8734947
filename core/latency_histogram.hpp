#pragma once
// A latency histogram one thread records into and any thread reads (relaxed atomics: a reader
// sees a slightly stale but never torn count). Log-linear buckets: 16 sub-buckets per power of
// two, so any value is placed within 6.25% (one bucket) of its true size, from 1 ns to hours,
// in 8 KB.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace booktape {

// A duration in the unit that reads best: "850 ns", "12.3 µs", "4.56 ms", "1.20 s".
std::string format_duration_ns(std::uint64_t ns);

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr std::size_t kBuckets = 64 << kSubBits;

  void record(std::int64_t ns) noexcept {
    const std::uint64_t v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    bump(counts_[bucket_of(v)]);
    bump(count_);
    sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    if (v > max_.load(std::memory_order_relaxed)) max_.store(v, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  // Sum of every value recorded (ns), and the count in one bucket (for an exporter that
  // re-buckets: /metrics).
  [[nodiscard]] std::uint64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t bucket_count(std::size_t b) const noexcept {
    return counts_[b].load(std::memory_order_relaxed);
  }
  [[nodiscard]] double mean() const noexcept;
  // The value at quantile q (0..1): the upper edge of the bucket holding it (never understated).
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept;
  // {"count":..,"p50_ns":..,"p90_ns":..,"p99_ns":..,"p999_ns":..,"p9999_ns":..,"max_ns":..,
  //  "mean_ns":..}
  [[nodiscard]] std::string summary_json() const;
  // For people: "p50 12.3 µs, p90 .., p99 .., p99.9 .., max 1.2 ms (n=4521)"; "-" with no samples.
  [[nodiscard]] std::string summary_text() const;
  void reset() noexcept;

  static std::size_t bucket_of(std::uint64_t v) noexcept {
    if (v < (1u << kSubBits)) return static_cast<std::size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;
    return (static_cast<std::size_t>(shift + 1) << kSubBits) +
           static_cast<std::size_t>((v >> shift) & ((1u << kSubBits) - 1));
  }
  // Largest value that lands in bucket b.
  static std::uint64_t bucket_upper(std::size_t b) noexcept;

 private:
  static void bump(std::atomic<std::uint64_t>& a) noexcept {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
  }
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> count_{0}, sum_{0}, max_{0};
};

}  // namespace booktape
