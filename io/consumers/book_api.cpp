#include "io/consumers/book_api.hpp"

#include <algorithm>
#include <charconv>

#include "codecs/book_json.hpp"
#include "codecs/envelope.hpp"
#include "core/book_keeper.hpp"
#include "core/book_queries.hpp"
#include "io/consumers/consumer_json.hpp"

namespace booktape {

namespace {

// "received_at_utc" and "age_ms", or nulls for a book that never had an update.
void append_age(std::string& out, std::int64_t received_ns, std::int64_t now_ns) {
  if (received_ns <= 0) {
    out += ",\"received_at_utc\":null,\"age_ms\":null";
    return;
  }
  out += ",\"received_at_utc\":";
  append_quoted_utc(out, received_ns);
  out += ",\"age_ms\":";
  append_json_int(out, (now_ns - received_ns) / 1'000'000);
}

void append_depth(std::string& out, const Depth& d) {
  out += "{\"size\":";
  append_quoted_fixed(out, d.size, kSizeDecimals);
  out += ",\"notional\":";
  append_quoted_fixed(out, d.notional, kNotionalDecimals);
  out += ",\"levels\":";
  append_json_int(out, d.levels);
  out += '}';
}

void append_fill(std::string& out, const Fill& f) {
  out += "{\"filled\":";
  append_quoted_fixed(out, f.filled, kSizeDecimals);
  out += ",\"cost\":";
  append_quoted_fixed(out, f.cost, kNotionalDecimals);
  out += ",\"average_price\":";
  if (f.filled > 0)
    append_quoted_fixed(out, f.average_price_e8(), 8);
  else
    out += "null";
  out += ",\"worst_price\":";
  if (f.levels > 0)
    append_quoted_fixed(out, f.worst_price, kPriceDecimals);
  else
    out += "null";
  out += ",\"levels\":";
  append_json_int(out, f.levels);
  out += f.complete ? ",\"complete\":true}" : ",\"complete\":false}";
}

constexpr Price kCent = 100;                              // 0.01 in price units
constexpr Notional kUsdc = Notional{1} * 10'000'000'000;  // 1 USDC in notional units (1e-10)

}  // namespace

std::string book_detail_json(const BookSnapshot& s, std::int64_t now_ns) {
  static const L2Book kEmpty;
  const L2Book& b = s.book != nullptr ? *s.book : kEmpty;
  std::string out = "{\"asset_id\":";
  append_json_string(out, s.asset_id);
  out += ",\"market\":";
  append_json_string(out, s.market);
  out += ",\"state\":";
  append_json_string(out, s.state);
  append_age(out, s.received_ns, now_ns);
  out += ",\"bids\":";
  append_side_json(out, b.bids());
  out += ",\"asks\":";
  append_side_json(out, b.asks());
  append_book_analytics(out, b, s.last_trade);
  const auto shown_bids = static_cast<std::int64_t>(b.bids().depth());
  const auto shown_asks = static_cast<std::int64_t>(b.asks().depth());
  out += ",\"depth\":{\"bids\":";
  append_json_int(out, std::max<std::int64_t>(shown_bids, s.whole_bids));
  out += ",\"asks\":";
  append_json_int(out, std::max<std::int64_t>(shown_asks, s.whole_asks));
  out += "},\"levels_shown\":{\"bids\":";
  append_json_int(out, shown_bids);
  out += ",\"asks\":";
  append_json_int(out, shown_asks);
  out += "},\"depth_within\":{";
  bool first = true;
  for (const Price cents : {1, 5, 10}) {
    out += first ? "" : ",";
    first = false;
    append_quoted_fixed(out, cents * kCent, kPriceDecimals);
    out += ":{\"bids\":";
    append_depth(out, depth_band(b.bids(), cents * kCent));
    out += ",\"asks\":";
    append_depth(out, depth_band(b.asks(), cents * kCent));
    out += '}';
  }
  out += "},\"cost\":{";
  for (const Action a : {Action::kBuy, Action::kSell}) {
    out += a == Action::kBuy ? "\"buy\":{" : ",\"sell\":{";
    for (const int usdc : {100, 1000}) {
      out += usdc == 100 ? "\"100\":" : ",\"1000\":";
      append_fill(out, fill_notional(b, a, usdc * kUsdc));
    }
    out += '}';
  }
  out += "}}";
  return out;
}

std::string odds_json(std::string_view slug, std::string_view condition_id,
                      std::span<const OutcomeSnapshot> outcomes, std::int64_t now_ns) {
  std::string out = "{\"market\":";
  append_json_string(out, slug);
  out += ",\"condition_id\":";
  append_json_string(out, condition_id);
  out += ",\"outcomes\":[";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const OutcomeSnapshot& o = outcomes[i];
    out += i ? ",{\"outcome\":" : "{\"outcome\":";
    append_json_string(out, o.outcome);
    out += ",\"asset_id\":";
    append_json_string(out, o.book.asset_id);
    if (o.book.book == nullptr) {
      out +=
          ",\"displayed_price\":null,\"displayed_source\":\"none\",\"best_bid\":null,"
          "\"best_ask\":null";
    } else {
      const L2Book& b = *o.book.book;
      const DisplayedPrice d = displayed_price(b, o.book.last_trade);
      out += ",\"displayed_price\":";
      if (d.source == DisplaySource::kNone)
        out += "null";
      else
        append_quoted_fixed(out, d.value_x2 * 5, kPriceDecimals + 1);
      out += ",\"displayed_source\":\"";
      out += to_string(d.source);
      out += "\",\"best_bid\":";
      append_price_or_null(out, BookKeeper::top_of(b).bid);
      out += ",\"best_ask\":";
      append_price_or_null(out, BookKeeper::top_of(b).ask);
    }
    out += ",\"state\":";
    append_json_string(out, o.book.state);
    append_age(out, o.book.received_ns, now_ns);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace booktape
