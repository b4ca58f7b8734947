// The typed one-producer, one-consumer queue: order, full and empty, capacity rounding,
// positions past the wrap, and a two-thread run where every value arrives once, in order.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

#include "core/spsc_queue.hpp"

namespace booktape {
namespace {

TEST(SpscQueue, CapacityIsThePowerOfTwoAtOrAboveTheRequest) {
  EXPECT_EQ(SpscQueue<int>(0).capacity(), 2u);
  EXPECT_EQ(SpscQueue<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscQueue<int>(16).capacity(), 16u);
}

TEST(SpscQueue, FullRefusesWithoutWritingAndEmptyLeavesTheOutputAlone) {
  SpscQueue<std::uint64_t> q(4);
  std::uint64_t out = 99;
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, 99u);
  for (std::uint64_t v = 1; v <= 4; ++v) ASSERT_TRUE(q.try_push(v));
  EXPECT_FALSE(q.try_push(5));
  EXPECT_EQ(q.size_observed(), 4u);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 1u);
  ASSERT_TRUE(q.try_push(5));  // the freed slot is reused
  for (std::uint64_t want = 2; want <= 5; ++want) {
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, want);
  }
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(q.size_observed(), 0u);
}

TEST(SpscQueue, KeepsOrderOverManyWrapsWithStructValues) {
  struct Item {
    std::uint32_t id;
    std::uint16_t kind;
  };
  SpscQueue<Item> q(8);
  std::uint32_t next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    const int n = 1 + round % 8;  // 1..8 in, then all out: every slot offset is exercised
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(q.try_push(Item{next_in, static_cast<std::uint16_t>(next_in % 7)}));
      ++next_in;
    }
    Item it{};
    while (q.try_pop(it)) {
      ASSERT_EQ(it.id, next_out);
      ASSERT_EQ(it.kind, next_out % 7);
      ++next_out;
    }
  }
  EXPECT_EQ(next_out, next_in);
}

// Producer and consumer on two threads (ThreadSanitizer runs this too): a small queue so both
// full and empty happen often; every value arrives exactly once and in order.
TEST(SpscQueue, TwoThreadsDeliverEveryValueOnceInOrder) {
  constexpr std::uint64_t kValues = 200'000;
  SpscQueue<std::uint64_t> q(256);
  std::thread producer([&] {
    for (std::uint64_t v = 1; v <= kValues; ++v) {
      while (!q.try_push(v)) std::this_thread::yield();
    }
  });
  std::uint64_t expected = 1, mismatches = 0;
  while (expected <= kValues) {
    std::uint64_t v = 0;
    if (!q.try_pop(v)) {
      std::this_thread::yield();
      continue;
    }
    if (v != expected) ++mismatches;
    expected = v + 1;
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  std::uint64_t extra = 0;
  EXPECT_FALSE(q.try_pop(extra));
}

}  // namespace
}  // namespace booktape
