#include "codecs/polymarket_rest.hpp"

#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "codecs/decimal.hpp"
#include "codecs/envelope.hpp"
#include "codecs/sha256.hpp"

namespace booktape::polymarket {

namespace dom = simdjson::dom;

namespace {

void append_levels(std::string& out, std::vector<Level> levels, Side side) {
  // Worst first, best last: the order real /book captures and WS snapshots use.
  std::stable_sort(levels.begin(), levels.end(), [side](const Level& a, const Level& b) {
    return side == Side::kBid ? a.price < b.price : a.price > b.price;
  });
  out += '[';
  char buf[64];
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i) out += ',';
    out += "{\"price\":\"";
    out.append(buf, format_fixed(buf, levels[i].price, kPriceDecimals));
    out += "\",\"size\":\"";
    out.append(buf, format_fixed(buf, levels[i].size, kSizeDecimals));
    out += "\"}";
  }
  out += ']';
}

void append_summary(std::string& out, const BookSummary& b, std::string_view hash) {
  out += "{\"market\":";
  append_json_string(out, b.market);
  out += ",\"asset_id\":";
  append_json_string(out, b.asset_id);
  out += ",\"timestamp\":\"" + std::to_string(b.timestamp_ms) + '"';
  out += ",\"hash\":";
  append_json_string(out, hash);
  out += ",\"bids\":";
  append_levels(out, b.bids, Side::kBid);
  out += ",\"asks\":";
  append_levels(out, b.asks, Side::kAsk);
  out += ",\"min_order_size\":";
  append_json_string(out, b.min_order_size);
  out += ",\"tick_size\":\"" + format_price(b.tick_size) + '"';
  out += b.neg_risk ? ",\"neg_risk\":true" : ",\"neg_risk\":false";
  out += ",\"last_trade_price\":\"";
  if (b.last_trade_price != kNoPrice) out += format_price(b.last_trade_price);
  out += "\"}";
}

// A string field, or "" when absent or not a string.
std::string string_field(const dom::object& o, std::string_view key) {
  std::string_view v;
  if (o.at_key(key).get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The venue sends ms as a decimal string; one docs example shows an ISO date instead, which
// carries no exact ms we need here, so it reads as 0 (absent).
std::int64_t timestamp_field(const dom::object& o) {
  dom::element e;
  if (o.at_key("timestamp").get(e) != simdjson::SUCCESS) return 0;
  std::int64_t ms = 0;
  std::string_view text;
  if (e.get(text) == simdjson::SUCCESS) {
    if (!all_digits(text)) return 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), ms);
    return r.ec == std::errc{} ? ms : 0;
  }
  if (e.get(ms) == simdjson::SUCCESS && ms > 0) return ms;
  return 0;
}

void fail(ParsedBook& b, std::string why) {
  if (b.ok) {  // keep the first problem: later ones are often its consequences
    b.ok = false;
    b.error = std::move(why);
  }
}

// A field the comparison does not use: noted, the book stays usable.
void warn(ParsedBook& b, std::string why) {
  if (b.warning.empty()) b.warning = std::move(why);
}

void parse_side(const dom::object& o, std::string_view key, std::vector<Level>& levels,
                ParsedBook& b) {
  dom::element side;
  if (o.at_key(key).get(side) != simdjson::SUCCESS || side.is_null()) return;  // an empty side
  dom::array arr;
  if (side.get(arr) != simdjson::SUCCESS) return fail(b, std::string(key) + " is not an array");
  std::size_t i = 0;
  for (dom::element e : arr) {
    const std::string where = std::string(key) + '[' + std::to_string(i++) + "]: ";
    dom::object lv;
    std::string_view price_text, size_text;
    if (e.get(lv) != simdjson::SUCCESS) return fail(b, where + "level is not an object");
    if (lv.at_key("price").get(price_text) != simdjson::SUCCESS ||
        lv.at_key("size").get(size_text) != simdjson::SUCCESS) {
      return fail(b, where + "price and size must be strings");
    }
    std::int64_t price = 0, size = 0;
    if (const DecimalError err = parse_decimal(price_text, kPriceDecimals, price);
        err != DecimalError::kOk) {
      return fail(b, where + "price: " + to_string(err));
    }
    if (price > kPriceOne) return fail(b, where + "price above 1");
    if (const DecimalError err = parse_decimal(size_text, kSizeDecimals, size);
        err != DecimalError::kOk) {
      return fail(b, where + "size: " + to_string(err));
    }
    if (size > kMaxLevelSize) return fail(b, where + "size above the level bound");
    levels.push_back(Level{size, static_cast<Price>(price)});
  }
}

