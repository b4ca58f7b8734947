// The Redis fan-out against a real redis-server started by the test, with an independent
// subscriber (hiredis, blocking, on its own connection).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "io/consumers/redis_publisher.hpp"
#include "tests/io/consumers/consumer_test_support.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/redis_server.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::book_of;
using testing::eventually;
using testing::redis_call;
using testing::RedisServer;
using testing::RedisSubscriber;

constexpr const char* kAsset =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";

struct Rig {
  explicit Rig(const std::string& url, double ttl = 5) {
    BookTableOptions t;
    t.slots = 16;
    t.depth = 20;
    table = std::make_unique<BookTable>(t);
    RedisOptions o;
    o.endpoint = *parse_redis_url(url);
    o.ttl_seconds = ttl;
    o.backoff_initial_seconds = 0.05;
    o.backoff_max_seconds = 0.2;
    redis = std::make_unique<RedisPublisher>(o, table->view(), [this](std::string s) {
      const std::lock_guard<std::mutex> lock(mu);
      notices.push_back(std::move(s));
    });
  }
  // Services the publisher until `done` or 10 s.
  template <class F>
  bool until(F done) {
    return eventually([&] {
      for (int i = 0; i < 50; ++i) {
        (void)redis->service(monotonic_now());
        std::this_thread::sleep_for(200us);
      }
      return done();
    });
  }
  std::string all_notices() {
    const std::lock_guard<std::mutex> lock(mu);
    std::string s;
    for (const auto& n : notices) s += n + "\n";
    return s;
  }
  std::unique_ptr<BookTable> table;
  std::unique_ptr<RedisPublisher> redis;
  std::mutex mu;
  std::vector<std::string> notices;
};

std::string field(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(json).get(e)) return "<not json>";
  simdjson::dom::element v;
  if (e[key].get(v)) return "<absent>";
  return simdjson::minify(v);
}

TEST(RedisPublisher, PublishesBooksAndTradesUnderTheSeedsNamesAndSetsTheKeyWithItsTtl) {
  RedisServer server;
  RedisSubscriber sub(server.port(), "polymarket:*");
  Rig rig(server.url());
  rig.table->assign(0, kAsset, "0xmarket");
  TokenBook tb = book_of({{5'000'000, 4800}, {1'000'000, 4700}}, {{2'500'000, 5200}});
  tb.last_event_ms = 1757908892351;
  rig.table->write_book(0, tb, 1'700'000'000'123'456'789, TradeMark{});
  rig.redis->book_changed(0);
  TradeRecord t;
  t.slot = 0;
  t.side = 1;
  t.price = 4900;
  t.size = 12'500'000;
  t.fee_rate_bps = 0;
  t.venue_ms = 1757908892000;
  t.received_ns = 1'700'000'000'000'000'001;
  rig.redis->trade(t);
  ASSERT_TRUE(rig.until([&] { return sub.count() >= 2; })) << rig.all_notices();

  const auto msgs = sub.messages();
  std::string book_msg, trade_msg;
  for (const auto& m : msgs) {
    if (m.channel == std::string("polymarket:orderbook:") + kAsset) book_msg = m.payload;
    if (m.channel == std::string("polymarket:trade:") + kAsset) trade_msg = m.payload;
  }
  EXPECT_EQ(field(book_msg, "bids"), R"([["0.48","5"],["0.47","1"]])");
  EXPECT_EQ(field(book_msg, "asks"), R"([["0.52","2.5"]])");
  EXPECT_EQ(field(book_msg, "market"), "\"0xmarket\"");
  EXPECT_EQ(field(book_msg, "best_bid"), "\"0.48\"");
  EXPECT_EQ(field(book_msg, "mid"), "\"0.5\"");
  EXPECT_EQ(field(book_msg, "spread"), "\"0.04\"");
  EXPECT_EQ(field(book_msg, "spread_bps"), "\"800\"");
  EXPECT_EQ(field(book_msg, "displayed_price"), "\"0.5\"");
  EXPECT_EQ(field(book_msg, "state"), "\"live\"");
  EXPECT_EQ(field(book_msg, "seq"), "1");
  EXPECT_EQ(field(book_msg, "venue_timestamp_ms"), "1757908892351");
  EXPECT_EQ(field(book_msg, "received_at_utc"), "\"2023-11-14T22:13:20.123456789Z\"");
  EXPECT_EQ(field(trade_msg, "price"), "\"0.49\"");
  EXPECT_EQ(field(trade_msg, "size"), "\"12.5\"");
  EXPECT_EQ(field(trade_msg, "side"), "\"SELL\"");
  EXPECT_EQ(field(trade_msg, "fee_rate_bps"), "0");
  EXPECT_EQ(field(trade_msg, "market"), "\"0xmarket\"");

  auto c = server.client();
  EXPECT_EQ(redis_call(c.get(), {"GET", std::string("orderbook:polymarket:") + kAsset}), book_msg);
  const long ttl =
      std::stol(redis_call(c.get(), {"PTTL", std::string("orderbook:polymarket:") + kAsset}));
  EXPECT_GT(ttl, 3000);
  EXPECT_LE(ttl, 5000);
  EXPECT_TRUE(rig.until([&] { return rig.redis->stats().published.load() == 1; }));
  EXPECT_EQ(rig.redis->stats().trades.load(), 1u);
  EXPECT_EQ(rig.redis->stats().errors.load(), 0u);
}

