// The consumers on the operator listener, end to end: a recorder with `--http` on a loopback
// port records the in-process simulator, and real HTTP clients (ours, and Python's urllib in a
// child process, as docs/CONSUMERS.md shows) ask it for the books, a book in detail and a
// market's odds (compared with the simulator's own books), scrape the consumers' counters
// (promtool checks them; they equal the recorder's status), and add and remove a token at
// runtime (its book arrives and its frames are archived; once removed it stops).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "codecs/book_json.hpp"
#include "io/archive/paths.hpp"
#include "io/net/http_client.hpp"
#include "io/record/recorder.hpp"
#include "io/record/recorder_config.hpp"
#include "io/record/runtime_subscriptions.hpp"
#include "io/sim/server.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/operator_listener.hpp"
#include "tests/support/prometheus.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/redis_server.hpp"
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

// POST or DELETE /subscriptions from Python's urllib (the docs' example): "<status> <body>".
std::string python_subscriptions(std::uint16_t port, const std::string& method,
                                 const std::string& token, const std::string& extra_header = "") {
  const std::string script =
      "import json, sys, urllib.request, urllib.error\n"
      "req = urllib.request.Request('http://127.0.0.1:" +
      std::to_string(port) + "/subscriptions', method='" + method +
      "', data=json.dumps({'token_ids': ['" + token +
      "']}).encode(), headers={'Content-Type': 'application/json'" + extra_header +
      "})\n"
      "try:\n"
      "    with urllib.request.urlopen(req, timeout=10) as r: print(r.status, r.read().decode())\n"
      "except urllib.error.HTTPError as e: print(e.code, e.read().decode())\n";
  return testing::shell("python3 -c \"$(cat <<'EOF'\n" + script + "EOF\n)\"").out;
}

