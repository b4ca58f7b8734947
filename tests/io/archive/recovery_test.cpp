// Start-up recovery seals the ".open" files a crash left: every complete gzip member kept, the
// torn tail cut, a manifest entry that says "recovered" and counts exactly like a normal close.
// The files are written by the real ArchiveWriter in a child process that dies without closing
// anything, then cut at many offsets.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "codecs/gzip_member.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/recovery.hpp"
#include "io/replay/replayer.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::Collector;
using testing::FrameWriter;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;
constexpr int kFrames = 200;
constexpr int kRestRecords = 100;

ArchiveWriterOptions writer_options(const fs::path& root, const std::string& stream) {
  ArchiveWriterOptions o;
  o.root = root;
  o.stream = stream;
  o.run_id = "20251121T053412Z-0000beef";
  o.block_bytes = 2'048;  // many small members: many places to cut
  return o;
}

// The same content every time: websocket frames (ws_raw) or REST checkpoint lines.
void write_content(ArchiveWriter& w, const std::string& stream) {
  if (stream == "ws_raw") {
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    testing::StreamGen gen(11);
    for (int i = 0; i < kFrames; ++i) fw.write(gen.price_change(), kT0 + i);
    fw.write(std::string("\x01\x02", 2), kT0 + kFrames, Opcode::kBinary);
    fw.write("PONG", kT0 + kFrames + 1);
  } else {
    for (int i = 0; i < kRestRecords; ++i) {
      const UnixNanos at = kT0 + i * 1'000'000;
      w.append_record(at, at, "{\"record\":\"rest_checkpoint\",\"requested_at_ns\":" +
                                  std::to_string(at) + ",\"checkpoint\":" + std::to_string(i) +
                                  ",\"pad\":\"" + std::string(200, 'x') + "\"}\n");
    }
  }
}

// A real crash: a child writes and flushes (as the archive stage does), then dies without any
// destructor or seal. Returns the ".open" file it left.
fs::path crash_after_writing(const fs::path& root, const std::string& stream) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ArchiveWriter w(writer_options(root, stream));
    write_content(w, stream);
    w.flush();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const auto open_files = testing::files_under(root, ".open");
  EXPECT_EQ(open_files.size(), 1u);
  return open_files.empty() ? fs::path() : open_files[0];
}

// The manifest entry of the same content closed normally.
std::string normally_closed_entry(const std::string& stream) {
  TempDir dir;
  {
    ArchiveWriter w(writer_options(dir.path(), stream));
    write_content(w, stream);
    w.close();
  }
  testing::ManifestLines m(manifest_path(dir.path() / "manifests", "polymarket", stream));
  EXPECT_EQ(m.lines.size(), 1u);
  return m.lines.empty() ? std::string() : m.lines[0];
}

struct Member {
  std::size_t offset, bytes, rows;
};

std::vector<Member> members_of(const std::string& bytes) {
  std::vector<Member> out;
  std::size_t off = 0;
  while (off < bytes.size()) {
    MemberHeader h;
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data()) + off;
    if (parse_member_header(p, bytes.size() - off, h) != MemberStatus::kOk) break;
    out.push_back(Member{off, h.member_bytes, h.rows});
    off += h.member_bytes;
  }
  EXPECT_EQ(off, bytes.size()) << "a flushed .open file is whole members";
  return out;
}

// Fields of two manifest lines, minus the ones that say when and how the file was sealed.
std::map<std::string, std::string> content_fields(const std::string& line) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser p;
  simdjson::dom::object o = p.parse(line);
  for (auto [k, v] : o) {
    if (k == "closed_at_utc" || k == "recovered" || k.starts_with("torn_tail_")) continue;
    out[std::string(k)] = simdjson::minify(v);
  }
  return out;
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class Recovery : public ::testing::TestWithParam<const char*> {};

