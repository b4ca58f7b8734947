#include "core/l2_book.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace booktape {
namespace {

// Prices in 0.0001 units, sizes in micro-shares.
constexpr Size kShare = kSizeScale;

using PriceSize = std::pair<Price, Size>;

// The side's levels, best first, as comparable pairs.
std::vector<PriceSize> levels_of(const BookSide& s) {
  std::vector<PriceSize> out;
  out.reserve(s.depth());
  for (std::size_t i = 0; i < s.depth(); ++i) out.emplace_back(s.level(i).price, s.level(i).size);
  return out;
}

// What assign() must produce: the last occurrence of each price wins, zero sizes are dropped,
// best first. Also returns how many entries were duplicates of a later one.
std::pair<std::vector<PriceSize>, std::size_t> reference_assign(Side side,
                                                                const std::vector<Level>& in) {
  std::map<Price, Size> m;
  for (const Level& l : in) m[l.price] = l.size;
  const std::size_t duplicates = in.size() - m.size();
  std::vector<PriceSize> out;
  for (const auto& [p, s] : m)
    if (s > 0) out.emplace_back(p, s);
  if (side == Side::kBid) std::reverse(out.begin(), out.end());  // best bid is the highest
  return {out, duplicates};
}

// --- set() ----------------------------------------------------------------------------------

TEST(BookSide, StartsEmpty) {
  const BookSide bids(Side::kBid);
  EXPECT_TRUE(bids.empty());
  EXPECT_EQ(bids.depth(), 0u);
  EXPECT_EQ(bids.side(), Side::kBid);
  EXPECT_EQ(bids.size_at(4'800), 0);
}

TEST(BookSide, SetInsertsNewLevel) {
  BookSide bids(Side::kBid);
  EXPECT_EQ(bids.set(4'800, 100 * kShare), LevelUpdate::kInserted);
  ASSERT_EQ(bids.depth(), 1u);
  EXPECT_EQ(bids.best().price, 4'800);
  EXPECT_EQ(bids.best().size, 100 * kShare);
}

TEST(BookSide, SetOnExistingPriceUpdatesSizeWithoutAddingLevel) {
  BookSide asks(Side::kAsk);
  ASSERT_EQ(asks.set(5'200, 10 * kShare), LevelUpdate::kInserted);
  ASSERT_EQ(asks.set(5'300, 20 * kShare), LevelUpdate::kInserted);
  EXPECT_EQ(asks.set(5'200, 7 * kShare), LevelUpdate::kUpdated);  // a new total, not a delta
  EXPECT_EQ(asks.depth(), 2u);
  EXPECT_EQ(asks.size_at(5'200), 7 * kShare);
  EXPECT_EQ(asks.size_at(5'300), 20 * kShare);
}

TEST(BookSide, SetZeroRemovesLevel) {
  BookSide bids(Side::kBid);
  ASSERT_EQ(bids.set(4'800, 1 * kShare), LevelUpdate::kInserted);
  ASSERT_EQ(bids.set(4'900, 2 * kShare), LevelUpdate::kInserted);
  EXPECT_EQ(bids.set(4'900, 0), LevelUpdate::kRemoved);
  ASSERT_EQ(bids.depth(), 1u);
  EXPECT_EQ(bids.best().price, 4'800);  // the next level becomes best
  EXPECT_EQ(bids.size_at(4'900), 0);
  EXPECT_EQ(bids.set(4'800, 0), LevelUpdate::kRemoved);
  EXPECT_TRUE(bids.empty());
}

TEST(BookSide, SetZeroForAbsentPriceReportsRemoveAbsentAndChangesNothing) {
  BookSide asks(Side::kAsk);
  EXPECT_EQ(asks.set(5'000, 0), LevelUpdate::kRemoveAbsent);  // empty side
  ASSERT_EQ(asks.set(5'100, 3 * kShare), LevelUpdate::kInserted);
  ASSERT_EQ(asks.set(5'300, 4 * kShare), LevelUpdate::kInserted);
  EXPECT_EQ(asks.set(5'200, 0), LevelUpdate::kRemoveAbsent);  // between two levels
  EXPECT_EQ(asks.set(5'000, 0), LevelUpdate::kRemoveAbsent);  // better than the best
  EXPECT_EQ(asks.set(9'000, 0), LevelUpdate::kRemoveAbsent);  // worse than the worst
  EXPECT_EQ(levels_of(asks), (std::vector<PriceSize>{{5'100, 3 * kShare}, {5'300, 4 * kShare}}));
}

TEST(BookSide, BidBestIsHighestPriceWhateverTheInsertOrder) {
  BookSide bids(Side::kBid);
  for (Price p : {4'700, 4'900, 4'500, 4'800, 4'600}) bids.set(p, kShare);
  EXPECT_EQ(bids.best().price, 4'900);
  std::vector<Price> prices;
  for (const auto& [p, s] : levels_of(bids)) prices.push_back(p);
  EXPECT_EQ(prices, (std::vector<Price>{4'900, 4'800, 4'700, 4'600, 4'500}));
}

TEST(BookSide, AskBestIsLowestPriceWhateverTheInsertOrder) {
  BookSide asks(Side::kAsk);
  for (Price p : {5'300, 5'100, 5'500, 5'200, 5'400}) asks.set(p, kShare);
  EXPECT_EQ(asks.best().price, 5'100);
  std::vector<Price> prices;
  for (const auto& [p, s] : levels_of(asks)) prices.push_back(p);
  EXPECT_EQ(prices, (std::vector<Price>{5'100, 5'200, 5'300, 5'400, 5'500}));
}

TEST(BookSide, LevelCountsFromTheBest) {
  BookSide bids(Side::kBid);
  bids.set(4'500, 1 * kShare);
  bids.set(4'700, 3 * kShare);
  bids.set(4'600, 2 * kShare);
  ASSERT_EQ(bids.depth(), 3u);
  EXPECT_EQ(bids.level(0).price, 4'700);
  EXPECT_EQ(bids.level(0).size, 3 * kShare);
  EXPECT_EQ(bids.level(1).price, 4'600);
  EXPECT_EQ(bids.level(2).price, 4'500);
  EXPECT_EQ(&bids.level(0), &bids.best());
}

TEST(BookSide, SizeAtIsExactPriceOnly) {
  BookSide asks(Side::kAsk);
  asks.set(5'100, 11 * kShare);
  asks.set(5'110, 12 * kShare);  // 0.001 grid next to a 0.01 level
  EXPECT_EQ(asks.size_at(5'100), 11 * kShare);
  EXPECT_EQ(asks.size_at(5'110), 12 * kShare);
  EXPECT_EQ(asks.size_at(5'105), 0);
  EXPECT_EQ(asks.size_at(5'000), 0);
  EXPECT_EQ(asks.size_at(6'000), 0);
}

TEST(BookSide, BetterFollowsTheSide) {
  const BookSide bids(Side::kBid);
  const BookSide asks(Side::kAsk);
  EXPECT_TRUE(bids.better(4'900, 4'800));
  EXPECT_FALSE(bids.better(4'800, 4'900));
  EXPECT_FALSE(bids.better(4'800, 4'800));
  EXPECT_TRUE(asks.better(4'800, 4'900));
  EXPECT_FALSE(asks.better(4'900, 4'800));
  EXPECT_FALSE(asks.better(4'800, 4'800));
}

TEST(BookSide, ClearEmptiesButKeepsCapacity) {
  BookSide bids(Side::kBid, 8);
  for (Price p = 100; p <= 2'000; p += 100) bids.set(p, kShare);
  const std::size_t cap = bids.capacity();
  ASSERT_GE(cap, 20u);
  bids.clear();
  EXPECT_TRUE(bids.empty());
  EXPECT_EQ(bids.capacity(), cap);
}

// --- assign() -------------------------------------------------------------------------------

TEST(BookSideAssign, BidsAscendingAsCapturedGiveHighestBest) {
  // The venue sends bids worst first (ascending): our storage order, no sort needed.
  std::vector<Level> in{{1 * kShare, 4'700}, {2 * kShare, 4'800}, {3 * kShare, 4'900}};
  BookSide bids(Side::kBid);
  EXPECT_EQ(bids.assign(in), 0u);
  EXPECT_EQ(levels_of(bids),
            (std::vector<PriceSize>{{4'900, 3 * kShare}, {4'800, 2 * kShare}, {4'700, kShare}}));
}

TEST(BookSideAssign, BidsDescendingGiveHighestBest) {
  std::vector<Level> in{{3 * kShare, 4'900}, {2 * kShare, 4'800}, {1 * kShare, 4'700}};
  BookSide bids(Side::kBid);
  EXPECT_EQ(bids.assign(in), 0u);
  EXPECT_EQ(levels_of(bids),
            (std::vector<PriceSize>{{4'900, 3 * kShare}, {4'800, 2 * kShare}, {4'700, kShare}}));
}

TEST(BookSideAssign, AsksDescendingAsCapturedGiveLowestBest) {
  std::vector<Level> in{{1 * kShare, 5'300}, {2 * kShare, 5'200}, {3 * kShare, 5'100}};
  BookSide asks(Side::kAsk);
  EXPECT_EQ(asks.assign(in), 0u);
  EXPECT_EQ(levels_of(asks),
            (std::vector<PriceSize>{{5'100, 3 * kShare}, {5'200, 2 * kShare}, {5'300, kShare}}));
}

TEST(BookSideAssign, AsksAscendingGiveLowestBest) {
  std::vector<Level> in{{3 * kShare, 5'100}, {2 * kShare, 5'200}, {1 * kShare, 5'300}};
  BookSide asks(Side::kAsk);
  EXPECT_EQ(asks.assign(in), 0u);
  EXPECT_EQ(levels_of(asks),
            (std::vector<PriceSize>{{5'100, 3 * kShare}, {5'200, 2 * kShare}, {5'300, kShare}}));
}

TEST(BookSideAssign, RandomOrderGivesSortedSide) {
  std::vector<Level> in{{5 * kShare, 4'600},
                        {9 * kShare, 4'950},
                        {1 * kShare, 3'000},
                        {7 * kShare, 4'800},
                        {2 * kShare, 4'100}};
  BookSide bids(Side::kBid);
  EXPECT_EQ(bids.assign(in), 0u);
  EXPECT_EQ(levels_of(bids), (std::vector<PriceSize>{{4'950, 9 * kShare},
                                                     {4'800, 7 * kShare},
                                                     {4'600, 5 * kShare},
                                                     {4'100, 2 * kShare},
                                                     {3'000, 1 * kShare}}));
}

TEST(BookSideAssign, DuplicateKeepsLastOccurrenceInInputOrder) {
  // 0.48 appears three times; the last (30) wins whichever way the input is ordered.
  BookSide bids(Side::kBid);
  std::vector<Level> ascending{{1 * kShare, 4'700},
                               {10 * kShare, 4'800},
                               {20 * kShare, 4'800},
                               {30 * kShare, 4'800},
                               {2 * kShare, 4'900}};
  EXPECT_EQ(bids.assign(ascending), 2u);
  EXPECT_EQ(levels_of(bids), (std::vector<PriceSize>{
                                 {4'900, 2 * kShare}, {4'800, 30 * kShare}, {4'700, 1 * kShare}}));

  std::vector<Level> descending{{2 * kShare, 4'900},
                                {10 * kShare, 4'800},
                                {20 * kShare, 4'800},
                                {30 * kShare, 4'800},
                                {1 * kShare, 4'700}};
  EXPECT_EQ(bids.assign(descending), 2u);
  EXPECT_EQ(levels_of(bids), (std::vector<PriceSize>{
                                 {4'900, 2 * kShare}, {4'800, 30 * kShare}, {4'700, 1 * kShare}}));

  std::vector<Level> shuffled{{10 * kShare, 4'800},
                              {2 * kShare, 4'900},
                              {20 * kShare, 4'800},
                              {1 * kShare, 4'700},
                              {30 * kShare, 4'800}};
  EXPECT_EQ(bids.assign(shuffled), 2u);
  EXPECT_EQ(levels_of(bids), (std::vector<PriceSize>{
                                 {4'900, 2 * kShare}, {4'800, 30 * kShare}, {4'700, 1 * kShare}}));
}

TEST(BookSideAssign, DuplicateWhoseLastSizeIsZeroRemovesTheLevel) {
  BookSide asks(Side::kAsk);
  std::vector<Level> in{{5 * kShare, 5'200}, {1 * kShare, 5'100}, {0, 5'200}};
  EXPECT_EQ(asks.assign(in), 1u);
  EXPECT_EQ(levels_of(asks), (std::vector<PriceSize>{{5'100, 1 * kShare}}));

  std::vector<Level> revived{{0, 5'200}, {1 * kShare, 5'100}, {6 * kShare, 5'200}};
  EXPECT_EQ(asks.assign(revived), 1u);
  EXPECT_EQ(levels_of(asks), (std::vector<PriceSize>{{5'100, 1 * kShare}, {5'200, 6 * kShare}}));
}

TEST(BookSideAssign, ZeroSizesAreSkipped) {
  BookSide bids(Side::kBid);
  std::vector<Level> in{{0, 4'700}, {2 * kShare, 4'800}, {0, 4'900}};
  EXPECT_EQ(bids.assign(in), 0u);
  EXPECT_EQ(levels_of(bids), (std::vector<PriceSize>{{4'800, 2 * kShare}}));

  std::vector<Level> all_zero{{0, 4'700}, {0, 4'800}};
  EXPECT_EQ(bids.assign(all_zero), 0u);
  EXPECT_TRUE(bids.empty());
}

TEST(BookSideAssign, ReplacesPreviousContents) {
  BookSide asks(Side::kAsk);
  asks.set(5'000, kShare);
  asks.set(6'000, kShare);
  std::vector<Level> in{{4 * kShare, 5'500}};
  EXPECT_EQ(asks.assign(in), 0u);
  EXPECT_EQ(levels_of(asks), (std::vector<PriceSize>{{5'500, 4 * kShare}}));
  EXPECT_EQ(asks.assign(std::span<Level>{}), 0u);
  EXPECT_TRUE(asks.empty());
}

TEST(BookSideAssign, SetAfterAssignKeepsOrder) {
  BookSide bids(Side::kBid);
  std::vector<Level> in{{1 * kShare, 4'900}, {1 * kShare, 4'700}, {1 * kShare, 4'800}};
  bids.assign(in);
  EXPECT_EQ(bids.set(4'850, 5 * kShare), LevelUpdate::kInserted);
  EXPECT_EQ(bids.set(4'950, 6 * kShare), LevelUpdate::kInserted);
  std::vector<Price> prices;
  for (const auto& [p, s] : levels_of(bids)) prices.push_back(p);
  EXPECT_EQ(prices, (std::vector<Price>{4'950, 4'900, 4'850, 4'800, 4'700}));
}

// Random inputs with duplicates and zeros, short (in-place insertion sort) and long (> 256
// entries, stable_sort), compared with the reference rule.
TEST(BookSideAssign, RandomInputsMatchLastWinsReference) {
  std::mt19937_64 rng(20'261'121);
  for (const std::size_t n : {std::size_t{2}, std::size_t{7}, std::size_t{60}, std::size_t{256},
                              std::size_t{257}, std::size_t{900}, std::size_t{3'000}}) {
    for (int round = 0; round < 20; ++round) {
      for (const Side side : {Side::kBid, Side::kAsk}) {
        // Draw from few enough prices that duplicates are common.
        std::uniform_int_distribution<Price> tick(
            1, static_cast<Price>(std::min<std::size_t>(999, n / 2 + 1)));
        std::uniform_int_distribution<Size> size(0, 5);  // 1 in 6 is a zero
        std::vector<Level> in(n);
        for (Level& l : in) l = Level{size(rng) * kShare, tick(rng) * 10};
        const auto [expected, duplicates] = reference_assign(side, in);
        BookSide s(side);
        EXPECT_EQ(s.assign(in), duplicates) << "n=" << n << " round=" << round;
        EXPECT_EQ(levels_of(s), expected) << "n=" << n << " round=" << round;
      }
    }
  }
}

TEST(BookSideAssign, LongReversedInputWithDuplicatesKeepsLast) {
  // Almost reversed (best first) but with one duplicate pair: not strictly reversed, so it
  // must take the stable path and keep the later entry.
  std::vector<Level> in;
  for (Price p = 9'990; p >= 10; p -= 10) in.push_back(Level{kShare, p});
  in.insert(in.begin() + 500, Level{7 * kShare, in[499].price});  // later duplicate of [499]
  const Price dup_price = in[499].price;
  BookSide asks(Side::kAsk);
  EXPECT_EQ(asks.assign(in), 1u);
  EXPECT_EQ(asks.depth(), 999u);
  EXPECT_EQ(asks.size_at(dup_price), 7 * kShare);
  EXPECT_EQ(asks.best().price, 10);
  EXPECT_EQ(asks.level(998).price, 9'990);
}

// --- L2Book ---------------------------------------------------------------------------------

TEST(L2Book, SideSelectsBidsOrAsks) {
  L2Book b;
  b.side(Side::kBid).set(4'800, kShare);
  b.side(Side::kAsk).set(5'200, 2 * kShare);
  EXPECT_EQ(b.bids().best().price, 4'800);
  EXPECT_EQ(b.asks().best().price, 5'200);
  EXPECT_EQ(b.bids().side(), Side::kBid);
  EXPECT_EQ(b.asks().side(), Side::kAsk);
  const L2Book& cb = b;
  EXPECT_EQ(&cb.side(Side::kBid), &b.bids());
  EXPECT_EQ(&cb.side(Side::kAsk), &b.asks());
}

TEST(L2Book, CrossedOnlyWhenBestBidAtOrAboveBestAsk) {
  L2Book b;
  EXPECT_FALSE(b.crossed());  // empty
  b.side(Side::kBid).set(5'300, kShare);
  EXPECT_FALSE(b.crossed());  // one side only
  b.side(Side::kAsk).set(5'400, kShare);
  EXPECT_FALSE(b.crossed());  // 0.53 / 0.54
  b.side(Side::kAsk).set(5'300, kShare);
  EXPECT_TRUE(b.crossed());  // locked: 0.53 / 0.53 (the case seen live)
  b.side(Side::kAsk).set(5'300, 0);
  b.side(Side::kBid).set(5'500, kShare);
  EXPECT_TRUE(b.crossed());  // 0.55 / 0.54
  b.side(Side::kBid).set(5'500, 0);
  EXPECT_FALSE(b.crossed());  // back to 0.53 / 0.54
  b.clear();
  EXPECT_TRUE(b.bids().empty());
  EXPECT_TRUE(b.asks().empty());
  EXPECT_FALSE(b.crossed());
}

TEST(L2Book, MemoryBytesCountsReservedLevels) {
  L2Book b;
  const std::size_t base = b.memory_bytes();
  EXPECT_EQ(base, sizeof(L2Book) + (b.bids().capacity() + b.asks().capacity()) * sizeof(Level));
  for (Price p = 10; p <= 2'000; p += 10) b.side(Side::kBid).set(p, kShare);  // 200 > 64 reserve
  EXPECT_GT(b.memory_bytes(), base);
}

// --- stress: set() against a std::map model --------------------------------------------------

// ~200k random set() calls on the 0.001 grid (0.001..0.999). Half cluster near the current best
// (as live updates do, which exercises the linear probe at the back), half are uniform (which
// exercises the binary search). About 40% are removals, often of absent prices.
TEST(L2BookStress, RandomSetsMatchMapModelAfterEveryCall) {
  std::mt19937_64 rng(0xB00C7A9E);
  L2Book book;
  std::map<Price, Size> model_bids;  // ascending: best bid is rbegin()
  std::map<Price, Size> model_asks;  // ascending: best ask is begin()
  std::uniform_int_distribution<int> coin(0, 99);
  std::uniform_int_distribution<Price> uniform_tick(1, 999);
  std::uniform_int_distribution<Price> near(-5, 5);
  std::uniform_int_distribution<Size> size(1, 1'000'000'000);

  // Best first, from the model.
  auto model_levels = [](const std::map<Price, Size>& m, Side side) {
    std::vector<PriceSize> out(m.begin(), m.end());
    if (side == Side::kBid) std::reverse(out.begin(), out.end());
    return out;
  };

  constexpr int kOps = 200'000;
  for (int op = 0; op < kOps; ++op) {
    const Side side = coin(rng) < 50 ? Side::kBid : Side::kAsk;
    std::map<Price, Size>& model = side == Side::kBid ? model_bids : model_asks;
    BookSide& s = book.side(side);

    Price tick = uniform_tick(rng);
    if (coin(rng) < 50 && !model.empty()) {
      const Price best = side == Side::kBid ? model.rbegin()->first : model.begin()->first;
      tick = std::clamp(best / 10 + near(rng), Price{1}, Price{999});
    }
    const Price price = tick * 10;
    const Size sz = coin(rng) < 40 ? 0 : size(rng);

    LevelUpdate expected;
    auto it = model.find(price);
    if (sz == 0) {
      expected = it == model.end() ? LevelUpdate::kRemoveAbsent : LevelUpdate::kRemoved;
      if (it != model.end()) model.erase(it);
    } else {
      expected = it == model.end() ? LevelUpdate::kInserted : LevelUpdate::kUpdated;
      model[price] = sz;
    }

    ASSERT_EQ(s.set(price, sz), expected) << "op " << op;
    ASSERT_EQ(s.depth(), model.size()) << "op " << op;
    if (!model.empty()) {
      const auto& best = side == Side::kBid ? *model.rbegin() : *model.begin();
      ASSERT_EQ(s.best().price, best.first) << "op " << op;
      ASSERT_EQ(s.best().size, best.second) << "op " << op;
    }
    ASSERT_EQ(s.size_at(price), sz) << "op " << op;
    ASSERT_EQ(levels_of(s), model_levels(model, side)) << "op " << op;

    const bool model_crossed = !model_bids.empty() && !model_asks.empty() &&
                               model_bids.rbegin()->first >= model_asks.begin()->first;
    ASSERT_EQ(book.crossed(), model_crossed) << "op " << op;
  }
  // The run must have reached a deep book, or the binary-search path was barely exercised.
  EXPECT_GT(book.bids().depth() + book.asks().depth(), 200u);
}

}  // namespace
}  // namespace booktape
