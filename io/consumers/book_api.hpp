#pragma once
// The bodies of the HTTP book API (issue 15, item 4; served once the operator listener exists):
// pure functions from books to JSON, so wiring them to routes is a few lines.
//   GET /books/<asset_id>   book_detail_json: the whole book with the analytics of every book
//                           message, depth within 1/5/10 cents of the best, and what it costs
//                           to buy or sell 100 and 1,000 USDC now
//   GET /odds/<slug|id>     odds_json: seed 001's current odds of a market's outcomes
// Exact decimals throughout (the book queries' integer arithmetic).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/fixed_point.hpp"
#include "core/l2_book.hpp"

namespace booktape {

// One token's book and what is known of it, from whichever source serves it.
struct BookSnapshot {
  std::string_view asset_id, market;  // market: the condition id ("" if unknown)
  const L2Book* book = nullptr;
  std::string_view state;  // "live", "stale", "rest", ...
  std::optional<Price> last_trade;
  std::int64_t received_ns = 0;  // receive time of its last update (UTC ns; 0: none)
  // Levels the whole book has on each side when `book` holds only its best ones (the book
  // table keeps consumer_depth levels); 0: `book` is the whole book.
  std::uint32_t whole_bids = 0, whole_asks = 0;
};

// {"asset_id","market","state","received_at_utc","age_ms","bids","asks",<analytics>,
//  "depth":{"bids","asks"},"levels_shown":{"bids","asks"},"depth_within":{"0.01":{"bids":{"size","notional","levels"},
//  "asks":{...}},"0.05":...,"0.1":...},"cost":{"buy":{"100":<fill>,"1000":<fill>},"sell":...}}
// where <fill> is {"filled","cost","average_price","worst_price","levels","complete"}.
// "depth" counts the whole book's levels, "levels_shown" those in "bids"/"asks" (fewer when
// the book was cut to its best levels); depth_within and cost are computed over the shown
// levels, so a fill that runs past them says "complete":false.
std::string book_detail_json(const BookSnapshot& b, std::int64_t now_ns);

// One outcome of a market, for the odds.
struct OutcomeSnapshot {
  std::string_view outcome;  // "Up", "Yes", ...
  BookSnapshot book;
};
// {"market","condition_id","outcomes":[{"outcome","asset_id","displayed_price",
//  "displayed_source","best_bid","best_ask","state","age_ms"}, ...]} (null where a book has
// none: no book yet, an empty side).
std::string odds_json(std::string_view slug, std::string_view condition_id,
                      std::span<const OutcomeSnapshot> outcomes, std::int64_t now_ns);

}  // namespace booktape
