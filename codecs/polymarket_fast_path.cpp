#include "codecs/polymarket_fast_path.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <array>
#include <string_view>

namespace booktape::polymarket::fast_path {

namespace {

using namespace fields;  // NOLINT: the shared keys and value parsers are this file's vocabulary

// The scanner comes in two builds of the same code. kCompact: a first pass proved that every
// byte of the frame is printable ASCII other than space and backslash (the venue's frames), so
// there is no whitespace to skip and no string can hold an escape, a control or a non-ASCII
// byte. Otherwise (kCompact false: the pretty-printed fixtures, a string with a space) every
// step checks. Positions never pass `end` (every step checks), so reading *p is always allowed:
// at `end` it is a padding byte, which is never taken as part of the frame.

#if defined(__AVX2__)
// Bytes below 0x21 as signed: controls, space, and 0x80..0xFF (negative).
inline __m256i not_plain(__m256i v) noexcept {
  return _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')),
                         _mm256_cmpgt_epi8(_mm256_set1_epi8(0x21), v));
}
#endif

// Whether every byte of the frame is printable ASCII other than space and backslash.
bool compact(const char* data, std::size_t size) noexcept {
#if defined(__AVX2__)
  __m256i bad = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32)
    bad = _mm256_or_si256(bad, not_plain(_mm256_loadu_si256(
                                   reinterpret_cast<const __m256i*>(data + i))));
  if (_mm256_movemask_epi8(bad) != 0) return false;
  if (i == size) return true;
  // The tail: one load that reaches into the padding, its bytes past the end ignored.
  const auto tail = static_cast<std::uint32_t>(_mm256_movemask_epi8(
      not_plain(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i)))));
  return (tail & ((std::uint32_t{1} << (size - i)) - 1)) == 0;
#else
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c <= ' ' || c >= 0x80 || c == '\\') return false;
  }
  return true;
#endif
}

inline bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Whitespace between tokens (every JSON whitespace byte is <= ' ', so one compare decides).
template <bool kCompact>
[[gnu::always_inline]] inline void skip_space(const char*& p, const char* end) noexcept {
  if constexpr (!kCompact) {
    while (static_cast<unsigned char>(*p) <= ' ' && p < end && is_space(*p)) ++p;
  }
}

// Consumes `c`, after whitespace; false if the next byte is anything else.
template <bool kCompact>
[[gnu::always_inline]] inline bool take(const char*& p, const char* end, char c) noexcept {
  if (*p != c) {
    if constexpr (kCompact) return false;
    skip_space<kCompact>(p, end);
    if (*p != c) return false;
  }
  if (p >= end) return false;
  ++p;
  return true;
}

// `p` is just after a string's opening quote: returns its closing quote, or nullptr when the
// string is not closed inside the frame or (not kCompact) holds a byte a plain ASCII string
// cannot: a backslash (an escape, the general decoder's job), a control byte (invalid JSON) or a
// byte >= 0x80 (UTF-8, which simdjson validates). Loads 32 bytes at a time and may read 31 bytes
// past `end`: inside the padding. A byte past `end` never decides: with no quote before `end`
// the answer is nullptr whatever follows.
template <bool kCompact>
[[gnu::always_inline]] inline const char* string_end(const char* p, const char* end) noexcept {
#if defined(__AVX2__)
  const __m256i quote = _mm256_set1_epi8('"');
  for (;;) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const auto quotes =
        static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, quote)));
    // Spaces are fine inside a string; whitespace that is not a space is a control byte.
    const auto bad = kCompact ? 0u
                              : static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_andnot_si256(
                                    _mm256_cmpeq_epi8(v, _mm256_set1_epi8(' ')), not_plain(v))));
    if (quotes != 0) {
      if ((bad & ((quotes - 1) & ~quotes)) != 0) return nullptr;  // a bad byte before the quote
      const char* close = p + __builtin_ctz(quotes);
      return close < end ? close : nullptr;
    }
    if (bad != 0) return nullptr;
    p += 32;
    if (p >= end) return nullptr;
  }
