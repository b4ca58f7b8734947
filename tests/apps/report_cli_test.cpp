// The real `booktape report` on a data root written by the real writer with known facts: two
// runs (the first killed), a lost connection and the time it cost, REST answers of every kind,
// an upload, a loss record. Every number checked; the SVG plots are well-formed XML.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>

#include "codecs/sha256.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/upload_manifest.hpp"
#include "io/archive/writer.hpp"
#include "tests/apps/cli_run.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::booktape;
using testing::CliResult;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;  // 2025-11-21T05:34:12Z
constexpr UnixNanos kS = 1'000'000'000;

std::string rest_line(UnixNanos at, const std::string& response_or_error) {
  return "{\"record\":\"rest_checkpoint\",\"requested_at_utc\":\"" + format_utc(at) +
         "\",\"requested_at_ns\":" + std::to_string(at) +
         ",\"checkpoint\":1,\"chunk\":0,\"request\":{\"method\":\"POST\",\"url\":\"http://x/books\","
         "\"body\":[]}," + response_or_error + "}\n";
}

// Run 1: frames 0..10 s, its connection lost at 4 s ("network error") and back at 6 s; killed
// (no close record) after its last frame at 10 s. Run 2: 20 s .. 30 s, stopped cleanly.
void write_root(const fs::path& root) {
  testing::StreamGen gen(8, 4);
  {
    ArchiveWriterOptions o;
    o.root = root;
    o.run_id = "20251121T053412Z-00000001";
    ArchiveWriter w(o);
    testing::FrameWriter c1(w, o.run_id + "-c1", 1);
    c1.open(kT0, gen.ids());
    for (std::size_t i = 0; i < 4; ++i) c1.write(gen.snapshot(i), kT0 + 1);
    for (int i = 0; i < 40; ++i) c1.write(gen.price_change(), kT0 + i * kS / 10);
    w.close_session(c1.session(), kT0 + 4 * kS, "network error");
    testing::FrameWriter c2(w, o.run_id + "-c2", 2);
    c2.skip_global(c1.sent().size());
    c2.open(kT0 + 6 * kS, gen.ids());
    for (int i = 0; i < 40; ++i) c2.write(gen.price_change(), kT0 + 6 * kS + i * kS / 10);
    w.append_record(kT0 + 9 * kS, 0,
                    "{\"record\":\"loss\",\"run_id\":\"" + o.run_id +
                        "\",\"reason\":\"disk_full\",\"at_ns\":" + std::to_string(kT0 + 9 * kS) +
                        ",\"frames\":7,\"first_global_message_sequence\":null,"
                        "\"last_global_message_sequence\":null,\"sessions\":[]}\n");
    w.close();  // sealed, but no session close: a kill
  }
  {
    ArchiveWriterOptions o;
    o.root = root;
    o.run_id = "20251121T053432Z-00000002";
    ArchiveWriter w(o);
    testing::FrameWriter c1(w, o.run_id + "-c1", 1);
    c1.open(kT0 + 20 * kS, gen.ids());
    for (std::size_t i = 0; i < 4; ++i) c1.write(gen.snapshot(i), kT0 + 20 * kS + 1);
    for (int i = 0; i < 100; ++i) c1.write(gen.price_change(), kT0 + 20 * kS + i * kS / 10);
    w.close_session(c1.session(), kT0 + 30 * kS, "shutdown");
    w.close();
  }
  {
    ArchiveWriterOptions o;
    o.root = root;
    o.stream = "rest_checkpoints";
    o.run_id = "20251121T053412Z-00000001";
    ArchiveWriter w(o);
    w.append_record(kT0 + 1 * kS, 0, rest_line(kT0 + 1 * kS, "\"response\":{\"status\":200},\"error\":null"));
    w.append_record(kT0 + 2 * kS, 0, rest_line(kT0 + 2 * kS, "\"response\":{\"status\":429},\"error\":null"));
    w.append_record(kT0 + 3 * kS, 0, rest_line(kT0 + 3 * kS, "\"response\":{\"status\":500},\"error\":null"));
    w.append_record(kT0 + 25 * kS, 0, rest_line(kT0 + 25 * kS, "\"response\":null,\"error\":\"connect: Connection refused\""));
    w.close();
  }
}

