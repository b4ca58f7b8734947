// The live recorder against `booktape sim` over real loopback sockets: what the simulator sent
// on every connection is in the archive, byte for byte and in order; replayed books equal the
// simulator's; TLS is verified; drops and stalls reconnect with session records and lose
// nothing; markets roll; REST checkpoints are archived without secrets and compared; a stop
// leaves closed files whose checksums verify.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <initializer_list>
#include <set>
#include <thread>

#include "codecs/book_json.hpp"
#include "codecs/gzip_stream.hpp"
#include "codecs/json_text.hpp"
#include "codecs/polymarket_gamma.hpp"
#include "codecs/sha256.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/net/http_client.hpp"
#include "io/record/recorder.hpp"
#include "io/replay/replayer.hpp"
#include "io/sim/server.hpp"
#include "io/sim/truth.hpp"
#include "tests/support/archive_truth.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/sim_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::ArchivedStream;
using testing::eventually;
using testing::RecorderRun;
using testing::books_by_asset;
using testing::config_for;
using testing::sim_options;
using testing::Sim;
using testing::TruthView;

namespace fs = std::filesystem;
namespace pm = polymarket;

// The same with faults scheduled as on `booktape sim --fault KIND@SECONDS[:ARG]`.
SimServerOptions sim_options(std::uint64_t frames, double rate,
                             std::initializer_list<const char*> faults) {
  SimServerOptions o = sim_options(frames, rate);
  for (const char* f : faults) {
    ScheduledFault sf;
    std::string err;
    EXPECT_TRUE(parse_scheduled_fault(f, sf, err)) << f << ": " << err;
    o.faults.push_back(sf);
  }
  return o;
}

// A fault now, as on POST /control/fault.
void inject_fault(SimServer& sim, const std::string& kind, const std::string& token = "") {
  FaultSpec f;
  f.kind = kind;
  f.token = token;
  std::string err;
  EXPECT_TRUE(sim.inject(f, err)) << kind << ": " << err;
}

fs::path ws_dir(const fs::path& out) { return archive_stream_dir(out, "polymarket", "ws_raw"); }
fs::path rest_dir(const fs::path& out) {
  return archive_stream_dir(out, "polymarket", "rest_checkpoints");
}

// Every connection the simulator served is in the archive: same frames, same order.
void expect_every_connection_archived(TruthView& truth, const ArchivedStream& a) {
  std::multiset<std::pair<std::uint64_t, std::string>> sent, archived;
  for (std::size_t i = 0; i < truth.connections(); ++i) {
    simdjson::dom::element c = truth.conn(i);
    sent.emplace(std::uint64_t(c["frames"]), std::string(std::string_view(c["payload_chain_sha256"])));
  }
  for (const auto& [seq, c] : a.conns) archived.emplace(c.frames, c.chain.hex());
  // Connections that carried nothing (a subscription-less attempt) leave no frames.
  for (auto it = sent.begin(); it != sent.end();) it = it->first == 0 ? sent.erase(it) : std::next(it);
  EXPECT_EQ(sent, archived);
  for (const auto& [seq, c] : a.conns) EXPECT_TRUE(c.contiguous) << "connection " << seq;
  EXPECT_TRUE(a.global_contiguous);
  EXPECT_EQ(a.frames_after_close, 0u);  // a session's frames all come before its close record
}

bool any_open_file(const fs::path& root) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (is_open_name(e.path().filename().string())) return true;
  return false;
}

// Every manifest line's sha256 and size match the file it names.
std::size_t verify_manifests(const fs::path& out) {
  std::size_t verified = 0;
  simdjson::dom::parser p;
  for (const auto& e : fs::directory_iterator(out / "manifests")) {
    if (!e.path().string().ends_with(".manifest.jsonl")) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element m = p.parse(line);
      const fs::path file = out / std::string(std::string_view(m["path"]));
      std::ifstream f(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(f)), {});
      EXPECT_EQ(bytes.size(), std::uint64_t(m["bytes"])) << file;
      EXPECT_EQ(sha256_hex(bytes), std::string_view(m["sha256"])) << file;
      ++verified;
    }
  }
  return verified;
}

// ------------------------------------------------------------------------- the tests -------

