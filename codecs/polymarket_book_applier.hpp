#pragma once
// Applies decoded Polymarket events to a BookKeeper: the book stage's sink, used the same way
// live and in replay so both build identical books.
//
// Routing and trust rules (docs/BOOKS.md):
// - every price_change entry is routed by its own asset_id, or by the event's top-level one
//   when it has none (the decoder fills it in: always so for the legacy format);
// - a book snapshot with any undecodable level is rejected whole and the token marked stale;
// - an entry with an undecodable price, size or side marks its token stale (a later snapshot
//   heals it); an entry with no asset id at all cannot be attributed and is only counted;
// - current-format entries are checked against their best_bid/best_ask; legacy ones carry none;
// - a tick size change keeps the book, unconfirmed until the token's next checked entry agrees
//   (live) or disagrees (stale until a snapshot) with the venue's best_bid/best_ask.
#include <cstdint>
#include <functional>

#include "codecs/polymarket_events.hpp"
#include "core/book_keeper.hpp"

namespace booktape::polymarket {

struct ApplierStats {
  std::uint64_t unattributed_entries = 0;  // price_change entries without an asset id
  std::uint64_t unknown_events = 0;
  std::uint64_t invalid_events = 0;
  std::uint64_t market_events = 0;         // new_market + market_resolved
};

// Told of what the applier changed, for the live consumers (io/consumers/consumer_feed.hpp):
// every token whose book, state or last trade an event touched, and every trade. Called on the
// book thread, inside decode(): cheap, never blocking.
class BookObserver {
 public:
  virtual ~BookObserver() = default;
  virtual void on_touched(TokenIndex t, std::string_view market) noexcept = 0;
  virtual void on_trade(TokenIndex t, const LastTradeEvent& e) noexcept = 0;
};

class BookApplier final : public EventSink {
 public:
  explicit BookApplier(BookKeeper& books) : books_(books) {}

  void on_book(BookEvent& e) override;
  void on_price_change(const PriceChangeEvent& e) override;
  void on_last_trade(const LastTradeEvent& e) override;
  void on_tick_size_change(const TickSizeChangeEvent& e) override;
  void on_best_bid_ask(const BestBidAskEvent& e) override;
  void on_market(const MarketEvent& e) override;
  void on_unknown(std::string_view) override { ++stats_.unknown_events; }
  void on_invalid(EventType, InvalidReason) override { ++stats_.invalid_events; }

  // Optional: called for new_market/market_resolved (the recorder rolls subscriptions on them).
  std::function<void(const MarketEvent&)> on_market_event;
  // Optional: the live consumers' hook (null in replay).
  BookObserver* observer = nullptr;

  [[nodiscard]] const ApplierStats& stats() const noexcept { return stats_; }

 private:
  BookKeeper& books_;
  ApplierStats stats_;
};

}  // namespace booktape::polymarket
