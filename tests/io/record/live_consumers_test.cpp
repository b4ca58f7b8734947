// The recorder's live consumers end to end, in-process against the in-process simulator over
// real loopback sockets, with a real redis-server, a real HTTP receiver and an independent
// Redis subscriber: the last book published per token is what replaying the archive gives;
// every trade is published once; a Redis killed and restarted mid-run costs the archive
// nothing; alerts reach a webhook and a command with their fields; a hanging webhook never holds
// the books; books-only mode writes nothing and serves the same books; while a websocket is
// down consumers get the REST book, marked `rest`.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/mman.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "codecs/book_json.hpp"
#include "io/archive/paths.hpp"
#include "io/consumers/shm_book_table.hpp"
#include "io/record/recorder.hpp"
#include "io/replay/replayer.hpp"
#include "io/sim/server.hpp"
#include "tests/io/consumers/consumer_test_support.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sim_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::HttpReceiver;
using testing::RecorderRun;
using testing::RedisServer;
using testing::RedisSubscriber;
using testing::Sim;

namespace fs = std::filesystem;

SimServerOptions sim_options(std::uint64_t frames, double rate) {
  SimServerOptions o;
  o.market.seed = 11;
  o.market.lanes = 2;  // BTC 5m and 15m: the recorder's default series
  o.rate = rate;
  o.max_frames = frames;
  return o;
}

RecorderConfig config_for(SimServer& sim, const fs::path& out) {
  RecorderConfig c;
  c.ws_url = sim.ws_url();
  c.rest_url = c.gamma_url = sim.http_url();
  c.out = out;
  c.status = "off";
  c.rest_checkpoint_interval_seconds = 0.5;  // a bounded run's gate wants two rounds
  c.ring_bytes = std::size_t{8} << 20;
  c.max_frame_bytes = std::size_t{1} << 20;
  return c;
}

fs::path ws_dir(const fs::path& out) {
  return archive_stream_dir(out, "polymarket", "ws_raw");
}

