// The operator listener of a live recorder against the in-process simulator, on real loopback
// sockets: /metrics passes promtool, a real Prometheus server scrapes it and counts what the
// recorder counted; /status shows each connection and each token with the simulator's top of
// book; the status page renders the live numbers in headless Chromium; hostile clients (a
// slowloris crowd, oversized requests) neither stop nor slow the recording; a port in use or a
// public address without --http-public stops the run before it starts.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codecs/book_json.hpp"
#include "io/net/http_client.hpp"
#include "io/record/operator_http.hpp"
#include "io/record/recorder.hpp"
#include "io/record/recorder_config.hpp"
#include "io/sim/server.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/operator_listener.hpp"
#include "tests/support/prometheus.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/sim_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::config_with_listener;
using testing::eventually;
using testing::http_get;
using testing::RecorderRun;
using testing::Sim;

namespace fs = std::filesystem;

SimServerOptions sim_options(std::uint64_t frames, double rate) {
  return testing::sim_options(frames, rate, 11);
}


// A recorder with its listener, fed by a simulator that sends `frames` and stops: once the
// recorder has them all, every count is final and the pages can be compared with it.
class QuietRecorder {
 public:
  QuietRecorder(std::uint64_t frames, double rate, const fs::path& dir, double rest_seconds = 0)
      : sim_(sim_options(frames, rate)),
        run_(with_rest(config_with_listener(sim_.get(), dir / "data"), rest_seconds)) {
    EXPECT_TRUE(eventually([&] { return run_.get().http_port() != 0; }, 10s));
    // Every frame read, then two refreshes of the operator view (once a second each).
    ok_ = eventually(
        [&] {
          return sim_->frames_generated() >= frames &&
                 run_.counter("network", "frames") == sim_frames() &&
                 run_.counter("books", "frames") == sim_frames();
        },
        60s);
    std::this_thread::sleep_for(2500ms);
  }
  [[nodiscard]] bool ok() const { return ok_; }
  std::uint64_t sim_frames() {
    TruthView t(sim_->truth_json());
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < t.connections(); ++i) n += std::uint64_t(t.conn(i)["frames"]);
    return n;
  }
  std::uint64_t frames() { return run_.counter("network", "frames"); }
  std::uint16_t port() { return run_.get().http_port(); }
  SimServer& sim() { return sim_.get(); }
  RecorderRun& run() { return run_; }

 private:
  using TruthView = testing::TruthView;
  static RecorderConfig with_rest(RecorderConfig c, double seconds) {
    c.rest_checkpoint_interval_seconds = seconds;
    return c;
  }
  Sim sim_;
  RecorderRun run_;
  bool ok_ = false;
};

// Top of book of every asset in the simulator's ground truth: asset -> {best bid, best ask}.
std::map<std::string, std::pair<std::string, std::string>> truth_tops(SimServer& sim) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  simdjson::dom::parser p;
  for (const auto& [id, book] : books_by_asset(sim.books_json())) {
    simdjson::dom::element b = p.parse(book);
    auto best = [&](const char* side) {
      simdjson::dom::array levels = b[side];
      return levels.size() == 0 ? std::string() : std::string(std::string_view(levels.at(0).at(0)));
    };
    out[id] = {best("bids"), best("asks")};
  }
  return out;
}

// --------------------------------------------------------------------------- /metrics -----