TEST(Recorder, BoundedRunArchivesExactlyWhatTheSimulatorSentAndReplaysToItsBooks) {
  testing::TempDir dir;
  Sim sim(sim_options(12'000, 6'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 4;
  c.rest_checkpoint_interval_seconds = 0.5;
  c.envelope = EnvelopeMode::kFull;
  RecorderRun run(c);
  const int code = run.wait();

  ASSERT_GE(sim->frames_generated(), 12'000u) << "the run ended before the simulator finished";
  TruthView truth(sim->truth_json());
  ArchivedStream a(ws_dir(c.out));
  ASSERT_EQ(truth.connections(), 1u);  // 8 tokens fit one connection
  expect_every_connection_archived(truth, a);
  EXPECT_GT(a.frames, 6'000u);
  for (const FileReport& r : a.reports) {
    EXPECT_FALSE(r.open_file);
    EXPECT_EQ(r.bad_lines, 0u);
    EXPECT_FALSE(r.corrupt);
  }

  // The archive replays to the simulator's books (the replay CLI's --dump-books shape).
  Replayer replayer;
  replayer.run({ws_dir(c.out)});
  EXPECT_EQ(replayer.books().totals().divergences, 0u);
  const auto ours = books_by_asset(books_json(replayer.books()));
  const auto truth_books = books_by_asset(sim->books_json());  // every listed token's
  EXPECT_GE(ours.size(), 4u);  // the live windows' Up and Down (and the next ones, if due)
  for (const auto& [id, book] : ours) EXPECT_EQ(book, truth_books.at(id)) << id;

  // The bounded run's evidence: discovery, the seed manifest and report, gate PASS.
  EXPECT_EQ(code, 0);
  EXPECT_EQ(run.get().gate(), "WS_RAW_SAMPLE_PASS");
  EXPECT_TRUE(fs::exists(c.out / "discovery" / "polymarket_btc_markets_latest.json"));
  const fs::path manifest = c.out / "manifests" / "checkpoint_010b_ws_raw_sample.json";
  ASSERT_TRUE(fs::exists(manifest));
  simdjson::dom::parser p;
  simdjson::dom::element m = p.load(manifest.string());
  EXPECT_EQ(std::string_view(m["gate"]), "WS_RAW_SAMPLE_PASS");
  EXPECT_GE(simdjson::dom::array(m["markets"]).size(), 2u);
  EXPECT_EQ(std::uint64_t(m["websocket"]["frames"]), a.frames);
  EXPECT_EQ(std::uint64_t(m["websocket"]["ring_bytes"]), c.ring_bytes);
  EXPECT_LE(std::uint64_t(m["websocket"]["ring_high_water"]), c.ring_bytes);
  EXPECT_GE(std::uint64_t(m["rest_checkpoints"]["rounds_ok"]), 2u);
  EXPECT_TRUE(fs::exists(run.get().report_path()));
  EXPECT_FALSE(any_open_file(c.out));
  EXPECT_GE(verify_manifests(c.out), 2u);  // websocket and REST files
}

TEST(Recorder, TlsIsVerifiedAgainstTheSystemStoreUnlessACaFileIsGiven) {
  testing::TempDir dir;
  SimServerOptions so = sim_options(0, 500);
  so.tls = true;
  so.tls_dir = dir.path() / "tls";
  Sim sim(so);
  // Explicit token ids: the websocket alone (no Gamma, no REST).
  RecorderConfig c = config_for(sim.get(), dir.path() / "untrusted");
  c.assets = {"1"};
  c.ca_file.clear();
  c.backoff_initial_seconds = 0.1;
  {
    RecorderRun run(c);
    ASSERT_TRUE(eventually([&] { return run.counter("network", "connect_failures") >= 2; }));
    run.stop();
    EXPECT_EQ(run.counter("network", "connects"), 0u);
    // A failed attempt is a reconnect too (was: reconnects 0 while it kept failing).
    EXPECT_EQ(run.counter("network", "reconnects"), run.counter("network", "connect_failures"));
  }
  ArchivedStream refused(ws_dir(c.out));
  const auto closes = refused.sessions("close");
  ASSERT_FALSE(closes.empty());
  EXPECT_NE(closes[0].find("connect failed: TLS handshake"), std::string::npos) << closes[0];

  // The same with the simulator's CA: it connects and records.
  RecorderConfig ok = config_for(sim.get(), dir.path() / "trusted");
  ok.ca_file = sim->ca_file();
  RecorderRun run(ok);  // discovery over https with the same CA, then wss
  ASSERT_TRUE(eventually([&] { return run.counter("network", "frames") >= 50; }));
  run.stop();
  EXPECT_EQ(run.counter("network", "connect_failures"), 0u);
  EXPECT_GE(ArchivedStream(ws_dir(ok.out)).frames, 50u);
}

// Time from each session's close record to the next session's open record (ns).
std::vector<std::int64_t> reconnect_gaps(const std::vector<std::string>& opens,
                                         const std::vector<std::string>& closes) {
  simdjson::dom::parser p;
  std::vector<std::int64_t> gaps;
  for (std::size_t i = 0; i + 1 < opens.size() && i < closes.size(); ++i) {
    const std::int64_t closed = std::int64_t(p.parse(closes[i])["at_ns"]);
    gaps.push_back(std::int64_t(p.parse(opens[i + 1])["at_ns"]) - closed);
  }
  return gaps;
}

TEST(Recorder, DropsAndStallsReconnectWithinTheBackoffAndLoseNoFrame) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 2'000, {"drop@1", "stall@2.5", "close@5"}));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.backoff_initial_seconds = 0.2;
  c.backoff_max_seconds = 1;
  c.stale_connection_seconds = 1;
  c.ping_interval_seconds = 0.3;
  c.connect_stagger_seconds = 0;
  RecorderRun run(c);
  // drop, stall (found stale after 1 s), close: four connections in all.
  ASSERT_TRUE(eventually([&] { return run.counter("network", "connects") >= 4; }, 15s));
  std::this_thread::sleep_for(500ms);
  run.stop();
  EXPECT_GE(run.counter("network", "stale_reconnects"), 1u);
  EXPECT_GE(run.counter("network", "pongs"), 1u);

  TruthView truth(sim->truth_json());
  ArchivedStream a(ws_dir(c.out));
  expect_every_connection_archived(truth, a);
  const auto opens = a.sessions("open");
  const auto closes = a.sessions("close");
  EXPECT_EQ(opens.size(), truth.connections());
  EXPECT_EQ(closes.size(), opens.size());  // the last one by the stop
  std::string reasons;
  for (const auto& s : closes) reasons += s + "\n";
  EXPECT_NE(reasons.find("connection lost"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("stale: no market data"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("the venue closed the connection (code 1001"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("shutdown"), std::string::npos) << reasons;

  // Each reconnect came after a backoff within its bounds: at least 0.8 x the first step, at
  // most the maximum plus jitter (and a moment to connect).
  const std::vector<std::int64_t> gaps = reconnect_gaps(opens, closes);
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    EXPECT_GE(gaps[i], static_cast<std::int64_t>(0.8 * 0.2e9)) << i;
    EXPECT_LE(gaps[i], static_cast<std::int64_t>(1.2e9 + 0.5e9)) << i;
  }
}

TEST(Recorder, AQuietFeedIsReconnectedPromptlyEachTimeNotAfterAGrowingBackoff) {
  // Tokens that trade rarely: each connection gets its books, then nothing for longer than the
  // stale limit. The link works, so every stale close is followed by the initial backoff step,
  // not one that doubles each time (which left quiet tokens unrecorded most of the time).
  testing::TempDir dir;
  Sim sim(sim_options(0, 0.1));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.backoff_initial_seconds = 0.2;
  c.backoff_max_seconds = 10;
  c.stale_connection_seconds = 1;
  c.ping_interval_seconds = 0.3;
  c.connect_stagger_seconds = 0;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("network", "connects") >= 5; }, 20s));
  run.stop();
  EXPECT_GE(run.counter("network", "stale_reconnects"), 4u);

  ArchivedStream a(ws_dir(c.out));
  const auto opens = a.sessions("open");
  const auto closes = a.sessions("close");
  ASSERT_GE(opens.size(), 5u);
  const std::vector<std::int64_t> gaps = reconnect_gaps(opens, closes);
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    ASSERT_NE(closes[i].find("stale: no market data"), std::string::npos) << closes[i];
    EXPECT_LE(gaps[i], static_cast<std::int64_t>(1.2 * 0.2e9 + 0.5e9)) << i;
  }
}

// Every tracked token has a live book (the recorder's own count).
bool all_books_live(RecorderRun& run) {
  const std::uint64_t tokens = run.counter("books", "tokens");
  return tokens > 0 && run.counter("books", "live") == tokens;
}

TEST(Recorder, LostPongsEndTheConnectionEvenWhenTheStaleTimerWouldNot) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 1'000, {"stall_silent@1"}));  // no data and no PONG from 1 s on
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.ping_interval_seconds = 0.3;
  c.pong_timeout_seconds = 1;
  c.stale_connection_seconds = 60;
  c.backoff_initial_seconds = 0.2;
  c.connect_stagger_seconds = 0;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("network", "connects") >= 2; }));
  EXPECT_GE(run.counter("network", "pong_timeouts"), 1u);
  EXPECT_EQ(run.counter("network", "stale_reconnects"), 0u);
  run.stop();
  ArchivedStream a(ws_dir(c.out));
  const auto closes = a.sessions("close");
  ASSERT_GE(closes.size(), 2u);
  EXPECT_NE(closes[0].find("no PONG for"), std::string::npos) << closes[0];
  TruthView truth(sim->truth_json());
  expect_every_connection_archived(truth, a);
}

