// The book stage on its own: frames and session events through the real pipeline ring, REST
// checkpoint batches through its SPSC queue, compared on the stage's thread once it runs.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "io/record/book_stage.hpp"

namespace booktape {
namespace {

constexpr const char* kToken = "71321045679252212594626385532706912750332728571942532289631379312455583992563";

void push_frame(PipelineRing& ring, const std::string& text, std::uint64_t seq,
                UnixNanos received = 1'700'000'000'000'000'000, MonoNanos mono = 0) {
  RecordHeader* h = ring.try_claim(text.size());
  ASSERT_NE(h, nullptr);
  h->type = RecordType::kFrame;
  h->opcode = 1;
  h->global_sequence = seq;
  h->received_ns = received + static_cast<std::int64_t>(seq);
  h->monotonic_ns = mono;
  std::memcpy(PipelineRing::payload_of(h), text.data(), text.size());
  ring.commit(h);
}

// Bid 0.48 x 10 and ask 0.52 x 5 at `ms`; `ask_size` and `bid_size` alter them.
std::unique_ptr<CheckpointBatch> rest_batch(Size ask_size = 5'000'000, Size bid_size = 10'000'000,
                                            std::int64_t ms = 1'700'000'000'000) {
  auto b = std::make_unique<CheckpointBatch>();
  CheckpointBook book;
  book.asset_id = kToken;
  book.timestamp_ms = ms;
  book.bids = {Level{bid_size, 4800}};
  book.asks = {Level{ask_size, 5200}};
  b->books.push_back(std::move(book));
  return b;
}

TEST(BookStage, ComparesQueuedCheckpointsAndCountsARoundThatFindsTheQueueFull) {
  PipelineRing ring(std::size_t{1} << 16);
  PipelineBells bells;
  BookStage stage(BookStageOptions{}, ring, bells);
  push_frame(ring,
             std::string(R"({"event_type":"book","asset_id":")") + kToken +
                 R"(","market":"0xabc","bids":[{"price":"0.48","size":"10"}],)"
                 R"("asks":[{"price":".52","size":"5"}],"timestamp":"1700000000000","hash":"x"})",
             1);
  // The stage is not running yet: 16 rounds wait in its queue, the 17th is not compared.
  for (int i = 0; i < 15; ++i) stage.submit_checkpoint(rest_batch());
  stage.submit_checkpoint(rest_batch(7'000'000));  // altered: never matches
  EXPECT_EQ(stage.stats().checkpoint_skipped.load(), 0u);
  stage.submit_checkpoint(rest_batch());
  EXPECT_EQ(stage.stats().checkpoint_skipped.load(), 1u);
  EXPECT_EQ(stage.stats().checkpoint_books.load(), 1u);

  std::atomic<bool> done{true};
  stage.run(done);
  const BookStageStats& s = stage.stats();
  EXPECT_EQ(s.frames.load(), 1u);
  EXPECT_EQ(s.checkpoint_books.load(), 17u);
  EXPECT_EQ(s.checkpoint_agree.load(), 15u);
  EXPECT_EQ(s.checkpoint_diverge.load(), 1u);
  EXPECT_EQ(s.checkpoint_skipped.load(), 1u);
  ASSERT_EQ(stage.checkpoint_examples().size(), 1u);
  EXPECT_NE(stage.checkpoint_examples()[0].find(kToken), std::string::npos);
}

std::string book_frame() {
  return std::string(R"({"event_type":"book","asset_id":")") + kToken +
         R"(","market":"0xabc","bids":[{"price":"0.48","size":"10"}],)"
         R"("asks":[{"price":".52","size":"5"}],"timestamp":"1700000000000","hash":"x"})";
}

