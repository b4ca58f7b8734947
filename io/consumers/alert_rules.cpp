#include "io/consumers/alert_rules.hpp"

#include <algorithm>
#include <charconv>

#include "codecs/decimal.hpp"
#include "core/book_queries.hpp"

namespace booktape {

namespace {

std::optional<AlertRule> fail(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
  return std::nullopt;
}

// A non-negative decimal with at most `decimals` places, in 10^-decimals units (codecs').
std::optional<std::int64_t> decimal_of(std::string_view s, int decimals) {
  std::int64_t v = 0;
  if (booktape::parse_decimal(s, decimals, v) != DecimalError::kOk) return std::nullopt;
  return v;
}

// "10s", "500ms", "2m", "1.5s" -> ns.
std::optional<std::int64_t> parse_duration(std::string_view s) {
  std::int64_t unit = 0;
  std::string_view number;
  if (s.ends_with("ms")) {
    unit = 1'000'000;
    number = s.substr(0, s.size() - 2);
  } else if (s.ends_with("s")) {
    unit = 1'000'000'000;
    number = s.substr(0, s.size() - 1);
  } else if (s.ends_with("m")) {
    unit = 60'000'000'000;
    number = s.substr(0, s.size() - 1);
  } else {
    return std::nullopt;
  }
  const std::optional<std::int64_t> v = decimal_of(number, 3);  // thousandths of the unit
  if (!v || *v > std::int64_t{1'000'000'000} * 1000) return std::nullopt;
  return *v * (unit / 1000);
}

}  // namespace

std::optional<AlertRule> parse_alert_rule(std::string_view text, std::string* why) {
  std::string s;
  for (const char ch : text)
    if (ch != ' ' && ch != '\t') s += ch;
  AlertRule r;
  r.text = s;
  static constexpr struct {
    std::string_view name;
    AlertMetric metric;
  } kMetrics[] = {{"spread_bps", AlertMetric::kSpreadBps},
                  {"displayed", AlertMetric::kDisplayed},
                  {"disconnects", AlertMetric::kDisconnects},
                  {"stale", AlertMetric::kStale},
                  {"bid", AlertMetric::kBid},
                  {"ask", AlertMetric::kAsk},
                  {"mid", AlertMetric::kMid}};
  std::string_view rest = s;
  bool found = false;
  for (const auto& m : kMetrics) {
    if (rest.starts_with(m.name)) {
      r.metric = m.metric;
      rest.remove_prefix(m.name.size());
      found = true;
      break;
    }
  }
  if (!found) return fail(why, "unknown metric in '" + s + "'");
  if (rest.starts_with(">=")) {
    r.op = AlertOp::kGe;
    rest.remove_prefix(2);
  } else if (rest.starts_with("<=")) {
    r.op = AlertOp::kLe;
    rest.remove_prefix(2);
  } else if (rest.starts_with(">")) {
    r.op = AlertOp::kGt;
    rest.remove_prefix(1);
  } else if (rest.starts_with("<")) {
    r.op = AlertOp::kLt;
    rest.remove_prefix(1);
  } else {
    return fail(why, "no comparison (>=, >, <=, <) in '" + s + "'");
  }
  const bool upward = r.op == AlertOp::kGe || r.op == AlertOp::kGt;
  switch (r.metric) {
    case AlertMetric::kBid:
    case AlertMetric::kAsk:
    case AlertMetric::kMid:
    case AlertMetric::kDisplayed: {
      const auto v = decimal_of(rest, kPriceDecimals);
      if (!v || *v > kPriceOne) return fail(why, "'" + s + "': the price must be 0..1 (e.g. 0.70)");
      r.threshold = *v * 2;
      r.hysteresis = 2 * 100;  // one cent
      break;
    }
    case AlertMetric::kSpreadBps: {
      const auto v = decimal_of(rest, 2);
      if (!v) return fail(why, "'" + s + "': expected basis points (e.g. 500 or 12.5)");
      r.threshold = *v;
      r.hysteresis = std::max<std::int64_t>(100, *v / 10);  // 10%, at least 1 bp
      break;
    }
    case AlertMetric::kStale: {
      const auto v = parse_duration(rest);
      if (!v || *v <= 0) return fail(why, "'" + s + "': expected a duration like 10s, 500ms or 2m");
      if (!upward) return fail(why, "'" + s + "': stale takes > or >=");
      r.threshold = *v;
      r.hysteresis = 0;  // re-armed by the next update
      break;
    }
    case AlertMetric::kDisconnects: {
      int n = 0;
      const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
      if (rest.empty() || ec != std::errc() || end != rest.data() + rest.size() || n < 1)
        return fail(why, "'" + s + "': expected a count >= 1 (e.g. disconnects>=3)");
      if (!upward) return fail(why, "'" + s + "': disconnects takes > or >=");
      r.threshold = n;
      r.hysteresis = n;  // re-armed once a connect succeeds (the count is back to 0)
      break;
    }
  }
  return r;
}

std::optional<std::int64_t> alert_value(const AlertRule& r, const shm::Top& top,
                                        std::int64_t now_ns) noexcept {
  const bool bid = top.best_bid != shm::kNoPrice, ask = top.best_ask != shm::kNoPrice;
  switch (r.metric) {
    case AlertMetric::kBid:
      return bid ? std::optional<std::int64_t>(2 * std::int64_t{top.best_bid}) : std::nullopt;
    case AlertMetric::kAsk:
      return ask ? std::optional<std::int64_t>(2 * std::int64_t{top.best_ask}) : std::nullopt;
    case AlertMetric::kMid:
      return bid && ask ? std::optional<std::int64_t>(std::int64_t{top.best_bid} + top.best_ask)
                        : std::nullopt;
    case AlertMetric::kDisplayed:
    case AlertMetric::kSpreadBps: {
      // The book queries' own definitions, on a book of the top levels (a scratch book per
      // thread: its levels' storage is reused, nothing is allocated per update).
      thread_local L2Book b;
      b.clear();
      if (bid) b.side(Side::kBid).set(top.best_bid, std::max<Size>(top.best_bid_size, 1));
      if (ask) b.side(Side::kAsk).set(top.best_ask, std::max<Size>(top.best_ask_size, 1));
      if (r.metric == AlertMetric::kSpreadBps) {
        const auto sp = spread(b);
        return sp ? std::optional<std::int64_t>(sp->bps_x100) : std::nullopt;
      }
      const DisplayedPrice d = displayed_price(b, top.last_trade_price == shm::kNoPrice
                                                      ? std::nullopt
                                                      : std::optional<Price>(top.last_trade_price));
      return d.source == DisplaySource::kNone ? std::nullopt
                                              : std::optional<std::int64_t>(d.value_x2);
    }
    case AlertMetric::kStale:
      return top.received_ns > 0 ? std::optional<std::int64_t>(now_ns - top.received_ns)
                                 : std::nullopt;
    case AlertMetric::kDisconnects:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string format_alert_value(const AlertRule& r, std::int64_t v) {
  switch (r.metric) {
    case AlertMetric::kSpreadBps:
      return format_fixed(v, 2);
    case AlertMetric::kStale:
      return format_fixed(v / 1'000'000, 3) + "s";
    case AlertMetric::kDisconnects:
      return std::to_string(v);
    default:
      return format_fixed(v * 5, kPriceDecimals + 1);  // x2 units -> a decimal
  }
}

bool alert_condition(const AlertRule& r, std::int64_t v) noexcept {
  switch (r.op) {
    case AlertOp::kGe:
      return v >= r.threshold;
    case AlertOp::kGt:
      return v > r.threshold;
    case AlertOp::kLe:
      return v <= r.threshold;
    case AlertOp::kLt:
      return v < r.threshold;
  }
  return false;
}

bool alert_cleared(const AlertRule& r, std::int64_t v) noexcept {
  if (r.metric == AlertMetric::kDisconnects) return v == 0;
  const bool upward = r.op == AlertOp::kGe || r.op == AlertOp::kGt;
  if (r.hysteresis == 0) return !alert_condition(r, v);
  return upward ? v < r.threshold - r.hysteresis : v > r.threshold + r.hysteresis;
}

bool AlertEdge::update(const AlertRule& r, std::int64_t v, std::int64_t now,
                       std::int64_t cooldown_ns) noexcept {
  if (fired) {
    if (alert_cleared(r, v)) cleared = true;
    if (!cleared || now - fired_at < cooldown_ns) return false;
    fired = false;  // re-armed
  }
  if (!alert_condition(r, v)) return false;
  fired = true;
  cleared = false;
  fired_at = now;
  return true;
}

}  // namespace booktape
