#pragma once
// Which websocket connection ("shard") carries which token. Assignment is sticky: a token stays
// on its shard for as long as it is recorded, so a market roll only touches the shards that
// gain or lose tokens (an operation on an open connection, not a reconnect of everything). A
// market's tokens are placed together when they fit, so Up and Down share a connection.
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "codecs/envelope.hpp"

namespace booktape {

class SubscriptionPlan {
 public:
  explicit SubscriptionPlan(std::size_t per_shard) : per_shard_(per_shard == 0 ? 1 : per_shard) {}

  // Makes the plan carry exactly the tokens of `groups` (a group: one market's tokens). Tokens
  // already placed keep their shard; new groups go to the first shard with room for all of
  // them, else spread over shards with room, else new shards. Returns the indices of the
  // shards whose token list changed, ascending.
  std::vector<std::size_t> update(const std::vector<std::vector<TokenInfo>>& groups);

  [[nodiscard]] std::size_t shard_count() const noexcept { return shards_.size(); }
  [[nodiscard]] const std::vector<TokenInfo>& shard(std::size_t i) const { return shards_[i]; }
  [[nodiscard]] std::vector<std::string> shard_assets(std::size_t i) const;
  // Every token carried, shard by shard.
  [[nodiscard]] std::vector<std::string> all_assets() const;
  [[nodiscard]] std::size_t token_count() const noexcept { return where_.size(); }

 private:
  std::size_t per_shard_;
  std::vector<std::vector<TokenInfo>> shards_;
  std::unordered_map<std::string, std::size_t> where_;  // token id -> shard
};

}  // namespace booktape
