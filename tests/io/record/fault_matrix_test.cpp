// The fault matrix, disk full: a real ENOSPC from a small tmpfs that the test mounts (root with
// CAP_SYS_ADMIN; otherwise the tests skip saying why; the RLIMIT_FSIZE variant in
// tests/apps/fault_matrix_test.cpp runs everywhere).
// - The recorder against the simulator while its archive's filesystem fills up: it alarms
//   (write_errors, write_failing), its books keep running, nothing is dropped within the memory
//   bound, writing resumes when space returns, and the archive equals the simulator's truth.
// - The archive writer past its memory bound: every frame it cannot keep is counted as dropped
//   and named in a loss record; the rest is archived once space returns. Nothing disappears
//   uncounted. The same for a disk full for the rest of the run, and at the stop (the reserve).
// - The free-space watermark: alarmed once as the disk goes under it, and when it has room again.
// - Files deleted or moved while written (FaultMatrixFiles, no tmpfs needed): a loss record
//   names what they held, a new file takes over, the manifest lists only files that are there.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "codecs/sha256.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/space_reserve.hpp"
#include "io/archive/writer.hpp"
#include "io/record/archive_alarms.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/archive_truth.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/sim_server.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::ArchivedStream;
using testing::eventually;
using testing::RecorderRun;
using testing::Sim;
namespace fs = std::filesystem;

// A tmpfs of `bytes` mounted on `dir` for the life of the object (lazily unmounted even when the
// test fails, so the temporary directory can go).
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& dir, std::size_t bytes) : dir_(dir) {
    fs::create_directories(dir_);
    const std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::string("mount -t tmpfs failed: ") + std::strerror(errno) +
               " (needs root with CAP_SYS_ADMIN)";
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// A file that takes every free byte of its filesystem: fill() writes until ENOSPC (call it again
// to take space freed meanwhile), release() deletes it.
class Filler {
 public:
  explicit Filler(fs::path file) : file_(std::move(file)) {
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  }
  ~Filler() { release(); }
  Filler(const Filler&) = delete;
  Filler& operator=(const Filler&) = delete;
  // Returns the errno that ended the filling (ENOSPC expected).
  int fill() {
    static const std::string kChunk(4096, 'f');
    for (;;) {
      if (::write(fd_, kChunk.data(), kChunk.size()) < 0) return errno;
    }
  }
  void release() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    ::unlink(file_.c_str());
  }

 private:
  fs::path file_;
  int fd_ = -1;
};

fs::path ws_dir(const fs::path& out) {
  return archive_stream_dir(out, "polymarket", "ws_raw");
}

// The simulator of these tests: two lanes (BTC 5m and 15m, four markets) at `rate` frames/s.
SimServerOptions two_lanes(std::uint64_t seed, double rate) {
  SimServerOptions so;
  so.market.seed = seed;
  so.market.lanes = 2;
  so.rate = rate;
  return so;
}

// The settings of the recorder tests on a small tmpfs: small blocks, a small memory bound so a
// full disk reaches it within seconds, a reserve the tmpfs can hold.
RecorderConfig small_disk_config(SimServer& sim, const fs::path& out) {
  RecorderConfig c;
  c.ws_url = sim.ws_url();
  c.rest_url = c.gamma_url = sim.http_url();
  c.out = out;
  c.status = "off";
  c.rest_checkpoint_interval_seconds = 0;
  c.ring_bytes = std::size_t{8} << 20;
  c.max_frame_bytes = std::size_t{1} << 20;
  c.block_bytes = 16 << 10;
  c.block_max_age_seconds = 0.05;
  c.max_pending_bytes = 512 << 10;
  c.reserve_bytes = 2 << 20;
  return c;
}

