// The hot paths on fixed inputs, for the latency-regression gate: perf/icount_gate.sh runs this
// under `valgrind --tool=callgrind` and compares instructions per unit with
// perf/icount_baseline.txt (docs/PERFORMANCE.md, "Regression gate").
//
// Each path warms up (books live, buffers grown: steady state), then zeroes callgrind's
// counters, runs, and dumps them under the path's name. stdout gets one line per path,
// "<name> <units>", the divisor for that dump. Inputs are deterministic (fixtures, seeded
// generators, fixed timestamps) and nothing depends on wall time, so counts repeat exactly.
// Outside valgrind the client requests do nothing: the program then just runs every path.
//
// Built twice: booktape_icount (every path) and booktape_icount_core (BOOKTAPE_ICOUNT_CORE_ONLY:
// without the archive stage, so it links only core and codecs, which lets the gate's --prove
// build a slowed tree in a minute instead of compiling the network library too).
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name) (void)(name)
#endif

#include <simdjson.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench/bench_frames.hpp"
#include "codecs/envelope.hpp"
#include "codecs/gzip_member.hpp"
#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "codecs/sha256.hpp"
#include "core/book_keeper.hpp"
#include "core/book_queries.hpp"
#include "core/byte_buffer.hpp"
#include "core/frame_ring.hpp"
#include "core/l2_book.hpp"
#include "core/wait_strategy.hpp"
#ifndef BOOKTAPE_ICOUNT_CORE_ONLY
#include "io/record/archive_stage.hpp"
#include "io/record/pipeline.hpp"
#endif

