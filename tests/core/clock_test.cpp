#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace booktape {
namespace {

// Reference instants (checked with Python's calendar.timegm):
//   2026-11-21T05:34:12Z = 1,795,239,252 s; that day starts at 1,795,219,200 s.
//   2024-02-29T00:00:00Z = 1,709,164,800 s; 2024-03-01T00:00:00Z = 1,709,251,200 s.
//   2000-02-29T12:00:00Z =   951,825,600 s (leap year by the 400 rule).
//   1900-03-01T00:00:00Z = -2,203,891,200 s (1900 is not a leap year).
//   2100-01-01T00:00:00Z = 4,102,444,800 s.
constexpr UnixNanos kInstant = 1'795'239'252'123'456'789;
constexpr UnixNanos kInstantDay = 1'795'219'200 * kNanosPerSecond;
constexpr UnixNanos kLeapDay = 1'709'164'800 * kNanosPerSecond;
constexpr UnixNanos kMarch2024 = 1'709'251'200 * kNanosPerSecond;
constexpr UnixNanos kYear2100 = 4'102'444'800 * kNanosPerSecond;

// --- format_utc -----------------------------------------------------------------------------

TEST(FormatUtc, Epoch) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(FormatUtc, KnownInstantWithNanoseconds) {
  EXPECT_EQ(format_utc(kInstant), "2026-11-21T05:34:12.123456789Z");
}

TEST(FormatUtc, LeapDay) {
  EXPECT_EQ(format_utc(kLeapDay), "2024-02-29T00:00:00.000000000Z");
  EXPECT_EQ(format_utc(kMarch2024 - 1), "2024-02-29T23:59:59.999999999Z");
  EXPECT_EQ(format_utc(kMarch2024), "2024-03-01T00:00:00.000000000Z");
  EXPECT_EQ(format_utc(951'825'600 * kNanosPerSecond), "2000-02-29T12:00:00.000000000Z");
}

TEST(FormatUtc, BeforeTheEpoch) {
  EXPECT_EQ(format_utc(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_utc(-kNanosPerSecond), "1969-12-31T23:59:59.000000000Z");
  EXPECT_EQ(format_utc(-kNanosPerSecond - 1), "1969-12-31T23:59:58.999999999Z");
  EXPECT_EQ(format_utc(-86'400 * kNanosPerSecond), "1969-12-31T00:00:00.000000000Z");
  const UnixNanos march_1900 = -2'203'891'200 * kNanosPerSecond;
  EXPECT_EQ(format_utc(march_1900), "1900-03-01T00:00:00.000000000Z");
  EXPECT_EQ(format_utc(march_1900 - 1), "1900-02-28T23:59:59.999999999Z");  // no Feb 29
}

TEST(FormatUtc, WritesExactlyThirtyCharsIntoABuffer) {
  char buf[kUtcTextLength + 2];
  std::memset(buf, '#', sizeof buf);
  format_utc(buf, kInstant);
  EXPECT_EQ(std::string(buf, kUtcTextLength), "2026-11-21T05:34:12.123456789Z");
  EXPECT_EQ(buf[kUtcTextLength], '#');  // no terminator, nothing past the end
  EXPECT_EQ(format_utc(kYear2100).size(), kUtcTextLength);
}

TEST(ToCivil, SplitsIntoFields) {
  const CivilTime c = to_civil(kInstant);
  EXPECT_EQ(c.year, 2026);
  EXPECT_EQ(c.month, 11);
  EXPECT_EQ(c.day, 21);
  EXPECT_EQ(c.hour, 5);
  EXPECT_EQ(c.minute, 34);
  EXPECT_EQ(c.second, 12);
  EXPECT_EQ(c.nanos, 123'456'789);
  const CivilTime before = to_civil(-1);
  EXPECT_EQ(before.year, 1969);
  EXPECT_EQ(before.nanos, 999'999'999);
}

// --- parse_utc ------------------------------------------------------------------------------

TEST(ParseUtc, AcceptsFullFormWithZ) {
  EXPECT_EQ(parse_utc("2026-11-21T05:34:12.123456789Z"), kInstant);
  EXPECT_EQ(parse_utc("1970-01-01T00:00:00.000000000Z"), 0);
  EXPECT_EQ(parse_utc("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(parse_utc("2024-02-29T00:00:00Z"), kLeapDay);
}

TEST(ParseUtc, AcceptsPlusZeroOffset) {
  EXPECT_EQ(parse_utc("2026-11-21T05:34:12.123456789+00:00"), kInstant);
  EXPECT_EQ(parse_utc("2026-11-21T05:34:12+00:00"), kInstant - 123'456'789);
}

TEST(ParseUtc, AcceptsNoFraction) {
  EXPECT_EQ(parse_utc("2026-11-21T05:34:12Z"), 1'795'239'252 * kNanosPerSecond);
}

TEST(ParseUtc, AcceptsOneToNineFractionDigits) {
  // ".1" is 100 ms, ".12" is 120 ms, ... ".123456789" is 123,456,789 ns.
  const std::string digits = "123456789";
  const UnixNanos whole = 1'795'239'252 * kNanosPerSecond;
  std::int64_t scale = kNanosPerSecond;
  std::int64_t fraction = 0;
  for (std::size_t n = 1; n <= 9; ++n) {
    scale /= 10;
    fraction = fraction * 10 + (digits[n - 1] - '0');
    const std::string text = "2026-11-21T05:34:12." + digits.substr(0, n) + "Z";
    EXPECT_EQ(parse_utc(text), whole + fraction * scale) << text;
  }
  EXPECT_EQ(parse_utc("2026-11-21T05:34:12.000000001Z"), whole + 1);
  EXPECT_EQ(parse_utc("2026-11-21T05:34:12.5Z"), whole + 500'000'000);
}

TEST(ParseUtc, AcceptsDateAlone) {
  EXPECT_EQ(parse_utc("2026-11-21"), kInstantDay);
  EXPECT_EQ(parse_utc("2024-02-29"), kLeapDay);
  EXPECT_EQ(parse_utc("1970-01-01"), 0);
  EXPECT_EQ(parse_utc("1969-12-31"), -86'400 * kNanosPerSecond);
}

TEST(ParseUtc, AcceptsIntegerNanoseconds) {
  EXPECT_EQ(parse_utc("1795239252123456789"), kInstant);
  EXPECT_EQ(parse_utc("0"), 0);
  EXPECT_EQ(parse_utc("9223372036854775807"), INT64_MAX);
}

TEST(ParseUtc, RejectsMalformedText) {
  for (const char* bad : {
           "",
           "abc",
           "-1",                   // negative integers are not accepted
           "9223372036854775808",  // integer overflows int64
           "1.5",
           "26-11-21",
           "2026/11/21",
           "2026-1-21",
           "2026-11-2",
           "2026-11-21T",
           "2026-11-21T05:34",
           "2026-11-21T5:34:12Z",
           "2026-11-21X05:34:12Z",
           "2026-11-21T05:34:12.Z",            // a dot needs at least one digit
           "2026-11-21T05:34:12.1234567891Z",  // ten fraction digits
           "2026-11-21T05:34:12.12a3Z",
           "2026-11-21T05:34:12+01:00",  // only UTC
           "2026-11-21T05:34:12-00:00",
           "2026-11-21T05:34:12z",
           "2026-11-21T05:34:12ZZ",
           "2026-11-21T05:34:12Z ",
           " 2026-11-21T05:34:12Z",
           "2026-13-01",
           "2026-00-10",
           "2026-11-00",
           "2026-11-32",
           "2026-11-21T24:00:00Z",
           "2026-11-21T05:60:00Z",
           "2026-11-21T05:34:61Z",
       }) {
    EXPECT_EQ(parse_utc(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(ParseUtc, RoundTripsFormattedTimesFrom1970To2100) {
  std::mt19937_64 rng(1'795'239'252);
  std::uniform_int_distribution<UnixNanos> when(0, kYear2100);
  for (int i = 0; i < 100'000; ++i) {
    const UnixNanos t = when(rng);
    const std::string text = format_utc(t);
    ASSERT_EQ(parse_utc(text), t) << text;
  }
}

TEST(ParseUtc, RoundTripsBeforeTheEpochAndAtDayEdges) {
  for (const UnixNanos t :
       {UnixNanos{-1}, UnixNanos{1}, -kNanosPerSecond, -86'400 * kNanosPerSecond - 1,
        -2'203'891'200 * kNanosPerSecond, kLeapDay - 1, kLeapDay, kMarch2024 - 1, kMarch2024,
        kYear2100 - 1, kYear2100}) {
    const std::string text = format_utc(t);
    EXPECT_EQ(parse_utc(text), t) << text;
  }
}

TEST(ParseUtc, TruncatedFormsParseToTheTruncatedInstant) {
  // Dropping precision from a formatted time gives the same instant rounded down.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<UnixNanos> when(0, kYear2100);
  for (int i = 0; i < 10'000; ++i) {
    const UnixNanos t = when(rng);
    const std::string text = format_utc(t);
    const UnixNanos second = t - t % kNanosPerSecond;
    const UnixNanos millis = t - t % 1'000'000;
    ASSERT_EQ(parse_utc(text.substr(0, 19) + "Z"), second) << text;
    ASSERT_EQ(parse_utc(text.substr(0, 23) + "+00:00"), millis) << text;
    ASSERT_EQ(parse_utc(text.substr(0, 10)), second - second % (86'400 * kNanosPerSecond)) << text;
  }
}

// --- utc_hour_start -------------------------------------------------------------------------

TEST(UtcHourStart, RoundsDownToTheHour) {
  // 05:34:12.123456789 -> 05:00:00, i.e. 34 min 12 s = 2,052 s earlier.
  EXPECT_EQ(utc_hour_start(kInstant), (1'795'239'252 - 2'052) * kNanosPerSecond);
  EXPECT_EQ(format_utc(utc_hour_start(kInstant)), "2026-11-21T05:00:00.000000000Z");
  EXPECT_EQ(utc_hour_start(0), 0);
  EXPECT_EQ(utc_hour_start(kNanosPerHour - 1), 0);
  EXPECT_EQ(utc_hour_start(kNanosPerHour), kNanosPerHour);
  EXPECT_EQ(utc_hour_start(kLeapDay), kLeapDay);
}

TEST(UtcHourStart, RoundsTowardsMinusInfinityBeforeTheEpoch) {
  EXPECT_EQ(utc_hour_start(-1), -kNanosPerHour);
  EXPECT_EQ(utc_hour_start(-kNanosPerHour), -kNanosPerHour);
  EXPECT_EQ(utc_hour_start(-kNanosPerHour - 1), -2 * kNanosPerHour);
  EXPECT_EQ(format_utc(utc_hour_start(-1)), "1969-12-31T23:00:00.000000000Z");
}

TEST(UtcHourStart, IsAnHourBoundaryAtOrBeforeTheInput) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<UnixNanos> when(-kYear2100, kYear2100);
  for (int i = 0; i < 10'000; ++i) {
    const UnixNanos t = when(rng);
    const UnixNanos h = utc_hour_start(t);
    ASSERT_EQ(h % kNanosPerHour, 0) << t;
    ASSERT_LE(h, t);
    ASSERT_GT(h + kNanosPerHour, t);
  }
}

// --- clocks ---------------------------------------------------------------------------------

TEST(Clocks, RealtimeIsAfter2024AndMonotonicDoesNotGoBack) {
  EXPECT_GT(realtime_now(), kLeapDay);
  const MonoNanos m1 = monotonic_now();
  const MonoNanos m2 = monotonic_now();
  EXPECT_LE(m1, m2);
}

}  // namespace
}  // namespace booktape

namespace booktape {
namespace {

TEST(ParseUtc, RejectsImpossibleDatesAndLeapSeconds) {
  EXPECT_FALSE(parse_utc("2026-02-29T00:00:00Z"));  // 2026 is not a leap year
  EXPECT_FALSE(parse_utc("2026-02-30"));
  EXPECT_FALSE(parse_utc("2026-04-31T12:00:00Z"));
  EXPECT_FALSE(parse_utc("2016-12-31T23:59:60Z"));  // leap second: no POSIX time
  EXPECT_TRUE(parse_utc("2024-02-29T00:00:00Z"));
  EXPECT_TRUE(parse_utc("2000-02-29"));
  EXPECT_FALSE(parse_utc("1900-02-29"));
  EXPECT_EQ(parse_utc("2026-11-21 05:34:12"), parse_utc("2026-11-21T05:34:12Z"));
}

}  // namespace
}  // namespace booktape
