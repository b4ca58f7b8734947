#pragma once
// The CLOB REST book summary (GET /book?token_id=, POST /books): rendered by the simulator and
// parsed by the recorder's checkpoints. Cold path: allocations are fine, nothing here is per
// frame. Wire shape: the Polymarket protocol reference, §3.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/book_keeper.hpp"
#include "core/fixed_point.hpp"
#include "core/l2_book.hpp"

namespace booktape::polymarket {

struct BookSummary {
  std::string market, asset_id;   // condition id, token id
  std::int64_t timestamp_ms = 0;  // Unix ms; on the wire a decimal string, like the venue
  // Any order here; rendered bids ascending and asks descending (best LAST), as real captures
  // show. Sizes must be > 0 to make sense, but are rendered as given.
  std::vector<Level> bids, asks;
  std::string min_order_size = "5";  // verbatim on the wire (a decimal string)
  Price tick_size = 100;             // 0.01
  bool neg_risk = false;
  Price last_trade_price = kNoPrice;  // kNoPrice renders as "" (a book that never traded)
  std::string hash;                   // rendered verbatim; set it with book_hash()
};

// One compact object, keys in the venue's order: market, asset_id, timestamp, hash, bids, asks,
// min_order_size, tick_size, neg_risk, last_trade_price. Prices and sizes are the shortest exact
// decimals ("0.5", "100").
std::string render_book_summary(const BookSummary& b);
// A JSON array of summaries (POST /books).
std::string render_books_response(std::span<const BookSummary> books);

// 40 lowercase hex chars: SHA-1 over render_book_summary() of `b` with an empty hash, the way
// py-clob-client rebuilds the server hash. The venue changed its field set more than once, so
// a real hash is only comparable for equality with another real hash, never with this one.
std::string book_hash(const BookSummary& b);

struct ParsedBook {
  std::string market, asset_id, hash;
  std::int64_t timestamp_ms = 0;  // "1703875200000" or a number; 0 if absent or an ISO date
  std::vector<Level> bids, asks;  // as given: the order is not trusted (see the protocol note)
  Price tick_size = 0;            // 0 if absent
  // Not needed by the checkpoint, but they complete the round trip with BookSummary.
  std::string min_order_size;         // verbatim; "" if absent
  bool neg_risk = false;              // false if absent
  Price last_trade_price = kNoPrice;  // kNoPrice if "" or absent
  bool ok = true;                     // false: a field could not be decoded exactly (see `error`)
  std::string error;
  // A tick_size or last_trade_price that could not be decoded (left at its default): the levels
  // are what a checkpoint compares, so the book stays ok.
  std::string warning;
};

// Parses a GET /book object or a POST /books array into `out` (cleared first). Returns false
// with `error` when the body is not JSON or is neither an object nor an array. Problems inside
// one book only set that book's ok=false: a level that is not {"price":"..","size":".."} with
// exact decimals (price <= 1, 4 decimals; size <= kMaxLevelSize, 6 decimals), a missing
// asset_id, or the venue's {"error": "..."} reply; a side that is null or absent is empty. A bad
// tick_size or last_trade_price only sets `warning`. Never throws on malformed input.
bool parse_books_response(std::string_view body, std::vector<ParsedBook>& out, std::string& error);

}  // namespace booktape::polymarket
