#include "codecs/polymarket_decoder.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/codecs/fixtures.hpp"

namespace booktape::polymarket {
namespace {

using booktape::testing::fixture_names;
using booktape::testing::read_fixture;
using booktape::testing::with_event_type;

constexpr Size kShare = kSizeScale;  // 1 share in micro-units

// Ids that recur across the Nautilus fixtures.
const std::string kTokenA =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const std::string kTokenB =
    "52114319501245915516055106046884209969926127482827954674443846427813813222426";
const std::string kMarketDd = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917";
const std::string kNvdaYes =
    "76043073756653678226373981964075571318267289248134717369284518995922789326425";
const std::string kNvdaNo =
    "31690934263385727664202099278545688007799199447969475608906331829650099442770";
const std::string kNvdaMarket =
    "0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1";

// ---------------------------------------------------------------------------------------------
// A sink that copies everything it receives into owned values (the events are views, valid only
// during the callback), plus the order of callbacks.

struct Lv {
  Price price;
  Size size;
  bool operator==(const Lv&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Lv& l) {
  return os << '{' << l.price << ',' << l.size << '}';
}

struct RecBook {
  std::string asset_id, market, hash;
  std::int64_t timestamp_ms = 0;
  std::vector<Lv> bids, asks;
  std::uint32_t bad_levels = 0;
};

struct RecEntry {
  std::string asset_id, hash;
  Price price = 0;
  Size size = 0;
  Side side = Side::kBid;
  std::uint8_t flags = 0;
  Price venue_bid = 0, venue_ask = 0;
};

struct RecPriceChange {
  std::string market;
  std::int64_t timestamp_ms = 0;
  bool legacy = false;
  std::vector<RecEntry> entries;
};

struct RecTrade {
  std::string asset_id, market, transaction_hash;
  Price price = 0;
  Size size = 0;
  Side side = Side::kBid;
  std::int64_t fee_rate_bps = 0;
  std::int64_t timestamp_ms = 0;
  std::uint8_t flags = 0;
};

struct RecTick {
  std::string asset_id, market;
  Price old_tick = 0, new_tick = 0;
  std::int64_t timestamp_ms = 0;
  std::uint8_t flags = 0;
};

struct RecBba {
  std::string asset_id, market;
  Price bid = 0, ask = 0, spread = 0;
  std::int64_t timestamp_ms = 0;
  std::uint8_t flags = 0;
};

struct RecMarket {
  EventType type = EventType::kUnknown;
  std::string id, market, slug, question, winning_asset_id, winning_outcome;
  std::vector<std::string> assets_ids, outcomes;
  std::int64_t timestamp_ms = 0;
};

struct RecInvalid {
  EventType type;
  InvalidReason reason;
};

std::vector<Lv> levels_of(std::span<const Level> s) {
  std::vector<Lv> out;
  for (const Level& l : s) out.push_back(Lv{l.price, l.size});
  return out;
}

class Recorder final : public EventSink {
 public:
  void on_book(BookEvent& e) override {
    books.push_back(RecBook{std::string(e.asset_id), std::string(e.market), std::string(e.hash),
                            e.timestamp_ms, levels_of(e.bids), levels_of(e.asks), e.bad_levels});
    order.push_back("book");
  }
  void on_price_change(const PriceChangeEvent& e) override {
    RecPriceChange r{std::string(e.market), e.timestamp_ms, e.legacy, {}};
    for (const PriceChangeEntry& c : e.entries) {
      r.entries.push_back(RecEntry{std::string(c.asset_id), std::string(c.hash), c.price, c.size,
                                   c.side, c.flags, c.venue_top.bid, c.venue_top.ask});
    }
    price_changes.push_back(std::move(r));
    order.push_back("price_change");
  }
  void on_last_trade(const LastTradeEvent& e) override {
    trades.push_back(RecTrade{std::string(e.asset_id), std::string(e.market),
                              std::string(e.transaction_hash), e.price, e.size, e.side,
                              e.fee_rate_bps, e.timestamp_ms, e.flags});
    order.push_back("last_trade_price");
  }
  void on_tick_size_change(const TickSizeChangeEvent& e) override {
    ticks.push_back(RecTick{std::string(e.asset_id), std::string(e.market), e.old_tick, e.new_tick,
                            e.timestamp_ms, e.flags});
    order.push_back("tick_size_change");
  }
  void on_best_bid_ask(const BestBidAskEvent& e) override {
    bbas.push_back(RecBba{std::string(e.asset_id), std::string(e.market), e.top.bid, e.top.ask,
                          e.spread, e.timestamp_ms, e.flags});
    order.push_back("best_bid_ask");
  }
  void on_market(const MarketEvent& e) override {
    RecMarket m{e.type,
                std::string(e.id),
                std::string(e.market),
                std::string(e.slug),
                std::string(e.question),
                std::string(e.winning_asset_id),
                std::string(e.winning_outcome),
                {},
                {},
                e.timestamp_ms};
    for (std::string_view s : e.assets_ids) m.assets_ids.emplace_back(s);
    for (std::string_view s : e.outcomes) m.outcomes.emplace_back(s);
    markets.push_back(std::move(m));
    order.push_back(to_string(e.type));
  }
  void on_unknown(std::string_view event_type) override {
    unknown.emplace_back(event_type);
    order.push_back("unknown:" + std::string(event_type));
  }
  void on_invalid(EventType t, InvalidReason why) override {
    invalid.push_back(RecInvalid{t, why});
    order.push_back(std::string("invalid:") + to_string(t));
  }

  std::vector<RecBook> books;
  std::vector<RecPriceChange> price_changes;
  std::vector<RecTrade> trades;
  std::vector<RecTick> ticks;
  std::vector<RecBba> bbas;
  std::vector<RecMarket> markets;
  std::vector<std::string> unknown;
  std::vector<RecInvalid> invalid;
  std::vector<std::string> order;  // one name per callback, in call order
};

std::size_t idx(FrameKind k) { return static_cast<std::size_t>(k); }
std::size_t idx(EventType t) { return static_cast<std::size_t>(t); }

// Decodes `text` as a frame of exactly its size (the decoder pads a copy itself).
DecodeResult decode(Decoder& d, std::string_view text, Recorder& r) { return d.decode(text, r); }

// ---------------------------------------------------------------------------------------------
// Coverage: every market-channel fixture in the shared folder has a test here.

TEST(PolymarketDecoderFixtures, EveryMarketChannelFixtureIsCovered) {
  const std::set<std::string> covered = {
      "ws_book_snapshot.json",           "ws_book_snapshot_missing_hash.json",
      "ws_last_trade.json",              "ws_market_best_bid_ask_msg.json",
      "ws_market_book_msg.json",         "ws_market_last_trade_msg.json",
      "ws_market_mixed_known_unknown.json", "ws_market_new_market_msg.json",
      "ws_market_price_change_msg.json", "ws_market_resolved_msg.json",
      "ws_market_tick_size_msg.json",    "ws_quotes.json",
      "ws_tick_size_change.json"};
  std::set<std::string> found;
  for (const std::string& name : fixture_names()) {
    if (name.starts_with("ws_")) found.insert(name);
  }
  EXPECT_EQ(found, covered) << "a market-channel fixture was added or removed; cover it here";
}

// ---------------------------------------------------------------------------------------------
// Fixtures that carry event_type.

TEST(PolymarketDecoderFixtures, BookMessageDecodesLevelsInWireOrder) {
  Decoder d;
  Recorder r;
  const DecodeResult res = decode(d, read_fixture("ws_market_book_msg.json"), r);
  EXPECT_EQ(res.kind, FrameKind::kJson);
  EXPECT_EQ(res.json_error, 0);
  EXPECT_EQ(res.events, 1u);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.order, std::vector<std::string>{"book"});
  const RecBook& b = r.books[0];
  EXPECT_EQ(b.asset_id, kTokenA);
  EXPECT_EQ(b.market, kMarketDd);
  EXPECT_EQ(b.hash, "");  // this fixture has no hash
  EXPECT_EQ(b.timestamp_ms, 1'703'875'200'000);
  // "0.50"/"200.0", "0.49"/"350.0" (best first in this hand-written fixture).
  EXPECT_EQ(b.bids, (std::vector<Lv>{{5'000, 200 * kShare}, {4'900, 350 * kShare}}));
  EXPECT_EQ(b.asks, (std::vector<Lv>{{5'100, 150 * kShare}, {5'200, 250 * kShare}}));
  EXPECT_EQ(b.bad_levels, 0u);
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kBook)], 1u);
  EXPECT_EQ(d.stats().bad_values, 0u);
}

