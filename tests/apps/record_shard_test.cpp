// Sharding across hosts (`record --shard I/N`): three real recorders, each `--shard i/3
// --all-active`, against one real simulator. Every token the venue lists is recorded by exactly
// one shard, both outcomes of a market by the same one, and a `--replica` copy of a shard records
// what that shard records.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "io/record/market_shard.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::SimChild;
namespace fs = std::filesystem;

// `booktape CMD ARGS`, stdout and stderr together.
std::vector<std::string> argv(const std::string& command, const std::vector<std::string>& args) {
  std::string cmd = std::string("exec '") + BOOKTAPE_BINARY + "' " + command;
  for (const std::string& a : args) cmd += " '" + a + "'";
  return {"/bin/sh", "-c", cmd + " 2>&1"};
}
testing::Child booktape(const std::string& command, const std::vector<std::string>& args) {
  return testing::Child(argv(command, args));
}

struct Recorded {
  std::string run_id, config;
  std::set<std::string> markets;             // condition ids in the run manifest
  std::map<std::string, std::string> books;  // asset id -> its state, from the archive
};

TEST(RecordShard, ThreeShardsRecordEveryTokenOnceAndNeverSplitAMarket) {
  // 12 series, each a live window and the next: 24 markets, 48 tokens, all streamed. Day-long
  // windows: no market starts or ends during the test.
  SimChild sim({"--rate", "400", "--seed", "11", "--markets", "12", "--window-seconds", "86400"});
  testing::TempDir dir;
  // Subscribe the next windows too (they open within a day), so the whole listing is recorded.
  const fs::path cfg = dir.path() / "record.yaml";
  std::ofstream(cfg) << "subscribe_lead_seconds: 1000000\n";

  // What the venue lists, by an unsharded discovery: condition id -> its token ids.
  testing::Child ref =
      booktape("discover", {"--all-active", "--gamma-url", sim.url(), "--lead-seconds", "1000000",
                            "--out", (dir.path() / "ref").string()});
  const std::string ref_out = ref.read_all(60s);
  ASSERT_EQ(ref.wait(30s), 0) << ref_out;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.load((dir.path() / "ref" / "polymarket_btc_markets_latest.json").string()).get(doc),
            simdjson::SUCCESS);
  std::map<std::string, std::vector<std::string>> listed;
  for (simdjson::dom::element m : doc["markets"].get_array()) {
    auto& tokens = listed[std::string(std::string_view(m["condition_id"]))];
    for (simdjson::dom::element t : m["tokens"].get_array())
      tokens.emplace_back(std::string_view(t["token_id"]));
  }
  ASSERT_EQ(listed.size(), 24u);

  // Three shards and a redundant copy of shard 1, all at once, as on three (four) hosts.
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"0/3", "0"}, {"1/3", "0"}, {"2/3", "0"}, {"1/3", "1"}};
  std::vector<std::unique_ptr<testing::Child>> recorders;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    recorders.push_back(
        std::make_unique<testing::Child>(argv("record", {"--config",
                                                         cfg.string(),
                                                         "--all-active",
                                                         "--shard",
                                                         runs[i].first,
                                                         "--replica",
                                                         runs[i].second,
                                                         "--ws-url",
                                                         sim.ws_url(),
                                                         "--rest-url",
                                                         sim.url(),
                                                         "--gamma-url",
                                                         sim.url(),
                                                         "--out",
                                                         (dir.path() / std::to_string(i)).string(),
                                                         "--status",
                                                         "log",
                                                         "--duration-seconds",
                                                         "4",
                                                         "--rest-checkpoint-interval-seconds",
                                                         "0.5"})));
  }
  std::vector<Recorded> got(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string log = recorders[i]->read_all(90s);
    ASSERT_EQ(recorders[i]->wait(30s), 0) << runs[i].first << "\n" << log;
    const fs::path out = dir.path() / std::to_string(i);
    simdjson::dom::element man;
    ASSERT_EQ(p.load((out / "manifests" / "checkpoint_010b_ws_raw_sample.json").string()).get(man),
              simdjson::SUCCESS);
    got[i].run_id = std::string(std::string_view(man["run_id"]));
    got[i].config = std::string(std::string_view(man["config"]));
    for (simdjson::dom::element m : man["markets"].get_array())
      got[i].markets.emplace(std::string_view(m["condition_id"]));
    // What the archive holds: the final book of every token it saw frames for.
    const fs::path dump = dir.path() / ("books-" + std::to_string(i) + ".json");
    testing::Child replay = booktape("replay", {out.string(), "--dump-books", dump.string()});
    const std::string replay_log = replay.read_all(60s);
    ASSERT_EQ(replay.wait(30s), 0) << replay_log;
    simdjson::dom::element books;
    ASSERT_EQ(p.load(dump.string()).get(books), simdjson::SUCCESS);
    for (simdjson::dom::element b : books.get_array()) {
      got[i].books.emplace(std::string_view(b["asset_id"]), std::string_view(b["state"]));
    }
  }

  // The labels: shard and replica in the run id and in the manifest's config.
  EXPECT_TRUE(got[0].run_id.ends_with("-s0of3")) << got[0].run_id;
  EXPECT_TRUE(got[2].run_id.ends_with("-s2of3")) << got[2].run_id;
  EXPECT_TRUE(got[3].run_id.ends_with("-s1of3-r1")) << got[3].run_id;
  EXPECT_NE(got[3].config.find("shard: \"1/3\"\nreplica: 1\n"), std::string::npos) << got[3].config;

  // Every listed market in exactly one of the three shards, the one the documented rule names;
  // both of its tokens recorded there and nowhere else.
  for (const auto& [cid, tokens] : listed) {
    const std::uint32_t owner = shard_of(cid, 3);
    ASSERT_EQ(tokens.size(), 2u) << cid;
    for (std::uint32_t s = 0; s < 3; ++s) {
      EXPECT_EQ(got[s].markets.count(cid), s == owner ? 1u : 0u) << cid << " shard " << s;
      for (const std::string& t : tokens) {
        EXPECT_EQ(got[s].books.count(t), s == owner ? 1u : 0u) << t << " shard " << s;
      }
    }
  }
  std::size_t recorded_tokens = 0;
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_FALSE(got[s].markets.empty()) << "shard " << s << " recorded nothing";
    recorded_tokens += got[s].books.size();
  }
  EXPECT_EQ(recorded_tokens, 2 * listed.size()) << "a token no market of the listing has";
  // The replica of shard 1 records exactly what shard 1 records.
  EXPECT_EQ(got[3].markets, got[1].markets);
  std::set<std::string> a, b;
  for (const auto& [id, state] : got[1].books) a.insert(id);
  for (const auto& [id, state] : got[3].books) b.insert(id);
  EXPECT_EQ(a, b);
}

