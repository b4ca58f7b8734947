#pragma once
// The latest value of something one thread produces now and then (a snapshot of a stage's
// state) for one other thread to read when it likes: neither side ever waits for the other.
//
// Three slots: the writer fills its own (back) slot, then swaps it with the middle one and
// marks the middle fresh; the reader, when it wants news, swaps its own (front) slot with the
// middle one if that is fresh. Each slot is owned by exactly one side at a time, so a slot is
// never read while written. Slots keep their contents between rounds: a writer that refills
// vectors and strings in place allocates nothing once they have grown to size.
//
// The swap is an acq_rel exchange: the writer's release publishes what it wrote into the slot
// it hands over; the reader's acquire makes it visible before it reads that slot.
#include <array>
#include <atomic>
#include <cstdint>
#include <new>

namespace booktape {

template <class T>
class TripleBuffer {
 public:
  TripleBuffer() = default;
  TripleBuffer(const TripleBuffer&) = delete;
  TripleBuffer& operator=(const TripleBuffer&) = delete;

  // Writer: the slot to fill (keeps what it held two publications ago).
  [[nodiscard]] T& back() noexcept { return slots_[back_]; }
  // Writer: hands the back slot over as the latest value.
  void publish() noexcept {
    back_ = middle_.exchange(static_cast<std::uint8_t>(back_ | kFresh), std::memory_order_acq_rel) &
            kIndex;
  }

  // Reader: takes the latest value if one was published since the last take; true if so.
  bool take() noexcept {
    if ((middle_.load(std::memory_order_relaxed) & kFresh) == 0) return false;
    front_ = middle_.exchange(front_, std::memory_order_acq_rel) & kIndex;
    return true;
  }
  // Reader: the value taken last (a default T before the first take()).
  [[nodiscard]] const T& front() const noexcept { return slots_[front_]; }

 private:
  static constexpr std::uint8_t kIndex = 3;
  static constexpr std::uint8_t kFresh = 4;
  static constexpr std::size_t kLine = 128;  // the adjacent-line prefetcher moves pairs

  std::array<T, 3> slots_{};
  alignas(kLine) std::atomic<std::uint8_t> middle_{1};
  alignas(kLine) std::uint8_t back_ = 0;   // the writer's
  alignas(kLine) std::uint8_t front_ = 2;  // the reader's
};

}  // namespace booktape
