#pragma once
// The decoder's fast path: a strict hand-written scanner for the two frames that make up almost
// all of the market channel, one `price_change` or one `book` event object, in the shapes the
// venue sends. Internal to codecs/; Decoder calls it first and falls back to simdjson on-demand
// when it answers false, so callers see one decoder (docs/PERFORMANCE.md, "Decode fast path").
//
// Strict means it accepts only what it fully understands and the general decoder would read the
// same way: a single object (whitespace allowed between tokens) whose keys are the event's own
// (event_type, asset_id, market, hash, timestamp, price_changes, bids, asks; each at most once)
// or any other key with a plain string value; every value a string of printable ASCII without
// escapes; entries and levels objects of string values; event_type "price_change" (with
// price_changes) or "book". Anything else (escapes, non-ASCII, numbers, null, nesting, repeated
// keys, arrays of events, legacy "changes", [price, size] pairs, trailing bytes, a cut frame)
// is declined, and nothing has been delivered or counted: the general decoder then does it all.
// tests/codecs/polymarket_fast_path_test.cpp and fuzz/codecs/decoder_differential_fuzzer.cpp
// check that both give the same events, results and counters.
#include <array>
#include <cstddef>
#include <cstdint>

#include "codecs/polymarket_fields.hpp"

namespace booktape::polymarket::fast_path {

// What a recognized frame holds, for Decoder's dispatch (levels and entries are in the scratch),
// and what the scanner learns across frames. One per decoder.
struct Scan {
  fields::EventFields fields;
  std::uint32_t bad_levels = 0;  // levels with a bad price or size (dropped)
  std::uint32_t bad_values = 0;  // entries and levels with a value that failed exact decoding
  // The order of a price_changes entry's keys as last seen, as the scanner's slot numbers
  // (asset_id, price, size, side, hash, best_bid, best_ask, other): only speed depends on it.
  std::array<std::uint8_t, 8> entry_order = {0, 1, 2, 3, 4, 5, 6, 7};
};

// Reads `data[0, size)`, which must be followed by Decoder::kPadding readable bytes. Returns
// true when the frame is one of the two shapes above and fills `out` and `scratch` (both reset
// first, but for what `out` learned); false otherwise (then both may hold partial work, which
// the general decoder clears).
[[nodiscard]] bool scan(const char* data, std::size_t size, fields::EventScratch& scratch,
                        Scan& out) noexcept;

}  // namespace booktape::polymarket::fast_path