TEST(PolymarketDecoderFixtures, PriceChangeMessageDecodesEntryAndVenueTop) {
  Decoder d;
  Recorder r;
  const DecodeResult res = decode(d, read_fixture("ws_market_price_change_msg.json"), r);
  EXPECT_EQ(res.kind, FrameKind::kJson);
  EXPECT_EQ(res.events, 1u);
  ASSERT_EQ(r.price_changes.size(), 1u);
  const RecPriceChange& p = r.price_changes[0];
  EXPECT_EQ(p.market, kMarketDd);
  EXPECT_EQ(p.timestamp_ms, 1'703'875'201'000);
  EXPECT_FALSE(p.legacy);
  ASSERT_EQ(p.entries.size(), 1u);
  const RecEntry& e = p.entries[0];
  EXPECT_EQ(e.asset_id, kTokenA);
  EXPECT_EQ(e.hash, "0xhash001");
  EXPECT_EQ(e.price, 5'100);
  EXPECT_EQ(e.size, 150 * kShare);
  EXPECT_EQ(e.side, Side::kBid);  // BUY
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(e.venue_bid, 5'100);
  EXPECT_EQ(e.venue_ask, 5'200);
}

TEST(PolymarketDecoderFixtures, LastTradeMessageDecodesTakerSideAndFee) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, read_fixture("ws_market_last_trade_msg.json"), r).events, 1u);
  ASSERT_EQ(r.trades.size(), 1u);
  const RecTrade& t = r.trades[0];
  EXPECT_EQ(t.asset_id, kTokenA);
  EXPECT_EQ(t.market, kMarketDd);
  EXPECT_EQ(t.transaction_hash, "");  // the develop version of the fixture has none
  EXPECT_EQ(t.price, 5'100);
  EXPECT_EQ(t.size, 25 * kShare);
  EXPECT_EQ(t.side, Side::kBid);
  EXPECT_EQ(t.fee_rate_bps, 0);
  EXPECT_EQ(t.timestamp_ms, 1'703'875'202'000);
  EXPECT_EQ(t.flags, 0);
}

TEST(PolymarketDecoderFixtures, TickSizeMessageDecodesOldAndNewTick) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, read_fixture("ws_market_tick_size_msg.json"), r).events, 1u);
  ASSERT_EQ(r.ticks.size(), 1u);
  const RecTick& t = r.ticks[0];
  EXPECT_EQ(t.asset_id, kTokenA);
  EXPECT_EQ(t.market, kMarketDd);
  EXPECT_EQ(t.new_tick, 100);    // "0.01"
  EXPECT_EQ(t.old_tick, 1'000);  // "0.1"
  EXPECT_EQ(t.timestamp_ms, 1'703'875'210'000);
  EXPECT_EQ(t.flags, 0);
}

TEST(PolymarketDecoderFixtures, BestBidAskMessageDecodesTopAndSpread) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, read_fixture("ws_market_best_bid_ask_msg.json"), r).events, 1u);
  ASSERT_EQ(r.bbas.size(), 1u);
  const RecBba& b = r.bbas[0];
  EXPECT_EQ(b.asset_id,
            "85354956062430465315924116860125388538595433819574542752031640332592237464430");
  EXPECT_EQ(b.market, "0x0005c0d312de0be897668695bae9f32b624b4a1ae8b140c49f08447fcc74f442");
  EXPECT_EQ(b.bid, 7'300);
  EXPECT_EQ(b.ask, 7'700);
  EXPECT_EQ(b.spread, 400);
  EXPECT_EQ(b.timestamp_ms, 1'766'789'469'958);
  EXPECT_EQ(b.flags, 0);
}

TEST(PolymarketDecoderFixtures, NewMarketMessageDecodesAssetsAndOutcomes) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, read_fixture("ws_market_new_market_msg.json"), r).events, 1u);
  ASSERT_EQ(r.markets.size(), 1u);
  const RecMarket& m = r.markets[0];
  EXPECT_EQ(m.type, EventType::kNewMarket);
  EXPECT_EQ(m.id, "1031769");  // the top-level id, not event_message.id ("125819")
  EXPECT_EQ(m.market, kNvdaMarket);
  EXPECT_EQ(m.slug, "nvda-above-240-on-january-30-2026");  // not event_message.slug
  EXPECT_EQ(m.question, "Will NVIDIA (NVDA) close above $240 end of January?");
  EXPECT_EQ(m.assets_ids, (std::vector<std::string>{kNvdaYes, kNvdaNo}));
  EXPECT_EQ(m.outcomes, (std::vector<std::string>{"Yes", "No"}));
  EXPECT_EQ(m.winning_asset_id, "");
  EXPECT_EQ(m.winning_outcome, "");
  EXPECT_EQ(m.timestamp_ms, 1'766'790'415'550);
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kNewMarket)], 1u);
}

TEST(PolymarketDecoderFixtures, MarketResolvedMessageDecodesWinner) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, read_fixture("ws_market_resolved_msg.json"), r).events, 1u);
  ASSERT_EQ(r.markets.size(), 1u);
  const RecMarket& m = r.markets[0];
  EXPECT_EQ(m.type, EventType::kMarketResolved);
  EXPECT_EQ(m.id, "1031769");
  EXPECT_EQ(m.market, kNvdaMarket);
  EXPECT_EQ(m.assets_ids, (std::vector<std::string>{kNvdaYes, kNvdaNo}));
  EXPECT_TRUE(m.outcomes.empty());
  EXPECT_EQ(m.winning_asset_id, kNvdaYes);
  EXPECT_EQ(m.winning_outcome, "Yes");
  EXPECT_EQ(m.slug, "");
  EXPECT_EQ(m.timestamp_ms, 1'766'790'415'550);
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kMarketResolved)], 1u);
}