TEST(Recorder, BadFramesAreArchivedRawCountedAndNeverCorruptTheBooks) {
  // Every kind of bad frame the venue could send, in the middle of a live feed: truncated JSON,
  // a binary frame, a 512 KiB frame, an unknown event type, a duplicate, swapped pairs.
  testing::TempDir dir;
  Sim sim(sim_options(8'000, 4'000,
                      {"malformed@0.3", "binary@0.4", "oversized@0.5:524288", "unknown_event@0.6",
                       "duplicate@0.7", "reorder@0.8:5", "malformed@0.9"}));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 4;
  RecorderRun run(c);
  run.wait();

  ASSERT_GE(sim->frames_generated(), 8'000u) << "the run ended before the simulator finished";
  TruthView truth(sim->truth_json());
  for (const char* k : {"malformed", "binary", "oversized", "unknown_event", "duplicate", "reorder"})
    EXPECT_TRUE(truth.has_fault(k)) << k;
  // Archived raw: every frame the simulator sent, the bad ones included, in the order sent.
  ArchivedStream a(ws_dir(c.out));
  expect_every_connection_archived(truth, a);

  // Counted: the replay of the archive classifies them as the live book stage did.
  Replayer replay;
  replay.run({ws_dir(c.out)});
  const auto& kinds = replay.decoder_stats().frames_by_kind;
  EXPECT_EQ(kinds[static_cast<std::size_t>(polymarket::FrameKind::kMalformed)], 2u);
  EXPECT_EQ(kinds[static_cast<std::size_t>(polymarket::FrameKind::kBinary)], 1u);
  EXPECT_EQ(replay.decoder_stats().events_by_type[static_cast<std::size_t>(
                polymarket::EventType::kUnknown)],
            2u);  // the unknown event and the oversized one (valid JSON, unknown type)
  simdjson::dom::parser p;
  simdjson::dom::element m =
      p.load((c.out / "manifests" / "checkpoint_010b_ws_raw_sample.json").string());
  EXPECT_EQ(std::uint64_t(m["websocket"]["parse_errors"]), 2u);
  EXPECT_GE(std::uint64_t(m["websocket"]["unknown"]), 2u);
  EXPECT_EQ(std::uint64_t(m["websocket"]["frames"]), a.frames);

  // Never corrupted: the books equal the simulator's, with no divergence from its best prices.
  EXPECT_EQ(replay.books().totals().divergences, 0u);
  const auto ours = books_by_asset(books_json(replay.books()));
  const auto truth_books = books_by_asset(sim->books_json());
  EXPECT_GE(ours.size(), 4u);
  for (const auto& [id, book] : ours) EXPECT_EQ(book, truth_books.at(id)) << id;
}

TEST(Recorder, RestFailuresAreCountedAndRetriedAndNeverTouchTheWebsocket) {
  // The REST side answers 429, then 500, then slowly (0.8 s): the checkpoints fail, are counted
  // and retried after a doubling wait, then succeed; the websocket is untouched (one
  // connection, every frame archived).
  testing::TempDir dir;
  Sim sim(sim_options(10'000, 2'500, {"rest_429@0.1:1", "rest_500@0.1:1", "rest_slow@0.1:800"}));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.rest_checkpoint_interval_seconds = 0.25;
  c.duration_seconds = 5;
  RecorderRun run(c);
  run.wait();

  TruthView truth(sim->truth_json());
  for (const char* k : {"rest_429", "rest_500", "rest_slow"}) EXPECT_TRUE(truth.has_fault(k)) << k;
  ArchivedStream a(ws_dir(c.out));
  ASSERT_EQ(truth.connections(), 1u);  // never reconnected
  expect_every_connection_archived(truth, a);
  simdjson::dom::parser p;
  simdjson::dom::element m =
      p.load((c.out / "manifests" / "checkpoint_010b_ws_raw_sample.json").string());
  const std::uint64_t failures = m["rest_checkpoints"]["failures"];
  const std::uint64_t ok = m["rest_checkpoints"]["rounds_ok"];
  EXPECT_GE(failures, 2u);  // the 429 and the 500
  EXPECT_GE(ok, 1u);        // and checkpoints succeed again once the venue does
  EXPECT_EQ(std::uint64_t(m["websocket"]["connects"]), 1u);
}

TEST(Recorder, ABoundedRunEndsOnTimeWhileGammaTakesItsTime) {
  // Gamma answers the first discovery, then takes 20 s over the next: a 2 s run does not wait
  // for it (was: the control thread sat in the request until its 15 s timeout).
  testing::TempDir dir;
  Sim sim(sim_options(0, 200, {"gamma_slow@0.5:20000"}));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.discovery_interval_seconds = 0.3;
  c.duration_seconds = 2;
  const auto t0 = std::chrono::steady_clock::now();
  RecorderRun run(c);
  run.wait();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(TruthView(sim->truth_json()).has_fault("gamma_slow"));
  EXPECT_LT(took, 8.0);
}

TEST(Recorder, AnAnswerWithoutTheBooksAskedForIsNotASuccessfulCheckpoint) {
  // 200 [] for every POST /books: no round checks anything, so none counts as successful (the
  // gate needs two), and the missing books are counted.
  testing::TempDir dir;
  Sim sim(sim_options(2'000, 400, {"rest_empty@0:1000"}));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.rest_checkpoint_interval_seconds = 0.2;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("rest", "empty_answers") >= 2; }))
      << run.get().status_json();
  EXPECT_EQ(run.counter("rest", "rounds_ok"), 0u);
  EXPECT_GE(run.counter("rest", "books_missing"), 2 * run.counter("books", "tokens"));
  EXPECT_EQ(run.counter("books", "checkpoint_books"), 0u);
  run.stop();
}

TEST(Recorder, AFrameOverTheSizeLimitIsSkippedAsAStubAndNothingBehindItIsLost) {
  // max_frame_bytes bounds what one frame may make the recorder buffer. Four frames of 1 MiB + 1
  // against a 1 MiB limit, in a stream of 2,000 frames/s: each is read through in chunks without
  // being kept, archived as an oversized_frame stub (its length, SHA-256 and first bytes) in its
  // place in the sequences, and counted; the connection stays up, and every frame sent before
  // and behind them is archived (was: the connection closed and the frames behind it were lost,
  // 13 to 16 at each).
  testing::TempDir dir;
  Sim sim(sim_options(0, 2'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");  // max_frame_bytes: 1 MiB
  c.initial_book_timeout_seconds = 1;  // books left stale by a skipped frame resync quickly
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return all_books_live(run); }));
  FaultSpec big;
  big.kind = "oversized";
  big.bytes = (std::size_t{1} << 20) + 1;
  for (int i = 0; i < 4; ++i) {
    std::string err;
    ASSERT_TRUE(sim->inject(big, err)) << err;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(eventually([&] { return run.counter("network", "oversized_frames") == 4; }))
      << run.get().status_json();
  const std::uint64_t frames = run.counter("network", "frames");
  ASSERT_TRUE(eventually([&] { return run.counter("network", "frames") > frames + 500; }));
  ASSERT_TRUE(eventually([&] { return all_books_live(run); }, std::chrono::seconds(20)))
      << run.get().status_json();
  EXPECT_EQ(run.counter("network", "connects"), 1u);  // never closed for it
  EXPECT_EQ(run.stop(), 0);

  ArchivedStream a(ws_dir(c.out));
  const testing::LossAccounting acc = testing::account_against_truth(sim->truth_json(), a);
  EXPECT_TRUE(acc.exact()) << acc.problems << "sent " << acc.sent << ", archived "
                           << acc.archived << " + " << acc.stubs << " stubs";
  EXPECT_EQ(acc.stubs, 4u);
  EXPECT_EQ(acc.named_lost, 0u);
  EXPECT_TRUE(a.global_contiguous);  // the stubs hold their frames' places
  // Each stub describes the frame the simulator sent: its length, its SHA-256, its first bytes.
  std::string payload = "{\"event_type\":\"sim_oversized\",\"padding\":\"";
  payload.append(big.bytes - payload.size() - 2, 'x');
  payload += "\"}";
  ASSERT_EQ(a.stubs.size(), 4u);
  simdjson::dom::parser p;
  for (const std::string& line : a.stubs) {
    const simdjson::dom::element e = p.parse(line);
    EXPECT_EQ(std::uint64_t(e["payload_length_bytes"]), big.bytes);
    EXPECT_EQ(std::string_view(e["payload_sha256"]), sha256_hex(payload));
    std::string prefix;
    ASSERT_TRUE(base64_decode(std::string_view(e["prefix_base64"]), prefix));
    EXPECT_EQ(prefix, payload.substr(0, 64));
  }
  // Counted in the manifest too.
  std::uint64_t in_manifest = 0;
  std::ifstream m(c.out / "manifests" / "polymarket_ws_raw.manifest.jsonl");
  for (std::string line; std::getline(m, line);) {
    const simdjson::dom::element e = p.parse(line);
    std::uint64_t n = 0;
    if (e["oversized_frames"].get_uint64().get(n) == simdjson::SUCCESS) in_manifest += n;
  }
  EXPECT_EQ(in_manifest, 4u);
}

// A recorder that falls behind an unthrottled simulator whatever the build: the smallest ring,
// so the archive stage's bursts fill it (under ASan the simulator is slow too, and an 8 MiB ring
// never filled).
RecorderConfig behind_config(SimServer& sim, const fs::path& out) {
  RecorderConfig c = config_for(sim, out);
  c.max_frame_bytes = std::size_t{128} << 10;
  c.ring_bytes = std::size_t{1} << 20;
  return c;
}

// A stop while the recorder is behind (the simulator sends as fast as it can; the ring fills):
// the recorder unsubscribes first, ends its side, and reads what the sockets and the venue's
// queue still hold, within stop_grace_seconds. With time enough, nothing is lost: the archive
// equals what the simulator wrote. (Was: the backlog was cut off after 2 s, uncounted.)
TEST(Recorder, AStopWhileBehindUnsubscribesAndDrainsWhatTheSocketsHold) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 0));  // as fast as possible: the recorder cannot keep up
  RecorderConfig c = behind_config(sim.get(), dir.path() / "data");
  c.stop_grace_seconds = 120;  // ample: under ASan the drain took up to 40 s here
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("network", "ring_full_waits") > 0; }, 20s))
      << run.get().status_json();
  EXPECT_EQ(run.stop(), 0);

  ArchivedStream a(ws_dir(c.out));
  const testing::LossAccounting acc = testing::account_against_truth(sim->truth_json(), a);
  EXPECT_TRUE(acc.exact()) << acc.problems << "sent " << acc.sent << ", archived " << acc.archived;
  EXPECT_TRUE(a.losses.empty());
  EXPECT_GT(acc.archived, 20'000u);
}

