#include "codecs/polymarket_gamma.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "codecs/decimal.hpp"
#include "codecs/envelope.hpp"
#include "codecs/json_text.hpp"

namespace booktape::polymarket {

namespace dom = simdjson::dom;

// ---------------------------------------------------------------------------------------------
// Rendering

namespace {

// Gamma writes whole seconds as "2026-03-12T09:25:00Z" and fractions only as long as needed
// ("2026-03-11T09:29:01.328428Z"); format_utc always writes nine fraction digits.
std::string format_iso(UnixNanos t) {
  std::string s = format_utc(t);  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
  s.pop_back();
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  s += 'Z';
  return s;
}

void append_key(std::string& out, std::string_view key) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void append_string_field(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
}

void append_bool_field(std::string& out, std::string_view key, bool value) {
  append_key(out, key);
  out += value ? "true" : "false";
}

void append_date_field(std::string& out, std::string_view key, UnixNanos t) {
  if (t != 0) append_string_field(out, key, format_iso(t));
}

// A list as Gamma sends it: the JSON text of an array (with ", " between items, as in the real
// responses) inside a JSON string.
void append_encoded_list(std::string& out, std::string_view key,
                         const std::vector<std::string>& items) {
  if (items.empty()) return;
  std::string inner = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) inner += ", ";
    append_json_string(inner, items[i]);
  }
  inner += ']';
  append_string_field(out, key, inner);
}

void append_market(std::string& out, const GammaMarket& m, bool with_event_stub) {
  out += '{';
  append_string_field(out, "id", m.id);
  append_string_field(out, "question", m.question);
  append_string_field(out, "conditionId", m.condition_id);
  append_string_field(out, "slug", m.slug);
  append_date_field(out, "endDate", m.end_date);
  append_date_field(out, "startDate", m.start_date);
  append_encoded_list(out, "outcomes", m.outcomes);
  append_encoded_list(out, "outcomePrices", m.outcome_prices);
  append_bool_field(out, "active", m.active);
  append_bool_field(out, "closed", m.closed);
  append_bool_field(out, "archived", m.archived);
  append_bool_field(out, "enableOrderBook", m.enable_order_book);
  append_key(out, "orderPriceMinTickSize");
  out += format_price(m.order_price_min_tick_size);
  if (std::int64_t v = 0; parse_decimal(m.order_min_size, kSizeDecimals, v) == DecimalError::kOk) {
    append_key(out, "orderMinSize");
    out += format_size(v);
  } else {
    append_string_field(out, "orderMinSize", m.order_min_size);  // keeps the JSON valid
  }
  append_encoded_list(out, "clobTokenIds", m.clob_token_ids);
  if (!m.version.empty()) append_string_field(out, "version", m.version);
  if (!m.position_ids.empty()) {  // a real array, unlike clobTokenIds
    append_key(out, "positionIds");
    out += '[';
    for (std::size_t i = 0; i < m.position_ids.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, m.position_ids[i]);
    }
    out += ']';
  }
  append_bool_field(out, "acceptingOrders", m.accepting_orders);
  append_bool_field(out, "negRisk", m.neg_risk);
  if (with_event_stub && !m.series_slug.empty()) {
    append_key(out, "events");
    out += "[{";
    append_string_field(out, "seriesSlug", m.series_slug);
    out += ",\"series\":[{";
    append_string_field(out, "slug", m.series_slug);
    out += "}]}]";
  }
  append_date_field(out, "eventStartTime", m.event_start_time);
  out += '}';
}

void append_event(std::string& out, const GammaEvent& e) {
  out += '{';
  append_string_field(out, "id", e.id);
  append_string_field(out, "ticker", e.ticker);
  append_string_field(out, "slug", e.slug);
  append_string_field(out, "title", e.title);
  append_date_field(out, "startDate", e.start_date);
  append_date_field(out, "endDate", e.end_date);
  append_bool_field(out, "active", e.active);
  append_bool_field(out, "closed", e.closed);
  append_key(out, "markets");
  out += '[';
  for (std::size_t i = 0; i < e.markets.size(); ++i) {
    if (i) out += ',';
    append_market(out, e.markets[i], /*with_event_stub=*/false);
  }
  out += ']';
  if (!e.series_slug.empty()) {
    // We keep no series title; the real series' ticker equals its slug, and the title is only
    // for display, so both repeat the slug.
    append_key(out, "series");
    out += "[{";
    append_string_field(out, "id", e.series_id);
    append_string_field(out, "ticker", e.series_slug);
    append_string_field(out, "slug", e.series_slug);
    append_string_field(out, "title", e.series_slug);
    out += "}]";
    append_string_field(out, "seriesSlug", e.series_slug);
  }
  out += '}';
}

}  // namespace