TEST(FaultMatrixDiskFull, ARecorderWhoseDiskFillsUpAlarmsKeepsItsBooksAndLosesNothing) {
  testing::TempDir dir;
  TmpfsMount mnt(dir.path() / "mnt", std::size_t{16} << 20);
  if (!mnt.mounted()) GTEST_SKIP() << mnt.error();

  Sim sim(two_lanes(31, 2'000));
  RecorderConfig c = small_disk_config(sim.get(), dir.path() / "mnt" / "data");
  c.max_pending_bytes = 64 << 20;  // the outage fits in memory: nothing is dropped
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "blocks") >= 5; }, 20s))
      << run.get().status_json();

  // The disk fills up.
  Filler filler(dir.path() / "mnt" / "filler");
  ASSERT_EQ(filler.fill(), ENOSPC);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "write_errors") >= 1; }, 10s))
      << run.get().status_json();
  EXPECT_TRUE(run.flag("archive", "write_failing"));
  const std::uint64_t blocks_at_failure = run.counter("archive", "blocks");
  const std::uint64_t book_frames = run.counter("books", "frames");
  const std::uint64_t net_frames = run.counter("network", "frames");
  for (int i = 0; i < 5; ++i) {  // 2.5 s of outage, taking back any space the writer freed
    std::this_thread::sleep_for(500ms);
    filler.fill();
  }
  // Alarmed and still failing, retried, books running, nothing dropped (far below 512 MiB).
  EXPECT_TRUE(run.flag("archive", "write_failing")) << run.get().status_json();
  EXPECT_GE(run.counter("archive", "write_errors"), 2u) << "retried about once a second";
  EXPECT_EQ(run.counter("archive", "blocks"), blocks_at_failure);
  EXPECT_GT(run.counter("books", "frames"), book_frames + 1'000);
  EXPECT_GT(run.counter("network", "frames"), net_frames + 1'000);
  const std::uint64_t tokens = run.counter("books", "tokens");
  EXPECT_GT(tokens, 0u);
  EXPECT_EQ(run.counter("books", "live"), tokens);
  EXPECT_EQ(run.counter("archive", "frames_dropped"), 0u);
  // The alarm's facts: the errno, and what waits in memory.
  EXPECT_EQ(run.counter("archive", "last_errno"), static_cast<std::uint64_t>(ENOSPC));
  EXPECT_GT(run.counter("archive", "pending_frames"), 1'000u);
  EXPECT_TRUE(run.flag("disk", "low")) << run.get().status_json();

  // Space returns: the kept data is written and writing goes on.
  filler.release();
  ASSERT_TRUE(eventually(
      [&] {
        return !run.flag("archive", "write_failing") &&
               run.counter("archive", "blocks") > blocks_at_failure + 2;
      },
      10s))
      << run.get().status_json();
  EXPECT_EQ(run.stop(), 0);  // 3 would mean an unclean archive: frames lost or files open

  ArchivedStream a(ws_dir(c.out));
  const testing::TruthComparison cmp = testing::compare_with_truth(sim->truth_json(), a);
  EXPECT_TRUE(cmp.exact()) << "sent " << cmp.frames_sent << " archived " << cmp.frames_archived;
  EXPECT_GT(cmp.frames_sent, 3'000u);  // most of them sent while the disk was full
  EXPECT_TRUE(a.global_contiguous);
  EXPECT_TRUE(a.clean());  // the failed writes left no partial member behind
  EXPECT_TRUE(a.losses.empty());  // full, then freed: nothing lost
}

// Full for the rest of the run: past the memory bound frames are dropped, said at once and
// named in a loss record; at the stop the reserve gives the last blocks, the records and the
// manifests room. Every frame the simulator wrote is archived or named: archived + lost = sent.
TEST(FaultMatrixDiskFull, ADiskFullForTheRestOfTheRunNamesEveryFrameItCouldNotKeep) {
  testing::TempDir dir;
  TmpfsMount mnt(dir.path() / "mnt", std::size_t{16} << 20);
  if (!mnt.mounted()) GTEST_SKIP() << mnt.error();
  Sim sim(two_lanes(32, 2'000));
  const RecorderConfig c = small_disk_config(sim.get(), dir.path() / "mnt" / "data");
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "blocks") >= 5; }, 20s));
  Filler filler(dir.path() / "mnt" / "filler");
  ASSERT_EQ(filler.fill(), ENOSPC);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "dropping_frames") > 1'000; }, 20s))
      << run.get().status_json();
  EXPECT_EQ(run.counter("archive", "drop_runs"), 1u);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(run.stop(), 3);  // an unclean archive: frames were lost
  EXPECT_GT(run.counter("archive", "reserve_released_bytes"), 0u);
  EXPECT_EQ(run.counter("archive", "unwritten_losses"), 0u);

  ArchivedStream a(ws_dir(c.out));
  const testing::LossAccounting acc = testing::account_against_truth(sim->truth_json(), a);
  EXPECT_TRUE(acc.exact()) << acc.problems << "sent " << acc.sent << ", archived " << acc.archived
                           << ", named lost " << acc.named_lost;
  EXPECT_GT(acc.named_lost, 1'000u);
  ASSERT_FALSE(a.losses.empty());
  EXPECT_EQ(a.losses.front().reason, LossReason::kMemoryBound);
  EXPECT_NE(a.losses.front().detail.find("No space left on device"), std::string::npos)
      << a.losses.front().detail;
  EXPECT_TRUE(a.clean());  // every file sealed, with the reserve's room
  // Replay calls them lost, not gaps (was: "sequence_gaps: 0" and nothing else).
  Replayer replay;
  const ReplaySummary& rs = replay.run({ws_dir(c.out)});
  EXPECT_EQ(rs.global.gaps + rs.per_session.gaps, 0u);
  EXPECT_EQ(rs.losses.frames_lost, acc.named_lost);
}

// Full at the stop, with what waits in memory within the bound: the reserve takes the last
// blocks, so nothing is lost.
TEST(FaultMatrixDiskFull, ADiskFullAtTheStopWritesItsLastBlocksIntoTheReserve) {
  testing::TempDir dir;
  TmpfsMount mnt(dir.path() / "mnt", std::size_t{16} << 20);
  if (!mnt.mounted()) GTEST_SKIP() << mnt.error();
  Sim sim(two_lanes(33, 1'000));
  RecorderConfig c = small_disk_config(sim.get(), dir.path() / "mnt" / "data");
  c.max_pending_bytes = 64 << 20;  // never reached here
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "blocks") >= 5; }, 20s));
  Filler filler(dir.path() / "mnt" / "filler");
  ASSERT_EQ(filler.fill(), ENOSPC);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "pending_frames") > 500; }, 20s))
      << run.get().status_json();
  EXPECT_EQ(run.stop(), 0);  // clean: the reserve held the rest
  EXPECT_GT(run.counter("archive", "reserve_released_bytes"), 0u);

  ArchivedStream a(ws_dir(c.out));
  const testing::TruthComparison cmp = testing::compare_with_truth(sim->truth_json(), a);
  EXPECT_TRUE(cmp.exact()) << "sent " << cmp.frames_sent << " archived " << cmp.frames_archived;
  EXPECT_TRUE(a.losses.empty());
  EXPECT_TRUE(a.clean());
}

