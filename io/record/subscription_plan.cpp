#include "io/record/subscription_plan.hpp"

#include <algorithm>
#include <unordered_set>

namespace booktape {

std::vector<std::size_t> SubscriptionPlan::update(const std::vector<std::vector<TokenInfo>>& groups) {
  std::unordered_map<std::string, const TokenInfo*> wanted;
  for (const auto& g : groups)
    for (const TokenInfo& t : g) wanted.emplace(t.token_id, &t);

  std::vector<bool> changed(shards_.size(), false);
  // Drop what is no longer wanted; refresh metadata of what stays (an end time can move).
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    auto& list = shards_[s];
    const std::size_t before = list.size();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const TokenInfo& t) { return !wanted.count(t.token_id); }),
               list.end());
    if (list.size() != before) changed[s] = true;
    for (TokenInfo& t : list) t = *wanted.at(t.token_id);
  }
  for (auto it = where_.begin(); it != where_.end();) {
    it = wanted.count(it->first) ? std::next(it) : where_.erase(it);
  }

  auto place = [&](const TokenInfo& t, std::size_t s) {
    if (s == shards_.size()) {
      shards_.emplace_back();
      changed.push_back(false);
    }
    shards_[s].push_back(t);
    where_[t.token_id] = s;
    changed[s] = true;
  };
  for (const auto& g : groups) {
    std::vector<const TokenInfo*> fresh;
    std::unordered_set<std::string> seen;
    for (const TokenInfo& t : g)
      if (!where_.count(t.token_id) && seen.insert(t.token_id).second) fresh.push_back(&t);
    if (fresh.empty()) continue;
    // All together on the first shard with room for the whole group...
    std::size_t target = shards_.size();
    for (std::size_t s = 0; s < shards_.size(); ++s) {
      if (shards_[s].size() + fresh.size() <= per_shard_) {
        target = s;
        break;
      }
    }
    if (target < shards_.size() || fresh.size() <= per_shard_) {
      for (const TokenInfo* t : fresh) place(*t, target);
      continue;
    }
    // ...else (a group larger than a connection) wherever there is room.
    std::size_t s = 0;
    for (const TokenInfo* t : fresh) {
      while (s < shards_.size() && shards_[s].size() >= per_shard_) ++s;
      place(*t, s);
    }
  }
  std::vector<std::size_t> out;
  for (std::size_t s = 0; s < changed.size(); ++s)
    if (changed[s]) out.push_back(s);
  return out;
}

std::vector<std::string> SubscriptionPlan::shard_assets(std::size_t i) const {
  std::vector<std::string> ids;
  ids.reserve(shards_[i].size());
  for (const TokenInfo& t : shards_[i]) ids.push_back(t.token_id);
  return ids;
}

std::vector<std::string> SubscriptionPlan::all_assets() const {
  std::vector<std::string> ids;
  ids.reserve(where_.size());
  for (const auto& list : shards_)
    for (const TokenInfo& t : list) ids.push_back(t.token_id);
  return ids;
}

}  // namespace booktape
