#include "codecs/polymarket_decoder.hpp"

#include <simdjson.h>

#include <array>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "codecs/decimal.hpp"
#include "codecs/polymarket_fast_path.hpp"
#include "codecs/polymarket_fields.hpp"
#include "core/byte_buffer.hpp"

namespace booktape::polymarket {

static_assert(Decoder::kPadding == simdjson::SIMDJSON_PADDING);

namespace ond = simdjson::ondemand;
using simdjson::error_code;
using namespace fields;  // NOLINT: the shared keys and value parsers are this file's vocabulary

const char* to_string(EventType t) noexcept {
  switch (t) {
    case EventType::kBook: return "book";
    case EventType::kPriceChange: return "price_change";
    case EventType::kLastTradePrice: return "last_trade_price";
    case EventType::kTickSizeChange: return "tick_size_change";
    case EventType::kBestBidAsk: return "best_bid_ask";
    case EventType::kNewMarket: return "new_market";
    case EventType::kMarketResolved: return "market_resolved";
    case EventType::kUnknown: return "unknown";
    case EventType::kCount: break;
  }
  return "?";
}

EventType event_type_from(std::string_view n) noexcept {
  if (n == "price_change") return EventType::kPriceChange;
  if (n == "book") return EventType::kBook;
  if (n == "last_trade_price") return EventType::kLastTradePrice;
  if (n == "best_bid_ask") return EventType::kBestBidAsk;
  if (n == "tick_size_change") return EventType::kTickSizeChange;
  if (n == "new_market") return EventType::kNewMarket;
  if (n == "market_resolved") return EventType::kMarketResolved;
  return EventType::kUnknown;
}

const char* to_string(FrameKind k) noexcept {
  switch (k) {
    case FrameKind::kJson: return "json";
    case FrameKind::kPong: return "pong";
    case FrameKind::kInvalidOperation: return "invalid_operation";
    case FrameKind::kNoNewAssets: return "no_new_assets";
    case FrameKind::kEmpty: return "empty";
    case FrameKind::kOtherText: return "text";
    case FrameKind::kMalformed: return "malformed";
    case FrameKind::kOversized: return "oversized";
    case FrameKind::kBinary: return "binary";
    case FrameKind::kCount: break;
  }
  return "?";
}

namespace {
bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace

FrameKind classify_text(std::string_view payload) noexcept {
  if (!payload.empty() && (payload.front() == '{' || payload.front() == '[')) {
    return FrameKind::kJson;  // the venue's frames start right away: skip the trimming
  }
  const std::string_view t = trim(payload);
  if (t.empty()) return FrameKind::kEmpty;
  if (t.front() == '{' || t.front() == '[') return FrameKind::kJson;
  if (t == "PONG") return FrameKind::kPong;
  if (t == "INVALID OPERATION") return FrameKind::kInvalidOperation;
  if (t == "NO NEW ASSETS") return FrameKind::kNoNewAssets;
  return FrameKind::kOtherText;
}

const char* DecodeResult::error_message() const noexcept {
  return json_error == 0 ? "" : simdjson::error_message(static_cast<error_code>(json_error));
}

namespace {

// True if [p, p+n) holds a backslash. May read up to 31 bytes past p+n (inside the padding).
inline bool has_backslash(const char* p, std::size_t n) noexcept {
#if defined(__AVX2__)
  const __m256i bs = _mm256_set1_epi8('\\');
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, bs)) != 0) return true;
  }
  if (i == n) return false;
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
  const auto hits = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, bs)));
  return (hits & ((std::uint32_t{1} << (n - i)) - 1)) != 0;
#else
  return std::memchr(p, '\\', n) != nullptr;
#endif
}

// The raw text of a string token (without quotes, escapes NOT decoded) or of a number token.
// For numeric fields: a backslash then simply fails the exact decimal parse. Returns false for
// objects, arrays, true/false/null and broken tokens. Never copies.
inline bool text_of(ond::value& v, std::string_view& out) noexcept {
  std::string_view tok = v.raw_json_token();
  while (!tok.empty() && is_space(tok.back())) tok.remove_suffix(1);
  if (tok.empty()) return false;
  const char c = tok.front();
  if (c == '"') {
    if (tok.size() < 2 || tok.back() != '"') return false;
    out = tok.substr(1, tok.size() - 2);
    return true;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    out = tok;
    return true;
  }
  return false;
}

