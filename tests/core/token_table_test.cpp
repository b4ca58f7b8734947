#include "core/token_table.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace booktape {
namespace {

// A Polymarket-style asset id: 77 random decimal digits, no leading zero.
std::string random_id(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> digit(0, 9);
  std::string s(77, '0');
  s[0] = static_cast<char>('1' + digit(rng) % 9);
  for (std::size_t i = 1; i < s.size(); ++i) s[i] = static_cast<char>('0' + digit(rng));
  return s;
}

TEST(TokenTable, EmptyTableFindsNothing) {
  const TokenTable t;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find("123"), kNoToken);
  EXPECT_EQ(t.find(""), kNoToken);
}

TEST(TokenTable, InternAssignsDenseIndicesInInsertionOrder) {
  TokenTable t;
  EXPECT_EQ(t.intern("alpha"), 0u);
  EXPECT_EQ(t.intern("beta"), 1u);
  EXPECT_EQ(t.intern("gamma"), 2u);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.find("alpha"), 0u);
  EXPECT_EQ(t.find("beta"), 1u);
  EXPECT_EQ(t.find("gamma"), 2u);
  EXPECT_EQ(t.key(0), "alpha");
  EXPECT_EQ(t.key(1), "beta");
  EXPECT_EQ(t.key(2), "gamma");
}

TEST(TokenTable, InternOfKnownKeyReturnsItsIndexWithoutAdding) {
  TokenTable t;
  ASSERT_EQ(t.intern("alpha"), 0u);
  ASSERT_EQ(t.intern("beta"), 1u);
  EXPECT_EQ(t.intern("alpha"), 0u);
  EXPECT_EQ(t.intern(std::string("beta")), 1u);  // equal content from a different buffer
  EXPECT_EQ(t.size(), 2u);
}

TEST(TokenTable, FindOfAbsentKeyIsNoToken) {
  TokenTable t;
  const std::string id =
      "71321045679252212594626385532706912750332728571942532289631379312455583992563";
  t.intern(id);
  EXPECT_EQ(t.find(id.substr(0, 76)), kNoToken);  // a prefix
  EXPECT_EQ(t.find(id + "0"), kNoToken);          // an extension
  std::string other = id;
  other[0] = '8';
  EXPECT_EQ(t.find(other), kNoToken);
  EXPECT_EQ(t.size(), 1u);
}

TEST(TokenTable, KeysShorterThanEightCharsAreDistinct) {
  TokenTable t;
  const std::vector<std::string> keys{"", "1", "12", "21", "123", "1234567", "12345678", "a"};
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(t.intern(keys[i]), i) << keys[i];
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(t.find(keys[i]), i) << keys[i];
  EXPECT_EQ(t.find("2"), kNoToken);
  EXPECT_EQ(t.find("1234568"), kNoToken);
  EXPECT_EQ(t.size(), keys.size());
}

TEST(TokenTable, KeysWithEqualHashesAreStillDistinct) {
  // The hash samples only the first, middle and last 8 bytes of a long key; two 77-digit ids
  // that differ at byte 20 hash the same, so equality must be checked on the key itself.
  const std::string a =
      "71321045679252212594626385532706912750332728571942532289631379312455583992563";
  std::string b = a;
  b[20] = b[20] == '9' ? '0' : static_cast<char>(b[20] + 1);
  ASSERT_NE(a, b);
  ASSERT_EQ(TokenTable::hash(a), TokenTable::hash(b));
  TokenTable t;
  EXPECT_EQ(t.intern(a), 0u);
  EXPECT_EQ(t.intern(b), 1u);
  EXPECT_EQ(t.find(a), 0u);
  EXPECT_EQ(t.find(b), 1u);
  std::string c = a;
  c[21] = c[21] == '9' ? '0' : static_cast<char>(c[21] + 1);
  EXPECT_EQ(t.find(c), kNoToken);  // same hash, not present
}

TEST(TokenTable, GrowsPastManyThousandsOfLongIdsKeepingIndicesStable) {
  std::mt19937_64 rng(77);
  constexpr std::size_t kCount = 50'000;
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  while (ids.size() < kCount) {
    std::string id = random_id(rng);
    if (seen.insert(id).second) ids.push_back(std::move(id));
  }
  TokenTable t;
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(t.intern(ids[i]), i);
    // Every few hundred inserts (spanning each growth), earlier ids still map to themselves.
    if (i % 997 == 0) {
      for (std::size_t j = 0; j <= i; j += 13) ASSERT_EQ(t.find(ids[j]), j) << "after " << i;
    }
  }
  EXPECT_EQ(t.size(), kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(t.find(ids[i]), i);
    ASSERT_EQ(t.key(static_cast<TokenIndex>(i)), ids[i]);
    ASSERT_EQ(t.intern(ids[i]), i);  // re-interning adds nothing
  }
  EXPECT_EQ(t.size(), kCount);
  EXPECT_FALSE(t.hashes_whole_keys());  // random ids never defeat the sampled hash
  // Fresh ids are absent.
  for (int i = 0; i < 1'000; ++i) {
    const std::string id = random_id(rng);
    if (seen.count(id) == 0) {
      ASSERT_EQ(t.find(id), kNoToken) << id;
    }
  }
}

TEST(TokenTable, KeysCraftedToShareTheSampledBytesSwitchItToWholeKeyHashing) {
  // 77-digit ids equal in their first, middle and last 8 bytes all hash alike under sampling;
  // thousands of them (a crafted archive) would make every lookup a scan of one long run.
  const std::string base =
      "71321045679252212594626385532706912750332728571942532289631379312455583992563";
  auto crafted = [&](std::size_t n) {
    std::string id = base;
    for (std::size_t d = 0; d < 6; ++d, n /= 10) id[10 + d] = static_cast<char>('0' + n % 10);
    return id;
  };
  ASSERT_EQ(TokenTable::hash(crafted(1)), TokenTable::hash(crafted(2)));
  constexpr std::size_t kCount = 5'000;
  TokenTable t;
  for (std::size_t i = 0; i < kCount; ++i) ASSERT_EQ(t.intern(crafted(i)), i);
  EXPECT_TRUE(t.hashes_whole_keys());
  EXPECT_NE(t.full_hash(crafted(1)), t.full_hash(crafted(2)));
  for (std::size_t i = 0; i < kCount; ++i) ASSERT_EQ(t.find(crafted(i)), i);
  EXPECT_EQ(t.find(crafted(kCount)), kNoToken);
  EXPECT_EQ(t.find(base.substr(1)), kNoToken);
}

}  // namespace
}  // namespace booktape