// Puts a plain file where the hour's folder must go (what a full inode table, a permission
// change or a stray file does to the rollover): creating that hour's archive file fails until
// the returned path is removed.
fs::path block_hour_folder(const ArchiveWriterOptions& o, UnixNanos hour) {
  const fs::path hour_dir = archive_hour_dir(o.root, o.venue, o.stream, hour);
  fs::create_directories(hour_dir.parent_path());
  std::ofstream(hour_dir) << "in the way";
  return hour_dir;
}

TEST(FaultMatrixDiskFull, AnHourFolderThatCannotBeCreatedIsARefusedWriteNotACrash) {
  testing::TempDir dir;
  ArchiveWriterOptions o;
  o.root = dir.path() / "data";
  o.block_bytes = 16 << 10;
  o.fsync = FsyncPolicy::kNone;
  UnixNanos t = 1'773'307'200'000'000'000;  // fixed time: no hour rotation mid-test
  const fs::path hour_dir = block_hour_folder(o, utc_hour_start(t));

  ArchiveWriter w(o);
  testing::FrameWriter fw(w, "s1", 1);
  testing::StreamGen gen(43);
  fw.open(t, gen.ids());
  for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), ++t);
  for (int i = 0; i < 500; ++i) fw.write(gen.price_change(), ++t);
  w.flush();
  EXPECT_TRUE(w.stats().write_failing);
  EXPECT_GE(w.stats().write_errors, 1u);
  EXPECT_NE(w.stats().last_error.find("hour="), std::string::npos) << w.stats().last_error;
  EXPECT_EQ(w.stats().frames_dropped, 0u);  // kept in memory, within max_pending_bytes

  fs::remove(hour_dir);
  const MonoNanos mono = t - 1'700'000'000'000'000'000;  // FrameWriter's monotonic clock
  w.poll(mono + 2'000'000'000, t);
  for (int i = 0; i < 100; ++i) fw.write(gen.price_change(), ++t);
  w.close();
  EXPECT_FALSE(w.stats().write_failing) << w.stats().last_error;
  EXPECT_TRUE(w.closed());

  ArchivedStream a(ws_dir(o.root));
  EXPECT_EQ(a.frames, fw.sent().size());
  EXPECT_EQ(a.global_gaps, 0u);
  EXPECT_TRUE(a.clean());
}