#else
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p;
    if (!kCompact && (c == '\\' || c < 0x20 || c >= 0x80)) return nullptr;
  }
  return nullptr;
#endif
}

// A string value at `p`: its contents, without the quotes.
template <bool kCompact>
[[gnu::always_inline]] inline bool string_value(const char*& p, const char* end,
                                                std::string_view& out) noexcept {
  if (p >= end || *p != '"') return false;
  const char* close = string_end<kCompact>(p + 1, end);
  if (close == nullptr) return false;
  out = std::string_view(p + 1, static_cast<std::size_t>(close - p - 1));
  p = close + 1;
  return true;
}

// Moves `p` (just after a key's opening quote) past the key and its closing quote: `length`
// bytes for a key key_of() matched (the match included the quote; it may have been read from the
// padding, hence the bound), else by scanning. Then past the ':' and any whitespace.
template <bool kCompact>
[[gnu::always_inline]] inline bool past_key(const char*& p, const char* end,
                                            std::size_t length) noexcept {
  if (length != 0) {
    if (static_cast<std::size_t>(end - p) < length) return false;
    p += length;
  } else {
    const char* close = string_end<kCompact>(p, end);
    if (close == nullptr) return false;
    p = close + 1;
  }
  if (!take<kCompact>(p, end, ':')) return false;
  skip_space<kCompact>(p, end);
  return true;
}

// After a member: ',' (true, more follow) or `close` (true, `done` set); anything else false.
template <bool kCompact>
[[gnu::always_inline]] inline bool next_member(const char*& p, const char* end, char close,
                                               bool& done) noexcept {
  if (*p != ',' && *p != close) skip_space<kCompact>(p, end);
  if (p >= end) return false;
  if (*p == ',') {
    ++p;
    return true;
  }
  if (*p != close) return false;
  ++p;
  done = true;
  return true;
}

// A key's length with its closing quote (sizeof counts the terminating NUL instead).
template <std::size_t N>
constexpr std::size_t quoted(const char (&)[N]) noexcept {
  return N;
}

// The keys of an event object the scanner reads; 0 for kOther (any name, skipped) and for keys
// of other event types (declined).
constexpr std::size_t event_key_length(Key k) noexcept {
  switch (k) {
    case Key::kEventType: return quoted("event_type");
    case Key::kAssetId: return quoted("asset_id");
    case Key::kMarket: return quoted("market");
    case Key::kHash: return quoted("hash");
    case Key::kTimestamp: return quoted("timestamp");
    case Key::kBids: return quoted("bids");
    case Key::kAsks: return quoted("asks");
    case Key::kPriceChanges: return quoted("price_changes");
    default: return 0;
  }
}

constexpr std::uint32_t bit(Key k) noexcept { return std::uint32_t{1} << static_cast<unsigned>(k); }

// The values of a price_changes entry, by slot: collected without a branch per key, then
// handed to finish_entry() once the entry's object has ended.
enum Slot : std::uint8_t { kAssetId, kPrice, kSize, kSide, kHash, kBestBid, kBestAsk, kSkipped };
static_assert(Scan{}.entry_order[kAssetId] == kAssetId && Scan{}.entry_order[kSkipped] == kSkipped);

// A price_changes key with its closing quote, as two masked words (keys up to 15 bytes).
struct SlotKey {
  std::uint64_t word[2], mask[2];
  std::size_t length;  // with the closing quote
};
template <KeyLit L, std::size_t N>
constexpr SlotKey slot_key(const char (&)[N]) noexcept {
  return SlotKey{{L.word[0], L.word[1]}, {L.mask[0], L.mask[1]}, N - 1};
}
constexpr SlotKey kSlotKeys[] = {
    slot_key<"asset_id\"">("asset_id\""), slot_key<"price\"">("price\""),
    slot_key<"size\"">("size\""),         slot_key<"side\"">("side\""),
    slot_key<"hash\"">("hash\""),         slot_key<"best_bid\"">("best_bid\""),
    slot_key<"best_ask\"">("best_ask\"")};

