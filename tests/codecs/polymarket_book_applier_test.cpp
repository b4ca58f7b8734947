#include "codecs/polymarket_book_applier.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/book_json.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "tests/codecs/fixtures.hpp"

namespace booktape::polymarket {
namespace {

using booktape::testing::read_fixture;
using booktape::testing::with_event_type;

constexpr Size kShare = kSizeScale;

const std::string kTokenA =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const std::string kTokenB =
    "52114319501245915516055106046884209969926127482827954674443846427813813222426";
const std::string kMarketDd = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917";

// Decoder -> BookApplier -> BookKeeper, as in the book stage and the replayer. Each frame gets the
// next sequence number and a receive time of seq * 1000 ns.
struct Pipeline {
  DecodeResult feed(std::string_view frame) {
    ++seq;
    keeper.begin_frame(seq, static_cast<std::int64_t>(seq) * 1'000);
    return decoder.decode(frame, applier);
  }
  const TokenBook& book(const std::string& token) const {
    const TokenIndex t = keeper.find(token);
    EXPECT_NE(t, kNoToken) << token;
    return keeper.book(t);
  }

  BookKeeper keeper;
  BookApplier applier{keeper};
  Decoder decoder;
  std::uint64_t seq = 0;
};

std::string snapshot_a() { return with_event_type(read_fixture("ws_book_snapshot.json"), "book"); }

// A current-format price_change for token A in the fixtures' shape (market, hashes, timestamp).
std::string change_a(std::string_view entries, std::string_view timestamp = "1703875201000") {
  return R"({"event_type":"price_change","market":")" + kMarketDd + R"(","price_changes":[)" +
         std::string(entries) + R"(],"timestamp":")" + std::string(timestamp) + R"("})";
}
std::string entry_a(std::string_view price, std::string_view side, std::string_view size,
                    std::string_view best_bid, std::string_view best_ask) {
  return R"({"asset_id":")" + kTokenA + R"(","price":")" + std::string(price) + R"(","side":")" +
         std::string(side) + R"(","size":")" + std::string(size) +
         R"(","hash":"0xhash","best_bid":")" + std::string(best_bid) + R"(","best_ask":")" +
         std::string(best_ask) + R"("})";
}

