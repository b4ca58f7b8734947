// The `booktape record` config: the YAML loader, validate(), to_yaml() and assets files.
#include "io/record/recorder_config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = BOOKTAPE_SOURCE_DIR;

// The struct's fields in declaration order: to_yaml() must list exactly these, in this order.
// clang-format off
const std::vector<std::string> kKeys = {
    "ws_url", "rest_url", "gamma_url", "ca_file", "assets", "assets_file", "all_active", "series",
    "market_limit", "discovery_interval_seconds", "subscribe_lead_seconds",
    "drop_after_end_seconds", "assets_per_connection", "connect_stagger_seconds",
    "ping_interval_seconds", "pong_timeout_seconds", "stale_connection_seconds",
    "token_silent_seconds", "initial_book_timeout_seconds", "backoff_initial_seconds",
    "backoff_max_seconds", "backoff_reset_after_seconds", "max_frame_bytes",
    "rest_checkpoint_interval_seconds", "rest_batch", "out", "manifest_dir", "envelope",
    "gzip_level", "block_bytes", "block_max_age_seconds", "max_file_bytes", "fsync",
    "fsync_interval_seconds", "cpus", "wait", "spin_max_us", "ring_bytes", "duration_seconds", "status",
    "status_interval_seconds",
    "http_listen", "http_public", "shm", "redis_url", "redis_ttl_seconds", "consumer_depth",
    "consumer_slots", "alerts", "alert_webhook", "alert_command", "alert_cooldown_seconds",
    "alert_timeout_seconds", "books_only", "shard",
    "replica", "reserve_bytes", "max_pending_bytes", "stop_grace_seconds",
    "disk_warn_free_percent", "disk_warn_free_bytes"};
// clang-format on

fs::path write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return path;
}

// Every field differs from its default (and stays valid), so a key that a file or to_yaml()
// forgets shows up as a difference.
RecorderConfig all_changed() {
  RecorderConfig c;
  c.ws_url = "ws://127.0.0.1:9000/ws/market?x=1";
  c.rest_url = "http://127.0.0.1:9001";
  c.gamma_url = "http://[::1]:9002/gamma";
  c.ca_file = "/etc/ssl/my \"ca\".pem";
  c.assets = {"123", "45678901234567890123456789012345678901234567890123456789012345678901234567"};
  c.assets_file = "tokens\\list.txt";
  c.all_active = true;
  c.series = {"off", "eth-up-or-down-5m", "yes", "1e3", "a: b # c"};
  c.market_limit = 7;
  c.discovery_interval_seconds = 61.5;
  c.subscribe_lead_seconds = 0;
  c.drop_after_end_seconds = 0.1;
  c.assets_per_connection = 500;
  c.connect_stagger_seconds = 1.0 / 3.0;
  c.ping_interval_seconds = 11;
  c.pong_timeout_seconds = 31;
  c.stale_connection_seconds = 32;
  c.token_silent_seconds = 301;
  c.initial_book_timeout_seconds = 33;
  c.backoff_initial_seconds = 0.5;
  c.backoff_max_seconds = 120;
  c.backoff_reset_after_seconds = 90;
  c.max_frame_bytes = 1 << 20;
  c.rest_checkpoint_interval_seconds = 0;
  c.rest_batch = 1;
  c.out = "/var/lib/booktape data";
  c.manifest_dir = "manifests\n2";
  c.envelope = EnvelopeMode::kFull;
  c.gzip_level = 12;
  c.block_bytes = 4096;
  c.block_max_age_seconds = 1e-3;
  c.max_file_bytes = std::uint64_t{5} << 32;
  c.fsync = FsyncPolicy::kEveryBlock;
  c.fsync_interval_seconds = 2.25;
  c.cpus = {0, 1023, 0};
  c.wait = WaitMode::kBusySpin;
  c.spin_max_us = 1'000'000;
  c.ring_bytes = std::size_t{1} << 33;
  c.duration_seconds = 86400.125;
  c.status = "off";
  c.status_interval_seconds = 0.5;
  c.http_listen = "[::1]:9464";
  c.http_public = true;
  c.shm = "bt.books-1";
  c.redis_url = "redis://127.0.0.1:6380/1";
  c.redis_ttl_seconds = 7.5;
  c.consumer_depth = 5;
  c.consumer_slots = 1000;
  c.alerts = {"bid>=0.70", "stale>10s", "disconnects>=3"};
  c.alert_webhook = "http://127.0.0.1:9/hook";
  c.alert_command = {"/usr/bin/logger", "a b"};
  c.alert_cooldown_seconds = 0;
  c.alert_timeout_seconds = 1.5;
  c.books_only = true;
  c.shard = MarketShard{2, 3};
  c.replica = 1;
  c.reserve_bytes = 0;
  c.max_pending_bytes = 65536;
  c.stop_grace_seconds = 0.25;
  c.disk_warn_free_percent = 2.5;
  c.disk_warn_free_bytes = 0;
  return c;
}

