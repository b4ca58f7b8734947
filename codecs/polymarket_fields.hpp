#pragma once
// Internal to codecs/: what the two Polymarket decoders share, so that they cannot disagree on
// the meaning of a field. The general decoder (polymarket_decoder.cpp, simdjson on-demand) and
// the strict fast path (polymarket_fast_path.cpp) both find each field's raw text, then turn it
// into values with these functions: the keys they act on, the exact price/size/side/time
// parsers, and how an entry or a level is judged from its text.
//
// Key matching reads up to 24 bytes from where a key starts: callers guarantee that every frame
// has Decoder::kPadding (64) readable bytes after its end.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "codecs/decimal.hpp"
#include "codecs/polymarket_events.hpp"

namespace booktape::polymarket::fields {

// Keys we act on. Matching reads the raw key bytes plus the closing quote straight from the
// padded input (keys with escapes never match, which only makes the field unknown).
enum class Key : std::uint8_t {
  kOther,
  kEventType,
  kAssetId,
  kMarket,
  kHash,
  kTimestamp,
  kBids,
  kAsks,
  kPriceChanges,
  kChanges,
  kPrice,
  kSize,
  kSide,
  kBestBid,
  kBestAsk,
  kSpread,
  kFeeRateBps,
  kNewTickSize,
  kOldTickSize,
  kTransactionHash,
  kId,
  kSlug,
  kQuestion,
  kAssetsIds,
  kClobTokenIds,
  kOutcomes,
  kWinningAssetId,
  kWinningOutcome,
};

// A key literal including its closing quote, e.g. "price\"", as up to three 64-bit words, so a
// key compares with one to three loads instead of a memcmp call.
template <std::size_t N>
struct KeyLit {
  static_assert(N - 1 <= 24, "keys longer than 23 chars are not matched");
  std::uint64_t word[3] = {0, 0, 0};
  std::uint64_t mask[3] = {0, 0, 0};
  consteval KeyLit(const char (&lit)[N]) {  // NOLINT: implicit on purpose (key_is<"x\"">)
    for (std::size_t i = 0; i < N - 1; ++i) {
      word[i / 8] |= std::uint64_t{static_cast<unsigned char>(lit[i])} << (8 * (i % 8));
      mask[i / 8] |= std::uint64_t{0xFF} << (8 * (i % 8));
    }
  }
};

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Reads up to 24 bytes from `raw`: safe because every frame has kPadding (64) readable bytes
// after its end, and a key starts inside the frame.
template <KeyLit L>
inline bool key_is(const char* raw) noexcept {
  bool eq = (load64(raw) & L.mask[0]) == L.word[0];
  if constexpr (L.mask[1] != 0) eq &= (load64(raw + 8) & L.mask[1]) == L.word[1];
  if constexpr (L.mask[2] != 0) eq &= (load64(raw + 16) & L.mask[2]) == L.word[2];
  return eq;
}

// The key whose bytes (closing quote included) start at `k`; kOther for any other.
inline Key key_of(const char* k) noexcept {
  switch (k[0]) {
    case 'a':
      if (key_is<"asset_id\"">(k)) return Key::kAssetId;
      if (key_is<"asks\"">(k)) return Key::kAsks;
      if (key_is<"assets_ids\"">(k)) return Key::kAssetsIds;
      break;
    case 'b':
      if (key_is<"bids\"">(k)) return Key::kBids;
      if (key_is<"best_bid\"">(k)) return Key::kBestBid;
      if (key_is<"best_ask\"">(k)) return Key::kBestAsk;
      break;
    case 'c':
      if (key_is<"changes\"">(k)) return Key::kChanges;
      if (key_is<"clob_token_ids\"">(k)) return Key::kClobTokenIds;
      break;
    case 'e':
      if (key_is<"event_type\"">(k)) return Key::kEventType;
      break;
    case 'f':
      if (key_is<"fee_rate_bps\"">(k)) return Key::kFeeRateBps;
      break;
    case 'h':
      if (key_is<"hash\"">(k)) return Key::kHash;
      break;
    case 'i':
      if (key_is<"id\"">(k)) return Key::kId;
      break;
    case 'm':
      if (key_is<"market\"">(k)) return Key::kMarket;
      break;
    case 'n':
      if (key_is<"new_tick_size\"">(k)) return Key::kNewTickSize;
      break;
    case 'o':
      if (key_is<"old_tick_size\"">(k)) return Key::kOldTickSize;
      if (key_is<"outcomes\"">(k)) return Key::kOutcomes;
      break;
    case 'p':
      if (key_is<"price\"">(k)) return Key::kPrice;
      if (key_is<"price_changes\"">(k)) return Key::kPriceChanges;
      break;
    case 'q':
      if (key_is<"question\"">(k)) return Key::kQuestion;
      break;
    case 's':
      if (key_is<"size\"">(k)) return Key::kSize;
      if (key_is<"side\"">(k)) return Key::kSide;
      if (key_is<"slug\"">(k)) return Key::kSlug;
      if (key_is<"spread\"">(k)) return Key::kSpread;
      break;
    case 't':
      if (key_is<"timestamp\"">(k)) return Key::kTimestamp;
      if (key_is<"transaction_hash\"">(k)) return Key::kTransactionHash;
      break;
    case 'w':
      if (key_is<"winning_asset_id\"">(k)) return Key::kWinningAssetId;
      if (key_is<"winning_outcome\"">(k)) return Key::kWinningOutcome;
      break;
    default:
      break;
  }
  return Key::kOther;
}

// Whether `k` is the key `want` of a price_changes entry (one compare).
inline bool entry_key_is(Key want, const char* k) noexcept {
  switch (want) {
    case Key::kAssetId: return key_is<"asset_id\"">(k);
    case Key::kPrice: return key_is<"price\"">(k);
    case Key::kSize: return key_is<"size\"">(k);
    case Key::kSide: return key_is<"side\"">(k);
    case Key::kHash: return key_is<"hash\"">(k);
    case Key::kBestBid: return key_is<"best_bid\"">(k);
    case Key::kBestAsk: return key_is<"best_ask\"">(k);
    default: return false;
  }
}

// The order of a price_changes entry's keys, learned: the key at position `pos` is checked
// against the one seen there last (one compare per field while the venue keeps its order);
// anything else falls back to key_of() and is remembered for the next entry. The venue's
// documents and the captured fixtures disagree on the order (size/side), so it is not fixed.
// Only speed depends on it: the key found is the same either way.
constexpr std::size_t kEntryKeys = 8;
using EntryOrder = std::array<Key, kEntryKeys>;
constexpr EntryOrder kDocumentedEntryOrder = {Key::kAssetId, Key::kPrice,   Key::kSize,
                                              Key::kSide,    Key::kHash,    Key::kBestBid,
                                              Key::kBestAsk, Key::kOther};

inline Key entry_key(const char* k, std::size_t pos, EntryOrder& order) noexcept {
  if (pos >= kEntryKeys) return key_of(k);
  if (entry_key_is(order[pos], k)) return order[pos];
  const Key got = key_of(k);
  order[pos] = got;
  return got;
}

inline unsigned digit(char c) noexcept { return static_cast<unsigned>(c - '0'); }

// The `n` digits at `p` (1 <= n <= width) followed by width - n zeros, read as one number of
// `width` digits ("5" -> 500000 for width 6); -1 if one of them is not a digit. SWAR: one 8-byte
// load and a few multiplies instead of a loop. Reads 8 bytes from `p`: the decoders' input
// always has Decoder::kPadding (64) readable bytes after the frame.
template <int width>
inline std::int64_t padded_digits(const char* p, std::size_t n) noexcept {
  static_assert(width >= 1 && width <= 7);
  constexpr std::uint64_t kZeros = 0x3030303030303030;  // "00000000"
  const std::uint64_t keep = ~std::uint64_t{0} >> (64 - 8 * n);
  std::uint64_t w = (load64(p) & keep) | (kZeros & ~keep);  // the digits, then '0's
  w = (w << (8 * (8 - width))) | (kZeros >> (8 * width));    // 8 - width leading '0's
  // Every byte '0'..'9': high nibble 3, and adding 6 does not carry into it.
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0;
  if (((w & kHigh) | (((w + 0x0606060606060606) & kHigh) >> 4)) != 0x3333333333333333) return -1;
  // Pairs, then quads, then all eight (little-endian: the first digit is the lowest byte).
  w = ((w & 0x0F0F0F0F0F0F0F0F) * 2561) >> 8;
  w = ((w & 0x00FF00FF00FF00FF) * 6553601) >> 16;
  return static_cast<std::int64_t>(((w & 0x0000FFFF0000FFFF) * 42949672960001) >> 32);
}

inline bool parse_price(std::string_view s, Price& out) noexcept {
  // The forms the venue sends almost always: "0.d", "0.dd", "0.ddd", "0.dddd". Anything else
  // (".48", "1", "0.480", ...) takes the general exact parser.
  const std::size_t n = s.size();
  if (n >= 3 && n <= 6 && s[0] == '0' && s[1] == '.') {
    unsigned v = 0;
    std::size_t i = 2;
    for (; i < n; ++i) {
      const unsigned d = digit(s[i]);
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (i == n) {
      static constexpr unsigned kScale[] = {1'000, 100, 10, 1};
      out = static_cast<Price>(v * kScale[n - 3]);
      return true;
    }
  }
  std::int64_t v = 0;
  if (parse_decimal(s, kPriceDecimals, v) != DecimalError::kOk || v > kPriceOne) return false;
  out = static_cast<Price>(v);
  return true;
}

// Reads up to 8 bytes past the start of `s` (padded_digits): only for text inside a decoder's
// padded input.
inline bool parse_size(std::string_view s, Size& out) noexcept {
  // The forms the venue sends: up to 9 whole digits, then optionally '.' and 1 to 6 decimals
  // ("150", "219.217767"). At most 15 digits: no overflow, and the value parse_decimal gives.
  // Anything else (".5", "5.", "1.0000000", 10+ whole digits, ...) takes the general parser.
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* const whole_end = p + (s.size() < 9 ? s.size() : 9);
  std::int64_t whole = 0;
  for (; p != whole_end && digit(*p) <= 9; ++p) whole = whole * 10 + digit(*p);
  if (p != s.data()) {
    std::int64_t frac = 0;
    if (p != end && *p == '.') {
      const auto n = static_cast<std::size_t>(end - p - 1);
      frac = n >= 1 && n <= kSizeDecimals ? padded_digits<kSizeDecimals>(p + 1, n) : -1;
      p = end;
    }
    if (p == end && frac >= 0) {
      const std::int64_t v = whole * kSizeScale + frac;
      if (v > kMaxLevelSize) return false;
      out = v;
      return true;
    }
  }
  std::int64_t v = 0;
  if (parse_decimal(s, kSizeDecimals, v) != DecimalError::kOk || v > kMaxLevelSize) return false;
  out = v;
  return true;
}

// Optional top-of-book price: absent or "" -> kNoPrice; otherwise it must be a price.
inline bool parse_top(bool present, std::string_view s, Price& out) noexcept {
  if (!present || s.empty()) {
    out = kNoPrice;
    return true;
  }
  return parse_price(s, out);
}

inline bool parse_side(std::string_view s, Side& out) noexcept {
  if (s.size() == 3 && (s == "BUY" || s == "buy")) {
    out = Side::kBid;
    return true;
  }
  if (s.size() == 4 && (s == "SELL" || s == "sell")) {
    out = Side::kAsk;
    return true;
  }
  return false;
}

inline std::int64_t parse_millis(std::string_view s) noexcept {
  if (s.size() == 13) {  // Unix milliseconds until the year 2286: no overflow possible
    std::int64_t v = 0;
    for (char c : s) {
      const unsigned d = digit(c);
      if (d > 9) return 0;
      v = v * 10 + d;
    }
    return v;
  }
  std::int64_t v = 0;
  return parse_decimal(s, 0, v) == DecimalError::kOk ? v : 0;
}

// Scalar fields of one event object, as raw text; parsed at dispatch according to the type.
struct EventFields {
  std::string_view event_type, asset_id, market, hash, timestamp, price, size, side, best_bid,
      best_ask, spread, fee_rate_bps, new_tick, old_tick, transaction_hash, id, slug, question,
      winning_asset_id, winning_outcome;
  bool has_event_type = false, has_asset_id = false, has_best_bid = false, has_best_ask = false,
       has_spread = false, has_fee = false, has_price_changes = false, has_changes = false,
       has_price = false, has_size = false, has_side = false;
};

// The text of one price_changes entry's values; `has_*` false when absent or not text. The
// asset id and hash go straight into the entry.
struct EntryText {
  std::string_view price, size, side, best_bid, best_ask;
  bool has_asset_id = false, has_price = false, has_size = false, has_side = false,
       has_best_bid = false, has_best_ask = false;
};

// Sets an entry's values and DecodeFlag bits from its text. Returns true when a value was bad
// (the caller counts it in DecoderStats::bad_values).
inline bool finish_entry(const EntryText& t, PriceChangeEntry& entry) noexcept {
  if (!t.has_asset_id) entry.flags |= kNoAssetId;
  if (!t.has_price || !parse_price(t.price, entry.price)) entry.flags |= kBadPrice;
  if (!t.has_size || !parse_size(t.size, entry.size)) entry.flags |= kBadSize;
  if (!t.has_side || !parse_side(t.side, entry.side)) entry.flags |= kBadSide;
  if (!parse_top(t.has_best_bid, t.best_bid, entry.venue_top.bid) ||
      !parse_top(t.has_best_ask, t.best_ask, entry.venue_top.ask))
    entry.flags |= kBadBest;
  return (entry.flags & (kBadPrice | kBadSize | kBadSide | kBadBest)) != 0;
}

// Where one event's levels and entries are collected; reused by every event, so steady-state
// decoding allocates nothing (the vectors keep their capacity).
struct EventScratch {
  std::vector<Level> bids, asks;
  std::vector<PriceChangeEntry> entries;
  EntryOrder entry_order = kDocumentedEntryOrder;  // price_changes keys as last seen
  void clear() noexcept {
    bids.clear();
    asks.clear();
    entries.clear();
  }
};

// Appends a book level from its price and size text when both are valid. Returns false for a
// bad level (dropped: the caller counts it in the event's bad_levels and in bad_values).
[[gnu::always_inline]] inline bool add_level(bool has_price, std::string_view price, bool has_size,
                                             std::string_view size,
                                             std::vector<Level>& out) noexcept {
  if (!has_price || !has_size) return false;
  // Parsed straight into the vector's slot (reserved; grows only for books deeper than any
  // before): a Level built on the stack and copied costs a store-forwarding stall per level.
  Level& l = out.emplace_back();
  if (parse_price(price, l.price) && parse_size(size, l.size)) return true;
  out.pop_back();
  return false;
}

}  // namespace booktape::polymarket::fields
