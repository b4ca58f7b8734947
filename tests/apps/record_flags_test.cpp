// `booktape record`'s command line: flags over the --config file over the defaults.
#include "apps/record_flags.hpp"

#include <gtest/gtest.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace booktape::apps {
namespace {

namespace fs = std::filesystem;

// Parses `args` (no program name) as `booktape record` would and builds the effective config.
RecorderConfig config_from(std::vector<std::string> args) {
  CLI::App app{"record"};
  const std::shared_ptr<RecordFlags> flags = add_record_flags(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector last argument first
  app.parse(args);
  return effective_config(*flags);
}

// The ConfigError message for `args`, or "" when they are accepted.
std::string error_from(std::vector<std::string> args) {
  try {
    config_from(std::move(args));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

fs::path write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return path;
}

TEST(RecordFlags, NoFlagsGiveTheDefaults) {
  EXPECT_EQ(to_yaml(config_from({})), to_yaml(RecorderConfig{}));
}

TEST(RecordFlags, FlagsOverrideTheFileWhichOverridesTheDefaults) {
  booktape::testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "r.yaml",
                                   "market_limit: 5\n"
                                   "duration_seconds: 100\n"
                                   "rest_checkpoint_interval_seconds: 10\n"
                                   "gzip_level: 6\n"
                                   "out: from-file\n");
  const RecorderConfig c = config_from({"--config", file.string(), "--market-limit", "2",
                                        "--rest-checkpoint-interval-seconds", "0"});
  EXPECT_EQ(c.market_limit, 2);                      // flag
  EXPECT_EQ(c.rest_checkpoint_interval_seconds, 0);  // flag equal to "off" still wins
  EXPECT_EQ(c.duration_seconds, 100);                // file
  EXPECT_EQ(c.gzip_level, 6);                        // file
  EXPECT_EQ(c.out, "from-file");                     // file
  EXPECT_EQ(c.rest_batch, 500);                      // default
}

TEST(RecordFlags, EveryFlagSetsItsSetting) {
  booktape::testing::TempDir dir;
  const fs::path ca = write_file(dir.path() / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  // clang-format off
  const RecorderConfig c = config_from(
      {"--market-limit", "3", "--duration-seconds", "150", "--rest-checkpoint-interval-seconds",
       "30.5", "--out", "/nonexistent/booktape-out", "--ws-url", "ws://127.0.0.1:1/ws/market", "--rest-url",
       "http://127.0.0.1:2", "--gamma-url", "https://127.0.0.1:3", "--ca-file", ca.string(),
       "--series", "eth-up-or-down-5m", "--cpus", "1,0,0", "--wait", "busy-spin", "--envelope",
       "full", "--fsync", "block", "--gzip-level", "9", "--assets-per-connection", "50",
       "--status", "log"});
  // clang-format on
  EXPECT_EQ(c.market_limit, 3);
  EXPECT_EQ(c.duration_seconds, 150);
  EXPECT_EQ(c.rest_checkpoint_interval_seconds, 30.5);
  EXPECT_EQ(c.out, "/nonexistent/booktape-out");
  EXPECT_EQ(c.ws_url, "ws://127.0.0.1:1/ws/market");
  EXPECT_EQ(c.rest_url, "http://127.0.0.1:2");
  EXPECT_EQ(c.gamma_url, "https://127.0.0.1:3");
  EXPECT_EQ(c.ca_file, ca);
  EXPECT_EQ(c.series, std::vector<std::string>{"eth-up-or-down-5m"});
  EXPECT_EQ(c.cpus, (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(c.wait, WaitMode::kBusySpin);
  EXPECT_EQ(c.envelope, EnvelopeMode::kFull);
  EXPECT_EQ(c.fsync, FsyncPolicy::kEveryBlock);
  EXPECT_EQ(c.gzip_level, 9);
  EXPECT_EQ(c.assets_per_connection, 50);
  EXPECT_EQ(c.status, "log");
}

TEST(RecordFlags, TheConsumerFlagsSetTheirSettings) {
  const RecorderConfig c = config_from(
      {"--shm", "books", "--redis", "redis://:pw@127.0.0.1:6380/2", "--alert", "bid>=0.70",
       "--alert", "stale>10s", "--alert-webhook", "https://example.com/hook", "--alert-command",
       "  /usr/bin/logger -t  booktape ", "--books-only"});
  EXPECT_EQ(c.shm, "books");
  EXPECT_EQ(c.redis_url, "redis://:pw@127.0.0.1:6380/2");
  EXPECT_EQ(c.alerts, (std::vector<std::string>{"bid>=0.70", "stale>10s"}));
  EXPECT_EQ(c.alert_webhook, "https://example.com/hook");
  // Split at spaces into argv: no shell.
  EXPECT_EQ(c.alert_command, (std::vector<std::string>{"/usr/bin/logger", "-t", "booktape"}));
  EXPECT_TRUE(c.books_only);
  EXPECT_FALSE(config_from({}).books_only);
}

TEST(RecordFlags, AssetIsRepeatableAndTakesCommaLists) {
  const RecorderConfig c = config_from({"--asset", "111", "--asset", "222", "--asset", "333,444"});
  EXPECT_EQ(c.assets, (std::vector<std::string>{"111", "222", "333", "444"}));
  EXPECT_TRUE(c.series.empty()) << "explicit tokens replace the default series";
  const RecorderConfig s = config_from({"--series", "a", "--series", "b,c"});
  EXPECT_EQ(s.series, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(RecordFlags, ChoosingWhatToRecordReplacesTheFilesChoice) {
  booktape::testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "r.yaml", "all_active: true\nmarket_limit: 4\n");
  const RecorderConfig c = config_from({"--config", file.string(), "--asset", "42"});
  EXPECT_FALSE(c.all_active);
  EXPECT_EQ(c.assets, std::vector<std::string>{"42"});
  EXPECT_EQ(c.market_limit, 4);

  const fs::path ids = write_file(dir.path() / "ids.txt", "7\n8\n");
  const fs::path with_assets = write_file(dir.path() / "a.yaml", "assets: [\"1\"]\n");
  const RecorderConfig a = config_from({"--config", with_assets.string(), "--all-active"});
  EXPECT_TRUE(a.all_active);
  EXPECT_TRUE(a.assets.empty());
  const RecorderConfig f =
      config_from({"--config", with_assets.string(), "--assets-file", ids.string()});
  EXPECT_EQ(f.assets_file, ids);
  EXPECT_TRUE(f.assets.empty());

  EXPECT_NE(error_from({"--asset", "1", "--all-active"}).find("all_active"), std::string::npos);
}

TEST(RecordFlags, CpusAreThreeCommaSeparatedNumbers) {
  EXPECT_EQ(config_from({"--cpus", "0,1,1"}).cpus, (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(config_from({"--cpus", " 1, 0 ,1"}).cpus, (std::vector<int>{1, 0, 1}));
  EXPECT_NE(error_from({"--cpus", "0,1"}).find("--cpus"), std::string::npos);
  EXPECT_NE(error_from({"--cpus", "0,1,2,3"}).find("--cpus"), std::string::npos);
  EXPECT_NE(error_from({"--cpus", "0,,1"}).find("--cpus"), std::string::npos);
  EXPECT_NE(error_from({"--cpus", "a,b,c"}).find("--cpus"), std::string::npos);
  EXPECT_NE(error_from({"--cpus", "0,1,1024"}).find("1024"), std::string::npos);
  EXPECT_NE(error_from({"--cpus", "0,1,-1"}).find("--cpus"), std::string::npos);

  booktape::testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "r.yaml", "cpus: [1, 2, 3]\n");
  EXPECT_TRUE(config_from({"--config", file.string(), "--cpus", "none"}).cpus.empty());
}

TEST(RecordFlags, BadEnumValuesAreErrorsNamingTheFlag) {
  EXPECT_NE(error_from({"--wait", "sleep"}).find("--wait"), std::string::npos);
  EXPECT_NE(error_from({"--envelope", "seed"}).find("--envelope"), std::string::npos);
  EXPECT_NE(error_from({"--fsync", "always"}).find("--fsync"), std::string::npos);
  EXPECT_NE(error_from({"--status", "quiet"}).find("--status"), std::string::npos);
  EXPECT_EQ(config_from({"--fsync", "none"}).fsync, FsyncPolicy::kNone);
  EXPECT_EQ(config_from({"--status", "off"}).status, "off");
}

TEST(RecordFlags, OutOfRangeValuesFailValidation) {
  const std::string e = error_from({"--gzip-level", "13", "--assets-per-connection", "0"});
  EXPECT_NE(e.find("gzip_level"), std::string::npos) << e;
  EXPECT_NE(e.find("assets_per_connection"), std::string::npos) << e;
  EXPECT_NE(error_from({"--ws-url", "https://x"}).find("ws_url"), std::string::npos);
  EXPECT_NE(error_from({"--market-limit", "-1"}).find("market_limit"), std::string::npos);
  EXPECT_NE(error_from({"--duration-seconds", "-5"}).find("duration_seconds"), std::string::npos);
}

TEST(RecordFlags, ConfigFileProblemsAreConfigErrors) {
  EXPECT_NE(error_from({"--config", "/nonexistent/r.yaml"}).find("/nonexistent/r.yaml"),
            std::string::npos);
  booktape::testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "r.yaml", "rest_batch: 0\n");
  EXPECT_NE(error_from({"--config", file.string()}).find(file.string() + ":1: rest_batch"),
            std::string::npos);
}

TEST(RecordFlags, ShardIsIOfNAndReplicaANumber) {
  // The Kubernetes StatefulSet passes `--shard $(SHARD_INDEX)/$(SHARD_COUNT)` (deploy/k8s).
  const RecorderConfig c = config_from({"--all-active", "--shard", "2/3", "--replica", "1"});
  EXPECT_EQ(c.shard, (MarketShard{2, 3}));
  EXPECT_EQ(c.replica, 1);
  EXPECT_EQ(config_from({"--shard", "0/1"}).shard, MarketShard{});
  const std::string bad = error_from({"--all-active", "--shard", "3/3"});
  EXPECT_EQ(bad.rfind("--shard: expected I/N", 0), 0u) << bad;
  EXPECT_NE(bad.find("got '3/3'"), std::string::npos) << bad;
  EXPECT_NE(error_from({"--shard", "1/2", "--asset", "123"}).find("shard splits"),
            std::string::npos);
  EXPECT_NE(error_from({"--all-active", "--replica", "-1"}).find("replica"), std::string::npos);
}

TEST(RecordFlags, NonNumbersAreRejectedByTheParser) {
  EXPECT_THROW(config_from({"--market-limit", "two"}), CLI::ParseError);
  EXPECT_THROW(config_from({"--duration-seconds", "soon"}), CLI::ParseError);
}

}  // namespace
}  // namespace booktape::apps
