// The one-producer, N-consumer record ring: order, padding, wrap-around, back-pressure from
// the slowest consumer, and a two-thread stress run where every consumer must see every byte.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/frame_ring.hpp"

namespace booktape {
namespace {

using Ring2 = FrameRing<2>;

bool push(Ring2& r, std::uint64_t seq, const std::string& payload) {
  RecordHeader* h = r.try_claim(payload.size());
  if (h == nullptr) return false;
  h->type = RecordType::kFrame;
  h->global_sequence = seq;
  std::memcpy(Ring2::payload_of(h), payload.data(), payload.size());
  r.commit(h);
  return true;
}

std::string payload_of(const RecordHeader* h) {
  return std::string(reinterpret_cast<const char*>(h + 1), h->length);
}

TEST(FrameRing, EachConsumerReadsEveryRecordInOrderWithZeroPadding) {
  Ring2 r(4096);
  ASSERT_TRUE(push(r, 1, "alpha"));
  ASSERT_TRUE(push(r, 2, "{\"event_type\":\"book\"}"));
  for (std::size_t c = 0; c < 2; ++c) {
    const RecordHeader* h = r.peek(c);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->global_sequence, 1u);
    EXPECT_EQ(payload_of(h), "alpha");
    const auto* pad = reinterpret_cast<const char*>(h + 1) + h->length;
    for (std::size_t i = 0; i < Ring2::kPayloadPadding; ++i) ASSERT_EQ(pad[i], 0) << i;
    r.release(c, h);
    h = r.peek(c);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(payload_of(h), "{\"event_type\":\"book\"}");
    r.release(c, h);
    EXPECT_EQ(r.peek(c), nullptr);
  }
}

TEST(FrameRing, TheSlowestConsumerHoldsBackTheProducer) {
  Ring2 r(4096);
  const std::string p(200, 'x');  // 64 + 200 + 64 -> 384 bytes a record: 10 fit in 4096
  int pushed = 0;
  while (push(r, static_cast<std::uint64_t>(pushed + 1), p)) ++pushed;
  EXPECT_EQ(pushed, 10);
  EXPECT_FALSE(r.would_fit(p.size()));
  EXPECT_EQ(r.used_observed(), 10u * Ring2::record_size(p.size()));
  // Consumer 0 drains everything; consumer 1 nothing: still full.
  while (const RecordHeader* h = r.peek(0)) r.release(0, h);
  EXPECT_FALSE(r.would_fit(p.size()));
  // Consumer 1 releases one record: room for exactly one more.
  r.release(1, r.peek(1));
  EXPECT_TRUE(r.would_fit(p.size()));
  EXPECT_TRUE(push(r, 11, p));
  EXPECT_FALSE(push(r, 12, p));
}

TEST(FrameRing, RecordsNeverWrapAPaddingRecordFillsTheEnd) {
  Ring2 r(4096);
  std::uint64_t next_in = 1, next_out[2] = {1, 1};
  // Sizes that do not divide the buffer (up to the largest the ring takes): laps end in
  // padding records, which consumers never see.
  const std::size_t span = r.max_payload() - 100 + 1;
  for (int i = 0; i < 1'000; ++i) {
    const std::string p(100 + (static_cast<std::size_t>(i) * 37) % span, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(push(r, next_in++, p)) << i;
    for (std::size_t c = 0; c < 2; ++c) {
      const RecordHeader* h = r.peek(c);
      ASSERT_NE(h, nullptr);
      ASSERT_EQ(h->global_sequence, next_out[c]++);
      ASSERT_EQ(payload_of(h), p);
      r.release(c, h);
    }
  }
}

TEST(FrameRing, TwoConsumerThreadsSeeEveryByteOfEveryRecord) {
  Ring2 r(std::size_t{1} << 16);
  constexpr std::uint64_t kRecords = 300'000;
  auto content = [](std::uint64_t seq) {
    return static_cast<std::size_t>((seq * 2654435761u) % 700);  // sizes 0..699
  };
  std::uint64_t sums[2] = {0, 0};
  bool ordered[2] = {true, true};
  auto consume = [&](std::size_t c) {
    std::uint64_t expect = 1, sum = 0;
    while (expect <= kRecords) {
      const RecordHeader* h = r.peek(c);
      if (h == nullptr) {
        std::this_thread::yield();  // three threads on a 2-core machine: do not starve the others
        continue;
      }
      ordered[c] &= h->global_sequence == expect && h->length == content(expect);
      const auto* p = reinterpret_cast<const unsigned char*>(h + 1);
      for (std::uint32_t i = 0; i < h->length; ++i) sum += p[i];
      r.release(c, h);
      ++expect;
    }
    sums[c] = sum;
  };
  std::thread a(consume, 0), b(consume, 1);
  std::uint64_t sent_sum = 0;
  std::string buf;
  for (std::uint64_t seq = 1; seq <= kRecords; ++seq) {
    buf.assign(content(seq), static_cast<char>(seq & 0x7f));
    sent_sum += (seq & 0x7f) * buf.size();
    while (!push(r, seq, buf)) std::this_thread::yield();
  }
  a.join();
  b.join();
  EXPECT_TRUE(ordered[0]);
  EXPECT_TRUE(ordered[1]);
  EXPECT_EQ(sums[0], sent_sum);
  EXPECT_EQ(sums[1], sent_sum);
}

}  // namespace
}  // namespace booktape
