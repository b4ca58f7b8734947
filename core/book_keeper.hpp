#pragma once
// All books of a stream, keyed by token id, with the sync state machine and the validation
// against the venue's own top of book. Venue-agnostic: a venue decoder turns its messages into
// these calls (codecs/polymarket_book_applier.hpp for Polymarket).
//
// Sync state per token (docs/BOOKS.md has the full table):
//   kAwaitingSnapshot --snapshot--> kLive --tick size change--> kUnconfirmed
//   kUnconfirmed --a checked change agrees with the venue's top--> kLive
//   kUnconfirmed --a checked change disagrees--> kStale
//   kLive, kUnconfirmed --bad update / mark_stale (continuity lost)--> kStale --snapshot--> kLive
// Changes apply in kLive and kUnconfirmed (a tick size change loses no message, so the book is
// still complete); for any other state they are suppressed and counted, never applied.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/l2_book.hpp"
#include "core/token_table.hpp"

namespace booktape {

inline constexpr Price kNoPrice = -1;  // "no level on this side"

// How far a book can be trusted. The names (to_string) are part of every book output and of
// what consumers and metrics read: never rename, only add. Values index counters.
enum class BookState : std::uint8_t {
  kAwaitingSnapshot = 0,  // no snapshot yet: no book
  kLive = 1,              // built from a snapshot and every change since, checks agreeing
  kStale = 2,             // not trusted (stale_reason says why); readable, waits for a snapshot
  kUnconfirmed = 3,       // kept across a tick size change; the next checked change decides
};
inline constexpr std::size_t kBookStateCount = 4;
enum class StaleReason : std::uint8_t {
  kNone = 0,
  kTickSizeChange = 1,  // after a tick size change, the venue's best prices disagreed with ours
  kBadUpdate = 2,       // an update could not be decoded exactly (bad price/size/side)
  kBadSnapshot = 3,     // a snapshot could not be decoded exactly; the old book is dropped
  kExternal = 4,        // the transport lost continuity (reconnect, resubscribe)
};
const char* to_string(BookState s) noexcept;
const char* to_string(StaleReason r) noexcept;

// The venue's view of the top of book carried with an update, to check ours against.
struct TopOfBook {
  Price bid = kNoPrice;  // kNoPrice: the venue says the side is empty
  Price ask = kNoPrice;
};

struct TokenStats {
  std::uint64_t snapshots = 0;
  std::uint64_t changes_applied = 0;
  std::uint64_t changes_suppressed = 0;  // arrived while not kLive
  std::uint64_t checks = 0;              // comparisons against the venue's top of book
  std::uint64_t divergences = 0;
  std::uint64_t crossed = 0;             // times the book became crossed or locked
  std::uint64_t bad_updates = 0;        // updates or snapshots that could not be decoded exactly
  std::uint64_t tick_size_changes = 0;
  std::uint64_t confirmations = 0;       // unconfirmed -> live: the venue's top agreed
  std::uint64_t disagreements = 0;       // unconfirmed -> stale: it did not
  std::uint64_t trades = 0;
  std::uint64_t remove_absent = 0;       // size 0 for a price we did not have
};

// A past state of a book: its state hash and when it was reached (for REST cross-checks, which
// must find "the live book at that moment" although the REST answer raced the stream).
struct StateMark {
  std::uint64_t hash = 0;
  std::int64_t event_ms = 0;     // venue timestamp of the event that produced it
  std::int64_t received_ns = 0;  // when that frame was received
};
// 64 states: seconds of a busy token, more than a REST round trip (1.5 KB a token).
inline constexpr std::size_t kStateHistory = 64;

struct TokenBook {
  L2Book book;
  BookState state = BookState::kAwaitingSnapshot;
  StaleReason stale_reason = StaleReason::kNone;
  std::int64_t state_since_ns = 0;  // receive time (wall) when `state` was entered; 0 unknown
  bool crossed = false;
  bool in_sync = true;          // false after a divergence, until a check agrees or a snapshot
  std::uint32_t epoch = 0;      // +1 on every accepted snapshot
  Price tick = 0;               // from a tick size change, 0 if never announced
  TopOfBook venue_top;          // the venue's last reported top of book
  Price last_trade_price = kNoPrice;
  Size last_trade_size = 0;
  std::int64_t last_event_ms = 0;      // venue timestamp of the last event for this token
  std::int64_t last_update_ns = 0;     // receive time of the last snapshot or applied change
  std::int64_t last_update_mono = 0;   // its monotonic stamp (live only, for silence checks)
  std::int64_t snapshot_ns = 0;        // receive time of the last accepted snapshot
  TokenStats stats;
  // Order-free hash of every level (XOR of level_hash), kept current when tracking is on; two
  // books with the same levels have the same hash.
  std::uint64_t state_hash = 0;
  std::array<StateMark, kStateHistory> history{};  // ring, newest at history_pos - 1
  std::uint32_t history_pos = 0;
  std::uint32_t history_len = 0;
  std::uint64_t states_seen = 0;  // states ever remembered: which history entries are new
};

struct Divergence {
  TokenIndex token;
  std::uint64_t frame;   // the caller's frame sequence (global message sequence)
  std::int64_t received_ns;
  TopOfBook ours;
  TopOfBook venue;
};

struct KeeperTotals {
  std::uint64_t snapshots = 0;
  std::uint64_t changes_applied = 0;
  std::uint64_t changes_suppressed = 0;
  std::uint64_t checks = 0;
  std::uint64_t divergences = 0;
  std::uint64_t crossed = 0;
  std::uint64_t bad_updates = 0;        // updates or snapshots that could not be decoded exactly
  std::uint64_t tick_size_changes = 0;
  std::uint64_t confirmations = 0;      // unconfirmed books the venue's top confirmed
  std::uint64_t disagreements = 0;      // unconfirmed books it contradicted (now stale)
  std::uint64_t snapshot_duplicate_levels = 0;
  std::uint64_t token_limit_rejects = 0;  // events for new tokens past the token limit
};

class BookKeeper {
 public:
  static constexpr std::size_t kMaxDivergenceExamples = 16;