TEST(RecordShard, DiscoverShowsOneShardsShareAndBadShardsExitTwo) {
  SimChild sim({"--rate", "10", "--seed", "11", "--markets", "12", "--window-seconds", "86400"});
  testing::TempDir dir;
  testing::Child d =
      booktape("discover", {"--all-active", "--gamma-url", sim.url(), "--shard", "1/3",
                            "--lead-seconds", "1000000", "--out", (dir.path() / "d").string()});
  const std::string out = d.read_all(60s);
  ASSERT_EQ(d.wait(30s), 0) << out;
  EXPECT_NE(out.find("shard 1/3: "), std::string::npos) << out;
  simdjson::dom::parser p;
  simdjson::dom::element man;
  ASSERT_EQ(p.load((dir.path() / "d" / "polymarket_btc_markets_manifest.json").string()).get(man),
            simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(man["shard"]), "1/3");
  EXPECT_EQ(std::uint64_t(man["markets"]) + std::uint64_t(man["other_shards"]), 24u);

  for (const char* bad : {"3/3", "1", "x/3"}) {
    testing::Child r =
        booktape("record", {"--all-active", "--shard", bad, "--out", (dir.path() / "r").string()});
    const std::string log = r.read_all(30s);
    EXPECT_EQ(r.wait(30s), 2) << log;
    EXPECT_NE(log.find("--shard: expected I/N"), std::string::npos) << log;
    testing::Child q = booktape("discover", {"--shard", bad, "--gamma-url", sim.url()});
    const std::string qlog = q.read_all(30s);
    EXPECT_EQ(q.wait(30s), 2) << qlog;
    EXPECT_NE(qlog.find("--shard: expected I/N"), std::string::npos) << qlog;
  }
}

}  // namespace
}  // namespace booktape
