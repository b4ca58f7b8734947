#pragma once
// Books as JSON, in the one shape every tool shares (replay --dump-books, the simulator's
// ground truth, tests): a list of
//   {"asset_id": "...", "bids": [["0.48","100"], ...], "asks": [...]}
// with levels best first and prices/sizes as exact decimal strings, sorted by asset_id.
#include <map>
#include <string>
#include <string_view>

#include "core/book_keeper.hpp"
#include "core/l2_book.hpp"

namespace booktape {

void append_book_json(std::string& out, std::string_view asset_id, const L2Book& book);
std::string books_json(const BookKeeper& books);  // the whole list, one book per line
// A list in that shape split by asset id, each book minified, to compare two lists book by
// book (a replay's against the simulator's truth). Empty if `json` is not such a list.
std::map<std::string, std::string> books_by_asset(std::string_view json);

// One token's book with its state and the queries a researcher asks first (replay --at).
std::string book_view_json(const BookKeeper& books, TokenIndex t);

}  // namespace booktape
