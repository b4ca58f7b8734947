// The real `booktape verify` binary on archives written by the real writer: exit codes, the JSON
// report, the human summary, and bad arguments.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>

#include "io/archive/writer.hpp"
#include "tests/apps/cli_run.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using testing::booktape;
using testing::CliResult;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;

struct Root {
  testing::TempDir dir;
  std::vector<ManifestEntry> files;
  Root() {
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.block_bytes = 4 << 10;
    o.max_file_bytes = 24 << 10;
    ArchiveWriter w(o);
    testing::FrameWriter fw(w, "s-1", 1);
    fw.open(kT0);
    testing::StreamGen gen(7, 4);
    for (int i = 0; i < 1'000; ++i) fw.write(gen.price_change(), kT0 + i * 1'000'000);
    w.close();
    files = w.closed_files();
  }
};

TEST(VerifyCli, AnIntactRootExitsZeroWithAJsonReport) {
  Root r;
  const std::string report = (r.dir.path() / "verify.json").string();
  const CliResult res = booktape("verify --json --report " + report + " " + r.dir.path().string());
  ASSERT_EQ(res.status, 0) << res.out;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_EQ(parser.parse(res.out).get(e), simdjson::SUCCESS) << res.out;
  EXPECT_TRUE(bool(e["ok"]));
  EXPECT_EQ(std::uint64_t(e["files"]["ok"]), r.files.size());
  EXPECT_EQ(std::uint64_t(e["roots"].at(0)["runs"].at(0)["last_global_message_sequence"]), 1'000u);
  EXPECT_EQ(testing::read_file(report), res.out);
}

TEST(VerifyCli, ADamagedFileExitsOneAndIsNamedWithItsLabel) {
  Root r;
  ASSERT_GE(r.files.size(), 2u);
  const auto victim = r.dir.path() / r.files[1].path;
  const std::string bytes = testing::read_file(victim.string());
  {
    std::ofstream out(victim, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  const CliResult res = booktape("verify " + r.dir.path().string());
  EXPECT_EQ(res.status, 1) << res.out;
  EXPECT_NE(res.out.find("invalid"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find(r.files[1].path), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("labelled invalid"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("verify: FAILED"), std::string::npos) << res.out;
  EXPECT_EQ(testing::read_file(victim.string()).size(), bytes.size() / 2) << "never changed";
}

TEST(VerifyCli, BadArgumentsExitTwoAndSayWhatIsExpected) {
  testing::TempDir empty;
  EXPECT_EQ(booktape("verify /nonexistent/root 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("verify " + empty.path().string() + " 2>/dev/null").status, 2);
  EXPECT_EQ(booktape("verify 2>/dev/null").status, 2);
  const CliResult help = booktape("verify --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--no-label"), std::string::npos);
}

}  // namespace
}  // namespace booktape