std::string render_market(const GammaMarket& m) {
  std::string out;
  append_market(out, m, /*with_event_stub=*/true);
  return out;
}

namespace {
template <class T>
std::vector<const T*> pointers_to(std::span<const T> rows) {
  std::vector<const T*> out;
  out.reserve(rows.size());
  for (const T& r : rows) out.push_back(&r);
  return out;
}
}  // namespace

std::string render_markets(std::span<const GammaMarket> markets) {
  return render_markets(pointers_to(markets));
}

std::string render_markets(std::span<const GammaMarket* const> markets) {
  std::string out = "[";
  for (std::size_t i = 0; i < markets.size(); ++i) {
    if (i) out += ',';
    append_market(out, *markets[i], /*with_event_stub=*/true);
  }
  out += ']';
  return out;
}

std::string render_events(std::span<const GammaEvent> events) {
  return render_events(pointers_to(events));
}

std::string render_events(std::span<const GammaEvent* const> events) {
  std::string out = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    append_event(out, *events[i]);
  }
  out += ']';
  return out;
}

namespace {
std::string keyset_page(std::string_view key, const std::string& list,
                        std::string_view next_cursor) {
  std::string out = "{\"" + std::string(key) + "\":" + list;
  if (!next_cursor.empty()) append_string_field(out, "next_cursor", next_cursor);
  out += '}';
  return out;
}
}  // namespace

std::string render_markets_page(std::span<const GammaMarket* const> markets,
                                std::string_view next_cursor) {
  return keyset_page("markets", render_markets(markets), next_cursor);
}

std::string render_events_page(std::span<const GammaEvent* const> events,
                               std::string_view next_cursor) {
  return keyset_page("events", render_events(events), next_cursor);
}

// ---------------------------------------------------------------------------------------------
// Selection (query strings: codecs/query_string.hpp)

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char ch) {
             return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
           };
           return lower(x) == lower(y);
         });
}

std::vector<std::string_view> values_of(const QueryParams& params, std::string_view key) {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : params) {
    if (k == key) out.push_back(v);
  }
  return out;
}

const std::string* last_value(const QueryParams& params, std::string_view key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : params) {
    if (k == key) found = &v;
  }
  return found;
}

std::optional<bool> parse_bool(std::string_view v) {
  if (iequals(v, "true")) return true;
  if (iequals(v, "false")) return false;
  return std::nullopt;
}

bool in_set(const std::vector<std::string_view>& set, std::string_view v) {
  return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
}

// The conditions shared by markets and events, read once from the query.
class Filter {
 public:
  Filter(const QueryParams& p, bool with_archived) {
    ids_ = values_of(p, "id");
    slugs_ = values_of(p, "slug");
    read_bool(p, "active", active_);
    read_bool(p, "closed", closed_);
    if (!last_value(p, "closed")) closed_ = false;  // Gamma hides closed markets by default
    if (with_archived) read_bool(p, "archived", archived_);
  }

  [[nodiscard]] bool impossible() const { return impossible_; }

  [[nodiscard]] bool pass(std::string_view id, std::string_view slug, bool active, bool closed,
                          bool archived) const {
    return !impossible_ && in_set(ids_, id) && in_set(slugs_, slug) &&
           (!active_ || *active_ == active) && (!closed_ || *closed_ == closed) &&
           (!archived_ || *archived_ == archived);
  }

  // Inclusive [min, max] bounds from `<name>_min` / `<name>_max`; a missing date (0) fails any.
  void read_bounds(const QueryParams& p, std::string_view name, std::optional<UnixNanos>& lo,
                   std::optional<UnixNanos>& hi) {
    read_time(p, std::string(name) + "_min", lo);
    read_time(p, std::string(name) + "_max", hi);
  }

