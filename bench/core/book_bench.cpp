// Book operations on a realistic 60-level book: one level update near the top, a full snapshot,
// the best price, and the cost to buy 100 / 1,000 / 10,000 USDC.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "bench/bench_frames.hpp"
#include "core/book_queries.hpp"
#include "core/l2_book.hpp"

namespace booktape::bench {
namespace {

L2Book sample_book() {
  L2Book b;
  auto bids = side_levels(Side::kBid);
  auto asks = side_levels(Side::kAsk);
  b.side(Side::kBid).assign(bids);
  b.side(Side::kAsk).assign(asks);
  return b;
}

void BM_BookApplyLevel(benchmark::State& state) {
  L2Book b = sample_book();
  std::mt19937 rng(1);
  // Updates within 5 ticks of the top, a fifth of them removals (then re-inserted), as the
  // live feed does.
  std::vector<std::pair<Price, Size>> ops;
  for (int i = 0; i < 4'096; ++i) {
    const Price p = 4'600 - static_cast<Price>(rng() % 5) * 100;
    ops.emplace_back(p, rng() % 5 == 0 ? 0 : static_cast<Size>(1 + rng() % 500) * kSizeScale);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [p, s] = ops[i++ & 4'095];
    benchmark::DoNotOptimize(b.side(Side::kBid).set(p, s));
  }
  state.counters["levels"] = static_cast<double>(b.bids().depth() + b.asks().depth());
}
BENCHMARK(BM_BookApplyLevel);

void BM_BookApplySnapshot(benchmark::State& state) {
  L2Book b;
  const auto bids = side_levels(Side::kBid);
  const auto asks = side_levels(Side::kAsk);
  std::vector<Level> wb = bids, wa = asks;
  for (auto _ : state) {
    wb = bids;  // assign() sorts in place: restore wire order
    wa = asks;
    b.side(Side::kBid).assign(wb);
    b.side(Side::kAsk).assign(wa);
    benchmark::DoNotOptimize(b);
  }
  state.counters["memory_bytes"] = static_cast<double>(b.memory_bytes());
}
BENCHMARK(BM_BookApplySnapshot);

void BM_BookBestPrice(benchmark::State& state) {
  const L2Book b = sample_book();
  for (auto _ : state) {
    benchmark::DoNotOptimize(best_bid(b));
    benchmark::DoNotOptimize(best_ask(b));
  }
}
BENCHMARK(BM_BookBestPrice);

void BM_BookCostToBuy(benchmark::State& state) {
  const L2Book b = sample_book();
  const Notional usdc = Notional{state.range(0)} * 10'000'000'000;  // 1e-10 units
  Fill f;
  for (auto _ : state) {
    f = fill_notional(b, Action::kBuy, usdc);
    benchmark::DoNotOptimize(f);
  }
  state.counters["levels_walked"] = f.levels;
  state.counters["complete"] = f.complete;
}
BENCHMARK(BM_BookCostToBuy)->Arg(100)->Arg(1'000)->Arg(10'000);

}  // namespace
}  // namespace booktape::bench
