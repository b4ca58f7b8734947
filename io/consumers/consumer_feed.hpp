#pragma once
// The book stage's side of the live consumers: what the book thread does per update so that the
// consumer thread (Redis, alerts) and other processes (the shm table) see the books, without
// ever making the book thread wait.
//
// Per book update (the applier's BookObserver calls, then flush() after the frame):
//   - the token's slot in the BookTable is rewritten under its seqlock (top levels, best
//     prices, last trade, state);
//   - if the token is not already waiting for the consumer thread, its slot number goes into a
//     bounded SPSC queue and its dirty flag is set; if it is, the update is merged into the one
//     waiting (counted `conflated`): the consumer reads the slot when it gets there, so it always
//     publishes the latest state. The queue holds one entry per slot at most, so it never fills.
// Per trade: a record into a second bounded SPSC queue, never conflated; a full queue drops the
// trade and counts it (`trades_dropped`).
// No allocation, no lock, no syscall per update (notify() may wake a consumer that has been idle
// for a while: once per burst, not per update).
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "codecs/polymarket_book_applier.hpp"
#include "core/book_keeper.hpp"
#include "core/spsc_queue.hpp"
#include "core/wait_strategy.hpp"
#include "io/consumers/book_table.hpp"

namespace booktape {

// One last_trade_price, for the consumers.
struct TradeRecord {
  std::uint32_t slot = 0;  // the token's slot in the book table
  std::uint8_t side = 0;   // 0 BUY, 1 SELL (the taker's side)
  Price price = 0;
  Size size = 0;
  std::int64_t fee_rate_bps = -1;  // -1: the venue did not say
  std::int64_t venue_ms = 0;
  std::int64_t received_ns = 0;  // receive time of its frame, UTC ns
};

// Counters of the feed (written by the book thread, read by any thread).
struct ConsumerFeedStats {
  std::atomic<std::uint64_t> updates{0};    // slot writes: book changes handed to consumers
  std::atomic<std::uint64_t> queued{0};     // tokens queued for the consumer thread
  std::atomic<std::uint64_t> conflated{0};  // updates merged into one already queued
  std::atomic<std::uint64_t> trades{0}, trades_dropped{0};
  std::atomic<std::uint64_t> unserved{0};    // updates of tokens past the table's slots
  std::atomic<std::uint64_t> rest_books{0};  // REST books shown while a token's websocket is down
};

struct ConsumerFeedOptions {
  BookTableOptions table;
  std::size_t trade_queue = 65536;  // trades waiting for the consumer thread
};

class ConsumerFeed final : public polymarket::BookObserver {
 public:
  explicit ConsumerFeed(const ConsumerFeedOptions& options);  // throws std::runtime_error
  ~ConsumerFeed() override;
  ConsumerFeed(const ConsumerFeed&) = delete;
  ConsumerFeed& operator=(const ConsumerFeed&) = delete;

  // ---- the book thread -----------------------------------------------------------------------
  // The books it serves (the book stage's keeper; before the first update).
  void attach(const BookKeeper& books) noexcept { books_ = &books; }
  // Context for the calls that follow: the frame's receive time.
  void begin_frame(std::int64_t received_ns) noexcept { received_ns_ = received_ns; }
  void on_touched(TokenIndex t, std::string_view market) noexcept override;
  void on_trade(TokenIndex t, const polymarket::LastTradeEvent& e) noexcept override;
  // A state change the applier did not make (a connection closed: its books are stale).
  void touch(TokenIndex t) noexcept { on_touched(t, {}); }
  // Writes the slots of every token touched since the last flush and queues them.
  void flush() noexcept;
  // A REST checkpoint book for a token whose live book is not live (websocket down): shown in
  // its slot as state "rest" until the live book changes again. Never mixed into the live book.
  void rest_book(TokenIndex t, std::span<const Level> bids, std::span<const Level> asks,
                 std::int64_t venue_ms, std::int64_t fetched_ns) noexcept;
  // Wakes the consumer thread if it sleeps and work was queued since the last call.
  void notify() noexcept;
  // The counters to the shared stats, and the table's heartbeat (a few times a second).
  void publish(std::int64_t now_ns) noexcept;

  // ---- the consumer thread -------------------------------------------------------------------
  // A token whose slot changed since it was last popped (its flag is cleared: a later change
  // queues it again).
  [[nodiscard]] bool pop_dirty(std::uint32_t& slot) noexcept;
  [[nodiscard]] bool pop_trade(TradeRecord& out) noexcept { return trades_.try_pop(out); }
  [[nodiscard]] Doorbell& bell() noexcept { return bell_; }
  // Nothing waits for the consumer thread (for its park recheck).
  [[nodiscard]] bool empty() const noexcept {
    return dirty_queue_.size_observed() == 0 && trades_.size_observed() == 0;
  }

  // ---- any thread ----------------------------------------------------------------------------
  [[nodiscard]] const BookTable& table() const noexcept { return table_; }
  [[nodiscard]] const ConsumerFeedStats& stats() const noexcept { return stats_; }

 private:
  // Gives slots up to t (in order: tokens the applier created without touching get theirs
  // too) and fills in a market learnt late. False for a token past the table's slots.
  bool identify(TokenIndex t, std::string_view market) noexcept;
  void queue(TokenIndex t) noexcept;

  BookTable table_;
  SpscQueue<std::uint32_t> dirty_queue_;
  SpscQueue<TradeRecord> trades_;
  // One flag per slot: set (book thread) when the slot is queued, cleared (consumer) on pop.
  std::unique_ptr<std::atomic<std::uint8_t>[]> dirty_;
  Doorbell bell_;
  ConsumerFeedStats stats_;

  // Book thread only.
  const BookKeeper* books_ = nullptr;
  std::vector<std::uint8_t> known_;  // per slot: 0 not given, 1 given without a market, 2 with
  std::vector<TradeMark> trade_marks_;
  std::vector<TokenIndex> touched_;  // since the last flush (consecutive repeats merged)
  std::uint32_t given_ = 0;          // slots given so far (= the table's slots_used)
  std::int64_t received_ns_ = 0;
  bool queued_since_notify_ = false;
  std::uint64_t updates_ = 0, queued_ = 0, conflated_ = 0, trades_in_ = 0, trades_dropped_ = 0;
  std::uint64_t unserved_ = 0, rest_books_ = 0;
};

}  // namespace booktape
