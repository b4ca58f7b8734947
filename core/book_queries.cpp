#include "core/book_queries.hpp"

namespace booktape {

std::optional<Price> best_bid(const L2Book& b) noexcept {
  return b.bids().empty() ? std::nullopt : std::optional<Price>(b.bids().best().price);
}

std::optional<Price> best_ask(const L2Book& b) noexcept {
  return b.asks().empty() ? std::nullopt : std::optional<Price>(b.asks().best().price);
}

std::optional<std::int64_t> mid_x2(const L2Book& b) noexcept {
  if (b.bids().empty() || b.asks().empty()) return std::nullopt;
  return std::int64_t{b.bids().best().price} + b.asks().best().price;
}

std::optional<Spread> spread(const L2Book& b) noexcept {
  const auto m2 = mid_x2(b);
  if (!m2 || *m2 <= 0) return std::nullopt;
  const Price abs = b.asks().best().price - b.bids().best().price;
  // bps x100 = abs / (m2 / 2) * 10^4 * 100 = abs * 2 * 10^6 / m2
  const std::int64_t num = std::int64_t{abs} * 2'000'000;
  const std::int64_t rounded = (num >= 0 ? num + *m2 / 2 : num - *m2 / 2) / *m2;
  return Spread{abs, rounded};
}

Depth depth_levels(const BookSide& side, std::size_t n) noexcept {
  Depth d;
  for (std::size_t i = 0; i < n && i < side.depth(); ++i) {
    const Level& l = side.level(i);
    d.size += l.size;
    d.notional += Notional{l.size} * l.price;
    ++d.levels;
  }
  return d;
}

Depth depth_band(const BookSide& side, Price band) noexcept {
  Depth d;
  if (side.empty()) return d;
  const Price best = side.best().price;
  for (std::size_t i = 0; i < side.depth(); ++i) {
    const Level& l = side.level(i);
    const Price away = side.side() == Side::kBid ? best - l.price : l.price - best;
    if (away > band) break;
    d.size += l.size;
    d.notional += Notional{l.size} * l.price;
    ++d.levels;
  }
  return d;
}

std::int64_t Fill::average_price_e8() const noexcept {
  if (filled <= 0) return 0;
  // cost (1e-10) / filled (1e-6) = price in 1e-4; x10^4 for 1e-8.
  return static_cast<std::int64_t>((cost * 10'000 + filled / 2) / filled);
}

namespace {
const BookSide& walked_side(const L2Book& b, Action a) noexcept {
  return a == Action::kBuy ? b.asks() : b.bids();
}
}  // namespace

Fill fill_size(const L2Book& b, Action a, Size size) noexcept {
  Fill f;
  const BookSide& side = walked_side(b, a);
  Size left = size;
  for (std::size_t i = 0; i < side.depth() && left > 0; ++i) {
    const Level& l = side.level(i);
    const Size take = l.size < left ? l.size : left;
    f.filled += take;
    f.cost += Notional{take} * l.price;
    f.worst_price = l.price;
    ++f.levels;
    left -= take;
  }
  f.complete = left <= 0;
  return f;
}

Fill fill_notional(const L2Book& b, Action a, Notional notional) noexcept {
  Fill f;
  const BookSide& side = walked_side(b, a);
  Notional left = notional;
  bool budget_spent = notional <= 0;
  for (std::size_t i = 0; i < side.depth() && !budget_spent; ++i) {
    const Level& l = side.level(i);
    if (l.price <= 0) continue;  // a zero price cannot absorb notional
    const Notional level_cost = Notional{l.size} * l.price;
    Size take = l.size;
    if (level_cost >= left) {
      take = static_cast<Size>(left / l.price);  // whole micro-shares only
      budget_spent = true;
    }
    if (take == 0) break;
    f.filled += take;
    f.cost += Notional{take} * l.price;
    f.worst_price = l.price;
    ++f.levels;
    left -= Notional{take} * l.price;
  }
  f.complete = budget_spent;
  return f;
}

DisplayedPrice displayed_price(const L2Book& b, std::optional<Price> last_trade) noexcept {
  const auto m2 = mid_x2(b);
  if (m2) {
    const Price abs = b.asks().best().price - b.bids().best().price;
    if (abs <= kDisplayMaxSpread || !last_trade) return {*m2, DisplaySource::kMidpoint};
  }
  if (last_trade) return {std::int64_t{*last_trade} * 2, DisplaySource::kLastTrade};
  return {};
}

const char* to_string(DisplaySource s) noexcept {
  switch (s) {
    case DisplaySource::kNone: return "none";
    case DisplaySource::kMidpoint: return "midpoint";
    case DisplaySource::kLastTrade: return "last_trade";
  }
  return "?";
}

}  // namespace booktape
