#pragma once
// `books_only`: the archive's place at the ring (consumer 1) without an archive. It releases
// every record (and its session events) as it comes, so the ring works as it does with an
// archive stage, at the cost of a thread that sleeps between batches (SleepStrategy: it never
// spins and never makes the network thread pay a wake-up).
#include <atomic>
#include <cstdint>

#include "core/wait_strategy.hpp"
#include "io/record/pipeline.hpp"

namespace booktape {

class DiscardStage {
 public:
  DiscardStage(PipelineRing& ring, PipelineBells& bells) : ring_(ring), bells_(bells) {}

  // Until `producer_done` is set and every record was released.
  void run(const std::atomic<bool>& producer_done) {
    SleepStrategy idle;
    for (;;) {
      const std::size_t n = consume_records(
          ring_, bells_, kArchiveConsumer, 4096, [](const RecordHeader*) {}, [](PipelineEvent*) {});
      frames_.store(frames_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
      if (n == 0 && producer_done.load(std::memory_order_acquire) &&
          ring_.peek(kArchiveConsumer) == nullptr) {
        return;
      }
      idle.idle(n);
    }
  }
  // Records released (frames and session events), any thread.
  [[nodiscard]] std::uint64_t released() const noexcept {
    return frames_.load(std::memory_order_relaxed);
  }

 private:
  PipelineRing& ring_;
  PipelineBells& bells_;
  std::atomic<std::uint64_t> frames_{0};
};

}  // namespace booktape