TEST(ReportCli, EveryNumberOfTheSoakReportComesFromTheArchive) {
  testing::TempDir dir;
  write_root(dir.path());
  // One file uploaded.
  {
    std::vector<std::string> files;
    for (const auto& f : testing::files_under(dir.path() / "raw_orderbooks", ".jsonl.gz")) files.push_back(f);
    ASSERT_FALSE(files.empty());
    UploadRecord u;
    u.path = manifest_path_of(files[0], dir.path());
    u.sha256 = sha256_hex(testing::read_file(files[0]));
    u.bytes = 10;
    u.verified_at = kT0 + 40 * kS;
    ASSERT_EQ(append_line(upload_manifest_path(dir.path()), render_upload_line(u), false), "");
  }
  const CliResult r = booktape("report --json " + dir.path().string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::size_t json_at = r.out.find('{');
  ASSERT_NE(json_at, std::string::npos) << r.out;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(r.out.substr(json_at)).get(e), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::uint64_t(e["frames"]), 4u + 40 + 40 + 4 + 100);
  EXPECT_EQ(std::uint64_t(e["runs"]), 2u);
  EXPECT_EQ(std::uint64_t(e["restarts"]), 1u);
  EXPECT_EQ(std::uint64_t(e["crashes"]), 1u);
  EXPECT_EQ(std::uint64_t(e["connections"]), 3u);
  EXPECT_EQ(std::uint64_t(e["connection_losses"]), 1u);
  EXPECT_EQ(std::uint64_t(e["close_reasons"]["network error"]), 1u);
  // 4 s .. 6 s (the lost connection) and 9.9 s (run 1's last frame) .. 20 s (run 2's start).
  EXPECT_NEAR(double(e["missed_seconds"]), 2.0 + 10.1, 0.001);
  EXPECT_EQ(simdjson::dom::array(e["downtime"]).size(), 2u);
  EXPECT_NEAR(double(e["period_seconds"]), 30.0, 0.001);
  EXPECT_EQ(std::uint64_t(e["assets"]), 4u);
  EXPECT_EQ(std::uint64_t(e["rest"]["requests"]), 4u);
  EXPECT_EQ(std::uint64_t(e["rest"]["ok"]), 1u);
  EXPECT_EQ(std::uint64_t(e["rest"]["rate_limited"]), 1u);
  EXPECT_EQ(std::uint64_t(e["rest"]["http_errors"]), 1u);
  EXPECT_EQ(std::uint64_t(e["rest"]["transport_errors"]), 1u);
  EXPECT_EQ(std::uint64_t(e["ws_raw_files"]["files"]), 2u);
  EXPECT_GT(double(e["compression_ratio"]), 2.0);
  EXPECT_EQ(std::uint64_t(e["upload"]["uploaded_files"]), 1u);
  EXPECT_EQ(std::uint64_t(e["upload"]["not_uploaded"]), 2u);  // the other ws file and the REST file
  EXPECT_EQ(std::uint64_t(e["quality"]["loss_records"]), 1u);
  EXPECT_EQ(std::uint64_t(e["quality"]["frames_lost"]), 7u);
  EXPECT_EQ(std::uint64_t(e["quality"]["divergences"]), 0u);
  EXPECT_GT(std::uint64_t(e["quality"]["checks"]), 0u);
  EXPECT_EQ(std::uint64_t(e["quality"]["epochs"]), 8u);
  EXPECT_GT(simdjson::dom::array(e["frames_per_second"]).size(), 10u);
  EXPECT_GT(simdjson::dom::array(e["findings"]).size(), 0u);

  // The files: markdown naming the plots, JSON, and three SVGs any XML parser reads.
  const fs::path reports = dir.path() / "reports";
  const std::string md = testing::read_file((reports / "soak_test_2025-11-21.md").string());
  EXPECT_NE(md.find("| uptime (a connection open) |"), std::string::npos) << md;
  EXPECT_NE(md.find("soak_test_2025-11-21_frames.svg"), std::string::npos);
  for (const char* svg : {"frames", "reconnects", "disk"}) {
    const fs::path f = reports / ("soak_test_2025-11-21_" + std::string(svg) + ".svg");
    const CliResult py = testing::shell("/usr/bin/python3 -c \"import xml.etree.ElementTree as E; E.parse('" +
                                            f.string() + "'); print('ok')\"");
    EXPECT_EQ(py.status, 0) << f;
    EXPECT_EQ(py.out, "ok\n") << f;
  }

  // --since: only run 2 counts.
  const CliResult since = booktape("report --json --out " + (dir.path() / "r2").string() + " " +
                                   dir.path().string() + " --since " + std::to_string(kT0 + 15 * kS));
  ASSERT_EQ(since.status, 0) << since.out;
  simdjson::dom::parser p2;
  simdjson::dom::element e2;
  ASSERT_EQ(p2.parse(since.out.substr(since.out.find('{'))).get(e2), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(e2["frames"]), 104u);
  EXPECT_EQ(std::uint64_t(e2["runs"]), 1u);
  EXPECT_EQ(std::uint64_t(e2["rest"]["requests"]), 1u);
}

TEST(ReportCli, BadArgumentsExitTwo) {
  testing::TempDir dir;
  EXPECT_EQ(booktape("report " + dir.path().string() + " 2>/dev/null").status, 2);
  write_root(dir.path());
  EXPECT_EQ(booktape("report " + dir.path().string() + " --since soon 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("report 2>/dev/null").status, 2);
}

}  // namespace
}  // namespace booktape
