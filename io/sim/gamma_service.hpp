#pragma once
// The simulator's Gamma: GET /markets, /events and their keyset forms, with the real venue's
// paging rules (protocol note §9), over the generator's rolling markets and, optionally, a
// catalogue of the venue's size (io/sim/gamma_catalogue.hpp):
//   - plain /markets and /events: at most 100 items a page whatever `limit` asks; `offset` above
//     10,000 is refused with 422;
//   - /markets/keyset (100 a page) and /events/keyset (500 a page): {"markets"|"events": [...],
//     "next_cursor": "..."}, the cursor absent on the last page, `after_cursor` to go on; any
//     `offset` is refused with 422, as is a cursor it did not issue;
//   - a rate limit (requests per 10 s, a sliding window) and the gamma_429 fault answer 429.
// Runs on the simulator's thread; not thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/polymarket_gamma.hpp"
#include "core/clock.hpp"
#include "core/rate_window.hpp"
#include "io/sim/gamma_catalogue.hpp"
#include "io/sim/polymarket_market_gen.hpp"

namespace booktape {

struct GammaAnswer {
  int status = 200;
  std::string body;
};

class GammaService {
 public:
  // `catalogue_markets` 0: only the generator's markets. `limit_per_10s` 0: no rate limit.
  GammaService(std::size_t catalogue_markets, std::uint64_t seed, std::uint32_t limit_per_10s);

  [[nodiscard]] static bool serves(std::string_view path) noexcept;
  // `market` may be null (replay mode: nothing is listed).
  GammaAnswer answer(std::string_view path, const polymarket::QueryParams& params,
                     const polymarket::MarketSim* market);

  void throttle_next(std::uint64_t requests) noexcept { throttle_left_ += requests; }
  [[nodiscard]] std::uint64_t throttled() const noexcept { return throttled_; }
  [[nodiscard]] const GammaCatalogue* catalogue() const noexcept { return catalogue_.get(); }

 private:
  std::unique_ptr<GammaCatalogue> catalogue_;
  SlidingWindowLimit limit_;
  std::uint64_t throttle_left_ = 0;
  std::uint64_t throttled_ = 0;
};

}  // namespace booktape