ParsedBook parse_one(const dom::element& e) {
  ParsedBook b;
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) {
    fail(b, "book is not an object");
    return b;
  }
  b.market = string_field(o, "market");
  b.asset_id = string_field(o, "asset_id");
  b.hash = string_field(o, "hash");
  b.timestamp_ms = timestamp_field(o);
  // An unknown token gets {"error": "No orderbook exists for the requested token id"}.
  if (dom::element err; o.at_key("error").get(err) == simdjson::SUCCESS) {
    std::string_view msg;
    fail(b, err.get(msg) == simdjson::SUCCESS ? "venue error: " + std::string(msg)
                                              : std::string("venue error"));
  }
  if (b.asset_id.empty()) fail(b, "no asset_id");
  parse_side(o, "bids", b.bids, b);
  parse_side(o, "asks", b.asks, b);
  if (dom::element tick; o.at_key("tick_size").get(tick) == simdjson::SUCCESS) {
    std::string_view text;
    std::int64_t v = 0;
    if (tick.get(text) == simdjson::SUCCESS &&
        parse_decimal(text, kPriceDecimals, v) == DecimalError::kOk && v > 0 && v <= kPriceOne) {
      b.tick_size = static_cast<Price>(v);
    } else {
      warn(b, "tick_size is not a decimal string in (0, 1]");
    }
  }
  b.min_order_size = string_field(o, "min_order_size");
  if (bool neg = false; o.at_key("neg_risk").get(neg) == simdjson::SUCCESS) b.neg_risk = neg;
  if (dom::element last; o.at_key("last_trade_price").get(last) == simdjson::SUCCESS) {
    std::string_view text;
    std::int64_t v = 0;
    if (last.is_null()) {
    } else if (last.get(text) != simdjson::SUCCESS) {
      warn(b, "last_trade_price is not a string");
    } else if (!text.empty()) {  // "" when the token never traded
      if (parse_decimal(text, kPriceDecimals, v) == DecimalError::kOk && v <= kPriceOne) {
        b.last_trade_price = static_cast<Price>(v);
      } else {
        warn(b, "last_trade_price is not a decimal string in [0, 1]");
      }
    }
  }
  return b;
}

}  // namespace

std::string render_book_summary(const BookSummary& b) {
  std::string out;
  append_summary(out, b, b.hash);
  return out;
}

std::string render_books_response(std::span<const BookSummary> books) {
  std::string out = "[";
  for (std::size_t i = 0; i < books.size(); ++i) {
    if (i) out += ',';
    append_summary(out, books[i], books[i].hash);
  }
  out += ']';
  return out;
}

std::string book_hash(const BookSummary& b) {
  std::string json;
  append_summary(json, b, "");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string hex;
  if (EVP_Digest(json.data(), json.size(), digest, &len, EVP_sha1(), nullptr) != 1) return hex;
  hex.resize(2 * std::size_t{len});
  to_hex(digest, len, hex.data());
  return hex;
}

bool parse_books_response(std::string_view body, std::vector<ParsedBook>& out, std::string& error) {
  out.clear();
  dom::parser parser;
  const simdjson::padded_string padded(body);
  dom::element root;
  if (const auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    error = std::string("not JSON: ") + simdjson::error_message(err);
    return false;
  }
  if (root.is_object()) {
    out.push_back(parse_one(root));
    return true;
  }
  dom::array arr;
  if (root.get(arr) != simdjson::SUCCESS) {
    error = "not a book object or array";
    return false;
  }
  for (dom::element e : arr) out.push_back(parse_one(e));
  return true;
}

}  // namespace booktape::polymarket