// The recorder's status JSON, parsed (a document that owns its parser).
struct Status {
  explicit Status(Recorder& r) : text(r.status_json()) { root = parser.parse(text); }
  std::uint64_t at(std::initializer_list<const char*> path) {
    simdjson::dom::element e = root;
    for (const char* k : path)
      if (e[k].get(e) != simdjson::SUCCESS) return 0;
    std::uint64_t v = 0;
    return e.get_uint64().get(v) == simdjson::SUCCESS ? v : 0;
  }
  std::string text;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

// A book in the --dump-books shape cut to `depth` levels a side, minified.
std::string top_levels(std::string_view book_json, std::size_t depth) {
  simdjson::dom::parser p;
  simdjson::dom::element b = p.parse(book_json);
  std::string out = "{\"asset_id\":";
  append_json_string(out, std::string_view(b["asset_id"]));
  for (const char* side : {"bids", "asks"}) {
    out += std::string(",\"") + side + "\":[";
    std::size_t n = 0;
    for (simdjson::dom::element l : simdjson::dom::array(b[side])) {
      if (n == depth) break;
      out += (n++ ? "," : "") + simdjson::minify(l);
    }
    out += ']';
  }
  return out + "}";
}

// Every token the archive replays to has its book key in Redis.
void expect_every_book_in_redis(RedisServer& redis, const Replayer& replayer) {
  auto client = redis.client();
  for (const auto& [id, book] : testing::books_by_asset(books_json(replayer.books())))
    EXPECT_EQ(testing::redis_call(client.get(), {"EXISTS", "orderbook:polymarket:" + id}), "1")
        << id;
}

TEST(LiveConsumers, RedisCarriesTheLastBookOfEveryTokenAsReplayedAndEveryTradeOnce) {
  RedisServer redis;
  RedisSubscriber sub(redis.port(), "polymarket:*");
  testing::TempDir dir;
  Sim sim(sim_options(8'000, 2'500));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 4;
  c.redis_url = redis.url();
  RecorderRun run(c);

  // While it runs: a live book's key exists with its TTL (5 s), refreshed as it goes.
  auto client = redis.client();
  std::string key;
  ASSERT_TRUE(eventually([&] {
    const std::string keys = testing::redis_call(client.get(), {"RANDOMKEY"});
    if (keys.starts_with("orderbook:polymarket:")) key = keys;
    return !key.empty();
  }));
  const long ttl = std::stol(testing::redis_call(client.get(), {"PTTL", key}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 5000);
  EXPECT_EQ(run.wait(), 0);
  std::this_thread::sleep_for(300ms);  // the subscriber's last reads

  // The last book message of each token, in the --dump-books shape.
  std::map<std::string, std::string> last;
  std::multiset<std::string> trades;
  simdjson::dom::parser p;
  for (const auto& m : sub.messages()) {
    simdjson::dom::element e = p.parse(m.payload);
    const std::string id{std::string_view(e["asset_id"])};
    if (m.channel.starts_with("polymarket:trade:")) {
      EXPECT_EQ(m.channel, "polymarket:trade:" + id);
      trades.insert(id + " " + std::string(std::string_view(e["received_at_utc"])) + " " +
                    std::string(std::string_view(e["price"])) + " " +
                    std::string(std::string_view(e["size"])));
      continue;
    }
    ASSERT_EQ(m.channel, "polymarket:orderbook:" + id);
    std::string shaped = "{\"asset_id\":";
    append_json_string(shaped, id);
    shaped += ",\"bids\":" + simdjson::minify(e["bids"]) +
              ",\"asks\":" + simdjson::minify(e["asks"]) + "}";
    last[id] = shaped;
  }
  Replayer replayer;
  replayer.run({ws_dir(c.out)});
  const auto replayed = testing::books_by_asset(books_json(replayer.books()));
  ASSERT_GE(replayed.size(), 4u);
  for (const auto& [id, book] : replayed) {
    ASSERT_TRUE(last.count(id)) << "no book published for " << id;
    EXPECT_EQ(last[id], top_levels(book, c.consumer_depth)) << id;
  }
  // Every trade the archive holds was published, and once.
  const auto trade_events =
      replayer.decoder_stats()
          .events_by_type[static_cast<std::size_t>(polymarket::EventType::kLastTradePrice)];
  EXPECT_GT(trade_events, 10u);
  EXPECT_EQ(trades.size(), trade_events);
  EXPECT_EQ(std::set<std::string>(trades.begin(), trades.end()).size(), trades.size());
  Status s(run.get());
  EXPECT_EQ(s.at({"consumers", "redis", "errors"}), 0u) << s.text;
  EXPECT_EQ(s.at({"consumers", "redis", "trades_dropped"}), 0u) << s.text;
  EXPECT_EQ(s.at({"consumers", "redis", "trades"}), trade_events) << s.text;
}

TEST(LiveConsumers, RedisKilledAndRestartedMidRunCostsTheArchiveNothing) {
  RedisServer redis;
  testing::TempDir dir;
  Sim sim(sim_options(12'000, 2'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 6;
  c.rest_checkpoint_interval_seconds = 0.5;
  c.redis_url = redis.url();
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] {
    return Status(run.get()).at({"consumers", "redis", "published"}) > 50;
  }));
  redis.kill();
  ASSERT_TRUE(eventually([&] {
    return Status(run.get()).at({"consumers", "redis", "disconnects"}) == 1;
  }));
  std::this_thread::sleep_for(1s);
  redis.start();
  ASSERT_TRUE(eventually([&] {
    return Status(run.get()).at({"consumers", "redis", "connects"}) == 2;
  }));
  EXPECT_EQ(run.wait(), 0);
  EXPECT_EQ(run.get().gate(), "WS_RAW_SAMPLE_PASS");

  // Everything the simulator sent is in the archive.
  Status s(run.get());
  const std::uint64_t received = s.at({"network", "frames"});
  Replayer replayer;
  replayer.run({ws_dir(c.out)});
  EXPECT_EQ(replayer.summary().frames, received);
  EXPECT_EQ(s.at({"archive", "frames_dropped"}), 0u);
  EXPECT_EQ(s.at({"network", "ring_full_waits"}), 0u);
  // And Redis has every token's book again.
  expect_every_book_in_redis(redis, replayer);
}

TEST(LiveConsumers, ARedisThatStopsReadingNeverSlowsTheBooksAndCatchesUpWhenItResumes) {
  RedisServer redis;
  testing::TempDir dir;
  Sim sim(sim_options(20'000, 5'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 6;
  c.redis_url = redis.url();
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] {
    return Status(run.get()).at({"consumers", "redis", "published"}) > 50;
  }));
  redis.pause();  // frozen: nothing read, nothing answered
  std::this_thread::sleep_for(2s);
  {
    Status s(run.get());
    // The books kept up with the network while Redis was frozen, and no frame waited for room.
    EXPECT_GE(s.at({"books", "frames"}) + 50, s.at({"network", "frames"})) << s.text;
    EXPECT_EQ(s.at({"network", "ring_full_waits"}), 0u);
  }
  redis.resume();
  EXPECT_EQ(run.wait(), 0);
  Status s(run.get());
  // Books waited and merged (in the feed when the consumer thread was behind, or in front of
  // Redis when its buffers were full: which one depends on the machine); trades waited.
  EXPECT_GT(s.at({"consumers", "redis", "conflated"}) + s.at({"consumers", "feed", "conflated"}),
            0u)
      << s.text;
  EXPECT_EQ(s.at({"consumers", "redis", "trades_dropped"}), 0u) << s.text;
  EXPECT_EQ(s.at({"consumers", "redis", "trades"}), s.at({"consumers", "feed", "trades"}))
      << s.text;
  EXPECT_EQ(s.at({"books", "frames"}), s.at({"network", "frames"}));
  EXPECT_EQ(run.get().gate(), "WS_RAW_SAMPLE_PASS");
  // Every token's latest book reached Redis after it resumed.
  Replayer replayer;
  replayer.run({ws_dir(c.out)});
  expect_every_book_in_redis(redis, replayer);
}