// Like text_of, but a string with escapes is decoded (into the parser's string buffer, rare):
// for fields whose identity matters (asset ids, event types, sides, names).
inline bool string_of(ond::value& v, std::string_view& out) noexcept {
  if (!text_of(v, out)) return false;
  if (!has_backslash(out.data(), out.size())) return true;
  return v.get_string().get(out) == simdjson::SUCCESS;
}

}  // namespace

struct Decoder::Impl {
  explicit Impl(const Options& o) : max_frame(o.max_frame_bytes), fast(o.fast_path) {
    if (parser.allocate(o.initial_capacity, o.max_depth) != simdjson::SUCCESS) {
      // Start-up only: report through the first decode as a memory error.
      alloc_failed = true;
    }
    max_depth = o.max_depth;
    ev.bids.reserve(1024);
    ev.asks.reserve(1024);
    ev.entries.reserve(256);
    assets.reserve(64);
    outcomes.reserve(16);
  }

  DecodeResult decode(const char* data, std::size_t size, std::size_t readable,
                      EventSink& sink) noexcept;
  error_code decode_event(ond::object& obj, EventSink& sink, DecodeResult& r) noexcept;
  error_code parse_levels(ond::value& v, std::vector<Level>& out, std::uint32_t& bad) noexcept;
  error_code parse_entries(ond::value& v) noexcept;
  error_code parse_strings(ond::value& v, std::vector<std::string_view>& out) noexcept;
  void dispatch(const EventFields& f, EventSink& sink, std::uint32_t bad_levels) noexcept;
  // Points `data` at a copy of the frame followed by kPadding zero bytes.
  void copy_padded(const char*& data, std::size_t size, std::size_t& readable) noexcept {
    padded.clear();
    char* p = padded.ensure(size + kPadding);  // only allocates when it must grow
    std::memcpy(p, data, size);
    std::memset(p + size, 0, kPadding);
    data = p;
    readable = size + kPadding;
  }
  void invalid(EventType t, InvalidReason why, EventSink& sink) noexcept {
    ++stats.invalid_events;
    sink.on_invalid(t, why);
  }

  ond::parser parser;
  ByteBuffer padded;
  std::size_t max_frame;
  bool fast;
  std::size_t max_depth = 0;
  bool alloc_failed = false;
  DecoderStats stats;

  // Scratch, reused by every event (both decoders fill `ev`).
  EventScratch ev;
  fast_path::Scan fast_scan;
  std::vector<std::string_view> assets, outcomes;
};

Decoder::Decoder() : Decoder(Options{}) {}
Decoder::Decoder(const Options& options) : impl_(std::make_unique<Impl>(options)) {}
Decoder::~Decoder() = default;

const DecoderStats& Decoder::stats() const noexcept { return impl_->stats; }

void Decoder::count_binary() noexcept {
  ++impl_->stats.frames;
  ++impl_->stats.frames_by_kind[static_cast<std::size_t>(FrameKind::kBinary)];
}

DecodeResult Decoder::decode(const char* data, std::size_t size, std::size_t readable,
                             EventSink& sink) noexcept {
  return impl_->decode(data, size, readable, sink);
}

