#pragma once
// Exact decimal text -> scaled integer, for prices ("0.48", ".48", "0.480", "1", "0") and sizes
// ("219.217767"). Hot path: inline, no allocation, no locale, no floating point.
#include <cstdint>
#include <string_view>

namespace booktape {

enum class DecimalError : std::uint8_t {
  kOk = 0,
  kSyntax,       // empty, sign, exponent, stray characters, "." alone
  kTooPrecise,   // a non-zero digit beyond the allowed decimals ("0.00005" as a price)
  kOverflow,     // more than 18 significant digits once scaled
};

// Parses a non-negative decimal and returns value * 10^decimals in `out`. Trailing zeros beyond
// `decimals` are accepted ("0.480" with 2 decimals); non-zero digits beyond are kTooPrecise.
// Precondition: 0 <= decimals <= 9.
[[nodiscard]] inline DecimalError parse_decimal(std::string_view text, int decimals,
                                                std::int64_t& out) noexcept {
  constexpr std::int64_t kPow10[] = {1,         10,         100,         1'000,        10'000,
                                     100'000,   1'000'000,  10'000'000,  100'000'000,
                                     1'000'000'000};
  const char* p = text.data();
  const char* const end = p + text.size();
  std::uint64_t v = 0;
  int significant = 0;  // digits accumulated into v, leading zeros excluded
  bool any_digit = false;
  for (; p != end && static_cast<unsigned>(*p - '0') < 10; ++p) {
    any_digit = true;
    v = v * 10 + static_cast<unsigned>(*p - '0');
    if (v != 0 && ++significant > 18) return DecimalError::kOverflow;
  }
  int frac = 0;
  if (p != end && *p == '.') {
    ++p;
    for (; p != end && static_cast<unsigned>(*p - '0') < 10; ++p) {
      any_digit = true;
      if (frac < decimals) {
        v = v * 10 + static_cast<unsigned>(*p - '0');
        ++frac;
        if (v != 0 && ++significant > 18) return DecimalError::kOverflow;
      } else if (*p != '0') {
        return DecimalError::kTooPrecise;
      }
    }
  }
  if (p != end || !any_digit) return DecimalError::kSyntax;
  const int scale_digits = decimals - frac;
  if (v != 0 && significant + scale_digits > 18) return DecimalError::kOverflow;
  out = static_cast<std::int64_t>(v) * kPow10[scale_digits];
  return DecimalError::kOk;
}

const char* to_string(DecimalError e) noexcept;

}  // namespace booktape
