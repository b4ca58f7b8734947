#include "codecs/decimal.hpp"

#include <gtest/gtest.h>

namespace booktape {
namespace {

std::int64_t parse_ok(std::string_view s, int decimals) {
  std::int64_t v = -1;
  EXPECT_EQ(parse_decimal(s, decimals, v), DecimalError::kOk) << s;
  return v;
}

DecimalError parse_err(std::string_view s, int decimals) {
  std::int64_t v = 0;
  return parse_decimal(s, decimals, v);
}

TEST(ParseDecimal, AcceptsEveryPriceFormTheVenueSends) {
  EXPECT_EQ(parse_ok(".48", 4), 4'800);
  EXPECT_EQ(parse_ok("0.48", 4), 4'800);
  EXPECT_EQ(parse_ok("0.480", 4), 4'800);
  EXPECT_EQ(parse_ok("0.50", 4), 5'000);
  EXPECT_EQ(parse_ok("0.5", 4), 5'000);
  EXPECT_EQ(parse_ok("1", 4), 10'000);
  EXPECT_EQ(parse_ok("0", 4), 0);
  EXPECT_EQ(parse_ok("0.001", 4), 10);
  EXPECT_EQ(parse_ok("0.0001", 4), 1);
  EXPECT_EQ(parse_ok("1.", 4), 10'000);
}

TEST(ParseDecimal, AcceptsSizesToSixDecimals) {
  EXPECT_EQ(parse_ok("219.217767", 6), 219'217'767);
  EXPECT_EQ(parse_ok("8.333332", 6), 8'333'332);
  EXPECT_EQ(parse_ok("100.00", 6), 100'000'000);
  EXPECT_EQ(parse_ok("0", 6), 0);
  EXPECT_EQ(parse_ok("000012.5", 6), 12'500'000);
  EXPECT_EQ(parse_ok("0.1000000000", 6), 100'000);
}

TEST(ParseDecimal, RejectsWhatIsNotAnExactNonNegativeDecimal) {
  for (std::string_view s : {"", ".", "-1", "+1", "1e3", "0x10", " 1", "1 ", "1.2.3", "abc",
                             "1,5", "\"1\"", "NaN"}) {
    EXPECT_EQ(parse_err(s, 4), DecimalError::kSyntax) << '"' << s << '"';
  }
  EXPECT_EQ(parse_err("0.00005", 4), DecimalError::kTooPrecise);
  EXPECT_EQ(parse_err("219.2177671", 6), DecimalError::kTooPrecise);
}

TEST(ParseDecimal, ReportsOverflowInsteadOfWrapping) {
  EXPECT_EQ(parse_err("9999999999999", 6), DecimalError::kOverflow);  // 13 + 6 digits
  EXPECT_EQ(parse_ok("999999999999", 6), 999'999'999'999'000'000);     // 12 + 6 fits
  EXPECT_EQ(parse_err("123456789012345678901234567890", 0), DecimalError::kOverflow);
  EXPECT_EQ(parse_ok("0000000000000000000000000001", 0), 1);  // leading zeros are not digits
}

}  // namespace
}  // namespace booktape
