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

// When to spin and when to park, from the gaps between batches of work (a gap: from going idle
// to the next work). Frames from a live venue arrive as a Poisson stream, and for such a stream
// a spin pays only while the mean gap is below what a park and a wake-up cost: the chance that
// the next frame comes within the next microsecond does not grow with the wait (no memory), so a
// spin that did not catch the frame soon will not catch it later. Slower streams park at once
// after each batch; faster ones spin a few mean gaps, then park.
//
// The threshold is a twentieth of the longest spin: 10.24 us by default, about the CPU a futex
// park and wake-up cost on a VM (docs/PERFORMANCE.md, "Paced rates"), so above ~100 k frames/s.
// A thread with a core of its own (a longer max_spin_ns) spins for slower streams too: with
// 2 ms, while the mean gap is under 100 us (10 k frames/s). No clock of its own: it is fed the
// gaps, so it is exact to test.
class SpinPolicy {
 public:
  explicit SpinPolicy(std::int64_t max_spin_ns) noexcept
      : max_spin_ns_(max_spin_ns), threshold_ns_(max_spin_ns / 20),
        mean_gap_ns_(kCeiling * threshold_ns_) {}

  // One idle gap, ended by work. A mean over the last ~8 gaps (an exponential average); one
  // gap counts at most kCeiling thresholds, so that a pause in the feed is forgotten within
  // ~20 gaps once the stream is fast again.
  void observe(std::int64_t gap_ns) noexcept {
    const std::int64_t g = std::clamp<std::int64_t>(gap_ns, 0, kCeiling * threshold_ns_);
    mean_gap_ns_ += (g - mean_gap_ns_) / 8;
  }
  // How long to spin before parking: 0 (park at once) unless the mean gap is under the
  // threshold; then four mean gaps (98% of a Poisson stream's gaps are shorter), at most the
  // longest spin.
  [[nodiscard]] std::int64_t spin_ns() const noexcept {
    if (mean_gap_ns_ >= threshold_ns_) return 0;
    return std::min(4 * mean_gap_ns_ + kMinSpinNs, max_spin_ns_);
  }
  [[nodiscard]] std::int64_t mean_gap_ns() const noexcept { return mean_gap_ns_; }
  [[nodiscard]] std::int64_t threshold_ns() const noexcept { return threshold_ns_; }

  static constexpr std::int64_t kCeiling = 16;
  static constexpr std::int64_t kMinSpinNs = 200;  // a spin at all outlasts a poll or two

 private:
  std::int64_t max_spin_ns_;
  std::int64_t threshold_ns_;
  std::int64_t mean_gap_ns_;  // starts high: parks until the stream shows it is fast
};

// The idle loop of one stage: call idle(work) after every poll, with the work it did.
//
// kSpinThenPark: with nothing to do it spins as long as the SpinPolicy says (often not at all),
// then parks on the doorbell. The clock is read when the stage goes idle and when work ends
// the idle period (to measure the gap), and every 64 polls of a spin, never on every poll.
// kBusySpin never parks and never reads the clock.
class IdleStrategy {
 public:
  // `max_spin_ns`: the longest spin (kMaxSpinNs by default; longer only for a thread with a
  // core of its own, see SpinPolicy).
  IdleStrategy(WaitMode mode, Doorbell& bell, std::int64_t max_spin_ns = kMaxSpinNs)
      : mode_(mode), bell_(bell), policy_(std::max(max_spin_ns, kMinMaxSpinNs)) {}

  template <class StillIdle>
  void idle(std::size_t work, StillIdle still_idle) noexcept {
    if (work > 0) {
      if (phase_ != Phase::kRunning) {
        policy_.observe(now_ns() - idle_start_);
        phase_ = Phase::kRunning;
      }
      return;
    }
    if (mode_ == WaitMode::kBusySpin) {
      pause();
      return;
    }
    if (phase_ == Phase::kRunning) {
      phase_ = Phase::kSpinning;
      idle_start_ = now_ns();
      spin_ns_ = policy_.spin_ns();
      polls_ = 0;
    }
    if (phase_ == Phase::kSpinning) {
      if (spin_ns_ > 0 && ((++polls_ & 63) != 0 || now_ns() - idle_start_ < spin_ns_)) {
        pause();
        return;
      }
      phase_ = Phase::kParked;
    }
    ++parks_;
    bell_.park(kParkNs, still_idle);
  }

  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }
  [[nodiscard]] const SpinPolicy& policy() const noexcept { return policy_; }

  static constexpr std::int64_t kMaxSpinNs = 204'800;  // the default longest spin
  static constexpr std::int64_t kMinMaxSpinNs = 1'600;
  // Parking ends on a ring; the timeout only paces the stages' housekeeping (block ages,
  // health scans), so an idle recorder wakes 20 times a second per stage, not 200.
  static constexpr std::int64_t kParkNs = 50'000'000;

 private:
  enum class Phase : std::uint8_t { kRunning, kSpinning, kParked };
  static void pause() noexcept;
  static std::int64_t now_ns() noexcept;

  WaitMode mode_;
  Doorbell& bell_;
  SpinPolicy policy_;
  Phase phase_ = Phase::kRunning;
  std::int64_t idle_start_ = 0;
  std::int64_t spin_ns_ = 0;
  std::uint32_t polls_ = 0;
  std::uint64_t parks_ = 0;
};

// The idle loop of a stage whose latency does not matter (the archive: a frame waits in its
// gzip block up to block_max_age anyway). It never spins and never parks on a doorbell, so the
// producer never pays a wake-up for it and the cores stay with the latency-critical threads.
// A poll that took a full batch (`batch`) polls again at once. Otherwise it sleeps, and the
// sleep adapts to the stream: twice as long after a poll that found fewer than a quarter batch
// (or nothing: four times), up to kMaxSleepNs, and half as long after more, down to
// kMinSleepNs. So a slow stream is taken a few dozen frames per wake-up (a frame costs the
// archive a wake-up of its own no more), a busy one in full batches.
class SleepStrategy {
 public:
  explicit SleepStrategy(std::size_t batch = 256) noexcept : batch_(batch) {}

  void idle(std::size_t work) noexcept {
    if (work >= batch_) return;
    ++sleeps_;
    sleep_for(sleep_ns_);
    if (work == 0) {
      sleep_ns_ = std::min(sleep_ns_ * 4, kMaxSleepNs);
    } else if (work < batch_ / 4) {
      sleep_ns_ = std::min(sleep_ns_ * 2, kMaxSleepNs);
    } else {
      sleep_ns_ = std::max(sleep_ns_ / 2, kMinSleepNs);
    }
  }

  [[nodiscard]] std::uint64_t sleeps() const noexcept { return sleeps_; }
  [[nodiscard]] std::int64_t next_sleep_ns() const noexcept { return sleep_ns_; }

  static constexpr std::int64_t kMinSleepNs = 2'000'000;
  static constexpr std::int64_t kMaxSleepNs = 50'000'000;

 private:
  static void sleep_for(std::int64_t ns) noexcept;

  std::size_t batch_;
  std::int64_t sleep_ns_ = kMinSleepNs;
  std::uint64_t sleeps_ = 0;
};

}  // namespace booktape
