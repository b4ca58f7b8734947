// A crash leaves a ".open" file whose last gzip member may be cut anywhere. The reader must
// recover every complete member, report the torn tail exactly, and never crash.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <limits>

#include "codecs/gzip_member.hpp"
#include "io/archive/paths.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using testing::Collector;
using testing::FrameWriter;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;

struct Member {
  std::size_t offset, bytes, rows, frames_before;  // frames in members before this one
};

// Writes a run with many small blocks, flushing as the archive stage would, in a child process
// that then dies without closing anything (a real crash: no destructors, no seal). Returns the
// bytes of the ".open" file it left behind.
std::string crashed_file_bytes(const TempDir& dir, std::size_t& frames_written) {
  constexpr int kFrames = 200;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.run_id = "20251121T053412Z-0000beef";
    o.block_bytes = 2'048;
    ArchiveWriter w(o);
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    testing::StreamGen gen(11);
    for (int i = 0; i < kFrames; ++i) fw.write(gen.price_change(), kT0 + i);
    w.flush();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  frames_written = kFrames;
  const auto open_files = testing::files_under(dir.path(), ".open");
  EXPECT_EQ(open_files.size(), 1u);
  return open_files.empty() ? std::string() : testing::read_file(open_files[0].string());
}

std::vector<Member> members_of(const std::string& bytes) {
  std::vector<Member> out;
  std::size_t off = 0, frames = 0;
  while (off < bytes.size()) {
    MemberHeader h;
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data()) + off;
    if (parse_member_header(p, bytes.size() - off, h) != MemberStatus::kOk) break;
    out.push_back(Member{off, h.member_bytes, h.rows, frames});
    // The first member holds the file and session records (2 rows) before its frames.
    frames += h.rows - (out.size() == 1 ? 2 : 0);
    off += h.member_bytes;
  }
  EXPECT_EQ(off, bytes.size()) << "a flushed .open file is whole members";
  return out;
}

// Reads `bytes` as the file `name` (in a fresh folder) with the real reader.
FileReport read_bytes(const std::string& bytes, Collector& got,
                      const std::string& name = "damaged.jsonl.gz") {
  TempDir dir;
  const auto path = dir.path() / name;
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  ArchiveReader reader;
  FileReport r;
  reader.read_file(path, got, r);
  return r;
}

TEST(CrashRecovery, RecoversEveryCompleteMemberAndMeasuresTheTornTailAtEveryCut) {
  TempDir dir;
  std::size_t frames_written = 0;
  const std::string bytes = crashed_file_bytes(dir, frames_written);
  const std::vector<Member> members = members_of(bytes);
  ASSERT_GT(members.size(), 5u);

  TempDir cuts;
  const auto path = cuts.path() / open_name("polymarket_ws_raw_20251121T05Z_x_000001.jsonl.gz");
  ArchiveReader reader;
  // Every byte offset inside the last two members, plus the start of each member.
  std::vector<std::size_t> offsets;
  for (std::size_t c = members[members.size() - 2].offset; c <= bytes.size(); ++c)
    offsets.push_back(c);
  for (const Member& m : members) offsets.push_back(m.offset);

  for (std::size_t cut : offsets) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(cut));
    }
    // The member the cut falls in (or the first one after the last whole member).
    std::size_t whole = 0;
    while (whole < members.size() && members[whole].offset + members[whole].bytes <= cut) ++whole;
    const std::size_t boundary = whole == 0 ? 0 : members[whole - 1].offset + members[whole - 1].bytes;
    const std::size_t expected_frames =
        whole == members.size() ? frames_written : members[whole].frames_before;

    Collector got;
    FileReport r;
    ASSERT_TRUE(reader.read_file(path, got, r));
    EXPECT_TRUE(r.open_file);
    EXPECT_FALSE(r.corrupt) << "cut at " << cut;
    EXPECT_EQ(r.members, whole) << "cut at " << cut;
    EXPECT_EQ(got.frames.size(), expected_frames) << "cut at " << cut;
    EXPECT_EQ(r.torn_tail_bytes, cut - boundary) << "cut at " << cut;
    // Once the torn member's 28-byte header survived, its row count is known.
    const bool header_survived = whole < members.size() &&
                                 cut >= members[whole].offset + kGzipMemberHeaderBytes;
    EXPECT_EQ(r.torn_tail_rows, header_survived ? members[whole].rows : 0u) << "cut at " << cut;
    for (std::size_t i = 0; i < got.frames.size(); ++i)
      ASSERT_EQ(got.frames[i].global_sequence, i + 1) << "cut at " << cut;
  }
}