TEST(LiveConsumers, AlertsReachAWebhookAndACommandWithTheirFields) {
  HttpReceiver hook;
  testing::TempDir dir;
  Sim sim(sim_options(4'000, 2'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 3;
  c.alerts = {"bid>=0.01", "disconnects>=1"};  // every token's first live book fires
  c.alert_webhook = hook.url("/alerts?token=secret-token");
  const fs::path lines = dir.path() / "alerts.jsonl";
  c.alert_command = {"/usr/bin/tee", "-a", lines.string()};
  RecorderRun run(c);
  EXPECT_EQ(run.wait(), 0);

  const auto got = hook.requests();
  ASSERT_GE(got.size(), 4u);
  simdjson::dom::parser p;
  std::set<std::string> assets;
  for (const auto& r : got) {
    EXPECT_NE(r.head.find("POST /alerts?token=secret-token HTTP/1.1"), std::string::npos) << r.head;
    EXPECT_NE(r.head.find("application/json"), std::string::npos) << r.head;
    simdjson::dom::element a = p.parse(r.body);
    EXPECT_EQ(std::string_view(a["rule"]), "bid>=0.01");
    assets.insert(std::string(std::string_view(a["asset_id"])));
    EXPECT_TRUE(std::string_view(a["market"]).starts_with("btc-")) << r.body;  // the slug
    const std::string_view outcome = a["outcome"];
    EXPECT_TRUE(outcome == "Up" || outcome == "Down") << r.body;
    EXPECT_EQ(std::string_view(a["value"]), std::string_view(a["best_bid"]));
    EXPECT_FALSE(std::string_view(a["best_ask"]).empty());
    const auto received = parse_utc(std::string_view(a["received_at_utc"]));
    const auto fired = parse_utc(std::string_view(a["fired_at_utc"]));
    ASSERT_TRUE(received && fired) << r.body;
    EXPECT_LE(*received, *fired);
    EXPECT_LE(*fired, r.arrived_ns);
  }
  EXPECT_EQ(assets.size(), got.size()) << "one alert a token: edge-triggered";
  // The command got the same alerts, one line each.
  std::ifstream in(lines);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line); ++n)
    EXPECT_EQ(p.parse(line)["rule"].get_string().value(), "bid>=0.01");
  EXPECT_EQ(n, got.size());
  Status s(run.get());
  EXPECT_EQ(s.at({"consumers", "alerts", "fired"}), got.size());
  EXPECT_EQ(s.at({"consumers", "alerts", "delivered"}), got.size());
  EXPECT_EQ(s.at({"consumers", "alerts", "failed"}), 0u);
  EXPECT_EQ(s.at({"consumers", "alerts", "frame_to_webhook", "count"}), got.size());
  // The webhook's secret path never reaches the run manifest.
  std::ifstream manifest(c.out / "manifests" / "checkpoint_010b_ws_raw_sample.json");
  const std::string m((std::istreambuf_iterator<char>(manifest)), {});
  EXPECT_EQ(m.find("secret-token"), std::string::npos);
}