// Bid 0.48 x `size` as a price_change event at `ms`.
std::string bid_change(const char* size, const char* ms) {
  return std::string(R"({"event_type":"price_change","market":"0xabc","price_changes":[)"
                     R"({"asset_id":")") +
         kToken + R"(","price":"0.48","size":")" + size +
         R"(","side":"BUY","hash":"h","best_bid":"0.48","best_ask":"0.52"}],"timestamp":")" +
         ms + R"("})";
}

BookStageOptions checkpoint_wait(double seconds) {
  BookStageOptions o;
  o.checkpoint_wait_seconds = seconds;
  return o;
}

// The stage on its thread; stop() drains it and joins.
struct RunningStage {
  explicit RunningStage(BookStageOptions o) : stage(o, ring, bells), t([this] { stage.run(done); }) {}
  ~RunningStage() { stop(); }
  RunningStage(const RunningStage&) = delete;
  RunningStage& operator=(const RunningStage&) = delete;
  void push(const std::string& text, std::uint64_t seq) {
    push_frame(ring, text, seq);
    bells.data.ring();
  }
  template <class Pred>
  bool until(Pred p) {
    for (int i = 0; i < 500 && !p(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return p();
  }
  // The book frame, then (once it is applied) one REST round; true once both were taken.
  bool book_then(std::unique_ptr<CheckpointBatch> rest) {
    push(book_frame(), 1);
    if (!until([&] { return stage.stats().frames.load() == 1; })) return false;
    stage.submit_checkpoint(std::move(rest));
    return until([&] { return stage.stats().checkpoint_books.load() == 1; });
  }
  void stop() {
    if (!t.joinable()) return;
    done = true;
    bells.data.ring();
    t.join();
  }
  PipelineRing ring{std::size_t{1} << 16};
  PipelineBells bells;
  BookStage stage;
  std::atomic<bool> done{false};
  std::thread t;
};

// The REST book is a state the stream reaches later, and leaves again within the same frame (a
// frame may carry several events, and one poll applies many frames): it was reached.
TEST(BookStage, ARestStateTheStreamPassesThroughWithinOneFrameAgrees) {
  RunningStage rs(checkpoint_wait(0.2));
  ASSERT_TRUE(rs.book_then(rest_batch(5'000'000, 20'000'000, 1'700'000'001'000)));  // bid x 20
  rs.push("[" + bid_change("20", "1700000001000") + "," + bid_change("30", "1700000002000") + "]", 2);
  ASSERT_TRUE(rs.until([&] { return rs.stage.stats().frames.load() == 2; }));
  rs.stop();
  const BookStageStats& s = rs.stage.stats();
  EXPECT_EQ(s.checkpoint_agree.load(), 1u);
  EXPECT_EQ(s.checkpoint_agree_waited.load(), 1u);
  EXPECT_EQ(s.checkpoint_diverge.load(), 0u);
}

// A REST book older than every state kept (here: older than the only snapshot) cannot be
// judged, whatever the history holds: inconclusive, not diverge.
TEST(BookStage, ARestBookOlderThanTheFirstSnapshotIsInconclusive) {
  RunningStage rs(checkpoint_wait(0.2));
  ASSERT_TRUE(rs.book_then(rest_batch(7'000'000, 10'000'000, 1'699'999'940'000)));  // 60 s older
  rs.stop();
  const BookStageStats& s = rs.stage.stats();
  EXPECT_EQ(s.checkpoint_inconclusive.load(), 1u);
  EXPECT_EQ(s.checkpoint_diverge.load(), 0u);
}

// A wall clock step does not make a token look silent: silence is judged on the monotonic
// clock. The book's receive time says an hour ago (the clock stepped forward since), its
// monotonic stamp says now.
// The stream behind the REST request (issue 22: a stream 5 s behind gave 42 false
// divergences): 1,000 changes wait in the ring, received before the REST request, and the REST
// book is the state they end in. The stage compares it only once it has applied everything
// received before the request, so it agrees, even with no time to wait for the stream; a REST
// book that the stream never reaches still diverges.
void compare_behind(Size rest_bid, std::uint64_t agree, std::uint64_t diverge) {
  PipelineRing ring(std::size_t{1} << 20);
  PipelineBells bells;
  BookStage stage(checkpoint_wait(0), ring, bells);
  push_frame(ring, book_frame(), 1);
  for (std::uint64_t i = 0; i < 1'000; ++i) {
    const bool last = i == 999;
    push_frame(ring, bid_change(last ? "33" : i % 2 ? "20" : "10", "1700000000001"), i + 2);
  }
  auto rest = rest_batch(5'000'000, rest_bid, 1'700'000'000'001);
  rest->fetched_at = 1'700'000'000'000'000'000 + 2'000;  // after every frame in the ring
  stage.submit_checkpoint(std::move(rest));
  std::atomic<bool> done{true};
  stage.run(done);  // takes the round with the first 256 frames, the rest still in the ring
  const BookStageStats& st = stage.stats();
  EXPECT_EQ(st.frames.load(), 1'001u);
  EXPECT_EQ(st.checkpoint_agree.load(), agree);
  EXPECT_EQ(st.checkpoint_diverge.load(), diverge);
  EXPECT_EQ(st.checkpoint_inconclusive.load(), 0u);
}

TEST(BookStage, ARestBookIsComparedOnlyOnceTheStreamCaughtUpWithItsRequest) {
  compare_behind(33'000'000, 1, 0);
}

TEST(BookStage, ARestBookTheStreamNeverReachesStillDivergesAfterItCaughtUp) {
  compare_behind(34'000'000, 0, 1);
}

TEST(BookStage, AWallClockStepIsNotSilenceButSilenceStillIs) {
  PipelineRing ring(std::size_t{1} << 16);
  PipelineBells bells;
  BookStageOptions o;
  o.token_silent_seconds = 1.5;
  BookStage stage(o, ring, bells);

  auto* open = new PipelineEvent;
  open->kind = PipelineEvent::Kind::kSessionOpen;
  open->at = realtime_now();
  open->session.session_id = "s1";
  open->session.assets_ids = {kToken};
  open->readers.store(2);  // the stage's and ours (no archive stage here)
  RecordHeader* h = ring.try_claim(0);
  ASSERT_NE(h, nullptr);
  h->type = RecordType::kControl;
  h->aux = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(open));
  ring.commit(h);
  push_frame(ring,
             std::string(R"({"event_type":"book","asset_id":")") + kToken +
                 R"(","market":"0xabc","bids":[{"price":"0.48","size":"10"}],)"
                 R"("asks":[{"price":".52","size":"5"}],"timestamp":"1700000000000","hash":"x"})",
             1, realtime_now() - std::int64_t{3'600} * 1'000'000'000, monotonic_now());

  std::atomic<bool> done{false};
  std::thread t([&] { stage.run(done); });
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // >= 3 health scans
  const std::uint64_t early = stage.stats().health_silent.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(1'600));  // now silent for 1.5 s
  const std::uint64_t later = stage.stats().health_silent.load();
  done = true;
  bells.data.ring();
  t.join();
  release_event(open);
  EXPECT_EQ(stage.stats().live.load(), 1u);
  EXPECT_EQ(early, 0u) << "an hour by the wall clock is not an hour of silence";
  EXPECT_EQ(later, 1u) << "1.5 s without an update by the monotonic clock is";
}

// Batches still queued when the stage is destroyed are freed (LeakSanitizer checks it).
TEST(BookStage, FreesBatchesNobodyTook) {
  PipelineRing ring(std::size_t{1} << 16);
  PipelineBells bells;
  BookStage stage(BookStageOptions{}, ring, bells);
  for (int i = 0; i < 3; ++i) stage.submit_checkpoint(rest_batch());
  EXPECT_EQ(stage.stats().checkpoint_books.load(), 0u);
}

}  // namespace
}  // namespace booktape
