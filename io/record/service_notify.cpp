#include "io/record/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace booktape {

namespace {

constexpr std::int64_t kStatusEveryNs = 2 * kNanosPerSecond;

// A stage with work waiting may pause for a slow fsync or a rotation; a quarter of the
// watchdog interval (within 2..30 s) is far beyond those and leaves the service manager time.
std::int64_t stage_stall_ns(std::int64_t watchdog_ns) {
  if (watchdog_ns <= 0) return PipelineWatchOptions{}.stage_stall_ns;
  return std::clamp<std::int64_t>(watchdog_ns / 4, 2 * kNanosPerSecond, 30 * kNanosPerSecond);
}

std::string one_line(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

}  // namespace

ServiceNotifier::ServiceNotifier() noexcept {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) {
    watchdog_ns_ = static_cast<std::int64_t>(usec) * 1000;
  }
}

void ServiceNotifier::send(const std::string& state) const noexcept {
  if (enabled_) (void)sd_notify(0, state.c_str());
}

RecorderService::RecorderService(RecorderServiceOptions options, const PipelineRing& ring,
                                 const NetworkStats& net)
    : opt_(std::move(options)),
      ring_(ring),
      net_(net),
      bounds_{stage_stall_ns(notifier_.watchdog_ns()),
              network_stall_ns(opt_.ping_interval_seconds, opt_.stale_connection_seconds,
                               opt_.pong_timeout_seconds)},
      watch_(bounds_) {}

std::string RecorderService::describe() const {
  if (!notifier_.enabled()) return "";
  auto s = [](std::int64_t ns) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", static_cast<double>(ns) / 1e9);
    return std::string(b);
  };
  std::string line = "service manager: READY once a connection is up";
  if (notifier_.watchdog_ns() > 0) {
    line += "; WATCHDOG every " + s(notifier_.watchdog_ns() / 4) + " s of " +
            s(notifier_.watchdog_ns()) + " s while the stages move (stuck after " +
            s(bounds_.stage_stall_ns) + " s with work waiting) and the network thread does (" +
            s(bounds_.network_stall_ns) + " s)";
  }
  return line;
}

PipelineSample RecorderService::sample(MonoNanos now) const {
  PipelineSample p;
  p.now = now;
  for (std::size_t c = 0; c < kStageCount; ++c) p.consumed[c] = ring_.consumed(c);
  p.published = ring_.published();  // after the heads: a head never passes it
  constexpr auto r = std::memory_order_relaxed;
  p.network_activity = net_.frames.load(r) + net_.pings.load(r) + net_.pongs.load(r) +
                       net_.connects.load(r) + net_.disconnects.load(r) +
                       net_.connect_failures.load(r);
  p.live_connections = net_.live_connections.load(r);
  return p;
}

std::string RecorderService::tick(MonoNanos now) {
  std::string said;
  const std::string why = watch_.observe(sample(now));
  if (why != stuck_) {
    // Said once when a thread is found stuck (the text grows with the time; only the first
    // one is logged) and once when everything moves again.
    if (stuck_.empty()) {
      said = "ALARM: " + why + "; " +
             (notifier_.watchdog_ns() > 0 ? "no WATCHDOG ping until it moves"
                                          : "no watchdog is configured");
      next_status_ = now;
    } else if (why.empty()) {
      said = "every thread makes progress again";
      next_status_ = now;
    }
    stuck_ = why;
  }
  if (!ready_ && net_.live_connections.load(std::memory_order_relaxed) > 0) {
    ready_ = true;
    notifier_.send("READY=1");
  }
  if (notifier_.enabled() && now >= next_status_) {
    const std::uint64_t frames = net_.frames.load(std::memory_order_relaxed);
    const double dt = last_status_ == 0 ? 0 : static_cast<double>(now - last_status_) / 1e9;
    const double fps = dt > 0 ? static_cast<double>(frames - last_frames_) / dt : 0;
    last_frames_ = frames;
    last_status_ = now;
    next_status_ = now + kStatusEveryNs;
    std::string status = opt_.status_text ? opt_.status_text(fps) : "";
    if (!stuck_.empty()) status = "ALARM: " + stuck_ + " | " + status;
    if (!ready_) status = "waiting for the first connection | " + status;
    notifier_.send("STATUS=" + one_line(status));
  }
  if (notifier_.watchdog_ns() > 0 && stuck_.empty() && now >= next_ping_) {
    notifier_.send("WATCHDOG=1");
    next_ping_ = now + notifier_.watchdog_ns() / 4;
  }
  return said;
}

void RecorderService::stopping(std::string_view why) {
  notifier_.send("STOPPING=1\nSTATUS=" + one_line(why));
}

}  // namespace booktape