inline bool is_slot_key(Slot s, const char* k) noexcept {
  const SlotKey& key = kSlotKeys[s];
  return (((load64(k) & key.mask[0]) ^ key.word[0]) |
          ((load64(k + 8) & key.mask[1]) ^ key.word[1])) == 0;
}

// The slot of the key at `k`. The order of an entry's keys is learned, as entry_key() does
// (the venue keeps one order; its documents and the fixtures disagree on it): the key at
// position `pos` is first compared with the one found there last.
using EntryOrder = std::array<std::uint8_t, 8>;  // Scan::entry_order

inline Slot entry_slot(const char* k, std::size_t pos, EntryOrder& order) noexcept {
  if (pos < order.size() && order[pos] != kSkipped && is_slot_key(Slot(order[pos]), k))
    return Slot(order[pos]);
  Slot got = kSkipped;
  switch (key_of(k)) {
    case Key::kAssetId: got = kAssetId; break;
    case Key::kPrice: got = kPrice; break;
    case Key::kSize: got = kSize; break;
    case Key::kSide: got = kSide; break;
    case Key::kHash: got = kHash; break;
    case Key::kBestBid: got = kBestBid; break;
    case Key::kBestAsk: got = kBestAsk; break;
    default: break;
  }
  if (pos < order.size()) order[pos] = got;
  return got;
}

// `[` at p: the price_changes array, each entry an object of string values. Returns the byte
// after the array, or nullptr. (`p` by value, so that it lives in a register: through a
// reference the compiler stores it after every step, since the stores of entries may alias it.)
template <bool kCompact>
const char* parse_entries(const char* p, const char* end, EventScratch& ev,
                          EntryOrder& order, Scan& out) noexcept {
  if (p >= end || *p != '[') return nullptr;
  ++p;
  skip_space<kCompact>(p, end);
  if (p < end && *p == ']') return p + 1;
  for (bool last = false; !last;) {
    if (!take<kCompact>(p, end, '{')) return nullptr;
    std::string_view values[kSkipped + 1];
    std::uint32_t seen = 0;
    skip_space<kCompact>(p, end);
    if (p < end && *p == '}') {
      ++p;
    } else {
      bool closed = false;
      for (std::size_t pos = 0; !closed; ++pos) {
        if (!take<kCompact>(p, end, '"')) return nullptr;
        const Slot slot = entry_slot(p, pos, order);
        const std::uint32_t b = std::uint32_t{1} << slot;
        if (seen & b & ~(1u << kSkipped)) return nullptr;  // repeated: the general decoder decides
        seen |= b;
        const std::size_t length = slot == kSkipped ? 0 : kSlotKeys[slot].length;
        if (!past_key<kCompact>(p, end, length) ||
            !string_value<kCompact>(p, end, values[slot]))
          return nullptr;
        if (!next_member<kCompact>(p, end, '}', closed)) return nullptr;
      }
    }
    PriceChangeEntry& entry = ev.entries.emplace_back();  // reserved: no allocation
    entry.asset_id = values[kAssetId];
    entry.hash = values[kHash];
    EntryText t;
    t.price = values[kPrice];
    t.size = values[kSize];
    t.side = values[kSide];
    t.best_bid = values[kBestBid];
    t.best_ask = values[kBestAsk];
    t.has_asset_id = (seen >> kAssetId) & 1;
    t.has_price = (seen >> kPrice) & 1;
    t.has_size = (seen >> kSize) & 1;
    t.has_side = (seen >> kSide) & 1;
    t.has_best_bid = (seen >> kBestBid) & 1;
    t.has_best_ask = (seen >> kBestAsk) & 1;
    if (finish_entry(t, entry)) ++out.bad_values;
    if (!next_member<kCompact>(p, end, ']', last)) return nullptr;
  }
  return p;
}

