// Log-linear latency histogram: quantiles never understate and stay within one sub-bucket.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>

#include "core/latency_histogram.hpp"

namespace booktape {
namespace {

TEST(LatencyHistogram, QuantilesAreUpperBucketEdgesWithinOneSixteenth) {
  LatencyHistogram h;
  for (std::int64_t v = 1; v <= 100'000; ++v) h.record(v);  // uniform 1..100000 ns
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.max(), 100'000u);
  EXPECT_DOUBLE_EQ(h.mean(), 50'000.5);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = q * 100'000;
    const auto got = static_cast<double>(h.quantile(q));
    EXPECT_GE(got, exact) << q;                // never understated
    EXPECT_LE(got, exact * (1 + 1.0 / 16) + 1) << q;  // 16 sub-buckets per power of two
  }
}

TEST(LatencyHistogram, EveryValueLandsInABucketWhoseUpperEdgeHoldsIt) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    const std::size_t b = LatencyHistogram::bucket_of(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    ASSERT_GE(LatencyHistogram::bucket_upper(b), v);
    if (b > 0) {
      ASSERT_LT(LatencyHistogram::bucket_upper(b - 1), v);
    }
  }
}

TEST(LatencyHistogram, NegativeTimesCountAsZeroAndTheSummaryIsJson) {
  LatencyHistogram h;
  h.record(-5);  // a clock read out of order must not wrap to 2^64
  h.record(1'000);
  EXPECT_EQ(h.quantile(0.0), 0u);
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(h.summary_json()).get(e), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(e["count"]), 2u);
  EXPECT_EQ(std::uint64_t(e["max_ns"]), 1'000u);
  for (const char* k : {"p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns"}) {
    EXPECT_GE(std::uint64_t(e[k]), 1'000u) << k;  // the upper edge of 1,000's bucket
    EXPECT_LE(std::uint64_t(e[k]), 1'063u) << k;
  }
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.99), 0u);
}

TEST(LatencyHistogram, ForPeopleDurationsReadInTheirUnitAndNoSamplesIsADash) {
  EXPECT_EQ(format_duration_ns(0), "0 ns");
  EXPECT_EQ(format_duration_ns(850), "850 ns");
  EXPECT_EQ(format_duration_ns(12'345), "12.3 \u00b5s");
  EXPECT_EQ(format_duration_ns(4'560'000), "4.56 ms");
  EXPECT_EQ(format_duration_ns(1'200'000'000), "1.20 s");

  LatencyHistogram h;
  EXPECT_EQ(h.summary_text(), "-");  // was "p99 0.0 us" with no data
  for (int i = 0; i < 9; ++i) h.record(1'000);
  h.record(2'000'000);
  const std::string s = h.summary_text();
  EXPECT_EQ(s.rfind("p50 1.0 \u00b5s, p90 2.00 ms, ", 0), 0u) << s;  // upper bucket edges
  EXPECT_NE(s.find(" ms, p99.9 "), std::string::npos) << s;
  EXPECT_NE(s.find("max 2.00 ms (n=10)"), std::string::npos) << s;
  h.reset();
  EXPECT_EQ(h.summary_text(), "-");
}

}  // namespace
}  // namespace booktape
