#include "core/fixed_point.hpp"

#include <gtest/gtest.h>

namespace booktape {
namespace {

TEST(FormatFixed, WritesShortestExactDecimal) {
  EXPECT_EQ(format_price(4'800), "0.48");
  EXPECT_EQ(format_price(10'000), "1");
  EXPECT_EQ(format_price(0), "0");
  EXPECT_EQ(format_price(10), "0.001");
  EXPECT_EQ(format_size(219'217'767), "219.217767");
  EXPECT_EQ(format_size(100'000'000), "100");
  EXPECT_EQ(format_fixed(-5, 1), "-0.5");
}

TEST(FormatFixed, HandlesExtremes) {
  EXPECT_EQ(format_fixed(INT64_MIN, 0), "-9223372036854775808");
  EXPECT_EQ(format_notional(Notional{1} << 100), "126765060022822940149.6703205376");
}

}  // namespace
}  // namespace booktape
