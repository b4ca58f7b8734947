// The bounded run's gate (io/record/run_report.hpp): what it asks of a run, and that it says
// the numbers. Each case starts from a run that passes and breaks one thing.
#include "io/record/run_report.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/latency_histogram.hpp"

namespace booktape {
namespace {

ManifestEntry ws_file(std::uint64_t frames) {
  ManifestEntry e;
  e.path = "raw_orderbooks/polymarket/ws_raw/date=2026-11-21/hour=05/x.jsonl.gz";
  e.sha256 = std::string(64, 'a');
  e.frames = frames;
  return e;
}

RunFacts passing() {
  RunFacts f;
  f.bounded = true;
  f.markets.push_back(RunMarket{"btc-updown-5m-1", "0xc", "1", "2", "2026-11-21T05:40:00Z"});
  f.connects = 1;
  f.frames = 5'050;
  f.market_events = 5'000;
  f.rest_enabled = true;
  f.rest_interval_seconds = 30;
  f.rest_rounds_ok = 2;
  f.files.push_back(ws_file(5'050));
  f.ws_files = 1;
  f.frames_sealed = 5'050;
  return f;
}

std::string reasons(const Gate& g) {
  std::string s;
  for (const std::string& r : g.reasons) s += r + "\n";
  return s;
}

TEST(RunGate, PassesWhenEveryFrameReceivedIsInASealedWebsocketFile) {
  const RunFacts f = passing();
  const Gate g = evaluate_gate(f);
  EXPECT_TRUE(g.pass) << reasons(g);
  EXPECT_TRUE(f.archive_clean());
  EXPECT_EQ(accounting_text(f), "5050 frames received, 5050 in sealed websocket files, 0 named lost");
}

TEST(RunGate, FramesInNoSealedFileAndNoLossRecordFailItWithTheNumbers) {
  RunFacts f = passing();
  f.frames_sealed = 0;  // the deleted hour folder: 5,049 received, 0 archived
  f.files.clear();
  f.ws_files = 0;
  const Gate g = evaluate_gate(f);
  EXPECT_FALSE(g.pass);
  EXPECT_NE(reasons(g).find("5050 frames received, 0 in sealed websocket files, 0 named lost, "
                            "5050 unaccounted: 5050 frame(s) are in no sealed file"),
            std::string::npos)
      << reasons(g);
  EXPECT_FALSE(f.archive_clean());
}

TEST(RunGate, ARestFileAloneIsNoArchiveOfTheStream) {
  RunFacts f = passing();
  f.ws_files = 0;  // the websocket file was never sealed; a REST file was
  f.files[0].path = "raw_orderbooks/polymarket/rest_checkpoints/x.jsonl.gz";
  EXPECT_NE(reasons(evaluate_gate(f)).find("no websocket archive file was closed"),
            std::string::npos);
}

TEST(RunGate, NamedLossesWriteErrorsAndUnsealedFilesEachNeedReview) {
  RunFacts f = passing();
  f.frames_sealed = 1'676;
  f.frames_lost = 3'374;
  LossRecord l;
  l.reason = LossReason::kMemoryBound;
  l.frames = 3'374;
  f.losses.push_back(l);
  f.write_errors = 12;
  f.unsealed_files = 1;
  const Gate g = evaluate_gate(f);
  const std::string r = reasons(g);
  EXPECT_FALSE(g.pass);
  EXPECT_EQ(f.unaccounted(), 0u);  // every frame accounted for, but not every one kept
  EXPECT_NE(r.find("1 loss record(s): 3374 frame(s) lost"), std::string::npos) << r;
  EXPECT_NE(r.find("12 archive write error(s)"), std::string::npos) << r;
  EXPECT_NE(r.find("1 file(s) of this run left unsealed"), std::string::npos) << r;
  EXPECT_FALSE(f.archive_clean());
  const std::string report = run_report_markdown(f, g);
  EXPECT_NE(report.find("5050 frames received, 1676 in sealed websocket files, 3374 named lost"),
            std::string::npos)
      << report;
}

TEST(RunGate, AShortRunIsToldHowToPassTheRestCheckpointRule) {
  RunFacts f = passing();
  f.rest_rounds_ok = 1;
  EXPECT_NE(reasons(evaluate_gate(f))
                .find("two are required; to pass, run at least twice the REST interval (60 s "
                      "here) or lower it (--rest-checkpoint-interval-seconds)"),
            std::string::npos)
      << reasons(evaluate_gate(f));
}

TEST(RunGate, TheReportPrintsLatenciesForPeople) {
  RunFacts f = passing();
  LatencyHistogram h;
  EXPECT_EQ(h.summary_text(), "-");  // no samples: a dash, never "0.0 us"
  for (int i = 0; i < 100; ++i) h.record(20'000);
  h.record(3'000'000);
  f.read_to_book_text = h.summary_text();
  f.read_to_archive_text = "-";
  const std::string report = run_report_markdown(f, evaluate_gate(f));
  EXPECT_NE(report.find("latency read to book: p50 20."), std::string::npos) << report;
  EXPECT_NE(report.find("µs"), std::string::npos) << report;
  EXPECT_NE(report.find("max 3."), std::string::npos) << report;
  EXPECT_NE(report.find(" ms (n=101)"), std::string::npos) << report;
  EXPECT_NE(report.find("latency read to archive: -"), std::string::npos) << report;
}

}  // namespace
}  // namespace booktape