 private:
  void read_bool(const QueryParams& p, std::string_view key, std::optional<bool>& out) {
    if (const std::string* v = last_value(p, key)) {
      out = parse_bool(*v);
      if (!out) impossible_ = true;
    }
  }
  void read_time(const QueryParams& p, std::string_view key, std::optional<UnixNanos>& out) {
    if (const std::string* v = last_value(p, key)) {
      out = parse_utc(*v);
      if (!out) impossible_ = true;
    }
  }

  std::vector<std::string_view> ids_, slugs_;
  std::optional<bool> active_, closed_, archived_;
  bool impossible_ = false;
};

bool within(UnixNanos t, const std::optional<UnixNanos>& lo, const std::optional<UnixNanos>& hi) {
  if (!lo && !hi) return true;
  return t != 0 && (!lo || t >= *lo) && (!hi || t <= *hi);
}

enum class OrderKey : std::uint8_t { kEndDate, kStartDate, kEventStartTime, kId };

std::vector<OrderKey> parse_order(const QueryParams& p, bool allow_event_start) {
  std::vector<OrderKey> keys;
  const std::string* v = last_value(p, "order");
  if (!v) return keys;
  std::string_view rest = *v;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == "endDate") keys.push_back(OrderKey::kEndDate);
    if (name == "startDate") keys.push_back(OrderKey::kStartDate);
    if (name == "id") keys.push_back(OrderKey::kId);
    if (name == "eventStartTime" && allow_event_start) keys.push_back(OrderKey::kEventStartTime);
  }
  return keys;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Gamma ids are decimal integers in strings: "99" sorts before "100".
int compare_ids(std::string_view a, std::string_view b) {
  if (all_digits(a) && all_digits(b)) {
    while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
    while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  }
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int compare_times(UnixNanos a, UnixNanos b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

int compare_by(const GammaMarket& a, const GammaMarket& b, OrderKey k) {
  switch (k) {
    case OrderKey::kEndDate:
      return compare_times(a.end_date, b.end_date);
    case OrderKey::kStartDate:
      return compare_times(a.start_date, b.start_date);
    case OrderKey::kEventStartTime:
      return compare_times(a.event_start_time, b.event_start_time);
    case OrderKey::kId:
      return compare_ids(a.id, b.id);
  }
  return 0;
}

int compare_by(const GammaEvent& a, const GammaEvent& b, OrderKey k) {
  switch (k) {
    case OrderKey::kEndDate:
      return compare_times(a.end_date, b.end_date);
    case OrderKey::kStartDate:
      return compare_times(a.start_date, b.start_date);
    case OrderKey::kId:
      return compare_ids(a.id, b.id);
    case OrderKey::kEventStartTime:
      break;  // not an event field; parse_order never yields it
  }
  return 0;
}

std::size_t size_param(const QueryParams& p, std::string_view key, std::size_t fallback) {
  const std::string* v = last_value(p, key);
  if (!v) return fallback;
  std::size_t n = 0;
  const auto r = std::from_chars(v->data(), v->data() + v->size(), n);
  return r.ec == std::errc{} && r.ptr == v->data() + v->size() ? n : fallback;
}

// Sorting (stable, so ties keep the input order).
template <class T>
std::vector<const T*> order_rows(std::vector<const T*> rows, const QueryParams& p,
                                 bool allow_event_start) {
  const std::vector<OrderKey> keys = parse_order(p, allow_event_start);
  if (!keys.empty()) {
    const std::string* asc = last_value(p, "ascending");
    const bool descending = asc && iequals(*asc, "false");
    std::stable_sort(rows.begin(), rows.end(), [&](const T* a, const T* b) {
      for (const OrderKey k : keys) {
        const int c = compare_by(*a, *b, k);
        if (c != 0) return descending ? c > 0 : c < 0;
      }
      return false;
    });
  }
  return rows;
}

// The offset/limit page; limit is capped as the venue caps it.
template <class T>
std::vector<const T*> page_rows(std::vector<const T*> rows, const QueryParams& p) {
  const std::size_t offset = std::min(size_param(p, "offset", 0), rows.size());
  const std::size_t limit = std::min(size_param(p, "limit", kDefaultGammaLimit), kGammaPageCap);
  rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(offset));
  if (rows.size() > limit) rows.resize(limit);
  return rows;
}

}  // namespace

