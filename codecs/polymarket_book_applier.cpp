#include "codecs/polymarket_book_applier.hpp"

namespace booktape::polymarket {

void BookApplier::on_book(BookEvent& e) {
  const TokenIndex t = books_.token(e.asset_id);
  if (t == kNoToken) return;  // over the token limit; counted by the keeper
  if (e.bad_levels > 0) {
    books_.mark_stale(t, StaleReason::kBadSnapshot);
  } else {
    books_.apply_snapshot(t, e.bids, e.asks, e.timestamp_ms);
  }
  if (observer != nullptr) observer->on_touched(t, e.market);
}

void BookApplier::on_price_change(const PriceChangeEvent& e) {
  for (const PriceChangeEntry& c : e.entries) {
    if (c.flags & kNoAssetId) {
      ++stats_.unattributed_entries;
      continue;
    }
    const TokenIndex t = books_.token(c.asset_id);
    if (t == kNoToken) continue;
    if (c.flags & (kBadPrice | kBadSize | kBadSide)) {
      books_.mark_stale(t, StaleReason::kBadUpdate);
    } else {
      const bool check = !e.legacy && !(c.flags & kBadBest);
      books_.apply_change(t, c.side, c.price, c.size, e.timestamp_ms,
                          check ? &c.venue_top : nullptr);
    }
    if (observer != nullptr) observer->on_touched(t, e.market);
  }
}

void BookApplier::on_last_trade(const LastTradeEvent& e) {
  const TokenIndex t = books_.token(e.asset_id);
  if (t == kNoToken) return;
  books_.record_trade(t, e.price, e.size, e.timestamp_ms);
  if (observer != nullptr) observer->on_trade(t, e);
}

void BookApplier::on_tick_size_change(const TickSizeChangeEvent& e) {
  const TokenIndex t = books_.token(e.asset_id);
  // An unreadable new tick still makes the book unconfirmed: the venue changed the grid anyway.
  if (t == kNoToken) return;
  books_.apply_tick_size(t, (e.flags & kBadPrice) ? 0 : e.new_tick, e.timestamp_ms);
  if (observer != nullptr) observer->on_touched(t, e.market);
}

void BookApplier::on_best_bid_ask(const BestBidAskEvent& e) {
  if (e.flags & kBadBest) return;
  const TokenIndex t = books_.token(e.asset_id);
  if (t != kNoToken) books_.record_venue_top(t, e.top, e.timestamp_ms);
}

void BookApplier::on_market(const MarketEvent& e) {
  ++stats_.market_events;
  if (on_market_event) on_market_event(e);
}

}  // namespace booktape::polymarket
