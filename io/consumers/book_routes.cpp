#include "io/consumers/book_routes.hpp"

#include <charconv>
#include <optional>

#include "core/clock.hpp"
#include "io/consumers/book_api.hpp"
#include "io/consumers/consumer_json.hpp"

namespace booktape {

namespace {

// A query parameter as a count in [0, max]; nullopt (and `why`) when it is not one.
std::optional<std::size_t> count_param(const HttpRequest& r, std::string_view key,
                                       std::size_t fallback, std::size_t max, std::string& why) {
  const std::optional<std::string> v = r.query_param(key);
  if (!v) return fallback;
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty() || n > max) {
    why =
        std::string(key) + "=" + *v + ": expected a whole number from 0 to " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

std::optional<Price> last_trade_of(const shm::SlotHead& h) {
  return h.last_trade_price == shm::kNoPrice ? std::nullopt
                                             : std::optional<Price>(h.last_trade_price);
}

}  // namespace

void BookRoutes::add_to(HttpServer& server) {
  server.route("GET", "/books", [this](const HttpRequest& r) { return books(r); });
  server.route_prefix("GET", "/books/", [this](const HttpRequest& r) { return book(r); });
  server.route_prefix("GET", "/odds/", [this](const HttpRequest& r) { return odds(r); });
}

void BookRoutes::set_tokens(const std::vector<TokenMeta>& tokens) {
  std::vector<Market> markets;
  std::map<std::string, std::size_t> by_key;
  for (const TokenMeta& t : tokens) {
    const std::string& key = !t.condition_id.empty() ? t.condition_id : t.slug;
    if (key.empty()) continue;  // a token given by id alone: /odds finds it by its book's market
    auto [it, fresh] = by_key.try_emplace(key, markets.size());
    if (fresh) markets.push_back(Market{t.slug, t.condition_id, {}});
    markets[it->second].outcomes.push_back(Outcome{t.outcome, t.asset_id});
  }
  for (std::size_t i = 0; i < markets.size(); ++i) {
    if (!markets[i].slug.empty()) by_key.try_emplace(markets[i].slug, i);
  }
  const std::lock_guard<std::mutex> lock(markets_mu_);
  markets_ = std::move(markets);
  market_by_key_ = std::move(by_key);
}

const std::uint32_t* BookRoutes::slot_of(const std::string& asset_id) {
  // A slot keeps its token for the table's life, so the index only ever grows.
  const std::uint32_t used = table_.slots_used();
  for (; indexed_ < used; ++indexed_) {
    if (table_.read_book(indexed_, scratch_) != shm::ReadResult::kOk) break;  // retried later
    slots_.try_emplace(scratch_.asset_id(), indexed_);
  }
  const auto it = slots_.find(asset_id);
  return it == slots_.end() ? nullptr : &it->second;
}

HttpReply BookRoutes::books(const HttpRequest& r) {
  std::string why;
  const auto offset = count_param(r, "offset", 0, table_.header().slot_count, why);
  const auto limit =
      offset ? count_param(r, "limit", kDefaultBooksPerPage, kMaxBooksPerPage, why) : std::nullopt;
  if (!offset || !limit) return HttpReply::error(400, why);
  const std::uint32_t used = table_.slots_used();
  const std::int64_t now = realtime_now();
  BookMessage message;
  std::string line;
  std::string out = "{\"total\":" + std::to_string(used) +
                    ",\"offset\":" + std::to_string(*offset) + ",\"books\":[";
  std::size_t i = *offset, n = 0;
  for (; i < used && n < *limit && out.size() < kMaxPageBytes; ++i) {
    if (table_.read_book(static_cast<std::uint32_t>(i), scratch_) != shm::ReadResult::kOk) continue;
    message.build(line, scratch_, now);
    out += n++ == 0 ? "" : ",";
    out += line;
  }
  out += "],\"next_offset\":";
  out += i < used ? std::to_string(i) : "null";
  out += '}';
  return HttpReply::json(std::move(out));
}

HttpReply BookRoutes::book(const HttpRequest& r) {
  const std::string id(r.path.substr(std::string_view("/books/").size()));
  const std::uint32_t* slot = slot_of(id);
  if (slot == nullptr || table_.read_book(*slot, scratch_) != shm::ReadResult::kOk)
    return HttpReply::not_found("no book for asset " + id);
  BookMessage message;  // for its L2Book of the slot's levels
  std::string unused;
  const std::int64_t now = realtime_now();
  message.build(unused, scratch_, now);
  const shm::SlotHead& h = scratch_.head;
  const std::string market = scratch_.market();
  BookSnapshot s;
  s.asset_id = id;
  s.market = market;
  s.book = &message.book();
  s.state = shm::state_name(h.state);
  s.last_trade = last_trade_of(h);
  s.received_ns = h.received_ns;
  s.whole_bids = h.bid_depth;
  s.whole_asks = h.ask_depth;
  return HttpReply::json(book_detail_json(s, now));
}

HttpReply BookRoutes::odds(const HttpRequest& r) {
  const std::string key(r.path.substr(std::string_view("/odds/").size()));
  Market m;
  {
    const std::lock_guard<std::mutex> lock(markets_mu_);
    if (const auto it = market_by_key_.find(key); it != market_by_key_.end())
      m = markets_[it->second];
  }
  if (m.outcomes.empty() && !key.empty()) {
    // Tokens given by id alone: a condition id is in their books' "market".
    (void)slot_of(key);  // brings the index up to date
    for (const auto& [asset, i] : slots_) {
      if (table_.read_book(i, scratch_) == shm::ReadResult::kOk && scratch_.market() == key)
        m.outcomes.push_back(Outcome{"", asset});
    }
    m.condition_id = key;
  }
  if (m.outcomes.empty()) return HttpReply::not_found("no market " + key);

  const std::int64_t now = realtime_now();
  std::vector<BookMessage> books(m.outcomes.size());
  std::vector<OutcomeSnapshot> outcomes(m.outcomes.size());
  std::vector<std::string> unused(m.outcomes.size());
  for (std::size_t k = 0; k < m.outcomes.size(); ++k) {
    OutcomeSnapshot& o = outcomes[k];
    o.outcome = m.outcomes[k].outcome;
    o.book.asset_id = m.outcomes[k].asset_id;
    o.book.market = m.condition_id;
    o.book.state = "awaiting_snapshot";  // no slot yet: nothing has arrived for it
    const std::uint32_t* slot = slot_of(m.outcomes[k].asset_id);
    if (slot == nullptr || table_.read_book(*slot, scratch_) != shm::ReadResult::kOk) continue;
    books[k].build(unused[k], scratch_, now);
    const shm::SlotHead& h = scratch_.head;
    o.book.book = &books[k].book();
    o.book.state = shm::state_name(h.state);
    o.book.last_trade = last_trade_of(h);
    o.book.received_ns = h.received_ns;
  }
  return HttpReply::json(odds_json(m.slug, m.condition_id, outcomes, now));
}

}  // namespace booktape