TEST(OperatorListener, MetricsPassPromtoolNameEveryFamilyAndCountWhatTheRecorderCounted) {
  ASSERT_EQ(testing::missing_tool("promtool", "prometheus"), "");
  testing::TempDir dir;
  QuietRecorder r(3'000, 3'000, dir.path(), 0.5);  // with REST checkpoints
  ASSERT_TRUE(r.ok());
  const HttpResponse m = http_get(r.port(), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Content-Type"), MetricFamilies::kContentType);
  const testing::ShellResult lint = testing::promtool_check_metrics(m.body, dir.path());
  EXPECT_EQ(lint.status, 0) << lint.out;
  EXPECT_EQ(lint.out, "");

  // Every family the issue asks for.
  for (const char* family : {"booktape_frames_total",
                             "booktape_frame_bytes_total",
                             "booktape_events_total",
                             "booktape_reconnects_total",
                             "booktape_stale_connections_total",
                             "booktape_stale_tokens_total",
                             "booktape_rest_rounds_total",
                             "booktape_checkpoint_books_total",
                             "booktape_parse_errors_total",
                             "booktape_unknown_events_total",
                             "booktape_divergences_total",
                             "booktape_crossed_books_total",
                             "booktape_ring_used_bytes",
                             "booktape_ring_high_water_bytes",
                             "booktape_ring_full_waits_total",
                             "booktape_ring_full_wait_seconds_total",
                             "booktape_archive_input_bytes_total",
                             "booktape_archive_written_bytes_total",
                             "booktape_archive_files_total",
                             "booktape_archive_members_total",
                             "booktape_archive_fsync_seconds_total",
                             "booktape_archive_write_errors_total",
                             "booktape_books",
                             "booktape_read_to_book_seconds",
                             "booktape_read_to_archive_seconds",
                             "process_cpu_seconds_total",
                             "process_resident_memory_bytes",
                             "process_open_fds"}) {
    EXPECT_NE(m.body.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  // The counts are the recorder's own.
  const std::uint64_t frames = r.frames();
  EXPECT_EQ(frames, r.sim_frames());
  EXPECT_EQ(testing::sample_value(m.body, "booktape_frames_total{connection=\"0\"}"),
            std::to_string(frames));
  EXPECT_EQ(testing::sample_value(m.body, "booktape_read_to_book_seconds_count"),
            std::to_string(frames));
  EXPECT_EQ(testing::sample_value(m.body, "booktape_books{state=\"unconfirmed\"}"), "0");
  EXPECT_NE(testing::sample_value(m.body, "booktape_rest_rounds_total{result=\"ok\"}"), "0");
  EXPECT_EQ(testing::sample_value(m.body, "booktape_books{state=\"live\"}"),
            std::to_string(r.run().counter("books", "live")));
  // No token id anywhere: labels stay a small set.
  for (const auto& [id, top] : truth_tops(r.sim())) {
    EXPECT_EQ(m.body.find(id), std::string::npos) << "a token id in /metrics";
  }
}

TEST(OperatorListener, APrometheusServerScrapesTheRecorderAndCountsItsFrames) {
  ASSERT_EQ(testing::missing_tool("prometheus", "prometheus"), "");
  testing::TempDir dir;
  QuietRecorder r(2'000, 2'000, dir.path());
  ASSERT_TRUE(r.ok());
  testing::PrometheusServer prom(r.port(), dir.path());
  ASSERT_TRUE(prom.ready(60s)) << "prometheus did not start";
  const auto frames = static_cast<double>(r.frames());
  std::optional<double> seen;
  EXPECT_TRUE(eventually(
      [&] {
        seen = prom.query("sum(booktape_frames_total{job=\"booktape\"})");
        return seen && *seen == frames;
      },
      60s))
      << "prometheus saw " << (seen ? std::to_string(*seen) : "nothing") << ", the recorder "
      << frames;
  EXPECT_EQ(prom.query("up{job=\"booktape\"}"), 1.0);
  EXPECT_EQ(prom.query("booktape_books{state=\"live\"}"),
            static_cast<double>(r.run().counter("books", "live")));
}

// ---------------------------------------------------------------------------- /status -----

TEST(OperatorListener, StatusShowsEachConnectionAndEachTokensTopOfBook) {
  testing::TempDir dir;
  QuietRecorder r(2'000, 2'000, dir.path());
  ASSERT_TRUE(r.ok());
  const HttpResponse h = http_get(r.port(), "/status");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Content-Type"), "application/json");
  simdjson::dom::parser p;
  simdjson::dom::element s = p.parse(h.body);
  EXPECT_EQ(std::uint64_t(s["network"]["frames"]), r.frames());
  EXPECT_NE(std::string_view(s["status_line"]).find("frames/s"), std::string_view::npos);

  simdjson::dom::array conns = s["connections"];
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_TRUE(bool(conns.at(0)["up"]));
  EXPECT_EQ(std::uint64_t(conns.at(0)["frames"]), r.frames());

  const auto tops = truth_tops(r.sim());
  simdjson::dom::array items = s["tokens"]["items"];
  EXPECT_EQ(std::uint64_t(s["tokens"]["count"]), items.size());
  ASSERT_GE(items.size(), 4u);
  std::uint64_t live = 0;
  std::set<std::string> markets;
  for (simdjson::dom::element t : items) {
    const std::string id{std::string_view(t["asset_id"])};
    markets.insert(std::string(std::string_view(t["market"])));
    EXPECT_FALSE(std::string_view(t["outcome"]).empty());
    if (std::string_view(t["state"]) != "live") continue;
    ++live;
    ASSERT_TRUE(tops.count(id)) << id;
    std::string_view bid, ask;
    ASSERT_FALSE(t["best_bid"].get_string().get(bid)) << id;
    ASSERT_FALSE(t["best_ask"].get_string().get(ask)) << id;
    EXPECT_EQ(bid, tops.at(id).first) << id;
    EXPECT_EQ(ask, tops.at(id).second) << id;
    EXPECT_GE(double(t["age_seconds"]), 0.0);
    EXPECT_GT(std::uint64_t(t["updates"]), 0u);
  }
  EXPECT_EQ(live, std::uint64_t(s["books_by_state"]["live"]));
  EXPECT_EQ(std::uint64_t(s["books_by_state"]["unconfirmed"]), 0u);
  EXPECT_GE(markets.size(), 2u);
  EXPECT_EQ(simdjson::dom::array(s["alerts"]).size(), 0u);
  EXPECT_GT(std::uint64_t(s["disk"]["free_bytes"]), 0u);
  EXPECT_EQ(std::uint64_t(s["latency"]["read_to_book"]["count"]), r.frames());
  EXPECT_LE(std::uint64_t(s["latency"]["read_to_book"]["p50_ns"]),
            std::uint64_t(s["latency"]["read_to_book"]["p95_ns"]));

  // ?tokens= bounds the list; a bad value is refused; an unknown path is 404.
  simdjson::dom::parser p2;
  simdjson::dom::element one = p2.parse(http_get(r.port(), "/status?tokens=1").body);
  EXPECT_EQ(simdjson::dom::array(one["tokens"]["items"]).size(), 1u);
  EXPECT_EQ(std::uint64_t(one["tokens"]["count"]), items.size());
  EXPECT_EQ(http_get(r.port(), "/status?tokens=lots").status, 400);
  EXPECT_EQ(http_get(r.port(), "/status?tokens=999999").status, 400);
  EXPECT_EQ(http_get(r.port(), "/nothing-here").status, 404);
}

// ------------------------------------------------------------------------ the page -----

TEST(OperatorListener, TheStatusPageRendersTheLiveNumbersInHeadlessChromium) {
  ASSERT_EQ(testing::missing_tool("chromium", "chromium"), "");
  testing::TempDir dir;
  QuietRecorder r(2'000, 2'000, dir.path());
  ASSERT_TRUE(r.ok());
  const HttpResponse page = http_get(r.port(), "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  // Self-contained: no URL in it but the SVG namespace's name, nothing it could load.
  std::size_t urls = 0;
  for (std::size_t at = page.body.find("http"); at != std::string::npos;
       at = page.body.find("http", at + 1)) {
    EXPECT_EQ(page.body.compare(at, 26, "http://www.w3.org/2000/svg"), 0)
        << page.body.substr(at, 40);
    ++urls;
  }
  EXPECT_EQ(urls, 1u);
  EXPECT_EQ(page.body.find("src="), std::string::npos);
  EXPECT_EQ(page.body.find("href="), std::string::npos);

  // The DOM after the script ran (a virtual-time budget lets its fetches and timers run).
  const std::string cmd =
      "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" +
      (dir.path() / "chromium").string() +
      " --virtual-time-budget=3000 --dump-dom http://127.0.0.1:" + std::to_string(r.port()) +
      "/ 2>/dev/null";
  const testing::ShellResult dom = testing::shell(cmd);
  ASSERT_EQ(dom.status, 0) << dom.out;
  auto text_of = [&](const std::string& id) {
    const std::size_t at = dom.out.find("id=\"" + id + "\"");
    if (at == std::string::npos) return std::string("<no #" + id + ">");
    const std::size_t start = dom.out.find('>', at) + 1;
    return dom.out.substr(start, dom.out.find('<', start) - start);
  };
  EXPECT_EQ(text_of("frames-total"), std::to_string(r.frames())) << dom.out;
  EXPECT_EQ(text_of("conns-up"), "1");
  EXPECT_EQ(text_of("books-live"), std::to_string(r.run().counter("books", "live")));
  EXPECT_EQ(text_of("books-unconfirmed"), "0");
  EXPECT_NE(text_of("lat-book-p99").find("p99 "), std::string::npos);
  // Every live token's row, with the simulator's best bid and ask.
  std::size_t rows = 0;
  for (const auto& [id, top] : truth_tops(r.sim())) {
    const std::size_t at = dom.out.find("data-asset=\"" + id + "\"");
    if (at == std::string::npos) continue;
    const std::string row = dom.out.substr(at, dom.out.find("</tr>", at) - at);
    if (row.find(">live<") == std::string::npos) continue;
    ++rows;
    EXPECT_NE(row.find("class=\"bid\">" + top.first + "<"), std::string::npos) << row;
    EXPECT_NE(row.find("class=\"ask\">" + top.second + "<"), std::string::npos) << row;
  }
  EXPECT_EQ(rows, r.run().counter("books", "live"));
  EXPECT_NE(dom.out.find("<polyline"), std::string::npos) << "no frames/s sparkline";
}

// ---------------------------------------------------------------------- bad clients -----

// A raw loopback connection to the listener.
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(OperatorListener, SlowlorisCrowdsAndOversizedRequestsNeitherStopNorSlowTheRecorder) {
  testing::TempDir dir;
  Sim sim(sim_options(6'000, 1'500));
  RecorderRun run(config_with_listener(sim.get(), dir.path() / "data"));
  ASSERT_TRUE(eventually([&] { return run.get().http_port() != 0; }, 10s));
  const std::uint16_t port = run.get().http_port();
  ASSERT_TRUE(eventually([&] { return run.counter("network", "frames") > 100; }, 20s));

  // 200 connections that trickle half a request (past the listener's 64), and requests far
  // over the size limits, while the simulator streams.
  std::vector<int> slow;
  for (int i = 0; i < 200; ++i) {
    const int fd = connect_to(port);
    if (fd >= 0 && ::send(fd, "GET /sta", 8, MSG_NOSIGNAL) == 8)
      slow.push_back(fd);
    else if (fd >= 0)
      ::close(fd);
  }
  for (int i = 0; i < 20; ++i) {
    const int fd = connect_to(port);
    if (fd < 0) continue;
    const std::string big =
        "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + std::string(1 << 20, 'x') +
        "\r\n\r\n";
    (void)::send(fd, big.data(), big.size(), MSG_NOSIGNAL);
    const std::string body =
        "POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
        "1000000000\r\n\r\n";
    (void)::send(fd, body.data(), body.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  // The listener still answers a polite client, and the recorder goes on recording.
  EXPECT_EQ(http_get(port, "/metrics").status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        return sim->frames_generated() >= 6'000 &&
               run.counter("archive", "frames") == run.counter("network", "frames");
      },
      60s));
  for (int fd : slow) ::close(fd);
  const std::uint64_t frames = run.counter("network", "frames");
  EXPECT_EQ(run.counter("books", "frames"), frames);
  EXPECT_EQ(run.counter("network", "ring_full_waits"), 0u);  // the stages never fell behind
  EXPECT_EQ(run.counter("network", "disconnects"), 0u);
  EXPECT_EQ(run.stop(), 0);
  testing::TruthView truth(sim->truth_json());
  EXPECT_EQ(std::uint64_t(truth.conn(0)["frames"]), frames);
}

// ------------------------------------------------------------------------ bad config -----

TEST(OperatorListener, APortInUseStopsTheRunWithExit2BeforeAnythingIsWritten) {
  testing::TempDir dir;
  std::uint16_t port = 0;
  const int held = testing::listen_loopback(port);
  Sim sim(sim_options(100, 100));
  RecorderConfig c = config_with_listener(sim.get(), dir.path() / "data");
  c.http_listen = "127.0.0.1:" + std::to_string(port);
  Recorder rec(c);
  EXPECT_EQ(rec.run(), 2);
  EXPECT_FALSE(fs::exists(c.out)) << "the archive was started although the listener failed";
  ::close(held);
}

TEST(OperatorListener, ConfigRefusesABadAddressAndAPublicOneWithoutHttpPublic) {
  RecorderConfig c;
  c.http_listen = "127.0.0.1:9464";
  EXPECT_TRUE(validate(c).empty());
  c.http_listen = "[::1]:9464";
  EXPECT_TRUE(validate(c).empty());
  for (const char* bad : {"9464", "localhost", "host.example:80", "127.0.0.1:70000"}) {
    c.http_listen = bad;
    const std::vector<std::string> problems = validate(c);
    ASSERT_EQ(problems.size(), 1u) << bad;
    EXPECT_NE(problems[0].find("http_listen must be HOST:PORT"), std::string::npos) << problems[0];
  }
  c.http_listen = "0.0.0.0:9464";
  std::vector<std::string> problems = validate(c);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("http_public"), std::string::npos) << problems[0];
  c.http_public = true;
  EXPECT_TRUE(validate(c).empty());
}

}  // namespace
}  // namespace booktape
