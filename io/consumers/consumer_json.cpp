#include "io/consumers/consumer_json.hpp"

#include <charconv>

#include "codecs/book_json.hpp"
#include "codecs/envelope.hpp"
#include "core/clock.hpp"

namespace booktape {

namespace {

const char* stale_reason_name(std::uint8_t r) noexcept {
  return to_string(static_cast<StaleReason>(r));
}

}  // namespace

void append_quoted_utc(std::string& out, std::int64_t unix_ns) {
  char buf[kUtcTextLength];
  format_utc(buf, unix_ns);
  out += '"';
  out.append(buf, kUtcTextLength);
  out += '"';
}

void BookMessage::build(std::string& out, const shm::Book& b, std::int64_t now_ns) {
  const shm::SlotHead& h = b.head;
  bids_.clear();
  asks_.clear();
  for (const shm::Level& l : b.bids) bids_.push_back(Level{l.size, l.price});
  for (const shm::Level& l : b.asks) asks_.push_back(Level{l.size, l.price});
  (void)book_.side(Side::kBid).assign(bids_);
  (void)book_.side(Side::kAsk).assign(asks_);

  out.clear();
  out += "{\"asset_id\":";
  append_json_string(out, std::string_view(h.asset_id, strnlen(h.asset_id, sizeof h.asset_id)));
  out += ",\"market\":";
  append_json_string(out, std::string_view(h.market, strnlen(h.market, sizeof h.market)));
  out += ",\"bids\":";
  append_side_json(out, book_.bids());
  out += ",\"asks\":";
  append_side_json(out, book_.asks());
  const bool traded = h.last_trade_price != shm::kNoPrice;
  append_book_analytics(out, book_,
                        traded ? std::optional<Price>(h.last_trade_price) : std::nullopt);
  out += ",\"last_trade_price\":";
  append_price_or_null(out, traded ? h.last_trade_price : kNoPrice);
  out += ",\"state\":\"";
  out += shm::state_name(h.state);
  out += "\",\"stale_reason\":\"";
  out += stale_reason_name(h.stale_reason);
  out += "\",\"received_at_utc\":";
  append_quoted_utc(out, h.received_ns);
  out += ",\"venue_timestamp_ms\":";
  append_json_int(out, h.venue_ms);
  out += ",\"seq\":";
  append_json_int(out, static_cast<std::int64_t>(h.update_seq));
  out += ",\"depth\":{\"bids\":";
  append_json_int(out, h.bid_depth);
  out += ",\"asks\":";
  append_json_int(out, h.ask_depth);
  out += '}';
  if (h.state == static_cast<std::uint8_t>(shm::State::kRest)) {
    out += ",\"rest_fetched_at_utc\":";
    append_quoted_utc(out, h.rest_fetched_ns);
    out += ",\"rest_age_ms\":";
    append_json_int(out, h.venue_ms > 0 ? now_ns / 1'000'000 - h.venue_ms
                                   : (now_ns - h.rest_fetched_ns) / 1'000'000);
  }
  out += '}';
}

void append_trade_json(std::string& out, std::string_view asset_id, std::string_view market,
                       const TradeRecord& t) {
  out += "{\"asset_id\":";
  append_json_string(out, asset_id);
  out += ",\"market\":";
  append_json_string(out, market);
  out += ",\"price\":";
  append_quoted_fixed(out, t.price, kPriceDecimals);
  out += ",\"size\":";
  append_quoted_fixed(out, t.size, kSizeDecimals);
  out += t.side == 0 ? ",\"side\":\"BUY\"" : ",\"side\":\"SELL\"";
  out += ",\"fee_rate_bps\":";
  if (t.fee_rate_bps < 0)
    out += "null";
  else
    append_json_int(out, t.fee_rate_bps);
  out += ",\"venue_timestamp_ms\":";
  append_json_int(out, t.venue_ms);
  out += ",\"received_at_utc\":";
  append_quoted_utc(out, t.received_ns);
  out += '}';
}

}  // namespace booktape