DecodeResult Decoder::Impl::decode(const char* data, std::size_t size, std::size_t readable,
                                   EventSink& sink) noexcept {
  DecodeResult r;
  ++stats.frames;
#ifdef BOOKTAPE_SLOW_HOT_PATH
  // Test-only (perf/icount_gate.sh --prove): ~600 wasted instructions per frame, so the
  // regression gate has a known slowdown to catch. Never on in a real build.
  for (int i = 0; i < 200; ++i) asm volatile("");
#endif
  r.kind = classify_text(std::string_view(data, size));
  if (r.kind == FrameKind::kJson && size > max_frame) r.kind = FrameKind::kOversized;
  if (r.kind != FrameKind::kJson) {
    ++stats.frames_by_kind[static_cast<std::size_t>(r.kind)];
    return r;
  }

  // Both paths read up to kPadding bytes past the end (never as part of the frame).
  if (readable < size + kPadding) copy_padded(data, size, readable);
  if (fast && !alloc_failed) {
    if (fast_path::scan(data, size, ev, fast_scan)) {
      ++stats.fast_path;
      stats.bad_values += fast_scan.bad_values;
      ++r.events;
      dispatch(fast_scan.fields, sink, fast_scan.bad_levels);
      ++stats.frames_by_kind[static_cast<std::size_t>(r.kind)];
      return r;
    }
  }

  error_code err = alloc_failed ? simdjson::MEMALLOC : simdjson::SUCCESS;
  if (!err && size > parser.capacity()) {
    ++stats.parser_grows;  // rare: a frame larger than any before it
    err = parser.allocate(size, max_depth);
  }
  // simdjson 3.0.1's on-demand iterator treats the byte at data[size] as a token when a document
  // ends early (its end-of-input sentinels point there): a cut frame followed by, say, ':' walks
  // past the end and crashes in raw_json_token(). So parse in place only when that byte cannot
  // start or continue a token; otherwise copy into zeroed padding (tests/codecs:
  // EveryPrefixOfEveryMarketFixtureIsMalformedOrComplete).
  const bool inert_end = data[size] == '\0' || is_space(data[size]);
  if (!err && !inert_end) copy_padded(data, size, readable);

  ond::document doc;
  if (!err) err = parser.iterate(data, size, readable).get(doc);
  ond::json_type type{};
  if (!err) err = doc.type().get(type);
  if (!err && type == ond::json_type::object) {
    ond::object obj;
    err = doc.get_object().get(obj);
    if (!err) err = decode_event(obj, sink, r);
  } else if (!err && type == ond::json_type::array) {
    ond::array arr;
    err = doc.get_array().get(arr);
    // Only an array that opened may be iterated: begin() on a failed one (e.g. a root array cut
    // short: INCOMPLETE_ARRAY_OR_OBJECT) dereferences a null iterator.
    if (!err) {
      for (auto element : arr) {
        if (err) break;
        ond::value v;
        if ((err = element.get(v))) break;
        ond::json_type et{};
        if ((err = v.type().get(et))) break;
        if (et != ond::json_type::object) {
          ++r.events;
          ++stats.events_by_type[static_cast<std::size_t>(EventType::kUnknown)];
          invalid(EventType::kUnknown, InvalidReason::kNotAnObject, sink);
          continue;  // the unconsumed element is skipped by the iterator
        }
        ond::object obj;
        if ((err = v.get_object().get(obj))) break;
        err = decode_event(obj, sink, r);
      }
    }
  } else if (!err) {
    err = simdjson::INCORRECT_TYPE;  // cannot happen after classify_text, kept for safety
  }
  // Anything after the root value (e.g. "{...} x") is an error; in bounds means not at the end.
  if (!err && doc.current_location().error() == simdjson::SUCCESS) err = simdjson::TRAILING_CONTENT;

  if (err) {
    r.kind = FrameKind::kMalformed;
    r.json_error = static_cast<int>(err);
  }
  ++stats.frames_by_kind[static_cast<std::size_t>(r.kind)];
  return r;
}

error_code Decoder::Impl::decode_event(ond::object& obj, EventSink& sink,
                                       DecodeResult& r) noexcept {
  EventFields f;
  std::uint32_t bad_levels = 0;
  ev.clear();
  assets.clear();
  outcomes.clear();

  for (auto field_result : obj) {
    if (error_code e = field_result.error()) return e;
    ond::field& field = field_result.value_unsafe();
    ond::value& v = field.value();
    error_code e = simdjson::SUCCESS;
    switch (key_of(field.key().raw())) {
      case Key::kEventType: f.has_event_type = string_of(v, f.event_type); break;
      case Key::kAssetId: f.has_asset_id = string_of(v, f.asset_id); break;
      case Key::kMarket: string_of(v, f.market); break;
      case Key::kHash: text_of(v, f.hash); break;
      case Key::kTimestamp: text_of(v, f.timestamp); break;
      case Key::kPrice: f.has_price = text_of(v, f.price); break;
      case Key::kSize: f.has_size = text_of(v, f.size); break;
      case Key::kSide: f.has_side = text_of(v, f.side); break;
      case Key::kBestBid: f.has_best_bid = text_of(v, f.best_bid); break;
      case Key::kBestAsk: f.has_best_ask = text_of(v, f.best_ask); break;
      case Key::kSpread: f.has_spread = text_of(v, f.spread); break;
      case Key::kFeeRateBps: f.has_fee = text_of(v, f.fee_rate_bps); break;
      case Key::kNewTickSize: text_of(v, f.new_tick); break;
      case Key::kOldTickSize: text_of(v, f.old_tick); break;
      case Key::kTransactionHash: text_of(v, f.transaction_hash); break;
      case Key::kId: string_of(v, f.id); break;
      case Key::kSlug: string_of(v, f.slug); break;
      case Key::kQuestion: string_of(v, f.question); break;
      case Key::kWinningAssetId: string_of(v, f.winning_asset_id); break;
      case Key::kWinningOutcome: string_of(v, f.winning_outcome); break;
      case Key::kBids: e = parse_levels(v, ev.bids, bad_levels); break;
      case Key::kAsks: e = parse_levels(v, ev.asks, bad_levels); break;
      case Key::kPriceChanges:
        f.has_price_changes = true;
        e = parse_entries(v);
        break;
      case Key::kChanges:
        f.has_changes = true;
        e = parse_entries(v);
        break;
      case Key::kAssetsIds:
        assets.clear();  // assets_ids wins over a clob_token_ids read before it
        e = parse_strings(v, assets);
        break;
      case Key::kClobTokenIds:
        if (assets.empty()) e = parse_strings(v, assets);
        break;
      case Key::kOutcomes: e = parse_strings(v, outcomes); break;
      case Key::kOther: break;  // skipped by the iterator
    }
    if (e) return e;
  }
  ++r.events;
  dispatch(f, sink, bad_levels);
  return simdjson::SUCCESS;
}

