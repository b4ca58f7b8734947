#pragma once
// The JSON the live consumers publish (docs/CONSUMERS.md, "Messages"): a token's book from its
// table slot, and a trade. The levels and analytics use the book shape every tool shares
// (codecs/book_json.hpp, as `replay --dump-books` writes them), so a consumer can compare a
// live book with a replayed one byte for byte.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/l2_book.hpp"
#include "io/consumers/consumer_feed.hpp"
#include "io/consumers/shm_book_table.hpp"

namespace booktape {

class BookMessage {
 public:
  // Replaces `out` with the book message of slot `b`:
  //   {"asset_id","market","bids","asks","best_bid","best_ask","mid","spread","spread_bps",
  //    "displayed_price","displayed_source","last_trade_price","state","stale_reason",
  //    "received_at_utc","venue_timestamp_ms","seq","depth":{"bids","asks"}}
  // plus "rest_fetched_at_utc" and "rest_age_ms" (`now_ns` minus the REST book's venue time)
  // when the state is "rest". No allocation once `out` and the scratch book have grown.
  void build(std::string& out, const shm::Book& b, std::int64_t now_ns);

  // The book of the last build(), as an L2Book (the levels the table keeps).
  [[nodiscard]] const L2Book& book() const noexcept { return book_; }

 private:
  L2Book book_;
  std::vector<Level> bids_, asks_;
};

// Appends a trade message: {"asset_id","market","price","size","side","fee_rate_bps",
// "venue_timestamp_ms","received_at_utc"} (fee_rate_bps null when the venue did not say).
void append_trade_json(std::string& out, std::string_view asset_id, std::string_view market,
                       const TradeRecord& t);

// `"2026-11-21T05:34:12.123456789Z"` (quoted), without a temporary string.
void append_quoted_utc(std::string& out, std::int64_t unix_ns);

}  // namespace booktape