TEST(CrashRecovery, ReplayOfAnOpenFileRebuildsTheBooksOfEveryRecoveredFrame) {
  TempDir dir;
  std::size_t frames_written = 0;
  const std::string bytes = crashed_file_bytes(dir, frames_written);
  Replayer replay;
  const ReplaySummary& s = replay.run({dir.path()});  // finds the .open file in the tree
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_TRUE(s.files[0].open_file);
  EXPECT_EQ(s.frames, frames_written);
  EXPECT_EQ(s.global.gaps, 0u);
}

TEST(CrashRecovery, GarbageAfterTheLastMemberIsReportedAsCorruptNotSkipped) {
  TempDir dir;
  std::size_t frames_written = 0;
  std::string bytes = crashed_file_bytes(dir, frames_written);
  const std::size_t end_of_members = bytes.size();
  bytes += "not gzip at all";
  Collector got;
  const FileReport r =
      read_bytes(bytes, got, open_name("polymarket_ws_raw_20251121T05Z_x_000001.jsonl.gz"));
  EXPECT_EQ(got.frames.size(), frames_written);
  EXPECT_TRUE(r.corrupt);
  EXPECT_EQ(r.torn_tail_bytes, 0u) << "garbage is damage, not a torn member";
  ASSERT_EQ(r.corrupt_spans.size(), 1u);
  EXPECT_EQ(r.corrupt_spans[0].offset, end_of_members);
  EXPECT_EQ(r.corrupt_spans[0].bytes, 15u);
  EXPECT_EQ(r.corrupt_bytes, 15u);
  EXPECT_NE(r.error.find("not_gzip"), std::string::npos) << r.error;
}

TEST(CrashRecovery, AFlippedByteInsideAMemberSkipsThatMemberReadsOnAndSaysWhere) {
  TempDir dir;
  std::size_t frames_written = 0;
  std::string bytes = crashed_file_bytes(dir, frames_written);
  const std::vector<Member> members = members_of(bytes);
  const Member& victim = members[3];
  bytes[victim.offset + victim.bytes / 2] ^= 0x5A;
  Collector got;
  const FileReport r = read_bytes(bytes, got);
  EXPECT_TRUE(r.corrupt);
  // Every frame but the damaged member's, in order: the ones before it, then the ones after.
  ASSERT_EQ(got.frames.size(), frames_written - victim.rows);
  EXPECT_EQ(got.frames[victim.frames_before - 1].global_sequence, victim.frames_before);
  EXPECT_EQ(got.frames[victim.frames_before].global_sequence, victim.frames_before + victim.rows + 1);
  EXPECT_EQ(r.members, members.size() - 1);
  EXPECT_EQ(r.torn_tail_bytes, 0u);
  ASSERT_EQ(r.corrupt_spans.size(), 1u);
  EXPECT_EQ(r.corrupt_spans[0].offset, victim.offset);
  EXPECT_EQ(r.corrupt_spans[0].bytes, victim.bytes);
  EXPECT_EQ(r.corrupt_spans[0].rows, victim.rows) << "its intact header says how many rows it held";
  EXPECT_NE(r.error.find("at byte " + std::to_string(victim.offset)), std::string::npos) << r.error;
}

TEST(CrashRecovery, ADamagedMemberHeaderIsSkippedByFindingTheNextValidMember) {
  TempDir dir;
  std::size_t frames_written = 0;
  std::string bytes = crashed_file_bytes(dir, frames_written);
  const std::vector<Member> members = members_of(bytes);
  const Member& victim = members[2];
  // Its length field (offset 16 in the header) now points into the middle of the next member,
  // and its body is damaged too: only a search finds where the next member starts.
  bytes[victim.offset + 17] ^= 0x01;
  bytes[victim.offset + victim.bytes / 2] ^= 0x5A;
  Collector got;
  const FileReport r = read_bytes(bytes, got);
  ASSERT_EQ(r.corrupt_spans.size(), 1u) << r.error;
  EXPECT_EQ(r.corrupt_spans[0].offset, victim.offset);
  EXPECT_EQ(r.corrupt_spans[0].bytes, victim.bytes);
  EXPECT_EQ(r.corrupt_spans[0].rows, 0u) << "the header that would say is the damaged part";
  EXPECT_EQ(got.frames.size(), frames_written - victim.rows);
}