void expect_same(const RecorderConfig& a, const RecorderConfig& b) {
  EXPECT_EQ(a.ws_url, b.ws_url);
  EXPECT_EQ(a.rest_url, b.rest_url);
  EXPECT_EQ(a.gamma_url, b.gamma_url);
  EXPECT_EQ(a.ca_file, b.ca_file);
  EXPECT_EQ(a.assets, b.assets);
  EXPECT_EQ(a.assets_file, b.assets_file);
  EXPECT_EQ(a.all_active, b.all_active);
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.market_limit, b.market_limit);
  EXPECT_EQ(a.discovery_interval_seconds, b.discovery_interval_seconds);
  EXPECT_EQ(a.subscribe_lead_seconds, b.subscribe_lead_seconds);
  EXPECT_EQ(a.drop_after_end_seconds, b.drop_after_end_seconds);
  EXPECT_EQ(a.assets_per_connection, b.assets_per_connection);
  EXPECT_EQ(a.connect_stagger_seconds, b.connect_stagger_seconds);
  EXPECT_EQ(a.ping_interval_seconds, b.ping_interval_seconds);
  EXPECT_EQ(a.pong_timeout_seconds, b.pong_timeout_seconds);
  EXPECT_EQ(a.stale_connection_seconds, b.stale_connection_seconds);
  EXPECT_EQ(a.token_silent_seconds, b.token_silent_seconds);
  EXPECT_EQ(a.initial_book_timeout_seconds, b.initial_book_timeout_seconds);
  EXPECT_EQ(a.backoff_initial_seconds, b.backoff_initial_seconds);
  EXPECT_EQ(a.backoff_max_seconds, b.backoff_max_seconds);
  EXPECT_EQ(a.backoff_reset_after_seconds, b.backoff_reset_after_seconds);
  EXPECT_EQ(a.max_frame_bytes, b.max_frame_bytes);
  EXPECT_EQ(a.rest_checkpoint_interval_seconds, b.rest_checkpoint_interval_seconds);
  EXPECT_EQ(a.rest_batch, b.rest_batch);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.manifest_dir, b.manifest_dir);
  EXPECT_EQ(a.envelope, b.envelope);
  EXPECT_EQ(a.gzip_level, b.gzip_level);
  EXPECT_EQ(a.block_bytes, b.block_bytes);
  EXPECT_EQ(a.block_max_age_seconds, b.block_max_age_seconds);
  EXPECT_EQ(a.max_file_bytes, b.max_file_bytes);
  EXPECT_EQ(a.fsync, b.fsync);
  EXPECT_EQ(a.fsync_interval_seconds, b.fsync_interval_seconds);
  EXPECT_EQ(a.cpus, b.cpus);
  EXPECT_EQ(a.wait, b.wait);
  EXPECT_EQ(a.spin_max_us, b.spin_max_us);
  EXPECT_EQ(a.ring_bytes, b.ring_bytes);
  EXPECT_EQ(a.duration_seconds, b.duration_seconds);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.status_interval_seconds, b.status_interval_seconds);
  EXPECT_EQ(a.http_listen, b.http_listen);
  EXPECT_EQ(a.http_public, b.http_public);
  EXPECT_EQ(a.shm, b.shm);
  EXPECT_EQ(a.redis_url, b.redis_url);
  EXPECT_EQ(a.redis_ttl_seconds, b.redis_ttl_seconds);
  EXPECT_EQ(a.consumer_depth, b.consumer_depth);
  EXPECT_EQ(a.consumer_slots, b.consumer_slots);
  EXPECT_EQ(a.alerts, b.alerts);
  EXPECT_EQ(a.alert_webhook, b.alert_webhook);
  EXPECT_EQ(a.alert_command, b.alert_command);
  EXPECT_EQ(a.alert_cooldown_seconds, b.alert_cooldown_seconds);
  EXPECT_EQ(a.alert_timeout_seconds, b.alert_timeout_seconds);
  EXPECT_EQ(a.books_only, b.books_only);
  EXPECT_EQ(a.shard, b.shard);
  EXPECT_EQ(a.replica, b.replica);
  EXPECT_EQ(a.reserve_bytes, b.reserve_bytes);
  EXPECT_EQ(a.max_pending_bytes, b.max_pending_bytes);
  EXPECT_EQ(a.stop_grace_seconds, b.stop_grace_seconds);
  EXPECT_EQ(a.disk_warn_free_percent, b.disk_warn_free_percent);
  EXPECT_EQ(a.disk_warn_free_bytes, b.disk_warn_free_bytes);
}