// The same with a grace too short to read the backlog: the connection is cut off, and the
// bytes still unread in its socket (FIONREAD) are named in a stop_unread loss record; how many
// frames they hold is unknown (null), and the frames read are a gap-free prefix of those sent.
TEST(Recorder, AStopThatCannotDrainInItsGraceNamesTheUnreadBytes) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 0));
  RecorderConfig c = behind_config(sim.get(), dir.path() / "data");
  c.stop_grace_seconds = 0.05;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("network", "ring_full_waits") > 0; }, 20s))
      << run.get().status_json();
  EXPECT_EQ(run.stop(), 3);  // data the venue sent was not read: an unclean archive

  ArchivedStream a(ws_dir(c.out));
  ASSERT_EQ(a.losses.size(), 1u);
  const LossRecord& l = a.losses.front();
  EXPECT_EQ(l.reason, LossReason::kStopUnread);
  EXPECT_FALSE(l.frames.has_value());
  EXPECT_GT(l.unread_bytes.value_or(0), 0u);
  ASSERT_EQ(l.sessions.size(), 1u);
  ASSERT_EQ(a.conns.size(), 1u);
  const auto& [conn, got] = *a.conns.begin();
  EXPECT_EQ(l.sessions[0].connection_sequence, conn);
  EXPECT_EQ(l.sessions[0].first_message_sequence, got.last_message_sequence + 1);
  EXPECT_TRUE(got.contiguous);
  TruthView truth(sim->truth_json());
  EXPECT_LT(got.frames, std::uint64_t(truth.conn(0)["frames"]));
  // The record comes before the session's close record.
  const auto at = [&](std::string_view needle) {
    for (std::size_t i = 0; i < a.records.size(); ++i)
      if (a.records[i].find(needle) != std::string::npos) return i;
    return a.records.size();
  };
  EXPECT_LT(at("\"record\":\"loss\""), at("\"event\":\"close\""));
}

