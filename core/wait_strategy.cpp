#include "core/wait_strategy.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace booktape {

const char* to_string(WaitMode m) noexcept {
  return m == WaitMode::kBusySpin ? "busy-spin" : "spin-then-park";
}

bool parse_wait_mode(std::string_view s, WaitMode& out) noexcept {
  if (s == "busy-spin" || s == "spin") {
    out = WaitMode::kBusySpin;
  } else if (s == "spin-then-park" || s == "park") {
    out = WaitMode::kSpinThenPark;
  } else {
    return false;
  }
  return true;
}

void Doorbell::wake() noexcept {
  sequence_.fetch_add(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&sequence_), FUTEX_WAKE_PRIVATE, INT32_MAX,
            nullptr, nullptr, 0);
}

void Doorbell::wait(std::uint32_t seen, std::int64_t timeout_ns) noexcept {
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
              static_cast<long>(timeout_ns % 1'000'000'000)};
  // Returns at once if the sequence already moved past `seen` (EAGAIN): no lost wake-up.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&sequence_), FUTEX_WAIT_PRIVATE, seen, &ts,
            nullptr, 0);
}

void IdleStrategy::pause() noexcept {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

std::int64_t IdleStrategy::now_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void SleepStrategy::sleep_for(std::int64_t ns) noexcept {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace booktape