namespace booktape::icount {
namespace {

constexpr UnixNanos kT0 = 1'763'703'252'123'456'789;  // 2025-11-21T05:34:12Z: mid-hour

template <class T>
void keep(const T& v) {
  asm volatile("" : : "g"(&v) : "memory");  // the result is used: not optimised away
}

// Runs `body` `reps` times after `warm` unmeasured runs; the dump is per run.
template <class F>
void measure(const char* name, int reps, F&& body, int warm = 16) {
  for (int i = 0; i < warm; ++i) body(i);
  CALLGRIND_ZERO_STATS;
  for (int i = 0; i < reps; ++i) body(i);
  CALLGRIND_DUMP_STATS_AT(name);
  std::printf("%s %d\n", name, reps);
}

// A frame with the padding the decoder parses in place.
struct Padded {
  std::string text;
  simdjson::padded_string bytes;
  explicit Padded(std::string t) : text(std::move(t)), bytes(text) {}
  [[nodiscard]] std::size_t readable() const { return text.size() + simdjson::SIMDJSON_PADDING; }
};

// ---- decode + apply, per frame type -----------------------------------------------------

// A pretty-printed fixture with its event_type put back first (Nautilus stored it without).
std::string with_event_type(std::string text) {
  text.insert(text.find('{') + 1, "\"event_type\":\"price_change\",");
  return text;
}

// The frame with its last string value's first character written as a JSON escape.
std::string escaped_last(std::string frame) {
  const std::size_t open = frame.rfind("\":\"") + 3;
  frame.replace(open, 1, "\\u00" + std::string(1, "0123456789abcdef"[frame[open] >> 4]) +
                             "0123456789abcdef"[frame[open] & 15]);
  return frame;
}

void decode_apply_paths() {
  // The books every frame applies to: the fixtures' token and the 60-level generated one.
  const Padded fixture_book(bench::minified_fixture("ws_market_book_msg.json"));
  const Padded deep_book(bench::book_60_levels());
  struct Case {
    const char* name;
    std::string frame;
    bool fast_path = true;
  };
  const Case cases[] = {
      {"decode_apply/book", fixture_book.text},
      {"decode_apply/book_60_levels", deep_book.text},
      {"decode_apply/price_change", bench::minified_fixture("ws_market_price_change_msg.json")},
      {"decode_apply/price_change_2_entries", bench::price_change_2_entries()},
      {"decode_apply/last_trade_price", bench::minified_fixture("ws_market_last_trade_msg.json")},
      {"decode_apply/tick_size_change", bench::minified_fixture("ws_market_tick_size_msg.json")},
      {"decode_apply/best_bid_ask", bench::minified_fixture("ws_market_best_bid_ask_msg.json")},
      {"decode_apply/new_market", bench::minified_fixture("ws_market_new_market_msg.json")},
      {"decode_apply/market_resolved", bench::minified_fixture("ws_market_resolved_msg.json")},
      {"decode_apply/mixed_known_unknown",
       bench::minified_fixture("ws_market_mixed_known_unknown.json")},
      {"decode_apply/pong", "PONG"},
      // The fast path's other branches: pretty-printed JSON (whitespace between tokens), and a
      // frame it scans to the end and then declines (an escape in the last value), which the
      // general decoder then decodes: the worst case of the fallback.
      {"decode_apply/price_change_pretty", with_event_type(testing::fixture("ws_quotes.json"))},
      {"decode_apply/price_change_fallback", escaped_last(bench::price_change_2_entries())},
      // The general decoder alone (the fast path off): the floor the fast path is measured
      // against, and what every frame the fast path declines costs.
      {"decode_apply_on_demand/price_change_2_entries", bench::price_change_2_entries(), false},
      {"decode_apply_on_demand/book_60_levels", deep_book.text, false},
  };
  for (const Case& c : cases) {
    polymarket::Decoder::Options options;
    options.fast_path = c.fast_path;
    polymarket::Decoder decoder(options);
    BookKeeper books;
    polymarket::BookApplier applier(books);
    for (const Padded* b : {&fixture_book, &deep_book})
      keep(decoder.decode(b->bytes.data(), b->text.size(), b->readable(), applier));
    const Padded f(c.frame);
    const std::uint64_t fast_before = decoder.stats().fast_path;
    measure(c.name, 2'000, [&](int) {
      keep(decoder.decode(f.bytes.data(), f.text.size(), f.readable(), applier));
    });
    // The path named is the path measured: the two hot shapes take the fast path, the rest not.
    const std::string_view name(c.name);
    const bool hot = c.fast_path && !name.ends_with("_fallback") &&
                     (name.find("/book") != std::string_view::npos ||
                      name.find("/price_change") != std::string_view::npos);
    if ((decoder.stats().fast_path != fast_before) != hot)
      throw std::runtime_error(std::string("icount: unexpected decoder path for ") + c.name);
  }

  // The live mix (dump, then mostly price_change, trades, snapshots, PONG): per frame.
  std::vector<Padded> stream;
  for (auto& s : bench::realistic_stream(4'001)) stream.emplace_back(std::move(s));
  polymarket::Decoder decoder;
  BookKeeper books;
  polymarket::BookApplier applier(books);
  measure(
      "decode_apply/realistic_stream", 4'000,
      [&](int i) {
        const Padded& f = stream[static_cast<std::size_t>(i) + 1];
        keep(decoder.decode(f.bytes.data(), f.text.size(), f.readable(), applier));
      },
      0);
}

// ---- books ---------------------------------------------------------------------------------

void book_paths() {
  const auto bids = bench::side_levels(Side::kBid);
  const auto asks = bench::side_levels(Side::kAsk);
  L2Book book;
  {
    auto b = bids, a = asks;
    book.side(Side::kBid).assign(b);
    book.side(Side::kAsk).assign(a);
  }
  // Updates within 5 ticks of the top, a fifth of them removals, as the live feed does.
  std::mt19937 rng(1);
  std::vector<std::pair<Price, Size>> ops;
  for (int i = 0; i < 4'096; ++i) {
    const Price p = 4'600 - static_cast<Price>(rng() % 5) * 100;
    ops.emplace_back(p, rng() % 5 == 0 ? 0 : static_cast<Size>(1 + rng() % 500) * kSizeScale);
  }
  measure("book/apply_level", 4'096, [&](int i) {
    const auto& [p, s] = ops[static_cast<std::size_t>(i)];
    keep(book.side(Side::kBid).set(p, s));
  });

  L2Book snap;
  std::vector<Level> wb, wa;
  wb.reserve(bids.size());
  wa.reserve(asks.size());
  measure("book/apply_snapshot_60_levels", 1'000, [&](int) {
    wb = bids;  // assign() sorts in place: wire order again each time
    wa = asks;
    snap.side(Side::kBid).assign(wb);
    snap.side(Side::kAsk).assign(wa);
    keep(snap);
  });