// The ConfigError message of loading `yaml`, or "" when it loads.
std::string load_error(const std::string& yaml, const std::string& name = "record.yaml") {
  testing::TempDir dir;
  const fs::path file = write_file(dir.path() / name, yaml);
  RecorderConfig c;
  try {
    load_recorder_config(file, c);
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    // Messages name the file as given; strip the temp dir so tests can compare the rest.
    const std::string prefix = dir.path().string() + "/";
    std::string out;
    std::size_t at = 0;
    for (std::size_t p; (p = msg.find(prefix, at)) != std::string::npos; at = p + prefix.size())
      out += msg.substr(at, p - at);
    return out + msg.substr(at);
  }
  return "";
}

// The problems validate() reports that name `key`.
std::vector<std::string> problems_with(const RecorderConfig& c, std::string_view key) {
  std::vector<std::string> out;
  for (const std::string& p : validate(c)) {
    EXPECT_FALSE(p.empty());
    EXPECT_EQ(p.back(), '.') << "one sentence: " << p;
    if (p.find(key) != std::string::npos) out.push_back(p);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += s + "\n";
  return out;
}

// ---- files shipped in config/ --------------------------------------------------------------

TEST(RecorderConfig, ExampleFileSetsEveryKeyToItsDefault) {
  // Starting from a config where everything differs: a key missing from the example would keep
  // its changed value.
  RecorderConfig c = all_changed();
  load_recorder_config(kSourceDir / "config/record.example.yaml", c);
  expect_same(c, RecorderConfig{});
  EXPECT_EQ(to_yaml(c), to_yaml(RecorderConfig{}));
}

TEST(RecorderConfig, DefaultsAreValid) {
  EXPECT_EQ(joined(validate(RecorderConfig{})), "");
}

TEST(RecorderConfig, SimConfigLoadsAndValidates) {
  RecorderConfig c;
  load_recorder_config(kSourceDir / "config/record.sim.yaml", c);
  EXPECT_EQ(c.ws_url, "ws://127.0.0.1:8765/ws/market");
  EXPECT_EQ(c.rest_url, "http://127.0.0.1:8765");
  EXPECT_EQ(c.gamma_url, "http://127.0.0.1:8765");
  EXPECT_EQ(c.out, "booktape-data");
  EXPECT_EQ(c.duration_seconds, 0);
  EXPECT_EQ(joined(validate(c)), "");
}

// ---- to_yaml --------------------------------------------------------------------------------

TEST(RecorderConfig, ToYamlListsEveryKeyOncePerLineInStructOrder) {
  std::istringstream in(to_yaml(RecorderConfig{}));
  std::vector<std::string> keys;
  for (std::string line; std::getline(in, line);) keys.push_back(line.substr(0, line.find(':')));
  EXPECT_EQ(keys, kKeys);
}

TEST(RecorderConfig, EveryKeyRoundTripsThroughToYaml) {
  testing::TempDir dir;
  const RecorderConfig changed = all_changed();
  const fs::path file = write_file(dir.path() / "effective.yaml", to_yaml(changed));
  RecorderConfig back;
  load_recorder_config(file, back);
  expect_same(back, changed);
  EXPECT_EQ(to_yaml(back), to_yaml(changed));

  // And back to the defaults, including empty lists and paths.
  write_file(file, to_yaml(RecorderConfig{}));
  load_recorder_config(file, back);
  expect_same(back, RecorderConfig{});
}

TEST(RecorderConfig, ToYamlWritesReadableValues) {
  const std::string y = to_yaml(RecorderConfig{});
  EXPECT_NE(y.find("ws_url: \"wss://ws-subscriptions-clob.polymarket.com/ws/market\"\n"),
            std::string::npos);
  EXPECT_NE(y.find("assets: []\n"), std::string::npos);
  EXPECT_NE(y.find("connect_stagger_seconds: 0.25\n"), std::string::npos);
  EXPECT_NE(y.find("discovery_interval_seconds: 60\n"), std::string::npos);
  EXPECT_NE(y.find("envelope: compact\n"), std::string::npos);
  EXPECT_NE(y.find("fsync: interval\n"), std::string::npos);
  EXPECT_NE(y.find("wait: spin-then-park\n"), std::string::npos);
  EXPECT_NE(y.find("cpus: []\n"), std::string::npos);
  EXPECT_NE(y.find("status: \"auto\"\n"), std::string::npos);
}

// ---- loading ------------------------------------------------------------------------------

TEST(RecorderConfig, AbsentKeysKeepTheirValues) {
  testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "r.yaml", "market_limit: 2\nout: elsewhere\n");
  RecorderConfig c = all_changed();
  load_recorder_config(file, c);
  RecorderConfig want = all_changed();
  want.market_limit = 2;
  want.out = "elsewhere";
  expect_same(c, want);
}

TEST(RecorderConfig, EmptyFileAndCommentsOnlyKeepDefaults) {
  EXPECT_EQ(load_error(""), "");
  EXPECT_EQ(load_error("# nothing here\n"), "");
}

