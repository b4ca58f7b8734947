// Write frames with the real archive writer, read them back with the real reader: every payload
// byte-exact, every envelope field intact, manifests that verify, books identical.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>

#include "codecs/book_json.hpp"
#include "codecs/gzip_stream.hpp"
#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "codecs/sha256.hpp"
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

constexpr UnixNanos kT0 = 1'763'703'252'123'456'789;  // 2025-11-21T05:34:12.123456789Z

ArchiveWriterOptions options_for(const TempDir& dir, EnvelopeMode mode = EnvelopeMode::kCompact) {
  ArchiveWriterOptions o;
  o.root = dir.path();
  o.run_id = "20251121T053412Z-0000abcd";
  o.envelope = mode;
  o.block_bytes = 4096;  // several members even for small tests
  return o;
}

// Payloads that stress exactness: the fixture files exactly as they are on disk (pretty-printed,
// with newlines and, in gamma_market_live.json, UTF-8 curly quotes), control text, bad JSON,
// invalid UTF-8 and binary.
std::vector<std::pair<std::string, Opcode>> awkward_payloads() {
  std::vector<std::pair<std::string, Opcode>> p;
  for (const auto& name : testing::market_channel_fixture_names())
    p.emplace_back(testing::fixture(name), Opcode::kText);
  p.emplace_back(testing::fixture("gamma_market_live.json"), Opcode::kText);
  p.emplace_back("PONG", Opcode::kText);
  p.emplace_back("", Opcode::kText);
  p.emplace_back("INVALID OPERATION", Opcode::kText);
  p.emplace_back("{\"event_type\":\"book\",\"asset_id\":", Opcode::kText);  // truncated JSON
  p.emplace_back(std::string("caf\xC3\xA9 \xFF\xFE not utf-8"), Opcode::kText);
  p.emplace_back(std::string{'\x00', '\x01', '\x02', '\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'},
                 Opcode::kBinary);
  p.emplace_back("tab\there \"quoted\" back\\slash \x01\x1f", Opcode::kText);
  return p;
}

