#pragma once
// Books as JSON, in the one shape every tool shares (replay --dump-books, replay --at, the
// simulator's ground truth, consumers, tests): a list of
//   {"asset_id": "...", "state": "live", "state_since": "2026-...Z",
//    "bids": [["0.48","100"], ...], "asks": [...]}
// with levels best first and prices/sizes as exact decimal strings, sorted by asset_id. `state`
// is core/book_keeper.hpp's BookState by name (how far to trust the levels), `state_since` the
// receive time it was entered (null if unknown).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/book_keeper.hpp"
#include "core/l2_book.hpp"

namespace booktape {

void append_book_json(std::string& out, std::string_view asset_id, const L2Book& book,
                      BookState state, std::int64_t state_since_ns);
// A kept book in that shape, with its own state.
void append_book_json(std::string& out, const BookKeeper& books, TokenIndex t);
// Pieces of book JSON, without temporary strings (no allocation once `out` has grown):
// `"0.48"` (an exact decimal string), a price or null (kNoPrice), an integer.
void append_quoted_fixed(std::string& out, Int128 value, int decimals);
void append_price_or_null(std::string& out, Price p);
void append_json_int(std::string& out, std::int64_t v);
// One side in that shape: [["0.48","100"], ...], best first.
void append_side_json(std::string& out, const BookSide& side);
// The queries every book view carries, each as `,"key":value`: best_bid and best_ask (null for
// an empty side), then mid, spread and spread_bps (both sides present), displayed_price and
// displayed_source (when there is one). Prices are exact decimal strings.
void append_book_analytics(std::string& out, const L2Book& book, std::optional<Price> last_trade);
std::string books_json(const BookKeeper& books);  // the whole list, one book per line
// A list in that shape split by asset id, each book's levels minified
// ({"asset_id":..,"bids":..,"asks":..}), to compare what two lists hold book by book (a
// replay's against the simulator's truth); `state` and `state_since` say how far to trust a
// book, not what it holds, and are left out. Empty if `json` is not such a list.
std::map<std::string, std::string> books_by_asset(std::string_view json);

// One token's book with its state and the queries a researcher asks first (replay --at).
std::string book_view_json(const BookKeeper& books, TokenIndex t);

}  // namespace booktape
