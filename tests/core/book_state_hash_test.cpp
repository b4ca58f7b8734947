#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/book_keeper.hpp"

namespace booktape {
namespace {

std::vector<Level> levels(std::initializer_list<std::pair<Price, Size>> l) {
  std::vector<Level> v;
  for (auto [p, s] : l) v.push_back(Level{s, p});
  return v;
}

TEST(BookStateHash, TheSameLevelsReachedDifferentlyHashTheSame) {
  BookKeeper k;
  k.track_state(true);
  const TokenIndex a = k.token("a");
  const TokenIndex b = k.token("b");
  auto bids = levels({{4'800, 10}, {4'900, 20}});
  auto asks = levels({{5'100, 5}});
  k.apply_snapshot(a, bids, asks, 1);
  auto empty_b = levels({});
  auto empty_a = levels({});
  k.apply_snapshot(b, empty_b, empty_a, 1);
  k.apply_change(b, Side::kAsk, 5'100, 5, 2, nullptr);
  k.apply_change(b, Side::kBid, 4'900, 99, 3, nullptr);
  k.apply_change(b, Side::kBid, 4'800, 10, 4, nullptr);
  k.apply_change(b, Side::kBid, 4'900, 20, 5, nullptr);  // replaces 99
  k.apply_change(b, Side::kBid, 4'700, 1, 6, nullptr);
  k.apply_change(b, Side::kBid, 4'700, 0, 7, nullptr);   // and gone again
  EXPECT_EQ(k.book(a).state_hash, k.book(b).state_hash);
  EXPECT_NE(k.book(a).state_hash, 0u);
  // A book from elsewhere (REST) with the same levels, in another order, hashes the same.
  auto rest_bids = levels({{4'900, 20}, {4'800, 10}});
  EXPECT_EQ(BookKeeper::state_hash_of(rest_bids, asks), k.book(a).state_hash);
  // One size different: a different hash; bid and ask at the same price and size differ too.
  auto other = levels({{4'900, 21}, {4'800, 10}});
  EXPECT_NE(BookKeeper::state_hash_of(other, asks), k.book(a).state_hash);
  EXPECT_NE(BookKeeper::level_hash(Side::kBid, 5'000, 7), BookKeeper::level_hash(Side::kAsk, 5'000, 7));
}

TEST(BookStateHash, HistoryKeepsTheNewestStatesWithTheirTimes) {
  BookKeeper k;
  k.track_state(true);
  const TokenIndex t = k.token("t");
  auto bids = levels({{4'000, 1}});
  auto asks = levels({{6'000, 1}});
  k.begin_frame(1, 1'000);
  k.apply_snapshot(t, bids, asks, 100);
  const int changes = static_cast<int>(kStateHistory) + 8;  // the history wraps
  for (int i = 1; i <= changes; ++i) {
    k.begin_frame(static_cast<std::uint64_t>(i + 1), 1'000 + i);
    k.apply_change(t, Side::kBid, 4'000, i + 1, 100 + i, nullptr);
  }
  const TokenBook& tb = k.book(t);
  EXPECT_EQ(tb.history_len, kStateHistory);
  const StateMark& newest = tb.history[(tb.history_pos + kStateHistory - 1) % kStateHistory];
  EXPECT_EQ(newest.hash, tb.state_hash);
  EXPECT_EQ(newest.event_ms, 100 + changes);
  EXPECT_EQ(newest.received_ns, 1'000 + changes);
  const StateMark& oldest = tb.history[tb.history_pos];
  EXPECT_EQ(oldest.event_ms, 100 + changes - static_cast<std::int64_t>(kStateHistory) + 1);
}

TEST(BookStateHash, MatchesAFullRecomputeAfterAMillionRandomChanges) {
  BookKeeper k;
  k.track_state(true);
  const TokenIndex t = k.token("t");
  auto none = levels({});
  auto none2 = levels({});
  k.apply_snapshot(t, none, none2, 0);
  std::mt19937 rng(5);
  for (int i = 0; i < 1'000'000; ++i) {
    const Side s = rng() % 2 ? Side::kBid : Side::kAsk;
    const auto p = static_cast<Price>(100 * (1 + rng() % 99));
    const Size sz = rng() % 4 == 0 ? 0 : static_cast<Size>(1 + rng() % 1000);
    k.apply_change(t, s, p, sz, i, nullptr);
  }
  const L2Book& b = k.book(t).book;
  std::vector<Level> bids, asks;
  for (std::size_t i = 0; i < b.bids().depth(); ++i) bids.push_back(b.bids().level(i));
  for (std::size_t i = 0; i < b.asks().depth(); ++i) asks.push_back(b.asks().level(i));
  EXPECT_EQ(k.book(t).state_hash, BookKeeper::state_hash_of(bids, asks));
}

TEST(BookStateHash, OffByDefault) {
  BookKeeper k;
  const TokenIndex t = k.token("t");
  auto bids = levels({{4'000, 1}});
  auto asks = levels({{6'000, 1}});
  k.apply_snapshot(t, bids, asks, 1);
  EXPECT_EQ(k.book(t).state_hash, 0u);
  EXPECT_EQ(k.book(t).history_len, 0u);
}

}  // namespace
}  // namespace booktape
