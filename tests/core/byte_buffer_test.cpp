#include "core/byte_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>

namespace booktape {
namespace {

TEST(ByteBuffer, DefaultIsEmptyWithoutStorage) {
  const ByteBuffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.view(), "");
}

TEST(ByteBuffer, ConstructorReservesCapacity) {
  const ByteBuffer b(100);
  EXPECT_EQ(b.capacity(), 100u);
  EXPECT_EQ(b.size(), 0u);
}

TEST(ByteBuffer, EnsureReturnsTheEndAndCommitAdvancesIt) {
  ByteBuffer b(16);
  char* p = b.ensure(5);
  EXPECT_EQ(p, b.end());
  EXPECT_EQ(b.size(), 0u);  // ensure alone writes nothing
  std::memcpy(p, "hello", 5);
  b.commit(5);
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(b.view(), "hello");
  char* q = b.ensure(3);
  EXPECT_EQ(q, p + 5);
  std::memcpy(q, "!!!", 3);
  b.commit(1);  // only one of the three is kept
  EXPECT_EQ(b.view(), "hello!");
  EXPECT_EQ(b.capacity(), 16u);  // fitted: no growth
}

TEST(ByteBuffer, CommitToSetsTheEndToAPointer) {
  ByteBuffer b(8);
  b.append("ab");
  char* p = b.ensure(10);
  *p++ = 'c';
  *p++ = 'd';
  *p++ = 'e';
  b.commit_to(p);
  EXPECT_EQ(b.view(), "abcde");
  EXPECT_EQ(b.end(), p);
}

TEST(ByteBuffer, AppendStringsAndChars) {
  ByteBuffer b;
  b.append("{\"a\":");
  b.append('1');
  b.append(std::string_view("}"));
  b.append('\n');
  EXPECT_EQ(b.view(), "{\"a\":1}\n");
  EXPECT_EQ(b.size(), 8u);
  EXPECT_GE(b.capacity(), 8u);
}

TEST(ByteBuffer, EnsureGrowsAtLeastDoubling) {
  ByteBuffer b(4);
  b.append("abcd");
  ASSERT_EQ(b.capacity(), 4u);
  b.ensure(1);
  EXPECT_GE(b.capacity(), 8u);
  EXPECT_EQ(b.view(), "abcd");
  b.ensure(100);  // a request larger than double is honoured in full
  EXPECT_GE(b.capacity() - b.size(), 100u);
  EXPECT_EQ(b.view(), "abcd");
}

TEST(ByteBuffer, GrowthPreservesContents) {
  ByteBuffer b(1);
  std::string reference;
  const char* first_storage = b.data();
  std::size_t growths = 0;
  std::size_t last_capacity = b.capacity();
  for (int i = 0; i < 5'000; ++i) {
    const std::string chunk = std::to_string(i * 7'919) + (i % 3 == 0 ? "," : ";");
    if (i % 2 == 0) {
      b.append(chunk);
    } else {
      std::memcpy(b.ensure(chunk.size()), chunk.data(), chunk.size());
      b.commit(chunk.size());
    }
    reference += chunk;
    if (b.capacity() != last_capacity) {
      ++growths;
      last_capacity = b.capacity();
    }
    ASSERT_EQ(b.size(), reference.size());
  }
  EXPECT_EQ(b.view(), reference);
  EXPECT_GE(growths, 10u);  // 1 byte -> ~25 KB by doubling
  EXPECT_NE(b.data(), first_storage);
}

TEST(ByteBuffer, ReserveNeverShrinksAndKeepsContents) {
  ByteBuffer b(64);
  b.append("keep");
  b.reserve(8);
  EXPECT_EQ(b.capacity(), 64u);
  b.reserve(1'000);
  EXPECT_EQ(b.capacity(), 1'000u);
  EXPECT_EQ(b.view(), "keep");
}

TEST(ByteBuffer, ClearAndResizeDownKeepCapacity) {
  ByteBuffer b(32);
  b.append("0123456789");
  b.resize_down(4);
  EXPECT_EQ(b.view(), "0123");
  b.append("xy");
  EXPECT_EQ(b.view(), "0123xy");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 32u);
  b.append("z");
  EXPECT_EQ(b.view(), "z");
}

TEST(ByteBuffer, AppendingNothingToAnUnallocatedBufferIsHarmless) {
  ByteBuffer b;
  b.append(std::string_view{});
  b.append("");
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.view(), "");
}

TEST(ByteBuffer, AMovedFromBufferIsEmptyAndUsableAgain) {
  ByteBuffer a(8);
  a.append("bytes");
  ByteBuffer b(std::move(a));
  EXPECT_EQ(b.view(), "bytes");
  EXPECT_EQ(a.size(), 0u);      // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(a.capacity(), 0u);  // NOLINT(bugprone-use-after-move)
  a.append("again");  // with the old sizes kept, this wrote through a null pointer
  EXPECT_EQ(a.view(), "again");
  ByteBuffer c;
  c = std::move(b);
  EXPECT_EQ(c.view(), "bytes");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  b.append('x');
  EXPECT_EQ(b.view(), "x");
}

}  // namespace
}  // namespace booktape
