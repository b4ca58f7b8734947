// Token-to-connection assignment: sticky, market tokens together, bounded per connection.
#include <gtest/gtest.h>

#include "io/record/subscription_plan.hpp"

namespace booktape {
namespace {

std::vector<TokenInfo> market(const std::string& slug, int tokens = 2) {
  std::vector<TokenInfo> out;
  for (int i = 0; i < tokens; ++i) out.push_back(TokenInfo{slug + "-" + std::to_string(i), slug, "0x" + slug, i ? "Down" : "Up", ""});
  return out;
}

TEST(SubscriptionPlan, FillsConnectionsUpToTheLimitKeepingMarketsTogether) {
  SubscriptionPlan p(5);
  const auto changed = p.update({market("a"), market("b"), market("c")});
  ASSERT_EQ(p.shard_count(), 2u);
  EXPECT_EQ(changed, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(p.shard_assets(0), (std::vector<std::string>{"a-0", "a-1", "b-0", "b-1"}));
  EXPECT_EQ(p.shard_assets(1), (std::vector<std::string>{"c-0", "c-1"}));  // c's pair stays whole
  EXPECT_EQ(p.token_count(), 6u);
}

TEST(SubscriptionPlan, ARollTouchesOnlyTheConnectionsThatChange) {
  SubscriptionPlan p(4);
  p.update({market("a"), market("b"), market("c")});
  // a ends, d begins: d takes a's room on connection 0; connection 1 is untouched.
  const auto changed = p.update({market("b"), market("c"), market("d")});
  EXPECT_EQ(changed, (std::vector<std::size_t>{0}));
  EXPECT_EQ(p.shard_assets(0), (std::vector<std::string>{"b-0", "b-1", "d-0", "d-1"}));
  EXPECT_EQ(p.shard_assets(1), (std::vector<std::string>{"c-0", "c-1"}));
  // Nothing new: nothing changes.
  EXPECT_TRUE(p.update({market("b"), market("c"), market("d")}).empty());
  // Everything gone: every connection changes, to empty.
  EXPECT_EQ(p.update({}), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(p.token_count(), 0u);
  EXPECT_TRUE(p.all_assets().empty());
}

TEST(SubscriptionPlan, AGroupLargerThanAConnectionIsSpreadAndDuplicatesCountOnce) {
  SubscriptionPlan p(3);
  p.update({market("big", 7), market("big", 7)});
  ASSERT_EQ(p.shard_count(), 3u);
  EXPECT_EQ(p.shard(0).size(), 3u);
  EXPECT_EQ(p.shard(1).size(), 3u);
  EXPECT_EQ(p.shard(2).size(), 1u);
  EXPECT_EQ(p.token_count(), 7u);
  EXPECT_EQ(p.shard(0)[1].outcome, "Down");  // metadata travels with the token
}

}  // namespace
}  // namespace booktape
