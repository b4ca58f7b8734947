// Fuzzes the Polymarket frame decoder and everything it feeds: the input is split at '\n' into
// frames, each decoded into BookApplier -> BookKeeper (as the book stage and the replayer do) and
// classified (as the archive stage does). After every frame the books must keep the invariants
// docs/BOOKS.md states; crossed books are allowed (the venue sends them) but must be flagged.
//
// Each input gets a fresh decoder and keeper so that a crash reproduces from its input alone.
// The decoder's capacities are small so that parser growth and oversized frames are reachable
// with inputs of a few KB (the code paths are the same as with the megabyte defaults).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "core/book_keeper.hpp"
#include "core/book_queries.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

using namespace booktape;
using namespace booktape::polymarket;

constexpr std::size_t kMaxFrame = 16 << 10;  // larger frames are kOversized
constexpr std::size_t kMaxTokens = 16;       // small, so the token limit is reachable

Size total_size(const BookSide& side) {
  Size total = 0;
  for (std::size_t i = 0; i < side.depth(); ++i) total += side.level(i).size;
  return total;
}

void check_side(const BookSide& side) {
  for (std::size_t i = 0; i < side.depth(); ++i) {
    const Level& l = side.level(i);
    BOOKTAPE_FUZZ_CHECK(l.size > 0 && l.size <= kMaxLevelSize);
    BOOKTAPE_FUZZ_CHECK(l.price >= 0 && l.price <= kPriceOne);
    // Best first, strictly: one level per price.
    if (i + 1 < side.depth()) BOOKTAPE_FUZZ_CHECK(side.better(l.price, side.level(i + 1).price));
  }
}

void check_queries(const TokenBook& tb) {
  const L2Book& b = tb.book;
  const auto s = spread(b);
  BOOKTAPE_FUZZ_CHECK(s.has_value() == (!b.bids().empty() && !b.asks().empty()));
  if (s) {
    BOOKTAPE_FUZZ_CHECK(s->absolute == b.asks().best().price - b.bids().best().price);
    BOOKTAPE_FUZZ_CHECK((s->absolute <= 0) == b.crossed());
  }
  for (const Action a : {Action::kBuy, Action::kSell}) {
    const BookSide& side = a == Action::kBuy ? b.asks() : b.bids();
    const Size total = total_size(side);
    const Fill all = fill_size(b, a, total);
    BOOKTAPE_FUZZ_CHECK(all.complete && all.filled == total && all.levels == side.depth());
    const Fill more = fill_size(b, a, total + 1);
    BOOKTAPE_FUZZ_CHECK(!more.complete && more.filled == total);
    const Fill half = fill_notional(b, a, all.cost / 2);
    BOOKTAPE_FUZZ_CHECK(half.filled <= total && half.cost <= all.cost / 2);
    (void)half.average_price_e8();
    (void)depth_band(side, 100);
  }
  (void)displayed_price(b, tb.last_trade_price == kNoPrice ? std::nullopt
                                                           : std::optional<Price>(tb.last_trade_price));
}

