// The hour boundary and the wall clock: files rotate on the UTC hour of each frame's receive time
// (CLOCK_REALTIME), which an NTP step can move backwards; the order of frames is their sequence
// numbers. Under load (the real archive stage draining a full ring across the hour) and through
// clock steps back and forth, every frame is archived exactly once, no file is overwritten, and
// every sealed file verifies against its manifest entry.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>

#include "codecs/sha256.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/record/archive_stage.hpp"
#include "io/record/pipeline.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using testing::Collector;
using testing::ReadFrame;
using testing::TempDir;

const UnixNanos kHour6 = *parse_utc("2025-11-21T06:00:00Z");
constexpr const char* kRunId = "20251121T055900Z-0000abcd";

struct Sent {
  std::string payload;
  UnixNanos received_ns;
};

// Every frame of every sealed ws_raw file under `root`, by global sequence; fails the test on a
// duplicate sequence, an .open file left behind, or a file whose manifest entry disagrees.
std::map<std::uint64_t, ReadFrame> read_all(const std::filesystem::path& root) {
  EXPECT_TRUE(testing::files_under(root, ".open").empty());
  std::map<std::uint64_t, ReadFrame> out;
  ArchiveReader reader;
  for (const auto& file : testing::files_under(root, ".jsonl.gz")) {
    Collector c;
    FileReport r;
    reader.read_file(file, c, r);
    EXPECT_FALSE(r.corrupt) << file << ": " << r.error;
    for (auto& f : c.frames) {
      const std::uint64_t seq = f.global_sequence;
      EXPECT_TRUE(out.emplace(seq, std::move(f)).second) << "sequence " << seq << " twice";
    }
  }
  // Each sealed file's sha256 and size are the ones its manifest entry states.
  std::size_t entries = 0;
  testing::ManifestLines lines(manifest_path(root / "manifests", "polymarket", "ws_raw"));
  simdjson::dom::parser p;
  for (const std::string& l : lines.lines) {
    simdjson::dom::element e;
    if (p.parse(l).get(e) != simdjson::SUCCESS) {
      ADD_FAILURE() << "unreadable manifest line " << l;
      continue;
    }
    const std::filesystem::path file = root / std::string(std::string_view(e["path"]));
    ++entries;
    const std::string bytes = testing::read_file(file.string());
    EXPECT_EQ(sha256_hex(bytes), std::string_view(e["sha256"])) << file;
    EXPECT_EQ(bytes.size(), std::uint64_t(e["bytes"])) << file;
  }
  EXPECT_EQ(entries, testing::files_under(root, ".jsonl.gz").size());
  return out;
}

void expect_exactly(const std::vector<Sent>& sent, const std::map<std::uint64_t, ReadFrame>& got) {
  ASSERT_EQ(got.size(), sent.size());
  std::uint64_t seq = 1;
  for (const auto& [s, f] : got) {
    ASSERT_EQ(s, seq) << "a gap or a reorder in the global sequence";
    EXPECT_EQ(f.payload, sent[seq - 1].payload) << "sequence " << seq;
    EXPECT_EQ(f.received_ns, sent[seq - 1].received_ns) << "sequence " << seq;
    ++seq;
  }
}