void expect_round_trip(EnvelopeMode mode) {
  TempDir dir;
  std::vector<testing::SentFrame> sent;
  std::string run_id;
  {
    ArchiveWriter w(options_for(dir, mode));
    run_id = w.run_id();
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    UnixNanos t = kT0;
    for (int round = 0; round < 3; ++round)
      for (auto& [payload, op] : awkward_payloads()) fw.write(payload, t += 1'000, op);
    w.close();
    sent = fw.sent();
    EXPECT_EQ(w.stats().frames, sent.size());
    EXPECT_EQ(w.stats().frames_dropped, 0u);
  }
  EXPECT_TRUE(testing::files_under(dir.path(), ".open").empty()) << "close() must seal every file";
  const auto files = testing::files_under(dir.path() / "raw_orderbooks", ".jsonl.gz");
  ASSERT_EQ(files.size(), 1u);

  ArchiveReader reader;
  Collector got;
  FileReport report;
  ASSERT_TRUE(reader.read_file(files[0], got, report));
  EXPECT_EQ(report.format, FileFormat::kBooktape);
  EXPECT_TRUE(report.booktape_members);
  EXPECT_GT(report.members, 1u);
  EXPECT_EQ(report.bad_lines, 0u);
  EXPECT_EQ(report.length_mismatches, 0u);
  EXPECT_EQ(report.torn_tail_bytes, 0u);
  EXPECT_FALSE(report.corrupt);
  ASSERT_EQ(got.frames.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const auto& a = sent[i];
    const auto& b = got.frames[i];
    EXPECT_EQ(b.payload, a.payload) << "frame " << i;
    EXPECT_TRUE(b.has_envelope);
    EXPECT_EQ(b.received_ns, a.received_ns);
    EXPECT_EQ(b.global_sequence, a.global_sequence);
    EXPECT_EQ(b.message_sequence, a.message_sequence);
    EXPECT_EQ(b.connection_sequence, 1u);
    EXPECT_EQ(b.session_id, "s-1");
    EXPECT_EQ(b.run_id, run_id);
    EXPECT_EQ(b.opcode, a.opcode);
  }
  // The file opens with its file record, then the session record.
  ASSERT_GE(got.records.size(), 2u);
  EXPECT_TRUE(got.records[0].starts_with("{\"record\":\"file\""));
  EXPECT_NE(got.records[1].find("\"event\":\"open\""), std::string::npos);

  // Verified with sha256 too.
  ArchiveReader verifying(ArchiveReader::Options{true});
  Collector again;
  ASSERT_TRUE(verifying.read_file(files[0], again, report));
  EXPECT_EQ(report.sha_mismatches, 0u);
  EXPECT_EQ(again.frames.size(), sent.size());
}

TEST(ArchiveRoundTrip, CompactEnvelopeGivesBackEveryPayloadByteExact) {
  expect_round_trip(EnvelopeMode::kCompact);
}

TEST(ArchiveRoundTrip, FullEnvelopeGivesBackEveryPayloadByteExact) {
  expect_round_trip(EnvelopeMode::kFull);
}

TEST(ArchiveRoundTrip, FullEnvelopeRepeatsTheSeedFieldsOnEveryFrameLine) {
  TempDir dir;
  {
    ArchiveWriter w(options_for(dir, EnvelopeMode::kFull));
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0, {"111", "222"});
    fw.write(testing::fixture("ws_market_price_change_msg.json"), kT0 + 1);
    fw.write("PONG", kT0 + 2);
    w.close();
  }
  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  ASSERT_EQ(files.size(), 1u);
  std::string text;
  const std::string gz = testing::read_file(files[0].string());
  inflate_gzip(reinterpret_cast<const std::uint8_t*>(gz.data()), gz.size(),
               [&](std::string_view c) {
                 text += c;
                 return true;
               });
  simdjson::dom::parser parser;
  int frame_lines = 0;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = text.substr(start, nl - start);
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS) << line;
    if (std::string_view(e["record"]) != "frame") continue;
    ++frame_lines;
    EXPECT_EQ(std::string_view(e["websocket"]["url"]),
              "wss://ws-subscriptions-clob.polymarket.com/ws/market");
    EXPECT_EQ(simdjson::dom::array(e["subscription"]["assets_ids"]).size(), 2u);
    EXPECT_EQ(std::string_view(e["tokens_tracked"].at(0)["market_slug"]),
              "btc-updown-5m-1773307200");
    const std::string_view raw = e["raw_text"];
    if (raw == "PONG") {
      EXPECT_TRUE(e["json"].is_null());
    } else {
      // `json` is the payload itself, parsed: the same event.
      EXPECT_EQ(std::string_view(e["json"]["event_type"]), "price_change");
      EXPECT_EQ(std::string_view(e["json"]["price_changes"].at(0)["price"]), "0.51");
    }
  }
  EXPECT_EQ(frame_lines, 2);
}

