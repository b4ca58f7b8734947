// What the live consumers cost the book stage, and what a reader pays for a book.
//
//   BM_DecodeApplyConsumers/<frame>   decode + apply + the consumer feed's hook (the slot write,
//                                     the dirty flag and queue) per frame; compare with
//                                     BM_DecodeApply/<frame> (no hook) of the same run
//   BM_ConsumerHook/<book>            the hook alone for one book update: slot write + queue
//   BM_BookTableReadTop, ...ReadBook  a reader's top of book and whole slot (seqlock, no syscall)
// "+drained": a consumer thread takes every queued token and reads its slot meanwhile, as the
// recorder's does (cache lines move between cores); without it, updates conflate.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <atomic>
#include <thread>

#include "bench/bench_frames.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "io/consumers/consumer_feed.hpp"

namespace booktape::bench {
namespace {

ConsumerFeedOptions feed_options() {
  ConsumerFeedOptions o;
  o.table.slots = 1024;
  o.table.depth = 20;
  return o;
}

// A thread that drains the feed like the consumer stage does (pop, then read the slot).
class Drainer {
 public:
  explicit Drainer(ConsumerFeed& f) : feed_(f), thread_([this] { run(); }) {}
  ~Drainer() {
    stop_ = true;
    thread_.join();
  }

 private:
  void run() {
    shm::Book b;
    while (!stop_.load(std::memory_order_relaxed)) {
      std::uint32_t s = 0;
      TradeRecord t;
      while (feed_.pop_trade(t)) {
      }
      if (feed_.pop_dirty(s)) {
        (void)feed_.table().view().read_book(s, b);
      } else {
        __builtin_ia32_pause();
      }
    }
  }
  ConsumerFeed& feed_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void decode_apply_consumers(benchmark::State& state, const std::string& text, bool drained) {
  const simdjson::padded_string f(text);
  const simdjson::padded_string book(book_60_levels());
  polymarket::Decoder decoder;
  BookKeeper books;
  polymarket::BookApplier applier(books);
  ConsumerFeed feed(feed_options());
  feed.attach(books);
  applier.observer = &feed;
  decoder.decode(book.data(), book.size(), book.size() + simdjson::SIMDJSON_PADDING, applier);
  feed.flush();
  std::unique_ptr<Drainer> drainer;
  if (drained) drainer = std::make_unique<Drainer>(feed);
  std::int64_t n = 0;
  for (auto _ : state) {
    feed.begin_frame(++n);
    auto r = decoder.decode(f.data(), f.size(), f.size() + simdjson::SIMDJSON_PADDING, applier);
    feed.flush();
    if ((n & 255) == 0) feed.notify();  // once a pass of the stage's loop
    benchmark::DoNotOptimize(r);
  }
  feed.publish(0);
  state.counters["updates/frame"] =
      static_cast<double>(feed.stats().updates.load()) / static_cast<double>(state.iterations());
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void consumers_price_change(benchmark::State& s) {
  decode_apply_consumers(s, price_change_2_entries(), false);
}
void consumers_price_change_drained(benchmark::State& s) {
  decode_apply_consumers(s, price_change_2_entries(), true);
}
void consumers_book(benchmark::State& s) {
  decode_apply_consumers(s, book_60_levels(), false);
}
void consumers_trade(benchmark::State& s) {
  decode_apply_consumers(s, last_trade(), true);
}
BENCHMARK(consumers_price_change)->Name("BM_DecodeApplyConsumers/price_change_real");
BENCHMARK(consumers_price_change_drained)
    ->Name("BM_DecodeApplyConsumers/price_change_real+drained");
BENCHMARK(consumers_book)->Name("BM_DecodeApplyConsumers/book_60_levels");
BENCHMARK(consumers_trade)->Name("BM_DecodeApplyConsumers/last_trade_price_real+drained");

// The hook alone for one update of a book: what the book stage adds to apply_change().
void hook(benchmark::State& state, std::size_t levels, bool drained) {
  BookKeeper books;
  const TokenIndex t =
      books.token("71321045679252212594626385532706912750332728571942532289631379312455583992563");
  std::vector<Level> bids, asks;
  for (std::size_t i = 0; i < levels / 2; ++i) {
    bids.push_back({Size{1'000'000 + static_cast<Size>(i)}, static_cast<Price>(4'900 - 10 * i)});
    asks.push_back({Size{2'000'000 + static_cast<Size>(i)}, static_cast<Price>(5'100 + 10 * i)});
  }
  books.apply_snapshot(t, bids, asks, 1);
  ConsumerFeed feed(feed_options());
  feed.attach(books);
  std::unique_ptr<Drainer> drainer;
  if (drained) drainer = std::make_unique<Drainer>(feed);
  std::int64_t n = 0;
  for (auto _ : state) {
    feed.begin_frame(++n);
    feed.on_touched(t, "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1");
    feed.flush();
  }
  state.counters["levels"] = static_cast<double>(levels);
}
BENCHMARK_CAPTURE(hook, book_60_levels, 60, false)->Name("BM_ConsumerHook/book_60_levels");
BENCHMARK_CAPTURE(hook, book_60_levels_drained, 60, true)
    ->Name("BM_ConsumerHook/book_60_levels+drained");
BENCHMARK_CAPTURE(hook, book_6_levels, 6, false)->Name("BM_ConsumerHook/book_6_levels");

// A reader of the table: the top of book, and the whole slot (20 levels a side).
void read_side(benchmark::State& state, bool whole) {
  BookKeeper books;
  const TokenIndex t = books.token("1");
  std::vector<Level> bids, asks;
  for (int i = 0; i < 30; ++i) {
    bids.push_back({Size{1'000'000 + i}, 4'900 - 10 * i});
    asks.push_back({Size{2'000'000 + i}, 5'100 + 10 * i});
  }
  books.apply_snapshot(t, bids, asks, 1);
  ConsumerFeed feed(feed_options());
  feed.attach(books);
  feed.on_touched(t, "m");
  feed.flush();
  const shm::TableView& v = feed.table().view();
  shm::Top top;
  shm::Book b;
  for (auto _ : state) {
    const shm::ReadResult r = whole ? v.read_book(0, b) : v.read_top(0, top);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(top);
  }
}
BENCHMARK_CAPTURE(read_side, top, false)->Name("BM_BookTableReadTop");
BENCHMARK_CAPTURE(read_side, book, true)->Name("BM_BookTableReadBook");

}  // namespace
}  // namespace booktape::bench