TEST(LiveConsumers, AHangingWebhookTimesOutAndTheBooksNeverWait) {
  HttpReceiver hook(/*hang=*/true);
  testing::TempDir dir;
  Sim sim(sim_options(6'000, 2'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 3;
  c.alerts = {"bid>=0.01"};
  c.alert_webhook = hook.url();
  c.alert_timeout_seconds = 0.3;
  RecorderRun run(c);
  EXPECT_EQ(run.wait(), 0);
  Status s(run.get());
  EXPECT_GE(s.at({"consumers", "alerts", "failed"}), 1u) << s.text;
  EXPECT_GE(s.at({"consumers", "alerts", "retries"}), 2u) << s.text;
  // The books took every frame the network read.
  EXPECT_EQ(s.at({"books", "frames"}), s.at({"network", "frames"}));
  EXPECT_GT(s.at({"network", "frames"}), 2'000u);
  EXPECT_EQ(run.get().gate(), "WS_RAW_SAMPLE_PASS");
}

TEST(LiveConsumers, BooksOnlyWritesNoArchiveAndServesTheSimulatorsBooks) {
  testing::TempDir dir;
  Sim sim(sim_options(3'000, 3'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.books_only = true;
  c.rest_checkpoint_interval_seconds = 0.5;
  c.shm = testing::unique_shm_name("books-only");
  c.consumer_depth = 1000;  // whole books, to compare with the simulator's
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return sim->frames_generated() >= 3'000; }));
  // The simulator is done (it generates for more tokens than the recorder subscribes to): the
  // books have every frame it sent once the connection's count stops moving.
  std::uint64_t sent = 0;
  ASSERT_TRUE(eventually([&] {
    testing::TruthView t(sim->truth_json());
    const std::uint64_t now = std::uint64_t(t.conn(0)["frames"]);
    const bool still = now == sent && Status(run.get()).at({"books", "frames"}) == now;
    sent = now;
    return still;
  }));
  const auto truth = testing::books_by_asset(sim->books_json());
  {
    const shm::Reader table(c.shm);
    ASSERT_GE(table.slots_used(), 4u);
    shm::Book b;
    for (std::uint32_t i = 0; i < table.slots_used(); ++i) {
      ASSERT_EQ(table.read_book(i, b), shm::ReadResult::kOk);
      std::vector<Level> bids, asks;
      for (const auto& l : b.bids) bids.push_back({l.size, l.price});
      for (const auto& l : b.asks) asks.push_back({l.size, l.price});
      const TokenBook tb = testing::book_of(bids, asks);
      std::string ours = "[";
      append_book_json(ours, b.asset_id(), tb.book, BookState::kLive, 0);
      ours += ']';
      EXPECT_EQ(testing::books_by_asset(ours).at(b.asset_id()), truth.at(b.asset_id()))
          << b.asset_id();
    }
  }
  EXPECT_EQ(run.stop(), 0);
  EXPECT_FALSE(fs::exists(c.out / "raw_orderbooks"));
  EXPECT_FALSE(fs::exists(c.out / "manifests"));
  ::shm_unlink(("/" + c.shm).c_str());
}

TEST(LiveConsumers, WhileTheWebsocketIsDownConsumersGetTheRestBookMarkedRest) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 200));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.rest_checkpoint_interval_seconds = 0.2;
  c.backoff_initial_seconds = c.backoff_max_seconds = 4;  // a long outage
  c.shm = testing::unique_shm_name("rest");
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return Status(run.get()).at({"books", "live"}) >= 4; }));
  const shm::Reader table(c.shm);
  FaultSpec drop;
  drop.kind = "drop";
  std::string err;
  ASSERT_TRUE(sim->inject(drop, err)) << err;
  // Down: the slots show the REST books, marked rest, with their times.
  shm::Book b;
  ASSERT_TRUE(eventually(
      [&] {
        if (table.read_book(0, b) != shm::ReadResult::kOk) return false;
        return b.head.state == static_cast<std::uint8_t>(shm::State::kRest);
      },
      3s))
      << shm::state_name(b.head.state);
  EXPECT_GT(b.head.rest_fetched_ns, 0);
  EXPECT_GT(b.head.venue_ms, 0);
  EXPECT_FALSE(b.bids.empty() && b.asks.empty());
  EXPECT_EQ(b.head.stale_reason, static_cast<std::uint8_t>(StaleReason::kExternal));
  EXPECT_TRUE(eventually([&] {
    return Status(run.get()).at({"consumers", "feed", "rest_books"}) >= 1;
  }));
  // Back up: the live book takes the slot again.
  ASSERT_TRUE(eventually(
      [&] {
        return table.read_book(0, b) == shm::ReadResult::kOk &&
               b.head.state == static_cast<std::uint8_t>(shm::State::kLive);
      },
      10s))
      << shm::state_name(b.head.state);
  EXPECT_EQ(b.head.rest_fetched_ns, 0);
  EXPECT_EQ(run.stop(), 0);
  ::shm_unlink(("/" + c.shm).c_str());
}

}  // namespace
}  // namespace booktape