// The 8 bytes `{"price"` and `","size"` as little-endian words (load64 of the same bytes).
constexpr std::uint64_t word_of(const char (&s)[9]) noexcept {
  std::uint64_t w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | static_cast<unsigned char>(s[i]);
  return w;
}
constexpr std::uint64_t kPriceOpen = word_of("{\"price\"");
constexpr std::uint64_t kSizeOpen = word_of("\",\"size\"");

// `[` at p: one side's levels, each {"price":"...","size":"..."} (in either order; other keys
// with string values are skipped, as the general decoder skips them). Returns the byte after
// the array, or nullptr.
template <bool kCompact>
const char* parse_levels(const char* p, const char* end, std::vector<Level>& levels,
                         Scan& out) noexcept {
  if (p >= end || *p != '[') return nullptr;
  ++p;
  skip_space<kCompact>(p, end);
  if (p < end && *p == ']') return p + 1;
  for (bool last = false; !last;) {
    // The venue's own form, {"price":"P","size":"S"}, in one pass: two 8-byte compares and the
    // two strings. Anything else (whitespace, the other order, more keys) takes the loop below.
    if (load64(p) == kPriceOpen && p[8] == ':' && p[9] == '"') {
      const char* const price_end = string_end<kCompact>(p + 10, end);
      if (price_end != nullptr && load64(price_end) == kSizeOpen && price_end[8] == ':' &&
          price_end[9] == '"') {
        const char* const size_end = string_end<kCompact>(price_end + 10, end);
        if (size_end != nullptr && size_end + 1 < end && size_end[1] == '}') {
          const std::string_view price(p + 10, static_cast<std::size_t>(price_end - p - 10));
          const std::string_view size(price_end + 10,
                                      static_cast<std::size_t>(size_end - price_end - 10));
          if (!add_level(true, price, true, size, levels)) {
            ++out.bad_levels;
            ++out.bad_values;
          }
          p = size_end + 2;
          if (!next_member<kCompact>(p, end, ']', last)) return nullptr;
          continue;
        }
      }
    }
    if (!take<kCompact>(p, end, '{')) return nullptr;
    std::string_view price, size;
    bool has_price = false, has_size = false;
    skip_space<kCompact>(p, end);
    if (p < end && *p == '}') {
      ++p;
    } else {
      for (bool closed = false; !closed;) {
        if (!take<kCompact>(p, end, '"')) return nullptr;
        std::string_view v;
        if (key_is<"price\"">(p)) {
          if (has_price || !past_key<kCompact>(p, end, quoted("price")) ||
              !string_value<kCompact>(p, end, price))
            return nullptr;
          has_price = true;
        } else if (key_is<"size\"">(p)) {
          if (has_size || !past_key<kCompact>(p, end, quoted("size")) ||
              !string_value<kCompact>(p, end, size))
            return nullptr;
          has_size = true;
        } else if (!past_key<kCompact>(p, end, 0) || !string_value<kCompact>(p, end, v)) {
          return nullptr;
        }
        if (!next_member<kCompact>(p, end, '}', closed)) return nullptr;
      }
    }
    if (!add_level(has_price, price, has_size, size, levels)) {
      ++out.bad_levels;
      ++out.bad_values;
    }
    if (!next_member<kCompact>(p, end, ']', last)) return nullptr;
  }
  return p;
}

bool is_hot(std::string_view type) noexcept { return type == "price_change" || type == "book"; }