std::vector<const GammaMarket*> select_markets(std::span<const GammaMarket> markets,
                                               const QueryParams& params) {
  return select_markets(pointers_to(markets), params);
}

std::vector<const GammaEvent*> select_events(std::span<const GammaEvent> events,
                                             const QueryParams& params) {
  return select_events(pointers_to(events), params);
}

std::vector<const GammaMarket*> match_markets(std::span<const GammaMarket* const> markets,
                                              const QueryParams& params) {
  Filter filter(params, /*with_archived=*/true);
  std::optional<UnixNanos> start_lo, start_hi, end_lo, end_hi;
  filter.read_bounds(params, "start_date", start_lo, start_hi);
  filter.read_bounds(params, "end_date", end_lo, end_hi);
  const std::vector<std::string_view> conditions = values_of(params, "condition_ids");
  const std::vector<std::string_view> tokens = values_of(params, "clob_token_ids");
  std::vector<const GammaMarket*> rows;
  if (filter.impossible()) return rows;
  for (const GammaMarket* mp : markets) {
    const GammaMarket& m = *mp;
    if (!filter.pass(m.id, m.slug, m.active, m.closed, m.archived)) continue;
    if (!in_set(conditions, m.condition_id)) continue;
    if (!tokens.empty() && std::none_of(m.clob_token_ids.begin(), m.clob_token_ids.end(),
                                        [&](const std::string& t) { return in_set(tokens, t); })) {
      continue;
    }
    if (!within(m.start_date, start_lo, start_hi) || !within(m.end_date, end_lo, end_hi)) continue;
    rows.push_back(mp);
  }
  return order_rows(std::move(rows), params, /*allow_event_start=*/true);
}

std::vector<const GammaMarket*> select_markets(std::span<const GammaMarket* const> markets,
                                               const QueryParams& params) {
  return page_rows(match_markets(markets, params), params);
}

std::vector<const GammaEvent*> match_events(std::span<const GammaEvent* const> events,
                                            const QueryParams& params) {
  const Filter filter(params, /*with_archived=*/false);
  const std::vector<std::string_view> series = values_of(params, "series_slug");
  std::vector<const GammaEvent*> rows;
  if (filter.impossible()) return rows;
  for (const GammaEvent* ep : events) {
    const GammaEvent& e = *ep;
    if (!filter.pass(e.id, e.slug, e.active, e.closed, false)) continue;
    if (!in_set(series, e.series_slug)) continue;
    rows.push_back(ep);
  }
  return order_rows(std::move(rows), params, /*allow_event_start=*/false);
}

std::vector<const GammaEvent*> select_events(std::span<const GammaEvent* const> events,
                                             const QueryParams& params) {
  return page_rows(match_events(events, params), params);
}

namespace {

constexpr std::string_view kCursorTag = "after-id:";

// Opaque to clients, as the venue's are: the hex of "after-id:<id>".
std::string encode_cursor(std::string_view id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string plain = std::string(kCursorTag) + std::string(id);
  std::string out;
  for (const char c : plain) {
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 0x0F];
  }
  return out;
}

