// The latest-value handoff between two threads: nothing before the first publication, the
// newest of several publications wins, a take without news keeps the old value, and two
// threads never see a half-written value (the writer fills every field of a slot with one
// number; a reader that sees two numbers in one slot saw a torn write).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

#include "core/triple_buffer.hpp"

namespace booktape {
namespace {

TEST(TripleBuffer, NothingToTakeBeforeTheFirstPublication) {
  TripleBuffer<int> b;
  EXPECT_FALSE(b.take());
  EXPECT_EQ(b.front(), 0);
}

TEST(TripleBuffer, TheNewestPublicationWinsAndOldNewsIsNotTakenTwice) {
  TripleBuffer<int> b;
  for (int v = 1; v <= 5; ++v) {
    b.back() = v;
    b.publish();
  }
  ASSERT_TRUE(b.take());
  EXPECT_EQ(b.front(), 5);
  EXPECT_FALSE(b.take());
  EXPECT_EQ(b.front(), 5);  // still readable
  b.back() = 6;
  b.publish();
  ASSERT_TRUE(b.take());
  EXPECT_EQ(b.front(), 6);
}

TEST(TripleBuffer, SlotsKeepTheirContentsForTheWriterToRefill) {
  // Three slots in rotation: after three publications the writer gets its first slot back.
  TripleBuffer<std::vector<int>> b;
  b.back().assign(100, 1);
  const int* first = b.back().data();
  b.publish();
  ASSERT_TRUE(b.take());  // the reader now holds the first slot
  b.back().assign(100, 2);
  b.publish();
  b.back().assign(100, 3);
  b.publish();
  ASSERT_TRUE(b.take());
  EXPECT_EQ(b.front()[0], 3);
  // The reader gave the first slot back through the middle: its storage is reused, no
  // reallocation for a value of the same size.
  b.back().assign(100, 4);
  b.publish();
  b.back().assign(100, 5);
  EXPECT_EQ(b.back().data(), first);
}

// Writer and reader on two threads (ThreadSanitizer runs this too).
TEST(TripleBuffer, TwoThreadsNeverSeeATornValueAndSeeValuesInOrder) {
  constexpr std::uint64_t kRounds = 200'000;
  TripleBuffer<std::array<std::uint64_t, 16>> b;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t v = 1; v <= kRounds; ++v) {
      b.back().fill(v);
      b.publish();
    }
    done.store(true, std::memory_order_release);
  });
  std::uint64_t torn = 0, backwards = 0, last = 0, takes = 0;
  const auto look = [&] {
    if (!b.take()) return;
    ++takes;
    const auto& a = b.front();
    for (std::uint64_t x : a) torn += x != a[0];
    backwards += a[0] < last;
    last = a[0];
  };
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    look();  // after `finished`, this take sees the last publication
    if (finished) break;
  }
  writer.join();
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(backwards, 0u);
  EXPECT_EQ(last, kRounds);  // the last publication is always seen
  EXPECT_GT(takes, 0u);
}

}  // namespace
}  // namespace booktape
