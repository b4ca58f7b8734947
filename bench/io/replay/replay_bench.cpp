// Replay throughput from a realistic gzip archive (the writer's defaults, compact envelope).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "bench/bench_frames.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "io/archive/writer.hpp"
#include "io/replay/export_dataset.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape::bench {
namespace {

constexpr UnixNanos kT0 = 1'763'703'252'123'456'789;
constexpr std::size_t kFrames = 200'000;

void write_archive(ArchiveWriter& w, const std::vector<std::string>& frames) {
  polymarket::Classifier c;
  SessionInfo s;
  s.session_id = w.run_id() + "-c1";
  s.run_id = w.run_id();
  s.connection_sequence = 1;
  w.open_session(s, kT0);
  std::uint64_t seq = 0;
  for (const auto& f : frames) {
    ++seq;
    FrameMeta m;
    m.received_ns = kT0 + static_cast<UnixNanos>(seq) * 10'000;  // 100 k frames/s
    m.monotonic_ns = static_cast<MonoNanos>(seq) * 10'000;
    m.session_id = s.session_id;
    m.connection_sequence = 1;
    m.message_sequence = seq;
    m.global_sequence = seq;
    w.append(m, f, c.classify(f));
  }
}

const std::filesystem::path& archive_dir() {
  static testing::TempDir dir;
  static const bool written = [] {
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.fsync = FsyncPolicy::kNone;
    ArchiveWriter w(o);
    write_archive(w, realistic_stream(kFrames));
    w.close();
    return true;
  }();
  (void)written;
  return dir.path();
}

// Arg 1: every closed file checked against its manifest entry (sha256 of the file, rows,
// members), as `booktape replay` does; arg 0: not checked (the cost of that check, same run).
void BM_ReplayArchive(benchmark::State& state) {
  const auto& dir = archive_dir();
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  ReplayOptions opt;
  opt.check_manifest = state.range(0) != 0;
  for (auto _ : state) {
    Replayer r(opt);
    const ReplaySummary& s = r.run({dir});
    frames += s.frames;
    bytes = 0;
    for (const auto& f : s.files) bytes += f.bytes;
    if (r.books().totals().divergences != 0) state.SkipWithError("divergences in replay");
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.counters["archive_bytes_per_frame"] =
      static_cast<double>(bytes) / static_cast<double>(kFrames);
}
BENCHMARK(BM_ReplayArchive)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// `booktape export` of the same archive, all four datasets (books sampled every second), into a
// folder on the same file system as the temp dirs: frames/s against BM_ReplayArchive's.
void BM_ExportArchive(benchmark::State& state) {
  const auto& dir = archive_dir();
  testing::TempDir out;
  std::uint64_t frames = 0, rows = 0, csv_bytes = 0, bytes = 0;
  for (auto _ : state) {
    ExportOptions o;
    o.inputs = {dir};
    o.out = out.path();
    const ExportResult r = run_export(o);
    frames += r.frames;
    rows = csv_bytes = bytes = 0;
    for (const ExportedFile& f : r.files) {
      rows += f.rows;
      csv_bytes += f.csv_bytes;
      bytes += f.bytes;
    }
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.counters["rows_per_frame"] = static_cast<double>(rows) / static_cast<double>(kFrames);
  state.counters["csv_to_gzip"] = static_cast<double>(csv_bytes) / static_cast<double>(bytes);
}
BENCHMARK(BM_ExportArchive)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace booktape::bench
