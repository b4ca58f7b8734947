// scripts/measure-footprint.sh, the source of docs/DEPLOY.md's sizing numbers: a short run of the
// real recorder against the real simulator gives a JSON object whose numbers add up (bytes per
// frame is the manifests' bytes over their frames), and bad arguments exit 2.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/deploy/deploy_support.hpp"

namespace booktape {
namespace {

const std::string kScript =
    testing::shell_quote((testing::kSourceDir / "scripts/measure-footprint.sh").string());

TEST(MeasureFootprint, AShortRunGivesNumbersThatAddUp) {
  const testing::CommandResult r =
      testing::run_command(kScript + " --seconds 5 --rate 200 --markets 2 --binary " +
                           testing::shell_quote(BOOKTAPE_BINARY));
  ASSERT_EQ(r.code, 0) << r.output;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_EQ(parser.parse(r.output).get(e), simdjson::SUCCESS) << r.output;
  const auto number = [&](const char* key) {
    double v = -1;
    EXPECT_EQ(e[key].get_double().get(v), simdjson::SUCCESS) << key << " in " << r.output;
    return v;
  };
  const double frames = number("frames");
  const double bytes = number("ws_raw_bytes");
  EXPECT_GT(frames, 0);
  EXPECT_GT(bytes, 0);
  EXPECT_NEAR(number("bytes_per_frame"), bytes / frames, 0.1);
  EXPECT_NEAR(number("frames_per_second"), frames / 5, 0.1);
  EXPECT_NEAR(number("ws_raw_bytes_per_hour"), bytes / 5 * 3600, 1);
  EXPECT_GT(number("tokens"), 0);
  EXPECT_GT(number("cpu_seconds"), 0);
  EXPECT_GT(number("peak_rss_mib"), 1);
}

TEST(MeasureFootprint, BadArgumentsExit2) {
  for (const char* args : {"--rate fast", "--frobnicate", "--config /nonexistent.yaml"}) {
    const testing::CommandResult r = testing::run_command(kScript + " " + args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("measure-footprint: "), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace booktape
