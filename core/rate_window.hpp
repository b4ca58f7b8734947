#pragma once
// At most `limit` events in any window of `window_ns`: the sliding-window rule of the venue's
// rate limits (Cloudflare's, protocol note §3: "N requests / 10 s"). The simulator refuses what
// goes past it; a client waits until next_allowed(). Times are the caller's monotonic clock.
// Cold path (one request at a time): a deque of the recent times.
#include <cstddef>
#include <cstdint>
#include <deque>

namespace booktape {

class SlidingWindowLimit {
 public:
  // limit 0: no limit.
  SlidingWindowLimit(std::size_t limit, std::int64_t window_ns) noexcept
      : limit_(limit), window_ns_(window_ns) {}

  // Records an event at `now` if the window has room; false (nothing recorded) if not.
  bool try_take(std::int64_t now) {
    if (limit_ == 0) return true;
    forget_before(now);
    if (times_.size() >= limit_) return false;
    times_.push_back(now);
    return true;
  }

  // The first time at or after `now` when try_take() would succeed.
  [[nodiscard]] std::int64_t next_allowed(std::int64_t now) {
    if (limit_ == 0) return now;
    forget_before(now);
    if (times_.size() < limit_) return now;
    return times_[times_.size() - limit_] + window_ns_;
  }

 private:
  void forget_before(std::int64_t now) {
    while (!times_.empty() && now - times_.front() >= window_ns_) times_.pop_front();
  }

  std::size_t limit_;
  std::int64_t window_ns_;
  std::deque<std::int64_t> times_;
};

}  // namespace booktape
