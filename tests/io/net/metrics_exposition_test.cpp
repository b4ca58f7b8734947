// The Prometheus text of a scrape: what promtool (Debian's prometheus package, the reference
// linter) says of it, exact histogram buckets from the recorder's latency histograms, and the
// process families read from /proc.
#include <gtest/gtest.h>
#include <prometheus/check_names.h>
#include <prometheus/metric_family.h>

#include <string>

#include "io/net/metrics_exposition.hpp"
#include "tests/support/prometheus.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

TEST(MetricsExposition, PromtoolAcceptsCountersGaugesHistogramsAndProcessFamilies) {
  testing::TempDir dir;
  LatencyHistogram h;
  for (int i = 0; i < 1000; ++i) h.record(1'000 + i * 10);  // 1..11 us
  h.record(2'000'000'000);                                  // one 2 s outlier
  MetricFamilies m;
  m.counter("booktape_frames_total", "Websocket frames read, by connection")
      .sample(12, {{"connection", "0"}})
      .sample(30, {{"connection", "1"}});
  m.gauge("booktape_books", "Books by state").sample(3, {{"state", "live"}});
  m.histogram_seconds("booktape_read_to_book_seconds", "Read to book", h);
  m.process();
  const std::string text = m.text();
  ASSERT_EQ(testing::missing_tool("promtool", "prometheus"), "");
  const testing::ShellResult r = testing::promtool_check_metrics(text, dir.path());
  ASSERT_EQ(r.status, 0) << "promtool (apt-get install prometheus) said:\n"
                         << r.out << "\n"
                         << text;
  EXPECT_EQ(r.out, "");  // no lint warning either

  EXPECT_EQ(testing::sample_value(text, "booktape_frames_total{connection=\"1\"}"), "30");
  EXPECT_EQ(testing::sample_value(text, "booktape_read_to_book_seconds_count"), "1001");
  EXPECT_EQ(testing::sample_value(text, "booktape_read_to_book_seconds_bucket{le=\"+Inf\"}"),
            "1001");
  for (const auto& f : m.families()) EXPECT_TRUE(prometheus::CheckMetricName(f.name)) << f.name;
  EXPECT_NE(text.find("\nprocess_cpu_seconds_total "), std::string::npos) << text;
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_max_fds "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_start_time_seconds "), std::string::npos);
}

TEST(MetricsExposition, HistogramBucketsAreExactCountsAtEdgesOfTheRecordersBuckets) {
  LatencyHistogram h;
  // Values on both sides of edges: an edge is inclusive (le), the next ns is not.
  const std::vector<std::uint64_t> edges = histogram_edges_ns();
  ASSERT_GE(edges.size(), 50u);
  EXPECT_EQ(edges.front(), 255u);
  for (std::size_t i = 1; i < edges.size(); ++i) {
    // 2^k - 1 and 1.5 * 2^k - 1 alternate: each edge + 1 is 4/3 or 3/2 of the previous + 1.
    const double ratio = static_cast<double>(edges[i] + 1) / static_cast<double>(edges[i - 1] + 1);
    EXPECT_TRUE(ratio == 1.5 || std::abs(ratio - 4.0 / 3.0) < 1e-12) << edges[i];
  }
  const std::uint64_t e = edges[10];
  h.record(static_cast<std::int64_t>(e));      // counted at le=e
  h.record(static_cast<std::int64_t>(e + 1));  // not at le=e, at the next edge
  h.record(static_cast<std::int64_t>(edges[11]));
  MetricFamilies m;
  m.histogram_seconds("x_seconds", "x", h);
  const prometheus::ClientMetric& metric = m.families().front().metric.front();
  std::uint64_t at_e = 0, at_next = 0;
  for (const auto& b : metric.histogram.bucket) {
    if (b.upper_bound == static_cast<double>(e) / 1e9) at_e = b.cumulative_count;
    if (b.upper_bound == static_cast<double>(edges[11]) / 1e9) at_next = b.cumulative_count;
  }
  EXPECT_EQ(at_e, 1u);
  EXPECT_EQ(at_next, 3u);
  EXPECT_EQ(metric.histogram.sample_count, 3u);
  EXPECT_DOUBLE_EQ(metric.histogram.sample_sum, static_cast<double>(e + e + 1 + edges[11]) / 1e9);
}

TEST(MetricsExposition, ProcessFamiliesReadThisProcess) {
  MetricFamilies m;
  m.process();
  double fds = -1, rss = -1;
  for (const auto& f : m.families()) {
    if (f.name == "process_open_fds") fds = f.metric.front().gauge.value;
    if (f.name == "process_resident_memory_bytes") rss = f.metric.front().gauge.value;
  }
  EXPECT_GE(fds, 3);        // stdin, stdout, stderr at least
  EXPECT_GT(rss, 1 << 20);  // a test binary holds more than a MiB
}

}  // namespace
}  // namespace booktape