// A token id the venue does not know: resubscribed at once, then less often, and after the third
// try the venue is asked (REST /book answers 404): reported as unknown, counted, and never
// resubscribed again (was: every initial_book_timeout, for ever, unsaid).
TEST(Recorder, ATokenTheVenueDoesNotKnowIsBackedOffThenReportedUnknownNotRetriedForever) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 500));
  HttpClientOptions ho;
  ho.base_url = sim->http_url();
  HttpClient http(ho);
  std::vector<pm::DiscoveredMarket> markets;
  std::size_t skipped = 0;
  std::string error;
  ASSERT_TRUE(pm::parse_gamma(http.get("/markets").body, markets, skipped, error)) << error;
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  for (const auto& m : markets)
    for (const auto& t : m.token_ids) c.assets.push_back(t);
  c.assets.push_back("123");  // no such token
  c.initial_book_timeout_seconds = 0.5;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("books", "unknown_tokens") == 1; }, 20s))
      << run.get().status_json();
  const std::uint64_t resubscribes = run.counter("network", "resubscribes");
  EXPECT_EQ(resubscribes, 2u);  // two tries, then the venue was asked on the third
  std::this_thread::sleep_for(3s);  // six more report periods: nothing more for it
  EXPECT_EQ(run.counter("network", "resubscribes"), resubscribes);
  EXPECT_EQ(run.counter("books", "live"), c.assets.size() - 1);
  run.stop();
}

