#include "core/rate_window.hpp"

#include <gtest/gtest.h>

namespace booktape {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

TEST(SlidingWindowLimit, AllowsLimitEventsInAnyWindowAndSaysWhenTheNextIsAllowed) {
  SlidingWindowLimit w(3, 10 * kSec);
  EXPECT_TRUE(w.try_take(0));
  EXPECT_TRUE(w.try_take(1 * kSec));
  EXPECT_TRUE(w.try_take(2 * kSec));
  EXPECT_EQ(w.next_allowed(3 * kSec), 10 * kSec);  // the first leaves the window at 10 s
  EXPECT_FALSE(w.try_take(9 * kSec));              // refused: nothing recorded
  EXPECT_EQ(w.next_allowed(9 * kSec), 10 * kSec);
  EXPECT_TRUE(w.try_take(10 * kSec));
  EXPECT_EQ(w.next_allowed(10 * kSec), 11 * kSec);
  // Sliding, not fixed buckets: a burst at the end of one window and the start of the next is
  // still at most 3 in any 10 s.
  EXPECT_FALSE(w.try_take(10 * kSec + 1));
  EXPECT_TRUE(w.try_take(11 * kSec));
  EXPECT_TRUE(w.try_take(12 * kSec));
  EXPECT_FALSE(w.try_take(19 * kSec));
  EXPECT_EQ(w.next_allowed(100 * kSec), 100 * kSec);  // long idle: free again
}

TEST(SlidingWindowLimit, ZeroMeansNoLimit) {
  SlidingWindowLimit w(0, 10 * kSec);
  for (int i = 0; i < 10'000; ++i) EXPECT_TRUE(w.try_take(0));
  EXPECT_EQ(w.next_allowed(5), 5);
}

}  // namespace
}  // namespace booktape
