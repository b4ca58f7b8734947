#pragma once
// A small deterministic generator of consistent Polymarket market-channel frames for tests:
// `book` snapshots in the venue's real layout (bids ascending, asks descending, best last) and
// `price_change` frames whose best_bid/best_ask are computed from a std::map reference model,
// so a correct book never diverges. Token ids are 77-digit strings like the venue's.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"

namespace booktape::testing {

class StreamGen {
 public:
  struct Model {
    std::map<Price, Size> bids, asks;
  };

  explicit StreamGen(std::uint64_t seed, int tokens = 4) : rng_(seed) {
    for (int i = 0; i < tokens; ++i) {
      std::string id;
      for (int d = 0; d < 77; ++d) id += static_cast<char>('0' + (d == 0 ? 1 + rng_() % 9 : rng_() % 10));
      ids_.push_back(id);
      models_.emplace_back();
      Model& m = models_.back();
      for (Price p = 100; p <= 4'800; p += 100) m.bids[p] = random_size();
      for (Price p = 5'000; p <= 9'900; p += 100) m.asks[p] = random_size();
    }
  }

  [[nodiscard]] const std::vector<std::string>& ids() const { return ids_; }
  [[nodiscard]] const Model& model(std::size_t i) const { return models_[i]; }

  std::string snapshot(std::size_t i) {
    const Model& m = models_[i];
    std::string s = "{\"market\":\"0x" + std::string(64, 'a') + "\",\"asset_id\":\"" + ids_[i] +
                    "\",\"timestamp\":\"" + std::to_string(ts_++) +
                    "\",\"hash\":\"0123456789abcdef0123456789abcdef01234567\",\"bids\":[";
    bool first = true;
    for (const auto& [p, sz] : m.bids) {  // ascending: best last, like real captures
      s += std::string(first ? "" : ",") + "{\"price\":\"" + format_price(p) +
           "\",\"size\":\"" + format_size(sz) + "\"}";
      first = false;
    }
    s += "],\"asks\":[";
    first = true;
    for (auto it = m.asks.rbegin(); it != m.asks.rend(); ++it) {  // descending: best last
      s += std::string(first ? "" : ",") + "{\"price\":\"" + format_price(it->first) +
           "\",\"size\":\"" + format_size(it->second) + "\"}";
      first = false;
    }
    s += "],\"event_type\":\"book\"}";
    return s;
  }

  // One price_change frame with 1 or 2 entries (two tokens of a "market" pair).
  std::string price_change() {
    const std::size_t pair = rng_() % (ids_.size() / 2 == 0 ? 1 : ids_.size() / 2);
    const int entries = 1 + static_cast<int>(rng_() % 2);
    std::string s = "{\"market\":\"0x" + std::string(64, 'b') + "\",\"price_changes\":[";
    for (int e = 0; e < entries; ++e) {
      const std::size_t t = std::min(ids_.size() - 1, pair * 2 + static_cast<std::size_t>(e));
      Model& m = models_[t];
      const bool bid = rng_() % 2 == 0;
      auto& side = bid ? m.bids : m.asks;
      const Price best_other = bid ? (m.asks.empty() ? 10'000 : m.asks.begin()->first)
                                   : (m.bids.empty() ? 0 : m.bids.rbegin()->first);
      Price p = 0;
      if (bid) {
        const Price hi = best_other - 100;
        p = hi - static_cast<Price>(rng_() % 8) * 100;
        if (p < 100) p = 100;
      } else {
        const Price lo = best_other + 100;
        p = lo + static_cast<Price>(rng_() % 8) * 100;
        if (p > 9'900) p = 9'900;
      }
      Size size = rng_() % 5 == 0 ? 0 : random_size();
      if (bid ? p >= best_other : p <= best_other) size = 0;  // never cross the book
      if (size == 0) side.erase(p); else side[p] = size;
      const std::string bb = m.bids.empty() ? "0" : format_price(m.bids.rbegin()->first);
      const std::string ba = m.asks.empty() ? "1" : format_price(m.asks.begin()->first);
      s += std::string(e ? "," : "") + "{\"asset_id\":\"" + ids_[t] + "\",\"price\":\"" +
           format_price(p) + "\",\"size\":\"" + format_size(size) + "\",\"side\":\"" +
           (bid ? "BUY" : "SELL") + "\",\"hash\":\"" + std::to_string(rng_()) +
           "\",\"best_bid\":\"" + bb + "\",\"best_ask\":\"" + ba + "\"}";
    }
    s += "],\"timestamp\":\"" + std::to_string(ts_++) + "\",\"event_type\":\"price_change\"}";
    return s;
  }

 private:
  Size random_size() {
    return static_cast<Size>(1 + rng_() % 5'000) * kSizeScale / 100 +
           static_cast<Size>(rng_() % 100);  // up to 6 decimals
  }

  std::mt19937_64 rng_;
  std::vector<std::string> ids_;
  std::vector<Model> models_;
  std::int64_t ts_ = 1'763'700'000'000;
};

}  // namespace booktape::testing
