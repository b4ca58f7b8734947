#pragma once
// The simulator's market: a deterministic, seeded generator of Polymarket market-channel traffic
// with the state behind it, so every frame it emits is consistent with a book it can show
// (REST /book, the initial dump, the ground truth).
//
// Markets come in "lanes": each lane is one rolling up/down series (BTC 5m, BTC 15m, ETH 5m,
// ...) whose windows follow each other; the next window of every lane is listed one window
// ahead, and at its end a market resolves and leaves. Each market has an Up and a Down token with
// complementary books (Up bid p <-> Down ask 1-p). Reference books are std::map models,
// deliberately independent of core/l2_book, so comparing the recorder's books with them tests
// something.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "codecs/polymarket_events.hpp"
#include "codecs/polymarket_gamma.hpp"
#include "codecs/polymarket_rest.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"

namespace booktape::polymarket {

struct SimOptions {
  std::uint64_t seed = 1;
  int lanes = 2;                  // rolling series at once (lane 0: BTC 5m, 1: BTC 15m, 2: ETH 5m...)
  int min_levels = 10;            // levels a side in a fresh book
  int max_levels = 60;
  int fine_tick_percent = 25;     // markets that start on the 0.001 grid
  int paired_percent = 80;        // price changes with an entry for both tokens
  int trade_per_mille = 20;       // events that are trades (each followed by re-snapshots)
  int jump_per_mille = 2;         // events where a market's price jumps (reaching the extremes)
  // Jumps that change the tick size and are followed by fresh `book` snapshots; the others move
  // the books by `price_change` bursts only (the venue promises no snapshot after a tick change).
  int tick_snapshot_percent = 100;
  std::int64_t window_scale_seconds = 300;  // a 5m lane's window; 15m lanes use 3x (tests shrink it)
  UnixNanos start = 0;            // the simulated clock's origin (0: the real time at creation)
};

// One frame the generator emitted, and what a server needs to route it.
struct SimFrame {
  std::string payload;
  EventType type = EventType::kUnknown;
  std::uint32_t tokens[2] = {~0u, ~0u};  // the tokens it is about (for subscription routing)
  bool custom_only = false;     // best_bid_ask, new_market, market_resolved (custom_feature_enabled)
  bool to_all_custom = false;   // new_market: for every custom-feature connection, subscribed or not
};

struct SimBook {
  std::map<Price, Size> bids, asks;
  Price last_trade = kNoPrice;
};

struct SimToken {
  std::string id;               // 77 decimal digits, like the venue's
  std::uint32_t market = 0;     // index into markets()
  bool up = true;
  SimBook book;
  UnixNanos listed_at = 0;      // its book is exact from here on: the truth's `state_since`
};

struct SimMarket {
  std::string id, condition_id, slug, question, series_slug, symbol;
  UnixNanos start = 0, end = 0;
  std::int64_t window_seconds = 300;
  Price tick = 100;
  Price mid = 5'000;            // the Up token's fair price
  std::uint32_t up = 0, down = 0;
  bool resolved = false;
  int lane = 0;
};

// One market in ten is Protocol V2 on Gamma (the second, the twelfth, ...): its tokens are
// listed in positionIds, with other (CTF) ids in clobTokenIds.
inline bool is_v2(const SimMarket& m) { return m.id.ends_with('1'); }

class MarketSim {
 public:
  explicit MarketSim(const SimOptions& options);

  // Moves the simulated clock to `now`: resolves markets whose window ended and lists the next
  // windows, appending market_resolved / new_market frames. Call before next() with live time.
  void advance_to(UnixNanos now, std::vector<SimFrame>& out);
  // Appends the frames of one more market event (usually one price_change; a trade brings its
  // book re-snapshots, a tick size change its new books).
  void next(std::vector<SimFrame>& out);

  // The `book` event for a token's current state (a JSON object).
  [[nodiscard]] std::string book_event(std::uint32_t token) const;
  // The REST /book summary of a token's current state (same hash semantics as book_event).
  [[nodiscard]] BookSummary summary(std::uint32_t token) const;
  // Every token's book in `booktape replay --dump-books` shape (codecs/book_json.hpp).
  [[nodiscard]] std::string books_json() const;
  // Gamma /markets and /events content for every market still listed.
  [[nodiscard]] std::vector<GammaMarket> gamma_markets() const;
  [[nodiscard]] std::vector<GammaEvent> gamma_events() const;

  [[nodiscard]] const std::vector<SimToken>& tokens() const noexcept { return tokens_; }
  [[nodiscard]] const std::vector<SimMarket>& markets() const noexcept { return markets_; }
  // Index of a token id, or ~0u.
  [[nodiscard]] std::uint32_t find_token(std::string_view id) const;
  // Tokens of markets that have not resolved (what a recorder would subscribe to).
  [[nodiscard]] std::vector<std::uint32_t> open_tokens() const;
  [[nodiscard]] UnixNanos now() const noexcept { return now_; }
  [[nodiscard]] std::int64_t now_ms() const noexcept { return now_ / 1'000'000; }

 private:
  std::uint32_t add_market(int lane, UnixNanos window_start);
  void build_books(SimMarket& m);
  void price_change(std::uint32_t market, std::vector<SimFrame>& out);
  void trade(std::uint32_t market, std::vector<SimFrame>& out);
  void jump(std::uint32_t market, std::vector<SimFrame>& out);
  void retick(std::uint32_t market, Price new_tick, std::vector<SimFrame>& out);
  void reprice_by_changes(std::uint32_t market, std::vector<SimFrame>& out);
  // One price_change entry, applied to its token's book, with the venue's top after it.
  struct Change {
    std::uint32_t token = 0;
    Price price = 0;
    Size size = 0;
    bool bid = true;
    std::string best_bid, best_ask;
    bool top_changed = false;
  };
  Change apply_change(std::uint32_t token, bool bid, Price price, Size size);
  void emit_changes(const SimMarket& m, const Change* changes, std::size_t n,
                    std::vector<SimFrame>& out);
  void emit_book(std::uint32_t token, std::vector<SimFrame>& out) const;
  void emit_best_bid_ask(std::uint32_t token, std::vector<SimFrame>& out) const;
  std::string new_market_event(const SimMarket& m) const;
  std::string resolved_event(const SimMarket& m) const;
  std::string random_digits(int n);
  std::string random_hex(int n);
  Size random_size();
  std::int64_t window_of(int lane) const;

  SimOptions opt_;
  std::mt19937_64 rng_;
  std::vector<SimToken> tokens_;
  std::vector<SimMarket> markets_;
  std::vector<std::uint32_t> open_markets_;  // indices of unresolved markets (event targets)
  std::vector<UnixNanos> lane_latest_;       // start of each lane's newest listed window
  std::map<std::string, std::uint32_t, std::less<>> token_index_;
  UnixNanos now_ = 0;
  std::uint64_t events_ = 0;
};

}  // namespace booktape::polymarket