TEST(RecorderConfig, NullStringsAndListsReadAsEmpty) {
  testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "r.yaml", "ca_file:\nseries:\nassets: []\n");
  RecorderConfig c = all_changed();
  load_recorder_config(file, c);
  EXPECT_TRUE(c.ca_file.empty());
  EXPECT_TRUE(c.series.empty());
  EXPECT_TRUE(c.assets.empty());
}

TEST(RecorderConfig, UnknownKeyNamesFileLineAndKeyAndSuggests) {
  EXPECT_EQ(load_error("out: data\n\nrest_bach: 10\n"),
            "record.yaml:3: rest_bach: unknown setting (did you mean rest_batch?)");
  EXPECT_EQ(load_error("market-limit: 1\n"),
            "record.yaml:1: market-limit: unknown setting (did you mean market_limit?)");
  // A short key is close to nothing: no made-up suggestion.
  EXPECT_EQ(load_error("x: 1\n"), "record.yaml:1: x: unknown setting");
  EXPECT_EQ(load_error("foo: 1\n"), "record.yaml:1: foo: unknown setting");
  EXPECT_EQ(load_error("colour: blue\n"), "record.yaml:1: colour: unknown setting");
}

TEST(RecorderConfig, WrongTypeNamesFileLineAndKey) {
  EXPECT_EQ(load_error("out: data\nrest_batch: many\n"),
            "record.yaml:2: rest_batch: expected an integer between 1 and 500, found \"many\"");
  EXPECT_EQ(load_error("gzip_level: \"3\"\n"),
            "record.yaml:1: gzip_level: expected an integer between 0 and 12, found the quoted "
            "string \"3\"");
  EXPECT_EQ(load_error("market_limit: 2.5\n").rfind("record.yaml:1: market_limit: expected", 0),
            0u);
  EXPECT_EQ(load_error("all_active: yes\n"),
            "record.yaml:1: all_active: expected true or false, found \"yes\"");
  EXPECT_EQ(load_error("\ncpus: 3\n").rfind("record.yaml:2: cpus: expected a list of 3 cpu", 0),
            0u);
  EXPECT_EQ(load_error("series: {a: b}\n"),
            "record.yaml:1: series: expected a list of series slugs (non-empty strings), found a "
            "mapping");
  EXPECT_EQ(load_error("out: [a, b]\n"),
            "record.yaml:1: out: expected a non-empty path, found a list");
  EXPECT_EQ(load_error("ping_interval_seconds: .inf\n")
                .rfind("record.yaml:1: ping_interval_seconds: expected a number of seconds > 0", 0),
            0u);
  EXPECT_EQ(load_error("envelope: verbose\n"),
            "record.yaml:1: envelope: expected compact or full, found \"verbose\"");
  EXPECT_EQ(load_error("fsync: always\n"),
            "record.yaml:1: fsync: expected one of none, close, interval, block, found \"always\"");
  EXPECT_EQ(load_error("wait: sleep\n"),
            "record.yaml:1: wait: expected busy-spin or spin-then-park, found \"sleep\"");
  EXPECT_EQ(load_error("market_limit:\n").rfind("record.yaml:1: market_limit: expected", 0), 0u);
}

TEST(RecorderConfig, OutOfRangeNamesFileLineAndKey) {
  EXPECT_EQ(load_error("# c\nrest_batch: 501\n"),
            "record.yaml:2: rest_batch: expected an integer between 1 and 500, found \"501\"");
  EXPECT_EQ(load_error("gzip_level: -1\n").rfind("record.yaml:1: gzip_level: expected", 0), 0u);
  EXPECT_EQ(load_error("block_bytes: 4095\n").rfind("record.yaml:1: block_bytes: expected", 0), 0u);
  EXPECT_EQ(load_error("spin_max_us: 1\n"),
            "record.yaml:1: spin_max_us: expected an integer between 2 and 1000000 "
            "(microseconds), found \"1\"");
  EXPECT_EQ(load_error("ring_bytes: 3000000\n"),
            "record.yaml:1: ring_bytes: expected a power of two >= 1048576 (1 MiB), found "
            "\"3000000\"");
  EXPECT_EQ(load_error("max_file_bytes: -5\n").rfind("record.yaml:1: max_file_bytes: expected", 0),
            0u);
  EXPECT_EQ(load_error("ws_url: https://x\n"),
            "record.yaml:1: ws_url: expected a ws:// or wss:// URL, found \"https://x\"");
  EXPECT_EQ(load_error("status: quiet\n"),
            "record.yaml:1: status: expected one of auto, line, log, off, found \"quiet\"");
  EXPECT_EQ(load_error("cpus: [0, 1]\n").rfind("record.yaml:1: cpus: expected", 0), 0u);
  EXPECT_EQ(load_error("assets: [\"12a\"]\n").rfind("record.yaml:1: assets: expected", 0), 0u);
  EXPECT_EQ(load_error("duration_seconds: -1\n"),
            "record.yaml:1: duration_seconds: expected a number of seconds >= 0 (at most 1e9), "
            "found \"-1\"");
}