TEST(PolymarketDecoderFixtures, MixedArrayDeliversEventsInOrderWithUnknownInTheMiddle) {
  Decoder d;
  Recorder r;
  const DecodeResult res = decode(d, read_fixture("ws_market_mixed_known_unknown.json"), r);
  EXPECT_EQ(res.kind, FrameKind::kJson);
  EXPECT_EQ(res.events, 3u);
  EXPECT_EQ(r.order, (std::vector<std::string>{"price_change", "unknown:settlement_preview",
                                               "last_trade_price"}));
  ASSERT_EQ(r.price_changes.size(), 1u);
  const RecPriceChange& p = r.price_changes[0];
  EXPECT_EQ(p.market, "0x1111111111111111111111111111111111111111111111111111111111111111");
  EXPECT_EQ(p.timestamp_ms, 1'700'000'000'001);
  ASSERT_EQ(p.entries.size(), 1u);
  EXPECT_EQ(p.entries[0].asset_id, "101");
  EXPECT_EQ(p.entries[0].price, 3'700);
  EXPECT_EQ(p.entries[0].size, 12'500'000);  // "12.5"
  EXPECT_EQ(p.entries[0].side, Side::kBid);
  EXPECT_EQ(p.entries[0].hash, "price-change-hash");
  EXPECT_EQ(p.entries[0].venue_bid, 3'600);
  EXPECT_EQ(p.entries[0].venue_ask, 3'800);
  EXPECT_EQ(p.entries[0].flags, 0);
  ASSERT_EQ(r.trades.size(), 1u);
  const RecTrade& t = r.trades[0];
  EXPECT_EQ(t.asset_id, "202");
  EXPECT_EQ(t.market, "0x2222222222222222222222222222222222222222222222222222222222222222");
  EXPECT_EQ(t.fee_rate_bps, 17);
  EXPECT_EQ(t.price, 6'300);
  EXPECT_EQ(t.side, Side::kAsk);  // SELL
  EXPECT_EQ(t.size, 4'250'000);   // "4.25"
  EXPECT_EQ(t.timestamp_ms, 1'700'000'000'003);
  EXPECT_EQ(t.transaction_hash, "0xtrade-hash");
  const DecoderStats& s = d.stats();
  EXPECT_EQ(s.events_by_type[idx(EventType::kPriceChange)], 1u);
  EXPECT_EQ(s.events_by_type[idx(EventType::kUnknown)], 1u);
  EXPECT_EQ(s.events_by_type[idx(EventType::kLastTradePrice)], 1u);
  EXPECT_EQ(s.invalid_events, 0u);
}

// ---------------------------------------------------------------------------------------------
// Nautilus strips event_type from these five: as captured they are unknown events; with the
// type put back they decode fully.

class StrippedFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(StrippedFixture, WithoutEventTypeIsOneUnknownEvent) {
  Decoder d;
  Recorder r;
  const DecodeResult res = decode(d, read_fixture(GetParam()), r);
  EXPECT_EQ(res.kind, FrameKind::kJson);
  EXPECT_EQ(res.events, 1u);
  EXPECT_EQ(r.order, std::vector<std::string>{"unknown:"});  // no type: empty name
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kUnknown)], 1u);
  EXPECT_EQ(d.stats().invalid_events, 0u);
  EXPECT_EQ(d.stats().frames_by_kind[idx(FrameKind::kJson)], 1u);
}

INSTANTIATE_TEST_SUITE_P(PolymarketDecoderFixtures, StrippedFixture,
                         ::testing::Values("ws_book_snapshot.json",
                                           "ws_book_snapshot_missing_hash.json", "ws_quotes.json",
                                           "ws_last_trade.json", "ws_tick_size_change.json"));

TEST(PolymarketDecoderFixtures, TaggedBookSnapshotKeepsBestLastOrder) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, with_event_type(read_fixture("ws_book_snapshot.json"), "book"), r).events,
            1u);
  ASSERT_EQ(r.books.size(), 1u);
  const RecBook& b = r.books[0];
  EXPECT_EQ(b.asset_id, kTokenA);
  EXPECT_EQ(b.market, kMarketDd);
  EXPECT_EQ(b.hash, "");
  EXPECT_EQ(b.timestamp_ms, 1'703'875'200'000);
  EXPECT_EQ(b.bids,
            (std::vector<Lv>{{4'800, 500 * kShare}, {4'900, 350 * kShare}, {5'000, 200 * kShare}}));
  EXPECT_EQ(b.asks,
            (std::vector<Lv>{{5'300, 400 * kShare}, {5'200, 250 * kShare}, {5'100, 150 * kShare}}));
  EXPECT_EQ(b.bad_levels, 0u);
}

TEST(PolymarketDecoderFixtures, TaggedSnapshotWithoutHashHasEmptySides) {
  Decoder d;
  Recorder r;
  decode(d, with_event_type(read_fixture("ws_book_snapshot_missing_hash.json"), "book"), r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].asset_id, kTokenA);
  EXPECT_EQ(r.books[0].hash, "");
  EXPECT_TRUE(r.books[0].bids.empty());
  EXPECT_TRUE(r.books[0].asks.empty());
  EXPECT_EQ(r.books[0].timestamp_ms, 1'703'875'200'000);
}

TEST(PolymarketDecoderFixtures, TaggedQuotesRouteEachEntryByItsOwnAsset) {
  Decoder d;
  Recorder r;
  decode(d, with_event_type(read_fixture("ws_quotes.json"), "price_change"), r);
  ASSERT_EQ(r.price_changes.size(), 1u);
  const RecPriceChange& p = r.price_changes[0];
  EXPECT_EQ(p.market, kMarketDd);
  EXPECT_EQ(p.timestamp_ms, 1'703'875'201'000);
  EXPECT_FALSE(p.legacy);
  ASSERT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(p.entries[0].asset_id, kTokenA);
  EXPECT_EQ(p.entries[0].price, 5'100);
  EXPECT_EQ(p.entries[0].size, 150 * kShare);
  EXPECT_EQ(p.entries[0].side, Side::kBid);
  EXPECT_EQ(p.entries[0].hash, "0xhash001");
  EXPECT_EQ(p.entries[0].venue_bid, 5'100);
  EXPECT_EQ(p.entries[0].venue_ask, 5'200);
  EXPECT_EQ(p.entries[0].flags, 0);
  EXPECT_EQ(p.entries[1].asset_id, kTokenB);
  EXPECT_EQ(p.entries[1].price, 4'900);
  EXPECT_EQ(p.entries[1].size, 100 * kShare);
  EXPECT_EQ(p.entries[1].side, Side::kAsk);
  EXPECT_EQ(p.entries[1].hash, "0xhash002");
  EXPECT_EQ(p.entries[1].venue_bid, 4'800);
  EXPECT_EQ(p.entries[1].venue_ask, 4'900);
  EXPECT_EQ(p.entries[1].flags, 0);
}

TEST(PolymarketDecoderFixtures, TaggedLastTradeKeepsTransactionHash) {
  Decoder d;
  Recorder r;
  decode(d, with_event_type(read_fixture("ws_last_trade.json"), "last_trade_price"), r);
  ASSERT_EQ(r.trades.size(), 1u);
  const RecTrade& t = r.trades[0];
  EXPECT_EQ(t.asset_id, kTokenA);
  EXPECT_EQ(t.market, kMarketDd);
  EXPECT_EQ(t.price, 5'100);
  EXPECT_EQ(t.size, 25 * kShare);
  EXPECT_EQ(t.side, Side::kBid);
  EXPECT_EQ(t.fee_rate_bps, 0);
  EXPECT_EQ(t.timestamp_ms, 1'703'875'202'000);
  EXPECT_EQ(t.transaction_hash,
            "0xabcdef1234567890abcdef1234567890abcdef1234567890abcdef1234567890ab");
}

TEST(PolymarketDecoderFixtures, TaggedTickSizeChangeDecodes) {
  Decoder d;
  Recorder r;
  decode(d, with_event_type(read_fixture("ws_tick_size_change.json"), "tick_size_change"), r);
  ASSERT_EQ(r.ticks.size(), 1u);
  EXPECT_EQ(r.ticks[0].asset_id, kTokenA);
  EXPECT_EQ(r.ticks[0].new_tick, 100);
  EXPECT_EQ(r.ticks[0].old_tick, 1'000);
  EXPECT_EQ(r.ticks[0].timestamp_ms, 1'703'875'210'000);
  EXPECT_EQ(r.ticks[0].flags, 0);
}

TEST(PolymarketDecoderFixtures, RestBookBodiesDecodeAsBooksOnceTagged) {
  // The CLOB /book bodies have the book shape but no event_type. The real capture has an empty
  // ask side and 3-decimal prices.
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, read_fixture("clob_book_response_empty_ask.json"), r).events, 1u);
  EXPECT_EQ(r.order, std::vector<std::string>{"unknown:"});
  decode(d, with_event_type(read_fixture("clob_book_response_empty_ask.json"), "book"), r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].asset_id,
            "72610532355343625199299853218161700546393390326785971247545541945337255643692");
  EXPECT_EQ(r.books[0].hash, "d7df883ae546b09533a4f485bfae0810da1af04e");
  EXPECT_EQ(r.books[0].timestamp_ms, 1'785'734'468'581);
  EXPECT_EQ(r.books[0].bids, (std::vector<Lv>{{10, 667'120'000}, {20, 6'990'000}}));
  EXPECT_TRUE(r.books[0].asks.empty());
  decode(d, with_event_type(read_fixture("clob_book_response.json"), "book"), r);
  ASSERT_EQ(r.books.size(), 2u);
  EXPECT_EQ(r.books[1].hash, "0xabc123");
  EXPECT_EQ(r.books[1].bids,
            (std::vector<Lv>{{4'800, 100 * kShare}, {4'900, 200 * kShare}, {5'000, 150 * kShare}}));
  EXPECT_EQ(r.books[1].asks,
            (std::vector<Lv>{{5'100, 120 * kShare}, {5'200, 180 * kShare}, {5'300, 90 * kShare}}));
}

// ---------------------------------------------------------------------------------------------
// Shapes built from the fixtures.

TEST(PolymarketDecoder, ArrayOfSeveralBooksDeliversEachBook) {
  // An initial dump: one frame, an array of books for several assets.
  std::string frame = "[";
  frame += with_event_type(read_fixture("ws_book_snapshot.json"), "book");
  frame += ",";
  frame += with_event_type(read_fixture("ws_market_book_msg.json"), "book");
  frame += ",\n{\"event_type\":\"book\",\"asset_id\":\"" + kTokenB +
           "\",\"market\":\"0xm\",\"bids\":[{\"price\":\"0.48\",\"size\":\"1\"}],"
           "\"asks\":[],\"timestamp\":\"5\",\"hash\":\"h3\"}]";
  Decoder d;
  Recorder r;
  const DecodeResult res = decode(d, frame, r);
  EXPECT_EQ(res.kind, FrameKind::kJson);
  EXPECT_EQ(res.events, 3u);
  ASSERT_EQ(r.books.size(), 3u);
  EXPECT_EQ(r.books[0].asset_id, kTokenA);
  EXPECT_EQ(r.books[0].bids.size(), 3u);
  EXPECT_EQ(r.books[0].asks.back(), (Lv{5'100, 150 * kShare}));
  // The second book's levels are its own, not appended to the first's (scratch is reused).
  EXPECT_EQ(r.books[1].bids, (std::vector<Lv>{{5'000, 200 * kShare}, {4'900, 350 * kShare}}));
  EXPECT_EQ(r.books[2].asset_id, kTokenB);
  EXPECT_EQ(r.books[2].hash, "h3");
  EXPECT_EQ(r.books[2].timestamp_ms, 5);
  EXPECT_EQ(r.books[2].bids, (std::vector<Lv>{{4'800, 1 * kShare}}));
  EXPECT_TRUE(r.books[2].asks.empty());
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kBook)], 3u);
}

TEST(PolymarketDecoder, LegacyPriceChangeTakesAssetAndHashFromTheEvent) {
  // The pre-2025-09-15 shape (protocol reference §2).
  const std::string frame =
      R"({"event_type":"price_change","asset_id":")" + kTokenA +
      R"(","market":"0xm","timestamp":"1757908892351","hash":"0xlegacy",)"
      R"("changes":[{"price":"0.4","side":"SELL","size":"3300"},)"
      R"({"price":".41","side":"BUY","size":"0","best_bid":"junk"}]})";
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, frame, r).events, 1u);
  ASSERT_EQ(r.price_changes.size(), 1u);
  const RecPriceChange& p = r.price_changes[0];
  EXPECT_TRUE(p.legacy);
  EXPECT_EQ(p.market, "0xm");
  EXPECT_EQ(p.timestamp_ms, 1'757'908'892'351);
  ASSERT_EQ(p.entries.size(), 2u);
  for (const RecEntry& e : p.entries) {
    EXPECT_EQ(e.asset_id, kTokenA);
    EXPECT_EQ(e.hash, "0xlegacy");
    EXPECT_EQ(e.venue_bid, kNoPrice);  // legacy entries carry no top of book
    EXPECT_EQ(e.venue_ask, kNoPrice);
    EXPECT_EQ(e.flags, 0);  // a best_* in a legacy entry is ignored, not a bad value
  }
  EXPECT_EQ(p.entries[0].price, 4'000);
  EXPECT_EQ(p.entries[0].side, Side::kAsk);
  EXPECT_EQ(p.entries[0].size, 3'300 * kShare);
  EXPECT_EQ(p.entries[1].price, 4'100);
  EXPECT_EQ(p.entries[1].side, Side::kBid);
  EXPECT_EQ(p.entries[1].size, 0);
}

TEST(PolymarketDecoder, LegacyPriceChangeWithoutAssetIdIsInvalid) {
  Decoder d;
  Recorder r;
  decode(d, R"({"event_type":"price_change","changes":[{"price":"0.4","side":"SELL","size":"1"}]})",
         r);
  ASSERT_EQ(r.invalid.size(), 1u);
  EXPECT_EQ(r.invalid[0].type, EventType::kPriceChange);
  EXPECT_EQ(r.invalid[0].reason, InvalidReason::kMissingAssetId);
  EXPECT_TRUE(r.price_changes.empty());
  EXPECT_EQ(d.stats().invalid_events, 1u);
}

TEST(PolymarketDecoder, PriceChangeWithoutEntriesIsInvalid) {
  Decoder d;
  Recorder r;
  decode(d, R"({"event_type":"price_change","asset_id":"1","market":"0xm"})", r);
  ASSERT_EQ(r.invalid.size(), 1u);
  EXPECT_EQ(r.invalid[0].reason, InvalidReason::kMissingEntries);
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kPriceChange)], 1u);
}

TEST(PolymarketDecoder, EntriesForTwoAssetsAreRoutedByTheirOwnIds) {
  // Current format; the event's own asset_id (if any) only fills entries that lack one.
  const std::string frame =
      R"({"market":"0xm","price_changes":[)"
      R"({"asset_id":"B","price":"0.52","size":"7","side":"SELL","hash":"h1"},)"
      R"({"asset_id":"A","price":"0.48","size":"9","side":"BUY","hash":"h2"},)"
      R"({"price":"0.47","size":"1","side":"BUY"}],)"
      R"("asset_id":"EVENT","timestamp":"1","event_type":"price_change"})";
  Decoder d;
  Recorder r;
  decode(d, frame, r);
  ASSERT_EQ(r.price_changes.size(), 1u);
  const auto& es = r.price_changes[0].entries;
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[0].asset_id, "B");
  EXPECT_EQ(es[0].side, Side::kAsk);
  EXPECT_EQ(es[0].price, 5'200);
  EXPECT_EQ(es[1].asset_id, "A");
  EXPECT_EQ(es[1].side, Side::kBid);
  EXPECT_EQ(es[1].size, 9 * kShare);
  EXPECT_EQ(es[2].asset_id, "EVENT");
  EXPECT_EQ(es[2].flags, 0);  // attributed to the event's asset, so not kNoAssetId
  EXPECT_FALSE(r.price_changes[0].legacy);
}

TEST(PolymarketDecoder, EntriesDecodeTheSameWhateverTheirKeyOrder) {
  // The decoder learns the key order from the entries it sees (the venue's documents and the
  // captures disagree): every order, a change of order between entries and frames, an extra
  // key and a missing one must all give the same values.
  const std::string entries[] = {
      R"({"asset_id":"A","price":"0.48","size":"9","side":"BUY","hash":"h","best_bid":"0.48","best_ask":"0.5"})",
      R"({"asset_id":"A","price":"0.48","side":"BUY","size":"9","hash":"h","best_bid":"0.48","best_ask":"0.5"})",
      R"({"best_ask":"0.5","best_bid":"0.48","hash":"h","side":"BUY","size":"9","price":"0.48","asset_id":"A"})",
      R"({"x":1,"asset_id":"A","price":"0.48","side":"BUY","size":"9","hash":"h","best_bid":"0.48","best_ask":"0.5"})",
  };
  Decoder d;
  for (int round = 0; round < 2; ++round) {  // the second round starts from a learned order
    std::string frame = R"({"event_type":"price_change","price_changes":[)";
    for (const auto& e : entries) frame += e + ",";
    frame += entries[1] + "]}";
    Recorder r;
    decode(d, frame, r);
    ASSERT_EQ(r.price_changes.size(), 1u);
    const auto& es = r.price_changes[0].entries;
    ASSERT_EQ(es.size(), 5u);
    for (const auto& e : es) {
      EXPECT_EQ(e.asset_id, "A");
      EXPECT_EQ(e.hash, "h");
      EXPECT_EQ(e.price, 4'800);
      EXPECT_EQ(e.size, 9 * kShare);
      EXPECT_EQ(e.side, Side::kBid);
      EXPECT_EQ(e.flags, 0);
      EXPECT_EQ(e.venue_bid, 4'800);
      EXPECT_EQ(e.venue_ask, 5'000);
    }
  }
}

TEST(PolymarketDecoder, EntryWithoutAnyAssetIdIsFlaggedNotDropped) {
  Decoder d;
  Recorder r;
  decode(d,
         R"({"event_type":"price_change","price_changes":[{"price":"0.5","size":"1","side":"BUY"}]})",
         r);
  ASSERT_EQ(r.price_changes.size(), 1u);
  ASSERT_EQ(r.price_changes[0].entries.size(), 1u);
  EXPECT_EQ(r.price_changes[0].entries[0].flags, kNoAssetId);
  EXPECT_EQ(d.stats().bad_values, 0u);  // a missing id is not a bad value
}

TEST(PolymarketDecoder, MissingOrEmptyBestPricesAreNoPrice) {
  const std::string frame =
      R"({"event_type":"price_change","price_changes":[)"
      R"({"asset_id":"A","price":"0.5","size":"1","side":"BUY"},)"
      R"({"asset_id":"A","price":"0.5","size":"1","side":"BUY","best_bid":"","best_ask":""},)"
      R"({"asset_id":"A","price":"0.5","size":"1","side":"BUY","best_bid":"0.5"},)"
      R"({"asset_id":"A","price":"0.5","size":"1","side":"BUY","best_ask":"1","best_bid":"0"}]})";
  Decoder d;
  Recorder r;
  decode(d, frame, r);
  ASSERT_EQ(r.price_changes.size(), 1u);
  const auto& es = r.price_changes[0].entries;
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[0].venue_bid, kNoPrice);
  EXPECT_EQ(es[0].venue_ask, kNoPrice);
  EXPECT_EQ(es[1].venue_bid, kNoPrice);
  EXPECT_EQ(es[1].venue_ask, kNoPrice);
  EXPECT_EQ(es[2].venue_bid, 5'000);
  EXPECT_EQ(es[2].venue_ask, kNoPrice);
  EXPECT_EQ(es[3].venue_bid, 0);  // "0" and "1" are prices here; the keeper reads them as empty
  EXPECT_EQ(es[3].venue_ask, kPriceOne);
  for (const RecEntry& e : es) EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(d.stats().bad_values, 0u);
}

TEST(PolymarketDecoder, BestBidAskEventWithMissingSideIsNoPrice) {
  Decoder d;
  Recorder r;
  decode(d, R"({"event_type":"best_bid_ask","asset_id":"A","best_bid":"0.4","best_ask":""})", r);
  ASSERT_EQ(r.bbas.size(), 1u);
  EXPECT_EQ(r.bbas[0].bid, 4'000);
  EXPECT_EQ(r.bbas[0].ask, kNoPrice);
  EXPECT_EQ(r.bbas[0].spread, kNoPrice);
  EXPECT_EQ(r.bbas[0].flags, 0);
  EXPECT_EQ(r.bbas[0].timestamp_ms, 0);  // absent
}

TEST(PolymarketDecoder, EveryDecimalFormOfPricesAndSizes) {
  const std::string frame =
      R"({"event_type":"book","asset_id":"A","bids":[)"
      R"({"price":".48","size":"219.217767"},{"price":"0.480","size":"8.333332"},)"
      R"({"price":"1","size":"1"},{"price":"0","size":"0"},{"price":"0.0001","size":"0.000001"},)"
      R"({"price":"1.0000","size":"100000000"},{"price":"0.5","size":"000012.50"}],"asks":[]})";
  Decoder d;
  Recorder r;
  decode(d, frame, r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].bids, (std::vector<Lv>{{4'800, 219'217'767},
                                              {4'800, 8'333'332},
                                              {10'000, 1'000'000},
                                              {0, 0},
                                              {1, 1},
                                              {10'000, kMaxLevelSize},
                                              {5'000, 12'500'000}}));
  EXPECT_EQ(r.books[0].bad_levels, 0u);
  EXPECT_EQ(d.stats().bad_values, 0u);
}

TEST(PolymarketDecoder, NumbersWhereStringsAreExpectedAreAccepted) {
  const std::string frame =
      R"({"event_type":"book","asset_id":123,"market":"0xm","timestamp":1703875200000,)"
      R"("bids":[{"price":0.5,"size":100},["0.49","2.5"]],"asks":[{"price":1,"size":0.25}]})";
  Decoder d;
  Recorder r;
  decode(d, frame, r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].asset_id, "123");
  EXPECT_EQ(r.books[0].timestamp_ms, 1'703'875'200'000);
  EXPECT_EQ(r.books[0].bids, (std::vector<Lv>{{5'000, 100 * kShare}, {4'900, 2'500'000}}));
  EXPECT_EQ(r.books[0].asks, (std::vector<Lv>{{10'000, 250'000}}));

  Recorder r2;
  decode(d,
         R"({"event_type":"price_change","price_changes":[{"asset_id":7,"price":0.37,"size":12,)"
         R"("side":"SELL","best_bid":0.36,"best_ask":0.38}],"timestamp":"9"})",
         r2);
  ASSERT_EQ(r2.price_changes.size(), 1u);
  const RecEntry& e = r2.price_changes[0].entries.at(0);
  EXPECT_EQ(e.asset_id, "7");
  EXPECT_EQ(e.price, 3'700);
  EXPECT_EQ(e.size, 12 * kShare);
  EXPECT_EQ(e.venue_bid, 3'600);
  EXPECT_EQ(e.venue_ask, 3'800);
  EXPECT_EQ(e.flags, 0);
}

TEST(PolymarketDecoder, BadEntryValuesSetFlagsAndCountOncePerEntry) {
  const std::string frame =
      R"({"event_type":"price_change","price_changes":[)"
      R"({"asset_id":"A","price":"1.5","size":"1","side":"BUY"},)"          // > 1
      R"({"asset_id":"A","price":"0.00005","size":"1","side":"BUY"},)"      // finer than 0.0001
      R"({"asset_id":"A","price":"0.5","size":"-1","side":"BUY"},)"         // sign
      R"({"asset_id":"A","price":"0.5","size":"100000000.000001","side":"BUY"},)"  // > max
      R"({"asset_id":"A","price":"0.5","size":"1","side":"HOLD"},)"
      R"({"asset_id":"A","price":"0.5","size":"1"},)"                       // no side
      R"({"asset_id":"A","price":true,"size":null,"side":"BUY"},)"
      R"({"asset_id":"A","price":"0.5","size":"1","side":"SELL","best_bid":"x"},)"
      R"({"asset_id":"A","price":"1e-1","size":"1.0.0","side":7},)"
      R"("not an object",)"
      R"({"asset_id":"A","price":"0.5","size":"1","side":"sell"}]})";
  Decoder d;
  Recorder r;
  decode(d, frame, r);
  ASSERT_EQ(r.price_changes.size(), 1u);
  const auto& es = r.price_changes[0].entries;
  ASSERT_EQ(es.size(), 11u);
  EXPECT_EQ(es[0].flags, kBadPrice);
  EXPECT_EQ(es[1].flags, kBadPrice);
  EXPECT_EQ(es[2].flags, kBadSize);
  EXPECT_EQ(es[3].flags, kBadSize);
  EXPECT_EQ(es[4].flags, kBadSide);
  EXPECT_EQ(es[5].flags, kBadSide);
  EXPECT_EQ(es[6].flags, kBadPrice | kBadSize);
  EXPECT_EQ(es[7].flags, kBadBest);
  EXPECT_EQ(es[8].flags, kBadPrice | kBadSize | kBadSide);
  EXPECT_EQ(es[9].flags, kBadPrice | kBadSize | kBadSide | kNoAssetId);
  EXPECT_EQ(es[10].flags, 0);  // lowercase side is accepted
  EXPECT_EQ(es[10].side, Side::kAsk);
  // One count per entry with a bad price/size/side/best (entries 0-8); the non-object entry is
  // reported through its flags only.
  EXPECT_EQ(d.stats().bad_values, 9u);
}

TEST(PolymarketDecoder, BadBookLevelsAreDroppedAndCounted) {
  const std::string frame =
      R"({"event_type":"book","asset_id":"A","bids":[{"price":"0.48","size":"1"},)"
      R"({"price":"abc","size":"1"},{"price":"0.47"},"x",null,[ "0.46" ],)"
      R"({"price":"1.01","size":"1"}],"asks":[{"price":"0.52","size":"1e3"},)"
      R"({"size":"2","price":"0.53"}]})";
  Decoder d;
  Recorder r;
  decode(d, frame, r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].bids, (std::vector<Lv>{{4'800, 1 * kShare}}));
  EXPECT_EQ(r.books[0].asks, (std::vector<Lv>{{5'300, 2 * kShare}}));  // key order is free
  EXPECT_EQ(r.books[0].bad_levels, 7u);
  EXPECT_EQ(d.stats().bad_values, 7u);
}

TEST(PolymarketDecoder, TradeWithBadPriceOrSizeIsInvalidAndCounted) {
  Decoder d;
  Recorder r;
  decode(d, R"({"event_type":"last_trade_price","asset_id":"A","price":"2","size":"1"})", r);
  decode(d, R"({"event_type":"last_trade_price","asset_id":"A","price":"0.5"})", r);
  EXPECT_TRUE(r.trades.empty());
  ASSERT_EQ(r.invalid.size(), 2u);
  EXPECT_EQ(r.invalid[0].type, EventType::kLastTradePrice);
  EXPECT_EQ(r.invalid[0].reason, InvalidReason::kBadValue);
  EXPECT_EQ(r.invalid[1].reason, InvalidReason::kBadValue);
  EXPECT_EQ(d.stats().bad_values, 2u);
  EXPECT_EQ(d.stats().invalid_events, 2u);
}

TEST(PolymarketDecoder, TradeWithBadSideIsDeliveredFlagged) {
  Decoder d;
  Recorder r;
  decode(d,
         R"({"event_type":"last_trade_price","asset_id":"A","price":"0.5","size":"1","side":"X",)"
         R"("fee_rate_bps":"abc"})",
         r);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].flags, kBadSide);
  EXPECT_EQ(r.trades[0].fee_rate_bps, -1);  // unreadable fee reads as absent
}

TEST(PolymarketDecoder, TickSizeChangeToAnInvalidTickIsFlagged) {
  Decoder d;
  Recorder r;
  decode(d, R"({"event_type":"tick_size_change","asset_id":"A","new_tick_size":"0"})", r);
  decode(d, R"({"event_type":"tick_size_change","asset_id":"A","old_tick_size":"x",)"
            R"("new_tick_size":"0.001"})",
         r);
  ASSERT_EQ(r.ticks.size(), 2u);
  EXPECT_EQ(r.ticks[0].flags, kBadPrice);
  EXPECT_EQ(r.ticks[1].flags, 0);
  EXPECT_EQ(r.ticks[1].new_tick, 10);
  EXPECT_EQ(r.ticks[1].old_tick, 0);  // unreadable old tick reads as 0
}

TEST(PolymarketDecoder, EventsWithoutAssetIdAreInvalid) {
  Decoder d;
  Recorder r;
  decode(d, R"([{"event_type":"book","bids":[],"asks":[]},)"
            R"({"event_type":"last_trade_price","price":"0.5","size":"1"},)"
            R"({"event_type":"tick_size_change","new_tick_size":"0.01"},)"
            R"({"event_type":"best_bid_ask","best_bid":"0.5"}])",
         r);
  ASSERT_EQ(r.invalid.size(), 4u);
  for (const RecInvalid& i : r.invalid) EXPECT_EQ(i.reason, InvalidReason::kMissingAssetId);
  EXPECT_EQ(r.invalid[0].type, EventType::kBook);
  EXPECT_EQ(r.invalid[3].type, EventType::kBestBidAsk);
  EXPECT_EQ(d.stats().invalid_events, 4u);
}

TEST(PolymarketDecoder, ClobTokenIdsFillAssetsOnlyWhenAssetsIdsIsAbsent) {
  Decoder d;
  Recorder r;
  // assets_ids after clob_token_ids: assets_ids wins, nothing is listed twice.
  decode(d, R"({"event_type":"new_market","clob_token_ids":["1","2"],"assets_ids":["1","2"]})",
         r);
  decode(d, R"({"event_type":"new_market","clob_token_ids":["3","4"]})", r);
  decode(d, R"({"event_type":"new_market","assets_ids":["5"],"clob_token_ids":["6","7"]})", r);
  ASSERT_EQ(r.markets.size(), 3u);
  EXPECT_EQ(r.markets[0].assets_ids, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(r.markets[1].assets_ids, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(r.markets[2].assets_ids, (std::vector<std::string>{"5"}));
}

TEST(PolymarketDecoder, ArrayElementsThatAreNotObjectsAreInvalid) {
  Decoder d;
  Recorder r;
  const DecodeResult res = decode(d, R"([1,{"event_type":"x"},[2],"s",null])", r);
  EXPECT_EQ(res.kind, FrameKind::kJson);
  EXPECT_EQ(res.events, 5u);
  EXPECT_EQ(r.order, (std::vector<std::string>{"invalid:unknown", "unknown:x", "invalid:unknown",
                                               "invalid:unknown", "invalid:unknown"}));
  for (const RecInvalid& i : r.invalid) EXPECT_EQ(i.reason, InvalidReason::kNotAnObject);
  EXPECT_EQ(d.stats().events_by_type[idx(EventType::kUnknown)], 5u);
  EXPECT_EQ(d.stats().invalid_events, 4u);
}

TEST(PolymarketDecoder, EscapedIdentityStringsAreUnescaped) {
  // Ids and names are compared and routed on, so their escapes are decoded.
  Decoder d;
  Recorder r;
  decode(d, R"({"event_\u0074ype":"x"})", r);  // (an escaped KEY is not matched: see below)
  decode(d, R"({"event_type":"bo\u006fk","asset_id":"12\u0033","market":"0x\/m","bids":[],)"
            R"("asks":[]})",
         r);
  decode(d, R"({"event_type":"price_change","price_changes":[{"asset_id":"\u0041","price":"0.5",)"
            R"("size":"1","side":"S\u0045LL"}]})",
         r);
  decode(d, R"({"event_type":"market_resolved","assets_ids":["1\u0032"],"slug":"a\"b",)"
            R"("winning_outcome":"Y\u00e9s"})",
         r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].asset_id, "123");
  EXPECT_EQ(r.books[0].market, "0x/m");
  ASSERT_EQ(r.price_changes.size(), 1u);
  EXPECT_EQ(r.price_changes[0].entries.at(0).asset_id, "A");
  // Sides are read raw (the venue never escapes them): an escaped side is a bad side.
  EXPECT_EQ(r.price_changes[0].entries.at(0).flags, kBadSide);
  ASSERT_EQ(r.markets.size(), 1u);
  EXPECT_EQ(r.markets[0].assets_ids, std::vector<std::string>{"12"});
  EXPECT_EQ(r.markets[0].slug, "a\"b");
  EXPECT_EQ(r.markets[0].winning_outcome, "Y\xc3\xa9s");
}

TEST(PolymarketDecoder, EscapedDigitsInNumericFieldsAreBadValues) {
  Decoder d;
  Recorder r;
  decode(d, R"({"event_type":"book","asset_id":"1","bids":[{"price":"0.\u00350","size":"1"}],)"
            R"("asks":[]})",
         r);
  ASSERT_EQ(r.books.size(), 1u);
  EXPECT_EQ(r.books[0].bad_levels, 1u);
}

TEST(PolymarketDecoder, KeysWithEscapesAreUnknownFields) {
  // Documented: keys are matched on their raw bytes, so an escaped key is an unknown field.
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, R"({"event\u005ftype":"book","asset_id":"1","bids":[],"asks":[]})", r).kind,
            FrameKind::kJson);
  EXPECT_EQ(r.order, std::vector<std::string>{"unknown:"});
  Recorder r2;
  decode(d, R"({"event_type":"book","asset\u005fid":"1","bids":[],"asks":[],"a\"b":1})", r2);
  ASSERT_EQ(r2.invalid.size(), 1u);
  EXPECT_EQ(r2.invalid[0].reason, InvalidReason::kMissingAssetId);
}

// ---------------------------------------------------------------------------------------------
// Robustness: never crash, always classify.

TEST(PolymarketDecoderRobustness, NonJsonTextFramesAreClassifiedNotParsed) {
  struct Case {
    std::string_view text;
    FrameKind kind;
  };
  const Case cases[] = {
      {"PONG", FrameKind::kPong},
      {"PONG\n", FrameKind::kPong},
      {"  PONG ", FrameKind::kPong},
      {"INVALID OPERATION", FrameKind::kInvalidOperation},
      {"NO NEW ASSETS", FrameKind::kNoNewAssets},
      {"", FrameKind::kEmpty},
      {" \r\n\t ", FrameKind::kEmpty},
      {"pong", FrameKind::kOtherText},
      {"PONGPONG", FrameKind::kOtherText},
      {"hello", FrameKind::kOtherText},
      {"null", FrameKind::kOtherText},
      {"42", FrameKind::kOtherText},
      {"\"book\"", FrameKind::kOtherText},
      {"<html>Attention Required</html>", FrameKind::kOtherText},
  };
  Decoder d;
  Recorder r;
  for (const Case& c : cases) {
    const DecodeResult res = decode(d, c.text, r);
    EXPECT_EQ(res.kind, c.kind) << '"' << c.text << '"';
    EXPECT_EQ(res.events, 0u);
    EXPECT_EQ(res.json_error, 0);
    EXPECT_STREQ(res.error_message(), "");
  }
  EXPECT_TRUE(r.order.empty());
  const DecoderStats& s = d.stats();
  EXPECT_EQ(s.frames, std::size(cases));
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kPong)], 3u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kInvalidOperation)], 1u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kNoNewAssets)], 1u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kEmpty)], 2u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kOtherText)], 7u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kJson)], 0u);
}

// Every prefix of a real frame: a cut object is malformed and delivers nothing; the complete
// frame decodes to the same events as always. Each prefix is decoded three ways: as a frame of
// exactly its size (the decoder copies it into zeroed padding); in place, where the bytes the
// parser may read past the end are the rest of the frame (as in a ring buffer); and in place with
// a newline right after the cut, then the rest of the frame (as in a JSONL block).
void check_every_prefix(const std::string& full, const std::vector<std::string>& full_order) {
  Decoder d;
  const std::size_t last = full.find_last_of("}]");
  ASSERT_NE(last, std::string::npos);
  const std::string in_place = full + std::string(Decoder::kPadding, '\0');
  for (std::size_t n = 0; n < 3 * (full.size() + 1); ++n) {
    const std::size_t len = n / 3;
    Recorder r;
    std::string newline_after = in_place;
    newline_after[len] = '\n';
    const DecodeResult res =
        n % 3 == 0   ? d.decode(std::string_view(full.data(), len), r)
        : n % 3 == 1 ? d.decode(in_place.data(), len, in_place.size(), r)
                     : d.decode(newline_after.data(), len, newline_after.size(), r);
    if (len == 0) {
      EXPECT_EQ(res.kind, FrameKind::kEmpty);
    } else if (len <= last) {
      ASSERT_EQ(res.kind, FrameKind::kMalformed) << "prefix of " << len << " bytes";
      EXPECT_NE(res.json_error, 0);
      // An array delivers the elements that completed before the cut, in order; never more.
      ASSERT_LE(r.order.size(), full_order.size()) << len;
      for (std::size_t i = 0; i < r.order.size(); ++i) {
        EXPECT_EQ(r.order[i], full_order[i]) << len;
      }
      if (full.front() == '{') {
        EXPECT_TRUE(r.order.empty()) << "prefix of " << len << " bytes";
      }
    } else {
      EXPECT_EQ(res.kind, FrameKind::kJson) << len;
      EXPECT_EQ(r.order, full_order) << len;
    }
  }
  EXPECT_EQ(d.stats().frames, 3 * (full.size() + 1));
}

TEST(PolymarketDecoderRobustness, EveryPrefixOfEveryMarketFixtureIsMalformedOrComplete) {
  struct Case {
    const char* file;
    const char* tag;  // event_type to inject, or nullptr
    std::vector<std::string> order;
  };
  const Case cases[] = {
      {"ws_market_book_msg.json", nullptr, {"book"}},
      {"ws_market_price_change_msg.json", nullptr, {"price_change"}},
      {"ws_market_last_trade_msg.json", nullptr, {"last_trade_price"}},
      {"ws_market_tick_size_msg.json", nullptr, {"tick_size_change"}},
      {"ws_market_best_bid_ask_msg.json", nullptr, {"best_bid_ask"}},
      {"ws_market_new_market_msg.json", nullptr, {"new_market"}},
      {"ws_market_resolved_msg.json", nullptr, {"market_resolved"}},
      {"ws_market_mixed_known_unknown.json",
       nullptr,
       {"price_change", "unknown:settlement_preview", "last_trade_price"}},
      {"ws_book_snapshot.json", "book", {"book"}},
      {"ws_book_snapshot_missing_hash.json", "book", {"book"}},
      {"ws_quotes.json", "price_change", {"price_change"}},
      {"ws_last_trade.json", "last_trade_price", {"last_trade_price"}},
      {"ws_tick_size_change.json", "tick_size_change", {"tick_size_change"}},
      {"ws_book_snapshot.json", nullptr, {"unknown:"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    std::string text = read_fixture(c.file);
    if (c.tag != nullptr) text = with_event_type(text, c.tag);
    check_every_prefix(text, c.order);
  }
}

TEST(PolymarketDecoderRobustness, EveryPrefixOfAMinifiedArrayDeliversOnlyCompleteElements) {
  // Minified, so a cut can fall right after an element's closing brace.
  const std::string full =
      R"([{"event_type":"book","asset_id":"1","bids":[{"price":"0.5","size":"1"}],"asks":[]},)"
      R"({"event_type":"last_trade_price","asset_id":"1","price":"0.5","size":"1"},)"
      R"({"event_type":"settlement_preview"}])";
  check_every_prefix(full, {"book", "last_trade_price", "unknown:settlement_preview"});
}

TEST(PolymarketDecoderRobustness, InvalidUtf8InsideAStringIsMalformed) {
  Decoder d;
  Recorder r;
  for (std::string_view bad : {"\xff", "\xc3", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80"}) {
    const std::string frame = R"({"event_type":"book","asset_id":"1)" + std::string(bad) +
                              R"(","bids":[],"asks":[]})";
    const DecodeResult res = decode(d, frame, r);
    EXPECT_EQ(res.kind, FrameKind::kMalformed);
    EXPECT_NE(res.json_error, 0);
    EXPECT_STRNE(res.error_message(), "");
  }
  EXPECT_TRUE(r.order.empty());
  EXPECT_EQ(d.stats().frames_by_kind[idx(FrameKind::kMalformed)], 5u);
}

TEST(PolymarketDecoderRobustness, ValidUtf8InStringsIsKept) {
  Decoder d;
  Recorder r;
  decode(d, "{\"event_type\":\"market_resolved\",\"winning_outcome\":\"S\xc3\xad \xe2\x80\x9c\xf0\x9f\x98\x80\"}", r);
  ASSERT_EQ(r.markets.size(), 1u);
  EXPECT_EQ(r.markets[0].winning_outcome, "S\xc3\xad \xe2\x80\x9c\xf0\x9f\x98\x80");
}

// "0.xxxx" with 4 decimals, and sizes with 6 decimals, written out the long way.
std::string fixed4(Price p) {
  std::string s = "0.0000";
  for (int i = 5; i >= 2; --i) {
    s[static_cast<std::size_t>(i)] = static_cast<char>('0' + p % 10);
    p /= 10;
  }
  return s;
}
std::string fixed6(Size v) {
  char buf[32];
  std::string s(buf, std::to_chars(buf, buf + sizeof buf, v / kShare).ptr);
  std::string frac = std::to_string(v % kShare);
  return s + "." + std::string(6 - frac.size(), '0') + frac;
}

TEST(PolymarketDecoderRobustness, TenMegabyteBookDecodesFully) {
  constexpr std::size_t kLevels = 125'000;  // per side
  std::vector<Lv> bids, asks;
  std::string frame = R"({"event_type":"book","asset_id":"big","market":"0xm","bids":[)";
  frame.reserve(11u << 20);
  auto add = [&frame](std::vector<Lv>& side, std::size_t i) {
    const auto price = static_cast<Price>(1 + i % 9'999);
    const auto size = static_cast<Size>(1'000'000'007 + i * 7'919);
    side.push_back(Lv{price, size});
    if (i != 0) frame += ", ";
    frame += R"({"price": ")" + fixed4(price) + R"(", "size": ")" + fixed6(size) + R"("})";
  };
  for (std::size_t i = 0; i < kLevels; ++i) add(bids, i);
  frame += R"(], "asks": [)";
  for (std::size_t i = 0; i < kLevels; ++i) add(asks, i);
  frame += R"(], "timestamp": "1703875200000"})";
  ASSERT_GT(frame.size(), std::size_t{10} << 20);

  // Both paths: simdjson's parser (4 MB initial capacity) grows once for this frame; the fast
  // path needs no parser at all.
  for (const bool fast : {false, true}) {
    SCOPED_TRACE(fast ? "fast path" : "on-demand");
    Decoder::Options options;
    options.fast_path = fast;
    Decoder d(options);
    Recorder r;
    const DecodeResult res = decode(d, frame, r);
    EXPECT_EQ(res.kind, FrameKind::kJson);
    ASSERT_EQ(r.books.size(), 1u);
    EXPECT_EQ(r.books[0].bad_levels, 0u);
    EXPECT_EQ(r.books[0].timestamp_ms, 1'703'875'200'000);
    ASSERT_EQ(r.books[0].bids.size(), kLevels);
    ASSERT_EQ(r.books[0].asks.size(), kLevels);
    EXPECT_TRUE(r.books[0].bids == bids);
    EXPECT_TRUE(r.books[0].asks == asks);
    EXPECT_EQ(r.books[0].bids.back(), bids.back());
    EXPECT_EQ(d.stats().parser_grows, fast ? 0u : 1u);
    EXPECT_EQ(d.stats().fast_path, fast ? 1u : 0u);

    // A second, small frame after the big one still decodes.
    Recorder r2;
    decode(d, read_fixture("ws_market_book_msg.json"), r2);
    ASSERT_EQ(r2.books.size(), 1u);
    EXPECT_EQ(r2.books[0].bids.size(), 2u);
  }
}

TEST(PolymarketDecoderRobustness, FrameLargerThanMaxIsOversizedAndNotDecoded) {
  Decoder::Options o;
  o.initial_capacity = 4096;
  o.max_frame_bytes = 100;
  Decoder d(o);
  Recorder r;
  const std::string book = read_fixture("ws_market_book_msg.json");  // 428 bytes
  const DecodeResult res = decode(d, book, r);
  EXPECT_EQ(res.kind, FrameKind::kOversized);
  EXPECT_EQ(res.events, 0u);
  EXPECT_TRUE(r.order.empty());
  EXPECT_EQ(d.stats().frames_by_kind[idx(FrameKind::kOversized)], 1u);
  // Exactly max_frame_bytes is still decoded; text frames are never oversized.
  const std::string small = R"({"event_type":"book","asset_id":"1","bids":[],"asks":[]})";
  const std::string exact = small + std::string(100 - small.size(), ' ');
  EXPECT_EQ(decode(d, exact, r).kind, FrameKind::kJson);
  EXPECT_EQ(decode(d, exact + " ", r).kind, FrameKind::kOversized);
  EXPECT_EQ(decode(d, std::string(200, ' ') + "PONG", r).kind, FrameKind::kPong);
  EXPECT_EQ(r.order, std::vector<std::string>{"book"});
}

TEST(PolymarketDecoderRobustness, DeepNestingNeverCrashes) {
  Decoder d;
  Recorder r;
  // Unbalanced: the first element is not an object (reported), then the frame is malformed.
  const DecodeResult open_only = decode(d, std::string(100'000, '['), r);
  EXPECT_EQ(open_only.kind, FrameKind::kMalformed);
  EXPECT_TRUE(r.books.empty());

  const DecodeResult objects = decode(d, std::string(100'000, '{'), r);
  EXPECT_EQ(objects.kind, FrameKind::kMalformed);

  // Balanced arrays of arrays: every element is reported as not an object.
  Recorder r2;
  const DecodeResult balanced =
      decode(d, std::string(100'000, '[') + std::string(100'000, ']'), r2);
  EXPECT_EQ(balanced.kind, FrameKind::kJson);
  EXPECT_EQ(r2.order, std::vector<std::string>{"invalid:unknown"});

  // A deeply nested value in a field the decoder skips does not stop the event.
  Recorder r3;
  const std::string event = R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"x":)" +
                            std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_EQ(decode(d, event, r3).kind, FrameKind::kJson);
  EXPECT_EQ(r3.order, std::vector<std::string>{"book"});

  // Deep nesting inside a field the decoder reads (a level) is a bad level, not a crash.
  Recorder r4;
  const std::string levels = R"({"event_type":"book","asset_id":"1","asks":[],"bids":[)" +
                             std::string(50'000, '[') + std::string(50'000, ']') + "]}";
  EXPECT_EQ(decode(d, levels, r4).kind, FrameKind::kJson);
  ASSERT_EQ(r4.books.size(), 1u);
  EXPECT_TRUE(r4.books[0].bids.empty());
  EXPECT_EQ(r4.books[0].bad_levels, 1u);
}

TEST(PolymarketDecoderRobustness, TrailingGarbageAfterTheRootIsMalformed) {
  const std::string ev = R"({"event_type":"book","asset_id":"1","bids":[],"asks":[]})";
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, ev + " x", r).kind, FrameKind::kMalformed);
  EXPECT_EQ(decode(d, ev + ev, r).kind, FrameKind::kMalformed);
  EXPECT_EQ(decode(d, ev + "]", r).kind, FrameKind::kMalformed);
  EXPECT_EQ(decode(d, "[" + ev + "]]", r).kind, FrameKind::kMalformed);
  EXPECT_EQ(decode(d, ev + "  \r\n", r).kind, FrameKind::kJson);  // whitespace is fine
  EXPECT_EQ(d.stats().frames_by_kind[idx(FrameKind::kMalformed)], 4u);
}

TEST(PolymarketDecoderRobustness, BinaryLookingBytesAreTextOrMalformed) {
  Decoder d;
  Recorder r;
  EXPECT_EQ(decode(d, std::string_view("\0\0\0", 3), r).kind, FrameKind::kOtherText);
  EXPECT_EQ(decode(d, "\xff\xfe\x00", r).kind, FrameKind::kOtherText);
  EXPECT_EQ(decode(d, "\x1f\x8b\x08\x00", r).kind, FrameKind::kOtherText);  // gzip magic
  EXPECT_EQ(decode(d, std::string_view("{\"event_type\":\"book\"\0}", 23), r).kind,
            FrameKind::kMalformed);
  EXPECT_EQ(decode(d, std::string_view("{\"a\":\"x\0y\"}", 11), r).kind, FrameKind::kMalformed);
  EXPECT_EQ(decode(d, "{\"a\":\xff}", r).kind, FrameKind::kMalformed);
  EXPECT_EQ(decode(d, "[\x01]", r).kind, FrameKind::kMalformed);
  EXPECT_TRUE(r.order.empty());
  d.count_binary();
  EXPECT_EQ(d.stats().frames_by_kind[idx(FrameKind::kBinary)], 1u);
  EXPECT_EQ(d.stats().frames, 8u);
}

TEST(PolymarketDecoderRobustness, MalformedFramesCarryTheSimdjsonError) {
  Decoder d;
  Recorder r;
  for (std::string_view bad : {R"({"a":})", R"({"a" 1})", R"({"a":1,})", R"({)",
                               R"({"a":"unterminated})", R"([,])", R"({1:2})", R"([1,2)"}) {
    const DecodeResult res = decode(d, bad, r);
    EXPECT_EQ(res.kind, FrameKind::kMalformed) << bad;
    EXPECT_NE(res.json_error, 0) << bad;
    EXPECT_STRNE(res.error_message(), "") << bad;
  }
  // Nothing is delivered: not even the cut array's complete elements (its root never opens).
  EXPECT_TRUE(r.order.empty());
}

TEST(PolymarketDecoder, PaddedCallerBufferDecodesTheSameAsACopy) {
  // With readable >= size + kPadding the decoder parses in place; the result must not change.
  for (const char* name : {"ws_market_book_msg.json", "ws_market_mixed_known_unknown.json",
                           "ws_market_new_market_msg.json"}) {
    const std::string text = read_fixture(name);
    const std::string padded = text + std::string(Decoder::kPadding, '\0');
    Decoder d;
    Recorder copy, in_place;
    decode(d, text, copy);
    d.decode(padded.data(), text.size(), padded.size(), in_place);
    EXPECT_EQ(copy.order, in_place.order) << name;
    EXPECT_EQ(copy.books.size(), in_place.books.size());
    if (!copy.books.empty()) {
      EXPECT_EQ(copy.books[0].bids, in_place.books[0].bids);
    }
  }
}

TEST(PolymarketDecoder, StatsCountASequenceOfFrames) {
  Decoder d;
  Recorder r;
  decode(d, read_fixture("ws_market_book_msg.json"), r);                // json: book
  decode(d, read_fixture("ws_market_price_change_msg.json"), r);        // json: price_change
  decode(d, read_fixture("ws_market_mixed_known_unknown.json"), r);     // json: pc, unk, trade
  decode(d, read_fixture("ws_quotes.json"), r);                         // json: unknown
  decode(d, "PONG", r);                                                 // pong
  decode(d, "NO NEW ASSETS", r);                                        // no_new_assets
  decode(d, "{\"event_type\":", r);                                     // malformed
  decode(d, R"({"event_type":"book","bids":[],"asks":[]})", r);         // json: invalid book
  decode(d, R"({"event_type":"book","asset_id":"1","bids":["x"],"asks":[]})", r);  // bad level
  d.count_binary();                                                     // binary
  const DecoderStats& s = d.stats();
  EXPECT_EQ(s.frames, 10u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kJson)], 6u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kPong)], 1u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kNoNewAssets)], 1u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kMalformed)], 1u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kBinary)], 1u);
  EXPECT_EQ(s.frames_by_kind[idx(FrameKind::kOversized)], 0u);
  EXPECT_EQ(s.events_by_type[idx(EventType::kBook)], 3u);
  EXPECT_EQ(s.events_by_type[idx(EventType::kPriceChange)], 2u);
  EXPECT_EQ(s.events_by_type[idx(EventType::kLastTradePrice)], 1u);
  EXPECT_EQ(s.events_by_type[idx(EventType::kUnknown)], 2u);
  EXPECT_EQ(s.invalid_events, 1u);
  EXPECT_EQ(s.bad_values, 1u);
  EXPECT_EQ(s.parser_grows, 0u);
}

TEST(PolymarketDecoder, NamesOfEventTypesAndFrameKinds) {
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    const auto t = static_cast<EventType>(i);
    if (t == EventType::kUnknown) continue;
    EXPECT_EQ(event_type_from(to_string(t)), t) << to_string(t);
  }
  EXPECT_EQ(event_type_from("settlement_preview"), EventType::kUnknown);
  EXPECT_EQ(event_type_from("BOOK"), EventType::kUnknown);
  EXPECT_EQ(event_type_from(""), EventType::kUnknown);
  EXPECT_STREQ(to_string(FrameKind::kInvalidOperation), "invalid_operation");
  EXPECT_STREQ(to_string(FrameKind::kOtherText), "text");
}

}  // namespace
}  // namespace booktape::polymarket