std::optional<std::string> decode_cursor(std::string_view cursor) {
  if (cursor.size() % 2 != 0) return std::nullopt;
  std::string plain;
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    const int hi = hex_value(cursor[i]);
    const int lo = hex_value(cursor[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    plain += static_cast<char>(hi * 16 + lo);
  }
  if (plain.rfind(kCursorTag, 0) != 0) return std::nullopt;
  return plain.substr(kCursorTag.size());
}

template <class T>
bool keyset(std::vector<const T*> rows, const QueryParams& p, std::size_t cap,
            std::vector<const T*>& page, std::string& next_cursor) {
  page.clear();
  next_cursor.clear();
  const auto by_id = [](const T* a, const T* b) { return compare_ids(a->id, b->id) < 0; };
  if (!std::is_sorted(rows.begin(), rows.end(), by_id)) {
    std::stable_sort(rows.begin(), rows.end(), by_id);
  }
  auto from = rows.begin();
  if (const std::string* c = last_value(p, "after_cursor"); c && !c->empty()) {
    const std::optional<std::string> after = decode_cursor(*c);
    if (!after) return false;
    // Keyset: the first row after that id, whether or not that row is still listed.
    from = std::upper_bound(rows.begin(), rows.end(), *after,
                            [](const std::string& id, const T* r) {
                              return compare_ids(id, r->id) < 0;
                            });
  }
  const std::size_t limit = std::min(size_param(p, "limit", kDefaultGammaLimit), cap);
  const auto left = static_cast<std::size_t>(rows.end() - from);
  const auto to = from + static_cast<std::ptrdiff_t>(std::min(limit, left));
  page.assign(from, to);
  if (to != rows.end() && !page.empty()) next_cursor = encode_cursor(page.back()->id);
  return true;
}

}  // namespace

bool keyset_markets(std::span<const GammaMarket* const> markets, const QueryParams& params,
                    std::vector<const GammaMarket*>& page, std::string& next_cursor) {
  return keyset(match_markets(markets, params), params, kGammaPageCap, page, next_cursor);
}

bool keyset_events(std::span<const GammaEvent* const> events, const QueryParams& params,
                   std::vector<const GammaEvent*>& page, std::string& next_cursor) {
  return keyset(match_events(events, params), params, kGammaEventsKeysetCap, page, next_cursor);
}

// ---------------------------------------------------------------------------------------------
// Discovery

namespace {

std::string string_field(const dom::object& o, std::string_view key) {
  dom::element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) return {};
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) return std::string(s);
  // Ids are strings in every capture, but a number costs nothing to accept.
  std::int64_t i = 0;
  if (e.get(i) == simdjson::SUCCESS) return std::to_string(i);
  return {};
}

bool bool_field(const dom::object& o, std::string_view key) {
  bool b = false;
  return o.at_key(key).get(b) == simdjson::SUCCESS && b;
}

UnixNanos time_field(const dom::object& o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get(s) != simdjson::SUCCESS || s.empty()) return 0;
  return parse_utc(s).value_or(0);
}

// orderPriceMinTickSize is a JSON number (0.01), so it arrives as a double: round it to the
// 0.0001 grid and accept it only if it sits on that grid. A decimal string is accepted too.
Price tick_field(const dom::object& o) {
  dom::element e;
  if (o.at_key("orderPriceMinTickSize").get(e) != simdjson::SUCCESS) return 0;
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) {
    std::int64_t v = 0;
    const bool ok = parse_decimal(s, kPriceDecimals, v) == DecimalError::kOk;
    return ok && v > 0 && v <= kPriceOne ? static_cast<Price>(v) : 0;
  }
  double d = 0;
  if (e.get(d) != simdjson::SUCCESS || !(d > 0) || d > 1) return 0;
  const double scaled = d * kPriceScale;
  const double rounded = std::round(scaled);
  return std::fabs(scaled - rounded) < 1e-6 ? static_cast<Price>(rounded) : 0;
}

// A list field: Gamma's JSON-encoded string, or (as the WS new_market event has it) a real
// array. nullopt when absent or not a list of strings.
std::optional<std::vector<std::string>> list_field(const dom::object& o, std::string_view key,
                                                   dom::parser& inner) {
  dom::element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  std::string_view encoded;
  if (e.get(encoded) == simdjson::SUCCESS) {
    // A second parser: `e` and the rest of the outer document must stay valid.
    const simdjson::padded_string padded(encoded);
    if (inner.parse(padded).get(e) != simdjson::SUCCESS) return std::nullopt;
  }
  dom::array arr;
  if (e.get(arr) != simdjson::SUCCESS) return std::nullopt;
  std::vector<std::string> items;
  for (dom::element item : arr) {
    std::string_view s;
    if (item.get(s) != simdjson::SUCCESS) return std::nullopt;
    items.emplace_back(s);
  }
  return items;
}

