#include "core/book_queries.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <utility>

namespace booktape {
namespace {

// Units: Price 0.0001 USDC, Size 1e-6 shares, Notional 1e-10 USDC.
constexpr Size kShare = kSizeScale;
constexpr Notional kUsdc = Notional{10'000'000'000};

using PriceSize = std::pair<Price, Size>;

L2Book make_book(std::initializer_list<PriceSize> bids, std::initializer_list<PriceSize> asks) {
  L2Book b;
  for (const auto& [p, s] : bids) b.side(Side::kBid).set(p, s);
  for (const auto& [p, s] : asks) b.side(Side::kAsk).set(p, s);
  return b;
}

// The book most tests walk:
//   asks  0.55 x 10   0.53 x 7   0.52 x 5   (best ask 0.52)
//   bids  0.50 x 10   0.49 x 20  0.47 x 30  (best bid 0.50)
L2Book ladder() {
  return make_book({{5'000, 10 * kShare}, {4'900, 20 * kShare}, {4'700, 30 * kShare}},
                   {{5'200, 5 * kShare}, {5'300, 7 * kShare}, {5'500, 10 * kShare}});
}

// --- top of book, mid, spread ---------------------------------------------------------------

TEST(BookQueries, BestBidAndAskAreEmptyForEmptySides) {
  const L2Book b;
  EXPECT_EQ(best_bid(b), std::nullopt);
  EXPECT_EQ(best_ask(b), std::nullopt);
  EXPECT_EQ(mid_x2(b), std::nullopt);
  EXPECT_EQ(spread(b), std::nullopt);
}

TEST(BookQueries, BestBidAndAskReadTheTopOfEachSide) {
  const L2Book b = ladder();
  EXPECT_EQ(best_bid(b), 5'000);
  EXPECT_EQ(best_ask(b), 5'200);
}

TEST(BookQueries, MidAndSpreadNeedBothSides) {
  const L2Book bids_only = make_book({{5'000, kShare}}, {});
  const L2Book asks_only = make_book({}, {{5'200, kShare}});
  EXPECT_EQ(best_bid(bids_only), 5'000);
  EXPECT_EQ(best_ask(bids_only), std::nullopt);
  EXPECT_EQ(mid_x2(bids_only), std::nullopt);
  EXPECT_EQ(spread(bids_only), std::nullopt);
  EXPECT_EQ(best_bid(asks_only), std::nullopt);
  EXPECT_EQ(mid_x2(asks_only), std::nullopt);
  EXPECT_EQ(spread(asks_only), std::nullopt);
}

TEST(BookQueries, MidX2IsExactWhenTheMidIsOffGrid) {
  // 0.481 / 0.484: mid 0.4825 is half a 0.001 tick; x2 = 4810 + 4840 = 9650.
  const L2Book b = make_book({{4'810, kShare}}, {{4'840, kShare}});
  EXPECT_EQ(mid_x2(b), 9'650);
}

TEST(BookQueries, SpreadIsAbsoluteAndInBasisPoints) {
  // 0.50 / 0.52: abs 0.02 = 200; mid 0.51; 0.02 / 0.51 = 392.156.. bps -> x100 = 39215.6 -> 39216.
  const auto s = spread(ladder());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->absolute, 200);
  EXPECT_EQ(s->bps_x100, 39'216);

  // 0.48 / 0.52: abs 400; mid 0.50; 0.04 / 0.50 = 800 bps exactly -> 80000.
  const auto even = spread(make_book({{4'800, kShare}}, {{5'200, kShare}}));
  ASSERT_TRUE(even.has_value());
  EXPECT_EQ(even->absolute, 400);
  EXPECT_EQ(even->bps_x100, 80'000);
}

TEST(BookQueries, SpreadBpsRoundsBelowHalfDown) {
  // 0.20 / 0.21: 0.01 / 0.205 = 487.80487.. bps -> x100 = 48780.487 -> 48780.
  const auto s = spread(make_book({{2'000, kShare}}, {{2'100, kShare}}));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->absolute, 100);
  EXPECT_EQ(s->bps_x100, 48'780);
}

TEST(BookQueries, SpreadBpsRoundsExactHalfAwayFromZero) {
  // 0.0255 / 0.0257: 0.0002 / 0.0256 = 78.125 bps -> x100 = 7812.5 exactly -> 7813.
  const auto s = spread(make_book({{255, kShare}}, {{257, kShare}}));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->absolute, 2);
  EXPECT_EQ(s->bps_x100, 7'813);
  // Mirrored (crossed): -7812.5 -> -7813, away from zero, not towards +inf.
  const auto crossed = spread(make_book({{257, kShare}}, {{255, kShare}}));
  ASSERT_TRUE(crossed.has_value());
  EXPECT_EQ(crossed->absolute, -2);
  EXPECT_EQ(crossed->bps_x100, -7'813);
}

TEST(BookQueries, LockedBookHasZeroSpread) {
  const auto s = spread(make_book({{5'300, kShare}}, {{5'300, kShare}}));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->absolute, 0);
  EXPECT_EQ(s->bps_x100, 0);
}

TEST(BookQueries, CrossedBookHasNegativeSpread) {
  // 0.55 / 0.50: abs -0.05; mid 0.525; -0.05 / 0.525 = -952.38095 bps -> x100 -95238.095
  // -> -95238.
  const auto s = spread(make_book({{5'500, kShare}}, {{5'000, kShare}}));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->absolute, -500);
  EXPECT_EQ(s->bps_x100, -95'238);
  EXPECT_LE(s->absolute, 0);
}

// --- depth ----------------------------------------------------------------------------------

TEST(BookQueries, DepthLevelsSumsTheBestN) {
  const L2Book b = ladder();
  // Best two bids: 10 @ 0.50 + 20 @ 0.49 = 30 shares, 5.00 + 9.80 = 14.80 USDC.
  const Depth two = depth_levels(b.bids(), 2);
  EXPECT_EQ(two.size, 30 * kShare);
  EXPECT_EQ(two.notional, 148 * kUsdc / 10);
  EXPECT_EQ(two.levels, 2u);
  // Best ask alone: 5 @ 0.52 = 2.60 USDC.
  const Depth one = depth_levels(b.asks(), 1);
  EXPECT_EQ(one.size, 5 * kShare);
  EXPECT_EQ(one.notional, 26 * kUsdc / 10);
  EXPECT_EQ(one.levels, 1u);
}

TEST(BookQueries, DepthLevelsStopsAtTheSideDepth) {
  const L2Book b = ladder();
  // All bids: 60 shares; 14.80 + 30 @ 0.47 (14.10) = 28.90 USDC.
  const Depth all = depth_levels(b.bids(), 100);
  EXPECT_EQ(all.size, 60 * kShare);
  EXPECT_EQ(all.notional, 289 * kUsdc / 10);
  EXPECT_EQ(all.levels, 3u);

  const Depth none = depth_levels(b.bids(), 0);
  EXPECT_EQ(none.size, 0);
  EXPECT_EQ(none.notional, 0);
  EXPECT_EQ(none.levels, 0u);

  const Depth empty = depth_levels(L2Book{}.asks(), 5);
  EXPECT_EQ(empty.levels, 0u);
  EXPECT_EQ(empty.size, 0);
}

TEST(BookQueries, DepthBandIncludesLevelsExactlyAtTheBandEdge) {
  const L2Book b = ladder();
  // Bids within 0.01 of 0.50: 0.50 and 0.49 (exactly 0.01 away, inclusive); 0.47 is out.
  const Depth bids = depth_band(b.bids(), 100);
  EXPECT_EQ(bids.levels, 2u);
  EXPECT_EQ(bids.size, 30 * kShare);
  EXPECT_EQ(bids.notional, 148 * kUsdc / 10);
  // Just under 0.01: only the best.
  EXPECT_EQ(depth_band(b.bids(), 99).levels, 1u);
  EXPECT_EQ(depth_band(b.bids(), 0).size, 10 * kShare);
  // 0.03 covers all three bids.
  EXPECT_EQ(depth_band(b.bids(), 300).levels, 3u);
  // Asks within 0.01 of 0.52 go UP in price: 0.52 and 0.53; 0.55 is 0.03 away.
  const Depth asks = depth_band(b.asks(), 100);
  EXPECT_EQ(asks.levels, 2u);
  EXPECT_EQ(asks.size, 12 * kShare);
  // 5 @ 0.52 + 7 @ 0.53 = 2.60 + 3.71 = 6.31 USDC.
  EXPECT_EQ(asks.notional, 631 * kUsdc / 100);
}

TEST(BookQueries, DepthBandOfEmptySideIsZero) {
  const Depth d = depth_band(L2Book{}.bids(), 10'000);
  EXPECT_EQ(d.levels, 0u);
  EXPECT_EQ(d.size, 0);
  EXPECT_EQ(d.notional, 0);
}

// --- fills ----------------------------------------------------------------------------------

TEST(BookQueries, FillSizeBuyWalksAsksWithPartialLastLevel) {
  // Buy 8: 5 @ 0.52 (2.60) + 3 of 7 @ 0.53 (1.59) = 4.19 USDC.
  const Fill f = fill_size(ladder(), Action::kBuy, 8 * kShare);
  EXPECT_EQ(f.filled, 8 * kShare);
  EXPECT_EQ(f.cost, 419 * kUsdc / 100);
  EXPECT_EQ(f.worst_price, 5'300);
  EXPECT_EQ(f.levels, 2u);
  EXPECT_TRUE(f.complete);
  // 4.19 / 8 = 0.52375 -> 52,375,000 in 1e-8.
  EXPECT_EQ(f.average_price_e8(), 52'375'000);
}

TEST(BookQueries, FillSizeSellWalksBidsWithPartialLastLevel) {
  // Sell 15: 10 @ 0.50 (5.00) + 5 of 20 @ 0.49 (2.45) = 7.45 USDC received.
  const Fill f = fill_size(ladder(), Action::kSell, 15 * kShare);
  EXPECT_EQ(f.filled, 15 * kShare);
  EXPECT_EQ(f.cost, 745 * kUsdc / 100);
  EXPECT_EQ(f.worst_price, 4'900);
  EXPECT_EQ(f.levels, 2u);
  EXPECT_TRUE(f.complete);
  // 7.45 / 15 = 0.4966666.. -> 49,666,666.67 -> rounds to 49,666,667.
  EXPECT_EQ(f.average_price_e8(), 49'666'667);
}

TEST(BookQueries, FillSizeExactlyConsumingLevelsStopsThere) {
  // Buy 12 = 5 + 7: both of the first two levels, nothing of the third.
  const Fill f = fill_size(ladder(), Action::kBuy, 12 * kShare);
  EXPECT_EQ(f.filled, 12 * kShare);
  EXPECT_EQ(f.cost, 631 * kUsdc / 100);  // 2.60 + 3.71
  EXPECT_EQ(f.worst_price, 5'300);
  EXPECT_EQ(f.levels, 2u);
  EXPECT_TRUE(f.complete);
}

TEST(BookQueries, FillSizeOnTooThinBookIsIncomplete) {
  // Buy 30 of 22 available: 2.60 + 3.71 + 10 @ 0.55 (5.50) = 11.81 USDC.
  const Fill f = fill_size(ladder(), Action::kBuy, 30 * kShare);
  EXPECT_EQ(f.filled, 22 * kShare);
  EXPECT_EQ(f.cost, 1'181 * kUsdc / 100);
  EXPECT_EQ(f.worst_price, 5'500);
  EXPECT_EQ(f.levels, 3u);
  EXPECT_FALSE(f.complete);
  // 11.81 / 22 = 0.53681818.. -> 53,681,818.
  EXPECT_EQ(f.average_price_e8(), 53'681'818);

  const Fill none = fill_size(make_book({{5'000, kShare}}, {}), Action::kBuy, kShare);
  EXPECT_EQ(none.filled, 0);
  EXPECT_EQ(none.levels, 0u);
  EXPECT_FALSE(none.complete);
  EXPECT_EQ(none.average_price_e8(), 0);
}

TEST(BookQueries, FillSizeOfZeroIsCompleteAndEmpty) {
  const Fill f = fill_size(ladder(), Action::kSell, 0);
  EXPECT_EQ(f.filled, 0);
  EXPECT_EQ(f.cost, 0);
  EXPECT_EQ(f.levels, 0u);
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.average_price_e8(), 0);
}

TEST(BookQueries, FillNotionalBuyFillsWholeMicroSharesOfTheLastLevel) {
  // Spend 5 USDC: 5 @ 0.52 costs 2.60, leaving 2.40. At 0.53 that buys 2.40 / 0.53 =
  // 4.528301886.. shares -> 4,528,301 micro-shares costing 4,528,301 x 5,300 = 23,999,995,300.
  const Fill f = fill_notional(ladder(), Action::kBuy, 5 * kUsdc);
  EXPECT_EQ(f.filled, 5 * kShare + 4'528'301);
  EXPECT_EQ(f.cost, Notional{26'000'000'000} + 23'999'995'300);
  EXPECT_LE(f.cost, 5 * kUsdc);
  EXPECT_EQ(f.worst_price, 5'300);
  EXPECT_EQ(f.levels, 2u);
  EXPECT_TRUE(f.complete);
  // 4.99999953 / 9.528301 = 0.5247524747.. -> 52,475,247.
  EXPECT_EQ(f.average_price_e8(), 52'475'247);
}

TEST(BookQueries, FillNotionalSellRaisesFromBids) {
  // Raise 6 USDC: 10 @ 0.50 gives 5.00, leaving 1.00. At 0.49: 1.00 / 0.49 = 2.0408163..
  // -> 2,040,816 micro-shares giving 2,040,816 x 4,900 = 9,999,998,400.
  const Fill f = fill_notional(ladder(), Action::kSell, 6 * kUsdc);
  EXPECT_EQ(f.filled, 10 * kShare + 2'040'816);
  EXPECT_EQ(f.cost, 5 * kUsdc + 9'999'998'400);
  EXPECT_EQ(f.worst_price, 4'900);
  EXPECT_EQ(f.levels, 2u);
  EXPECT_TRUE(f.complete);
}

TEST(BookQueries, FillNotionalExactlyOneLevelTakesItWhole) {
  // 2.60 USDC is exactly 5 @ 0.52.
  const Fill f = fill_notional(ladder(), Action::kBuy, 26 * kUsdc / 10);
  EXPECT_EQ(f.filled, 5 * kShare);
  EXPECT_EQ(f.cost, 26 * kUsdc / 10);
  EXPECT_EQ(f.levels, 1u);
  EXPECT_EQ(f.worst_price, 5'200);
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.average_price_e8(), 52'000'000);
}

TEST(BookQueries, FillsThatExactlyExhaustTheSideAreComplete) {
  // The asks hold 22 shares worth 11.81 USDC: asking for exactly that is not "too thin".
  const Fill by_size = fill_size(ladder(), Action::kBuy, 22 * kShare);
  EXPECT_EQ(by_size.levels, 3u);
  EXPECT_TRUE(by_size.complete);
  const Fill by_notional = fill_notional(ladder(), Action::kBuy, 1'181 * kUsdc / 100);
  EXPECT_EQ(by_notional.filled, 22 * kShare);
  EXPECT_EQ(by_notional.cost, 1'181 * kUsdc / 100);
  EXPECT_EQ(by_notional.levels, 3u);
  EXPECT_TRUE(by_notional.complete);
}

TEST(BookQueries, FillNotionalOnTooThinBookIsIncomplete) {
  // 20 USDC against asks worth 11.81 USDC: everything, still incomplete.
  const Fill f = fill_notional(ladder(), Action::kBuy, 20 * kUsdc);
  EXPECT_EQ(f.filled, 22 * kShare);
  EXPECT_EQ(f.cost, 1'181 * kUsdc / 100);
  EXPECT_EQ(f.worst_price, 5'500);
  EXPECT_EQ(f.levels, 3u);
  EXPECT_FALSE(f.complete);

  const Fill empty = fill_notional(L2Book{}, Action::kSell, kUsdc);
  EXPECT_EQ(empty.filled, 0);
  EXPECT_FALSE(empty.complete);
}

TEST(BookQueries, FillNotionalBelowOneMicroShareFillsNothing) {
  // 0.00000051 USDC (5,100 units) buys no whole micro-share at 0.52 (5,200 units each).
  const Fill f = fill_notional(ladder(), Action::kBuy, 5'100);
  EXPECT_EQ(f.filled, 0);
  EXPECT_EQ(f.cost, 0);
  EXPECT_EQ(f.levels, 0u);
  // Exactly one micro-share's worth buys one.
  const Fill one = fill_notional(ladder(), Action::kBuy, 5'200);
  EXPECT_EQ(one.filled, 1);
  EXPECT_EQ(one.cost, 5'200);
  EXPECT_TRUE(one.complete);
}

TEST(BookQueries, AveragePriceRoundsHalfUp) {
  Fill f;
  // cost 1e-10 over 0.02 shares = 0.000000005 USDC/share = 0.5 in 1e-8 -> 1.
  f.filled = 20'000;
  f.cost = 1;
  EXPECT_EQ(f.average_price_e8(), 1);
  // Just below half -> 0.
  f.filled = 20'001;
  EXPECT_EQ(f.average_price_e8(), 0);
  // Nothing filled -> 0, not a division by zero.
  f.filled = 0;
  f.cost = 123;
  EXPECT_EQ(f.average_price_e8(), 0);
}

// --- displayed price --------------------------------------------------------------------------

TEST(DisplayedPrice, MidpointWhenSpreadIsNarrow) {
  // 0.48 / 0.52: spread 0.04 <= 0.10 -> mid 0.50 (x2 = 10000), the trade is ignored.
  const DisplayedPrice d = displayed_price(make_book({{4'800, kShare}}, {{5'200, kShare}}), 6'000);
  EXPECT_EQ(d.source, DisplaySource::kMidpoint);
  EXPECT_EQ(d.value_x2, 10'000);
}

TEST(DisplayedPrice, MidpointWhenSpreadIsExactlyTenCents) {
  // 0.45 / 0.55: spread 0.10 is not wider than 0.10.
  const DisplayedPrice d = displayed_price(make_book({{4'500, kShare}}, {{5'500, kShare}}), 6'000);
  EXPECT_EQ(d.source, DisplaySource::kMidpoint);
  EXPECT_EQ(d.value_x2, 10'000);
}

TEST(DisplayedPrice, LastTradeWhenSpreadIsWiderThanTenCents) {
  // 0.45 / 0.551: spread 0.101 > 0.10 -> last trade 0.60 (x2 = 12000).
  const DisplayedPrice d = displayed_price(make_book({{4'500, kShare}}, {{5'510, kShare}}), 6'000);
  EXPECT_EQ(d.source, DisplaySource::kLastTrade);
  EXPECT_EQ(d.value_x2, 12'000);
}

TEST(DisplayedPrice, MidpointWhenSpreadIsWideButNoTradeYet) {
  // 0.10 / 0.90: mid 0.50.
  const DisplayedPrice d =
      displayed_price(make_book({{1'000, kShare}}, {{9'000, kShare}}), std::nullopt);
  EXPECT_EQ(d.source, DisplaySource::kMidpoint);
  EXPECT_EQ(d.value_x2, 10'000);
}

TEST(DisplayedPrice, MidpointOfCrossedBook) {
  // 0.55 / 0.50: negative spread is "narrow" -> mid 0.525 (x2 = 10500).
  const DisplayedPrice d = displayed_price(make_book({{5'500, kShare}}, {{5'000, kShare}}), 3'000);
  EXPECT_EQ(d.source, DisplaySource::kMidpoint);
  EXPECT_EQ(d.value_x2, 10'500);
}

TEST(DisplayedPrice, LastTradeWhenOneSideIsEmpty) {
  const DisplayedPrice bids_only = displayed_price(make_book({{4'800, kShare}}, {}), 4'870);
  EXPECT_EQ(bids_only.source, DisplaySource::kLastTrade);
  EXPECT_EQ(bids_only.value_x2, 9'740);
  const DisplayedPrice empty = displayed_price(L2Book{}, 4'870);
  EXPECT_EQ(empty.source, DisplaySource::kLastTrade);
  EXPECT_EQ(empty.value_x2, 9'740);
}

TEST(DisplayedPrice, NoneWhenNoMidpointAndNoTrade) {
  const DisplayedPrice one_side = displayed_price(make_book({}, {{5'200, kShare}}), std::nullopt);
  EXPECT_EQ(one_side.source, DisplaySource::kNone);
  EXPECT_EQ(one_side.value_x2, 0);
  const DisplayedPrice empty = displayed_price(L2Book{}, std::nullopt);
  EXPECT_EQ(empty.source, DisplaySource::kNone);
  EXPECT_EQ(empty.value_x2, 0);
}

TEST(DisplayedPrice, SourceNamesAreStable) {
  EXPECT_STREQ(to_string(DisplaySource::kNone), "none");
  EXPECT_STREQ(to_string(DisplaySource::kMidpoint), "midpoint");
  EXPECT_STREQ(to_string(DisplaySource::kLastTrade), "last_trade");
}

}  // namespace
}  // namespace booktape
