// What the archive says it does not hold, as replay counts it: frames a loss record names are
// lost, not a sequence gap; an oversized frame's stub holds its place; a crash record of an
// earlier run is an unknown tail (docs/REPLAY.md, "losses").
#include <gtest/gtest.h>

#include "codecs/sha256.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/writer.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

TEST(ReplayLosses, FramesALossRecordNamesAreLostNotGapsAndAStubHoldsItsPlace) {
  testing::TempDir dir;
  ArchiveWriterOptions o;
  o.root = dir.path() / "data";
  o.fsync = FsyncPolicy::kNone;
  o.run_id = "20261121T053412Z-1a2b3c4d";
  {
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, o.run_id + "-c1", 1);
    testing::StreamGen gen(7);
    UnixNanos t = 1'773'307'200'000'000'000;
    // An earlier run that crashed: its tail is unknown.
    LossRecord crash;
    crash.run_id = "20261121T040000Z-00000000";
    crash.written_by_run_id = o.run_id;
    crash.reason = LossReason::kCrash;
    crash.at = t;
    crash.first_global_sequence = 1'235;
    w.note_loss(crash);
    fw.open(t, gen.ids());
    for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), ++t);
    for (int i = 0; i < 100; ++i) fw.write(gen.price_change(), ++t);
    // 50 frames dropped, and named where they would have been.
    const std::uint64_t first = fw.sent().back().global_sequence + 1;
    LossSpan span;
    for (std::uint64_t k = 0; k < 50; ++k)
      span.add_frame(t, first + k, 1, first + k, fw.session());
    fw.skip(50);
    w.note_loss(span.to_record(o.run_id, LossReason::kMemoryBound, t, "test"));
    for (int i = 0; i < 100; ++i) fw.write(gen.price_change(), ++t);
    // A frame too large to keep: its stub takes the next place in both sequences.
    const std::uint64_t next = fw.sent().back().global_sequence + 1;
    fw.skip(1);
    FrameMeta m;
    m.received_ns = ++t;
    m.session_id = fw.session();
    m.connection_sequence = 1;
    m.message_sequence = next;
    m.global_sequence = next;
    w.append_oversized(m, render_oversized_frame(m, 20u << 20, Sha256Digest{}, "{\"event", 16u << 20));
    for (int i = 0; i < 100; ++i) fw.write(gen.price_change(), ++t);
    w.close();
    ASSERT_TRUE(w.closed());
  }
  Replayer r;
  const ReplaySummary& s = r.run({dir.path() / "data"});
  EXPECT_EQ(s.global.gaps, 0u);
  EXPECT_EQ(s.per_session.gaps, 0u);
  EXPECT_EQ(s.losses.records, 2u);
  EXPECT_EQ(s.losses.frames_lost, 50u);
  EXPECT_EQ(s.losses.unknown_tails, 1u);
  EXPECT_EQ(s.oversized_frames, 1u);
  const std::string json = r.summary_json();
  EXPECT_NE(json.find("\"sequence_gaps\":0,\"losses\":{\"records\":2,\"frames_lost\":50,"
                      "\"unknown_tails\":1,\"unread_bytes\":0,\"by_reason\":{\"memory_bound\":1,"
                      "\"crash\":1}},\"oversized_frames\":1"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace booktape
