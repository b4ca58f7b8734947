#include "io/record/pipeline_watch.hpp"

#include <algorithm>

namespace booktape {

namespace {

constexpr std::array<const char*, kStageCount> kStageNames = [] {
  std::array<const char*, kStageCount> n{};
  n[kBookConsumer] = "book stage";
  n[kArchiveConsumer] = "archive stage";
  return n;
}();

std::string seconds_text(std::int64_t ns) {
  return std::to_string(static_cast<long long>(ns / kNanosPerSecond)) + " s";
}

}  // namespace

std::int64_t network_stall_ns(double ping_interval_seconds, double stale_connection_seconds,
                              double pong_timeout_seconds) noexcept {
  const double longest =
      std::max({ping_interval_seconds, stale_connection_seconds, pong_timeout_seconds});
  return static_cast<std::int64_t>((2 * longest + 5) * 1e9);
}

std::string PipelineWatch::observe(const PipelineSample& s) {
  if (!started_) {
    started_ = true;
    last_consumed_ = s.consumed;
    stage_progress_.fill(s.now);
    last_activity_ = s.network_activity;
    network_progress_ = s.now;
  }
  std::string why;
  for (std::size_t c = 0; c < kStageCount; ++c) {
    if (s.consumed[c] != last_consumed_[c] || s.consumed[c] >= s.published) {
      stage_progress_[c] = s.now;
    }
    last_consumed_[c] = s.consumed[c];
    const std::int64_t idle = s.now - stage_progress_[c];
    if (why.empty() && idle > opt_.stage_stall_ns) {
      why = std::string("the ") + kStageNames[c] + " has released nothing for " +
            seconds_text(idle) + " with " + std::to_string(s.published - s.consumed[c]) +
            " bytes waiting in the ring";
    }
  }
  if (s.network_activity != last_activity_ || s.live_connections == 0) network_progress_ = s.now;
  last_activity_ = s.network_activity;
  const std::int64_t quiet = s.now - network_progress_;
  if (why.empty() && quiet > opt_.network_stall_ns) {
    why = "the network thread has moved no counter for " + seconds_text(quiet) + " with " +
          std::to_string(s.live_connections) + " connection(s) live";
  }
  stuck_ = !why.empty();
  return why;
}

}  // namespace booktape