std::string series_slug_of_event(const dom::object& ev) {
  dom::array series;
  if (ev.at_key("series").get(series) == simdjson::SUCCESS && series.size() > 0) {
    dom::object first;
    if (series.at(0).get(first) == simdjson::SUCCESS) {
      std::string slug = string_field(first, "slug");
      if (!slug.empty()) return slug;
    }
  }
  return string_field(ev, "seriesSlug");
}

std::string series_slug_of_market(const dom::object& m) {
  std::string slug = string_field(m, "seriesSlug");
  if (!slug.empty()) return slug;
  dom::array events;
  dom::object first;
  if (m.at_key("events").get(events) == simdjson::SUCCESS && events.size() > 0 &&
      events.at(0).get(first) == simdjson::SUCCESS) {
    slug = string_field(first, "seriesSlug");
    if (slug.empty()) slug = series_slug_of_event(first);
  }
  return slug;
}

// What to call a market in a skip line: its slug, else its id, else its condition id.
std::string name_of(const dom::object& o, std::size_t element) {
  for (const char* key : {"slug", "id", "conditionId"}) {
    std::string v = string_field(o, key);
    if (!v.empty()) return v;
  }
  return "(element " + std::to_string(element) + ")";
}

// A hydrating market's ids: "" , "[]" (or []) , or a list with an empty entry.
bool empty_ids(const dom::element& field, const std::optional<std::vector<std::string>>& ids) {
  std::string_view text;
  if (field.get(text) == simdjson::SUCCESS && text.empty()) return true;
  if (!ids) return false;
  return ids->empty() || std::any_of(ids->begin(), ids->end(),
                                     [](const std::string& id) { return id.empty(); });
}

class Discoverer {
 public:
  explicit Discoverer(GammaPage& page) : page_(page) {}

  // One listing element: an event (its markets) or a market.
  void element(const dom::element& e) {
    const std::size_t index = page_.entries++;
    dom::object o;
    if (e.get(o) != simdjson::SUCCESS) {
      page_.skipped.push_back({"(element " + std::to_string(index) + ")",
                               SkipReason::kNotAnObject});
      return;
    }
    dom::array markets;
    if (o.at_key("markets").get(markets) == simdjson::SUCCESS) {
      const std::string series = series_slug_of_event(o);
      std::size_t k = 0;
      for (dom::element m : markets) {
        dom::object mo;
        if (m.get(mo) == simdjson::SUCCESS) {
          market(mo, series, k);
        } else {
          page_.skipped.push_back({name_of(o, index) + " market " + std::to_string(k),
                                   SkipReason::kNotAnObject});
        }
        ++k;
      }
    } else {
      market(o, series_slug_of_market(o), index);
    }
  }

 private:
  void skip(const dom::object& o, std::size_t index, SkipReason why) {
    page_.skipped.push_back({name_of(o, index), why});
  }

  void market(const dom::object& o, std::string series_slug, std::size_t index) {
    // Protocol V2: the version says which field holds the asset ids, even when both are there.
    const std::string version = string_field(o, "version");
    const char* field = version == "v2" ? "positionIds" : version == "v1" ? "clobTokenIds" : nullptr;
    if (field == nullptr) {
      return skip(o, index, version.empty() ? SkipReason::kNoVersion : SkipReason::kUnknownVersion);
    }
    dom::element raw;
    if (o.at_key(field).get(raw) != simdjson::SUCCESS || raw.is_null()) {
      return skip(o, index, SkipReason::kMissingIds);
    }
    auto tokens = list_field(o, field, inner_);
    // Still in CLOB hydration: Gamma lists the market before its ids exist. Not an error.
    if (empty_ids(raw, tokens)) return skip(o, index, SkipReason::kHydrating);
    auto outcomes = list_field(o, "outcomes", inner_);
    if (!tokens || !outcomes) return skip(o, index, SkipReason::kBadIds);
    if (outcomes->empty() || tokens->size() != outcomes->size()) {
      return skip(o, index, SkipReason::kUnmatchedOutcomes);
    }
    if (!std::all_of(tokens->begin(), tokens->end(), [](const std::string& t) {
          return all_digits(t);
        })) {
      return skip(o, index, SkipReason::kNonDecimalId);
    }
    DiscoveredMarket d;
    d.market_id = string_field(o, "id");
    d.slug = string_field(o, "slug");
    d.question = string_field(o, "question");
    d.condition_id = string_field(o, "conditionId");
    d.series_slug = std::move(series_slug);
    d.outcomes = std::move(*outcomes);
    d.token_ids = std::move(*tokens);
    for (std::size_t i = 0; i < d.outcomes.size(); ++i) {
      if (d.up_token_id.empty() && iequals(d.outcomes[i], "up")) d.up_token_id = d.token_ids[i];
      if (d.down_token_id.empty() && iequals(d.outcomes[i], "down")) {
        d.down_token_id = d.token_ids[i];
      }
    }
    // eventStartTime is the window start of a recurring market; startDate is when the market
    // was created (a day earlier for the 5-minute BTC markets).
    d.start = time_field(o, "eventStartTime");
    if (d.start == 0) d.start = time_field(o, "startDate");
    d.end = time_field(o, "endDate");
    d.active = bool_field(o, "active");
    d.closed = bool_field(o, "closed");
    d.accepting_orders = bool_field(o, "acceptingOrders");
    d.tick = tick_field(o);
    page_.markets.push_back(std::move(d));
  }