TEST(RecorderConfig, EveryErrorInAFileIsReportedAndNothingIsApplied) {
  testing::TempDir dir;
  const fs::path file =
      write_file(dir.path() / "r.yaml", "market_limit: 3\nrest_batch: 0\nbogus: 1\nout: x\n");
  RecorderConfig c;
  try {
    load_recorder_config(file, c);
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string() + ":2: rest_batch: "), std::string::npos) << msg;
    EXPECT_NE(msg.find(file.string() + ":3: bogus: unknown setting"), std::string::npos) << msg;
  }
  expect_same(c, RecorderConfig{});
}

TEST(RecorderConfig, DuplicateKeyIsAnError) {
  EXPECT_EQ(load_error("out: a\nout: b\n"), "record.yaml:2: out: set more than once");
}

TEST(RecorderConfig, MissingFileAndSyntaxErrorsSayWhy) {
  RecorderConfig c;
  try {
    load_recorder_config("/nonexistent/record.yaml", c);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/record.yaml: no such config file");
  }
  EXPECT_EQ(load_error("out: data\nseries: [a, b\n").rfind("record.yaml:", 0), 0u);
  EXPECT_NE(load_error("out: data\nseries: [a, b\n").find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(load_error("out: data\n  bad: 1\n"),
            "record.yaml:2:6: YAML syntax error: illegal map value");
  EXPECT_EQ(load_error("a: 1\n\tb: 2\n").rfind("record.yaml:2:1: YAML syntax error: ", 0), 0u);
  EXPECT_EQ(load_error("- a\n- b\n"),
            "record.yaml:1: expected a mapping of settings (key: value), found a list");
  EXPECT_EQ(load_error("a: 1\n---\nb: 2\n"),
            "record.yaml: expected one YAML document, found more");
  // yaml-cpp 0.7's LoadAll never returns on these (fuzz/recorder_config_fuzzer found them):
  // the loader must end with an error instead of hanging.
  for (const char* broken : {"&az, ", ","}) EXPECT_FALSE(load_error(broken).empty()) << broken;
  testing::TempDir dir;
  EXPECT_THROW(load_recorder_config(dir.path(), c), ConfigError);
}

// ---- validate -----------------------------------------------------------------------------

TEST(RecorderConfigValidate, UrlsNeedTheirSchemes) {
  RecorderConfig c;
  c.ws_url = "https://ws-subscriptions-clob.polymarket.com/ws/market";
  c.rest_url = "wss://clob.polymarket.com";
  c.gamma_url = "gamma-api.polymarket.com";
  EXPECT_EQ(problems_with(c, "ws_url").size(), 1u);
  EXPECT_EQ(problems_with(c, "rest_url").size(), 1u);
  EXPECT_EQ(problems_with(c, "gamma_url").size(), 1u);
  EXPECT_EQ(validate(c).size(), 3u) << joined(validate(c));
  c.ws_url = "ws://127.0.0.1:1/";
  c.rest_url = "http://[::1]:8080";
  c.gamma_url = "https://gamma";
  EXPECT_EQ(joined(validate(c)), "");
  c.ws_url = "";
  EXPECT_EQ(problems_with(c, "ws_url").size(), 1u);
}

TEST(RecorderConfigValidate, IntervalsArePositiveWhereZeroMeansNothing) {
  for (double RecorderConfig::*m :
       {&RecorderConfig::discovery_interval_seconds, &RecorderConfig::ping_interval_seconds,
        &RecorderConfig::pong_timeout_seconds, &RecorderConfig::stale_connection_seconds,
        &RecorderConfig::token_silent_seconds, &RecorderConfig::initial_book_timeout_seconds,
        &RecorderConfig::backoff_initial_seconds, &RecorderConfig::backoff_max_seconds,
        &RecorderConfig::backoff_reset_after_seconds, &RecorderConfig::block_max_age_seconds,
        &RecorderConfig::fsync_interval_seconds, &RecorderConfig::status_interval_seconds}) {
    RecorderConfig c;
    c.*m = 0;
    EXPECT_FALSE(validate(c).empty()) << to_yaml(c);
    c.*m = -1;
    EXPECT_FALSE(validate(c).empty()) << to_yaml(c);
  }
  // Zero means off, at once or forever; negative is still wrong.
  for (double RecorderConfig::*m :
       {&RecorderConfig::subscribe_lead_seconds, &RecorderConfig::drop_after_end_seconds,
        &RecorderConfig::connect_stagger_seconds, &RecorderConfig::rest_checkpoint_interval_seconds,
        &RecorderConfig::duration_seconds}) {
    RecorderConfig c;
    c.*m = 0;
    EXPECT_EQ(joined(validate(c)), "");
    c.*m = -0.5;
    EXPECT_EQ(validate(c).size(), 1u) << to_yaml(c);
    c.*m = 2e9;
    EXPECT_EQ(validate(c).size(), 1u) << "beyond the cap";
  }
  RecorderConfig c;
  c.rest_checkpoint_interval_seconds = -1;
  EXPECT_EQ(problems_with(c, "rest_checkpoint_interval_seconds").size(), 1u);
}

TEST(RecorderConfigValidate, TimersThatWouldFloodTheVenueAreRefused) {
  RecorderConfig c;
  c.ping_interval_seconds = 0.001;
  EXPECT_EQ(joined(problems_with(c, "ping_interval_seconds")),
            "ping_interval_seconds (0.001) must be at least 0.1 s.\n");
  c = RecorderConfig{};
  c.initial_book_timeout_seconds = 0.01;
  EXPECT_EQ(problems_with(c, "initial_book_timeout_seconds").size(), 1u);
  c = RecorderConfig{};
  c.stale_connection_seconds = 0.2;
  c.token_silent_seconds = 0.2;
  EXPECT_EQ(validate(c).size(), 2u) << joined(validate(c));
  c = RecorderConfig{};
  c.connect_stagger_seconds = 1e6;  // with many connections the start times overflowed
  EXPECT_EQ(problems_with(c, "connect_stagger_seconds").size(), 1u);
  c = RecorderConfig{};
  c.ping_interval_seconds = 0.1;
  c.stale_connection_seconds = 0.5;
  c.initial_book_timeout_seconds = 0.5;
  c.connect_stagger_seconds = 3600;
  EXPECT_EQ(joined(validate(c)), "");  // the floors themselves are allowed
}

TEST(RecorderConfigValidate, CountsStayInTheirRanges) {
  RecorderConfig c;
  c.assets_per_connection = 0;
  c.rest_batch = 501;
  c.gzip_level = 13;
  c.market_limit = -1;
  EXPECT_EQ(problems_with(c, "assets_per_connection").size(), 1u);
  EXPECT_EQ(problems_with(c, "rest_batch").size(), 1u);
  EXPECT_EQ(problems_with(c, "gzip_level").size(), 1u);
  EXPECT_EQ(problems_with(c, "market_limit").size(), 1u);
  EXPECT_EQ(validate(c).size(), 4u) << joined(validate(c));
  EXPECT_EQ(problems_with(c, "rest_batch")[0],
            "rest_batch must be an integer between 1 and 500 (it is 501).");
  c.assets_per_connection = 500;
  c.rest_batch = 1;
  c.gzip_level = 0;
  c.market_limit = 0;
  EXPECT_EQ(joined(validate(c)), "");
  c.assets_per_connection = 501;
  c.rest_batch = 0;
  c.gzip_level = -1;
  EXPECT_EQ(validate(c).size(), 3u) << joined(validate(c));
}

TEST(RecorderConfigValidate, SizesAndTheRing) {
  RecorderConfig c;
  c.block_bytes = 4 * 1024 - 1;
  EXPECT_EQ(problems_with(c, "block_bytes").size(), 1u);
  c.block_bytes = (std::size_t{512} << 20) + 1;
  EXPECT_EQ(problems_with(c, "block_bytes").size(), 1u);
  c.block_bytes = std::size_t{512} << 20;
  EXPECT_EQ(joined(validate(c)), "");

  c.ring_bytes = (std::size_t{128} << 20) + 4096;  // not a power of two
  EXPECT_EQ(problems_with(c, "ring_bytes").size(), 1u);
  c.ring_bytes = std::size_t{512} << 10;  // a power of two below 1 MiB
  c.max_frame_bytes = 1024;
  EXPECT_EQ(problems_with(c, "ring_bytes").size(), 1u);
  c.ring_bytes = std::size_t{1} << 20;  // 1 MiB >= 4 * 1 KiB + 64 KiB
  EXPECT_EQ(joined(validate(c)), "");

  c.max_frame_bytes = std::size_t{16} << 20;
  c.ring_bytes = std::size_t{64} << 20;  // 4 * 16 MiB + 64 KiB does not fit in 64 MiB
  const std::vector<std::string> p = problems_with(c, "ring_bytes");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("max_frame_bytes"), std::string::npos);
  c.ring_bytes = std::size_t{128} << 20;
  EXPECT_EQ(joined(validate(c)), "");

  c.max_frame_bytes = 0;
  EXPECT_EQ(problems_with(c, "max_frame_bytes").size(), 1u);
  c.max_frame_bytes = 1024;
  c.max_file_bytes = 0;
  EXPECT_EQ(problems_with(c, "max_file_bytes").size(), 1u);
}

