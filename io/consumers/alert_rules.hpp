#pragma once
// Alert rules (`--alert RULE`, config `alerts:`) and when they fire (docs/CONSUMERS.md, "Alerts").
//
//   bid>=0.70   ask<=0.30   mid>=X   displayed>=X   spread_bps>X   stale>10s   disconnects>=N
//
// A rule over a token's book is judged on every change of a live book (stale: on a timer, for
// every token); disconnects>=N over the feed (consecutive failed connects). Edge-triggered: a
// rule fires when its condition becomes true, then stays quiet until the value has gone back
// past the threshold by the hysteresis band AND the cooldown since it fired has passed, so a
// book that flickers around the threshold does not storm. Exact integer comparisons (prices on
// the 1e-4 grid, times two for mid and displayed, which may fall between two ticks).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/l2_book.hpp"
#include "io/consumers/shm_book_table.hpp"

namespace booktape {

inline constexpr const char* kAlertGrammar =
    "a rule is METRIC OP VALUE: bid, ask, mid or displayed with a price 0..1 (bid>=0.70, "
    "ask<=0.30); spread_bps with basis points (spread_bps>500); stale with a duration "
    "(stale>10s, 500ms, 2m; > or >= only); disconnects with a count of consecutive failed "
    "connects (disconnects>=3; > or >= only). OP is one of >= > <= <";

enum class AlertMetric : std::uint8_t {
  kBid,
  kAsk,
  kMid,
  kDisplayed,
  kSpreadBps,
  kStale,
  kDisconnects
};
enum class AlertOp : std::uint8_t { kGe, kGt, kLe, kLt };

struct AlertRule {
  std::string text;  // as given, spaces removed: the `rule` field of an alert
  AlertMetric metric = AlertMetric::kBid;
  AlertOp op = AlertOp::kGe;
  // In the metric's unit: price x2 (1e-4 USDC; bid, ask, mid, displayed), bps x100
  // (spread_bps), ns (stale), a count (disconnects).
  std::int64_t threshold = 0;
  std::int64_t hysteresis = 0;  // how far back the value must go before the rule re-arms
  [[nodiscard]] bool over_books() const noexcept { return metric != AlertMetric::kDisconnects; }
};

// nullopt and `why` (to be followed by kAlertGrammar) for a rule that is not in the grammar.
std::optional<AlertRule> parse_alert_rule(std::string_view text, std::string* why = nullptr);

// A rule's value from a token's top of book (nullopt: the book does not have it: an empty
// side, no trade for a displayed price that needs one). `now_ns`: UTC, for stale.
std::optional<std::int64_t> alert_value(const AlertRule& r, const shm::Top& top,
                                        std::int64_t now_ns) noexcept;
// The value as text for the alert ("0.71", "812.5", "12.3s", "4").
std::string format_alert_value(const AlertRule& r, std::int64_t value);

[[nodiscard]] bool alert_condition(const AlertRule& r, std::int64_t value) noexcept;
// True when the value is back past the threshold by the hysteresis band.
[[nodiscard]] bool alert_cleared(const AlertRule& r, std::int64_t value) noexcept;

// The edge/cooldown/hysteresis state of one rule for one token (or for the feed).
struct AlertEdge {
  bool fired = false;
  bool cleared = false;
  std::int64_t fired_at = 0;  // monotonic ns
  // Feeds a value; true when the rule fires now.
  bool update(const AlertRule& r, std::int64_t value, std::int64_t now_mono,
              std::int64_t cooldown_ns) noexcept;
};

}  // namespace booktape
