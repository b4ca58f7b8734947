#include "io/record/market_shard.hpp"

#include <algorithm>
#include <charconv>

#include "codecs/sha256.hpp"

namespace booktape {

namespace {

bool parse_u32(std::string_view s, std::uint32_t& out) noexcept {
  if (s.empty() || s.size() > 9) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::optional<MarketShard> parse_market_shard(std::string_view text) noexcept {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  MarketShard s;
  if (!parse_u32(text.substr(0, slash), s.index) || !parse_u32(text.substr(slash + 1), s.count))
    return std::nullopt;
  if (s.count == 0 || s.count > kMaxShards || s.index >= s.count) return std::nullopt;
  return s;
}

std::string to_string(MarketShard s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

std::uint32_t shard_of(std::string_view key, std::uint32_t count) {
  if (count <= 1) return 0;
  Sha256 h;
  h.update(key.data(), key.size());
  const Sha256Digest d = h.finish();
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return static_cast<std::uint32_t>(v % count);
}

std::string market_key(const polymarket::DiscoveredMarket& m) {
  return m.condition_id.empty() ? "id:" + m.market_id : m.condition_id;
}

std::size_t keep_shard(std::vector<polymarket::DiscoveredMarket>& markets, MarketShard shard) {
  if (!shard.sharded()) return 0;
  const std::size_t before = markets.size();
  std::erase_if(markets, [shard](const polymarket::DiscoveredMarket& m) {
    return shard_of(market_key(m), shard.count) != shard.index;
  });
  return before - markets.size();
}

std::string run_id_label(MarketShard shard, int replica) {
  std::string s;
  if (shard.sharded()) s += "-s" + std::to_string(shard.index) + "of" + std::to_string(shard.count);
  if (replica > 0) s += "-r" + std::to_string(replica);
  return s;
}

}  // namespace booktape
