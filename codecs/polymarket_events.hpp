#pragma once
// Decoded Polymarket market-channel events. These are views: every string_view points into the
// frame being decoded (or the parser's buffer) and every span into the decoder's scratch space,
// valid only during the sink callback. Prices and sizes are already exact integers.
#include <cstdint>
#include <span>
#include <string_view>

#include "core/book_keeper.hpp"
#include "core/fixed_point.hpp"
#include "core/l2_book.hpp"

namespace booktape::polymarket {

// Event types of the market channel. The numeric values index counters; never reorder.
enum class EventType : std::uint8_t {
  kBook = 0,
  kPriceChange,
  kLastTradePrice,
  kTickSizeChange,
  kBestBidAsk,
  kNewMarket,
  kMarketResolved,
  kUnknown,  // an object with an event_type we do not know, or none at all
  kCount
};
inline constexpr std::size_t kEventTypeCount = static_cast<std::size_t>(EventType::kCount);
const char* to_string(EventType t) noexcept;
EventType event_type_from(std::string_view name) noexcept;

// What a whole frame is, before looking at its events.
enum class FrameKind : std::uint8_t {
  kJson = 0,          // a JSON object or array (its events are counted separately)
  kPong,              // text "PONG"
  kInvalidOperation,  // text "INVALID OPERATION": the venue refused a subscription message
  kNoNewAssets,       // text "NO NEW ASSETS"
  kEmpty,             // zero bytes or whitespace only
  kOtherText,         // any other text that is not a JSON object or array
  kMalformed,         // starts like JSON but does not parse
  kOversized,         // larger than the decoder's maximum frame size; not decoded
  kBinary,            // a binary websocket frame (set by the caller; never decoded)
  kCount
};
inline constexpr std::size_t kFrameKindCount = static_cast<std::size_t>(FrameKind::kCount);
const char* to_string(FrameKind k) noexcept;

// Classifies text that cannot be a JSON object or array; kJson when it starts with '{' or '['.
FrameKind classify_text(std::string_view payload) noexcept;

// Per-value decode problems, as bit flags on the entry that carries them.
enum DecodeFlag : std::uint8_t {
  kBadPrice = 1u << 0,    // missing, not an exact decimal, or outside 0..1
  kBadSize = 1u << 1,     // missing, not an exact decimal, or above kMaxLevelSize
  kBadSide = 1u << 2,     // not BUY or SELL
  kBadBest = 1u << 3,     // best_bid/best_ask present but not a price
  kNoAssetId = 1u << 4,
};

struct BookEvent {
  std::string_view asset_id;
  std::string_view market;
  std::string_view hash;          // stored for equality checks only: never a checksum
  std::int64_t timestamp_ms = 0;  // venue time, 0 if absent
  std::span<Level> bids;          // in wire order; mutable so the book can sort in place
  std::span<Level> asks;
  std::uint32_t bad_levels = 0;   // levels with a bad price or size (dropped from the spans)
};

struct PriceChangeEntry {
  std::string_view asset_id;  // per entry (current format) or the event's (legacy format)
  std::string_view hash;      // the order hash that caused the change
  Price price = 0;
  Size size = 0;
  Side side = Side::kBid;
  std::uint8_t flags = 0;     // DecodeFlag bits
  TopOfBook venue_top;        // from best_bid/best_ask; kNoPrice when absent or empty
};

struct PriceChangeEvent {
  std::string_view market;
  std::int64_t timestamp_ms = 0;
  bool legacy = false;  // the pre-2025-09-15 shape: top-level asset_id, "changes", no best_*
  std::span<const PriceChangeEntry> entries;
};

struct LastTradeEvent {
  std::string_view asset_id, market, transaction_hash;
  Price price = 0;
  Size size = 0;
  Side side = Side::kBid;  // the taker's side: BUY lifts asks
  std::int64_t fee_rate_bps = -1;  // -1 if absent
  std::int64_t timestamp_ms = 0;
  std::uint8_t flags = 0;
};

struct TickSizeChangeEvent {
  std::string_view asset_id, market;
  Price old_tick = 0;
  Price new_tick = 0;
  std::int64_t timestamp_ms = 0;
  std::uint8_t flags = 0;  // kBadPrice when new_tick is not a valid tick
};

struct BestBidAskEvent {
  std::string_view asset_id, market;
  TopOfBook top;
  Price spread = kNoPrice;
  std::int64_t timestamp_ms = 0;
  std::uint8_t flags = 0;
};

// new_market and market_resolved (custom_feature_enabled): the fields a recorder acts on.
struct MarketEvent {
  EventType type = EventType::kNewMarket;
  std::string_view id, market, slug, question, winning_asset_id, winning_outcome;
  std::span<const std::string_view> assets_ids;
  std::span<const std::string_view> outcomes;
  std::int64_t timestamp_ms = 0;
};

// Why an event was not delivered.
enum class InvalidReason : std::uint8_t {
  kMissingAssetId,
  kMissingEntries,   // price_change without price_changes/changes
  kBadValue,         // a required field could not be decoded (e.g. a trade's price)
  kNotAnObject,      // an array element that is not an object
};

// Receives decoded events. Default implementations ignore everything.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_book(BookEvent&) {}
  virtual void on_price_change(const PriceChangeEvent&) {}
  virtual void on_last_trade(const LastTradeEvent&) {}
  virtual void on_tick_size_change(const TickSizeChangeEvent&) {}
  virtual void on_best_bid_ask(const BestBidAskEvent&) {}
  virtual void on_market(const MarketEvent&) {}
  virtual void on_unknown(std::string_view /*event_type*/) {}
  virtual void on_invalid(EventType, InvalidReason) {}
};

}  // namespace booktape::polymarket