void check_keeper(const BookKeeper& keeper) {
  BOOKTAPE_FUZZ_CHECK(keeper.size() <= kMaxTokens);
  KeeperTotals sum;
  for (TokenIndex t = 0; t < keeper.size(); ++t) {
    const TokenBook& tb = keeper.book(t);
    check_side(tb.book.bids());
    check_side(tb.book.asks());
    BOOKTAPE_FUZZ_CHECK(tb.crossed == tb.book.crossed());
    // The tracked hash is the order-free hash of the levels actually held.
    std::uint64_t h = 0;
    for (const Side sd : {Side::kBid, Side::kAsk}) {
      const BookSide& side = tb.book.side(sd);
      for (std::size_t i = 0; i < side.depth(); ++i)
        h ^= BookKeeper::level_hash(sd, side.level(i).price, side.level(i).size);
    }
    BOOKTAPE_FUZZ_CHECK(tb.state_hash == h);
    BOOKTAPE_FUZZ_CHECK(tb.history_len <= kStateHistory && tb.history_pos < kStateHistory);
    if (tb.state == BookState::kAwaitingSnapshot)
      BOOKTAPE_FUZZ_CHECK(tb.book.bids().empty() && tb.book.asks().empty() && tb.epoch == 0);
    BOOKTAPE_FUZZ_CHECK((tb.state == BookState::kStale) == (tb.stale_reason != StaleReason::kNone));
    check_queries(tb);
    sum.snapshots += tb.stats.snapshots;
    sum.changes_applied += tb.stats.changes_applied;
    sum.changes_suppressed += tb.stats.changes_suppressed;
    sum.checks += tb.stats.checks;
    sum.divergences += tb.stats.divergences;
    sum.crossed += tb.stats.crossed;
    sum.bad_updates += tb.stats.bad_updates;
    sum.tick_size_changes += tb.stats.tick_size_changes;
    sum.confirmations += tb.stats.confirmations;
    sum.disagreements += tb.stats.disagreements;
    // Every unconfirmed book came from a tick size change; every decision was on a check.
    if (tb.state == BookState::kUnconfirmed) BOOKTAPE_FUZZ_CHECK(tb.stats.tick_size_changes > 0);
    BOOKTAPE_FUZZ_CHECK(tb.stats.confirmations + tb.stats.disagreements <= tb.stats.checks);
  }
  const KeeperTotals& tot = keeper.totals();
  BOOKTAPE_FUZZ_CHECK(sum.snapshots == tot.snapshots);
  BOOKTAPE_FUZZ_CHECK(sum.changes_applied == tot.changes_applied);
  BOOKTAPE_FUZZ_CHECK(sum.changes_suppressed == tot.changes_suppressed);
  BOOKTAPE_FUZZ_CHECK(sum.checks == tot.checks);
  BOOKTAPE_FUZZ_CHECK(sum.divergences == tot.divergences);
  BOOKTAPE_FUZZ_CHECK(sum.crossed == tot.crossed);
  BOOKTAPE_FUZZ_CHECK(sum.bad_updates == tot.bad_updates);
  BOOKTAPE_FUZZ_CHECK(sum.tick_size_changes == tot.tick_size_changes);
  BOOKTAPE_FUZZ_CHECK(sum.confirmations == tot.confirmations);
  BOOKTAPE_FUZZ_CHECK(sum.disagreements == tot.disagreements);
  BOOKTAPE_FUZZ_CHECK(keeper.divergence_examples().size() ==
                      std::min<std::uint64_t>(tot.divergences, BookKeeper::kMaxDivergenceExamples));
}

void check_classification(const Classification& c) {
  BOOKTAPE_FUZZ_CHECK(c.distinct <= kEventTypeCount);
  // The writer promises at most kClassificationJsonMax bytes: a guard zone catches more.
  std::array<char, kClassificationJsonMax + 64> out{};
  const char* end = write_classification_json(out.data(), c);
  BOOKTAPE_FUZZ_CHECK(end >= out.data() &&
                      static_cast<std::size_t>(end - out.data()) <= kClassificationJsonMax);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Decoder::Options o;
  o.initial_capacity = 512;
  o.max_frame_bytes = kMaxFrame;
  Decoder decoder(o);
  // Kept across inputs: it holds no state between frames, and building its 4 MB parser per
  // input would cost most of the run.
  static Classifier classifier(kMaxFrame);
  BookKeeper keeper(kMaxTokens);
  keeper.track_state(true);
  BookApplier applier(keeper);

  std::vector<char> frame;
  std::uint64_t seq = 0;
  const auto decode_one = [&](std::string_view text) {
    // A buffer of exactly size + kPadding, so ASan sees any read past the contract. The byte
    // after the frame decides whether the decoder may parse in place ('\0' or a space) or must
    // copy (anything else); the rest of the padding is junk the parser must not depend on.
    const std::size_t readable = text.size() + Decoder::kPadding;
    frame.assign(readable, '"');
    std::memcpy(frame.data(), text.data(), text.size());
    static constexpr char kAfter[] = {'\0', ' ', '1'};
    frame[text.size()] = kAfter[seq % 3];

    ++seq;
    keeper.begin_frame(seq, static_cast<std::int64_t>(seq) * 1'000);
    const DecodeResult r = decoder.decode(frame.data(), text.size(), readable, applier);
    BOOKTAPE_FUZZ_CHECK((r.kind == FrameKind::kMalformed) == (r.json_error != 0));
    BOOKTAPE_FUZZ_CHECK(r.error_message() != nullptr);
    check_classification(classifier.classify(frame.data(), text.size(), readable));
    check_keeper(keeper);
  };
  booktape::fuzz::for_each_line(std::string_view(reinterpret_cast<const char*>(data), size),
                                decode_one);

  const DecoderStats& st = decoder.stats();
  BOOKTAPE_FUZZ_CHECK(st.frames == seq);
  std::uint64_t by_kind = 0;
  for (const std::uint64_t n : st.frames_by_kind) by_kind += n;
  BOOKTAPE_FUZZ_CHECK(by_kind == st.frames);
  return 0;
}
