#include "perf/consumers_perf.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "core/clock.hpp"
#include "core/latency_histogram.hpp"
#include "perf/perf_process.hpp"
#include "perf/record_scenario.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/redis_subscriber.hpp"

namespace fs = std::filesystem;

namespace booktape::perf {
namespace {

// The receipt time a message carries ("received_at_utc":"...").
std::int64_t received_at(std::string_view payload) {
  static constexpr std::string_view kKey = "\"received_at_utc\":\"";
  const std::size_t at = payload.find(kKey);
  if (at == std::string_view::npos) return 0;
  return parse_utc(payload.substr(at + kKey.size(), kUtcTextLength)).value_or(0);
}

// What a Redis subscriber sees: per book and trade message, arrival minus receipt.
struct RedisLatency {
  explicit RedisLatency(std::uint16_t port)
      : sub(port, "polymarket:*", [this](std::string_view channel, std::string_view payload) {
          const std::int64_t now = realtime_now();
          const std::int64_t t = received_at(payload);
          if (t > 0) (channel.starts_with("polymarket:trade:") ? trades : books).record(now - t);
        }) {}
  LatencyHistogram books, trades;
  testing::RedisSubscriber sub;  // last: it calls into the histograms until destroyed
};

std::string us(std::uint64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
  return b;
}

struct Row {
  std::string rate, config;
  Result r;
  std::string latency;  // what the consumer measured, if any
};

}  // namespace

int run_consumers(const fs::path& binary, const std::vector<std::string>& rates, double seconds,
                  const fs::path& out) {
  const fs::path work = fs::temp_directory_path() / "booktape-perf-consumers";
  std::vector<Row> rows;
  int failed = 0;
  // Alert thresholds across the price range, so crossings are frequent (cooldown 0).
  std::vector<std::string> alerts;
  for (int c = 5; c < 100; c += 5) {
    char b[32];
    std::snprintf(b, sizeof b, "bid>=0.%02d", c);
    alerts.push_back(b);
    std::snprintf(b, sizeof b, "ask<=0.%02d", c);
    alerts.push_back(b);
  }
  for (const std::string& rate : rates) {
    for (const std::string config :
         {"archive", "archive+redis", "archive+alerts", "books-only", "books-only+redis"}) {
      Scenario s;
      s.name = config;
      s.rate = rate == "max" ? 0 : std::stod(rate);
      s.burst = rate == "max" ? 64 : static_cast<std::uint32_t>(std::max(1.0, s.rate / 10'000));
      s.pregenerate = true;
      s.envelope = "compact";
      s.seconds = seconds;
      s.books_only = config.starts_with("books-only");
      std::unique_ptr<Proc> redis;
      std::unique_ptr<RedisLatency> sub;
      std::unique_ptr<testing::HttpReceiver> hook;
      if (config.ends_with("+redis")) {
        const std::uint16_t port = free_port();
        fs::create_directories(work);
        redis = std::make_unique<Proc>(
            std::vector<std::string>{"/usr/bin/redis-server", "--port", std::to_string(port),
                                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"},
            work / "redis.log", false);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        sub = std::make_unique<RedisLatency>(port);
        s.redis_url = "redis://127.0.0.1:" + std::to_string(port);
      }
      if (config.ends_with("+alerts")) {
        hook = std::make_unique<testing::HttpReceiver>();
        s.alerts = alerts;
        s.alert_webhook = hook->url();
      }
      std::printf("%-8s %-18s ... ", rate.c_str(), config.c_str());
      std::fflush(stdout);
      Row row{rate, config, run_scenario(s, binary, work / "run"), ""};
      if (sub) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        row.latency = "books " + std::to_string(sub->books.count()) + ": p50 " +
                      us(sub->books.quantile(0.5)) + ", p99 " + us(sub->books.quantile(0.99)) +
                      "; trades " + std::to_string(sub->trades.count()) + ": p50 " +
                      us(sub->trades.quantile(0.5)) + ", p99 " + us(sub->trades.quantile(0.99));
      }
      if (hook) {
        LatencyHistogram h;
        for (const auto& q : hook->requests()) {
          const std::int64_t t = received_at(q.body);
          if (t > 0) h.record(q.arrived_ns - t);
        }
        row.latency = "alerts " + std::to_string(h.count()) + ": p50 " + us(h.quantile(0.5)) +
                      ", p99 " + us(h.quantile(0.99)) + ", max " + us(h.max());
      }
      const Result& r = row.r;
      if (!r.ok) {
        ++failed;
        std::printf("FAILED: %s\n", r.error.c_str());
      } else {
        std::printf("%8.0f frames/s, loss %lld, %5.2f us CPU/frame %s\n", r.frames_per_second(),
                    r.loss(), r.cpu_ns_per_frame() / 1e3, row.latency.c_str());
      }
      std::fflush(stdout);
      if (redis) redis->signal(SIGTERM);
      rows.push_back(std::move(row));
    }
  }

  // The report: whole-process CPU per frame, by thread, and the consumers' latencies.
  std::string md =
      "# booktape record: live consumers\n\nSame simulated stream per rate "
      "(pregenerated, all tokens, compact envelope, " +
      std::to_string(seconds) +
      " s); whole-process CPU over every frame the simulator sent.\n\n"
      "| rate | configuration | frames/s | loss | CPU/frame | bt-net | bt-book | "
      "bt-archive | bt-consumers | bt-alerts | rest | vs archive | consumer latency |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  double base = 0;
  for (const Row& row : rows) {
    const Result& r = row.r;
    if (!r.ok) {
      md += "| " + row.rate + " | " + row.config + " | failed: " + r.error + " |\n";
      continue;
    }
    if (row.config == "archive") base = r.cpu_ns_per_frame();
    char line[512];
    const auto per = [&](const char* t) {
      const auto it = r.cpu_ns_by_thread.find(t);
      return it == r.cpu_ns_by_thread.end() || r.sent == 0
                 ? 0.0
                 : static_cast<double>(it->second) / static_cast<double>(r.sent) / 1e3;
    };
    double named = 0;
    for (const char* t : {"bt-net", "bt-book", "bt-archive", "bt-consumers", "bt-alerts"})
      named += per(t);
    double total_threads = 0;
    for (const auto& [name, ns] : r.cpu_ns_by_thread) total_threads += static_cast<double>(ns);
    const double rest = r.sent ? total_threads / static_cast<double>(r.sent) / 1e3 - named : 0;
    std::snprintf(line, sizeof line,
                  "| %s | %s | %.0f | %lld | %.2f us | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | "
                  "%.2fx | %s |\n",
                  row.rate.c_str(), row.config.c_str(), r.frames_per_second(), r.loss(),
                  r.cpu_ns_per_frame() / 1e3, per("bt-net"), per("bt-book"), per("bt-archive"),
                  per("bt-consumers"), per("bt-alerts"), rest,
                  base > 0 ? r.cpu_ns_per_frame() / base : 0.0, row.latency.c_str());
    md += line;
  }
  const fs::path dir = out / ("consumers-" + format_utc(realtime_now()).substr(0, 19));
  fs::create_directories(dir);
  std::ofstream(dir / "report.md") << md;
  std::printf("\n%s\nreport: %s/report.md\n", md.c_str(), dir.c_str());
  return failed == 0 ? 0 : 1;
}

}  // namespace booktape::perf
