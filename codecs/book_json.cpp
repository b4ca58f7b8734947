#include "codecs/book_json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "codecs/envelope.hpp"
#include "core/book_queries.hpp"

namespace booktape {

void append_side_json(std::string& out, const BookSide& side) {
  out += '[';
  char buf[64];
  for (std::size_t i = 0; i < side.depth(); ++i) {
    const Level& l = side.level(i);
    if (i) out += ',';
    out += "[\"";
    out.append(buf, format_fixed(buf, l.price, kPriceDecimals));
    out += "\",\"";
    out.append(buf, format_fixed(buf, l.size, kSizeDecimals));
    out += "\"]";
  }
  out += ']';
}

namespace {

void append_utc_or_null(std::string& out, std::int64_t ns) {
  if (ns == 0) {
    out += "null";
  } else {
    out += '"' + format_utc(ns) + '"';
  }
}

}  // namespace

void append_book_json(std::string& out, std::string_view asset_id, const L2Book& book,
                      BookState state, std::int64_t state_since_ns) {
  out += "{\"asset_id\":";
  append_json_string(out, asset_id);
  out += ",\"state\":\"";
  out += to_string(state);
  out += "\",\"state_since\":";
  append_utc_or_null(out, state_since_ns);
  out += ",\"bids\":";
  append_side_json(out, book.bids());
  out += ",\"asks\":";
  append_side_json(out, book.asks());
  out += '}';
}

void append_book_json(std::string& out, const BookKeeper& books, TokenIndex t) {
  const TokenBook& tb = books.book(t);
  append_book_json(out, books.token_id(t), tb.book, tb.state, tb.state_since_ns);
}

std::string books_json(const BookKeeper& books) {
  std::vector<TokenIndex> order(books.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<TokenIndex>(i);
  std::sort(order.begin(), order.end(), [&](TokenIndex a, TokenIndex b) {
    return books.token_id(a) < books.token_id(b);
  });
  std::string out = "[";
  for (std::size_t i = 0; i < order.size(); ++i) {
    out += i ? ",\n" : "\n";
    append_book_json(out, books, order[i]);
  }
  out += order.empty() ? "]\n" : "\n]\n";
  return out;
}

void append_quoted_fixed(std::string& out, Int128 value, int decimals) {
  char buf[64];
  out += '"';
  out.append(buf, format_fixed(buf, value, decimals));
  out += '"';
}

void append_price_or_null(std::string& out, Price p) {
  if (p == kNoPrice) {
    out += "null";
  } else {
    append_quoted_fixed(out, p, kPriceDecimals);
  }
}

void append_json_int(std::string& out, std::int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void append_book_analytics(std::string& out, const L2Book& b, std::optional<Price> last) {
  const TopOfBook top = BookKeeper::top_of(b);
  out += ",\"best_bid\":";
  append_price_or_null(out, top.bid);
  out += ",\"best_ask\":";
  append_price_or_null(out, top.ask);
  if (const auto m2 = mid_x2(b)) {
    out += ",\"mid\":";
    append_quoted_fixed(out, *m2 * 5, kPriceDecimals + 1);
  }
  if (const auto sp = spread(b)) {
    out += ",\"spread\":";
    append_quoted_fixed(out, sp->absolute, kPriceDecimals);
    out += ",\"spread_bps\":";
    append_quoted_fixed(out, sp->bps_x100, 2);
  }
  const DisplayedPrice d = displayed_price(b, last);
  if (d.source != DisplaySource::kNone) {
    out += ",\"displayed_price\":";
    append_quoted_fixed(out, d.value_x2 * 5, kPriceDecimals + 1);
    out += ",\"displayed_source\":\"";
    out += to_string(d.source);
    out += '"';
  }
}

std::string book_view_json(const BookKeeper& books, TokenIndex t) {
  const TokenBook& tb = books.book(t);
  const L2Book& b = tb.book;
  std::string out = "{\"asset_id\":";
  append_json_string(out, books.token_id(t));
  out += std::string(",\"state\":\"") + to_string(tb.state) + "\",\"state_since\":";
  append_utc_or_null(out, tb.state_since_ns);
  out += std::string(",\"stale_reason\":\"") + to_string(tb.stale_reason) +
         "\",\"in_sync\":" + (tb.in_sync ? "true" : "false") +
         ",\"crossed\":" + (tb.crossed ? "true" : "false");
  if (tb.last_update_ns != 0) out += ",\"last_update_utc\":\"" + format_utc(tb.last_update_ns) + '"';
  const std::optional<Price> last =
      tb.last_trade_price == kNoPrice ? std::nullopt : std::optional<Price>(tb.last_trade_price);
  append_book_analytics(out, b, last);
  out += ",\"depth_levels\":{\"bids\":" + std::to_string(b.bids().depth()) +
         ",\"asks\":" + std::to_string(b.asks().depth()) + '}';
  out += ",\"book\":";
  append_book_json(out, books, t);
  out += '}';
  return out;
}

std::map<std::string, std::string> books_by_asset(std::string_view json) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser p;
  simdjson::dom::array list;
  if (p.parse(simdjson::padded_string(json)).get_array().get(list) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element b : list) {
    std::string_view id;
    simdjson::dom::element bids, asks;
    if (b["asset_id"].get_string().get(id) != simdjson::SUCCESS ||
        b["bids"].get(bids) != simdjson::SUCCESS || b["asks"].get(asks) != simdjson::SUCCESS) {
      return {};
    }
    std::string levels = "{\"asset_id\":";
    append_json_string(levels, id);
    levels += ",\"bids\":" + simdjson::minify(bids) + ",\"asks\":" + simdjson::minify(asks) + '}';
    out[std::string(id)] = std::move(levels);
  }
  return out;
}

}  // namespace booktape
