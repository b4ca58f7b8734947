// The simulator's Poisson pacing (io/sim/pace.hpp): its gaps have the statistics of a Poisson
// process at the asked rate (exponential: mean 1/rate, standard deviation equal to the mean, a
// share e^-1 longer than the mean), and the schedule is the seed's alone. No clock is read: the
// draws are deterministic, so these are exact checks of the schedule, not of timing.
#include "io/sim/pace.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace booktape {
namespace {

std::vector<double> gaps_ns(double rate, std::uint64_t seed, int n) {
  PoissonClock clock(rate, seed);
  std::vector<double> out;
  std::int64_t last = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_GE(clock.due_ns(), last);
    out.push_back(static_cast<double>(clock.due_ns() - last));
    last = clock.due_ns();
    clock.advance();
  }
  return out;
}

TEST(PoissonClock, GapsAreExponentialWithTheMeanRate) {
  for (const double rate : {1'000.0, 10'000.0, 50'000.0}) {
    SCOPED_TRACE(rate);
    const std::vector<double> gaps = gaps_ns(rate, 42, 200'000);
    double sum = 0, sum_sq = 0;
    std::size_t longer = 0;
    const double mean_want = 1e9 / rate;
    for (double g : gaps) {
      sum += g;
      sum_sq += g * g;
      longer += g > mean_want;
    }
    const double n = static_cast<double>(gaps.size());
    const double mean = sum / n;
    const double sd = std::sqrt(sum_sq / n - mean * mean);
    EXPECT_NEAR(mean / mean_want, 1.0, 0.01);
    EXPECT_NEAR(sd / mean, 1.0, 0.02);  // a steady pace would be 0
    EXPECT_NEAR(static_cast<double>(longer) / n, std::exp(-1.0), 0.005);
  }
}

TEST(PoissonClock, TheScheduleIsTheSeedsAlone) {
  EXPECT_EQ(gaps_ns(10'000, 7, 1'000), gaps_ns(10'000, 7, 1'000));
  EXPECT_NE(gaps_ns(10'000, 7, 1'000), gaps_ns(10'000, 8, 1'000));
  // Due times do not drift with rounding: the n-th is n gaps of 1/rate on average.
  PoissonClock clock(10'000, 7);
  for (int i = 0; i < 1'000'000; ++i) clock.advance();
  EXPECT_NEAR(static_cast<double>(clock.due_ns()) / 1e9, 100.0, 0.5);
}

TEST(Pace, ParsesItsTwoNames) {
  Pace p = Pace::kPoisson;
  EXPECT_TRUE(parse_pace("steady", p));
  EXPECT_EQ(p, Pace::kSteady);
  EXPECT_TRUE(parse_pace("poisson", p));
  EXPECT_EQ(p, Pace::kPoisson);
  EXPECT_STREQ(to_string(p), "poisson");
  EXPECT_FALSE(parse_pace("Poisson", p));
  EXPECT_FALSE(parse_pace("", p));
}

}  // namespace
}  // namespace booktape
