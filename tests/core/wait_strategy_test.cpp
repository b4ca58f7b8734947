// Doorbell parking, the spin decision (SpinPolicy) and the idle loops of the stages.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
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

// ---- the spin decision, fed exact gaps ----------------------------------------------------

constexpr std::int64_t kDefaultThreshold = IdleStrategy::kMaxSpinNs / 20;  // 10.24 us

TEST(SpinPolicy, ParksAtOnceUntilTheStreamShowsItIsFast) {
  SpinPolicy p(IdleStrategy::kMaxSpinNs);
  EXPECT_EQ(p.threshold_ns(), kDefaultThreshold);
  EXPECT_EQ(p.spin_ns(), 0);
  // 200 k frames/s: 5 us gaps, under the threshold: it spins four mean gaps.
  for (int i = 0; i < 100; ++i) p.observe(5'000);
  EXPECT_NEAR(static_cast<double>(p.mean_gap_ns()), 5'000, 100);
  EXPECT_NEAR(static_cast<double>(p.spin_ns()), 4 * 5'000 + SpinPolicy::kMinSpinNs, 400);
}

TEST(SpinPolicy, PoissonStreamsAtPacedRatesParkAfterEveryBatch) {
  // The mean of exponential gaps at 1 k, 10 k and 50 k frames/s: all above the threshold.
  for (const std::int64_t mean : {1'000'000, 100'000, 20'000}) {
    SpinPolicy p(IdleStrategy::kMaxSpinNs);
    std::mt19937_64 rng(1);
    std::exponential_distribution<double> gap(1.0 / static_cast<double>(mean));
    int spins = 0;
    for (int i = 0; i < 10'000; ++i) {
      p.observe(static_cast<std::int64_t>(gap(rng)));
      spins += p.spin_ns() > 0;
    }
    EXPECT_LT(spins, 100) << mean;  // rare runs of short gaps only
  }
}

TEST(SpinPolicy, APauseInAFastStreamIsForgottenWithinTwentyGaps) {
  SpinPolicy p(IdleStrategy::kMaxSpinNs);
  for (int i = 0; i < 40; ++i) p.observe(2'000);
  ASSERT_GT(p.spin_ns(), 0);
  p.observe(5'000'000'000);  // five seconds of silence
  EXPECT_EQ(p.spin_ns(), 0);
  int gaps = 0;
  while (p.spin_ns() == 0) {
    p.observe(2'000);
    ++gaps;
  }
  EXPECT_LE(gaps, 20);
}

TEST(SpinPolicy, ALongerSpinOnADedicatedCoreSpinsForSlowerStreams) {
  SpinPolicy p(2'000'000);  // spin_max_us: 2000
  EXPECT_EQ(p.threshold_ns(), 100'000);
  for (int i = 0; i < 100; ++i) p.observe(50'000);  // 20 k frames/s
  EXPECT_NEAR(static_cast<double>(p.spin_ns()), 200'000, 5'000);
  for (int i = 0; i < 40; ++i) p.observe(400'000);  // 2.5 k frames/s: parks
  EXPECT_EQ(p.spin_ns(), 0);
}

// ---- the idle loop, with real (short) gaps ---------------------------------------------------

// One idle period that ends in a park (which returns at once: the recheck says "work"), and work
// after `gap_ns`. Returns the empty polls it took to park.
int quiet_period(IdleStrategy& s, std::int64_t gap_ns) {
  const std::uint64_t parks = s.parks();
  int polls = 0;
  while (s.parks() == parks) {
    s.idle(0, [] { return false; });
    ++polls;
  }
  std::this_thread::sleep_for(std::chrono::nanoseconds(gap_ns));
  s.idle(1, [] { return false; });
  return polls;
}

TEST(IdleStrategy, ASlowStreamParksAtTheFirstEmptyPoll) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(quiet_period(s, 200'000), 1);
  EXPECT_EQ(s.parks(), 20u);
  EXPECT_GE(s.policy().mean_gap_ns(), s.policy().threshold_ns());
}

TEST(IdleStrategy, AFastStreamSpinsThroughItsGapsAndStopsParking) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell);
  // Work after every few empty polls: gaps of well under a microsecond, measured on the clock.
  int parked = 0;
  for (int i = 0; i < 2'000; ++i) {
    const std::uint64_t before = s.parks();
    for (int k = 0; k < 3; ++k) s.idle(0, [] { return false; });
    s.idle(1, [] { return false; });
    parked += s.parks() != before;
  }
  EXPECT_LT(s.policy().mean_gap_ns(), s.policy().threshold_ns());
  EXPECT_LT(parked, 50);  // only until the gaps showed the stream is fast
}

TEST(IdleStrategy, AfterAParkItParksAgainWithoutSpinningUntilWorkComes) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kSpinThenPark, bell);
  const std::uint64_t p0 = s.parks();
  for (int i = 0; i < 6; ++i) s.idle(0, [] { return false; });
  EXPECT_EQ(s.parks(), p0 + 6);  // every empty poll is a park (the housekeeping timeout)
}

TEST(SleepStrategy, SleepsLongerWhileIdleOrSlowAndShortAgainForFullerBatches) {
  SleepStrategy s(256);
  EXPECT_EQ(s.next_sleep_ns(), SleepStrategy::kMinSleepNs);
  s.idle(256);  // a full batch: poll again at once
  EXPECT_EQ(s.sleeps(), 0u);
  s.idle(0);
  EXPECT_EQ(s.next_sleep_ns(), 4 * SleepStrategy::kMinSleepNs);
  for (int i = 0; i < 4; ++i) s.idle(0);
  EXPECT_EQ(s.next_sleep_ns(), SleepStrategy::kMaxSleepNs);  // capped
  EXPECT_EQ(s.sleeps(), 5u);
  // Batches of 100 (over a quarter): the sleep halves back to its floor.
  for (int i = 0; i < 6; ++i) s.idle(100);
  EXPECT_EQ(s.next_sleep_ns(), SleepStrategy::kMinSleepNs);
  // A slow stream, a few frames a poll: the sleep doubles, so a wake-up takes more of them.
  s.idle(3);
  EXPECT_EQ(s.next_sleep_ns(), 2 * SleepStrategy::kMinSleepNs);
  EXPECT_EQ(s.sleeps(), 12u);
}

TEST(IdleStrategy, BusySpinNeverParks) {
  Doorbell bell;
  IdleStrategy s(WaitMode::kBusySpin, bell);
  for (int i = 0; i < 100'000; ++i) s.idle(0, [] { return true; });
  EXPECT_EQ(s.parks(), 0u);
}

}  // namespace
}  // namespace booktape