  measure("book/best_bid_ask", 4'000, [&](int) {
    keep(best_bid(book));
    keep(best_ask(book));
  });
  for (const int usdc : {100, 1'000, 10'000}) {
    const Notional n = Notional{usdc} * 10'000'000'000;  // 1e-10 units
    const std::string name = "book/cost_to_buy_" + std::to_string(usdc) + "_usdc";
    measure(name.c_str(), 2'000, [&](int) { keep(fill_notional(book, Action::kBuy, n)); });
  }
}

// ---- archive -------------------------------------------------------------------------------

void archive_paths(const std::filesystem::path& scratch) {
  const Padded pc(bench::price_change_2_entries());
  polymarket::Classifier classifier;
  measure("archive/classify_price_change", 2'000, [&](int) {
    keep(classifier.classify(pc.bytes.data(), pc.text.size(), pc.readable()));
  });

  const auto cls = classifier.classify(pc.text);
  EnvelopeEncoder encoder;
  ByteBuffer out(std::size_t{4} << 20);
  measure("archive/envelope_compact", 2'000, [&](int i) {
    if (out.size() > (std::size_t{1} << 20)) out.clear();
    FrameMeta m;
    m.received_ns = kT0 + i * 1'000;
    m.session_id = "20251121T053412Z-1a2b3c4d-c1";
    m.message_sequence = m.global_sequence = static_cast<std::uint64_t>(i) + 1;
    encoder.encode_frame(m, pc.text, cls, nullptr, out);
  });

  Sha256 sha;
  char hex[kSha256HexChars];
  measure("archive/sha256_price_change", 2'000, [&](int) {
    sha.hex_digest(pc.text, hex);
    keep(hex);
  });

  // One 256 KiB block of compact envelope lines, as the writer closes it: per block.
  ByteBuffer block;
  std::uint64_t seq = 0;
  for (const auto& f : bench::realistic_stream(4'000)) {
    if (block.size() >= (std::size_t{256} << 10)) break;
    FrameMeta m;
    m.received_ns = kT0 + static_cast<UnixNanos>(++seq) * 1'000;
    m.session_id = "20251121T053412Z-1a2b3c4d-c1";
    m.message_sequence = m.global_sequence = seq;
    encoder.encode_frame(m, f, classifier.classify(f), nullptr, block);
  }
  GzipMemberWriter gzip(3);
  ByteBuffer member;
  measure(
      "archive/gzip_block_256k_level3", 8,
      [&](int) {
        member.clear();
        gzip.compress(block.view(), 0, member);
        keep(member);
      },
      1);

#ifndef BOOKTAPE_ICOUNT_CORE_ONLY
  // The whole archive stage per frame: the real ArchiveStage loop on a ring holding the
  // realistic stream (classify, envelope, blocks, gzip, write, manifest at the end).
  constexpr int kFrames = 20'000;
  const auto frames = bench::realistic_stream(kFrames);
  PipelineRing ring(std::size_t{32} << 20);
  PipelineBells bells;
  for (int i = 0; i < kFrames; ++i) {
    const std::string& f = frames[static_cast<std::size_t>(i)];
    RecordHeader* h = ring.try_claim(f.size());
    if (h == nullptr) throw std::runtime_error("icount: ring too small");
    h->type = RecordType::kFrame;
    h->opcode = 1;
    h->connection = 0;
    h->received_ns = kT0 + static_cast<std::int64_t>(i) * 5'000;
    h->monotonic_ns = 1'000'000'000 + static_cast<std::int64_t>(i) * 5'000;
    h->connection_sequence = 1;
    h->message_sequence = h->global_sequence = static_cast<std::uint64_t>(i) + 1;
    std::memcpy(PipelineRing::payload_of(h), f.data(), f.size());
    ring.commit(h);
  }
  ArchiveStageOptions options;
  options.writer.root = scratch;
  options.writer.run_id = "20251121T053412Z-1a2b3c4d";
  options.writer.fsync = FsyncPolicy::kNone;      // syscalls are not the code under test
  options.writer.block_max_age_ns = INT64_MAX;    // blocks close by size, never by wall time
  ArchiveStage stage(std::move(options), ring, bells);
  const std::atomic<bool> done{true};
  CALLGRIND_ZERO_STATS;
  stage.run(done);
  CALLGRIND_DUMP_STATS_AT("archive/stage_per_frame");
  std::printf("archive/stage_per_frame %d\n", kFrames);
  if (stage.stats().frames.load() != static_cast<std::uint64_t>(kFrames))
    throw std::runtime_error("icount: the archive stage did not take every frame");
#else
  (void)scratch;
#endif
}