TEST(FaultMatrixDiskFull, ARefusedWriteIsRetriedOnceASecondNotOnceAFrameAcrossTheHour) {
  testing::TempDir dir;
  ArchiveWriterOptions o;
  o.root = dir.path() / "data";
  o.fsync = FsyncPolicy::kNone;
  const UnixNanos hour = utc_hour_start(1'773'307'200'000'000'000);
  UnixNanos t = hour + 3'599 * kNanosPerSecond;  // the hour's last second
  const fs::path hour_dir = block_hour_folder(o, hour);

  ArchiveWriter w(o);
  testing::FrameWriter fw(w, "s1", 1);
  testing::StreamGen gen(44);
  fw.open(t, gen.ids());
  for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), ++t);
  w.flush();
  ASSERT_TRUE(w.stats().write_failing);
  // A thousand frames of the next hour within a millisecond: each one wants the old file sealed
  // first, which needs the refused block written. One attempt per second, not one per frame.
  t = hour + 3'600 * kNanosPerSecond;
  for (int i = 0; i < 1'000; ++i) fw.write(gen.price_change(), ++t);
  EXPECT_LE(w.stats().write_errors, 3u);

  fs::remove(hour_dir);
  w.poll(t - 1'700'000'000'000'000'000 + 2 * kNanosPerSecond, t);
  w.close();
  EXPECT_TRUE(w.closed()) << w.stats().last_error;
  ArchivedStream a(ws_dir(o.root));
  EXPECT_EQ(a.frames, fw.sent().size());
  EXPECT_TRUE(a.clean());
  // The hours still rotated while the disk refused: the old hour's file holds only the old
  // hour's frames (it waited in memory), the new hour's frames are in the new hour's file.
  ASSERT_EQ(w.closed_files().size(), 2u);
  const ManifestEntry& old_file = w.closed_files()[0];
  const ManifestEntry& new_file = w.closed_files()[1];
  EXPECT_EQ(old_file.frames, gen.ids().size());
  EXPECT_EQ(utc_hour_start(old_file.last_received_ns), hour);
  EXPECT_EQ(new_file.frames, 1'000u);
  EXPECT_EQ(utc_hour_start(new_file.first_received_ns), hour + 3'600 * kNanosPerSecond);
  EXPECT_NE(old_file.path.find(archive_hour_dir(fs::path(), o.venue, o.stream, hour).string()),
            std::string::npos)
      << old_file.path;
  EXPECT_LT(old_file.last_global_sequence, new_file.first_global_sequence);
}

TEST(FaultMatrixDiskFull, PastTheMemoryBoundEveryFrameNotKeptIsCountedAsDropped) {
  testing::TempDir dir;
  TmpfsMount mnt(dir.path() / "mnt", std::size_t{4} << 20);
  if (!mnt.mounted()) GTEST_SKIP() << mnt.error();

  ArchiveWriterOptions o;
  o.root = dir.path() / "mnt" / "data";
  o.block_bytes = 16 << 10;
  o.max_pending_bytes = 256 << 10;  // kept in memory while the disk refuses
  o.fsync = FsyncPolicy::kNone;
  ArchiveWriter w(o);
  testing::FrameWriter fw(w, "s1", 1);
  testing::StreamGen gen(41);
  UnixNanos t = 1'773'307'200'000'000'000;  // fixed time: no hour rotation mid-test
  fw.open(t, gen.ids());
  for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), ++t);
  for (int i = 0; i < 2'000; ++i) fw.write(gen.price_change(), ++t);
  w.flush();
  ASSERT_EQ(w.stats().write_errors, 0u);

  Filler filler(dir.path() / "mnt" / "filler");
  ASSERT_EQ(filler.fill(), ENOSPC);
  std::uint64_t appended_during = 0;
  while (w.stats().frames_dropped < 500 && appended_during < 200'000) {
    fw.write(gen.price_change(), ++t);
    ++appended_during;
    if (appended_during % 1'000 == 0) filler.fill();
  }
  EXPECT_TRUE(w.stats().write_failing);
  EXPECT_GE(w.stats().write_errors, 1u);
  EXPECT_GE(w.stats().frames_dropped, 500u) << "past 256 KiB pending, frames are dropped";

  filler.release();
  // The writer retries a second after a failure, by the frames' monotonic clock (FrameWriter's).
  const MonoNanos mono = t - 1'700'000'000'000'000'000;
  w.poll(mono + 2'000'000'000, t);
  for (int i = 0; i < 1'000; ++i) fw.write(gen.price_change(), ++t);
  w.close();
  EXPECT_FALSE(w.stats().write_failing) << w.stats().last_error;

  // Archived + dropped = appended, each frame once; the archive reads back clean.
  ArchivedStream a(ws_dir(o.root));
  const std::uint64_t appended = fw.sent().size();
  EXPECT_EQ(a.frames + w.stats().frames_dropped, appended);
  // The dropped frames are one run of sequences, exactly as many as counted.
  EXPECT_EQ(a.global_gaps, 1u);
  EXPECT_EQ(a.global_missing, w.stats().frames_dropped);
  EXPECT_TRUE(a.clean());
  // The frames written after space returned are all there (the last 1,000 appended).
  EXPECT_EQ(a.last_global, fw.sent().back().global_sequence);
  // ... and a loss record in the archive names the dropped ones: count, bounds, session.
  ASSERT_EQ(a.losses.size(), 1u);
  const LossRecord& l = a.losses.front();
  EXPECT_EQ(l.reason, LossReason::kMemoryBound);
  EXPECT_EQ(l.frames, w.stats().frames_dropped);
  ASSERT_TRUE(l.first_global_sequence && l.last_global_sequence);
  EXPECT_EQ(*l.last_global_sequence - *l.first_global_sequence + 1, w.stats().frames_dropped);
  ASSERT_EQ(l.sessions.size(), 1u);
  EXPECT_EQ(l.sessions[0].session_id, "s1");
  EXPECT_EQ(l.sessions[0].frames, w.stats().frames_dropped);
  const testing::LossAccounting acc = [&] {
    testing::LossAccounting r;
    for (const auto& [seq, conn] : a.conns) {
      r.archived += conn.frames;
      for (const auto& [from, to] : conn.gaps) r.named_lost += to - from + 1;
    }
    return r;
  }();
  EXPECT_EQ(acc.named_lost, *l.frames);  // the gap is exactly what the record names
}

// A stop while the disk is still full, at the writer: close() cannot seal; the archive stage
// then gives back the space reserved for the end of the run and, when even that cannot take
// the refused block (here ~1 MiB of envelopes against a 64 KiB reserve), abandon()s it: its
// frames are counted as dropped and named in a loss record, which (small) goes into the file in
// a block of its own, and the file is sealed. Archived + named = appended.
TEST(FaultMatrixDiskFull, AStopWhileTheDiskIsStillFullNamesWhatItCouldNotWrite) {
  testing::TempDir dir;
  TmpfsMount mnt(dir.path() / "mnt", std::size_t{4} << 20);
  if (!mnt.mounted()) GTEST_SKIP() << mnt.error();

  ArchiveWriterOptions o;
  o.root = dir.path() / "mnt" / "data";
  o.block_bytes = 4 << 20;  // one big refused block
  o.fsync = FsyncPolicy::kNone;
  fs::create_directories(o.root);
  SpaceReserve reserve(o.root, 64 << 10);
  ASSERT_EQ(reserve.reserved(), 64u << 10);
  Filler filler(dir.path() / "mnt" / "filler");  // outlives the writer: full until its end
  ArchiveWriterStats at_close;
  std::uint64_t appended = 0, abandoned = 0;
  {
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, "s1", 1);
    testing::StreamGen gen(43);
    UnixNanos t = 1'773'307'200'000'000'000;
    fw.open(t, gen.ids());
    for (std::size_t i = 0; i < gen.ids().size(); ++i) fw.write(gen.snapshot(i), ++t);
    for (int i = 0; i < 200; ++i) fw.write(gen.price_change(), ++t);
    w.flush();
    ASSERT_EQ(w.stats().write_errors, 0u);
    ASSERT_EQ(filler.fill(), ENOSPC);
    for (int i = 0; i < 4'000; ++i) fw.write(gen.price_change(), ++t);  // ~1 MiB, random sizes
    w.flush();
    ASSERT_TRUE(w.stats().write_failing);
    w.close();  // the stop, with the disk still full: it cannot seal
    EXPECT_FALSE(w.closed());
    EXPECT_GT(reserve.release(), 0u);  // what the archive stage does next
    w.poll(t - 1'700'000'000'000'000'000 + 2 * kNanosPerSecond, t);  // still too big
    w.close();
    ASSERT_FALSE(w.closed());
    abandoned = w.abandon();  // the last word: named, not lost silently
    EXPECT_GT(abandoned, 3'000u);
    EXPECT_TRUE(w.closed());
    EXPECT_TRUE(w.unwritten_losses().empty()) << "the loss record fits in the reserve's room";
    at_close = w.stats();
    appended = fw.sent().size();
    EXPECT_EQ(w.closed_files().size(), 1u);  // sealed, with the loss record in it
  }
  EXPECT_EQ(at_close.frames_dropped, abandoned);
  ArchivedStream a(ws_dir(o.root));
  EXPECT_TRUE(a.clean()) << "sealed, no .open file left";
  ASSERT_EQ(a.losses.size(), 1u);
  const LossRecord& l = a.losses.front();
  EXPECT_EQ(l.reason, LossReason::kDiskFull);
  EXPECT_EQ(l.frames, abandoned);
  EXPECT_NE(l.detail.find("No space left on device"), std::string::npos) << l.detail;
  EXPECT_EQ(a.frames + *l.frames, appended)
      << a.frames << " archived, " << *l.frames << " named as lost";
  ASSERT_TRUE(l.first_global_sequence && l.last_global_sequence);
  EXPECT_EQ(*l.first_global_sequence, a.last_global + 1);  // the tail, named exactly
  EXPECT_EQ(*l.last_global_sequence, appended);
}

// ------------------------------------------------------------- files that vanish ---------

// Every manifest entry's file is there, with its bytes and sha256; returns how many entries.
std::size_t entries_present(const fs::path& out) {
  std::size_t n = 0;
  simdjson::dom::parser p;
  std::ifstream in(out / "manifests" / "polymarket_ws_raw.manifest.jsonl");
  for (std::string line; std::getline(in, line);) {
    const simdjson::dom::element e = p.parse(line);
    const fs::path file = out / std::string(std::string_view(e["path"]));
    std::ifstream f(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), {});
    EXPECT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(bytes.size(), std::uint64_t(e["bytes"])) << file;
    EXPECT_EQ(sha256_hex(bytes), std::string_view(e["sha256"])) << file;
    ++n;
  }
  return n;
}

// The free-space watermark alarms before the disk refuses anything: once as free space goes
// under the share of the disk or under the byte floor (whichever is configured), with the path
// and the numbers, and says so when there is room again. The numbers stay in DiskStats for the
// status line and status_json.
TEST(FaultMatrixDiskFull, TheFreeSpaceWatermarkAlarmsBeforeTheDiskIsFull) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "mnt";
  TmpfsMount mnt(root, std::size_t{4} << 20);
  if (!mnt.mounted()) GTEST_SKIP() << mnt.error();
  const ArchiveStageStats quiet;  // no write error, no drop: only the disk speaks
  MonoNanos now = 0;
  const auto tick = [&](ArchiveAlarms& al) {
    now += kNanosPerSecond;  // statvfs once a second
    return al.tick(quiet, now);
  };
  const auto take = [&](const char* name, std::size_t bytes) {
    std::ofstream(root / name, std::ios::binary) << std::string(bytes, 'x');
  };
  ArchiveAlarms by_share(root, DiskWatermark{50, 0}, 1 << 20);
  ArchiveAlarms by_bytes(root, DiskWatermark{0, std::uint64_t{3} << 20}, 1 << 20);

  EXPECT_TRUE(tick(by_share).empty());
  EXPECT_TRUE(tick(by_bytes).empty());
  EXPECT_EQ(by_share.disk().total_bytes.load(), std::uint64_t{4} << 20);
  EXPECT_GT(by_share.disk().free_bytes.load(), std::uint64_t{3} << 20);
  EXPECT_FALSE(by_share.disk().low.load());
  EXPECT_EQ(by_share.disk_text().find("LOW"), std::string::npos) << by_share.disk_text();

  // 1.5 MiB taken: 62% free is above the share, 2.5 MiB is under the byte floor.
  take("a", std::size_t{3} << 19);
  EXPECT_TRUE(tick(by_share).empty());
  const std::vector<std::string> low = tick(by_bytes);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].rfind("ALARM: the archive's disk is getting full: ", 0), 0u) << low[0];
  EXPECT_NE(low[0].find(root.string()), std::string::npos) << low[0];
  EXPECT_NE(low[0].find("of 4.0 MiB"), std::string::npos) << low[0];
  EXPECT_NE(low[0].find("warning below 0% or 3.0 MiB"), std::string::npos) << low[0];
  EXPECT_TRUE(by_bytes.disk().low.load());
  EXPECT_EQ(by_bytes.disk().low_alarms.load(), 1u);
  EXPECT_NE(by_bytes.disk_text().find(" LOW"), std::string::npos) << by_bytes.disk_text();
  EXPECT_TRUE(tick(by_bytes).empty()) << "said once as it goes under, not every second";

  // 2.5 MiB taken: 37% free is under the share too.
  take("b", std::size_t{1} << 20);
  const std::vector<std::string> share = tick(by_share);
  ASSERT_EQ(share.size(), 1u);
  EXPECT_NE(share[0].find("warning below 50%"), std::string::npos) << share[0];
  EXPECT_TRUE(by_share.disk().low.load());

  // Room again: said, and no longer low; the count of alarms stays.
  fs::remove(root / "a");
  fs::remove(root / "b");
  for (ArchiveAlarms* al : {&by_share, &by_bytes}) {
    const std::vector<std::string> back = tick(*al);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].rfind("the archive's disk has room again: ", 0), 0u) << back[0];
    EXPECT_FALSE(al->disk().low.load());
    EXPECT_EQ(al->disk().low_alarms.load(), 1u);
  }
}