TEST(PolymarketBookApplier, SnapshotFixtureBuildsTheBookOrderIndependently) {
  Pipeline p;
  p.feed(snapshot_a());
  const TokenBook& tb = p.book(kTokenA);
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(tb.epoch, 1u);
  EXPECT_EQ(tb.last_event_ms, 1'703'875'200'000);
  EXPECT_EQ(tb.snapshot_ns, 1'000);
  // Wire order is best LAST (bids 0.48, 0.49, 0.50; asks 0.53, 0.52, 0.51); the book puts the
  // best at level 0 regardless.
  ASSERT_EQ(tb.book.bids().depth(), 3u);
  ASSERT_EQ(tb.book.asks().depth(), 3u);
  EXPECT_EQ(tb.book.bids().level(0).price, 5'000);
  EXPECT_EQ(tb.book.bids().level(0).size, 200 * kShare);
  EXPECT_EQ(tb.book.bids().level(2).price, 4'800);
  EXPECT_EQ(tb.book.asks().level(0).price, 5'100);
  EXPECT_EQ(tb.book.asks().level(0).size, 150 * kShare);
  EXPECT_EQ(tb.book.asks().level(2).price, 5'300);
  EXPECT_FALSE(tb.crossed);
  EXPECT_EQ(p.keeper.totals().snapshots, 1u);
}

TEST(PolymarketBookApplier, QuotesAfterSnapshotApplyOneEntrySuppressTheOther) {
  Pipeline p;
  p.feed(snapshot_a());
  p.feed(with_event_type(read_fixture("ws_quotes.json"), "price_change"));

  // Entry 1 (token A): BUY 0.51 size 150 -> A's bids 0.51x150, 0.50x200, 0.49x350, 0.48x500.
  // The snapshot's best ask is also 0.51, so the book is now LOCKED (0.51 / 0.51), while the
  // entry's venue top says 0.51 / 0.52: the two Nautilus fixtures are independent hand-written
  // examples, not one stream, so the check reports a divergence (the venue's real sequence would
  // have removed the 0.51 ask first; see ConsistentSequencePassesTheCheck).
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.state, BookState::kLive);
  EXPECT_EQ(a.stats.changes_applied, 1u);
  EXPECT_EQ(a.book.bids().depth(), 4u);
  EXPECT_EQ(a.book.bids().level(0).price, 5'100);
  EXPECT_EQ(a.book.bids().level(0).size, 150 * kShare);
  EXPECT_EQ(a.book.asks().level(0).price, 5'100);
  EXPECT_TRUE(a.crossed);
  EXPECT_EQ(a.stats.crossed, 1u);
  EXPECT_EQ(a.stats.checks, 1u);
  EXPECT_EQ(a.stats.divergences, 1u);
  EXPECT_FALSE(a.in_sync);
  EXPECT_EQ(a.venue_top.bid, 5'100);
  EXPECT_EQ(a.venue_top.ask, 5'200);
  EXPECT_EQ(a.last_event_ms, 1'703'875'201'000);
  ASSERT_EQ(p.keeper.divergence_examples().size(), 1u);
  const Divergence& ex = p.keeper.divergence_examples()[0];
  EXPECT_EQ(p.keeper.token_id(ex.token), kTokenA);
  EXPECT_EQ(ex.frame, 2u);
  EXPECT_EQ(ex.received_ns, 2'000);
  EXPECT_EQ(ex.ours.bid, 5'100);
  EXPECT_EQ(ex.ours.ask, 5'100);
  EXPECT_EQ(ex.venue.bid, 5'100);
  EXPECT_EQ(ex.venue.ask, 5'200);

  // Entry 2 (token B): no snapshot for B -> suppressed and counted, its venue top still kept.
  const TokenBook& b = p.book(kTokenB);
  EXPECT_EQ(b.state, BookState::kAwaitingSnapshot);
  EXPECT_EQ(b.stats.changes_suppressed, 1u);
  EXPECT_EQ(b.stats.changes_applied, 0u);
  EXPECT_EQ(b.stats.checks, 0u);
  EXPECT_TRUE(b.book.asks().empty());
  EXPECT_EQ(b.venue_top.bid, 4'800);
  EXPECT_EQ(b.venue_top.ask, 4'900);

  EXPECT_EQ(p.keeper.totals().changes_applied, 1u);
  EXPECT_EQ(p.keeper.totals().changes_suppressed, 1u);
  EXPECT_EQ(p.keeper.totals().checks, 1u);
  EXPECT_EQ(p.keeper.totals().divergences, 1u);
}

// A consistent continuation of ws_book_snapshot.json (bids 0.50/0.49/0.48, asks 0.51/0.52/0.53):
//   frame 2: SELL 0.51 -> 0 (the ask is taken):      ours 0.50 / 0.52, venue 0.50 / 0.52
//            BUY  0.51 -> 150 (a new best bid):       ours 0.51 / 0.52, venue 0.51 / 0.52
//   frame 3: BUY  0.48 -> 0 (a deep bid leaves):      ours 0.51 / 0.52, venue `bid3` / 0.52
std::vector<std::string> consistent_sequence(std::string_view bid3) {
  return {snapshot_a(),
          change_a(entry_a("0.51", "SELL", "0", "0.50", "0.52") + "," +
                   entry_a("0.51", "BUY", "150.0", "0.51", "0.52")),
          change_a(entry_a("0.48", "BUY", "0", bid3, "0.52"), "1703875202000")};
}

TEST(PolymarketBookApplier, ConsistentSequencePassesTheCheck) {
  Pipeline p;
  for (const std::string& f : consistent_sequence("0.51")) p.feed(f);
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.stats.changes_applied, 3u);
  EXPECT_EQ(a.stats.checks, 3u);
  EXPECT_EQ(a.stats.divergences, 0u);
  EXPECT_TRUE(a.in_sync);
  EXPECT_FALSE(a.crossed);
  EXPECT_EQ(a.stats.crossed, 0u);
  // Final book: bids 0.51x150, 0.50x200, 0.49x350; asks 0.52x250, 0.53x400.
  ASSERT_EQ(a.book.bids().depth(), 3u);
  EXPECT_EQ(a.book.bids().level(0).price, 5'100);
  EXPECT_EQ(a.book.bids().level(2).price, 4'900);
  ASSERT_EQ(a.book.asks().depth(), 2u);
  EXPECT_EQ(a.book.asks().level(0).price, 5'200);
  EXPECT_EQ(a.book.asks().level(0).size, 250 * kShare);
  EXPECT_TRUE(p.keeper.divergence_examples().empty());
  EXPECT_EQ(p.applier.stats().invalid_events, 0u);
}

TEST(PolymarketBookApplier, AlteredVenueBestBidIsReportedAsDivergence) {
  Pipeline p;
  const std::vector<std::string> frames = consistent_sequence("0.50");  // venue bid altered
  for (const std::string& f : frames) p.feed(f);
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.stats.checks, 3u);
  EXPECT_EQ(a.stats.divergences, 1u);
  EXPECT_FALSE(a.in_sync);
  ASSERT_EQ(p.keeper.divergence_examples().size(), 1u);
  const Divergence& ex = p.keeper.divergence_examples()[0];
  EXPECT_EQ(ex.frame, 3u);
  EXPECT_EQ(ex.received_ns, 3'000);
  EXPECT_EQ(ex.ours.bid, 5'100);
  EXPECT_EQ(ex.ours.ask, 5'200);
  EXPECT_EQ(ex.venue.bid, 5'000);
  EXPECT_EQ(ex.venue.ask, 5'200);
  // The book itself is the same as in the consistent run: the check reports, never edits.
  EXPECT_EQ(a.book.bids().level(0).price, 5'100);
  EXPECT_EQ(a.state, BookState::kLive);

  // The next agreeing check brings it back in sync.
  p.feed(change_a(entry_a("0.49", "BUY", "300", "0.51", "0.52"), "1703875203000"));
  EXPECT_TRUE(p.book(kTokenA).in_sync);
  EXPECT_EQ(p.book(kTokenA).stats.divergences, 1u);
}

TEST(PolymarketBookApplier, BestFirstAndBestLastLevelOrdersGiveTheSameBook) {
  // ws_market_book_msg.json is hand-written best FIRST: bids 0.50, 0.49; asks 0.51, 0.52.
  Pipeline first;
  first.feed(read_fixture("ws_market_book_msg.json"));
  // The same levels best LAST, as real captures send them.
  Pipeline last;
  last.feed(R"({"event_type":"book","market":")" + kMarketDd + R"(","asset_id":")" + kTokenA +
            R"(","bids":[{"price":"0.49","size":"350.0"},{"price":"0.50","size":"200.0"}],)"
            R"("asks":[{"price":"0.52","size":"250.0"},{"price":"0.51","size":"150.0"}],)"
            R"("timestamp":"1703875200000"})");
  const TokenBook& a = first.book(kTokenA);
  const TokenBook& b = last.book(kTokenA);
  EXPECT_EQ(BookKeeper::top_of(a.book).bid, 5'000);
  EXPECT_EQ(BookKeeper::top_of(a.book).ask, 5'100);
  EXPECT_EQ(BookKeeper::top_of(b.book).bid, 5'000);
  EXPECT_EQ(BookKeeper::top_of(b.book).ask, 5'100);
  EXPECT_EQ(a.book.bids().level(1).price, 4'900);
  EXPECT_EQ(a.book.asks().level(1).price, 5'200);
  EXPECT_EQ(books_json(first.keeper), books_json(last.keeper));
}

std::string tick_change_a(std::string_view old_tick, std::string_view new_tick) {
  return R"({"event_type":"tick_size_change","market":")" + kMarketDd + R"(","asset_id":")" +
         kTokenA + R"(","old_tick_size":")" + std::string(old_tick) + R"(","new_tick_size":")" +
         std::string(new_tick) + R"(","timestamp":"1703875210000"})";
}

TEST(PolymarketBookApplier, TickSizeChangeKeepsTheBookUnconfirmedUntilTheNextCheck) {
  Pipeline p;
  p.feed(snapshot_a());  // bids 0.48, 0.49, 0.50; asks 0.51, 0.52, 0.53
  p.feed(with_event_type(read_fixture("ws_tick_size_change.json"), "tick_size_change"));
  {
    const TokenBook& a = p.book(kTokenA);
    EXPECT_EQ(a.state, BookState::kUnconfirmed);
    EXPECT_EQ(a.state_since_ns, 2'000);  // the tick change's frame
    EXPECT_EQ(a.tick, 100);  // 0.01
    EXPECT_EQ(a.book.bids().depth(), 3u);  // kept, not emptied
    EXPECT_EQ(a.book.asks().depth(), 3u);
    EXPECT_EQ(a.stats.tick_size_changes, 1u);
    EXPECT_EQ(a.last_event_ms, 1'703'875'210'000);
  }
  // The ask at 0.51 leaves; the venue's top after it, 0.50 / 0.52, is ours: confirmed.
  p.feed(change_a(entry_a("0.51", "SELL", "0", "0.50", "0.52")));
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.state, BookState::kLive);
  EXPECT_EQ(a.state_since_ns, 3'000);
  EXPECT_EQ(a.stats.confirmations, 1u);
  EXPECT_EQ(a.stats.changes_applied, 1u);
  EXPECT_EQ(a.stats.changes_suppressed, 0u);
  EXPECT_EQ(a.epoch, 1u);  // no snapshot was needed
  EXPECT_EQ(p.keeper.totals().confirmations, 1u);
}

TEST(PolymarketBookApplier, TickSizeChangeThenDisagreeingEntriesMakeTheBookStaleUntilABook) {
  Pipeline p;
  p.feed(snapshot_a());
  p.feed(with_event_type(read_fixture("ws_tick_size_change.json"), "tick_size_change"));
  // The fixture's change: BUY 0.51 x150 with the venue at 0.51 / 0.52. On our book it lands on
  // the best ask 0.51 (locked), so our top 0.51 / 0.51 is not the venue's: the book we kept is
  // not the venue's, and waits for a snapshot (the two fixtures are unrelated hand-written ones,
  // which is exactly what a disagreement looks like).
  p.feed(read_fixture("ws_market_price_change_msg.json"));
  {
    const TokenBook& a = p.book(kTokenA);
    EXPECT_EQ(a.state, BookState::kStale);
    EXPECT_EQ(a.stale_reason, StaleReason::kTickSizeChange);
    EXPECT_EQ(a.state_since_ns, 3'000);
    EXPECT_EQ(a.stats.disagreements, 1u);
    EXPECT_EQ(a.stats.confirmations, 0u);
    EXPECT_EQ(a.book.bids().best().price, 5'100);  // readable, flagged
  }
  // Entries that agree again do not heal it: only a snapshot does.
  p.feed(change_a(entry_a("0.51", "SELL", "0", "0.51", "0.52")));
  EXPECT_EQ(p.book(kTokenA).state, BookState::kStale);
  EXPECT_EQ(p.book(kTokenA).stats.changes_suppressed, 1u);
  p.feed(read_fixture("ws_market_book_msg.json"));
  EXPECT_EQ(p.book(kTokenA).state, BookState::kLive);
  EXPECT_EQ(p.book(kTokenA).stale_reason, StaleReason::kNone);
  EXPECT_EQ(p.book(kTokenA).epoch, 2u);
  p.feed(change_a(entry_a("0.49", "BUY", "0", "0.50", "0.51")));
  EXPECT_EQ(p.book(kTokenA).stats.changes_applied, 2u);
  EXPECT_EQ(p.book(kTokenA).book.bids().depth(), 1u);
  EXPECT_EQ(p.book(kTokenA).stats.divergences, 1u);  // the disagreement only
}

TEST(PolymarketBookApplier, WithNoSnapshotAfterTheTickChangeTheBookFollowsTheFinerGrid) {
  Pipeline p;
  p.feed(snapshot_a());
  p.feed(tick_change_a("0.01", "0.001"));
  // The price nears an end; orders come on the 0.001 grid, each entry with the venue's top.
  p.feed(change_a(entry_a("0.505", "BUY", "12.5", "0.505", "0.51") + "," +
                  entry_a("0.507", "SELL", "3", "0.505", "0.507")));
  p.feed(change_a(entry_a("0.48", "BUY", "0", "0.505", "0.507") + "," +
                  entry_a("0.506", "BUY", "1.000001", "0.506", "0.507")));
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.state, BookState::kLive);
  EXPECT_EQ(a.stats.confirmations, 1u);
  EXPECT_EQ(a.stats.checks, 4u);
  EXPECT_EQ(a.stats.divergences, 0u);
  EXPECT_EQ(a.tick, 10);
  std::string out;
  append_book_json(out, p.keeper, p.keeper.find(kTokenA));
  EXPECT_EQ(out, R"({"asset_id":")" + kTokenA +
                     R"(","state":"live","state_since":"1970-01-01T00:00:00.000003000Z",)"
                     R"("bids":[["0.506","1.000001"],["0.505","12.5"],["0.5","200"],)"
                     R"(["0.49","350"]],"asks":[["0.507","3"],["0.51","150"],["0.52","250"],)"
                     R"(["0.53","400"]]})");
}

TEST(PolymarketBookApplier, PricesOnEveryTickTheVenueUsesStayExact) {
  // 0.1, 0.01, 0.001, 0.0001 (documented) and 0.0025 (reported for 2026 World Cup markets):
  // each tick, and prices on its grid up to the ends of the range, round-trip exactly.
  struct Case {
    const char* tick;
    Price units;  // in 0.0001
    const char* low;
    const char* high;
    Price low_units, high_units;
  };
  const Case cases[] = {
      {"0.1", 1'000, "0.1", "0.9", 1'000, 9'000},
      {"0.01", 100, "0.01", "0.99", 100, 9'900},
      {"0.001", 10, "0.001", "0.999", 10, 9'990},
      {"0.0001", 1, "0.0001", "0.9999", 1, 9'999},
      {"0.0025", 25, "0.0025", "0.9975", 25, 9'975},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tick);
    Pipeline p;
    p.feed(snapshot_a());
    p.feed(tick_change_a("0.01", c.tick));
    EXPECT_EQ(p.book(kTokenA).tick, c.units);
    EXPECT_EQ(p.book(kTokenA).state, BookState::kUnconfirmed);
    // A bid at the lowest price of the grid and an ask at its highest: the top is unchanged,
    // so the venue's top is 0.50 / 0.51.
    p.feed(change_a(entry_a(c.low, "BUY", "1", "0.50", "0.51") + "," +
                    entry_a(c.high, "SELL", "2", "0.50", "0.51")));
    const TokenBook& a = p.book(kTokenA);
    EXPECT_EQ(a.state, BookState::kLive);
    EXPECT_EQ(p.decoder.stats().bad_values, 0u);
    EXPECT_EQ(a.book.bids().level(a.book.bids().depth() - 1).price, c.low_units);
    EXPECT_EQ(a.book.asks().level(a.book.asks().depth() - 1).price, c.high_units);
    const std::string json = books_json(p.keeper);
    EXPECT_NE(json.find(std::string("[\"") + c.low + "\",\"1\"]"), std::string::npos) << json;
    EXPECT_NE(json.find(std::string("[\"") + c.high + "\",\"2\"]"), std::string::npos) << json;
  }
  // Off the 0.0001 grid is a bad value, never rounded.
  Pipeline p;
  p.feed(snapshot_a());
  p.feed(change_a(entry_a("0.50005", "BUY", "1", "0.50", "0.51")));
  EXPECT_EQ(p.book(kTokenA).state, BookState::kStale);
  EXPECT_EQ(p.book(kTokenA).stale_reason, StaleReason::kBadUpdate);
}

TEST(PolymarketBookApplier, BookWithOneUndecodableLevelIsRejectedWhole) {
  Pipeline p;
  p.feed(snapshot_a());
  ASSERT_EQ(p.book(kTokenA).state, BookState::kLive);
  // Same snapshot, one bid price mangled.
  std::string bad = snapshot_a();
  const std::size_t at = bad.find("\"0.49\"");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 6, "\"0.4x9\"");
  p.feed(bad);
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.state, BookState::kStale);
  EXPECT_EQ(a.stale_reason, StaleReason::kBadSnapshot);
  EXPECT_TRUE(a.book.bids().empty());  // the old book is dropped, not half-replaced
  EXPECT_TRUE(a.book.asks().empty());
  EXPECT_EQ(a.epoch, 1u);
  EXPECT_EQ(a.stats.snapshots, 1u);
  EXPECT_EQ(a.stats.bad_updates, 1u);
  EXPECT_EQ(p.keeper.totals().bad_updates, 1u);
  EXPECT_EQ(p.decoder.stats().bad_values, 1u);
  // Changes are suppressed until a good book arrives.
  p.feed(read_fixture("ws_market_price_change_msg.json"));
  EXPECT_EQ(p.book(kTokenA).stats.changes_suppressed, 1u);
  p.feed(snapshot_a());
  EXPECT_EQ(p.book(kTokenA).state, BookState::kLive);
  EXPECT_EQ(p.book(kTokenA).epoch, 2u);
  EXPECT_EQ(p.book(kTokenA).book.bids().depth(), 3u);
}

TEST(PolymarketBookApplier, BadFirstBookLeavesTheTokenStaleNotAwaiting) {
  Pipeline p;
  p.feed(R"({"event_type":"book","asset_id":"X","bids":[{"price":"2","size":"1"}],"asks":[]})");
  EXPECT_EQ(p.book("X").state, BookState::kStale);
  EXPECT_EQ(p.book("X").stale_reason, StaleReason::kBadSnapshot);
  EXPECT_EQ(p.book("X").epoch, 0u);
}

TEST(PolymarketBookApplier, EntryWithBadSizeMarksOnlyItsTokenStale) {
  Pipeline p;
  p.feed(snapshot_a());
  std::string book_b = read_fixture("ws_market_book_msg.json");
  book_b.replace(book_b.find(kTokenA), kTokenA.size(), kTokenB);
  p.feed(book_b);  // B: bids 0.50, 0.49; asks 0.51, 0.52
  ASSERT_EQ(p.book(kTokenB).state, BookState::kLive);

  std::string frame = with_event_type(read_fixture("ws_quotes.json"), "price_change");
  // Entry 1 (A): size "150.0" -> "15O.0" (letter O): A goes stale, nothing applied.
  // Entry 2 (B), unchanged: SELL 0.49 x100 with venue top 0.48 / 0.49. B's book becomes bids
  // 0.50, 0.49; asks 0.49 (new), 0.51, 0.52: crossed (0.50 > 0.49), and ours 0.50 / 0.49 differs
  // from the venue's 0.48 / 0.49 (again two unrelated hand-written fixtures).
  frame.replace(frame.find("\"150.0\""), 7, "\"15O.0\"");
  p.feed(frame);
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.state, BookState::kStale);
  EXPECT_EQ(a.stale_reason, StaleReason::kBadUpdate);
  EXPECT_EQ(a.stats.bad_updates, 1u);
  EXPECT_EQ(a.stats.changes_applied, 0u);
  EXPECT_EQ(a.book.bids().depth(), 3u);  // kept readable (flagged) until the next snapshot
  const TokenBook& b = p.book(kTokenB);
  EXPECT_EQ(b.state, BookState::kLive);
  EXPECT_EQ(b.stats.changes_applied, 1u);
  EXPECT_EQ(b.book.asks().level(0).price, 4'900);
  EXPECT_EQ(b.book.asks().level(0).size, 100 * kShare);
  EXPECT_TRUE(b.crossed);
  EXPECT_EQ(b.stats.divergences, 1u);
  EXPECT_EQ(p.keeper.totals().bad_updates, 1u);
  EXPECT_EQ(p.decoder.stats().bad_values, 1u);
  // A stays stale for later changes.
  p.feed(read_fixture("ws_market_price_change_msg.json"));
  EXPECT_EQ(p.book(kTokenA).stats.changes_suppressed, 1u);
}

TEST(PolymarketBookApplier, EntryWithBadBestPriceAppliesWithoutACheck) {
  Pipeline p;
  p.feed(snapshot_a());
  p.feed(change_a(entry_a("0.51", "SELL", "0", "0.5O", "0.52")));
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.state, BookState::kLive);
  EXPECT_EQ(a.stats.changes_applied, 1u);
  EXPECT_EQ(a.stats.checks, 0u);
  EXPECT_EQ(a.book.asks().level(0).price, 5'200);
}

TEST(PolymarketBookApplier, LegacyPriceChangeAppliesWithoutACheck) {
  Pipeline p;
  p.feed(snapshot_a());
  p.feed(R"({"event_type":"price_change","asset_id":")" + kTokenA +
         R"(","market":"0xm","timestamp":"1757908892351","hash":"0xh",)"
         R"("changes":[{"price":"0.51","side":"SELL","size":"0"},)"
         R"({"price":"0.47","side":"BUY","size":"3300"}]})");
  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.stats.changes_applied, 2u);
  EXPECT_EQ(a.stats.checks, 0u);
  EXPECT_EQ(a.book.asks().level(0).price, 5'200);
  EXPECT_EQ(a.book.bids().depth(), 4u);
  EXPECT_EQ(a.book.bids().level(3).price, 4'700);
  EXPECT_EQ(a.book.bids().level(3).size, 3'300 * kShare);
}

TEST(PolymarketBookApplier, UnattributedEntriesAreOnlyCounted) {
  Pipeline p;
  p.feed(R"({"event_type":"price_change","price_changes":[{"price":"0.5","size":"1","side":"BUY"},)"
         R"("junk"]})");
  EXPECT_EQ(p.applier.stats().unattributed_entries, 2u);
  EXPECT_EQ(p.keeper.size(), 0u);
}

TEST(PolymarketBookApplier, TradesTopsUnknownAndMarketEventsAreRecorded) {
  Pipeline p;
  std::vector<std::string> seen_assets;
  p.applier.on_market_event = [&seen_assets](const MarketEvent& e) {
    for (std::string_view s : e.assets_ids) seen_assets.emplace_back(s);
  };
  p.feed(read_fixture("ws_market_last_trade_msg.json"));
  p.feed(read_fixture("ws_market_best_bid_ask_msg.json"));
  p.feed(read_fixture("ws_market_new_market_msg.json"));
  p.feed(read_fixture("ws_market_resolved_msg.json"));
  p.feed(read_fixture("ws_book_snapshot.json"));  // no event_type: unknown
  p.feed(R"({"event_type":"book","bids":[],"asks":[]})");  // invalid: no asset id

  const TokenBook& a = p.book(kTokenA);
  EXPECT_EQ(a.last_trade_price, 5'100);
  EXPECT_EQ(a.last_trade_size, 25 * kShare);
  EXPECT_EQ(a.stats.trades, 1u);
  EXPECT_EQ(a.state, BookState::kAwaitingSnapshot);  // a trade is not a snapshot
  const TokenBook& t =
      p.book("85354956062430465315924116860125388538595433819574542752031640332592237464430");
  EXPECT_EQ(t.venue_top.bid, 7'300);
  EXPECT_EQ(t.venue_top.ask, 7'700);
  EXPECT_EQ(t.last_event_ms, 1'766'789'469'958);
  EXPECT_EQ(p.applier.stats().market_events, 2u);
  EXPECT_EQ(seen_assets.size(), 4u);  // two ids in each of the two market events
  EXPECT_EQ(p.applier.stats().unknown_events, 1u);
  EXPECT_EQ(p.applier.stats().invalid_events, 1u);
  EXPECT_EQ(p.keeper.size(), 2u);  // market events create no books
}

TEST(PolymarketBookApplier, TokenLimitDropsEventsForNewTokens) {
  BookKeeper keeper(1);
  BookApplier applier(keeper);
  Decoder d;
  d.decode(snapshot_a(), applier);
  std::string book_b = read_fixture("ws_market_book_msg.json");
  book_b.replace(book_b.find(kTokenA), kTokenA.size(), kTokenB);
  d.decode(book_b, applier);
  d.decode(with_event_type(read_fixture("ws_quotes.json"), "price_change"), applier);
  EXPECT_EQ(keeper.size(), 1u);
  EXPECT_EQ(keeper.find(kTokenB), kNoToken);
  EXPECT_EQ(keeper.totals().token_limit_rejects, 2u);  // B's book and B's quote
  EXPECT_EQ(keeper.book(keeper.find(kTokenA)).stats.changes_applied, 1u);
}

}  // namespace
}  // namespace booktape::polymarket
