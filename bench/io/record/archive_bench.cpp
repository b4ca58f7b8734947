// The archive stage: envelope encoding, sha256, and gzip block compression with libdeflate
// against zlib at the same levels on the same envelope data (MB/s of raw envelope JSON and
// output size: the `ratio` counter is compressed/raw), and the whole stage per frame.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <algorithm>

#include "bench/bench_frames.hpp"
#include "codecs/envelope.hpp"
#include "codecs/gzip_member.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"
#include "io/record/archive_stage.hpp"
#include "io/record/pipeline.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape::bench {
namespace {

constexpr UnixNanos kT0 = 1'763'703'252'123'456'789;

// A connection of 4 tokens (two up/down markets), as `booktape record` carries by default.
SessionInfo sample_session() {
  SessionInfo session;
  session.session_id = "20261121T053412Z-1a2b3c4d-c1";
  session.connection_sequence = 1;
  session.url = "wss://ws-subscriptions-clob.polymarket.com/ws/market";
  for (int i = 0; i < 4; ++i) {
    TokenInfo t;
    t.token_id = std::string(77, static_cast<char>('1' + i));
    t.market_slug = i < 2 ? "btc-updown-5m-1773307200" : "btc-updown-15m-1773306900";
    t.condition_id = "0x" + std::string(64, i < 2 ? 'a' : 'b');
    t.outcome = i % 2 ? "Down" : "Up";
    t.end_time_utc = "2026-03-12T09:25:00.000000000Z";
    session.assets_ids.push_back(t.token_id);
    session.tokens.push_back(t);
  }
  return session;
}

// 256 KiB of envelope lines (the writer's default block) from the realistic stream: compact,
// or full (every line repeats its session's websocket, subscription and tokens_tracked).
std::string make_envelope_block(bool full) {
  const auto frames = realistic_stream(4'000);
  const SessionInfo session = sample_session();
  const std::string fragment = render_full_fragment(session);
  polymarket::Classifier c;
  EnvelopeEncoder enc;
  ByteBuffer out;
  std::uint64_t seq = 0;
  for (const auto& f : frames) {
    if (out.size() >= (256u << 10)) break;
    FrameMeta m;
    m.received_ns = kT0 + static_cast<UnixNanos>(++seq) * 1'000;
    m.monotonic_ns = static_cast<MonoNanos>(seq);
    m.session_id = session.session_id;
    m.connection_sequence = 1;
    m.message_sequence = seq;
    m.global_sequence = seq;
    enc.encode_frame(m, f, c.classify(f), full ? &fragment : nullptr, out);
  }
  return std::string(out.view());
}
const std::string& envelope_block() {
  static const std::string block = make_envelope_block(false);
  return block;
}
const std::string& full_envelope_block() {
  static const std::string block = make_envelope_block(true);
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

// One gzip member of `raw` per iteration at level state.range(0): bytes/s and the size ratio.
void compress_block(benchmark::State& state, const std::string& raw) {
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

void BM_GzipBlockLibdeflate(benchmark::State& state) { compress_block(state, envelope_block()); }
BENCHMARK(BM_GzipBlockLibdeflate)->DenseRange(1, 9)->Arg(12);

// The same on full-envelope lines, per frame: what the archive stage pays to compress one.
void BM_GzipBlockLibdeflateFull(benchmark::State& state) {
  const std::string& raw = full_envelope_block();
  const auto lines = static_cast<double>(std::count(raw.begin(), raw.end(), '\n'));
  compress_block(state, raw);
  state.counters["bytes_per_line"] = static_cast<double>(raw.size()) / lines;
  state.counters["frames"] = benchmark::Counter(static_cast<double>(state.iterations()) * lines,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GzipBlockLibdeflateFull)->DenseRange(1, 6);

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

// The whole archive stage per frame: the recorder's real ArchiveStage loop over a ring holding
// 20,000 frames of the realistic stream (classify, envelope, 256 KiB blocks, libdeflate L3,
// write to a tmpfs-or-/tmp file, seal with its manifest entry at the end; fsync off), with the
// compact envelope (range 0) or the full one (range 1).
void BM_ArchiveStagePerFrame(benchmark::State& state) {
  constexpr int kFrames = 20'000;
  const auto frames = realistic_stream(kFrames);
  const bool full = state.range(0) == 1;
  const SessionInfo session = sample_session();
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    testing::TempDir dir;
    PipelineRing ring(std::size_t{32} << 20);
    PipelineBells bells;
    auto* open = new PipelineEvent;
    open->session = session;
    open->at = kT0;
    open->readers.store(1);  // only the archive stage reads this ring
    RecordHeader* c = ring.try_claim(0);
    c->type = RecordType::kControl;
    c->aux = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(open));
    ring.commit(c);
    for (int i = 0; i < kFrames; ++i) {
      const std::string& f = frames[static_cast<std::size_t>(i)];
      RecordHeader* h = ring.try_claim(f.size());
      h->type = RecordType::kFrame;
      h->opcode = 1;
      h->received_ns = kT0 + static_cast<std::int64_t>(i) * 5'000;
      h->monotonic_ns = static_cast<std::int64_t>(i) * 5'000;
      h->connection_sequence = 1;
      h->message_sequence = h->global_sequence = static_cast<std::uint64_t>(i) + 1;
      std::memcpy(PipelineRing::payload_of(h), f.data(), f.size());
      ring.commit(h);
    }
    ArchiveStageOptions options;
    options.writer.root = dir.path();
    options.writer.run_id = "20261121T053412Z-1a2b3c4d";
    options.writer.fsync = FsyncPolicy::kNone;
    options.writer.envelope = full ? EnvelopeMode::kFull : EnvelopeMode::kCompact;
    ArchiveStage stage(std::move(options), ring, bells);
    const std::atomic<bool> done{true};
    state.ResumeTiming();
    stage.run(done);
    state.PauseTiming();
    bytes += stage.writer().stats().raw_bytes;
    state.ResumeTiming();
  }
  const auto n = static_cast<double>(state.iterations()) * kFrames;
  state.counters["frames/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["ns/frame"] =
      benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["raw_bytes/frame"] = static_cast<double>(bytes) / n;
}
BENCHMARK(BM_ArchiveStagePerFrame)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace booktape::bench
