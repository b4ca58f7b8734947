#pragma once
// Exact numbers for prices, sizes and notionals. Nothing here is floating point: the venue sends
// decimal strings and we keep them as integers on fixed grids, so books and fills are exact.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace booktape {

// Price in units of 0.0001 USDC per share: the finest tick Polymarket documents (0.1, 0.01,
// 0.001, 0.0001). Valid prices are 0..kPriceOne. Every tick in use is a multiple, 0.0025 (reported
// for some 2026 markets) included, so a tick size change never rounds a price.
using Price = std::int32_t;
inline constexpr int kPriceDecimals = 4;
inline constexpr Price kPriceScale = 10'000;
inline constexpr Price kPriceOne = kPriceScale;  // 1.0 USDC, the upper bound of a share's price

// Size (shares) in micro-units: the venue sends up to 6 decimals ("219.217767").
using Size = std::int64_t;
inline constexpr int kSizeDecimals = 6;
inline constexpr Size kSizeScale = 1'000'000;
// Largest size accepted for one level (10^8 shares). Bounding it keeps every sum over a side
// (at most 10,001 prices) inside 64 bits. Decoders reject a larger value as a bad value.
inline constexpr Size kMaxLevelSize = Size{100'000'000} * kSizeScale;

__extension__ using Int128 = __int128;
// Notional (USDC) in units of 1e-10: exactly Price x Size with no rounding, 128-bit so that no
// sum over a book can overflow.
using Notional = Int128;
inline constexpr int kNotionalDecimals = kPriceDecimals + kSizeDecimals;

enum class Side : std::uint8_t { kBid = 0, kAsk = 1 };

// Writes `value / 10^decimals` as the shortest exact decimal string ("0.48", "1", "219.217767",
// "-0.5"): no exponent, no trailing zeros, no trailing dot. Returns the number of chars written;
// `out` needs 48 chars.
std::size_t format_fixed(char* out, Int128 value, int decimals) noexcept;
std::string format_fixed(Int128 value, int decimals);

inline std::string format_price(Price p) { return format_fixed(p, kPriceDecimals); }
inline std::string format_size(Size s) { return format_fixed(s, kSizeDecimals); }
inline std::string format_notional(Notional n) { return format_fixed(n, kNotionalDecimals); }

}  // namespace booktape