  GammaPage& page_;
  dom::parser inner_;  // for the JSON-encoded lists
};

// A keyset page ({"markets":[...]} / {"events":[...]}, "next_cursor" until the last page), as
// opposed to a single event (which has "markets" too) or a single market (which may carry an
// "events" stub): those always have an id, a page never does.
bool keyset_listing(const dom::object& o, dom::array& list) {
  if (o.at_key("id").error() == simdjson::SUCCESS) return false;
  return o.at_key("markets").get(list) == simdjson::SUCCESS ||
         o.at_key("events").get(list) == simdjson::SUCCESS;
}

}  // namespace

const char* to_string(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::kNotAnObject: return "not_an_object";
    case SkipReason::kHydrating: return "hydrating";
    case SkipReason::kNoVersion: return "no_version";
    case SkipReason::kUnknownVersion: return "unknown_version";
    case SkipReason::kMissingIds: return "missing_ids";
    case SkipReason::kBadIds: return "bad_ids";
    case SkipReason::kUnmatchedOutcomes: return "unmatched_outcomes";
    case SkipReason::kNonDecimalId: return "non_decimal_id";
    case SkipReason::kCount: break;
  }
  return "?";
}

bool parse_gamma_page(std::string_view body, GammaPage& page, std::string& error) {
  page = GammaPage{};
  dom::parser parser;
  const simdjson::padded_string padded(body);
  dom::element root;
  if (const auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    error = std::string("not JSON: ") + simdjson::error_message(err);
    return false;
  }
  Discoverer discoverer(page);
  dom::array arr;
  if (root.get(arr) == simdjson::SUCCESS) {
    for (dom::element e : arr) discoverer.element(e);
    return true;
  }
  dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    error = "not a Gamma market/event object or array";
    return false;
  }
  // Gamma's error replies ({"type":"validation error","error":"..."}) are objects too.
  if (dom::element msg; obj.at_key("error").get(msg) == simdjson::SUCCESS &&
                        obj.at_key("conditionId").error() != simdjson::SUCCESS) {
    std::string_view text;
    error = "gamma error: " +
            std::string(msg.get(text) == simdjson::SUCCESS ? text : std::string_view("?"));
    return false;
  }
  if (dom::array list; keyset_listing(obj, list)) {
    for (dom::element e : list) discoverer.element(e);
    if (std::string_view cursor; obj.at_key("next_cursor").get(cursor) == simdjson::SUCCESS &&
                                 !cursor.empty()) {
      page.next_cursor = std::string(cursor);
    }
    return true;
  }
  discoverer.element(root);
  return true;
}

bool parse_gamma(std::string_view body, std::vector<DiscoveredMarket>& out, std::size_t& skipped,
                 std::string& error) {
  GammaPage page;
  const bool ok = parse_gamma_page(body, page, error);
  out = std::move(page.markets);
  skipped = page.skipped.size();
  return ok;
}

}  // namespace booktape::polymarket