error_code Decoder::Impl::parse_levels(ond::value& v, std::vector<Level>& out,
                                       std::uint32_t& bad) noexcept {
  ond::array arr;
  if (v.get_array().get(arr)) return simdjson::SUCCESS;  // not an array: no levels
  for (auto element : arr) {
    ond::value lv;
    if (error_code e = element.get(lv)) return e;
    std::string_view price, size;
    bool hp = false, hs = false;
    ond::object o;
    ond::array pair;
    if (lv.get_object().get(o) == simdjson::SUCCESS) {
      for (auto fr : o) {
        if (error_code e = fr.error()) return e;
        ond::field& fld = fr.value_unsafe();
        const char* k = fld.key().raw();
        if (key_is<"price\"">(k)) hp = text_of(fld.value(), price);
        else if (key_is<"size\"">(k)) hs = text_of(fld.value(), size);
      }
    } else if (lv.get_array().get(pair) == simdjson::SUCCESS) {  // [price, size] pairs
      int i = 0;
      for (auto item : pair) {
        ond::value iv;
        if (error_code e = item.get(iv)) return e;
        if (i == 0) hp = text_of(iv, price);
        else if (i == 1) hs = text_of(iv, size);
        ++i;
      }
    }
    if (!add_level(hp, price, hs, size, out)) {
      ++bad;
      ++stats.bad_values;
    }
  }
  return simdjson::SUCCESS;
}

error_code Decoder::Impl::parse_entries(ond::value& v) noexcept {
  ond::array arr;
  if (v.get_array().get(arr)) return simdjson::SUCCESS;
  for (auto element : arr) {
    ond::value item;
    if (error_code e = element.get(item)) return e;
    ond::object o;
    PriceChangeEntry& entry = ev.entries.emplace_back();  // reserved: no allocation
    if (item.get_object().get(o) != simdjson::SUCCESS) {
      entry.flags = kBadPrice | kBadSize | kBadSide | kNoAssetId;
      continue;
    }
    EntryText t;
    std::size_t pos = 0;
    for (auto fr : o) {
      if (error_code e = fr.error()) return e;
      ond::field& fld = fr.value_unsafe();
      ond::value& fv = fld.value();
      switch (entry_key(fld.key().raw(), pos++, ev.entry_order)) {
        case Key::kAssetId: t.has_asset_id = string_of(fv, entry.asset_id); break;
        case Key::kPrice: t.has_price = text_of(fv, t.price); break;
        case Key::kSize: t.has_size = text_of(fv, t.size); break;
        case Key::kSide: t.has_side = text_of(fv, t.side); break;  // escaped: a bad side
        case Key::kHash: text_of(fv, entry.hash); break;
        case Key::kBestBid: t.has_best_bid = text_of(fv, t.best_bid); break;
        case Key::kBestAsk: t.has_best_ask = text_of(fv, t.best_ask); break;
        default: break;
      }
    }
    if (finish_entry(t, entry)) ++stats.bad_values;
  }
  return simdjson::SUCCESS;
}

error_code Decoder::Impl::parse_strings(ond::value& v, std::vector<std::string_view>& out) noexcept {
  ond::array arr;
  if (v.get_array().get(arr)) return simdjson::SUCCESS;
  for (auto element : arr) {
    ond::value sv;
    if (error_code e = element.get(sv)) return e;
    std::string_view s;
    if (string_of(sv, s)) out.push_back(s);
  }
  return simdjson::SUCCESS;
}