TEST(ArchiveRoundTrip, AnyGzipReaderReadsTheWholeFile) {
  TempDir dir;
  std::uint64_t rows = 0;
  {
    ArchiveWriter w(options_for(dir));
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    testing::StreamGen gen(7);
    for (int i = 0; i < 2'000; ++i) fw.write(gen.price_change(), kT0 + i);
    w.close();
    rows = w.stats().rows;
    ASSERT_GT(w.stats().blocks, 10u);
  }
  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  ASSERT_EQ(files.size(), 1u);
  const std::string gz = testing::read_file(files[0].string());
  std::uint64_t lines = 0;
  const InflateOutcome o = inflate_gzip(reinterpret_cast<const std::uint8_t*>(gz.data()),
                                        gz.size(), [&](std::string_view c) {
                                          lines += static_cast<std::uint64_t>(
                                              std::count(c.begin(), c.end(), '\n'));
                                          return true;
                                        });
  EXPECT_EQ(o.status, InflateOutcome::Status::kOk);
  EXPECT_EQ(o.consumed, gz.size());
  EXPECT_EQ(lines, rows);
}

TEST(ArchiveRoundTrip, ManifestEntryDescribesTheClosedFileExactly) {
  TempDir dir;
  {
    ArchiveWriter w(options_for(dir));
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    fw.write(testing::fixture("ws_market_book_msg.json"), kT0 + 10);
    fw.write(testing::fixture("ws_market_mixed_known_unknown.json"), kT0 + 20);
    fw.write("PONG", kT0 + 30);
    fw.write("{broken", kT0 + 40);
    w.close();
  }
  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  ASSERT_EQ(files.size(), 1u);
  const auto manifest = manifest_path(dir.path() / "manifests", "polymarket", "ws_raw");
  testing::ManifestLines m(manifest);
  ASSERT_EQ(m.lines.size(), 1u);
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(m.lines[0]);
  const std::string bytes = testing::read_file(files[0].string());
  EXPECT_EQ(std::string_view(e["sha256"]), sha256_hex(bytes));
  EXPECT_EQ(std::uint64_t(e["bytes"]), bytes.size());
  EXPECT_EQ(std::string_view(e["path"]),
            std::filesystem::relative(files[0], dir.path()).string());
  EXPECT_EQ(std::uint64_t(e["frames"]), 4u);
  EXPECT_EQ(std::uint64_t(e["rows"]), 6u);  // file record + session open + 4 frames
  EXPECT_EQ(std::string_view(e["first_received_at_utc"]), "2025-11-21T05:34:12.123456799Z");
  EXPECT_EQ(std::string_view(e["last_received_at_utc"]), "2025-11-21T05:34:12.123456829Z");
  EXPECT_EQ(std::uint64_t(e["events_by_type"]["book"]), 1u);
  EXPECT_EQ(std::uint64_t(e["events_by_type"]["price_change"]), 1u);
  EXPECT_EQ(std::uint64_t(e["events_by_type"]["last_trade_price"]), 1u);
  EXPECT_EQ(std::uint64_t(e["events_by_type"]["unknown"]), 1u);
  EXPECT_EQ(std::uint64_t(e["frames_by_kind"]["json"]), 2u);
  EXPECT_EQ(std::uint64_t(e["frames_by_kind"]["pong"]), 1u);
  EXPECT_EQ(std::uint64_t(e["frames_by_kind"]["malformed"]), 1u);
  EXPECT_FALSE(bool(e["recovered"]));
}

TEST(ArchiveRoundTrip, ManifestPathsStayUnderTheRootWhenTheArchiveFolderIsASymlink) {
  // A data disk linked in under --out: the manifest still says "raw_orderbooks/...", the path a
  // reader joins to the root (a canonicalising relative() gave "../disk/raw_orderbooks/...").
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "disk" / "raw_orderbooks");
  std::filesystem::create_directories(dir.path() / "out");
  std::filesystem::create_directory_symlink(dir.path() / "disk" / "raw_orderbooks",
                                            dir.path() / "out" / "raw_orderbooks");
  ArchiveWriterOptions o;
  o.root = dir.path() / "out";
  {
    ArchiveWriter w(o);
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    fw.write("PONG", kT0 + 10);
    w.close();
  }
  testing::ManifestLines m(manifest_path(o.root / "manifests", "polymarket", "ws_raw"));
  ASSERT_EQ(m.lines.size(), 1u);
  simdjson::dom::parser parser;
  const std::string path(std::string_view(parser.parse(m.lines[0])["path"]));
  EXPECT_TRUE(path.starts_with("raw_orderbooks/polymarket/ws_raw/date=")) << path;
  EXPECT_TRUE(std::filesystem::is_regular_file(o.root / path)) << path;
}