TEST(HourRollover, UnderLoadTheArchiveStageSplitsAtTheHourAndKeepsEveryFrame) {
  // 60,000 frames of a realistic stream, 10 us apart, the hour in the middle, all waiting in
  // the ring at once: the stage drains it as fast as it can across the boundary. The boundary
  // is the next real one: the stage also seals a file once the wall clock has left its hour,
  // so frames stamped in a long-gone hour would each get a file of their own.
  const UnixNanos hour = (realtime_now() / kNanosPerHour + 1) * kNanosPerHour;
  TempDir dir;
  testing::StreamGen gen(11, 8);
  constexpr int kFrames = 60'000;
  std::vector<Sent> sent;
  PipelineRing ring(std::size_t{64} << 20);
  PipelineBells bells;
  for (int i = 0; i < kFrames; ++i) {
    std::string f = i % 500 == 0 ? gen.snapshot(static_cast<std::size_t>(i / 500) % 8)
                                 : gen.price_change();
    const UnixNanos at = hour - 300'000'000 + static_cast<UnixNanos>(i) * 10'000;
    RecordHeader* h = ring.try_claim(f.size());
    ASSERT_NE(h, nullptr);
    h->type = RecordType::kFrame;
    h->opcode = 1;
    h->received_ns = at;
    h->monotonic_ns = static_cast<std::int64_t>(i) * 10'000;
    h->connection_sequence = 1;
    h->message_sequence = h->global_sequence = static_cast<std::uint64_t>(i) + 1;
    std::memcpy(PipelineRing::payload_of(h), f.data(), f.size());
    ring.commit(h);
    // The book consumer is not running here: release its view so the ring's room is the
    // archive stage's alone.
    const RecordHeader* b = ring.peek(kBookConsumer);
    ring.release(kBookConsumer, b);
    sent.push_back({std::move(f), at});
  }
  ArchiveStageOptions o;
  o.writer.root = dir.path();
  o.writer.run_id = kRunId;
  o.writer.fsync = FsyncPolicy::kNone;
  ArchiveStage stage(std::move(o), ring, bells);
  const std::atomic<bool> done{true};
  stage.run(done);
  EXPECT_EQ(stage.stats().frames.load(), static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(stage.stats().frames_dropped.load(), 0u);

  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  ASSERT_EQ(files.size(), 2u);
  expect_exactly(sent, read_all(dir.path()));
  // Each frame is in the file of its own receive hour: the first file before the boundary.
  for (std::size_t i = 0; i < files.size(); ++i) {
    Collector c;
    FileReport r;
    ArchiveReader().read_file(files[i], c, r);
    EXPECT_EQ(c.frames.size(), static_cast<std::size_t>(kFrames / 2)) << files[i];
    for (const auto& f : c.frames) EXPECT_EQ(f.received_ns >= hour, i == 1) << files[i];
  }
}

TEST(HourRollover, ClockStepsBackAndForthAcrossTheHourLoseNothingAndOverwriteNothing) {
  // The wall clock crosses 06:00, an NTP step takes it back to 05:59:58, it crosses again,
  // then jumps a whole hour ahead and back: files flip between hours, sequences stay in order.
  TempDir dir;
  std::vector<Sent> sent;
  const UnixNanos steps[] = {kHour6 - 2'000'000'000, kHour6 - 1, kHour6, kHour6 + 500'000'000,
                             kHour6 - 2'000'000'000, kHour6 - 1'000'000'000, kHour6 + 1,
                             kHour6 + 3'600'000'000'000, kHour6 + 2, kHour6 - 3};
  {
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.run_id = kRunId;
    o.block_bytes = 1024;  // several members per file
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, "s-1", 1);
    fw.open(steps[0]);
    testing::StreamGen gen(5, 2);
    for (const UnixNanos t : steps) {
      for (int i = 0; i < 20; ++i) {
        const UnixNanos at = t + i;
        sent.push_back({gen.price_change(), at});
        fw.write(sent.back().payload, at);
      }
    }
    w.close();
    EXPECT_EQ(w.stats().frames_dropped, 0u);
    EXPECT_EQ(w.stats().write_errors, 0u);
  }
  expect_exactly(sent, read_all(dir.path()));
  // Files of hours 05, 06 and 07, several per hour (one per visit), none overwritten: the
  // frames counted above came from all of them.
  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  std::size_t h5 = 0, h6 = 0, h7 = 0;
  for (const auto& f : files) {
    h5 += f.string().find("hour=05/") != std::string::npos;
    h6 += f.string().find("hour=06/") != std::string::npos;
    h7 += f.string().find("hour=07/") != std::string::npos;
  }
  EXPECT_GE(h5, 2u);
  EXPECT_GE(h6, 2u);
  EXPECT_EQ(h7, 1u);
}

}  // namespace
}  // namespace booktape
