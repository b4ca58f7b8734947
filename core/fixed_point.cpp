#include "core/fixed_point.hpp"

namespace booktape {

std::size_t format_fixed(char* out, Int128 value, int decimals) noexcept {
  char* p = out;
  // Work in unsigned so that the most negative value formats too.
  __extension__ using UInt128 = unsigned __int128;
  UInt128 mag = static_cast<UInt128>(value);
  if (value < 0) {
    *p++ = '-';
    mag = ~mag + 1;
  }
  char digits[48];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + mag % 10);
    mag /= 10;
  } while (mag != 0);
  while (n <= decimals) digits[n++] = '0';  // at least one digit before the point

  // digits[] holds the number reversed; the first `decimals` entries are the fraction.
  int frac_end = 0;  // drop trailing zeros of the fraction
  while (frac_end < decimals && digits[frac_end] == '0') ++frac_end;
  for (int i = n - 1; i >= decimals; --i) *p++ = digits[i];
  if (frac_end < decimals) {
    *p++ = '.';
    for (int i = decimals - 1; i >= frac_end; --i) *p++ = digits[i];
  }
  return static_cast<std::size_t>(p - out);
}

std::string format_fixed(Int128 value, int decimals) {
  char buf[48];
  return std::string(buf, format_fixed(buf, value, decimals));
}

}  // namespace booktape