TEST_P(Recovery, SealsEveryCompleteMemberAndCutsTheTornTailAtEveryCut) {
  const std::string stream = GetParam();
  TempDir crashed;
  const fs::path open_file = crash_after_writing(crashed.path(), stream);
  const std::string bytes = testing::read_file(open_file.string());
  const std::vector<Member> members = members_of(bytes);
  ASSERT_GT(members.size(), 4u);
  const fs::path rel = fs::relative(open_file, crashed.path());
  const fs::path rel_closed = rel.parent_path() / closed_name_of(rel.filename().string());
  const std::string closed_normally = normally_closed_entry(stream);

  // Frames (or records) and rows in the first n members, from reading the crashed file itself.
  std::vector<std::size_t> items_before{0}, rows_before{0};
  {
    Collector all;
    FileReport r;
    ArchiveReader().read_file(open_file, all, r);
    ASSERT_EQ(r.members, members.size());
    const std::size_t items = stream == "ws_raw" ? all.frames.size() : r.records - 1;
    ASSERT_EQ(items, stream == "ws_raw" ? std::size_t{kFrames + 2} : std::size_t{kRestRecords});
    std::size_t rows = 0;
    for (const Member& m : members) {
      rows += m.rows;
      rows_before.push_back(rows);
    }
  }

  // Every byte of the last two members, each member's start, and a few cuts in the others.
  std::vector<std::size_t> cuts;
  for (std::size_t c = members[members.size() - 2].offset; c <= bytes.size(); ++c) cuts.push_back(c);
  for (const Member& m : members) {
    cuts.push_back(m.offset);
    cuts.push_back(m.offset + 1);
    cuts.push_back(m.offset + kGzipMemberHeaderBytes);
    cuts.push_back(m.offset + m.bytes / 2);
  }
  for (std::size_t cut : cuts) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
    TempDir root;
    write_bytes(root.path() / rel, std::string_view(bytes).substr(0, cut));
    RecoveryOptions o;
    o.root = root.path();
    const RecoveryResult r = recover_open_files(o);

    std::size_t whole = 0;
    while (whole < members.size() && members[whole].offset + members[whole].bytes <= cut) ++whole;
    const std::size_t boundary =
        whole == 0 ? 0 : members[whole - 1].offset + members[whole - 1].bytes;
    EXPECT_EQ(r.open_files, 1u);
    EXPECT_EQ(r.corrupt + r.failed, 0u) << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_TRUE(testing::files_under(root.path(), ".open").empty());
    if (cut == 0) {  // nothing was ever written: removed, no entry
      EXPECT_EQ(r.empty_removed, 1u);
      EXPECT_FALSE(fs::exists(root.path() / rel_closed));
      EXPECT_FALSE(fs::exists(root.path() / "manifests"));
      continue;
    }
    ASSERT_EQ(r.files_recovered, 1u);
    const fs::path sealed = root.path() / rel_closed;
    const std::string kept = testing::read_file(sealed.string());
    EXPECT_EQ(kept, std::string_view(bytes).substr(0, boundary));

    testing::ManifestLines m(manifest_path(root.path() / "manifests", "polymarket", stream));
    ASSERT_EQ(m.lines.size(), 1u);
    simdjson::dom::parser p;
    simdjson::dom::element e = p.parse(m.lines[0]);
    EXPECT_EQ(std::string_view(e["path"]), rel_closed.string());
    EXPECT_EQ(std::string_view(e["sha256"]), sha256_hex(kept));
    EXPECT_EQ(std::uint64_t(e["bytes"]), boundary);
    EXPECT_EQ(std::uint64_t(e["members"]), whole);
    EXPECT_TRUE(e["recovered"].get_bool().value());
    EXPECT_EQ(std::uint64_t(e["torn_tail_bytes"]), cut - boundary);
    const bool header_survived =
        whole < members.size() && cut >= members[whole].offset + kGzipMemberHeaderBytes;
    EXPECT_EQ(std::uint64_t(e["torn_tail_rows"]), header_survived ? members[whole].rows : 0u);
    EXPECT_EQ(std::string_view(e["run_id"]), "20251121T053412Z-0000beef");
    EXPECT_EQ(std::uint64_t(e["file_sequence"]), 1u);

    // What the sealed file holds is what the entry and the result say.
    Collector got;
    FileReport rep;
    ArchiveReader().read_file(sealed, got, rep);
    EXPECT_TRUE(rep.error.empty()) << rep.error;
    EXPECT_EQ(rep.lines, rows_before[whole]);
    EXPECT_EQ(std::uint64_t(e["rows"]), rep.lines);
    EXPECT_EQ(r.rows, rep.lines);
    EXPECT_EQ(std::uint64_t(e["frames"]), got.frames.size());
    EXPECT_EQ(r.frames, got.frames.size());
    for (std::size_t i = 0; i < got.frames.size(); ++i)
      ASSERT_EQ(got.frames[i].global_sequence, i + 1);
    EXPECT_EQ(r.torn_tail_bytes, cut - boundary);
    // Uncut, the entry is the normal close's, field for field (but when and how it was sealed).
    if (cut == bytes.size()) {
      EXPECT_EQ(content_fields(m.lines[0]), content_fields(closed_normally));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, Recovery, ::testing::Values("ws_raw", "rest_checkpoints"));

TEST(ArchiveRecovery, ReplayReadsTheSealedFileAsAClosedOneWithEveryFrame) {
  TempDir root;
  const fs::path open_file = crash_after_writing(root.path(), "ws_raw");
  std::string bytes = testing::read_file(open_file.string());
  const std::vector<Member> members = members_of(bytes);
  write_bytes(open_file, std::string_view(bytes).substr(0, bytes.size() - 7));  // tear the last
  RecoveryOptions o;
  o.root = root.path();
  const RecoveryResult r = recover_open_files(o);
  ASSERT_EQ(r.files_recovered, 1u);
  EXPECT_EQ(r.torn_tail_rows, members.back().rows);

  Replayer replay;
  const ReplaySummary& s = replay.run({root.path() / "raw_orderbooks"});
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_FALSE(s.files[0].open_file);
  EXPECT_TRUE(s.files[0].error.empty()) << s.files[0].error;
  EXPECT_EQ(s.frames, r.frames);
  EXPECT_GT(s.frames, 0u);
  EXPECT_EQ(s.global.gaps, 0u);
}

TEST(ArchiveRecovery, ADamagedFileIsLeftInPlaceUntouchedCountedAndDescribed) {
  TempDir root;
  const fs::path open_file = crash_after_writing(root.path(), "ws_raw");
  std::string bytes = testing::read_file(open_file.string());
  const std::vector<Member> members = members_of(bytes);
  bytes[members[2].offset + members[2].bytes / 2] ^= 0x5A;  // inside a complete member
  write_bytes(open_file, bytes);
  const fs::path stranger =
      open_file.parent_path() / open_name("polymarket_ws_raw_20251121T05Z_x_000009.jsonl.gz");
  write_bytes(stranger, "plain text, not gzip\n");

  RecoveryOptions o;
  o.root = root.path();
  for (int start = 0; start < 2; ++start) {  // and again at the next start: still there
    const RecoveryResult r = recover_open_files(o);
    EXPECT_EQ(r.open_files, 2u);
    EXPECT_EQ(r.corrupt, 2u);
    EXPECT_TRUE(r.alarm());
    EXPECT_EQ(r.files_recovered, 0u);
    ASSERT_EQ(r.problems.size(), 2u);
    EXPECT_NE(r.problems[0].find("damaged"), std::string::npos) << r.problems[0];
    EXPECT_NE(r.problems[1].find("not a booktape archive"), std::string::npos) << r.problems[1];
    EXPECT_EQ(testing::read_file(open_file.string()), bytes);
    EXPECT_EQ(testing::read_file(stranger.string()), "plain text, not gzip\n");
    EXPECT_FALSE(fs::exists(root.path() / "manifests" / "polymarket_ws_raw.manifest.jsonl"));
  }
}

TEST(ArchiveRecovery, ASealCutShortBetweenItsEntryAndItsRenameIsFinishedWithoutASecondEntry) {
  TempDir root;
  const fs::path open_file = crash_after_writing(root.path(), "ws_raw");
  const std::string bytes = testing::read_file(open_file.string());
  const fs::path manifest = manifest_path(root.path() / "manifests", "polymarket", "ws_raw");
  // A first recovery wrote its entry for a torn copy, then died before the cut and the rename;
  // and an earlier crash left half a manifest line.
  write_bytes(open_file, std::string_view(bytes).substr(0, bytes.size() - 5));
  {
    TempDir scratch;
    const fs::path copy = scratch.path() / fs::relative(open_file, root.path());
    write_bytes(copy, std::string_view(bytes).substr(0, bytes.size() - 5));
    RecoveryOptions o;
    o.root = scratch.path();
    ASSERT_EQ(recover_open_files(o).files_recovered, 1u);
    const std::string entry =
        testing::read_file(manifest_path(scratch.path() / "manifests", "polymarket", "ws_raw").string());
    write_bytes(manifest, "{\"record\":\"manifest_entry\",\"path\":\"torn\n" + entry);
  }
  { std::ofstream(manifest, std::ios::app) << "{\"record\":\"manifest_ent"; }

  RecoveryOptions o;
  o.root = root.path();
  const RecoveryResult r = recover_open_files(o);
  EXPECT_EQ(r.seals_completed, 1u);
  EXPECT_EQ(r.files_recovered, 0u);
  EXPECT_TRUE(testing::files_under(root.path(), ".open").empty());
  const auto sealed = testing::files_under(root.path() / "raw_orderbooks", ".jsonl.gz");
  ASSERT_EQ(sealed.size(), 1u);
  testing::ManifestLines m(manifest);
  ASSERT_EQ(m.lines.size(), 3u);  // the torn line, the entry, the fragment (now ended)
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(m.lines[1]);
  EXPECT_EQ(std::string_view(e["sha256"]), sha256_hex(testing::read_file(sealed[0].string())));

  // A fresh crash after that: its entry goes on a line of its own, after the fragment.
  const fs::path again = crash_after_writing(root.path() / "second", "ws_raw");
  const fs::path moved = root.path() / fs::relative(again, root.path() / "second");
  fs::rename(again, moved.parent_path() / open_name("polymarket_ws_raw_20251121T05Z_x_000002.jsonl.gz"));
  const RecoveryResult r2 = recover_open_files(o);
  EXPECT_EQ(r2.files_recovered, 1u);
  testing::ManifestLines m2(manifest);
  ASSERT_EQ(m2.lines.size(), 4u);
  EXPECT_EQ(m2.lines[2], "{\"record\":\"manifest_ent");
  EXPECT_TRUE(p.parse(m2.lines[3])["recovered"].get_bool().value());
}

TEST(ArchiveRecovery, AFileALiveWriterHoldsIsLeftAlone) {
  TempDir root;
  ArchiveWriter w(writer_options(root.path(), "ws_raw"));
  write_content(w, "ws_raw");
  w.flush();
  const auto open_files = testing::files_under(root.path(), ".open");
  ASSERT_EQ(open_files.size(), 1u);
  const std::string before = testing::read_file(open_files[0].string());
  RecoveryOptions o;
  o.root = root.path();
  const RecoveryResult r = recover_open_files(o);
  EXPECT_EQ(r.open_files, 1u);
  EXPECT_EQ(r.in_use, 1u);
  EXPECT_EQ(r.files_recovered, 0u);
  EXPECT_EQ(testing::read_file(open_files[0].string()), before);
  w.close();  // and the writer still seals it normally
  EXPECT_TRUE(testing::files_under(root.path(), ".open").empty());
  EXPECT_EQ(w.stats().files_closed, 1u);
}

}  // namespace
}  // namespace booktape
