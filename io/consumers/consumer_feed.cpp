#include "io/consumers/consumer_feed.hpp"

namespace booktape {

namespace {
// One writer per counter: a plain load and store, not a locked add.
void put(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
  a.store(v, std::memory_order_relaxed);
}
}  // namespace

ConsumerFeed::ConsumerFeed(const ConsumerFeedOptions& o)
    : table_(o.table),
      dirty_queue_(o.table.slots),  // one entry per slot at most: it cannot fill
      trades_(o.trade_queue),
      dirty_(std::make_unique<std::atomic<std::uint8_t>[]>(o.table.slots)) {
  known_.reserve(1024);
  trade_marks_.reserve(1024);
  touched_.reserve(1024);
}

ConsumerFeed::~ConsumerFeed() = default;

bool ConsumerFeed::identify(TokenIndex t, std::string_view market) noexcept {
  if (t >= table_.slot_count()) return false;
  if (t >= given_) {
    // Slots go in token order; a token the keeper created without an update (a best_bid_ask
    // for a new token) gets its slot here, before the one being touched. Growing these vectors
    // allocates once per new token, never per update.
    known_.resize(std::size_t{t} + 1, 0);
    trade_marks_.resize(std::size_t{t} + 1);
    for (TokenIndex i = given_; i <= t; ++i) {
      const std::string_view m = i == t ? market : std::string_view{};
      table_.assign(i, books_->token_id(i), m);
      known_[i] = m.empty() ? 1 : 2;
    }
    given_ = t + 1;
  } else if (known_[t] == 1 && !market.empty()) {
    table_.set_market(t, market);
    known_[t] = 2;
  }
  return true;
}

void ConsumerFeed::on_touched(TokenIndex t, std::string_view market) noexcept {
  if (!identify(t, market)) {
    ++unserved_;
    return;
  }
  // A 2-entry price_change for one token, or a book then a trade, touch it twice in a row.
  if (touched_.empty() || touched_.back() != t) touched_.push_back(t);
}

void ConsumerFeed::on_trade(TokenIndex t, const polymarket::LastTradeEvent& e) noexcept {
  on_touched(t, e.market);
  if (t >= given_) return;  // past the table's slots (counted)
  TradeMark& m = trade_marks_[t];
  m.side = e.side == Side::kBid ? 0 : 1;
  m.venue_ms = e.timestamp_ms;
  TradeRecord r;
  r.slot = t;
  r.side = m.side;
  r.price = e.price;
  r.size = e.size;
  r.fee_rate_bps = e.fee_rate_bps;
  r.venue_ms = e.timestamp_ms;
  r.received_ns = received_ns_;
  ++trades_in_;
  if (trades_.try_push(r)) {
    queued_since_notify_ = true;
  } else {
    ++trades_dropped_;
  }
}

void ConsumerFeed::queue(TokenIndex t) noexcept {
  // The exchange is a full fence: it orders the slot write before the flag's read, against the
  // consumer's exchange(0) before its slot read. Either the consumer still sees the flag set
  // (and will read this write), or we see it clear and queue the token again.
  if (dirty_[t].exchange(1, std::memory_order_seq_cst) != 0) {
    ++conflated_;
    return;
  }
  ++queued_;
  queued_since_notify_ = true;
  (void)dirty_queue_.try_push(t);  // one entry per flagged slot: there is always room
}

void ConsumerFeed::flush() noexcept {
  for (const TokenIndex t : touched_) {
    table_.write_book(t, books_->book(t), received_ns_, trade_marks_[t]);
    ++updates_;
    queue(t);
  }
  touched_.clear();
}

void ConsumerFeed::rest_book(TokenIndex t, std::span<const Level> bids, std::span<const Level> asks,
                             std::int64_t venue_ms, std::int64_t fetched_ns) noexcept {
  if (!identify(t, {})) {
    ++unserved_;
    return;
  }
  table_.write_rest(t, books_->book(t), bids, asks, venue_ms, fetched_ns, trade_marks_[t]);
  ++rest_books_;
  queue(t);
}

void ConsumerFeed::notify() noexcept {
  if (!queued_since_notify_) return;
  queued_since_notify_ = false;
  bell_.ring();  // a fence and a load, unless the consumer thread is parked
}

bool ConsumerFeed::pop_dirty(std::uint32_t& slot) noexcept {
  if (!dirty_queue_.try_pop(slot)) return false;
  (void)dirty_[slot].exchange(0, std::memory_order_seq_cst);  // before the slot is read
  return true;
}

void ConsumerFeed::publish(std::int64_t now_ns) noexcept {
  put(stats_.updates, updates_);
  put(stats_.queued, queued_);
  put(stats_.conflated, conflated_);
  put(stats_.trades, trades_in_);
  put(stats_.trades_dropped, trades_dropped_);
  put(stats_.unserved, unserved_);
  put(stats_.rest_books, rest_books_);
  table_.heartbeat(now_ns);
}

}  // namespace booktape
