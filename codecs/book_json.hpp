#pragma once
// Books as JSON, in the one shape every tool shares (replay --dump-books, replay --at, the
// simulator's ground truth, consumers, tests): a list of
//   {"asset_id": "...", "state": "live", "state_since": "2026-...Z",
//    "bids": [["0.48","100"], ...], "asks": [...]}
// with levels best first and prices/sizes as exact decimal strings, sorted by asset_id. `state`
// is core/book_keeper.hpp's BookState by name (how far to trust the levels), `state_since` the
// receive time it was entered (null if unknown).
#include <map>
#include <string>
#include <string_view>

#include "core/book_keeper.hpp"
#include "core/l2_book.hpp"

namespace booktape {

void append_book_json(std::string& out, std::string_view asset_id, const L2Book& book,
                      BookState state, std::int64_t state_since_ns);
// A kept book in that shape, with its own state.
void append_book_json(std::string& out, const BookKeeper& books, TokenIndex t);
std::string books_json(const BookKeeper& books);  // the whole list, one book per line
// A list in that shape split by asset id, each book's levels minified
// ({"asset_id":..,"bids":..,"asks":..}), to compare what two lists hold book by book (a
// replay's against the simulator's truth); `state` and `state_since` say how far to trust a
// book, not what it holds, and are left out. Empty if `json` is not such a list.
std::map<std::string, std::string> books_by_asset(std::string_view json);

// One token's book with its state and the queries a researcher asks first (replay --at).
std::string book_view_json(const BookKeeper& books, TokenIndex t);

}  // namespace booktape
