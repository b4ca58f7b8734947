// Rings, producer and consumer on different cpus: our FrameRing (one consumer: SPSC) against
// boost::lockfree::spsc_queue and moodycamel::ReaderWriterQueue, each used the way it is built
// to be used.
//   BM_Ring8<...>        8-byte items: items/s
//   BM_RingFrames<...>   frames of 64 B to 4 KB (a fixed pseudo-random mix): frames/s, bytes/s
//   BM_RingRoundTrip<...> a 64-byte frame there and back through two rings: time per round trip
// How each carries a frame: FrameRing copies it in once and the consumer reads it in place;
// boost's byte queue copies it in and out again (its API); moodycamel's queue passes indices of
// preallocated 4 KB slots, with a second queue returning free slots (no allocation per frame).
#include <benchmark/benchmark.h>
#include <readerwriterqueue.h>

#include <array>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "core/frame_ring.hpp"
#include "core/spsc_queue.hpp"
#include "core/thread_util.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace booktape::bench {
namespace {

constexpr std::size_t kMaxFrame = 4096;
constexpr std::size_t kBatch = std::size_t{1} << 16;  // items per benchmark iteration

void cpu_relax() noexcept {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Producer on cpu 0, the other thread on cpu 1 (when there are two).
int cpu_for(int i) { return cpu_count() >= 2 ? i : -1; }

// ---- the three rings behind one interface: try_send(bytes, n), try_recv(f(bytes, n)) --------

struct OurRing {
  FrameRing<1> ring{std::size_t{4} << 20};
  bool try_send(const std::byte* p, std::size_t n) noexcept {
    RecordHeader* h = ring.try_claim(n);
    if (h == nullptr) return false;
    h->type = RecordType::kFrame;
    std::memcpy(FrameRing<1>::payload_of(h), p, n);
    ring.commit(h);
    return true;
  }
  template <class F>
  bool try_recv(F f) noexcept {
    const RecordHeader* h = ring.peek(0);
    if (h == nullptr) return false;
    f(reinterpret_cast<const std::byte*>(h + 1), h->length);
    ring.release(0, h);
    return true;
  }
};

// Bytes with a 4-byte length prefix; the consumer pops them into its own buffer.
struct BoostRing {
  boost::lockfree::spsc_queue<std::byte> q{std::size_t{4} << 20};
  std::array<std::byte, kMaxFrame> out{};
  bool try_send(const std::byte* p, std::size_t n) noexcept {
    if (q.write_available() < 4 + n) return false;
    const auto len = static_cast<std::uint32_t>(n);
    q.push(reinterpret_cast<const std::byte*>(&len), 4);
    q.push(p, n);
    return true;
  }
  template <class F>
  bool try_recv(F f) noexcept {
    if (q.read_available() < 4) return false;
    std::uint32_t len = 0;
    q.pop(reinterpret_cast<std::byte*>(&len), 4);
    std::size_t got = 0;  // the bytes follow the length at once: the producer pushed both
    while (got < len) got += q.pop(out.data() + got, len - got);
    f(out.data(), len);
    return true;
  }
};

// Indices of preallocated slots: one queue carries full slots, the other returns them.
struct MoodyRing {
  static constexpr std::size_t kSlots = 1024;
  moodycamel::ReaderWriterQueue<std::uint32_t> full_slots{kSlots}, free_slots{kSlots};
  using Slot = std::array<std::byte, kMaxFrame>;
  std::vector<Slot> slots = std::vector<Slot>(kSlots);
  std::vector<std::uint32_t> lens = std::vector<std::uint32_t>(kSlots);
  MoodyRing() {
    for (std::uint32_t i = 0; i < kSlots; ++i) free_slots.try_enqueue(i);
  }
  bool try_send(const std::byte* p, std::size_t n) noexcept {
    std::uint32_t i = 0;
    if (!free_slots.try_dequeue(i)) return false;
    std::memcpy(slots[i].data(), p, n);
    lens[i] = static_cast<std::uint32_t>(n);
    full_slots.try_enqueue(i);  // never full: there are only kSlots indices
    return true;
  }
  template <class F>
  bool try_recv(F f) noexcept {
    std::uint32_t i = 0;
    if (!full_slots.try_dequeue(i)) return false;
    f(slots[i].data(), lens[i]);
    free_slots.try_enqueue(i);
    return true;
  }
};

// 8-byte items: the queues of values, ours the typed SpscQueue (the pipeline's queue of REST
// checkpoint batches). OurRing above carries them as frame records, for comparison.
template <class Q>
struct Word {
  Q q{kBatch};
  bool try_send(const std::byte* p, std::size_t) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (requires { q.try_enqueue(v); }) return q.try_enqueue(v);
    else if constexpr (requires { q.try_push(v); }) return q.try_push(v);
    else return q.push(v);
  }
  template <class F>
  bool try_recv(F f) noexcept {
    std::uint64_t v;
    bool ok;
    if constexpr (requires { q.try_dequeue(v); }) ok = q.try_dequeue(v);
    else if constexpr (requires { q.try_pop(v); }) ok = q.try_pop(v);
    else ok = q.pop(v);
    if (ok) f(reinterpret_cast<const std::byte*>(&v), 8);
    return ok;
  }
};
using OurWord = Word<SpscQueue<std::uint64_t>>;
using BoostWord = Word<boost::lockfree::spsc_queue<std::uint64_t>>;
using MoodyWord = Word<moodycamel::ReaderWriterQueue<std::uint64_t>>;

// ---- the benchmarks ----------------------------------------------------------------------

const std::vector<std::uint32_t>& frame_sizes() {
  static const std::vector<std::uint32_t> sizes = [] {
    std::vector<std::uint32_t> v(kBatch);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (auto& s : v) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      s = static_cast<std::uint32_t>(64 + (x >> 33) % (kMaxFrame - 64 + 1));
    }
    return v;
  }();
  return sizes;
}