fs::path the_open_file(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (is_open_name(e.path().filename().string())) return e.path();
  return {};
}

// Deleting the hour folder (or moving the file) while the recorder writes it: found at the next
// block (st_nlink 0, or its path no longer names it), alarmed at once, a new file takes over,
// and a loss record names the frames the lost file held; the manifest lists only files that are
// there. Archived + named = sent. (Was: the writer wrote on into the deleted file, the
// manifest listed a file that did not exist, and the gate passed with 0 frames archived.)
void lose_the_open_file(bool move) {
  testing::TempDir dir;
  Sim sim(two_lanes(34, 2'000));
  RecorderConfig c = small_disk_config(sim.get(), dir.path() / "data");
  c.reserve_bytes = 0;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "blocks") >= 10; }, 20s));
  const fs::path file = the_open_file(ws_dir(c.out));
  ASSERT_FALSE(file.empty());
  if (move) {
    fs::rename(file, dir.path() / "moved-away.jsonl.gz");
  } else {
    fs::remove_all(ws_dir(c.out));  // the whole stream folder, hour folder and all
  }
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "files_vanished") == 1; }, 10s))
      << run.get().status_json();
  const std::uint64_t blocks = run.counter("archive", "blocks");
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "blocks") > blocks + 5; }, 10s));
  EXPECT_EQ(run.stop(), 3);  // frames lost: an unclean archive

  ArchivedStream a(ws_dir(c.out));
  const testing::LossAccounting acc = testing::account_against_truth(sim->truth_json(), a);
  EXPECT_TRUE(acc.exact()) << acc.problems << "sent " << acc.sent << ", archived " << acc.archived
                           << ", named lost " << acc.named_lost;
  ASSERT_EQ(a.losses.size(), 1u);
  const LossRecord& l = a.losses.front();
  EXPECT_EQ(l.reason, LossReason::kFileVanished);
  EXPECT_EQ(l.first_global_sequence, 1u);  // the first file: everything it held
  EXPECT_GT(l.frames.value_or(0), 100u);
  EXPECT_NE(l.detail.find(move ? "no longer at its path" : "deleted"), std::string::npos)
      << l.detail;
  EXPECT_GE(entries_present(c.out), 1u);  // and none for the lost file
  EXPECT_TRUE(a.clean());
}