TEST(RecorderConfigValidate, CpusAreNoneOrThreeInRange) {
  RecorderConfig c;
  c.cpus = {0, 1, 1};
  EXPECT_EQ(joined(validate(c)), "");
  c.cpus = {0, 1};
  EXPECT_EQ(problems_with(c, "cpus").size(), 1u);
  c.cpus = {0, 1, 2, 3};
  EXPECT_EQ(problems_with(c, "cpus").size(), 1u);
  c.cpus = {0, 1, 1024};
  EXPECT_EQ(problems_with(c, "cpus").size(), 1u);
  c.cpus = {-1, 1, 2};
  EXPECT_EQ(problems_with(c, "cpus").size(), 1u);
  // In range but not a CPU this process may use: refused before any thread starts.
  c.cpus = {1023, 0, 0};
  const std::vector<std::string> p = problems_with(c, "cpus");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("CPU 1023 is not available"), std::string::npos) << p[0];
}

TEST(RecorderConfigValidate, WhatToRecord) {
  testing::TempDir dir;
  RecorderConfig c;
  c.assets = {"123"};
  c.all_active = true;
  EXPECT_EQ(problems_with(c, "all_active").size(), 1u);
  c.assets.clear();
  EXPECT_EQ(joined(validate(c)), "");

  c.all_active = false;
  c.assets = {"123", "0x12"};
  EXPECT_EQ(problems_with(c, "assets").size(), 1u);
  c.assets = {"123"};

  c.assets_file = dir.path() / "missing.txt";
  EXPECT_EQ(problems_with(c, "assets_file").size(), 1u);
  c.assets_file = write_file(dir.path() / "ids.txt", "# none yet\n");
  EXPECT_EQ(problems_with(c, "assets_file").size(), 1u) << "lists nothing";
  write_file(c.assets_file, "123\nabc\n");
  const std::vector<std::string> bad = problems_with(c, "assets_file");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("ids.txt:2:"), std::string::npos) << bad[0];
  write_file(c.assets_file, "456\n");
  EXPECT_EQ(joined(validate(c)), "");
  c.all_active = true;
  EXPECT_EQ(problems_with(c, "all_active").size(), 1u);

  RecorderConfig none;
  none.series.clear();
  EXPECT_EQ(problems_with(none, "series").size(), 1u) << "nothing to record";
  none.series = {""};
  EXPECT_EQ(problems_with(none, "series").size(), 1u);
}

