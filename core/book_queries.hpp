#pragma once
// Read-only questions a researcher or strategy asks of a book: top of book, mid, spread, depth,
// and what it would cost to trade a size or a notional now. All exact integer arithmetic; the
// only rounding is stated at each function.
#include <cstdint>
#include <optional>

#include "core/fixed_point.hpp"
#include "core/l2_book.hpp"

namespace booktape {

std::optional<Price> best_bid(const L2Book& b) noexcept;
std::optional<Price> best_ask(const L2Book& b) noexcept;

// Midpoint times two (bid + ask, in 0.0001 units), so it is exact on any grid.
std::optional<std::int64_t> mid_x2(const L2Book& b) noexcept;

struct Spread {
  Price absolute;               // ask - bid; <= 0 when the book is crossed or locked
  std::int64_t bps_x100;        // absolute / mid in basis points x100, rounded half away from 0
};
std::optional<Spread> spread(const L2Book& b) noexcept;

struct Depth {
  Size size = 0;          // shares, micro-units
  Notional notional = 0;  // USDC, 1e-10 units
  std::uint32_t levels = 0;
};
// The best `n` levels of one side.
Depth depth_levels(const BookSide& side, std::size_t n) noexcept;
// Levels priced within `band` of the side's best price (inclusive).
Depth depth_band(const BookSide& side, Price band) noexcept;

enum class Action : std::uint8_t { kBuy, kSell };  // buy lifts asks, sell hits bids

struct Fill {
  Size filled = 0;          // shares, micro-units
  Notional cost = 0;        // USDC paid (buy) or received (sell), 1e-10 units
  Price worst_price = 0;    // the last level touched
  std::uint32_t levels = 0;
  bool complete = false;    // false: the book was too thin for the request
  // Average price in 1e-8 USDC per share (cost / filled, rounded half up); 0 if nothing filled.
  [[nodiscard]] std::int64_t average_price_e8() const noexcept;
};
// Walks the book to trade `size` shares.
Fill fill_size(const L2Book& b, Action a, Size size) noexcept;
// Walks the book to spend (buy) or raise (sell) `notional`; a partial last level is filled to the
// largest whole micro-share that fits.
Fill fill_notional(const L2Book& b, Action a, Notional notional) noexcept;

// Polymarket's displayed probability: the midpoint, or the last trade when the spread is wider
// than 0.10 (docs: "how are prices calculated"; see docs/BOOKS.md for the fallbacks).
inline constexpr Price kDisplayMaxSpread = 1'000;  // 0.10
enum class DisplaySource : std::uint8_t { kNone, kMidpoint, kLastTrade };
struct DisplayedPrice {
  std::int64_t value_x2 = 0;  // price times two, 0.0001 units
  DisplaySource source = DisplaySource::kNone;
};
DisplayedPrice displayed_price(const L2Book& b, std::optional<Price> last_trade) noexcept;
const char* to_string(DisplaySource s) noexcept;

}  // namespace booktape