// The whole event object.
template <bool kCompact>
bool parse_event(const char* p, const char* end, EventScratch& ev, EntryOrder& order,
                 Scan& out) noexcept {
  EventFields& f = out.fields;
  if (!take<kCompact>(p, end, '{')) return false;
  std::uint32_t seen = 0;
  for (bool closed = false; !closed;) {
    if (!take<kCompact>(p, end, '"')) return false;  // also refuses "{}": no event_type
    const Key k = key_of(p);
    const std::size_t length = event_key_length(k);
    if (k != Key::kOther) {
      if (length == 0 || (seen & bit(k))) return false;  // another event's key, or repeated
      seen |= bit(k);
    }
    if (!past_key<kCompact>(p, end, length)) return false;
    bool ok = true;
    switch (k) {
      case Key::kEventType:
        ok = f.has_event_type = string_value<kCompact>(p, end, f.event_type) &&
                                is_hot(f.event_type);
        break;
      case Key::kAssetId: ok = f.has_asset_id = string_value<kCompact>(p, end, f.asset_id); break;
      case Key::kMarket: ok = string_value<kCompact>(p, end, f.market); break;
      case Key::kHash: ok = string_value<kCompact>(p, end, f.hash); break;
      case Key::kTimestamp: ok = string_value<kCompact>(p, end, f.timestamp); break;
      case Key::kPriceChanges:
        f.has_price_changes = true;
        ok = (p = parse_entries<kCompact>(p, end, ev, order, out)) != nullptr;
        break;
      case Key::kBids: ok = (p = parse_levels<kCompact>(p, end, ev.bids, out)) != nullptr; break;
      case Key::kAsks: ok = (p = parse_levels<kCompact>(p, end, ev.asks, out)) != nullptr; break;
      default: {  // kOther: skipped, if it is a plain string
        std::string_view ignored;
        ok = string_value<kCompact>(p, end, ignored);
        break;
      }
    }
    if (!ok || !next_member<kCompact>(p, end, '}', closed)) return false;
  }
  skip_space<kCompact>(p, end);
  if (p != end || !f.has_event_type) return false;
  return f.has_price_changes || f.event_type == "book";  // legacy price changes: not here
}

// A quick look where the venue (last) and the fixtures (first) put event_type: a frame that
// names another type there (`{"event_type":"best_bid_ask",...` or `..."event_type":
// "last_trade_price"}`) is declined before it is scanned, so the fallback costs the other events
// a few instructions, not a scan. Only a shortcut: the scan would decline it too.
bool other_type(const char* data, std::size_t size) noexcept {
  constexpr std::string_view kKey = "\"event_type\":\"";
  const std::string_view frame(data, size);
  if (frame.size() > 1 + kKey.size() && frame.substr(1, kKey.size()) == kKey) {
    const std::string_view type = frame.substr(1 + kKey.size());
    return !type.starts_with("price_change\"") && !type.starts_with("book\"");
  }
  if (frame.ends_with("\"price_change\"}") || frame.ends_with("\"book\"}") ||
      !frame.ends_with("\"}"))
    return false;
  const std::size_t open = frame.find_last_of('"', size - 3);  // the value's opening quote
  return open != std::string_view::npos && open + 1 >= kKey.size() &&
         frame.substr(open + 1 - kKey.size(), kKey.size()) == kKey;
}

}  // namespace

bool scan(const char* data, std::size_t size, EventScratch& ev, Scan& out) noexcept {
  // An array of events (an initial dump), or another type: not scanned at all.
  if (size == 0 || (data[0] != '{' && !is_space(data[0])) || other_type(data, size)) return false;
  // Only the fields the scan writes are reset: every other one of `out` is never written and
  // keeps its default (a whole EventFields{} costs a rep stos of 350 bytes per frame).
  EventFields& f = out.fields;
  f.event_type = f.asset_id = f.market = f.hash = f.timestamp = {};
  f.has_event_type = f.has_asset_id = f.has_price_changes = false;
  out.bad_levels = out.bad_values = 0;
  ev.clear();
  return compact(data, size) ? parse_event<true>(data, data + size, ev, out.entry_order, out)
                             : parse_event<false>(data, data + size, ev, out.entry_order, out);
}

}  // namespace booktape::polymarket::fast_path
