#pragma once
// A lock-free byte ring of variable-length records: one producer, N consumers that each read
// every record (the network thread writes a frame once; the book stage and the archive stage
// read it independently). N = 1 is a plain SPSC ring.
//
// Layout (Aeron style): records are a 64-byte RecordHeader followed by the payload and
// kPayloadPadding zero bytes, each record aligned to 64 bytes. At the end of the buffer
// a padding record fills the gap so a record never wraps. Positions are monotonic byte counters
// (never reset); index = position & (capacity - 1).
//
// Memory ordering: the producer writes a record, then publishes `tail_` with a release store; a
// consumer reads `tail_` with acquire and then the record. A consumer releases its `head_` after
// it is done with the bytes; the producer reads every head with acquire before reusing them.
// Each index sits on its own cache line, and each side caches the others' last seen values so
// the shared lines are touched only when the ring looks full or empty.
#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace booktape {

inline constexpr std::size_t kCacheLine = 64;

enum class RecordType : std::uint16_t {
  kPadding = 0,   // filler at the end of the buffer; consumers skip it
  kFrame = 1,     // a websocket frame
  kControl = 2,   // a pipeline event (session opened/closed, subscription changed, ...)
};

// Fixed header of every record. Times are set by the producer when the read completed.
struct alignas(kCacheLine) RecordHeader {
  std::uint32_t length;          // payload bytes (excluding header and padding)
  RecordType type;
  std::uint8_t opcode;           // websocket opcode for frames (1 text, 2 binary)
  std::uint8_t flags;
  std::uint32_t connection;      // connection (shard) slot
  std::uint32_t reserved;
  std::int64_t received_ns;      // CLOCK_REALTIME at read completion
  std::int64_t monotonic_ns;     // CLOCK_MONOTONIC_RAW at the same moment
  std::uint64_t connection_sequence;  // n-th connection of the run
  std::uint64_t message_sequence;     // n-th frame on that connection
  std::uint64_t global_sequence;      // n-th frame of the run
  std::uint64_t aux;             // control records: the event's data (see the pipeline)
};
static_assert(sizeof(RecordHeader) == kCacheLine);

template <std::size_t kConsumers>
class FrameRing {
 public:
  // Readable zeroed bytes after every payload: simdjson's padding, and a NUL right after the
  // payload so a parser never mistakes the next bytes for more JSON.
  static constexpr std::size_t kPayloadPadding = 64;

  // capacity: a power of two, at least 4 records of the largest payload expected.
  explicit FrameRing(std::size_t capacity)
      : capacity_(capacity), mask_(capacity - 1),
        buffer_(static_cast<std::byte*>(::operator new(capacity, std::align_val_t{kCacheLine}))) {
    assert(capacity >= 4096 && (capacity & (capacity - 1)) == 0 && "power-of-two capacity");
    for (auto& h : heads_) h.value.store(0, std::memory_order_relaxed);
  }
  ~FrameRing() { ::operator delete(buffer_, std::align_val_t{kCacheLine}); }
  FrameRing(const FrameRing&) = delete;
  FrameRing& operator=(const FrameRing&) = delete;

