#include "core/book_keeper.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace booktape {
namespace {

constexpr Size kShare = kSizeScale;

// A real-looking 77-digit Polymarket asset id, and a second one.
const std::string kTokenA =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const std::string kTokenB =
    "52114319501245915516055106046884209969926127482827954674443846427813813222426";

class BookKeeperTest : public ::testing::Test {
 protected:
  // Snapshot: bids 0.47 x 3, 0.48 x 10 (best); asks 0.52 x 5 (best), 0.53 x 7.
  void snapshot(TokenIndex t, std::int64_t event_ms = 1'000) {
    std::vector<Level> bids{{3 * kShare, 4'700}, {10 * kShare, 4'800}};
    std::vector<Level> asks{{7 * kShare, 5'300}, {5 * kShare, 5'200}};
    keeper.apply_snapshot(t, bids, asks, event_ms);
  }
  // The snapshot, a tick change to 0.001, then a new best bid 0.4805 at `received_ns`, checked
  // against the venue's `top`.
  const TokenBook& checked_after_tick(TopOfBook top, std::int64_t received_ns) {
    snapshot(a);
    keeper.apply_tick_size(a, 10, 2);
    keeper.begin_frame(5, received_ns);
    keeper.apply_change(a, Side::kBid, 4'805, kShare, 3, &top);
    return keeper.book(a);
  }

  BookKeeper keeper;
  TokenIndex a = keeper.token(kTokenA);
};

TEST_F(BookKeeperTest, NewTokenAwaitsSnapshot) {
  ASSERT_NE(a, kNoToken);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kAwaitingSnapshot);
  EXPECT_EQ(tb.stale_reason, StaleReason::kNone);
  EXPECT_EQ(tb.epoch, 0u);
  EXPECT_TRUE(tb.book.bids().empty());
  EXPECT_TRUE(tb.book.asks().empty());
  EXPECT_EQ(keeper.size(), 1u);
  EXPECT_EQ(keeper.token_id(a), kTokenA);
}

TEST_F(BookKeeperTest, TokenIsFoundNotDuplicated) {
  EXPECT_EQ(keeper.token(kTokenA), a);
  EXPECT_EQ(keeper.find(kTokenA), a);
  EXPECT_EQ(keeper.find(kTokenB), kNoToken);  // find() never creates
  EXPECT_EQ(keeper.size(), 1u);
  const TokenIndex b = keeper.token(kTokenB);
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(keeper.find(kTokenB), b);
  EXPECT_EQ(keeper.size(), 2u);
}

TEST_F(BookKeeperTest, ChangeBeforeSnapshotIsSuppressedAndCounted) {
  const TopOfBook venue{4'800, 5'200};
  keeper.begin_frame(7, 111);
  keeper.apply_change(a, Side::kBid, 4'800, 10 * kShare, 1'234, &venue);
  keeper.apply_change(a, Side::kAsk, 5'200, 1 * kShare, 1'235, nullptr);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kAwaitingSnapshot);
  EXPECT_TRUE(tb.book.bids().empty());
  EXPECT_TRUE(tb.book.asks().empty());
  EXPECT_EQ(tb.stats.changes_suppressed, 2u);
  EXPECT_EQ(tb.stats.changes_applied, 0u);
  EXPECT_EQ(keeper.totals().changes_suppressed, 2u);
  EXPECT_EQ(keeper.totals().changes_applied, 0u);
  // The venue's view is still remembered, but nothing is compared against an unsynced book.
  EXPECT_EQ(tb.venue_top.bid, 4'800);
  EXPECT_EQ(tb.venue_top.ask, 5'200);
  EXPECT_EQ(tb.stats.checks, 0u);
  EXPECT_EQ(keeper.totals().checks, 0u);
  EXPECT_EQ(tb.last_event_ms, 1'235);
  EXPECT_EQ(tb.last_update_ns, 0);  // nothing was applied
}

TEST_F(BookKeeperTest, SnapshotMakesBookLive) {
  keeper.begin_frame(42, 1'700'000'000'000'000'000);
  snapshot(a, 555);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(tb.stale_reason, StaleReason::kNone);
  EXPECT_EQ(tb.epoch, 1u);
  EXPECT_EQ(tb.book.bids().best().price, 4'800);
  EXPECT_EQ(tb.book.bids().depth(), 2u);
  EXPECT_EQ(tb.book.asks().best().price, 5'200);
  EXPECT_EQ(tb.book.asks().depth(), 2u);
  EXPECT_EQ(tb.snapshot_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(tb.last_update_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(tb.last_event_ms, 555);
  EXPECT_EQ(tb.stats.snapshots, 1u);
  EXPECT_EQ(keeper.totals().snapshots, 1u);
  EXPECT_FALSE(tb.crossed);
}

TEST_F(BookKeeperTest, SnapshotReplacesBookAndCountsDuplicateLevels) {
  snapshot(a);
  keeper.apply_change(a, Side::kBid, 4'900, kShare, 2, nullptr);
  // Second snapshot: 0.45 listed twice (last wins), asks empty.
  std::vector<Level> bids{{1 * kShare, 4'500}, {2 * kShare, 4'500}};
  std::vector<Level> asks;
  keeper.apply_snapshot(a, bids, asks, 3);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.epoch, 2u);
  ASSERT_EQ(tb.book.bids().depth(), 1u);
  EXPECT_EQ(tb.book.bids().best().price, 4'500);
  EXPECT_EQ(tb.book.bids().best().size, 2 * kShare);
  EXPECT_TRUE(tb.book.asks().empty());
  EXPECT_EQ(keeper.totals().snapshot_duplicate_levels, 1u);
  EXPECT_EQ(tb.stats.snapshots, 2u);
}

TEST_F(BookKeeperTest, ChangeWhenLiveIsAppliedAndCounted) {
  snapshot(a);
  keeper.begin_frame(9, 900);
  keeper.apply_change(a, Side::kBid, 4'900, 4 * kShare, 2'000, nullptr);  // new best bid
  keeper.apply_change(a, Side::kAsk, 5'200, 0, 2'001, nullptr);           // best ask removed
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.book.bids().best().price, 4'900);
  EXPECT_EQ(tb.book.bids().best().size, 4 * kShare);
  EXPECT_EQ(tb.book.asks().best().price, 5'300);
  EXPECT_EQ(tb.stats.changes_applied, 2u);
  EXPECT_EQ(keeper.totals().changes_applied, 2u);
  EXPECT_EQ(tb.stats.changes_suppressed, 0u);
  EXPECT_EQ(tb.last_update_ns, 900);
  EXPECT_EQ(tb.last_event_ms, 2'001);
  EXPECT_EQ(tb.stats.remove_absent, 0u);
}

TEST_F(BookKeeperTest, RemovingAnAbsentLevelIsCounted) {
  snapshot(a);
  keeper.apply_change(a, Side::kAsk, 6'000, 0, 2, nullptr);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.stats.remove_absent, 1u);
  EXPECT_EQ(tb.stats.changes_applied, 1u);
  EXPECT_EQ(tb.book.asks().depth(), 2u);
}

// --- tick size changes: the book is kept, unconfirmed until a check decides -------------------

TEST_F(BookKeeperTest, TickSizeChangeKeepsTheBookUnconfirmedAndAppliesChanges) {
  keeper.begin_frame(1, 1'000);
  snapshot(a);
  keeper.begin_frame(2, 2'000);
  keeper.apply_tick_size(a, 10, 3'000);  // 0.01 -> 0.001
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kUnconfirmed);
  EXPECT_EQ(tb.stale_reason, StaleReason::kNone);
  EXPECT_EQ(tb.state_since_ns, 2'000);
  EXPECT_EQ(tb.book.bids().depth(), 2u);  // never silently empty
  EXPECT_EQ(tb.book.asks().depth(), 2u);
  EXPECT_EQ(tb.tick, 10);
  EXPECT_EQ(tb.stats.tick_size_changes, 1u);
  EXPECT_EQ(keeper.totals().tick_size_changes, 1u);
  EXPECT_EQ(tb.last_event_ms, 3'000);
  EXPECT_EQ(tb.epoch, 1u);  // no snapshot came

  // Unchecked changes (legacy entries carry no best prices) apply and decide nothing.
  keeper.begin_frame(3, 3'000);
  keeper.apply_change(a, Side::kBid, 4'810, kShare, 3'001, nullptr);  // on the new 0.001 grid
  EXPECT_EQ(tb.state, BookState::kUnconfirmed);
  EXPECT_EQ(tb.state_since_ns, 2'000);
  EXPECT_EQ(tb.stats.changes_applied, 1u);
  EXPECT_EQ(tb.stats.changes_suppressed, 0u);
  EXPECT_EQ(tb.book.bids().best().price, 4'810);

  // A second tick change does not restart the clock.
  keeper.apply_tick_size(a, 100, 3'002);
  EXPECT_EQ(tb.state, BookState::kUnconfirmed);
  EXPECT_EQ(tb.state_since_ns, 2'000);
  EXPECT_EQ(tb.tick, 100);
}

TEST_F(BookKeeperTest, AnAgreeingCheckConfirmsAnUnconfirmedBook) {
  const TopOfBook venue{4'805, 5'200};
  const TokenBook& tb = checked_after_tick(venue, 5'000);
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(tb.state_since_ns, 5'000);
  EXPECT_TRUE(tb.in_sync);
  EXPECT_EQ(tb.stats.confirmations, 1u);
  EXPECT_EQ(tb.stats.disagreements, 0u);
  EXPECT_EQ(keeper.totals().confirmations, 1u);
  EXPECT_EQ(tb.stats.divergences, 0u);
  EXPECT_EQ(tb.book.bids().depth(), 3u);
  // Live again: the next checks are ordinary ones.
  keeper.apply_change(a, Side::kBid, 4'806, kShare, 4, &venue);
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(tb.stats.confirmations, 1u);
  EXPECT_EQ(tb.stats.divergences, 1u);
}

TEST_F(BookKeeperTest, ADisagreeingCheckMakesAnUnconfirmedBookStaleUntilASnapshot) {
  // The venue's best ask is 0.519: something we never saw moved the book.
  const TokenBook& tb = checked_after_tick(TopOfBook{4'805, 5'190}, 6'000);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kTickSizeChange);
  EXPECT_EQ(tb.state_since_ns, 6'000);
  EXPECT_FALSE(tb.in_sync);
  EXPECT_EQ(tb.stats.disagreements, 1u);
  EXPECT_EQ(keeper.totals().disagreements, 1u);
  EXPECT_EQ(tb.stats.confirmations, 0u);
  EXPECT_EQ(tb.stats.divergences, 1u);  // also an ordinary divergence
  EXPECT_EQ(tb.book.bids().best().price, 4'805);  // readable, flagged

  // A stale book is not healed by agreeing entries: they vouch only for the top.
  const TopOfBook agree{4'805, 5'200};
  keeper.apply_change(a, Side::kAsk, 5'200, 5 * kShare, 4, &agree);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stats.changes_suppressed, 1u);
  EXPECT_EQ(tb.stats.confirmations, 0u);

  keeper.begin_frame(7, 7'000);
  snapshot(a, 5);
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(tb.stale_reason, StaleReason::kNone);
  EXPECT_EQ(tb.state_since_ns, 7'000);
  EXPECT_EQ(tb.tick, 10);  // the announced tick outlives the snapshot
}

TEST_F(BookKeeperTest, TickSizeChangeLeavesStaleAndAwaitingBooksAsTheyAre) {
  keeper.apply_tick_size(a, 10, 1);
  EXPECT_EQ(keeper.book(a).state, BookState::kAwaitingSnapshot);
  EXPECT_EQ(keeper.book(a).tick, 10);
  snapshot(a);
  keeper.mark_stale(a, StaleReason::kExternal);
  keeper.apply_tick_size(a, 100, 2);
  EXPECT_EQ(keeper.book(a).state, BookState::kStale);
  EXPECT_EQ(keeper.book(a).stale_reason, StaleReason::kExternal);
}

TEST_F(BookKeeperTest, LostContinuityMakesAnUnconfirmedBookStale) {
  snapshot(a);
  keeper.apply_tick_size(a, 10, 2);
  keeper.mark_stale(a, StaleReason::kExternal, 9'000);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kExternal);
  EXPECT_EQ(tb.state_since_ns, 9'000);
  // Messages were lost: even an agreeing check does not bring it back, only a snapshot.
  const TopOfBook agree{4'800, 5'200};
  keeper.apply_change(a, Side::kBid, 4'700, 3 * kShare, 3, &agree);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stats.confirmations, 0u);
}

TEST_F(BookKeeperTest, TickSizeChangeKeepsTheCrossedFlagInStepWithTheKeptBook) {
  snapshot(a);
  keeper.apply_change(a, Side::kBid, 5'200, kShare, 2, nullptr);  // locked
  ASSERT_TRUE(keeper.book(a).crossed);
  keeper.apply_tick_size(a, 10, 3);
  EXPECT_TRUE(keeper.book(a).crossed);
  EXPECT_EQ(keeper.book(a).crossed, keeper.book(a).book.crossed());
}

TEST_F(BookKeeperTest, StateSinceIsWhenTheStateWasEntered) {
  keeper.begin_frame(1, 100);
  const TokenIndex b = keeper.token(kTokenB);
  EXPECT_EQ(keeper.book(b).state_since_ns, 100);  // awaiting since first seen
  keeper.begin_frame(2, 200);
  snapshot(b);
  EXPECT_EQ(keeper.book(b).state_since_ns, 200);
  keeper.begin_frame(3, 300);
  snapshot(b);  // live again: still live since 200
  EXPECT_EQ(keeper.book(b).state_since_ns, 200);
  keeper.mark_stale(b, StaleReason::kBadUpdate);  // no time given: the frame's
  EXPECT_EQ(keeper.book(b).state_since_ns, 300);
  keeper.mark_all_stale(StaleReason::kExternal, 400);  // already stale: since unchanged
  EXPECT_EQ(keeper.book(b).state_since_ns, 300);
  EXPECT_EQ(keeper.book(b).stale_reason, StaleReason::kExternal);
}

TEST_F(BookKeeperTest, MarkStaleKeepsBookReadableAndSuppressesChanges) {
  snapshot(a);
  keeper.mark_stale(a, StaleReason::kExternal);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kExternal);
  EXPECT_EQ(tb.book.bids().best().price, 4'800);  // still readable
  EXPECT_EQ(tb.book.asks().best().price, 5'200);
  EXPECT_EQ(tb.stats.bad_updates, 0u);

  keeper.apply_change(a, Side::kBid, 4'900, kShare, 2, nullptr);
  EXPECT_EQ(tb.book.bids().best().price, 4'800);
  EXPECT_EQ(tb.stats.changes_suppressed, 1u);

  snapshot(a);
  EXPECT_EQ(tb.state, BookState::kLive);
  EXPECT_EQ(tb.stale_reason, StaleReason::kNone);
}

TEST_F(BookKeeperTest, MarkStaleBadUpdateIsCounted) {
  snapshot(a);
  keeper.mark_stale(a, StaleReason::kBadUpdate);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kBadUpdate);
  EXPECT_EQ(tb.stats.bad_updates, 1u);
  EXPECT_EQ(keeper.totals().bad_updates, 1u);
  EXPECT_EQ(tb.book.bids().depth(), 2u);  // a bad update leaves the last good book readable
}

TEST_F(BookKeeperTest, MarkStaleBadSnapshotDropsTheBook) {
  snapshot(a);
  keeper.mark_stale(a, StaleReason::kBadSnapshot);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kBadSnapshot);
  EXPECT_TRUE(tb.book.bids().empty());
  EXPECT_TRUE(tb.book.asks().empty());
  EXPECT_EQ(tb.stats.bad_updates, 1u);
  EXPECT_EQ(keeper.totals().bad_updates, 1u);
}

TEST_F(BookKeeperTest, MarkStaleBeforeSnapshotStaysAwaitingExceptForBadSnapshot) {
  keeper.mark_stale(a, StaleReason::kExternal);
  EXPECT_EQ(keeper.book(a).state, BookState::kAwaitingSnapshot);
  EXPECT_EQ(keeper.book(a).stale_reason, StaleReason::kNone);
  keeper.mark_stale(a, StaleReason::kBadUpdate);
  EXPECT_EQ(keeper.book(a).state, BookState::kAwaitingSnapshot);
  EXPECT_EQ(keeper.book(a).stats.bad_updates, 1u);  // still counted
  keeper.mark_stale(a, StaleReason::kBadSnapshot);
  EXPECT_EQ(keeper.book(a).state, BookState::kStale);
  EXPECT_EQ(keeper.book(a).stale_reason, StaleReason::kBadSnapshot);
  EXPECT_EQ(keeper.totals().bad_updates, 2u);
}

TEST_F(BookKeeperTest, MarkAllStaleFlagsEveryLiveToken) {
  const TokenIndex b = keeper.token(kTokenB);
  const TokenIndex c = keeper.token("short-id");
  snapshot(a);
  snapshot(b);
  keeper.mark_all_stale(StaleReason::kExternal);
  EXPECT_EQ(keeper.book(a).state, BookState::kStale);
  EXPECT_EQ(keeper.book(a).stale_reason, StaleReason::kExternal);
  EXPECT_EQ(keeper.book(b).state, BookState::kStale);
  EXPECT_EQ(keeper.book(b).stale_reason, StaleReason::kExternal);
  EXPECT_EQ(keeper.book(c).state, BookState::kAwaitingSnapshot);  // never had a book
  EXPECT_EQ(keeper.totals().bad_updates, 0u);

  snapshot(b);
  EXPECT_EQ(keeper.book(a).state, BookState::kStale);
  EXPECT_EQ(keeper.book(b).state, BookState::kLive);
}

// --- validation against the venue's top of book ---------------------------------------------

TEST_F(BookKeeperTest, DivergenceCheckAgreesWithVenue) {
  snapshot(a);
  const TopOfBook venue{4'900, 5'200};
  keeper.apply_change(a, Side::kBid, 4'900, kShare, 2, &venue);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.stats.checks, 1u);
  EXPECT_EQ(tb.stats.divergences, 0u);
  EXPECT_TRUE(tb.in_sync);
  EXPECT_EQ(keeper.totals().checks, 1u);
  EXPECT_EQ(keeper.totals().divergences, 0u);
  EXPECT_TRUE(keeper.divergence_examples().empty());
  EXPECT_EQ(tb.venue_top.bid, 4'900);
}

TEST_F(BookKeeperTest, DivergenceCheckFiresAndRecordsFrameContext) {
  snapshot(a);
  keeper.begin_frame(1'001, 1'790'000'000'123'456'789);
  const TopOfBook venue{4'800, 5'100};  // the venue has an ask at 0.51 that we lack
  keeper.apply_change(a, Side::kBid, 4'700, 4 * kShare, 2, &venue);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.stats.checks, 1u);
  EXPECT_EQ(tb.stats.divergences, 1u);
  EXPECT_EQ(keeper.totals().divergences, 1u);
  EXPECT_FALSE(tb.in_sync);

  const auto ex = keeper.divergence_examples();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].token, a);
  EXPECT_EQ(ex[0].frame, 1'001u);
  EXPECT_EQ(ex[0].received_ns, 1'790'000'000'123'456'789);
  EXPECT_EQ(ex[0].ours.bid, 4'800);
  EXPECT_EQ(ex[0].ours.ask, 5'200);
  EXPECT_EQ(ex[0].venue.bid, 4'800);
  EXPECT_EQ(ex[0].venue.ask, 5'100);

  // A later agreeing check puts the token back in sync.
  const TopOfBook agree{4'800, 5'200};
  keeper.apply_change(a, Side::kBid, 4'700, 5 * kShare, 3, &agree);
  EXPECT_TRUE(tb.in_sync);
  EXPECT_EQ(tb.stats.checks, 2u);
  EXPECT_EQ(tb.stats.divergences, 1u);
}

TEST_F(BookKeeperTest, SnapshotRestoresInSync) {
  snapshot(a);
  const TopOfBook venue{4'000, 6'000};
  keeper.apply_change(a, Side::kBid, 4'700, kShare, 2, &venue);
  ASSERT_FALSE(keeper.book(a).in_sync);
  snapshot(a);
  EXPECT_TRUE(keeper.book(a).in_sync);
}

TEST_F(BookKeeperTest, EmptySideMatchesEveryVenueFormOfEmpty) {
  // Our book: bids only (0.48). The venue may report the empty ask side as kNoPrice (missing
  // field) or "1"; an empty bid side as kNoPrice or "0".
  std::vector<Level> bids{{kShare, 4'800}};
  std::vector<Level> asks;
  keeper.apply_snapshot(a, bids, asks, 1);
  for (const Price venue_ask : {kNoPrice, kPriceOne}) {
    const TopOfBook venue{4'800, venue_ask};
    keeper.apply_change(a, Side::kBid, 4'800, 2 * kShare, 2, &venue);
    EXPECT_TRUE(keeper.book(a).in_sync) << "venue ask " << venue_ask;
  }
  EXPECT_EQ(keeper.book(a).stats.divergences, 0u);

  // Now the ask side only: remove the bid, add an ask at 0.52.
  keeper.apply_change(a, Side::kBid, 4'800, 0, 3, nullptr);
  keeper.apply_change(a, Side::kAsk, 5'200, kShare, 4, nullptr);
  for (const Price venue_bid : {kNoPrice, Price{0}}) {
    const TopOfBook venue{venue_bid, 5'200};
    keeper.apply_change(a, Side::kAsk, 5'200, 3 * kShare, 5, &venue);
    EXPECT_TRUE(keeper.book(a).in_sync) << "venue bid " << venue_bid;
  }
  EXPECT_EQ(keeper.book(a).stats.checks, 4u);
  EXPECT_EQ(keeper.book(a).stats.divergences, 0u);

  // Both sides empty: the venue's "0" / "1" pair agrees.
  keeper.apply_change(a, Side::kAsk, 5'200, 0, 6, nullptr);
  const TopOfBook zero_one{0, kPriceOne};
  keeper.apply_change(a, Side::kAsk, 5'300, 0, 7, &zero_one);
  EXPECT_TRUE(keeper.book(a).in_sync);
  EXPECT_EQ(keeper.book(a).stats.divergences, 0u);
}

TEST_F(BookKeeperTest, EmptySideDisagreesWithARealVenueLevel) {
  std::vector<Level> bids{{kShare, 4'800}};
  std::vector<Level> asks;
  keeper.apply_snapshot(a, bids, asks, 1);
  // We have no ask; the venue has one at 0.99.
  const TopOfBook venue{4'800, 9'900};
  keeper.apply_change(a, Side::kBid, 4'800, 2 * kShare, 2, &venue);
  EXPECT_FALSE(keeper.book(a).in_sync);
  EXPECT_EQ(keeper.book(a).stats.divergences, 1u);
  // We have a bid at 0.48; the venue says the bid side is empty ("0").
  const TopOfBook no_bid{0, kNoPrice};
  keeper.apply_change(a, Side::kBid, 4'800, 3 * kShare, 3, &no_bid);
  EXPECT_FALSE(keeper.book(a).in_sync);
  EXPECT_EQ(keeper.book(a).stats.divergences, 2u);
  // We have an ask at 0.99; the venue says "1" (empty).
  keeper.apply_change(a, Side::kAsk, 9'900, kShare, 4, nullptr);
  const TopOfBook no_ask{4'800, kPriceOne};
  keeper.apply_change(a, Side::kBid, 4'800, 4 * kShare, 5, &no_ask);
  EXPECT_FALSE(keeper.book(a).in_sync);
  EXPECT_EQ(keeper.book(a).stats.divergences, 3u);
}

TEST_F(BookKeeperTest, DivergenceExamplesAreCappedAndKeepTheFirst) {
  snapshot(a);
  constexpr std::size_t kDivergences = BookKeeper::kMaxDivergenceExamples + 5;
  const TopOfBook venue{4'000, 6'000};  // never matches our 0.48 / 0.52
  for (std::size_t i = 0; i < kDivergences; ++i) {
    keeper.begin_frame(100 + i, static_cast<std::int64_t>(5'000 + i));
    keeper.apply_change(a, Side::kBid, 4'700, static_cast<Size>(i + 1) * kShare,
                        static_cast<std::int64_t>(i), &venue);
  }
  EXPECT_EQ(keeper.totals().divergences, kDivergences);
  EXPECT_EQ(keeper.book(a).stats.divergences, kDivergences);
  const auto ex = keeper.divergence_examples();
  ASSERT_EQ(ex.size(), BookKeeper::kMaxDivergenceExamples);
  for (std::size_t i = 0; i < ex.size(); ++i) {
    EXPECT_EQ(ex[i].frame, 100 + i);
    EXPECT_EQ(ex[i].received_ns, static_cast<std::int64_t>(5'000 + i));
    EXPECT_EQ(ex[i].venue.bid, 4'000);
    EXPECT_EQ(ex[i].ours.bid, 4'800);
  }
}

// --- crossed books --------------------------------------------------------------------------

TEST_F(BookKeeperTest, CrossedCountsTransitionsOnly) {
  snapshot(a);  // 0.48 / 0.52
  const TokenBook& tb = keeper.book(a);
  keeper.apply_change(a, Side::kBid, 5'200, kShare, 2, nullptr);  // locked 0.52 / 0.52
  EXPECT_TRUE(tb.crossed);
  EXPECT_EQ(tb.stats.crossed, 1u);
  keeper.apply_change(a, Side::kBid, 5'300, kShare, 3, nullptr);  // still crossed
  keeper.apply_change(a, Side::kBid, 5'300, 2 * kShare, 4, nullptr);
  EXPECT_EQ(tb.stats.crossed, 1u);
  keeper.apply_change(a, Side::kBid, 5'300, 0, 5, nullptr);
  keeper.apply_change(a, Side::kBid, 5'200, 0, 6, nullptr);  // back to 0.48 / 0.52
  EXPECT_FALSE(tb.crossed);
  EXPECT_EQ(tb.stats.crossed, 1u);
  keeper.apply_change(a, Side::kAsk, 4'800, kShare, 7, nullptr);  // crossed again from the ask
  EXPECT_TRUE(tb.crossed);
  EXPECT_EQ(tb.stats.crossed, 2u);
  EXPECT_EQ(keeper.totals().crossed, 2u);
}

TEST_F(BookKeeperTest, CrossedSnapshotCountsOnce) {
  std::vector<Level> bids{{kShare, 5'500}};
  std::vector<Level> asks{{kShare, 5'000}};
  keeper.apply_snapshot(a, bids, asks, 1);
  EXPECT_TRUE(keeper.book(a).crossed);
  EXPECT_EQ(keeper.book(a).stats.crossed, 1u);
  keeper.apply_change(a, Side::kBid, 5'400, kShare, 2, nullptr);
  EXPECT_EQ(keeper.book(a).stats.crossed, 1u);
  // An uncrossed snapshot clears the flag without counting.
  snapshot(a);
  EXPECT_FALSE(keeper.book(a).crossed);
  EXPECT_EQ(keeper.totals().crossed, 1u);
}

TEST_F(BookKeeperTest, BadSnapshotClearsCrossedFlagWithTheBook) {
  snapshot(a);
  keeper.apply_change(a, Side::kBid, 5'200, kShare, 2, nullptr);  // locked 0.52 / 0.52
  ASSERT_TRUE(keeper.book(a).crossed);
  keeper.mark_stale(a, StaleReason::kBadSnapshot);
  const TokenBook& tb = keeper.book(a);
  ASSERT_TRUE(tb.book.bids().empty());
  EXPECT_FALSE(tb.crossed);  // an empty book is not crossed
  // So the next crossed snapshot is a new crossing, and is counted.
  std::vector<Level> bids{{kShare, 5'500}};
  std::vector<Level> asks{{kShare, 5'000}};
  keeper.apply_snapshot(a, bids, asks, 3);
  EXPECT_TRUE(tb.crossed);
  EXPECT_EQ(tb.stats.crossed, 2u);
}

// --- token limit, trades, names ---------------------------------------------------------------

TEST(BookKeeperLimits, TokenLimitReturnsNoTokenAndCounts) {
  BookKeeper keeper(2);
  const TokenIndex a = keeper.token(kTokenA);
  const TokenIndex b = keeper.token(kTokenB);
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(keeper.token("third"), kNoToken);
  EXPECT_EQ(keeper.token("third"), kNoToken);
  EXPECT_EQ(keeper.totals().token_limit_rejects, 2u);
  EXPECT_EQ(keeper.find("third"), kNoToken);
  // Known tokens still resolve, without counting.
  EXPECT_EQ(keeper.token(kTokenA), a);
  EXPECT_EQ(keeper.totals().token_limit_rejects, 2u);
  EXPECT_EQ(keeper.size(), 2u);
}

TEST_F(BookKeeperTest, RecordTradeAndVenueTopAreKept) {
  keeper.record_trade(a, 5'100, 12 * kShare, 10);
  keeper.record_venue_top(a, TopOfBook{5'000, 5'200}, 11);
  const TokenBook& tb = keeper.book(a);
  EXPECT_EQ(tb.last_trade_price, 5'100);
  EXPECT_EQ(tb.last_trade_size, 12 * kShare);
  EXPECT_EQ(tb.stats.trades, 1u);
  EXPECT_EQ(tb.venue_top.bid, 5'000);
  EXPECT_EQ(tb.venue_top.ask, 5'200);
  EXPECT_EQ(tb.last_event_ms, 11);
  EXPECT_EQ(tb.state, BookState::kAwaitingSnapshot);  // neither affects sync
}

TEST(BookKeeperTopOf, EmptySidesAreNoPrice) {
  L2Book b;
  TopOfBook t = BookKeeper::top_of(b);
  EXPECT_EQ(t.bid, kNoPrice);
  EXPECT_EQ(t.ask, kNoPrice);
  b.side(Side::kBid).set(4'800, kShare);
  t = BookKeeper::top_of(b);
  EXPECT_EQ(t.bid, 4'800);
  EXPECT_EQ(t.ask, kNoPrice);
}

TEST(BookKeeperNames, StatesAndReasonsHaveStableNames) {
  EXPECT_STREQ(to_string(BookState::kAwaitingSnapshot), "awaiting_snapshot");
  EXPECT_STREQ(to_string(BookState::kLive), "live");
  EXPECT_STREQ(to_string(BookState::kStale), "stale");
  EXPECT_STREQ(to_string(BookState::kUnconfirmed), "unconfirmed");
  EXPECT_EQ(static_cast<std::size_t>(BookState::kUnconfirmed) + 1, kBookStateCount);
  EXPECT_STREQ(to_string(StaleReason::kNone), "none");
  EXPECT_STREQ(to_string(StaleReason::kTickSizeChange), "tick_size_change");
  EXPECT_STREQ(to_string(StaleReason::kBadUpdate), "bad_update");
  EXPECT_STREQ(to_string(StaleReason::kBadSnapshot), "bad_snapshot");
  EXPECT_STREQ(to_string(StaleReason::kExternal), "external");
}

}  // namespace
}  // namespace booktape