// The first ```python block after `heading` in docs/CONSUMERS.md, run with python3 after
// replacing each {from, to} pair: its stdout and exit code.
testing::ShellResult run_doc_python(const fs::path& dir, const std::string& heading,
                                    std::vector<std::pair<std::string, std::string>> replace) {
  std::ifstream in(std::string(BOOKTAPE_SOURCE_DIR) + "/docs/CONSUMERS.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), {});
  const std::size_t at = doc.find("\n" + heading + "\n");
  const std::size_t start = doc.find("```python\n", at);
  if (at == std::string::npos || start == std::string::npos) return {};
  const std::size_t body = start + std::string_view("```python\n").size();
  std::string script = doc.substr(body, doc.find("```", body) - body);
  for (const auto& [from, to] : replace) {
    const std::size_t i = script.find(from);
    if (i == std::string::npos) return {-1, "not in the doc's example: " + from};
    script.replace(i, from.size(), to);
  }
  const fs::path file = dir / "example.py";
  std::ofstream(file) << script;
  return testing::shell("python3 '" + file.string() + "' 2>&1");
}

// Waits until the recorder has read every frame the simulator generated.
bool all_frames_in(RecorderRun& run, Sim& sim, std::uint64_t frames) {
  return eventually(
      [&] {
        return sim->frames_generated() >= frames &&
               run.counter("books", "frames") == run.counter("network", "frames") &&
               run.counter("network", "frames") > 0;
      },
      60s);
}

std::string best(simdjson::dom::element book, const char* side) {
  simdjson::dom::array levels = book[side];
  return levels.size() == 0 ? "" : std::string(std::string_view(levels.at(0).at(0)));
}

TEST(BookApi, ServesTheSimulatorsBooksInDetailAndEachMarketsOdds) {
  testing::TempDir dir;
  Sim sim(testing::sim_options(3'000, 3'000, 11));
  RecorderConfig c = config_with_listener(sim.get(), dir.path() / "data");
  c.consumer_depth = 100;  // deeper than any simulated book: /books/<id> is the whole book
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.get().http_port() != 0; }, 10s));
  ASSERT_TRUE(all_frames_in(run, sim, 3'000));
  std::this_thread::sleep_for(300ms);  // the consumer thread's last slot writes
  const std::uint16_t port = run.get().http_port();
  const auto truth = testing::books_by_asset(sim->books_json());

  // GET /books: every token, with the simulator's best prices.
  const HttpResponse all = http_get(port, "/books");
  ASSERT_EQ(all.status, 200) << all.body;
  simdjson::dom::parser p;
  simdjson::dom::element books = p.parse(all.body);
  simdjson::dom::array list = books["books"];
  std::set<std::string> markets, recorded;
  std::size_t n = 0;
  for (simdjson::dom::element b : list) {
    const std::string id{std::string_view(b["asset_id"])};
    ASSERT_TRUE(truth.count(id)) << id;
    simdjson::dom::parser tp;
    simdjson::dom::element t = tp.parse(truth.at(id));
    EXPECT_EQ(std::string_view(b["state"]), "live");
    EXPECT_EQ(best(b, "bids"), best(t, "bids")) << id;
    EXPECT_EQ(best(b, "asks"), best(t, "asks")) << id;
    markets.insert(std::string(std::string_view(b["market"])));
    recorded.insert(id);
    ++n;
  }
  // BTC 5m and 15m (and the next ones when they are due), Up and Down each.
  EXPECT_GE(n, 4u);
  EXPECT_EQ(n, 2 * markets.size());
  EXPECT_EQ(std::uint64_t(books["total"]), n);
  EXPECT_TRUE(books["next_offset"].is_null());
  // Pages: one book, then the next.
  simdjson::dom::parser pp;
  simdjson::dom::element page = pp.parse(http_get(port, "/books?limit=1").body);
  EXPECT_EQ(simdjson::dom::array(page["books"]).size(), 1u);
  EXPECT_EQ(std::uint64_t(page["next_offset"]), 1u);
  EXPECT_EQ(http_get(port, "/books?limit=lots").status, 400);
  EXPECT_EQ(http_get(port, "/books?limit=10001").status, 400);

  // GET /books/<id>: the whole book, its depth bands and costs.
  for (const std::string& id : recorded) {
    const std::string& book = truth.at(id);
    const HttpResponse r = http_get(port, "/books/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser dp, tp;
    simdjson::dom::element d = dp.parse(r.body);
    simdjson::dom::element t = tp.parse(book);
    EXPECT_EQ(simdjson::minify(d["bids"]), simdjson::minify(t["bids"])) << id;
    EXPECT_EQ(simdjson::minify(d["asks"]), simdjson::minify(t["asks"])) << id;
    EXPECT_EQ(std::uint64_t(d["depth"]["bids"]), simdjson::dom::array(t["bids"]).size());
    EXPECT_EQ(std::uint64_t(d["levels_shown"]["asks"]), simdjson::dom::array(t["asks"]).size());
    // Within 10 cents of the best bid: the levels the simulator has there.
    std::uint64_t within = 0;
    const double best_bid = std::stod(best(t, "bids"));
    for (simdjson::dom::element l : simdjson::dom::array(t["bids"]))
      within += std::stod(std::string(std::string_view(l.at(0)))) >= best_bid - 0.1 - 1e-9;
    EXPECT_EQ(std::uint64_t(d["depth_within"]["0.1"]["bids"]["levels"]), within) << r.body;
    EXPECT_TRUE(d["cost"]["buy"]["100"]["complete"].is_bool());
  }
  EXPECT_EQ(http_get(port, "/books/12345").status, 404);
  EXPECT_EQ(http_get(port, "/odds/no-such-market").status, 404);

  // GET /odds/<condition id> and /odds/<slug>: both outcomes with the simulator's best prices.
  ASSERT_FALSE(markets.empty());
  for (const std::string& condition : markets) {
    const HttpResponse r = http_get(port, "/odds/" + condition);
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser op;
    simdjson::dom::element o = op.parse(r.body);
    const std::string slug{std::string_view(o["market"])};
    EXPECT_TRUE(slug.starts_with("btc-")) << r.body;
    std::set<std::string> outcomes;
    for (simdjson::dom::element x : simdjson::dom::array(o["outcomes"])) {
      outcomes.insert(std::string(std::string_view(x["outcome"])));
      simdjson::dom::parser tp;
      simdjson::dom::element t = tp.parse(truth.at(std::string(std::string_view(x["asset_id"]))));
      EXPECT_EQ(std::string_view(x["best_bid"]), best(t, "bids"));
      EXPECT_EQ(std::string_view(x["best_ask"]), best(t, "asks"));
      EXPECT_FALSE(x["displayed_price"].is_null()) << r.body;
      EXPECT_GE(std::int64_t(x["age_ms"]), 0);
    }
    EXPECT_EQ(outcomes, (std::set<std::string>{"Up", "Down"})) << r.body;
    const HttpResponse by_slug = http_get(port, "/odds/" + slug);
    ASSERT_EQ(by_slug.status, 200);
    simdjson::dom::parser sp;
    EXPECT_EQ(std::string_view(sp.parse(by_slug.body)["condition_id"]), condition);
  }
  // The docs' Python (urllib) example, as written, against this recorder.
  const testing::ShellResult py =
      run_doc_python(dir.path(), "## HTTP book API",
                     {{"http://127.0.0.1:9464", "http://127.0.0.1:" + std::to_string(port)},
                      {"btc-updown-15m-1796689800", *markets.begin()}});
  EXPECT_EQ(py.status, 0) << py.out;
  EXPECT_NE(py.out.find("Up "), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("buying 1,000 USDC costs an average 0."), std::string::npos) << py.out;
}

TEST(BookApi, MetricsCarryTheRedisAndAlertCountersAndPassPromtool) {
  ASSERT_EQ(testing::missing_tool("promtool", "prometheus"), "");
  testing::RedisServer redis;
  testing::HttpReceiver hook;
  testing::TempDir dir;
  Sim sim(testing::sim_options(3'000, 3'000, 11));
  RecorderConfig c = config_with_listener(sim.get(), dir.path() / "data");
  c.redis_url = redis.url();
  c.alerts = {"bid>=0.01"};  // fires once per token
  c.alert_webhook = hook.url("/alerts");
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.get().http_port() != 0; }, 10s));
  ASSERT_TRUE(all_frames_in(run, sim, 3'000));
  ASSERT_TRUE(eventually([&] { return hook.requests().size() >= 4; }, 10s));
  std::this_thread::sleep_for(500ms);
  const HttpResponse m = http_get(run.get().http_port(), "/metrics");
  ASSERT_EQ(m.status, 200);
  const testing::ShellResult lint = testing::promtool_check_metrics(m.body, dir.path());
  EXPECT_EQ(lint.status, 0) << lint.out;
  EXPECT_EQ(lint.out, "");

  simdjson::dom::parser p;
  const std::string status = run.get().status_json();
  simdjson::dom::element s = p.parse(status)["consumers"];
  auto same = [&](const std::string& series, simdjson::dom::element v) {
    EXPECT_EQ(testing::sample_value(m.body, series), std::to_string(std::uint64_t(v))) << series;
  };
  same("booktape_consumer_updates_total", s["feed"]["updates"]);
  same("booktape_consumer_conflated_total", s["feed"]["conflated"]);
  same("booktape_redis_published_total{kind=\"book\"}", s["redis"]["published"]);
  same("booktape_redis_published_total{kind=\"trade\"}", s["redis"]["trades"]);
  same("booktape_redis_errors_total", s["redis"]["errors"]);
  same("booktape_alerts_fired_total", s["alerts"]["fired"]);
  same("booktape_alerts_delivered_total", s["alerts"]["delivered"]);
  EXPECT_NE(testing::sample_value(m.body, "booktape_redis_published_total{kind=\"book\"}"), "0");
  EXPECT_EQ(testing::sample_value(m.body, "booktape_redis_connected"), "1");
  EXPECT_EQ(testing::sample_value(m.body, "booktape_alerts_fired_total"),
            std::to_string(hook.requests().size()));
  EXPECT_NE(testing::sample_value(m.body, "booktape_frame_to_redis_publish_seconds_count"), "0");
  EXPECT_NE(m.body.find("# TYPE booktape_frame_to_alert_webhook_seconds histogram"),
            std::string::npos);
  // The alerts fired reach /status (the page and `top` read them there).
  const HttpResponse st = http_get(run.get().http_port(), "/status");
  EXPECT_NE(st.body.find("\"rule\":\"bid>=0.01\""), std::string::npos) << st.body.substr(0, 2000);
}

TEST(BookApi, BooksOnlyServesTheBooksAndMetricsWithoutAnArchive) {
  testing::TempDir dir;
  Sim sim(testing::sim_options(2'000, 3'000, 11));
  RecorderConfig c = config_with_listener(sim.get(), dir.path() / "data");
  c.books_only = true;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.get().http_port() != 0; }, 10s));
  ASSERT_TRUE(all_frames_in(run, sim, 2'000));
  const std::uint16_t port = run.get().http_port();
  const HttpResponse books = http_get(port, "/books");
  ASSERT_EQ(books.status, 200);
  simdjson::dom::parser p;
  EXPECT_GE(std::uint64_t(p.parse(books.body)["total"]), 4u);
  const HttpResponse m = http_get(port, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body.find("booktape_archive_files_total"), std::string::npos);  // no archive
  EXPECT_NE(testing::sample_value(m.body, "booktape_consumer_updates_total"), "0");
  const HttpResponse st = http_get(port, "/status");
  EXPECT_EQ(st.status, 200);
  EXPECT_NE(st.body.find("\"read_to_archive\":null"), std::string::npos);
  EXPECT_EQ(run.stop(), 0);
}

// Lines of the archive (every stream file, decompressed) that contain `needle`.
std::size_t archive_lines_with(const fs::path& out, const std::string& needle,
                               const std::string& also = "") {
  const std::string cmd = "find '" + out.string() +
                          "' -name '*.gz' -exec zcat -f {} + | grep -F '" + needle + "'" +
                          (also.empty() ? "" : " | grep -F '" + also + "'") + " | wc -l";
  return std::stoul(testing::shell(cmd).out);
}

TEST(RuntimeSubscriptions, ATokenAddedAtRuntimeGetsItsBookAndIsArchivedARemovedOneStops) {
  ASSERT_EQ(testing::missing_tool("python3", "python3"), "");
  testing::TempDir dir;
  Sim sim(testing::sim_options(0, 400, 11));  // generates until stopped
  RecorderConfig c = config_with_listener(sim.get(), dir.path() / "data");
  c.market_limit = 1;  // of the simulator's two markets: the other's tokens are for runtime
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.get().http_port() != 0; }, 10s));
  const std::uint16_t port = run.get().http_port();
  std::set<std::string> recorded;
  ASSERT_TRUE(eventually(
      [&] {
        simdjson::dom::parser p;
        recorded.clear();
        for (simdjson::dom::element b :
             simdjson::dom::array(p.parse(http_get(port, "/books").body)["books"]))
          recorded.insert(std::string(std::string_view(b["asset_id"])));
        return recorded.size() == 2;
      },
      15s));
  std::string extra;
  for (const auto& [id, book] : testing::books_by_asset(sim->books_json()))
    if (!recorded.count(id)) extra = id;
  ASSERT_FALSE(extra.empty()) << "the simulator has a token the recorder does not carry";
  EXPECT_EQ(http_get(port, "/books/" + extra).status, 404);

  // Refused: a request a web page could send (an Origin header), a body that is not ids.
  EXPECT_EQ(
      python_subscriptions(port, "POST", extra, ", 'Origin': 'http://evil.example'").substr(0, 3),
      "403");
  EXPECT_EQ(python_subscriptions(port, "POST", "not-an-id!").substr(0, 3), "400");

  // Added: its book arrives and stays live.
  const std::string added = python_subscriptions(port, "POST", extra);
  EXPECT_EQ(added.substr(0, 3), "202") << added;
  ASSERT_TRUE(eventually(
      [&] {
        const HttpResponse r = http_get(port, "/books/" + extra);
        return r.status == 200 && r.body.find("\"state\":\"live\"") != std::string::npos;
      },
      15s));
  simdjson::dom::parser sp;
  EXPECT_EQ(simdjson::minify(sp.parse(http_get(port, "/subscriptions").body)["added"]),
            "[\"" + extra + "\"]");
  std::this_thread::sleep_for(1500ms);  // some of its frames

  // Removed: no more updates for it while the others go on.
  const std::string removed = python_subscriptions(port, "DELETE", extra);
  EXPECT_EQ(removed.substr(0, 3), "202") << removed;
  ASSERT_TRUE(eventually(
      [&] {
        simdjson::dom::parser p;
        return std::uint64_t(p.parse(http_get(port, "/subscriptions").body)["applied"]) == 2;
      },
      5s));
  std::this_thread::sleep_for(1000ms);  // what was in flight arrives
  auto seq_of = [&](const std::string& id) {
    simdjson::dom::parser p;
    simdjson::dom::element b = p.parse(http_get(port, "/books?limit=100").body);
    for (simdjson::dom::element x : simdjson::dom::array(b["books"]))
      if (std::string_view(x["asset_id"]) == id) return std::uint64_t(x["seq"]);
    return std::uint64_t{0};
  };
  const std::uint64_t extra_seq = seq_of(extra), other_seq = seq_of(*recorded.begin());
  std::this_thread::sleep_for(2000ms);
  EXPECT_EQ(seq_of(extra), extra_seq) << "a removed token still gets updates";
  // Its last book stays readable, marked stale: it no longer follows the venue.
  const HttpResponse gone = http_get(port, "/books/" + extra);
  EXPECT_NE(gone.body.find("\"state\":\"stale\""), std::string::npos) << gone.body;
  EXPECT_GT(seq_of(*recorded.begin()), other_seq) << "the others stopped too";
  // The docs' Python example adds and removes a token (the same one again).
  const testing::ShellResult py =
      run_doc_python(dir.path(), "## Runtime subscriptions",
                     {{"http://127.0.0.1:9464", "http://127.0.0.1:" + std::to_string(port)},
                      {"7132...563", extra}});
  EXPECT_EQ(py.status, 0) << py.out;
  EXPECT_NE(py.out.find("(202, {'adding': ['" + extra + "']"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("(202, {'removing': ['" + extra + "']"), std::string::npos) << py.out;
  EXPECT_EQ(run.stop(), 0);

  // The archive: the token's frames, and session records of both changes.
  const fs::path out = dir.path() / "data";
  EXPECT_GT(archive_lines_with(out, "\"record\":\"frame\"", extra), 0u);
  EXPECT_GE(archive_lines_with(out, "\"event\":\"subscription\"", extra), 1u)
      << "no session record carries the added token";
  EXPECT_GE(archive_lines_with(out, "\"event\":\"subscription\""), 2u);
}

