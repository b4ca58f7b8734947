#pragma once
// How a stage waits when it has nothing to do (Aeron's idle strategies, reduced to the two the
// recorder offers). Busy-spin keeps a core hot for the lowest latency on a host with cores to
// spare; spin-then-park spins briefly (catching a steady stream without a syscall), then yields,
// then sleeps on a futex until the producer signals, so an idle recorder costs almost nothing.
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
  // Producer: after publishing work. Costs one load unless someone is parked.
  void ring() noexcept {
    if (parked_.load(std::memory_order_seq_cst) != 0) wake();
  }
  // Consumer: sleep until ring() or `timeout_ns`, unless `still_idle()` turns false after
  // announcing the park (the recheck closes the race with a producer that published just before).
  template <class StillIdle>
  void park(std::int64_t timeout_ns, StillIdle still_idle) noexcept {
    const std::uint32_t seen = sequence_.load(std::memory_order_acquire);
    parked_.fetch_add(1, std::memory_order_seq_cst);
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
class IdleStrategy {
 public:
  IdleStrategy(WaitMode mode, Doorbell& bell) : mode_(mode), bell_(bell) {}

  template <class StillIdle>
  void idle(std::size_t work, StillIdle still_idle) noexcept {
    if (work > 0) {
      spins_ = 0;
      return;
    }
    if (mode_ == WaitMode::kBusySpin || spins_ < kSpins) {
      ++spins_;
      pause();
      return;
    }
    if (spins_ < kSpins + kYields) {
      ++spins_;
      yield();
      return;
    }
    ++parks_;
    bell_.park(kParkNs, still_idle);
  }

  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }

  // ~50 us of spinning at ~40 ns a pause: a stream of 20 k frames/s or more never parks.
  static constexpr std::uint32_t kSpins = 1'500;
  static constexpr std::uint32_t kYields = 20;
  static constexpr std::int64_t kParkNs = 5'000'000;  // a missed wake-up costs at most 5 ms

 private:
  static void pause() noexcept;
  static void yield() noexcept;

  WaitMode mode_;
  Doorbell& bell_;
  std::uint32_t spins_ = 0;
  std::uint64_t parks_ = 0;
};

}  // namespace booktape