TEST(Recorder, ATokenWhoseBookNeverCameIsResubscribedOnItsOwn) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 1'000));
  inject_fault(sim.get(), "omit_book", "next");  // the first token of the first subscription
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.initial_book_timeout_seconds = 1;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("network", "resubscribes") >= 1; }))
      << run.get().status_json();
  ASSERT_TRUE(eventually([&] { return all_books_live(run); }));
  EXPECT_GE(run.counter("books", "health_no_book"), 1u);
  EXPECT_EQ(run.counter("network", "connects"), 1u);  // the connection itself was never dropped
  run.stop();

  TruthView truth(sim->truth_json());
  EXPECT_TRUE(truth.has_fault("omit_book"));
  ArchivedStream a(ws_dir(c.out));
  expect_every_connection_archived(truth, a);
}

TEST(Recorder, ARefusedSubscriptionChangeIsRetriedOnAFreshConnection) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 1'000));
  inject_fault(sim.get(), "omit_book", "next");
  inject_fault(sim.get(), "refuse_operation");  // the resubscription's unsubscribe is refused
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.initial_book_timeout_seconds = 1;
  c.backoff_initial_seconds = 0.2;
  c.connect_stagger_seconds = 0;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("network", "invalid_operations") >= 1; }));
  ASSERT_TRUE(eventually([&] {
    return run.counter("network", "connects") >= 2 && all_books_live(run);
  }));
  run.stop();

  TruthView truth(sim->truth_json());
  EXPECT_TRUE(truth.has_fault("refuse_operation"));
  ArchivedStream a(ws_dir(c.out));
  expect_every_connection_archived(truth, a);
  const auto closes = a.sessions("close");
  ASSERT_GE(closes.size(), 2u);
  EXPECT_NE(closes[0].find("INVALID OPERATION"), std::string::npos) << closes[0];
  // The fresh connection subscribed to the whole set again, the refused token included.
  const auto opens = a.sessions("open");
  ASSERT_GE(opens.size(), 2u);
  simdjson::dom::parser p;
  const auto ids = [&](const std::string& rec) {
    std::set<std::string> out;
    for (simdjson::dom::element id : simdjson::dom::array(p.parse(rec)["subscription"]["assets_ids"]))
      out.emplace(std::string_view(id));
    return out;
  };
  EXPECT_EQ(ids(opens[0]), ids(opens[1]));
}

