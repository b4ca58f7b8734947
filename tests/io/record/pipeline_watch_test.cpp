// PipelineWatch, the judge behind the watchdog, on sample sequences: what counts as progress
// for a ring consumer and for the network thread, and when each is called stuck.
#include "io/record/pipeline_watch.hpp"

#include <gtest/gtest.h>

namespace booktape {
namespace {

constexpr std::int64_t kS = kNanosPerSecond;

PipelineWatchOptions bounds() {
  PipelineWatchOptions o;
  o.stage_stall_ns = 10 * kS;
  o.network_stall_ns = 20 * kS;
  return o;
}

// A pipeline where both stages have taken everything and the network thread moves.
PipelineSample flowing(MonoNanos now, std::uint64_t pos) {
  PipelineSample s;
  s.now = now;
  s.consumed = {pos, pos};
  s.published = pos;
  s.network_activity = pos;
  s.live_connections = 1;
  return s;
}

TEST(PipelineWatch, AFlowingPipelineIsNeverStuck) {
  PipelineWatch w(bounds());
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(w.observe(flowing(static_cast<MonoNanos>(i) * kS, 1000 * i)), "");
  }
  EXPECT_FALSE(w.stuck());
}

TEST(PipelineWatch, AnIdleStageWithNothingWaitingIsNotStuck) {
  PipelineWatch w(bounds());
  for (int i = 0; i < 100; ++i) {
    PipelineSample s = flowing(i * kS, 5000);  // nothing new for 100 s: no frame, no progress
    s.live_connections = 0;                    // (and no connection: the network backs off)
    EXPECT_EQ(w.observe(s), "") << i;
  }
}

TEST(PipelineWatch, AStageWithWorkWaitingIsStuckPastItsBoundAndFreeAgainOnceItMoves) {
  PipelineWatch w(bounds());
  ASSERT_EQ(w.observe(flowing(0, 1000)), "");
  // The archive stage stops at 1000 while frames keep coming.
  std::string why;
  MonoNanos t = 0;
  for (std::uint64_t pos = 2000; pos <= 20000; pos += 1000) {
    t += kS;
    PipelineSample s = flowing(t, pos);
    s.consumed[kArchiveConsumer] = 1000;
    why = w.observe(s);
    if (t <= 10 * kS) {
      EXPECT_EQ(why, "") << "at " << t / kS << " s, within the bound";
    } else {
      EXPECT_EQ(why, "the archive stage has released nothing for " + std::to_string(t / kS) +
                         " s with " + std::to_string(pos - 1000) + " bytes waiting in the ring");
    }
  }
  EXPECT_TRUE(w.stuck());
  // One record released: progress, whatever is still waiting.
  PipelineSample s = flowing(t + kS, 21000);
  s.consumed[kArchiveConsumer] = 1064;
  EXPECT_EQ(w.observe(s), "");
  EXPECT_FALSE(w.stuck());
}

TEST(PipelineWatch, TheBookStageIsJudgedLikeTheArchiveStage) {
  PipelineWatch w(bounds());
  ASSERT_EQ(w.observe(flowing(0, 0)), "");
  PipelineSample s = flowing(11 * kS, 4096);
  s.consumed[kBookConsumer] = 0;
  EXPECT_EQ(w.observe(s),
            "the book stage has released nothing for 11 s with 4096 bytes waiting "
            "in the ring");
}

TEST(PipelineWatch, ANetworkThreadThatMovesNoCounterWithALiveConnectionIsStuck) {
  PipelineWatch w(bounds());
  ASSERT_EQ(w.observe(flowing(0, 7)), "");
  EXPECT_EQ(w.observe(flowing(20 * kS, 7)), "");  // at the bound: not yet
  EXPECT_EQ(w.observe(flowing(21 * kS, 7)),
            "the network thread has moved no counter for 21 s with 1 connection(s) live");
  EXPECT_EQ(w.observe(flowing(22 * kS, 8)), "");  // a ping, a frame, a reconnect: it runs
}

TEST(PipelineWatch, ANetworkThreadWithNoLiveConnectionIsBackingOffNotStuck) {
  PipelineWatch w(bounds());
  for (int i = 0; i <= 60; ++i) {
    PipelineSample s = flowing(i * kS, 7);
    s.live_connections = 0;
    EXPECT_EQ(w.observe(s), "") << i;
  }
  // The bound counts from the last sample without a connection.
  EXPECT_EQ(w.observe(flowing(61 * kS, 7)), "");
  EXPECT_NE(w.observe(flowing(82 * kS, 7)), "");
}

TEST(PipelineWatch, TheNetworkBoundComesFromItsOwnTimers) {
  EXPECT_EQ(network_stall_ns(10, 30, 30), 65 * kS);  // the defaults
  EXPECT_EQ(network_stall_ns(0.5, 1, 1), 7 * kS);
  EXPECT_EQ(network_stall_ns(40, 30, 50), 105 * kS);
}

}  // namespace
}  // namespace booktape
