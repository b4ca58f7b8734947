#pragma once
// The recorder's book stage (pipeline consumer 0): the offline core's decoder and books, live.
// It owns the books; other threads see counters and the reports it publishes, never the books
// themselves (no locks). It also judges per-token health (a token that never got its first
// book, or went silent while its connection flows) and compares REST checkpoints with the live
// books (docs/RECORD.md, "REST checkpoints").
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "core/book_keeper.hpp"
#include "core/latency_histogram.hpp"
#include "core/triple_buffer.hpp"
#include "core/wait_strategy.hpp"
#include "io/record/pipeline.hpp"

namespace booktape {

class ConsumerFeed;

struct BookStageOptions {
  WaitMode wait = WaitMode::kSpinThenPark;
  std::int64_t max_spin_ns = IdleStrategy::kMaxSpinNs;  // spin-then-park's longest spin
  bool compare_checkpoints = true;          // keep state hashes for REST comparisons
  double initial_book_timeout_seconds = 30;
  double token_silent_seconds = 300;
  double checkpoint_wait_seconds = 5;       // how long a REST book may wait for the stream
  // Publish every token's health once a second (health()), for the operator listener.
  bool publish_health = false;
  // The live consumers' feed (io/consumers/consumer_feed.hpp), owned by the caller; null: none.
  ConsumerFeed* consumers = nullptr;
};

// One token as the book stage last saw it (the operator's /status, status page and `top`).
// Copied out of the book stage's own state a slice at a time, never read in place.
struct TokenHealth {
  std::string asset_id;  // set once: a token index never changes its id
  BookState state = BookState::kAwaitingSnapshot;
  StaleReason stale_reason = StaleReason::kNone;
  bool crossed = false;
  bool in_sync = true;
  Price best_bid = kNoPrice, best_ask = kNoPrice;  // kNoPrice: that side is empty
  Size bid_size = 0, ask_size = 0;
  Price last_trade_price = kNoPrice;
  MonoNanos last_update_mono = 0;  // last snapshot or applied change (0: never)
  UnixNanos last_update_ns = 0;    // its receive time
  std::uint64_t updates = 0;       // snapshots + changes applied, since the start
};
// Every book, indexed by TokenIndex (a book keeps its index for the whole run).
struct BookHealth {
  MonoNanos taken_mono = 0;  // when the sweep that filled it ended
  std::vector<TokenHealth> tokens;
};

// A token needs help from the network stage.
struct HealthEvent {
  enum class Kind : std::uint8_t { kNoInitialBook, kSilent };
  Kind kind = Kind::kNoInitialBook;
  std::string token;
};

// One REST book to compare with the live one.
struct CheckpointBook {
  std::string asset_id;
  std::int64_t timestamp_ms = 0;  // the venue's time of the REST snapshot
  std::vector<Level> bids, asks;
};
struct CheckpointBatch {
  UnixNanos fetched_at = 0;  // when its first request was sent: compared once the stream is there
  std::vector<CheckpointBook> books;
};

struct BookStageStats {
  std::atomic<std::uint64_t> frames{0}, events{0}, snapshots{0}, changes{0}, divergences{0};
  std::atomic<std::uint64_t> crossed{0};  // times a book became crossed or locked
  // Market events by polymarket::EventType (book, price_change, ..., unknown).
  std::array<std::atomic<std::uint64_t>, polymarket::kEventTypeCount> events_by_type{};
  std::atomic<std::uint64_t> checks{0}, parse_errors{0}, unknown{0}, suppressed{0};
  // Books of subscribed tokens (live + unconfirmed + stale + awaiting); `dropped`: books of
  // tokens no connection carries any more (a market rolled off), in none of the others.
  std::atomic<std::uint32_t> tokens{0}, live{0}, stale{0}, awaiting{0}, dropped{0};
  std::atomic<std::uint32_t> unconfirmed{0};  // kept across a tick size change, not yet checked
  // Unconfirmed books the venue's best prices confirmed (-> live) or contradicted (-> stale).
  std::atomic<std::uint64_t> confirmations{0}, disagreements{0};
  // REST checkpoint comparisons, one per book.
  std::atomic<std::uint64_t> checkpoint_books{0}, checkpoint_agree{0}, checkpoint_agree_waited{0};
  std::atomic<std::uint64_t> checkpoint_diverge{0}, checkpoint_skipped{0};
  std::atomic<std::uint64_t> checkpoint_inconclusive{0};  // older than the states we keep
  // Of the skipped: the stream was behind the REST request's time for 16 rounds (a stage far
  // behind): not compared, since a stream behind would make them look divergent.
  std::atomic<std::uint64_t> checkpoint_behind{0};
  std::atomic<std::uint64_t> health_no_book{0}, health_silent{0};
  std::atomic<std::uint64_t> parks{0};
  LatencyHistogram read_to_book;  // read completed -> book updated
};

class BookStage {
 public:
  BookStage(BookStageOptions options, PipelineRing& ring, PipelineBells& bells);
  ~BookStage();
  BookStage(const BookStage&) = delete;
  BookStage& operator=(const BookStage&) = delete;

  // The stage's loop: returns once `producer_done` is set and every record was consumed.
  void run(const std::atomic<bool>& producer_done);

  // From one thread (the REST thread; a lock-free SPSC queue): REST books to compare at the
  // stream's current point. If the stage has 16 rounds waiting, the batch is counted skipped.
  void submit_checkpoint(std::unique_ptr<CheckpointBatch> batch);
  // Thread-safe: the next health report, if any.
  bool pop_health(HealthEvent& out);
  // One reader thread only (the recorder's control thread): every book's health as last
  // published (with publish_health), and whether it is newer than the last call's.
  const BookHealth& health(bool* fresh = nullptr);

  [[nodiscard]] const BookStageStats& stats() const noexcept;
  // Only once run() has returned: the books, the decoder and applier counters.
  [[nodiscard]] const BookKeeper& books() const noexcept;
  [[nodiscard]] const polymarket::DecoderStats& decoder_stats() const noexcept;
  // Divergent REST comparisons, first few (only once run() has returned).
  [[nodiscard]] const std::vector<std::string>& checkpoint_examples() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