TEST(Recorder, MarketsRollInBeforeTheyOpenAndOutAfterTheyEnd) {
  testing::TempDir dir;
  SimServerOptions so = sim_options(0, 400);
  so.market.window_scale_seconds = 3;  // 3 s BTC 5m windows, 9 s 15m ones
  Sim sim(so);
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.discovery_interval_seconds = 0.3;
  c.subscribe_lead_seconds = 1;
  c.drop_after_end_seconds = 0.5;
  c.market_limit = 0;
  RecorderRun run(c);
  std::this_thread::sleep_for(8s);
  // The rolled-off markets' books leave the status counts (they counted as live forever).
  {
    simdjson::dom::parser sp;
    const std::string status = run.get().status_json();
    const simdjson::dom::element b = sp.parse(status)["books"];
    const std::uint64_t tokens = b["tokens"], dropped = b["dropped"];
    EXPECT_GE(dropped, 2u) << status;  // both tokens of at least one ended window
    EXPECT_EQ(std::uint64_t(b["live"]) + std::uint64_t(b["stale"]) + std::uint64_t(b["awaiting"]),
              tokens)
        << status;
  }
  run.stop();

  ArchivedStream a(ws_dir(c.out));
  // One connection, changed by operations as windows came and went.
  EXPECT_EQ(a.sessions("open").size(), 1u);
  const auto updates = a.sessions("subscription");
  ASSERT_GE(updates.size(), 3u);
  // Every BTC 5m window of the run was subscribed at some point, and the early ones left.
  std::set<std::string> slugs_seen;
  simdjson::dom::parser p;
  for (const auto& s : a.sessions("open")) {
    for (simdjson::dom::element t : simdjson::dom::array(p.parse(s)["tokens_tracked"]))
      slugs_seen.insert(std::string(std::string_view(t["market_slug"])));
  }
  std::vector<std::string> last_assets;
  for (const auto& s : updates) {
    simdjson::dom::element e = p.parse(s);
    for (simdjson::dom::element t : simdjson::dom::array(e["tokens_tracked"]))
      slugs_seen.insert(std::string(std::string_view(t["market_slug"])));
  }
  std::size_t btc5 = 0;
  for (const auto& s : slugs_seen) btc5 += s.starts_with("btc-updown-5m-");
  EXPECT_GE(btc5, 3u);
  simdjson::dom::element last = p.parse(updates.back());
  const std::size_t carried = simdjson::dom::array(last["subscription"]["assets_ids"]).size();
  EXPECT_LT(carried, 2 * slugs_seen.size());  // ended markets were dropped
  EXPECT_TRUE(fs::exists(c.out / "discovery" / "polymarket_btc_markets_latest.json"));
}

TEST(Recorder, RestCheckpointsAreArchivedWithoutSecretsAndAgreeUntilTheDataIsAltered) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 1'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.rest_checkpoint_interval_seconds = 0.4;
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("books", "checkpoint_agree") >= 8; }));
  EXPECT_EQ(run.counter("books", "checkpoint_diverge"), 0u);
  std::string err;
  FaultSpec alter;
  alter.kind = "rest_alter";
  ASSERT_TRUE(sim->inject(alter, err)) << err;
  ASSERT_TRUE(eventually([&] { return run.counter("books", "checkpoint_diverge") >= 1; }));
  run.stop();

  // Read the REST archive as plain gzip text: every line one JSON checkpoint.
  std::vector<std::string> errors;
  std::size_t lines = 0;
  for (const fs::path& f : ArchiveReader::expand({rest_dir(c.out)}, errors)) {
    std::ifstream in(f, std::ios::binary);
    const std::string gz((std::istreambuf_iterator<char>(in)), {});
    std::string text;
    const InflateOutcome out = inflate_gzip(reinterpret_cast<const std::uint8_t*>(gz.data()), gz.size(),
                                            [&](std::string_view chunk) {
                                              text.append(chunk);
                                              return true;
                                            });
    ASSERT_EQ(out.status, InflateOutcome::Status::kOk) << f;
    EXPECT_EQ(text.find("Set-Cookie"), std::string::npos);
    EXPECT_EQ(text.find("set-cookie"), std::string::npos);
    EXPECT_EQ(text.find("this-header-must-not-be-archived"), std::string::npos);
    EXPECT_EQ(text.find("CF-RAY"), std::string::npos);
    simdjson::dom::parser p;
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t nl = text.find('\n', at);
      const std::string line = text.substr(at, nl - at);
      at = nl + 1;
      simdjson::dom::element e;
      ASSERT_EQ(p.parse(line).get(e), simdjson::SUCCESS) << line.substr(0, 200);
      if (std::string_view(e["record"]) != "rest_checkpoint") continue;
      ++lines;
      EXPECT_EQ(std::string_view(e["request"]["method"]), "POST");
      EXPECT_EQ(std::int64_t(e["response"]["status"]), 200);
      EXPECT_TRUE(e["response"]["raw_response_json"].is_array());
      EXPECT_TRUE(e["response"]["headers"]["content-type"].is_string());
      // The sim repeats Vary: one key, both values.
      EXPECT_EQ(line.find("\"vary\":"), line.rfind("\"vary\":")) << line.substr(0, 400);
      EXPECT_EQ(std::string_view(e["response"]["headers"]["vary"]), "Accept-Encoding, Origin");
    }
  }
  EXPECT_GE(lines, 3u);
}

