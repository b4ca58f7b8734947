#pragma once
// The recorder under a service manager (systemd's Type=notify; docs/DEPLOY.md, "Watchdog"),
// through sd_notify(3): READY=1 once the first websocket connection is up and its subscription
// sent, STATUS= with the status line, WATCHDOG=1 every quarter of WatchdogSec while every thread
// makes progress (PipelineWatch), STOPPING=1 at shutdown. Without NOTIFY_SOCKET nothing is sent,
// but the watch still runs: a stuck thread is logged as an ALARM either way.
//
// Only the control thread calls it. It reads the ring's positions and the network counters,
// never anything a stage would have to write for it.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "io/record/network_stage.hpp"
#include "io/record/pipeline_watch.hpp"

namespace booktape {

// sd_notify(3), or nothing when NOTIFY_SOCKET is unset.
class ServiceNotifier {
 public:
  ServiceNotifier() noexcept;  // reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  [[nodiscard]] std::int64_t watchdog_ns() const noexcept { return watchdog_ns_; }  // 0: none
  // Newline-separated assignments ("READY=1\nSTATUS=..."); errors are ignored (best effort:
  // a service manager that went away must not stop the recording).
  void send(const std::string& state) const noexcept;

 private:
  bool enabled_ = false;
  std::int64_t watchdog_ns_ = 0;
};

struct RecorderServiceOptions {
  // The network thread's timers (recorder config), for its stall bound.
  double ping_interval_seconds = 10;
  double stale_connection_seconds = 30;
  double pong_timeout_seconds = 30;
  // The status line for STATUS=, given the frames per second since the last one.
  std::function<std::string(double)> status_text;
};

class RecorderService {
 public:
  RecorderService(RecorderServiceOptions options, const PipelineRing& ring,
                  const NetworkStats& net);

  // One line for the log on start: whether a service manager listens, the watchdog interval
  // and the stall bounds ("" when there is nothing to say).
  [[nodiscard]] std::string describe() const;
  // The control loop's turn. Returns a line to log when a thread is found stuck or moves again,
  // else "".
  [[nodiscard]] std::string tick(MonoNanos now);
  // Shutdown has begun (STOPPING=1).
  void stopping(std::string_view why);

 private:
  PipelineSample sample(MonoNanos now) const;

  RecorderServiceOptions opt_;
  const PipelineRing& ring_;
  const NetworkStats& net_;
  ServiceNotifier notifier_;
  PipelineWatchOptions bounds_;
  PipelineWatch watch_;
  bool ready_ = false;
  std::string stuck_;  // what the watch said last ("" while all is well)
  MonoNanos next_ping_ = 0, next_status_ = 0, last_status_ = 0;
  std::uint64_t last_frames_ = 0;
};

}  // namespace booktape
