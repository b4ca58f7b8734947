#pragma once
// How a stage waits when it has nothing to do (Aeron's idle strategies, reduced to the two the
// recorder offers). Busy-spin keeps a core hot for the lowest latency on a host with cores to
// spare; spin-then-park spins for a while that adapts to the stream (catching a steady stream
// without a syscall), then sleeps on a futex until the producer signals, so an idle recorder
// costs almost nothing.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace booktape {

enum class WaitMode : std::uint8_t { kBusySpin, kSpinThenPark };
const char* to_string(WaitMode m) noexcept;
bool parse_wait_mode(std::string_view s, WaitMode& out) noexcept;

// A wake-up word shared by a producer and the consumers that may park on it.
class Doorbell {
 public:
  // Producer: after publishing work. Costs a fence and a load unless someone is parked. The
  // fence orders the publication before the load of parked_ (a release store alone may pass a
  // later load); the consumer's fetch_add in park() is the other half: either the producer sees
  // the parked consumer, or the consumer's recheck sees the work. No wake-up is lost.
  void ring() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (parked_.load(std::memory_order_relaxed) != 0) wake();
  }
  // Consumer: sleep until ring() or `timeout_ns`, unless `still_idle()` turns false after
  // announcing the park (the recheck closes the race with a producer that published just before).
  template <class StillIdle>
  void park(std::int64_t timeout_ns, StillIdle still_idle) noexcept {
    const std::uint32_t seen = sequence_.load(std::memory_order_acquire);
    parked_.fetch_add(1, std::memory_order_seq_cst);
    // Pairs with the fence in ring(): the recheck's loads cannot move before the announcement.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (still_idle()) wait(seen, timeout_ns);
    parked_.fetch_sub(1, std::memory_order_seq_cst);
  }

 private:
  void wake() noexcept;
  void wait(std::uint32_t seen, std::int64_t timeout_ns) noexcept;

  std::atomic<std::uint32_t> sequence_{0};  // the futex word
  std::atomic<std::uint32_t> parked_{0};
};

// The idle loop of one stage: call idle(work) after every poll, with the work it did.
//
// With nothing to do it spins for a while (catching the next frame without a syscall), then
// parks on the doorbell. The spin is timed and adapts to the stream: a spin that work
// interrupted, or a park that work ended within kMaxSpinNs of going idle, doubles the next one
// (so a stream with gaps shorter than kMaxSpinNs soon stops parking and paying wake-ups); an idle
// period longer than that halves it (down to kMinSpinNs, so on a quiet stream of 100 frames/s
// a stage spins under 2 us per frame).
class IdleStrategy {
 public:
  // `max_spin_ns`: the longest spin (kMaxSpinNs by default; longer only for a thread with a
  // core of its own, since at rates with gaps below it the thread never sleeps).
  IdleStrategy(WaitMode mode, Doorbell& bell, std::int64_t max_spin_ns = kMaxSpinNs)
      : mode_(mode), bell_(bell), max_spin_ns_(std::max(max_spin_ns, kMinSpinNs)),
        budget_ns_(max_spin_ns_) {}

  template <class StillIdle>
  void idle(std::size_t work, StillIdle still_idle) noexcept {
    if (work > 0) {
      if (phase_ == Phase::kSpinning) {
        grow();  // the spin paid off
      } else if (phase_ == Phase::kParked) {
        // Work ended the park sooner than the longest spin would have waited: a longer spin
        // would have caught it. Otherwise the gaps are long and spinning is wasted.
        if (now_ns() - spin_start_ < max_spin_ns_) grow(); else shrink();
      }
      phase_ = Phase::kRunning;
      return;
    }
    if (phase_ == Phase::kRunning) {
      phase_ = Phase::kSpinning;
      spin_start_ = now_ns();
      polls_ = 0;
    }
    if (phase_ == Phase::kSpinning) {
      // The clock is read every 32 polls: a pause is tens of ns, a clock read about 20.
      if (mode_ == WaitMode::kBusySpin || (++polls_ & 31) != 0 ||
          now_ns() - spin_start_ < budget_ns_) {
        pause();
        return;
      }
      phase_ = Phase::kParked;
    }
    ++parks_;
    bell_.park(kParkNs, still_idle);
  }

  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }
  [[nodiscard]] std::int64_t spin_budget_ns() const noexcept { return budget_ns_; }

  static constexpr std::int64_t kMinSpinNs = 1'600;
  static constexpr std::int64_t kMaxSpinNs = kMinSpinNs << 7;  // 204.8 us: the default ceiling
  // Parking ends on a ring; the timeout only paces the stages' housekeeping (block ages,
  // health scans), so an idle recorder wakes 20 times a second per stage, not 200.
  static constexpr std::int64_t kParkNs = 50'000'000;

 private:
  enum class Phase : std::uint8_t { kRunning, kSpinning, kParked };
  void grow() noexcept { budget_ns_ = std::min(budget_ns_ * 2, max_spin_ns_); }
  void shrink() noexcept { budget_ns_ = std::max(budget_ns_ / 2, kMinSpinNs); }
  static void pause() noexcept;
  static std::int64_t now_ns() noexcept;

  WaitMode mode_;
  Doorbell& bell_;
  std::int64_t max_spin_ns_;
  Phase phase_ = Phase::kRunning;
  std::int64_t spin_start_ = 0;
  std::int64_t budget_ns_;
  std::uint32_t polls_ = 0;
  std::uint64_t parks_ = 0;
};

// The idle loop of a stage whose latency does not matter (the archive: a frame waits in its
// gzip block up to block_max_age anyway). It never spins and never parks on a doorbell, so the
// producer never pays a wake-up for it and the cores stay with the latency-critical threads:
// it sleeps kMinSleepNs after a poll that found work, four times longer each time it finds
// none, up to kMaxSleepNs (so a quiet feed costs a couple of wake-ups a frame).
class SleepStrategy {
 public:
  void idle(std::size_t work) noexcept {
    if (work > 0) {
      sleep_ns_ = kMinSleepNs;
      return;
    }
    ++sleeps_;
    sleep_for(sleep_ns_);
    sleep_ns_ = std::min(sleep_ns_ * 4, kMaxSleepNs);
  }

  [[nodiscard]] std::uint64_t sleeps() const noexcept { return sleeps_; }
  [[nodiscard]] std::int64_t next_sleep_ns() const noexcept { return sleep_ns_; }

  static constexpr std::int64_t kMinSleepNs = 2'000'000;
  static constexpr std::int64_t kMaxSleepNs = 50'000'000;

 private:
  static void sleep_for(std::int64_t ns) noexcept;

  std::int64_t sleep_ns_ = kMinSleepNs;
  std::uint64_t sleeps_ = 0;
};

}  // namespace booktape
