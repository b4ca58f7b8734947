// Decode + apply of real-shaped frames, against simdjson's DOM parse of the same bytes (the
// floor: building a DOM is the least a general parser does). Names are looked for by scripts:
// BM_DecodeApply/price_change_real and BM_SimdjsonDom/price_change_real. BM_DecodeApplyOnDemand/*
// is the same decoder with its fast path off: every frame through simdjson on-demand.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "bench/bench_frames.hpp"
#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/polymarket_decoder.hpp"

namespace booktape::bench {
namespace {

struct Frame {
  std::string text;
  simdjson::padded_string padded;
  explicit Frame(std::string t) : text(std::move(t)), padded(text) {}
};

Frame& frame(const std::string& name) {
  static Frame pc(price_change_2_entries());
  static Frame book(book_60_levels());
  static Frame trade(last_trade());
  if (name == "price_change_real") return pc;
  if (name == "book_60_levels") return book;
  return trade;
}

// Decode+apply of `f` on a live book (`book` applied first, as in steady state).
void measure_decode_apply(benchmark::State& state, Frame& f, Frame& book, bool fast = true) {
  polymarket::Decoder::Options options;
  options.fast_path = fast;
  polymarket::Decoder decoder(options);
  BookKeeper books;
  polymarket::BookApplier applier(books);
  decoder.decode(book.padded.data(), book.padded.size(),
                 book.padded.size() + simdjson::SIMDJSON_PADDING, applier);
  for (auto _ : state) {
    auto r = decoder.decode(f.padded.data(), f.padded.size(),
                            f.padded.size() + simdjson::SIMDJSON_PADDING, applier);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.text.size()));
  state.counters["frame_bytes"] = static_cast<double>(f.text.size());
  state.counters["fast_path"] = static_cast<double>(decoder.stats().fast_path > 1);
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

void measure_dom(benchmark::State& state, Frame& f) {
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element e;
    auto err = parser.parse(f.padded).get(e);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.text.size()));
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

// Decoding alone, into a sink that ignores every event: the decoder's share of decode+apply.
void decode_only(benchmark::State& state, const std::string& name) {
  Frame& f = frame(name);
  polymarket::Decoder decoder;
  polymarket::EventSink ignore;
  for (auto _ : state) {
    auto r = decoder.decode(f.padded.data(), f.padded.size(),
                            f.padded.size() + simdjson::SIMDJSON_PADDING, ignore);
    benchmark::DoNotOptimize(r);
  }
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

void decode_apply(benchmark::State& state, const std::string& name) {
  measure_decode_apply(state, frame(name), frame("book_60_levels"));
}

void decode_apply_on_demand(benchmark::State& state, const std::string& name) {
  measure_decode_apply(state, frame(name), frame("book_60_levels"), false);
}

void simdjson_dom(benchmark::State& state, const std::string& name) {
  measure_dom(state, frame(name));
}

BENCHMARK_CAPTURE(decode_apply, price_change_real, std::string("price_change_real"))
    ->Name("BM_DecodeApply/price_change_real");
BENCHMARK_CAPTURE(decode_only, price_change_real, std::string("price_change_real"))
    ->Name("BM_DecodeOnly/price_change_real");
BENCHMARK_CAPTURE(decode_only, book_60_levels, std::string("book_60_levels"))
    ->Name("BM_DecodeOnly/book_60_levels");
BENCHMARK_CAPTURE(decode_apply_on_demand, price_change_real, std::string("price_change_real"))
    ->Name("BM_DecodeApplyOnDemand/price_change_real");
BENCHMARK_CAPTURE(simdjson_dom, price_change_real, std::string("price_change_real"))
    ->Name("BM_SimdjsonDom/price_change_real");
BENCHMARK_CAPTURE(decode_apply, book_60_levels, std::string("book_60_levels"))
    ->Name("BM_DecodeApply/book_60_levels");
BENCHMARK_CAPTURE(decode_apply_on_demand, book_60_levels, std::string("book_60_levels"))
    ->Name("BM_DecodeApplyOnDemand/book_60_levels");
BENCHMARK_CAPTURE(simdjson_dom, book_60_levels, std::string("book_60_levels"))
    ->Name("BM_SimdjsonDom/book_60_levels");
BENCHMARK_CAPTURE(decode_apply, last_trade_price_real, std::string("last_trade"))
    ->Name("BM_DecodeApply/last_trade_price_real");
BENCHMARK_CAPTURE(simdjson_dom, last_trade_price_real, std::string("last_trade"))
    ->Name("BM_SimdjsonDom/last_trade_price_real");

// Every real market-channel fixture (../shared/fixtures/polymarket), minified as the venue sends
// it: decode+apply on a live book (the fixture book applied first) against the DOM floor.
// Names: BM_DecodeApply/fixture:<file> and BM_SimdjsonDom/fixture:<file>.
void decode_apply_fixture(benchmark::State& state, const std::string& file) {
  static Frame book(minified_fixture("ws_market_book_msg.json"));
  Frame f(minified_fixture(file));
  measure_decode_apply(state, f, book);
}

void simdjson_dom_fixture(benchmark::State& state, const std::string& file) {
  Frame f(minified_fixture(file));
  measure_dom(state, f);
}

[[maybe_unused]] const bool fixtures_registered = [] {
  for (const std::string& file : testing::market_channel_fixture_names()) {
    benchmark::RegisterBenchmark(("BM_DecodeApply/fixture:" + file).c_str(), decode_apply_fixture,
                                 file);
    benchmark::RegisterBenchmark(("BM_SimdjsonDom/fixture:" + file).c_str(), simdjson_dom_fixture,
                                 file);
  }
  return true;
}();

// The archive stage's classification (full DOM validation) of the same frames.
void classify(benchmark::State& state) {
  Frame& f = frame("price_change_real");
  polymarket::Classifier c;
  for (auto _ : state) {
    auto r = c.classify(f.padded.data(), f.padded.size(),
                        f.padded.size() + simdjson::SIMDJSON_PADDING);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(classify)->Name("BM_Classify/price_change_real");

}  // namespace
}  // namespace booktape::bench