TEST(ArchiveRoundTrip, RotatesOnTheUtcHourOfTheReceiveTime) {
  TempDir dir;
  const UnixNanos hour6 = *parse_utc("2025-11-21T06:00:00Z");
  {
    ArchiveWriter w(options_for(dir));
    FrameWriter fw(w, "s-1", 1);
    fw.open(hour6 - 5 * kNanosPerSecond);
    fw.write("PONG", hour6 - 100);       // 05:59:59.9999999
    fw.write("PONG", hour6 - 1);
    fw.write("PONG", hour6);             // 06:00:00 exactly: the next file
    fw.write("PONG", hour6 + 1'000);
    w.close();
    EXPECT_EQ(w.closed_files().size(), 2u);
  }
  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_NE(files[0].string().find("date=2025-11-21/hour=05/"), std::string::npos);
  EXPECT_NE(files[1].string().find("date=2025-11-21/hour=06/"), std::string::npos);
  EXPECT_NE(files[0].filename().string().find("polymarket_ws_raw_20251121T05Z_"),
            std::string::npos);

  ArchiveReader reader;
  Collector first, second;
  FileReport r;
  reader.read_file(files[0], first, r);
  reader.read_file(files[1], second, r);
  EXPECT_EQ(first.frames.size(), 2u);
  EXPECT_EQ(second.frames.size(), 2u);
  // The second file stands alone: it restates the open session before its frames.
  ASSERT_GE(second.records.size(), 2u);
  EXPECT_NE(second.records[1].find("\"event\":\"continued\""), std::string::npos);
  EXPECT_NE(second.records[1].find("\"session_id\":\"s-1\""), std::string::npos);

  Replayer replay;
  const ReplaySummary& s = replay.run({dir.path()});
  EXPECT_EQ(s.frames, 4u);
  EXPECT_EQ(s.global.gaps, 0u);
  EXPECT_EQ(s.per_session.gaps, 0u);
}

TEST(ArchiveRoundTrip, RotatesBySizeWithoutLosingOrReorderingFrames) {
  TempDir dir;
  std::size_t sent = 0;
  {
    ArchiveWriterOptions o = options_for(dir);
    o.max_file_bytes = 16 << 10;
    ArchiveWriter w(o);
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    testing::StreamGen gen(3);
    for (int i = 0; i < 3'000; ++i) fw.write(gen.price_change(), kT0 + i);
    w.close();
    sent = fw.sent().size();
    EXPECT_GT(w.closed_files().size(), 3u);
  }
  Replayer replay;
  const ReplaySummary& s = replay.run({dir.path()});
  EXPECT_EQ(s.frames, sent);
  EXPECT_EQ(s.global.gaps + s.global.backwards, 0u);
  EXPECT_EQ(replay.books().totals().divergences, 0u);
}

TEST(ArchiveRoundTrip, PollWritesAnOldBlockAndSealsTheFileWhenTheHourIsOver) {
  TempDir dir;
  ArchiveWriterOptions o = options_for(dir);
  o.block_bytes = 1 << 20;  // never full: only age flushes
  o.block_max_age_ns = 50'000'000;
  ArchiveWriter w(o);
  FrameWriter fw(w, "s-1", 1);
  fw.open(kT0);
  fw.write("PONG", kT0);
  const MonoNanos mono0 = kT0 - 1'700'000'000'000'000'000;
  w.poll(mono0 + 10'000'000, kT0 + 10'000'000);
  EXPECT_EQ(w.stats().blocks, 0u) << "a 10 ms old block is not due yet";
  w.poll(mono0 + 60'000'000, kT0 + 60'000'000);
  EXPECT_EQ(w.stats().blocks, 1u);
  EXPECT_EQ(w.last_written_sequence(), 1u);

  // The block is readable from the still-open file, as after a crash.
  const auto open_files = testing::files_under(dir.path(), ".open");
  ASSERT_EQ(open_files.size(), 1u);
  ArchiveReader reader;
  Collector got;
  FileReport r;
  reader.read_file(open_files[0], got, r);
  EXPECT_TRUE(r.open_file);
  ASSERT_EQ(got.frames.size(), 1u);
  EXPECT_EQ(got.frames[0].payload, "PONG");

  // Just past the hour the ring may still hold frames read before its end: the file waits a
  // moment (a frame of the new hour would seal it at once), then is sealed.
  const UnixNanos hour_end = utc_hour_start(kT0) + 3'600 * kNanosPerSecond;
  w.poll(mono0 + 3'600 * kNanosPerSecond, hour_end + kNanosPerSecond);
  EXPECT_EQ(testing::files_under(dir.path(), ".open").size(), 1u);
  w.poll(mono0 + 3'602 * kNanosPerSecond, hour_end + 3 * kNanosPerSecond);
  EXPECT_TRUE(testing::files_under(dir.path(), ".open").empty());
  EXPECT_EQ(w.closed_files().size(), 1u);
}

TEST(ArchiveRoundTrip, ReplayedBooksEqualBooksBuiltFromTheOriginalFrames) {
  TempDir dir;
  testing::StreamGen gen(42, 6);
  std::vector<std::string> frames;
  for (std::size_t t = 0; t < gen.ids().size(); ++t) frames.push_back(gen.snapshot(t));
  for (int i = 0; i < 20'000; ++i) {
    frames.push_back(gen.price_change());
    if (i % 5'000 == 4'999) frames.push_back(gen.snapshot(static_cast<std::size_t>(i) % 6));
  }
  {
    ArchiveWriter w(options_for(dir));
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    for (std::size_t i = 0; i < frames.size(); ++i) fw.write(frames[i], kT0 + static_cast<UnixNanos>(i));
    w.close();
  }
  // Books straight from the frames...
  BookKeeper direct;
  polymarket::BookApplier applier(direct);
  polymarket::Decoder decoder;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    direct.begin_frame(i + 1, kT0 + static_cast<UnixNanos>(i));  // as received: same state_since
    decoder.decode(frames[i], applier);
  }
  // ...and from the archive.
  Replayer replay;
  replay.run({dir.path()});
  EXPECT_EQ(books_json(replay.books()), books_json(direct));
  EXPECT_EQ(replay.summary().frames, frames.size());
  EXPECT_EQ(replay.books().totals().divergences, 0u);
  EXPECT_GT(replay.books().totals().checks, 20'000u);
  // Both equal the generator's reference model.
  for (std::size_t t = 0; t < gen.ids().size(); ++t) {
    const TokenIndex i = replay.books().find(gen.ids()[t]);
    ASSERT_NE(i, kNoToken);
    const L2Book& b = replay.books().book(i).book;
    const auto& m = gen.model(t);
    ASSERT_EQ(b.bids().depth(), m.bids.size());
    ASSERT_EQ(b.asks().depth(), m.asks.size());
    std::size_t k = 0;
    for (auto it = m.bids.rbegin(); it != m.bids.rend(); ++it, ++k) {
      EXPECT_EQ(b.bids().level(k).price, it->first);
      EXPECT_EQ(b.bids().level(k).size, it->second);
    }
    k = 0;
    for (auto it = m.asks.begin(); it != m.asks.end(); ++it, ++k) {
      EXPECT_EQ(b.asks().level(k).price, it->first);
      EXPECT_EQ(b.asks().level(k).size, it->second);
    }
  }
}

TEST(ArchiveRoundTrip, ReplayReportsAGapInTheGlobalSequence) {
  TempDir dir;
  {
    ArchiveWriter w(options_for(dir));
    FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    fw.write("PONG", kT0 + 1);
    fw.write("PONG", kT0 + 2);
    fw.skip_global(3);  // three frames of the run never reached this archive
    fw.write("PONG", kT0 + 3);
    w.close();
  }
  Replayer replay;
  const ReplaySummary& s = replay.run({dir.path()});
  EXPECT_EQ(s.global.gaps, 1u);
  EXPECT_EQ(s.global.missing, 3u);
  EXPECT_EQ(s.per_session.gaps, 0u);
}

TEST(ArchiveRoundTrip, SessionRecordsSayWhenConnectionsOpenedAndWhyTheyClosed) {
  TempDir dir;
  {
    ArchiveWriter w(options_for(dir));
    FrameWriter first(w, "run-c1", 1);
    first.open(kT0);
    first.write("PONG", kT0 + 1);
    w.close_session("run-c1", kT0 + 2, "stale: no market data for 30 s");
    FrameWriter second(w, "run-c2", 2);
    second.open(kT0 + 3);
    second.write("PONG", kT0 + 4);
    w.close_session("run-c2", kT0 + 5, "shutdown");
    w.close();
  }
  const auto files = testing::files_under(dir.path(), ".jsonl.gz");
  ASSERT_EQ(files.size(), 1u);
  ArchiveReader reader;
  Collector got;
  FileReport r;
  reader.read_file(files[0], got, r);
  ASSERT_EQ(got.records.size(), 5u);  // file, open c1, close c1, open c2, close c2
  simdjson::dom::parser parser;
  auto field = [&](std::size_t i, const char* key) {
    return std::string(std::string_view(parser.parse(got.records[i])[key]));
  };
  EXPECT_EQ(field(1, "event"), "open");
  EXPECT_EQ(field(1, "session_id"), "run-c1");
  EXPECT_EQ(field(2, "event"), "close");
  EXPECT_EQ(field(2, "reason"), "stale: no market data for 30 s");
  EXPECT_EQ(field(3, "event"), "open");
  EXPECT_EQ(field(3, "session_id"), "run-c2");
  EXPECT_EQ(field(4, "reason"), "shutdown");
  ASSERT_EQ(got.frames.size(), 2u);
  EXPECT_EQ(got.frames[1].connection_sequence, 2u);
}

}  // namespace
}  // namespace booktape

namespace booktape {
namespace {

TEST(ArchiveRoundTrip, TwoRunsInOneTreeKeepTheirOwnSequences) {
  testing::TempDir dir;
  for (const char* run : {"20251121T053412Z-00000001", "20251121T053413Z-00000002"}) {
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.run_id = run;
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, std::string(run) + "-c1", 1);
    fw.open(1'763'703'252'000'000'000);
    for (int i = 0; i < 3; ++i) fw.write("PONG", 1'763'703'252'000'000'000 + i);
    w.close();
  }
  Replayer replay;
  const ReplaySummary& s = replay.run({dir.path()});
  EXPECT_EQ(s.files.size(), 2u);
  EXPECT_EQ(s.frames, 6u);
  // Each run's sequence starts again at 1: neither a gap nor a step backwards.
  EXPECT_EQ(s.global.gaps + s.global.backwards, 0u);
  EXPECT_EQ(s.per_session.gaps + s.per_session.backwards, 0u);
}

}  // namespace
}  // namespace booktape

namespace booktape {
namespace {

TEST(ArchiveRoundTrip, ArchiveFilesAndFoldersAreNotWorldReadable) {
  testing::TempDir dir;
  {
    ArchiveWriterOptions o;
    o.root = dir.path() / "data";
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, "s-1", 1);
    fw.open(1'763'703'252'000'000'000);
    fw.write("PONG", 1'763'703'252'000'000'001);
    w.close();
  }
  int checked = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() / "data")) {
    const auto perms = e.status().permissions();
    using std::filesystem::perms;
    EXPECT_EQ(perms & (perms::others_all | perms::group_write), perms::none) << e.path();
    ++checked;
  }
  EXPECT_GE(checked, 8);  // raw_orderbooks/polymarket/ws_raw/date/hour/file, manifests/file
}

}  // namespace
}  // namespace booktape