TEST(Recorder, StopLeavesNoOpenFileAndManifestsThatVerify) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 3'000));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.rest_checkpoint_interval_seconds = 0.3;
  c.max_file_bytes = 64 << 10;  // several files per stream
  RecorderRun run(c);
  ASSERT_TRUE(eventually([&] { return run.counter("archive", "files_closed") >= 3; }));
  EXPECT_EQ(run.stop(), 0);
  EXPECT_FALSE(any_open_file(c.out));
  EXPECT_GE(verify_manifests(c.out), 4u);
  ArchivedStream a(ws_dir(c.out));
  EXPECT_EQ(a.frames, run.counter("network", "frames"));
  EXPECT_TRUE(a.global_contiguous);
}

TEST(Recorder, TheFirstRestCheckpointFollowsTheFirstSubscriptionNotAFullInterval) {
  testing::TempDir dir;
  Sim sim(sim_options(0, 500));
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.rest_checkpoint_interval_seconds = 30;  // the default
  RecorderRun run(c);
  // The REST thread starts before anything is subscribed; its first round must not wait 30 s.
  EXPECT_TRUE(eventually([&] { return run.counter("rest", "rounds_ok") >= 1; }));
  EXPECT_EQ(run.stop(), 0);
}

TEST(Recorder, AnUnreachableVenueFailsToStartWithExitCode2) {
  testing::TempDir dir;
  RecorderConfig c;
  c.out = dir.path() / "data";
  c.status = "off";
  c.gamma_url = "http://127.0.0.1:1";  // nothing listens on port 1
  c.duration_seconds = 5;
  Recorder rec(c);
  EXPECT_EQ(rec.run(), 2);
}

// Tick size changes with no snapshot after them (the venue promises none): the recorder keeps
// each book, the venue's next best prices confirm it, and the archive replays to the
// simulator's books, each live or unconfirmed, none emptied (docs/BOOKS.md).
TEST(Recorder, BooksKeptAcrossTickChangesWithoutSnapshotsReplayToTheSimulatorsBooks) {
  testing::TempDir dir;
  SimServerOptions so = sim_options(12'000, 6'000);
  so.market.jump_per_mille = 40;
  so.market.tick_snapshot_percent = 0;
  Sim sim(so);
  RecorderConfig c = config_for(sim.get(), dir.path() / "data");
  c.duration_seconds = 4;
  c.rest_checkpoint_interval_seconds = 0.5;
  RecorderRun run(c);
  ASSERT_EQ(run.wait(), 0);
  ASSERT_GE(sim->frames_generated(), 12'000u) << "the run ended before the simulator finished";
  EXPECT_EQ(run.get().gate(), "WS_RAW_SAMPLE_PASS");

  Replayer replayer;
  replayer.run({ws_dir(c.out)});
  const KeeperTotals& k = replayer.books().totals();
  EXPECT_GT(k.tick_size_changes, 10u);
  EXPECT_GT(k.confirmations, 5u);
  EXPECT_EQ(k.disagreements, 0u);
  EXPECT_EQ(k.divergences, 0u);
  std::printf("tick size changes %llu, confirmations %llu, changes applied %llu\n",
              static_cast<unsigned long long>(k.tick_size_changes),
              static_cast<unsigned long long>(k.confirmations),
              static_cast<unsigned long long>(k.changes_applied));
  const auto ours = books_by_asset(books_json(replayer.books()));
  const auto truth_books = books_by_asset(sim->books_json());
  EXPECT_GE(ours.size(), 4u);
  for (const auto& [id, book] : ours) {
    EXPECT_EQ(book, truth_books.at(id)) << id;
    const BookState st = replayer.books().book(replayer.books().find(id)).state;
    EXPECT_TRUE(st == BookState::kLive || st == BookState::kUnconfirmed) << id << " " << to_string(st);
  }
}

}  // namespace
}  // namespace booktape
