// The book stage's feed: real fixtures through the real decoder and applier, what lands in the
// table and the queues, conflation while the consumer thread is away, trades never conflated.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "codecs/polymarket_decoder.hpp"
#include "io/consumers/consumer_feed.hpp"
#include "tests/support/fixture_files.hpp"

namespace booktape {
namespace {

constexpr const char* kAsset =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";

struct Stage {
  explicit Stage(std::uint32_t slots = 8, std::size_t trades = 16)
      : feed([&] {
          ConsumerFeedOptions o;
          o.table.slots = slots;
          o.table.depth = 4;
          o.trade_queue = trades;
          return o;
        }()),
        applier(books) {
    feed.attach(books);
    applier.observer = &feed;
  }
  void frame(const std::string& text, std::int64_t received_ns) {
    const simdjson::padded_string p(text);
    books.begin_frame(0, received_ns);
    feed.begin_frame(received_ns);
    decoder.decode(p.data(), p.size(), p.size() + simdjson::SIMDJSON_PADDING, applier);
    feed.flush();
  }
  std::vector<std::uint32_t> dirty() {
    std::vector<std::uint32_t> out;
    std::uint32_t s = 0;
    while (feed.pop_dirty(s)) out.push_back(s);
    return out;
  }
  ConsumerFeed feed;
  BookKeeper books;
  polymarket::Decoder decoder;
  polymarket::BookApplier applier;
};

TEST(ConsumerFeed, ABookFromTheWireLandsInItsSlotAndQueuesItsToken) {
  Stage s;
  s.frame(testing::fixture("ws_market_book_msg.json"), 42);
  EXPECT_EQ(s.dirty(), std::vector<std::uint32_t>{0});
  shm::Book b;
  ASSERT_EQ(s.feed.table().view().read_book(0, b), shm::ReadResult::kOk);
  EXPECT_EQ(b.asset_id(), kAsset);
  EXPECT_EQ(b.market(), "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917");
  EXPECT_EQ(b.head.received_ns, 42);
  EXPECT_EQ(b.head.venue_ms, 1703875200000);
  EXPECT_EQ(b.head.best_bid, 5000);
  EXPECT_EQ(b.head.best_ask, 5100);
  EXPECT_EQ(b.head.best_ask_size, 150'000'000);
  EXPECT_EQ(b.bids.size(), 2u);
  EXPECT_STREQ(shm::state_name(b.head.state), "live");
  s.feed.publish(0);
  EXPECT_EQ(s.feed.stats().updates.load(), 1u);
}

TEST(ConsumerFeed, UpdatesWhileTheTokenWaitsAreConflatedIntoTheLatestState) {
  Stage s;
  s.frame(testing::fixture("ws_market_book_msg.json"), 1);
  s.frame(testing::fixture("ws_market_price_change_msg.json"), 2);
  s.frame(testing::fixture("ws_market_price_change_msg.json"), 3);
  EXPECT_EQ(s.dirty(), std::vector<std::uint32_t>{0});  // once, not three times
  s.feed.publish(0);
  EXPECT_EQ(s.feed.stats().updates.load(), 3u);
  EXPECT_EQ(s.feed.stats().conflated.load(), 2u);
  shm::Top top;
  ASSERT_EQ(s.feed.table().view().read_top(0, top), shm::ReadResult::kOk);
  EXPECT_EQ(top.best_bid, 5100);  // the price_change's new level
  EXPECT_EQ(top.received_ns, 3);
  EXPECT_EQ(top.update_seq, 3u);
  // Popped: the next change queues it again.
  s.frame(testing::fixture("ws_market_price_change_msg.json"), 4);
  EXPECT_EQ(s.dirty(), std::vector<std::uint32_t>{0});
}

TEST(ConsumerFeed, EveryTradeIsQueuedAndAFullQueueCountsWhatItDrops) {
  Stage s(8, 2);
  s.frame(testing::fixture("ws_market_book_msg.json"), 1);
  for (int i = 0; i < 3; ++i) s.frame(testing::fixture("ws_market_last_trade_msg.json"), 10 + i);
  TradeRecord t;
  ASSERT_TRUE(s.feed.pop_trade(t));
  EXPECT_EQ(t.slot, 0u);
  EXPECT_EQ(t.price, 5100);
  EXPECT_EQ(t.size, 25'000'000);
  EXPECT_EQ(t.side, 0);  // BUY
  EXPECT_EQ(t.fee_rate_bps, 0);
  EXPECT_EQ(t.received_ns, 10);
  ASSERT_TRUE(s.feed.pop_trade(t));
  EXPECT_EQ(t.received_ns, 11);
  EXPECT_FALSE(s.feed.pop_trade(t));
  s.feed.publish(0);
  EXPECT_EQ(s.feed.stats().trades.load(), 3u);
  EXPECT_EQ(s.feed.stats().trades_dropped.load(), 1u);
  shm::Top top;
  ASSERT_EQ(s.feed.table().view().read_top(0, top), shm::ReadResult::kOk);
  EXPECT_EQ(top.last_trade_price, 5100);
  EXPECT_EQ(top.last_trade_side, 0);
  EXPECT_EQ(top.last_trade_ms, 1703875202000);
}

TEST(ConsumerFeed, TokensPastTheTablesSlotsAreCountedNotServed) {
  Stage s(1);
  s.frame(testing::fixture("ws_market_book_msg.json"), 1);
  std::string other = testing::fixture("ws_market_book_msg.json");
  other.replace(other.find(kAsset), 5, "99999");
  s.frame(other, 2);
  EXPECT_EQ(s.dirty(), std::vector<std::uint32_t>{0});
  s.feed.publish(0);
  EXPECT_EQ(s.feed.stats().unserved.load(), 1u);
  EXPECT_EQ(s.feed.table().view().slots_used(), 1u);
}

TEST(ConsumerFeed, ARestBookIsShownForATokenWhoseLiveBookIsStaleAndTheLiveBookStaysApart) {
  Stage s;
  s.frame(testing::fixture("ws_market_book_msg.json"), 1);
  (void)s.dirty();
  s.books.mark_stale(0, StaleReason::kExternal);
  s.feed.touch(0);
  s.feed.flush();
  const std::vector<Level> bids = {{1'000'000, 4000}}, asks = {{2'000'000, 6000}};
  s.feed.rest_book(0, bids, asks, 1703875300000, 99);
  EXPECT_EQ(s.dirty(), std::vector<std::uint32_t>{0});
  shm::Book b;
  ASSERT_EQ(s.feed.table().view().read_book(0, b), shm::ReadResult::kOk);
  EXPECT_STREQ(shm::state_name(b.head.state), "rest");
  EXPECT_EQ(b.head.best_bid, 4000);
  EXPECT_EQ(b.head.rest_fetched_ns, 99);
  // The live book was not touched: still the websocket's levels, still stale.
  EXPECT_EQ(s.books.book(0).book.bids().best().price, 5000);
  EXPECT_EQ(s.books.book(0).state, BookState::kStale);
  // Its next live change takes the slot back.
  s.frame(testing::fixture("ws_market_book_msg.json"), 5);
  ASSERT_EQ(s.feed.table().view().read_book(0, b), shm::ReadResult::kOk);
  EXPECT_STREQ(shm::state_name(b.head.state), "live");
  EXPECT_EQ(b.head.best_bid, 5000);
}

}  // namespace
}  // namespace booktape