namespace booktape {
namespace {

// The replayed book is the live book across reconnects and runs (docs/REPLAY.md): the live book
// stage marks a closed connection's books stale until their fresh snapshot, and a new recorder
// process starts with no books at all.
class ReplayContinuity : public ::testing::Test {
 protected:
  static constexpr UnixNanos kStart = 1'763'703'252'000'000'000;

  // Replays the tree and returns the generator's first token's book.
  const TokenBook& replayed(Replayer& replay, const testing::StreamGen& gen) {
    replay.run({dir_.path()});
    const TokenIndex t = replay.books().find(gen.ids()[0]);
    EXPECT_NE(t, kNoToken);
    return replay.books().book(t);
  }

  testing::TempDir dir_;
};

TEST_F(ReplayContinuity, AClosedConnectionsBooksAreStaleUntilTheirFreshSnapshot) {
  testing::StreamGen gen(7, 2);
  {
    ArchiveWriter w(options_for(dir_));
    testing::FrameWriter first(w, "run-c1", 1);
    first.open(kStart, gen.ids());
    for (std::size_t t = 0; t < 2; ++t) first.write(gen.snapshot(t), kStart + 1);
    for (int i = 0; i < 10; ++i) first.write(gen.price_change(), kStart + 2);
    w.close_session("run-c1", kStart + 3, "stale: no market data for 30 s");
    testing::FrameWriter second(w, "run-c2", 2);
    second.open(kStart + 4, gen.ids());
    second.write(gen.price_change(), kStart + 5);  // before the fresh book: not applied
    w.close();
  }
  Replayer replay;
  const TokenBook& tb = replayed(replay, gen);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(tb.stale_reason, StaleReason::kExternal);
  const KeeperTotals& k = replay.books().totals();
  EXPECT_GT(k.changes_suppressed, 0u);
  EXPECT_LE(k.changes_applied, 20u);  // only the 10 changes before the close (<= 2 entries each)
}

TEST_F(ReplayContinuity, TheFreshSnapshotMakesTheBookLiveAgain) {
  testing::StreamGen gen(8, 2);
  {
    ArchiveWriter w(options_for(dir_));
    testing::FrameWriter first(w, "run-c1", 1);
    first.open(kStart, gen.ids());
    first.write(gen.snapshot(0), kStart + 1);
    w.close_session("run-c1", kStart + 2, "network error: connection reset");
    testing::FrameWriter second(w, "run-c2", 2);
    second.open(kStart + 3, gen.ids());
    second.write(gen.snapshot(0), kStart + 4);
    w.close();
  }
  Replayer replay;
  EXPECT_EQ(replayed(replay, gen).state, BookState::kLive);
}

TEST_F(ReplayContinuity, AGracefulStopLeavesTheBooksAsLastObserved) {
  testing::StreamGen gen(9, 2);
  {
    ArchiveWriter w(options_for(dir_));
    testing::FrameWriter c(w, "run-c1", 1);
    c.open(kStart, gen.ids());
    c.write(gen.snapshot(0), kStart + 1);
    w.close_session("run-c1", kStart + 2, "shutdown");
    w.close();
  }
  Replayer replay;
  EXPECT_EQ(replayed(replay, gen).state, BookState::kLive);
}

TEST_F(ReplayContinuity, ANewRunStartsWithoutTheLastRunsBooks) {
  testing::StreamGen gen(10, 2);
  int run_number = 0;
  for (const char* run : {"20251121T053412Z-00000001", "20251121T053413Z-00000002"}) {
    ArchiveWriterOptions o;
    o.root = dir_.path();
    o.run_id = run;
    ArchiveWriter w(o);
    testing::FrameWriter c(w, std::string(run) + "-c1", 1);
    c.open(kStart + run_number, gen.ids());
    // Run 1 gets the book; run 2 (a new process, e.g. after a crash) only a change.
    c.write(run_number == 0 ? gen.snapshot(0) : gen.price_change(), kStart + run_number + 1);
    if (run_number == 0) w.close_session(std::string(run) + "-c1", kStart + 1, "shutdown");
    w.close();
    ++run_number;
  }
  Replayer replay;
  const TokenBook& tb = replayed(replay, gen);
  EXPECT_EQ(tb.state, BookState::kStale);
  EXPECT_EQ(replay.books().totals().changes_applied, 0u);
  EXPECT_GT(replay.books().totals().changes_suppressed, 0u);
}

}  // namespace
}  // namespace booktape