// ---- ring ----------------------------------------------------------------------------------

void ring_paths() {
  // A 300-byte frame in and out for both consumers, on one thread (deterministic): the
  // network thread's claim + copy + commit and each stage's peek + release.
  FrameRing<2> ring(std::size_t{1} << 20);
  const std::string frame = bench::price_change_2_entries().substr(0, 300);
  measure("ring/transfer_300b_two_consumers", 10'000, [&](int i) {
    RecordHeader* h = ring.try_claim(frame.size());
    h->type = RecordType::kFrame;
    h->global_sequence = static_cast<std::uint64_t>(i);
    std::memcpy(FrameRing<2>::payload_of(h), frame.data(), frame.size());
    ring.commit(h);
    for (std::size_t c = 0; c < 2; ++c) {  // the book and the archive stage
      const RecordHeader* r = ring.peek(c);
      keep(r->global_sequence);
      ring.release(c, r);
    }
  });
}

// ---- waiting -------------------------------------------------------------------------------

void wait_paths() {
  // The book stage's idle loop around one frame at a paced rate: go idle (clock), decide not to
  // spin, park (the recheck sees work: no sleep, so no kernel time to miss), then work ends the
  // idle period (clock, gap into the mean). What stays in user space of a park and wake-up.
  Doorbell bell;
  IdleStrategy park(WaitMode::kSpinThenPark, bell);
  measure("wait/idle_park_and_wake", 4'000, [&](int) {
    park.idle(0, [] { return false; });
    park.idle(1, [] { return false; });
  });
  // One poll of a busy-spin wait: a pause, no clock.
  IdleStrategy spin(WaitMode::kBusySpin, bell);
  measure("wait/busy_spin_poll", 4'000, [&](int) { spin.idle(0, [] { return true; }); });
}

}  // namespace
}  // namespace booktape::icount

int main(int argc, char**) {
  namespace fs = std::filesystem;
  if (argc > 1) {
    std::fprintf(stderr,
                 "usage: booktape_icount\n"
                 "Runs the hot paths on fixed inputs; meant for perf/icount_gate.sh, which runs\n"
                 "it under valgrind --tool=callgrind. Prints \"<path> <units>\" per path.\n");
    return 2;
  }
  const fs::path scratch =
      fs::temp_directory_path() / ("booktape-icount-" + std::to_string(::getpid()));
  try {
    fs::create_directories(scratch);
    booktape::icount::decode_apply_paths();
    booktape::icount::book_paths();
    booktape::icount::archive_paths(scratch);
    booktape::icount::ring_paths();
    booktape::icount::wait_paths();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booktape_icount: %s\n", e.what());
    fs::remove_all(scratch);
    return 1;
  }
  fs::remove_all(scratch);
  return 0;
}