  explicit BookKeeper(std::size_t max_tokens = 200'000) : max_tokens_(max_tokens) {}

  // Keep state hashes and their recent history (costs a hash and a lookup per change).
  void track_state(bool on) noexcept { track_ = on; }
  [[nodiscard]] bool tracking_state() const noexcept { return track_; }
  // The contribution of one level to a state hash.
  static std::uint64_t level_hash(Side side, Price price, Size size) noexcept;
  // The state hash a book with these levels has (for a book from elsewhere, e.g. REST).
  static std::uint64_t state_hash_of(std::span<const Level> bids, std::span<const Level> asks) noexcept;

  // Context for the calls that follow: the frame they came from, its receive time and (live)
  // its monotonic stamp, which a wall clock step does not move.
  void begin_frame(std::uint64_t frame_seq, std::int64_t received_ns,
                   std::int64_t monotonic_ns = 0) noexcept {
    frame_seq_ = frame_seq;
    received_ns_ = received_ns;
    monotonic_ns_ = monotonic_ns;
  }

  // Finds or creates the token's book; kNoToken once the token limit is reached (counted).
  TokenIndex token(std::string_view token_id);
  [[nodiscard]] TokenIndex find(std::string_view token_id) const noexcept {
    return tokens_.find(token_id);
  }

  // Replaces the book. `bids`/`asks` in any order; sorted in place.
  void apply_snapshot(TokenIndex t, std::span<Level> bids, std::span<Level> asks,
                      std::int64_t event_ms);
  // Sets one level (size is the new total, 0 removes). Applied only when kLive or kUnconfirmed.
  // When `venue` is given, our top of book after the change is compared with it; for an
  // unconfirmed book that comparison decides: agree -> kLive, disagree -> kStale.
  void apply_change(TokenIndex t, Side side, Price price, Size size, std::int64_t event_ms,
                    const TopOfBook* venue) noexcept;
  // A new tick size: the book is kept (no message was lost) but kUnconfirmed until a checked
  // change vouches for it. NautilusTrader drops the book here instead, which leaves it empty
  // until the next snapshot, and none may come before the market ends.
  void apply_tick_size(TokenIndex t, Price new_tick, std::int64_t event_ms) noexcept;
  void record_trade(TokenIndex t, Price price, Size size, std::int64_t event_ms) noexcept;
  void record_venue_top(TokenIndex t, TopOfBook top, std::int64_t event_ms) noexcept;
  // The book can no longer be trusted; it stays readable but flagged until the next snapshot.
  // `at_ns`: when that was learnt (a session's close), 0 for the current frame's receive time.
  void mark_stale(TokenIndex t, StaleReason why, std::int64_t at_ns = 0) noexcept;
  void mark_all_stale(StaleReason why, std::int64_t at_ns = 0) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return books_.size(); }
  // Valid until the next call that adds a token (token()): books live in a vector.
  [[nodiscard]] const TokenBook& book(TokenIndex t) const noexcept { return books_[t]; }
  [[nodiscard]] const std::string& token_id(TokenIndex t) const noexcept { return tokens_.key(t); }
  [[nodiscard]] const KeeperTotals& totals() const noexcept { return totals_; }
  [[nodiscard]] std::span<const Divergence> divergence_examples() const noexcept {
    return {examples_.data(), example_count_};
  }
  [[nodiscard]] static TopOfBook top_of(const L2Book& b) noexcept;

 private:
  void check(TokenIndex t, TokenBook& tb, const TopOfBook& venue) noexcept;
  void enter(TokenBook& tb, BookState s, std::int64_t at_ns) noexcept;
  void note_crossed(TokenBook& tb) noexcept;
  void remember_state(TokenBook& tb, std::int64_t event_ms) noexcept;

  TokenTable tokens_;
  std::vector<TokenBook> books_;
  std::size_t max_tokens_;
  KeeperTotals totals_;
  std::array<Divergence, kMaxDivergenceExamples> examples_{};
  std::size_t example_count_ = 0;
  std::uint64_t frame_seq_ = 0;
  std::int64_t received_ns_ = 0;
  std::int64_t monotonic_ns_ = 0;
  bool track_ = false;
};

}  // namespace booktape
