#include "io/sim/gamma_service.hpp"

#include <charconv>

#include "codecs/envelope.hpp"

namespace booktape {

namespace pm = polymarket;

namespace {

constexpr std::int64_t kWindowNs = 10 * kNanosPerSecond;

GammaAnswer refusal(int status, std::string_view message) {
  // Gamma's shape for a refused query.
  std::string body = "{\"type\":\"validation error\",\"error\":";
  append_json_string(body, message);
  body += '}';
  return {status, std::move(body)};
}

const std::string* param(const pm::QueryParams& params, std::string_view key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : params)
    if (k == key) found = &v;
  return found;
}

}  // namespace

GammaService::GammaService(std::size_t catalogue_markets, std::uint64_t seed,
                           std::uint32_t limit_per_10s)
    : limit_(limit_per_10s, kWindowNs) {
  if (catalogue_markets > 0)
    catalogue_ = std::make_unique<GammaCatalogue>(catalogue_markets, seed, realtime_now());
}

bool GammaService::serves(std::string_view path) noexcept {
  return path == "/markets" || path == "/events" || path == "/markets/keyset" ||
         path == "/events/keyset";
}

GammaAnswer GammaService::answer(std::string_view path, const pm::QueryParams& params,
                                 const pm::MarketSim* market) {
  if (throttle_left_ > 0 || !limit_.try_take(monotonic_now())) {
    if (throttle_left_ > 0) --throttle_left_;
    ++throttled_;
    return refusal(429, "Too Many Requests");
  }
  const bool keyset = path.ends_with("/keyset");
  const std::string* offset = param(params, "offset");
  if (keyset && offset != nullptr) {
    return refusal(422, "offset is not supported on keyset endpoints; use after_cursor");
  }
  if (offset != nullptr) {
    std::size_t n = 0;
    const auto r = std::from_chars(offset->data(), offset->data() + offset->size(), n);
    if (r.ec != std::errc{} || n > pm::kGammaMaxOffset) {
      return refusal(422, "offset must be an integer from 0 to 10000");
    }
  }

  // Rows are pointers into these, valid for this answer.
  std::vector<pm::GammaMarket> rolling;
  std::vector<pm::GammaEvent> events;
  std::string next_cursor;
  if (path.starts_with("/markets")) {
    if (market != nullptr) rolling = market->gamma_markets();
    std::vector<const pm::GammaMarket*> all;
    all.reserve(rolling.size() + (catalogue_ ? catalogue_->markets().size() : 0));
    for (const pm::GammaMarket& m : rolling) all.push_back(&m);
    if (catalogue_)
      for (const pm::GammaMarket& m : catalogue_->markets()) all.push_back(&m);
    std::vector<const pm::GammaMarket*> page;
    if (!keyset) {
      page = pm::select_markets(all, params);
    } else if (!pm::keyset_markets(all, params, page, next_cursor)) {
      return refusal(422, "invalid after_cursor");
    }
    GammaAnswer a{200, keyset ? pm::render_markets_page(page, next_cursor)
                              : pm::render_markets(page)};
    if (catalogue_) catalogue_->listed(page);  // after rendering: hydration shows next time
    return a;
  }
  if (market != nullptr) events = market->gamma_events();
  std::vector<const pm::GammaEvent*> all;
  for (const pm::GammaEvent& e : events) all.push_back(&e);
  if (!keyset) {
    return {200, pm::render_events(pm::select_events(all, params))};
  }
  std::vector<const pm::GammaEvent*> page;
  if (!pm::keyset_events(all, params, page, next_cursor)) return refusal(422, "invalid after_cursor");
  return {200, pm::render_events_page(page, next_cursor)};
}

}  // namespace booktape
