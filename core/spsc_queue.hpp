#pragma once
// A bounded lock-free queue of small fixed-size values (pointers, indices, ids): one producer
// thread, one consumer thread. FrameRing carries variable-length frames with a 64-byte header
// each; this carries a T in sizeof(T) bytes.
//
// Positions are monotonic counters (never reset); slot = position & (capacity - 1). The
// producer writes a slot, then publishes its position with a release store; the consumer reads
// that with acquire, then the slot, and publishes its own position once it has copied the value
// out. Each side's position shares a cache line with its cached copy of the other's, and a side
// reads the other's position only when the queue looks full (producer) or empty (consumer):
// while both run, little but the slots themselves moves between cores. Lines are 128 bytes
// apart, because the adjacent-line prefetcher moves lines in pairs.
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace booktape {

template <class T>
class SpscQueue {
  static_assert(std::is_trivially_copyable_v<T>, "values are copied as bytes");
  static constexpr std::size_t kLine = 128;

 public:
  // Holds at least `min_capacity` values (rounded up to a power of two, at least 2).
  explicit SpscQueue(std::size_t min_capacity)
      : capacity_(std::bit_ceil(min_capacity < 2 ? std::size_t{2} : min_capacity)),
        mask_(capacity_ - 1),
        slots_(static_cast<T*>(::operator new(capacity_ * sizeof(T), std::align_val_t{kLine}))) {}
  ~SpscQueue() { ::operator delete(slots_, std::align_val_t{kLine}); }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  // Producer: false when the queue is full (nothing is written).
  [[nodiscard]] bool try_push(const T& value) noexcept {
    const std::uint64_t tail = producer_.tail.load(std::memory_order_relaxed);  // ours alone
    if (tail - producer_.head_cache == capacity_) {
      producer_.head_cache = consumer_.head.load(std::memory_order_acquire);
      if (tail - producer_.head_cache == capacity_) return false;
    }
    slots_[tail & mask_] = value;
    producer_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer: false when the queue is empty (`out` is untouched).
  [[nodiscard]] bool try_pop(T& out) noexcept {
    const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);  // ours alone
    if (head == consumer_.tail_cache) {
      consumer_.tail_cache = producer_.tail.load(std::memory_order_acquire);
      if (head == consumer_.tail_cache) return false;
    }
    out = slots_[head & mask_];
    consumer_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Values waiting, from any thread (a snapshot: either side may move meanwhile).
  [[nodiscard]] std::size_t size_observed() const noexcept {
    const std::uint64_t head = consumer_.head.load(std::memory_order_acquire);
    const std::uint64_t tail = producer_.tail.load(std::memory_order_acquire);
    return static_cast<std::size_t>(tail - head);
  }

 private:
  // Each side's line: its published position (written only by it, read by the other side when
  // the queue looks full or empty) and its cached copy of the other side's position. One store
  // per operation: the position is both the working counter and the published one.
  struct alignas(kLine) Producer {
    std::atomic<std::uint64_t> tail{0};  // next position to write
    std::uint64_t head_cache = 0;        // last head seen: a lower bound on the consumer's
  };
  struct alignas(kLine) Consumer {
    std::atomic<std::uint64_t> head{0};  // next position to read
    std::uint64_t tail_cache = 0;        // last tail seen: a lower bound on the producer's
  };

  const std::size_t capacity_;
  const std::size_t mask_;
  T* const slots_;
  Producer producer_;
  Consumer consumer_;
};

}  // namespace booktape
