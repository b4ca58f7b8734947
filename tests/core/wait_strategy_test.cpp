// Doorbell parking and the adaptive spin of IdleStrategy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/wait_strategy.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

TEST(Doorbell, AParkedThreadWakesOnRingLongBeforeItsTimeout) {
  Doorbell bell;
  std::atomic<bool> published{false};
  std::atomic<bool> woke{false};
  std::thread consumer([&] {
    while (!published.load()) bell.park(10'000'000'000, [&] { return !published.load(); });
    woke = true;
  });
  std::this_thread::sleep_for(50ms);
  const auto t0 = std::chrono::steady_clock::now();
  published = true;
  bell.ring();
  consumer.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // not the 10 s timeout
}

TEST(Doorbell, NoSleepWhenWorkAppearedBeforeTheRecheck) {
  Doorbell bell;
  const auto t0 = std::chrono::steady_clock::now();
  bell.park(10'000'000'000, [] { return false; });  // the recheck sees work: return at once
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// One idle period that runs out into a park (which returns at once: the recheck says "work"),
// and work comes only after a gap longer than the longest spin.
void quiet_period(IdleStrategy& s, std::int64_t gap_ns = 2 * IdleStrategy::kMaxSpinNs) {
  const std::uint64_t parks = s.parks();
  while (s.parks() == parks) s.idle(0, [] { return false; });
  std::this_thread::sleep_for(std::chrono::nanoseconds(gap_ns));
  s.idle(1, [] { return false; });
}

// One idle period that runs out into a park, but work comes right after it: a longer spin
// would have caught it.
void short_gap_period(IdleStrategy& s) {
  const std::uint64_t parks = s.parks();
  while (s.parks() == parks) s.idle(0, [] { return false; });
  s.idle(1, [] { return false; });
}

// One idle period that work interrupts while spinning.
void busy_period(IdleStrategy& s) {
  for (int i = 0; i < 3; ++i) s.idle(0, [] { return false; });
  s.idle(1, [] { return false; });
}

TEST(IdleStrategy, AQuietStreamShrinksTheSpinAndABusyOneGrowsItBack) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell);
  EXPECT_EQ(s.spin_budget_ns(), IdleStrategy::kMaxSpinNs);
  // Every idle period outlasts the longest spin: the spin halves each time, to its floor.
  for (int i = 0; i < 10; ++i) quiet_period(s);
  EXPECT_EQ(s.spin_budget_ns(), IdleStrategy::kMinSpinNs);
  EXPECT_EQ(s.parks(), 10u);
  // Work arrives while spinning: the spin doubles back to the full budget.
  for (int i = 0; i < 10; ++i) busy_period(s);
  EXPECT_EQ(s.spin_budget_ns(), IdleStrategy::kMaxSpinNs);
  EXPECT_EQ(s.parks(), 10u);  // no more parks
}

TEST(IdleStrategy, WorkSoonAfterAParkGrowsTheSpin) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell);
  for (int i = 0; i < 10; ++i) quiet_period(s);
  ASSERT_EQ(s.spin_budget_ns(), IdleStrategy::kMinSpinNs);
  short_gap_period(s);
  EXPECT_EQ(s.spin_budget_ns(), 2 * IdleStrategy::kMinSpinNs);
  // The budget is what the parks showed was needed; once at the maximum it stops growing.
  for (int i = 0; i < 10; ++i) short_gap_period(s);
  EXPECT_EQ(s.spin_budget_ns(), IdleStrategy::kMaxSpinNs);
}

TEST(IdleStrategy, ALongerCeilingLetsTheSpinGrowPastTheDefault) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell, 8 * IdleStrategy::kMaxSpinNs);
  EXPECT_EQ(s.spin_budget_ns(), 8 * IdleStrategy::kMaxSpinNs);
  for (int i = 0; i < 20; ++i) quiet_period(s, 16 * IdleStrategy::kMaxSpinNs);
  EXPECT_EQ(s.spin_budget_ns(), IdleStrategy::kMinSpinNs);
  for (int i = 0; i < 20; ++i) busy_period(s);
  EXPECT_EQ(s.spin_budget_ns(), 8 * IdleStrategy::kMaxSpinNs);
}

TEST(IdleStrategy, AfterAParkItParksAgainWithoutSpinningUntilWorkComes) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell);
  quiet_period(s);
  // Spin out once more; from then on every empty poll is a park (the housekeeping timeout).
  const std::uint64_t p0 = s.parks();
  while (s.parks() == p0) s.idle(0, [] { return false; });
  for (int i = 0; i < 5; ++i) s.idle(0, [] { return false; });
  EXPECT_EQ(s.parks(), p0 + 6);
}

TEST(SleepStrategy, SleepsLongerWhileIdleAndShortAgainOnceWorkCame) {
  SleepStrategy s;
  EXPECT_EQ(s.next_sleep_ns(), SleepStrategy::kMinSleepNs);
  s.idle(5);  // work: no sleep
  EXPECT_EQ(s.sleeps(), 0u);
  s.idle(0);
  EXPECT_EQ(s.next_sleep_ns(), 4 * SleepStrategy::kMinSleepNs);
  for (int i = 0; i < 4; ++i) s.idle(0);
  EXPECT_EQ(s.next_sleep_ns(), SleepStrategy::kMaxSleepNs);  // capped
  EXPECT_EQ(s.sleeps(), 5u);
  s.idle(1);
  EXPECT_EQ(s.next_sleep_ns(), SleepStrategy::kMinSleepNs);
}

TEST(IdleStrategy, BusySpinNeverParks) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kBusySpin, bell);
  for (int i = 0; i < 100'000; ++i) s.idle(0, [] { return true; });
  EXPECT_EQ(s.parks(), 0u);
}

}  // namespace
}  // namespace booktape