const std::byte* source_bytes() {
  static const std::array<std::byte, kMaxFrame> src = [] {
    std::array<std::byte, kMaxFrame> a{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::byte>(i * 31 + 7);
    return a;
  }();
  return src.data();
}

// The producer (this thread) sends kBatch items per iteration; the iteration ends when the
// consumer thread has received them all.
template <class Ring>
void transfer(benchmark::State& state, bool frames) {
  auto ring = std::make_unique<Ring>();
  const std::vector<std::uint32_t>& sizes = frame_sizes();
  const std::byte* src = source_bytes();
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    (void)pin_current_thread(cpu_for(1));
    std::uint64_t n = 0, sum = 0;
    auto touch = [&](const std::byte* p, std::size_t len) {
      sum += static_cast<std::uint64_t>(p[0]) + static_cast<std::uint64_t>(p[len - 1]);
    };
    while (!stop.load(std::memory_order_relaxed)) {
      if (ring->try_recv(touch)) {
        received.store(++n, std::memory_order_release);
      } else {
        cpu_relax();
      }
    }
    benchmark::DoNotOptimize(sum);
  });
  const ScopedPin pin(cpu_for(0));
  std::uint64_t sent = 0, bytes = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      const std::size_t n = frames ? sizes[i] : 8;
      while (!ring->try_send(src, n)) cpu_relax();
      bytes += n;
    }
    sent += kBatch;
    while (received.load(std::memory_order_acquire) < sent) cpu_relax();
  }
  stop.store(true);
  consumer.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

template <class Ring>
void BM_Ring8(benchmark::State& state) { transfer<Ring>(state, false); }
template <class Ring>
void BM_RingFrames(benchmark::State& state) { transfer<Ring>(state, true); }

// One 64-byte frame to an echo thread and back, through two rings.
template <class Ring>
void BM_RingRoundTrip(benchmark::State& state) {
  auto there = std::make_unique<Ring>();
  auto back = std::make_unique<Ring>();
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    (void)pin_current_thread(cpu_for(1));
    std::array<std::byte, 64> copy{};
    while (!stop.load(std::memory_order_relaxed)) {
      std::size_t got = 0;
      if (!there->try_recv([&](const std::byte* p, std::size_t n) {
            std::memcpy(copy.data(), p, n);
            got = n;
          })) {
        cpu_relax();
        continue;
      }
      while (!back->try_send(copy.data(), got)) cpu_relax();
    }
  });
  const ScopedPin pin(cpu_for(0));
  const std::byte* src = source_bytes();
  for (auto _ : state) {
    while (!there->try_send(src, 64)) cpu_relax();
    while (!back->try_recv([](const std::byte*, std::size_t) {})) cpu_relax();
  }
  stop.store(true);
  echo.join();
}

BENCHMARK_TEMPLATE(BM_Ring8, OurWord)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Ring8, OurRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Ring8, BoostWord)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Ring8, MoodyWord)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RingFrames, OurRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RingFrames, BoostRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RingFrames, MoodyRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RingRoundTrip, OurRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RingRoundTrip, BoostRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_RingRoundTrip, MoodyRing)->UseRealTime();

}  // namespace
}  // namespace booktape::bench