TEST(RecorderConfig, ShardAndReplicaReadFromTheFileAndRefuseWhatIsNotASplit) {
  testing::TempDir dir;
  RecorderConfig c;
  load_recorder_config(
      write_file(dir.path() / "r.yaml", "all_active: true\nshard: 2/3\nreplica: 1\n"), c);
  EXPECT_EQ(c.shard, (MarketShard{2, 3}));
  EXPECT_EQ(c.replica, 1);
  EXPECT_EQ(joined(validate(c)), "");
  EXPECT_NE(to_yaml(c).find("shard: \"2/3\"\nreplica: 1\n"), std::string::npos) << to_yaml(c);
  for (const char* bad : {"3/3", "1/0", "-1/3", "1/", "a/3", "1/3/4", "1 / 3", "0/1001"}) {
    const std::string why = load_error(std::string("shard: \"") + bad + "\"\n");
    EXPECT_EQ(why.rfind("record.yaml:1: shard: expected I/N", 0), 0u) << bad << ": " << why;
  }
  EXPECT_EQ(load_error("replica: 100\n"),
            "record.yaml:1: replica: expected an integer between 0 and 99, found \"100\"");
  // Explicit token ids carry no condition id to split by.
  c.all_active = false;
  c.assets = {"123"};
  EXPECT_EQ(problems_with(c, "shard").size(), 1u);
  c.shard = MarketShard{};
  EXPECT_EQ(joined(validate(c)), "");
}

TEST(RecorderConfigValidate, BackoffPingAndStatus) {
  RecorderConfig c;
  c.backoff_initial_seconds = 61;
  EXPECT_EQ(problems_with(c, "backoff_initial_seconds").size(), 1u);
  c.backoff_initial_seconds = 60;
  EXPECT_EQ(joined(validate(c)), "");

  c.pong_timeout_seconds = c.ping_interval_seconds;
  EXPECT_EQ(problems_with(c, "pong_timeout_seconds").size(), 1u);
  c.pong_timeout_seconds = 30;

  c.status = "verbose";
  EXPECT_EQ(problems_with(c, "status").size(), 1u);
  for (const char* s : {"auto", "line", "log", "off"}) {
    c.status = s;
    EXPECT_EQ(joined(validate(c)), "");
  }
  c.out.clear();
  EXPECT_EQ(problems_with(c, "out").size(), 1u);
  c.out = "data";
  c.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(problems_with(c, "ca_file").size(), 1u);
}

