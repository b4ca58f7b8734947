#pragma once
// Host-level sharding (`record --shard I/N`): N recorders split the venue's markets between
// them with no overlap and no gap, each keeping the markets whose condition id hashes to its
// index. Not the recorder's websocket connections (SubscriptionPlan also calls those shards):
// this decides which markets a process records at all; the plan then spreads them over
// connections. docs/RECORD.md, "Sharding across hosts".
//
// The rule, so anyone can check a split by hand: the first 8 bytes of SHA-256 over the
// condition id exactly as Gamma lists it ("0x..."), read big-endian, modulo N. In Python:
//   int(hashlib.sha256(cid.encode()).hexdigest()[:16], 16) % N
// It depends on the condition id only: not on discovery order, paging, the time or the host, so
// both outcomes of a market go together and N recorders agree without talking to each other.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/polymarket_gamma.hpp"

namespace booktape {

inline constexpr std::uint32_t kMaxShards = 1'000;
inline constexpr int kMaxReplica = 99;

struct MarketShard {
  std::uint32_t index = 0;  // 0 .. count-1 (a StatefulSet's pod ordinal)
  std::uint32_t count = 1;  // 1: not sharded, every market
  [[nodiscard]] bool sharded() const noexcept { return count > 1; }
  bool operator==(const MarketShard&) const = default;
};

// "I/N" with 0 <= I < N <= kMaxShards, digits only; nullopt for anything else.
[[nodiscard]] std::optional<MarketShard> parse_market_shard(std::string_view text) noexcept;
// "I/N" ("0/1" when not sharded).
[[nodiscard]] std::string to_string(MarketShard s);
// What a bad value is told (the expected form, with an example).
inline constexpr const char* kMarketShardForm =
    "I/N: this recorder's index I (from 0) of N recorders, 0 <= I < N <= 1000, e.g. 0/3";

// The shard (of `count`) that records the market with this key (its condition id).
[[nodiscard]] std::uint32_t shard_of(std::string_view key, std::uint32_t count);
// The key a market is known by, deduplicated and sharded by: its condition id, else (none
// listed) "id:" and its Gamma id, so a market without one is neither lost nor merged.
[[nodiscard]] std::string market_key(const polymarket::DiscoveredMarket& m);

// Keeps the markets of `shard` (in order); returns how many it removed.
std::size_t keep_shard(std::vector<polymarket::DiscoveredMarket>& markets, MarketShard shard);

// The run id's label for a shard and a replica: "" unsharded replica 0, "-s1of3", "-r1",
// "-s1of3-r1". Contains no '_' (archive file names split on it).
[[nodiscard]] std::string run_id_label(MarketShard shard, int replica);

}  // namespace booktape
