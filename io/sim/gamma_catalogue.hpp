#pragma once
// A Gamma catalogue the size of the real venue's, for discovery at scale (`booktape sim
// --gamma-markets N`): N markets listed on Gamma only (no market-channel traffic), in the shapes
// the venue lists in late 2026 (protocol note §9), each kind at a fixed rate by index so a test
// knows exactly what a correct discovery finds:
//   - one in ten is Protocol V2 ("v2": its asset ids in positionIds, a real array, with
//     decoy clobTokenIds beside them); the others are "v1" (clobTokenIds, a JSON-encoded
//     string), one in ten of them with decoy positionIds beside;
//   - closed (1 in 37): not listed by closed=false queries;
//   - still hydrating (1 in 101): ids listed as empty entries until the market was listed once,
//     then the real ones (a discovery that skipped it finds it the next time);
//   - no version (1 in 211), an unknown version "v3" (1 in 223), three outcomes for two ids
//     (1 in 227), a non-decimal id (1 in 229): never usable.
// Ids are numeric and ascend from 2,000,000 (after the simulator's own markets, 900,000 + n),
// so the catalogue is already in keyset (id) order. Deterministic for a seed; dates are relative
// to `now` (every open market is live: started a day ago, ends in 30 days).
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "codecs/polymarket_gamma.hpp"
#include "core/clock.hpp"

namespace booktape {

class GammaCatalogue {
 public:
  enum class Kind : std::uint8_t {
    kGood,
    kClosed,
    kHydrating,
    kNoVersion,
    kUnknownVersion,
    kUnmatchedOutcomes,
    kNonDecimalId
  };

  GammaCatalogue(std::size_t count, std::uint64_t seed, UnixNanos now);

  [[nodiscard]] const std::vector<polymarket::GammaMarket>& markets() const noexcept {
    return markets_;
  }
  [[nodiscard]] Kind kind(std::size_t i) const noexcept { return kinds_[i]; }

  // These markets were listed on a page: a hydrating one has its ids from now on.
  void listed(std::span<const polymarket::GammaMarket* const> page);

  // What a discovery of every open market must find now: each asset id with its market's
  // condition id (hydrating markets only once listed), and how many open markets it must skip,
  // by reason (in polymarket::SkipReason order).
  [[nodiscard]] std::map<std::string, std::string> expected_ids() const;
  [[nodiscard]] std::array<std::size_t, polymarket::kSkipReasonCount> expected_skips() const;

 private:
  std::vector<polymarket::GammaMarket> markets_;
  std::vector<Kind> kinds_;
  std::vector<std::vector<std::string>> pending_ids_;  // a hydrating market's ids, until listed
  std::vector<bool> hydrated_;
};

}  // namespace booktape