TEST(RecorderConfigValidate, ManifestsStayUnderTheArchiveRoot) {
  RecorderConfig c;
  c.out = "data";
  for (const char* inside : {"data/manifests", "data", "./data/m", "data/x/../manifests"}) {
    c.manifest_dir = inside;
    EXPECT_EQ(joined(validate(c)), "") << inside;
  }
  for (const char* outside : {"/etc", "manifests", "data/../elsewhere", "data2/manifests", ".."}) {
    c.manifest_dir = outside;
    EXPECT_EQ(problems_with(c, "manifest_dir").size(), 1u) << outside;
  }
  c.out = "/tmp/booktape-root";
  c.manifest_dir = "/tmp/booktape-root/manifests";
  EXPECT_EQ(joined(validate(c)), "");
  c.manifest_dir = "/tmp/booktape-rootless/manifests";  // a prefix of the name is not inside
  EXPECT_EQ(problems_with(c, "manifest_dir").size(), 1u);
}

TEST(RecorderConfigValidate, ReportsEveryProblemAtOnce) {
  RecorderConfig c;
  c.ws_url = "http://x";
  c.rest_batch = 0;
  c.cpus = {1};
  c.all_active = true;
  c.assets = {"1"};
  EXPECT_EQ(validate(c).size(), 4u) << joined(validate(c));
}

// ---- assets files -------------------------------------------------------------------------

TEST(ReadAssetsFile, SkipsBlankLinesAndCommentsAndTrims) {
  testing::TempDir dir;
  const fs::path file = write_file(
      dir.path() / "ids.txt",
      "# BTC 5m\n"
      "\n"
      "  71321045679252212594626385532706912750332728571942532289631379312455583992563  \n"
      "\t123 # the down token\r\n"
      "   \n"
      "456\r\n"
      "123\n"
      "789");
  EXPECT_EQ(read_assets_file(file),
            (std::vector<std::string>{
                "71321045679252212594626385532706912750332728571942532289631379312455583992563",
                "123", "456", "789"}));
  write_file(file, "");
  EXPECT_TRUE(read_assets_file(file).empty());
}

TEST(ReadAssetsFile, ANonDecimalIdNamesItsLine) {
  testing::TempDir dir;
  const fs::path file = write_file(dir.path() / "ids.txt", "123\n# ok\n0xabc\n");
  try {
    read_assets_file(file);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() +
                                         ":3: \"0xabc\" is not a token id (Polymarket token ids "
                                         "are decimal digits)");
  }
  write_file(file, "123 456\n");
  EXPECT_THROW(read_assets_file(file), ConfigError);
  write_file(file, "-123\n");
  EXPECT_THROW(read_assets_file(file), ConfigError);
}

// ---- live consumers ---------------------------------------------------------------------------

TEST(RecorderConfig, ConsumerSettingsSayWhatIsWrongAndTheExpectedForm) {
  RecorderConfig c;
  c.alerts = {"bid>=0.70", "bid>=1.5"};
  c.redis_url = "http://localhost";
  c.shm = "../escape";
  c.alert_webhook = "ftp://x";
  const std::string all = joined(validate(c));
  EXPECT_NE(all.find("alerts: 'bid>=1.5': the price must be 0..1"), std::string::npos) << all;
  EXPECT_NE(all.find("a rule is METRIC OP VALUE"), std::string::npos) << all;
  EXPECT_NE(all.find("redis_url must be empty, or redis://"), std::string::npos) << all;
  EXPECT_NE(all.find("shm must be empty, or a name"), std::string::npos) << all;
  EXPECT_NE(all.find("alert_webhook must be empty, or an http:// or https:// URL"), std::string::npos) << all;
  EXPECT_EQ(problems_with(c, "alerts:").size(), 1u);  // the good rule is not one of them
}

TEST(RecorderConfig, TheRedisPasswordAndTheWebhookPathNeverReachTheManifest) {
  RecorderConfig c;
  c.redis_url = "redis://user:s3cret@127.0.0.1:6379/2";
  c.alert_webhook = "https://api.telegram.org/bot123:ABC-token/sendMessage";
  const std::string yaml = to_yaml(with_urls_redacted(c));
  EXPECT_EQ(yaml.find("s3cret"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("ABC-token"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("redis_url: \"redis://user:***@127.0.0.1:6379/2\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("alert_webhook: \"https://api.telegram.org/***\""), std::string::npos) << yaml;
  // A bad URL's message shows it redacted too.
  c.redis_url = "redis://:s3cret@host:0";
  const std::string all = joined(validate(c));
  EXPECT_EQ(all.find("s3cret"), std::string::npos) << all;
  EXPECT_NE(all.find("redis_url must be"), std::string::npos) << all;
}

TEST(ReadAssetsFile, AMissingFileIsAConfigError) {
  EXPECT_THROW(read_assets_file("/nonexistent/ids.txt"), ConfigError);
  testing::TempDir dir;
  EXPECT_THROW(read_assets_file(dir.path()), ConfigError);
}

}  // namespace
}  // namespace booktape