// A frame line in the compact layout codecs/envelope.cpp writes (the reader's positional fast
// path), with a given received_at_ns text.
std::string compact_frame_line(std::string_view received_ns) {
  return R"({"record":"frame","received_at_utc":"2026-11-21T08:08:09.820106310Z","received_at_ns":)" +
         std::string(received_ns) +
         R"(,"monotonic_ns":9251379855155,"session_id":"s-1","connection_sequence":1,)"
         R"("message_sequence":1,"global_message_sequence":1,"opcode":"text",)"
         R"("payload_length_bytes":4,"payload_sha256":")" + std::string(64, '0') +
         R"(","classified_event_types":["pong"],"json_error":null,"raw_text":"PONG"})";
}

// Found by fuzz/archive_reader_fuzzer: the fast path negated -2^63 as an int64 (undefined
// behaviour) and took 9999999999999999999, which no int64 holds, for a negative time. Now the
// first reads exactly and the second is a bad line, as the full JSON path has it.
TEST(CrashRecovery, ReceiveTimesAtAndPastTheInt64LimitsAreReadExactlyOrReported) {
  TempDir dir;
  const auto path = dir.path() / "limits.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"record":"file","format":"booktape.ws_raw","format_version":1,"run_id":"r"})" << '\n'
        << compact_frame_line("-9223372036854775808") << '\n'
        << compact_frame_line("9223372036854775807") << '\n'
        << compact_frame_line("9999999999999999999") << '\n'
        << compact_frame_line("-9223372036854775809") << '\n';
  }
  ArchiveReader reader;
  Collector got;
  FileReport r;
  ASSERT_TRUE(reader.read_file(path, got, r));
  ASSERT_EQ(got.frames.size(), 2u);
  EXPECT_EQ(got.frames[0].received_ns, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(got.frames[1].received_ns, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(got.frames[0].payload, "PONG");
  EXPECT_EQ(r.bad_lines, 2u);
}

// Found by fuzz/archive_reader_fuzzer: with verify_sha256 a frame whose payload_sha256 could not
// be read (not a string, a bad escape) was dropped as a bad line, while a reader not verifying
// delivered it. Verifying now counts it as a mismatch and reads the same frames.
TEST(CrashRecovery, AnUnreadableChecksumIsAMismatchNotALostFrame) {
  TempDir dir;
  const auto path = dir.path() / "checksum.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"record":"file","format":"booktape.ws_raw","format_version":1,"run_id":"r"})" << '\n'
        << R"({"record":"frame","received_at_ns":7,"payload_length_bytes":4,)"
        << R"("payload_sha256":5,"raw_text":"PONG"})" << '\n'
        << R"({"record":"frame","received_at_ns":8,"payload_length_bytes":4,)"
        << R"("payload_sha256":"\q","raw_text":"PONG"})" << '\n'
        // The right checksum with spaces around it still verifies.
        << R"({"record":"frame","received_at_ns":9,"payload_length_bytes":4,"payload_sha256": )"
        << R"("95784973cc639977bff93619700168505cb8f7855e44fa643d34622a43706c87" ,"raw_text":"PONG"})"
        << '\n';
  }
  for (const bool verify : {false, true}) {
    ArchiveReader reader(ArchiveReader::Options{.verify_sha256 = verify});
    Collector got;
    FileReport r;
    ASSERT_TRUE(reader.read_file(path, got, r));
    ASSERT_EQ(got.frames.size(), 3u) << "verify " << verify;
    EXPECT_EQ(got.frames[0].payload, "PONG");
    EXPECT_EQ(r.bad_lines, 0u);
    EXPECT_EQ(r.sha_mismatches, verify ? 2u : 0u);
  }
}

}  // namespace
}  // namespace booktape