TEST(FaultMatrixFiles, AStreamFolderDeletedWhileWrittenIsNamedInALossRecord) {
  lose_the_open_file(false);
}

TEST(FaultMatrixFiles, AFileMovedAwayWhileWrittenIsNamedInALossRecord) {
  lose_the_open_file(true);
}

// The case: a bounded run whose hour folder is deleted under it (was: 0 frames archived,
// gate WS_RAW_SAMPLE_PASS, exit 0). Now the gate needs review, the report gives the numbers,
// and the exit code says the archive is not clean.
TEST(FaultMatrixFiles, ABoundedRunWhoseFileVanishedIsNeverAPass) {
  testing::TempDir dir;
  Sim sim(two_lanes(35, 2'000));
  RecorderConfig c = small_disk_config(sim.get(), dir.path() / "data");
  c.reserve_bytes = 0;
  c.rest_checkpoint_interval_seconds = 0.3;
  c.duration_seconds = 3;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "blocks") >= 5; }, 20s));
  fs::remove_all(ws_dir(c.out));
  EXPECT_EQ(run.wait(), 3);
  EXPECT_EQ(run.get().gate(), "WS_RAW_SAMPLE_NEEDS_REVIEW");
  std::ifstream in(run.get().report_path());
  const std::string report((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(report.find("named lost"), std::string::npos) << report;
  EXPECT_NE(report.find("loss record(s): "), std::string::npos) << report;
  EXPECT_NE(report.find("lost (file_vanished)"), std::string::npos) << report;
  EXPECT_NE(report.find("Archive clean (every frame in a sealed file, nothing lost): no"),
            std::string::npos)
      << report;
}

}  // namespace
}  // namespace booktape
