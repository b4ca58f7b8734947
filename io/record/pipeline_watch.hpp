#pragma once
// Whether the recorder's threads make progress: the judge behind the service manager's watchdog
// (docs/DEPLOY.md, "Watchdog"). The control loop feeds it a sample of positions and counters
// every turn; it says which thread, if any, has made no progress for too long.
//
// Progress, per thread:
// - a ring consumer (book stage, archive stage): it released a record since the last sample, or
//   it has nothing waiting (an idle stage is not stuck; a stage with nothing to do cannot be
//   judged, and need not be);
// - the network thread: one of its counters moved (frames, pings, pongs, connects,
//   disconnects, failed connects), or no connection is live (it is backing off, and a backoff
//   moves nothing for up to backoff_max_seconds). A live connection pings every
//   ping_interval_seconds and is replaced after stale_connection_seconds of silence, so a
//   running network thread moves a counter well within twice the longer of the two.
// The control loop itself is judged by the service manager: it is what sends the pings.
#include <array>
#include <cstdint>
#include <string>

#include "core/clock.hpp"
#include "io/record/pipeline.hpp"

namespace booktape {

// One look at the pipeline, taken by the control thread.
struct PipelineSample {
  MonoNanos now = 0;
  std::array<std::uint64_t, kStageCount> consumed{};  // each consumer's released position
  std::uint64_t published = 0;                        // the ring's tail, read after `consumed`
  std::uint64_t network_activity = 0;                 // sum of the network thread's counters
  std::uint32_t live_connections = 0;
};

struct PipelineWatchOptions {
  std::int64_t stage_stall_ns = 10 * kNanosPerSecond;    // a consumer with work, not moving
  std::int64_t network_stall_ns = 65 * kNanosPerSecond;  // a live network thread, not moving
};

// The network thread's bound from its own timers: 2 x max(ping, stale, pong) + 5 s.
[[nodiscard]] std::int64_t network_stall_ns(double ping_interval_seconds,
                                            double stale_connection_seconds,
                                            double pong_timeout_seconds) noexcept;

class PipelineWatch {
 public:
  explicit PipelineWatch(PipelineWatchOptions options) noexcept : opt_(options) {}

  // Takes one sample (the control thread only). Returns "" while every thread makes progress,
  // else what is stuck, for the log and the service status: "the book stage has released
  // nothing for 12 s with 3145728 bytes waiting".
  [[nodiscard]] std::string observe(const PipelineSample& s);
  [[nodiscard]] bool stuck() const noexcept { return stuck_; }

 private:
  PipelineWatchOptions opt_;
  bool started_ = false;
  bool stuck_ = false;
  std::array<std::uint64_t, kStageCount> last_consumed_{};
  std::array<MonoNanos, kStageCount> stage_progress_{};
  std::uint64_t last_activity_ = 0;
  MonoNanos network_progress_ = 0;
};

}  // namespace booktape
