// The archive stage: envelope encoding, sha256, and gzip block compression with libdeflate
// against zlib at the same levels on the same envelope data (MB/s of raw envelope JSON and
// output size: the `ratio` counter is compressed/raw).
#include <benchmark/benchmark.h>
#include <zlib.h>

#include "bench/bench_frames.hpp"
#include "codecs/envelope.hpp"
#include "codecs/gzip_member.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"

namespace booktape::bench {
namespace {

constexpr UnixNanos kT0 = 1'763'703'252'123'456'789;

// 256 KiB of compact envelope lines (the writer's default block) from the realistic stream.
const std::string& envelope_block() {
  static const std::string block = [] {
    const auto frames = realistic_stream(4'000);
    polymarket::Classifier c;
    EnvelopeEncoder enc;
    ByteBuffer out;
    std::uint64_t seq = 0;
    for (const auto& f : frames) {
      if (out.size() >= (256u << 10)) break;
      FrameMeta m;
      m.received_ns = kT0 + static_cast<UnixNanos>(++seq) * 1'000;
      m.monotonic_ns = static_cast<MonoNanos>(seq);
      m.session_id = "20261121T053412Z-1a2b3c4d-c1";
      m.connection_sequence = 1;
      m.message_sequence = seq;
      m.global_sequence = seq;
      enc.encode_frame(m, f, c.classify(f), nullptr, out);
    }
    return std::string(out.view());
  }();
  return block;
}

void BM_EnvelopeEncode(benchmark::State& state) {
  const std::string frame = price_change_2_entries();
  polymarket::Classifier c;
  const auto cls = c.classify(frame);
  EnvelopeEncoder enc;
  ByteBuffer out(1 << 20);
  std::uint64_t seq = 0;
  for (auto _ : state) {
    if (out.size() > (1u << 19)) out.clear();
    FrameMeta m;
    m.received_ns = kT0 + static_cast<UnixNanos>(++seq);
    m.session_id = "20261121T053412Z-1a2b3c4d-c1";
    m.message_sequence = m.global_sequence = seq;
    enc.encode_frame(m, frame, cls, nullptr, out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}
BENCHMARK(BM_EnvelopeEncode);

void BM_Sha256(benchmark::State& state) {
  const std::string frame = price_change_2_entries();
  Sha256 h;
  char hex[kSha256HexChars];
  for (auto _ : state) {
    h.hex_digest(frame, hex);
    benchmark::DoNotOptimize(hex);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}
BENCHMARK(BM_Sha256);

void BM_GzipBlockLibdeflate(benchmark::State& state) {
  const std::string& raw = envelope_block();
  GzipMemberWriter gz(static_cast<int>(state.range(0)));
  ByteBuffer out(gz.bound(raw.size()));
  for (auto _ : state) {
    out.clear();
    gz.compress(raw, 1, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(raw.size()));
  state.counters["ratio"] = static_cast<double>(out.size()) / static_cast<double>(raw.size());
}
BENCHMARK(BM_GzipBlockLibdeflate)->DenseRange(1, 9)->Arg(12);

void BM_GzipBlockZlib(benchmark::State& state) {
  const std::string& raw = envelope_block();
  std::string out(compressBound(static_cast<uLong>(raw.size())) + 64, '\0');
  std::size_t produced = 0;
  for (auto _ : state) {
    z_stream zs{};
    deflateInit2(&zs, static_cast<int>(state.range(0)), Z_DEFLATED, 16 + MAX_WBITS, 8,
                 Z_DEFAULT_STRATEGY);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    produced = zs.total_out;
    deflateEnd(&zs);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(raw.size()));
  state.counters["ratio"] = static_cast<double>(produced) / static_cast<double>(raw.size());
}
BENCHMARK(BM_GzipBlockZlib)->Arg(1)->Arg(3)->Arg(6)->Arg(9);

}  // namespace
}  // namespace booktape::bench