TEST(RuntimeSubscriptions, APublicListenerRefusesChanges) {
  RuntimeSubscriptions subs(false);
  HttpRequest r;
  r.method = "POST";
  r.content_type = "application/json";
  r.body = R"({"token_ids":["1"]})";
  EXPECT_EQ(subs.change(r, true).status, 403);
  RuntimeSubscriptions local(true);
  EXPECT_EQ(local.change(r, true).status, 202);
  r.content_type = "text/plain";  // a cross-site form could send that
  EXPECT_EQ(local.change(r, true).status, 415);
  EXPECT_TRUE(local.take());
  const std::vector<std::vector<TokenInfo>> base = {{TokenInfo{"7", "", "", "", ""}}};
  EXPECT_EQ(local.compose(base).size(), 2u);  // "7" and "1"
  // Bounded: a request that would take the added set past its limit is refused whole.
  r.content_type = "application/json";
  for (std::size_t k = 0;
       k < RuntimeSubscriptions::kMaxAdded / RuntimeSubscriptions::kMaxIdsPerRequest; ++k) {
    std::string many = R"({"token_ids":[)";
    for (std::size_t i = 0; i < RuntimeSubscriptions::kMaxIdsPerRequest; ++i)
      many += (i ? ",\"" : "\"") + std::to_string(k * RuntimeSubscriptions::kMaxIdsPerRequest + i) +
              "\"";
    many += "]}";
    r.body = many;
    EXPECT_EQ(local.change(r, true).status, 202) << k;  // "1" again is not new
  }
  r.body = R"({"token_ids":["x1"]})";
  EXPECT_EQ(local.change(r, true).status, 409);
  EXPECT_EQ(local.change(r, false).status, 202);  // removals have their own bound
  EXPECT_TRUE(local.take());
  // "7" of the base was added too: carried once.
  EXPECT_EQ(local.compose(base).size(), RuntimeSubscriptions::kMaxAdded);
}

}  // namespace
}  // namespace booktape