TEST(RedisPublisher, ALiveBooksKeyOutlivesItsTtlByRefreshesAndAStaleOnesExpires) {
  RedisServer server;
  Rig rig(server.url(), 0.4);
  rig.table->assign(0, "1", "m");
  rig.table->assign(1, "2", "m");
  rig.table->write_book(0, book_of({{1, 4000}}, {}), 1, TradeMark{});
  TokenBook stale = book_of({{1, 4000}}, {});
  stale.state = BookState::kStale;
  rig.table->write_book(1, stale, 1, TradeMark{});
  rig.redis->book_changed(0);
  rig.redis->book_changed(1);
  auto c = server.client();
  ASSERT_TRUE(rig.until([&] {
    return redis_call(c.get(), {"EXISTS", "orderbook:polymarket:2"}) == "1";
  }));
  // 1.2 s: three TTLs. The live book was refreshed; the stale one was left to expire.
  const auto until = std::chrono::steady_clock::now() + 1200ms;
  while (std::chrono::steady_clock::now() < until) {
    (void)rig.redis->service(monotonic_now());
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(redis_call(c.get(), {"EXISTS", "orderbook:polymarket:1"}), "1");
  EXPECT_EQ(redis_call(c.get(), {"EXISTS", "orderbook:polymarket:2"}), "0");
  EXPECT_GE(rig.redis->stats().refreshed.load(), 2u);
}

TEST(RedisPublisher, WhileRedisIsDownBooksConflateToTheLatestAndAllGoOutWhenItComesBack) {
  const std::uint16_t port = testing::dead_port();
  Rig rig("redis://127.0.0.1:" + std::to_string(port));
  rig.table->assign(0, "1", "m");
  for (int i = 1; i <= 50; ++i) {
    rig.table->write_book(0, book_of({{i, 4000}}, {}), i, TradeMark{});
    rig.redis->book_changed(0);
    (void)rig.redis->service(monotonic_now());
  }
  EXPECT_EQ(rig.redis->stats().conflated.load(), 49u);
  EXPECT_GE(rig.redis->stats().errors.load(), 1u);  // the refused connect
  EXPECT_NE(rig.all_notices().find("cannot connect"), std::string::npos) << rig.all_notices();
  // A server appears on that port.
  testing::TempDir dir;
  testing::Child redis({testing::kRedisServer, "--port", std::to_string(port), "--bind",
                        "127.0.0.1", "--save", "", "--dir", dir.path().string(), "--logfile",
                        (dir.path() / "log").string()});
  ASSERT_TRUE(rig.until([&] { return rig.redis->stats().published.load() == 1; }))
      << rig.all_notices();
  timeval tv{5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(field(redis_call(c, {"GET", "orderbook:polymarket:1"}), "bids"),
            R"([["0.4","0.00005"]])");
  redisFree(c);
  redis.signal(SIGKILL);
}

TEST(RedisPublisher, APasswordIsSentAndAWrongOneIsReportedWithoutIt) {
  RedisServer server({"--requirepass", "s3cret"});
  {
    Rig rig("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/2");
    rig.table->assign(0, "1", "m");
    rig.table->write_book(0, book_of({{1, 4000}}, {}), 1, TradeMark{});
    rig.redis->book_changed(0);
    ASSERT_TRUE(rig.until([&] { return rig.redis->stats().published.load() == 1; }))
        << rig.all_notices();
    auto c = server.client();
    EXPECT_EQ(redis_call(c.get(), {"AUTH", "s3cret"}), "OK");
    EXPECT_EQ(redis_call(c.get(), {"SELECT", "2"}), "OK");
    EXPECT_EQ(redis_call(c.get(), {"EXISTS", "orderbook:polymarket:1"}), "1");  // in db 2
  }
  Rig wrong("redis://:wrong-pass@127.0.0.1:" + std::to_string(server.port()));
  wrong.table->assign(0, "1", "m");
  wrong.redis->book_changed(0);
  ASSERT_TRUE(wrong.until([&] { return wrong.redis->stats().errors.load() >= 2; }));
  const std::string notes = wrong.all_notices();
  EXPECT_NE(notes.find("AUTH refused"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("wrong-pass"), std::string::npos) << notes;
  EXPECT_EQ(wrong.redis->stats().published.load(), 0u);
}

TEST(RedisPublisher, KilledAndRestartedRedisGetsEveryBookAgain) {
  RedisServer server;
  Rig rig(server.url());
  for (std::uint32_t s = 0; s < 5; ++s) {
    rig.table->assign(s, std::to_string(s), "m");
    rig.table->write_book(s, book_of({{1, 4000}}, {}), 1, TradeMark{});
    rig.redis->book_changed(s);
  }
  ASSERT_TRUE(rig.until([&] { return rig.redis->stats().published.load() == 5; }));
  server.kill();
  rig.table->write_book(3, book_of({{2, 4100}}, {}), 2, TradeMark{});
  rig.redis->book_changed(3);
  ASSERT_TRUE(rig.until([&] { return rig.redis->stats().disconnects.load() == 1; }))
      << rig.all_notices();
  server.start();
  ASSERT_TRUE(rig.until([&] {
    return rig.redis->stats().connects.load() == 2 && rig.redis->stats().published.load() >= 10;
  })) << rig.all_notices();
  auto c = server.client();
  for (int s = 0; s < 5; ++s)
    EXPECT_EQ(redis_call(c.get(), {"EXISTS", "orderbook:polymarket:" + std::to_string(s)}), "1")
        << s;
  EXPECT_EQ(field(redis_call(c.get(), {"GET", "orderbook:polymarket:3"}), "best_bid"), "\"0.41\"");
}

TEST(RedisUrl, AcceptsTheDocumentedFormsAndExplainsTheRest) {
  auto e = parse_redis_url("redis://localhost");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  e = parse_redis_url("redis://user:pa:ss@[::1]:6380/3");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 3);
  EXPECT_EQ(e->username, "user");
  EXPECT_EQ(e->password, "pa:ss");
  e = parse_redis_url("unix:///run/redis/redis.sock?db=4");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(e->db, 4);
  std::string why;
  for (const char* bad :
       {"http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
        "unix://relative.sock", "unix:///s?database=1", "redis://secret@h", "rediss://h"}) {
    EXPECT_FALSE(parse_redis_url(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  EXPECT_EQ(redact_redis_url("redis://:s3cret@h:1/2"), "redis://:***@h:1/2");
  EXPECT_EQ(redact_redis_url("redis://u:s3cret@h"), "redis://u:***@h");
  EXPECT_EQ(redact_redis_url("redis://h:1"), "redis://h:1");
}

}  // namespace
}  // namespace booktape