  // Bytes one record of `payload` takes in the ring.
  static constexpr std::size_t record_size(std::size_t payload) noexcept {
    return (sizeof(RecordHeader) + payload + kPayloadPadding + kCacheLine - 1) & ~(kCacheLine - 1);
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // The largest payload the ring can ever hold.
  [[nodiscard]] std::size_t max_payload() const noexcept {
    return capacity_ / 4 - sizeof(RecordHeader) - kPayloadPadding;
  }

  // ---- producer side (one thread) ----------------------------------------------------------

  // Reserves room for a record of `payload` bytes; nullptr when the ring is full (try again
  // later: the caller counts the wait). The caller fills the header and payload, then commit().
  [[nodiscard]] RecordHeader* try_claim(std::size_t payload) noexcept {
    assert(payload <= max_payload());
    const std::size_t need = record_size(payload);
    std::uint64_t pos = tail_local_;
    std::size_t index = pos & mask_;
    const std::size_t to_end = capacity_ - index;
    const bool wraps = need > to_end;
    const std::size_t total = wraps ? to_end + need : need;
    if (!has_room(pos, total)) return nullptr;
    if (wraps) {
      // Padding record to the end of the buffer, then the record at the start.
      auto* pad = reinterpret_cast<RecordHeader*>(buffer_ + index);
      pad->type = RecordType::kPadding;
      pad->length = static_cast<std::uint32_t>(to_end - sizeof(RecordHeader));
      pos += to_end;
      index = 0;
    }
    claimed_pos_ = pos;
    claimed_size_ = need;
    auto* h = reinterpret_cast<RecordHeader*>(buffer_ + index);
    h->length = static_cast<std::uint32_t>(payload);
    h->flags = 0;
    return h;
  }

  // Whether try_claim(payload) would succeed now (producer side; claims nothing).
  [[nodiscard]] bool would_fit(std::size_t payload) noexcept {
    const std::size_t need = record_size(payload);
    const std::size_t to_end = capacity_ - (tail_local_ & mask_);
    return has_room(tail_local_, need > to_end ? to_end + need : need);
  }

  [[nodiscard]] static std::byte* payload_of(RecordHeader* h) noexcept {
    return reinterpret_cast<std::byte*>(h + 1);
  }

  // Publishes the claimed record to every consumer.
  void commit(RecordHeader* h) noexcept {
    std::memset(payload_of(h) + h->length, 0, kPayloadPadding);
    tail_local_ = claimed_pos_ + claimed_size_;
    tail_.value.store(tail_local_, std::memory_order_release);
  }

  // Bytes in use, as the producer sees them (for high-water marks).
  [[nodiscard]] std::size_t used() const noexcept {
    std::uint64_t slowest = tail_local_;
    for (const auto& h : heads_) slowest = std::min(slowest, h.value.load(std::memory_order_acquire));
    return static_cast<std::size_t>(tail_local_ - slowest);
  }

  // ---- consumer side (one thread per consumer index) ---------------------------------------

  // The next record for consumer `c`, or nullptr if there is none yet. Padding is skipped.
  // The record stays valid until release(c, record).
  [[nodiscard]] const RecordHeader* peek(std::size_t c) noexcept {
    Consumer& me = consumers_[c];
    for (;;) {
      if (me.read == me.tail_cache) {
        me.tail_cache = tail_.value.load(std::memory_order_acquire);
        if (me.read == me.tail_cache) return nullptr;
      }
      const auto* h = reinterpret_cast<const RecordHeader*>(buffer_ + (me.read & mask_));
      if (h->type != RecordType::kPadding) return h;
      me.read += sizeof(RecordHeader) + h->length;  // to the start of the buffer
    }
  }

  // Done with `h` (and everything before it): its bytes may be reused.
  void release(std::size_t c, const RecordHeader* h) noexcept {
    Consumer& me = consumers_[c];
    me.read += record_size(h->length);
    heads_[c].value.store(me.read, std::memory_order_release);
  }

  // Bytes not yet released by the slowest consumer, from any thread (a monitoring snapshot:
  // the positions are read one after another, so it may be off by what moved meanwhile).
  [[nodiscard]] std::size_t used_observed() const noexcept {
    const std::uint64_t tail = tail_.value.load(std::memory_order_acquire);
    std::uint64_t slowest = tail;
    for (const auto& h : heads_) slowest = std::min(slowest, h.value.load(std::memory_order_acquire));
    return static_cast<std::size_t>(tail - slowest);
  }

  // Position counters, for waiting strategies and metrics.
  [[nodiscard]] std::uint64_t published() const noexcept {
    return tail_.value.load(std::memory_order_acquire);
  }
  // How far consumer `c` has released, from any thread (whether a stage makes progress).
  [[nodiscard]] std::uint64_t consumed(std::size_t c) const noexcept {
    return heads_[c].value.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::atomic<std::uint64_t>& tail_word() noexcept { return tail_.value; }

 private:
  struct alignas(kCacheLine) Index {
    std::atomic<std::uint64_t> value{0};
  };
  struct alignas(kCacheLine) Consumer {
    std::uint64_t read = 0;        // next byte to read (owned by the consumer thread)
    std::uint64_t tail_cache = 0;  // last tail seen
  };

  bool has_room(std::uint64_t pos, std::size_t total) noexcept {
    // Cached lower bound on every consumer's head; refresh only when it looks full.
    if (pos + total - head_cache_ <= capacity_) return true;
    std::uint64_t slowest = pos;
    for (const auto& h : heads_) slowest = std::min(slowest, h.value.load(std::memory_order_acquire));
    head_cache_ = slowest;
    return pos + total - head_cache_ <= capacity_;
  }

  const std::size_t capacity_;
  const std::size_t mask_;
  std::byte* const buffer_;
  // Producer-owned (one cache line of its own use).
  alignas(kCacheLine) std::uint64_t tail_local_ = 0;
  std::uint64_t head_cache_ = 0;
  std::uint64_t claimed_pos_ = 0;
  std::size_t claimed_size_ = 0;
  Index tail_;                                  // published by the producer
  std::array<Index, kConsumers> heads_;         // published by each consumer
  std::array<Consumer, kConsumers> consumers_;  // each consumer's private state
};

}  // namespace booktape
