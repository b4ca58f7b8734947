#include "core/clock.hpp"

#include <time.h>

#include <charconv>

namespace booktape {

UnixNanos realtime_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * kNanosPerSecond + ts.tv_nsec;
}

MonoNanos monotonic_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return ts.tv_sec * kNanosPerSecond + ts.tv_nsec;
}

namespace {

// Days since 1970-01-01 <-> proleptic Gregorian date, by 400-year eras (146,097 days each).
std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<int>(y - era * 400);
  const int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146'097 + doe - 719'468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) noexcept {
  z += 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<int>(z - era * 146'097);
  const int yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

void put2(char* p, int v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

CivilTime to_civil(UnixNanos t) noexcept {
  std::int64_t secs = t / kNanosPerSecond;
  std::int64_t nanos = t % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  std::int64_t days = secs / 86'400;
  std::int64_t sod = secs % 86'400;
  if (sod < 0) {
    sod += 86'400;
    --days;
  }
  CivilTime c{};
  civil_from_days(days, c.year, c.month, c.day);
  c.hour = static_cast<int>(sod / 3'600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  c.nanos = static_cast<std::int32_t>(nanos);
  return c;
}

void format_utc(char* out, UnixNanos t) noexcept {
  const CivilTime c = to_civil(t);
  const int y = c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year;  // four digits always
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  put2(out + 2, y % 100);
  out[4] = '-';
  put2(out + 5, c.month);
  out[7] = '-';
  put2(out + 8, c.day);
  out[10] = 'T';
  put2(out + 11, c.hour);
  out[13] = ':';
  put2(out + 14, c.minute);
  out[16] = ':';
  put2(out + 17, c.second);
  out[19] = '.';
  std::int32_t n = c.nanos;
  for (int i = 28; i >= 20; --i) {
    out[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  out[29] = 'Z';
}

std::string format_utc(UnixNanos t) {
  std::string s(kUtcTextLength, '\0');
  format_utc(s.data(), t);
  return s;
}

std::optional<UnixNanos> parse_utc(std::string_view s) noexcept {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) ||
      s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  std::size_t pos = 10;
  std::int64_t nanos = 0;
  if (pos < s.size()) {
    if ((s[pos] != 'T' && s[pos] != ' ') || !digits(s, pos + 1, 2, h) || s.size() < pos + 9 ||
        s[pos + 3] != ':' || !digits(s, pos + 4, 2, mi) || s[pos + 6] != ':' ||
        !digits(s, pos + 7, 2, sec))
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int nd = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (nd == 9) return std::nullopt;
        nanos = nanos * 10 + (s[pos] - '0');
        ++nd;
        ++pos;
      }
      if (nd == 0) return std::nullopt;
      for (; nd < 9; ++nd) nanos *= 10;
    }
    const std::string_view zone = s.substr(pos);
    if (zone != "Z" && zone != "+00:00" && !zone.empty()) return std::nullopt;
  }
  // Impossible dates are errors, not rolled into the next month; a leap second (60) has no
  // POSIX time, so it is refused too.
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  const std::int64_t days = days_from_civil(y, mo, d);
  return ((days * 86'400 + h * 3'600 + mi * 60 + sec) * kNanosPerSecond) + nanos;
}

}  // namespace booktape