void Decoder::Impl::dispatch(const EventFields& f, EventSink& sink,
                             std::uint32_t bad_levels) noexcept {
  const EventType type = f.has_event_type ? event_type_from(f.event_type) : EventType::kUnknown;
  ++stats.events_by_type[static_cast<std::size_t>(type)];
  const std::int64_t ts = parse_millis(f.timestamp);

  switch (type) {
    case EventType::kBook: {
      if (!f.has_asset_id) return invalid(type, InvalidReason::kMissingAssetId, sink);
      BookEvent e{f.asset_id, f.market, f.hash, ts, ev.bids, ev.asks, bad_levels};
      sink.on_book(e);
      return;
    }
    case EventType::kPriceChange: {
      if (!f.has_price_changes && !f.has_changes)
        return invalid(type, InvalidReason::kMissingEntries, sink);
      const bool legacy = !f.has_price_changes;
      if (legacy && !f.has_asset_id) return invalid(type, InvalidReason::kMissingAssetId, sink);
      for (PriceChangeEntry& e : ev.entries) {
        if (!legacy && !(e.flags & kNoAssetId)) continue;
        if (!f.has_asset_id) continue;  // stays flagged kNoAssetId
        // Legacy entries (and current ones missing an id) belong to the event's asset.
        e.asset_id = f.asset_id;
        e.flags = static_cast<std::uint8_t>(e.flags & ~kNoAssetId);
        if (legacy) {
          e.hash = f.hash;
          e.flags = static_cast<std::uint8_t>(e.flags & ~kBadBest);
          e.venue_top = TopOfBook{};
        }
      }
      PriceChangeEvent e{f.market, ts, legacy, ev.entries};
      sink.on_price_change(e);
      return;
    }
    case EventType::kLastTradePrice: {
      if (!f.has_asset_id) return invalid(type, InvalidReason::kMissingAssetId, sink);
      LastTradeEvent e;
      e.asset_id = f.asset_id;
      e.market = f.market;
      e.transaction_hash = f.transaction_hash;
      e.timestamp_ms = ts;
      if (!f.has_price || !parse_price(f.price, e.price)) e.flags |= kBadPrice;
      if (!f.has_size || !parse_size(f.size, e.size)) e.flags |= kBadSize;
      if (f.has_side && !parse_side(f.side, e.side)) e.flags |= kBadSide;
      if (f.has_fee && parse_decimal(f.fee_rate_bps, 0, e.fee_rate_bps) != DecimalError::kOk)
        e.fee_rate_bps = -1;
      if (e.flags != 0) ++stats.bad_values;
      if (e.flags & (kBadPrice | kBadSize)) return invalid(type, InvalidReason::kBadValue, sink);
      sink.on_last_trade(e);
      return;
    }
    case EventType::kTickSizeChange: {
      if (!f.has_asset_id) return invalid(type, InvalidReason::kMissingAssetId, sink);
      TickSizeChangeEvent e;
      e.asset_id = f.asset_id;
      e.market = f.market;
      e.timestamp_ms = ts;
      if (!parse_price(f.new_tick, e.new_tick) || e.new_tick <= 0) {
        e.flags |= kBadPrice;
        ++stats.bad_values;
      }
      if (!parse_price(f.old_tick, e.old_tick)) e.old_tick = 0;
      sink.on_tick_size_change(e);
      return;
    }
    case EventType::kBestBidAsk: {
      if (!f.has_asset_id) return invalid(type, InvalidReason::kMissingAssetId, sink);
      BestBidAskEvent e;
      e.asset_id = f.asset_id;
      e.market = f.market;
      e.timestamp_ms = ts;
      if (!parse_top(f.has_best_bid, f.best_bid, e.top.bid) ||
          !parse_top(f.has_best_ask, f.best_ask, e.top.ask) ||
          !parse_top(f.has_spread, f.spread, e.spread)) {
        e.flags |= kBadBest;
        ++stats.bad_values;
      }
      sink.on_best_bid_ask(e);
      return;
    }
    case EventType::kNewMarket:
    case EventType::kMarketResolved: {
      MarketEvent e;
      e.type = type;
      e.id = f.id;
      e.market = f.market;
      e.slug = f.slug;
      e.question = f.question;
      e.winning_asset_id = f.winning_asset_id;
      e.winning_outcome = f.winning_outcome;
      e.assets_ids = assets;
      e.outcomes = outcomes;
      e.timestamp_ms = ts;
      sink.on_market(e);
      return;
    }
    case EventType::kUnknown:
    case EventType::kCount:
      sink.on_unknown(f.event_type);
      return;
  }
}

}  // namespace booktape::polymarket
