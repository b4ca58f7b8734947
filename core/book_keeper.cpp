#include "core/book_keeper.hpp"

namespace booktape {

const char* to_string(BookState s) noexcept {
  switch (s) {
    case BookState::kAwaitingSnapshot: return "awaiting_snapshot";
    case BookState::kLive: return "live";
    case BookState::kStale: return "stale";
    case BookState::kUnconfirmed: return "unconfirmed";
  }
  return "?";
}

const char* to_string(StaleReason r) noexcept {
  switch (r) {
    case StaleReason::kNone: return "none";
    case StaleReason::kTickSizeChange: return "tick_size_change";
    case StaleReason::kBadUpdate: return "bad_update";
    case StaleReason::kBadSnapshot: return "bad_snapshot";
    case StaleReason::kExternal: return "external";
  }
  return "?";
}

TokenIndex BookKeeper::token(std::string_view token_id) {
  TokenIndex t = tokens_.find(token_id);
  if (t != kNoToken) return t;
  if (books_.size() >= max_tokens_) {
    ++totals_.token_limit_rejects;
    return kNoToken;
  }
  t = tokens_.intern(token_id);
  books_.emplace_back().state_since_ns = received_ns_;
  return t;
}

std::uint64_t BookKeeper::level_hash(Side side, Price price, Size size) noexcept {
  // splitmix64 of the packed level: XOR-combining these gives an order-free book hash where a
  // chance collision is ~2^-64.
  std::uint64_t x = (static_cast<std::uint64_t>(size) * 0x9E3779B97F4A7C15ull) ^
                    (static_cast<std::uint64_t>(static_cast<std::uint32_t>(price)) << 1) ^
                    static_cast<std::uint64_t>(side);
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t BookKeeper::state_hash_of(std::span<const Level> bids,
                                        std::span<const Level> asks) noexcept {
  std::uint64_t h = 0;
  for (const Level& l : bids)
    if (l.size > 0) h ^= level_hash(Side::kBid, l.price, l.size);
  for (const Level& l : asks)
    if (l.size > 0) h ^= level_hash(Side::kAsk, l.price, l.size);
  return h;
}

void BookKeeper::remember_state(TokenBook& tb, std::int64_t event_ms) noexcept {
  tb.history[tb.history_pos] = StateMark{tb.state_hash, event_ms, received_ns_};
  tb.history_pos = (tb.history_pos + 1) % kStateHistory;
  if (tb.history_len < kStateHistory) ++tb.history_len;
  ++tb.states_seen;
}

void BookKeeper::enter(TokenBook& tb, BookState s, std::int64_t at_ns) noexcept {
  if (tb.state == s) return;  // `since` is when the state was entered, not re-entered
  tb.state = s;
  tb.state_since_ns = at_ns;
}

TopOfBook BookKeeper::top_of(const L2Book& b) noexcept {
  return TopOfBook{b.bids().empty() ? kNoPrice : b.bids().best().price,
                   b.asks().empty() ? kNoPrice : b.asks().best().price};
}

void BookKeeper::note_crossed(TokenBook& tb) noexcept {
  const bool now = tb.book.crossed();
  if (now && !tb.crossed) {
    ++tb.stats.crossed;
    ++totals_.crossed;
  }
  tb.crossed = now;
}

void BookKeeper::apply_snapshot(TokenIndex t, std::span<Level> bids, std::span<Level> asks,
                                std::int64_t event_ms) {
  TokenBook& tb = books_[t];
  const std::size_t dups = tb.book.side(Side::kBid).assign(bids) +
                           tb.book.side(Side::kAsk).assign(asks);
  totals_.snapshot_duplicate_levels += dups;
  enter(tb, BookState::kLive, received_ns_);
  tb.stale_reason = StaleReason::kNone;
  tb.in_sync = true;
  ++tb.epoch;
  ++tb.stats.snapshots;
  ++totals_.snapshots;
  tb.last_event_ms = event_ms;
  tb.last_update_ns = received_ns_;
  tb.last_update_mono = monotonic_ns_;
  tb.snapshot_ns = received_ns_;
  note_crossed(tb);
  if (track_) {
    // From the book as stored: duplicates and zero sizes are already gone.
    std::uint64_t h = 0;
    for (Side s : {Side::kBid, Side::kAsk}) {
      const BookSide& side = tb.book.side(s);
      for (std::size_t i = 0; i < side.depth(); ++i)
        h ^= level_hash(s, side.level(i).price, side.level(i).size);
    }
    tb.state_hash = h;
    remember_state(tb, event_ms);
  }
}

void BookKeeper::apply_change(TokenIndex t, Side side, Price price, Size size,
                              std::int64_t event_ms, const TopOfBook* venue) noexcept {
  TokenBook& tb = books_[t];
  tb.last_event_ms = event_ms;
  if (venue != nullptr) tb.venue_top = *venue;
  if (tb.state != BookState::kLive && tb.state != BookState::kUnconfirmed) {
    ++tb.stats.changes_suppressed;
    ++totals_.changes_suppressed;
    return;
  }
  if (track_) {
    const Size old = tb.book.side(side).size_at(price);
    if (old > 0) tb.state_hash ^= level_hash(side, price, old);
    if (size > 0) tb.state_hash ^= level_hash(side, price, size);
  }
  if (tb.book.side(side).set(price, size) == LevelUpdate::kRemoveAbsent) ++tb.stats.remove_absent;
  if (track_) remember_state(tb, event_ms);
  ++tb.stats.changes_applied;
  ++totals_.changes_applied;
  tb.last_update_ns = received_ns_;
  tb.last_update_mono = monotonic_ns_;
  note_crossed(tb);
  if (venue != nullptr) check(t, tb, *venue);
}

namespace {
// The venue may report an empty side as a missing field, "0" (bid) or "1" (ask); a level at
// those prices cannot rest on the book, so all of them mean "no level".
Price normalise_bid(Price p) noexcept { return p <= 0 ? kNoPrice : p; }
Price normalise_ask(Price p) noexcept { return p >= kPriceOne || p < 0 ? kNoPrice : p; }
}  // namespace

void BookKeeper::check(TokenIndex t, TokenBook& tb, const TopOfBook& venue) noexcept {
  const TopOfBook ours = top_of(tb.book);
  ++tb.stats.checks;
  ++totals_.checks;
  const bool agree = normalise_bid(ours.bid) == normalise_bid(venue.bid) &&
                     normalise_ask(ours.ask) == normalise_ask(venue.ask);
  tb.in_sync = agree;
  if (tb.state == BookState::kUnconfirmed) {
    // The first check after a tick size change decides: it vouches for the top of a book that
    // lost no message, or shows that the venue's book changed in a way we did not see.
    if (agree) {
      ++tb.stats.confirmations;
      ++totals_.confirmations;
      enter(tb, BookState::kLive, received_ns_);
    } else {
      ++tb.stats.disagreements;
      ++totals_.disagreements;
      enter(tb, BookState::kStale, received_ns_);
      tb.stale_reason = StaleReason::kTickSizeChange;
    }
  }
  if (agree) return;
  ++tb.stats.divergences;
  ++totals_.divergences;
  if (example_count_ < examples_.size()) {
    examples_[example_count_++] = Divergence{t, frame_seq_, received_ns_, ours, venue};
  }
}

void BookKeeper::apply_tick_size(TokenIndex t, Price new_tick, std::int64_t event_ms) noexcept {
  TokenBook& tb = books_[t];
  tb.tick = new_tick;
  tb.last_event_ms = event_ms;
  ++tb.stats.tick_size_changes;
  ++totals_.tick_size_changes;
  // Only a live book becomes unconfirmed: a stale one stays stale (it waits for a snapshot in
  // any case) and one still awaiting its first snapshot has no book to keep.
  if (tb.state == BookState::kLive) enter(tb, BookState::kUnconfirmed, received_ns_);
}

void BookKeeper::record_trade(TokenIndex t, Price price, Size size,
                              std::int64_t event_ms) noexcept {
  TokenBook& tb = books_[t];
  tb.last_trade_price = price;
  tb.last_trade_size = size;
  tb.last_event_ms = event_ms;
  ++tb.stats.trades;
}

void BookKeeper::record_venue_top(TokenIndex t, TopOfBook top, std::int64_t event_ms) noexcept {
  TokenBook& tb = books_[t];
  tb.venue_top = top;
  tb.last_event_ms = event_ms;
}

void BookKeeper::mark_stale(TokenIndex t, StaleReason why, std::int64_t at_ns) noexcept {
  TokenBook& tb = books_[t];
  if (why == StaleReason::kBadUpdate || why == StaleReason::kBadSnapshot) {
    ++tb.stats.bad_updates;
    ++totals_.bad_updates;
  }
  if (why == StaleReason::kBadSnapshot) {
    tb.book.clear();
    tb.state_hash = 0;
    tb.crossed = false;  // keep the flag in step with the (now empty) book
  }
  if (tb.state == BookState::kAwaitingSnapshot && why != StaleReason::kBadSnapshot) return;
  enter(tb, BookState::kStale, at_ns != 0 ? at_ns : received_ns_);
  tb.stale_reason = why;
}

void BookKeeper::mark_all_stale(StaleReason why, std::int64_t at_ns) noexcept {
  for (std::size_t i = 0; i < books_.size(); ++i)
    mark_stale(static_cast<TokenIndex>(i), why, at_ns);
}

}  // namespace booktape
