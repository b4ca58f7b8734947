// Host-level sharding: the rule (SHA-256 of the condition id, modulo N), its parsing, and that N
// shards cover every market exactly once whatever order the markets come in.
#include "io/record/market_shard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace booktape {
namespace {

namespace pm = polymarket;

pm::DiscoveredMarket market(std::string condition_id, std::string market_id = "") {
  pm::DiscoveredMarket m;
  m.condition_id = std::move(condition_id);
  m.market_id = std::move(market_id);
  m.token_ids = {"1" + m.condition_id.substr(2, 6), "2" + m.condition_id.substr(2, 6)};
  return m;
}

// Condition ids in Gamma's shape: "0x" and 64 hex digits.
std::vector<pm::DiscoveredMarket> markets(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<pm::DiscoveredMarket> out;
  for (std::size_t i = 0; i < n; ++i) {
    char hex[67] = "0x";
    for (std::size_t k = 0; k < 64; ++k) hex[2 + k] = "0123456789abcdef"[rng() % 16];
    out.push_back(market(std::string(hex, 66)));
  }
  return out;
}

TEST(MarketShard, ParsesIOfNAndNothingElse) {
  EXPECT_EQ(parse_market_shard("0/1"), (MarketShard{0, 1}));
  EXPECT_EQ(parse_market_shard("2/3"), (MarketShard{2, 3}));
  EXPECT_EQ(parse_market_shard("999/1000"), (MarketShard{999, 1000}));
  for (const char* bad : {"", "3", "/3", "1/", "3/3", "4/3", "0/0", "-1/3", "+1/3", "1/+3", " 1/3",
                          "1/3 ", "1/3/4", "a/3", "1.0/3", "0/1001", "99999999999/3"}) {
    EXPECT_FALSE(parse_market_shard(bad).has_value()) << bad;
  }
  EXPECT_EQ(to_string(MarketShard{2, 3}), "2/3");
  EXPECT_EQ(to_string(MarketShard{}), "0/1");
  EXPECT_FALSE(MarketShard{}.sharded());
}

// The documented rule, checked against values computed independently with Python's hashlib:
//   int(hashlib.sha256(cid.encode()).hexdigest()[:16], 16) % N
TEST(MarketShard, TheHashIsTheDocumentedRule) {
  const std::string cid = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1";
  EXPECT_EQ(shard_of(cid, 3), 2u);
  EXPECT_EQ(shard_of(cid, 7), 1u);
  EXPECT_EQ(shard_of("id:12345", 3), 2u);
  EXPECT_EQ(shard_of("id:12345", 7), 4u);
  EXPECT_EQ(shard_of(cid, 1), 0u);
  // The key: the condition id, else the Gamma id (as discovery deduplicates).
  EXPECT_EQ(market_key(market(cid, "9")), cid);
  pm::DiscoveredMarket no_cid;
  no_cid.market_id = "12345";
  EXPECT_EQ(market_key(no_cid), "id:12345");
}

TEST(MarketShard, NShardsCoverEveryMarketOnceWhateverTheOrder) {
  const std::vector<pm::DiscoveredMarket> all = markets(3'000);
  for (const std::uint32_t n : {2u, 3u, 7u}) {
    std::set<std::string> seen;
    std::size_t smallest = all.size(), largest = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::vector<pm::DiscoveredMarket> mine = all;
      // Another host's discovery may list the markets in another order: same split.
      std::shuffle(mine.begin(), mine.end(), std::mt19937_64(i));
      const std::size_t removed = keep_shard(mine, MarketShard{i, n});
      EXPECT_EQ(removed + mine.size(), all.size());
      smallest = std::min(smallest, mine.size());
      largest = std::max(largest, mine.size());
      for (const pm::DiscoveredMarket& m : mine) {
        EXPECT_TRUE(seen.insert(m.condition_id).second) << m.condition_id << " in two shards";
        EXPECT_EQ(m.token_ids.size(), 2u);  // a market travels whole
      }
    }
    EXPECT_EQ(seen.size(), all.size()) << n << " shards missed a market";
    // Balanced: 3,000 markets over n shards, each within 20% of the mean.
    const double mean = static_cast<double>(all.size()) / n;
    EXPECT_GT(static_cast<double>(smallest), 0.8 * mean) << n;
    EXPECT_LT(static_cast<double>(largest), 1.2 * mean) << n;
  }
  // Not sharded: everything stays, in its order.
  std::vector<pm::DiscoveredMarket> copy = all;
  EXPECT_EQ(keep_shard(copy, MarketShard{}), 0u);
  EXPECT_EQ(copy.size(), all.size());
}

TEST(MarketShard, TheRunIdLabelNamesShardAndReplicaWithoutUnderscores) {
  EXPECT_EQ(run_id_label(MarketShard{}, 0), "");
  EXPECT_EQ(run_id_label(MarketShard{1, 3}, 0), "-s1of3");
  EXPECT_EQ(run_id_label(MarketShard{}, 2), "-r2");
  EXPECT_EQ(run_id_label(MarketShard{0, 3}, 1), "-s0of3-r1");
}

}  // namespace
}  // namespace booktape
