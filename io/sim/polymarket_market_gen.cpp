#include "io/sim/polymarket_market_gen.hpp"

#include <algorithm>
#include <cstdio>

#include "codecs/book_json.hpp"
#include "codecs/envelope.hpp"
#include "core/l2_book.hpp"

namespace booktape::polymarket {

namespace {

struct Symbol {
  const char* slug;
  const char* name;
};
constexpr Symbol kSymbols[] = {{"btc", "Bitcoin"}, {"eth", "Ethereum"}, {"sol", "Solana"},
                               {"xrp", "XRP"},     {"doge", "Dogecoin"}, {"bnb", "BNB"}};

std::string price_text(Price p) { return format_price(p); }

// A V2 market's old CTF id, made from its position id without a random draw (the stream must
// stay the same): the digits rotated by one, a different 77-digit decimal.
std::string ctf_id_of(const std::string& position_id) {
  std::string s = position_id.substr(1) + position_id.front();
  if (s.front() == '0') s.front() = '9';
  return s;
}
std::string ms_text(std::int64_t ms) { return std::to_string(ms); }

// A top-of-book price as the venue writes it: an empty bid side as "0", an empty ask side as "1".
std::string best_bid_text(const SimBook& b) {
  return b.bids.empty() ? "0" : price_text(b.bids.rbegin()->first);
}
std::string best_ask_text(const SimBook& b) {
  return b.asks.empty() ? "1" : price_text(b.asks.begin()->first);
}

void append_levels(std::string& s, const SimBook& b) {
  // Real captures list bids ascending and asks descending: best LAST on both sides.
  s += "\"bids\":[";
  bool first = true;
  for (const auto& [p, sz] : b.bids) {
    s += first ? "" : ",";
    s += "{\"price\":\"" + price_text(p) + "\",\"size\":\"" + format_size(sz) + "\"}";
    first = false;
  }
  s += "],\"asks\":[";
  first = true;
  for (auto it = b.asks.rbegin(); it != b.asks.rend(); ++it) {
    s += first ? "" : ",";
    s += "{\"price\":\"" + price_text(it->first) + "\",\"size\":\"" + format_size(it->second) +
         "\"}";
    first = false;
  }
  s += ']';
}

}  // namespace

MarketSim::MarketSim(const SimOptions& options) : opt_(options), rng_(options.seed) {
  now_ = opt_.start != 0 ? opt_.start : realtime_now();
  if (opt_.window_scale_seconds <= 0) opt_.window_scale_seconds = 300;
  if (opt_.max_levels < opt_.min_levels) opt_.max_levels = opt_.min_levels;
  lane_latest_.assign(static_cast<std::size_t>(std::max(opt_.lanes, 0)), 0);
  for (int lane = 0; lane < opt_.lanes; ++lane) {
    const std::int64_t w = window_of(lane) * kNanosPerSecond;
    const UnixNanos current = now_ / w * w;
    add_market(lane, current);       // live now
    add_market(lane, current + w);   // listed one window ahead
  }
}

std::int64_t MarketSim::window_of(int lane) const {
  return lane % 2 == 0 ? opt_.window_scale_seconds : 3 * opt_.window_scale_seconds;
}

std::string MarketSim::random_digits(int n) {
  std::string s(static_cast<std::size_t>(n), '0');
  for (int i = 0; i < n; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>('0' + (i == 0 ? 1 + rng_() % 9 : rng_() % 10));
  return s;
}

std::string MarketSim::random_hex(int n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(n), '0');
  for (char& c : s) c = kHex[rng_() % 16];
  return s;
}

Size MarketSim::random_size() {
  // Half whole shares, half with up to 6 decimals, as the venue's sizes look.
  const Size shares = static_cast<Size>(1 + rng_() % 1'500);
  if (rng_() % 2 == 0) return shares * kSizeScale;
  return shares * kSizeScale + static_cast<Size>(rng_() % kSizeScale);
}

std::uint32_t MarketSim::add_market(int lane, UnixNanos window_start) {
  const auto idx = static_cast<std::uint32_t>(markets_.size());
  SimMarket m;
  m.lane = lane;
  m.window_seconds = window_of(lane);
  const std::size_t sym = static_cast<std::size_t>(lane / 2);
  const bool known = sym < std::size(kSymbols);
  m.symbol = known ? kSymbols[sym].slug : "sim" + std::to_string(sym);
  const std::string name = known ? kSymbols[sym].name : "Sim asset " + std::to_string(sym);
  const std::string span = m.window_seconds == opt_.window_scale_seconds ? "5m" : "15m";
  m.start = window_start;
  m.end = window_start + m.window_seconds * kNanosPerSecond;
  m.id = std::to_string(900'000 + idx);
  m.condition_id = "0x" + random_hex(64);
  m.slug = m.symbol + "-updown-" + span + "-" + std::to_string(window_start / kNanosPerSecond);
  m.series_slug = m.symbol + "-up-or-down-" + span;
  m.question = name + " Up or Down - " + format_utc(m.start).substr(0, 19) + "Z to " +
               format_utc(m.end).substr(11, 8) + "Z";
  m.tick = static_cast<int>(rng_() % 100) < opt_.fine_tick_percent ? 10 : 100;
  m.mid = static_cast<Price>(3'000 + rng_() % 4'001);
  m.up = static_cast<std::uint32_t>(tokens_.size());
  m.down = m.up + 1;
  tokens_.push_back(SimToken{random_digits(77), idx, true, {}, now_});
  tokens_.push_back(SimToken{random_digits(77), idx, false, {}, now_});
  token_index_[tokens_[m.up].id] = m.up;
  token_index_[tokens_[m.down].id] = m.down;
  auto& latest = lane_latest_[static_cast<std::size_t>(lane)];
  latest = std::max(latest, window_start);
  markets_.push_back(std::move(m));
  build_books(markets_.back());
  open_markets_.push_back(idx);
  return idx;
}

void MarketSim::build_books(SimMarket& m) {
  SimBook& up = tokens_[m.up].book;
  SimBook& down = tokens_[m.down].book;
  up.bids.clear();
  up.asks.clear();
  const Price t = m.tick;
  Price best_bid = (m.mid / t) * t - t * static_cast<Price>(rng_() % 2);
  best_bid = std::clamp<Price>(best_bid, t, kPriceOne - 2 * t);
  const Price best_ask = std::min<Price>(best_bid + t * static_cast<Price>(1 + rng_() % 2),
                                         kPriceOne - t);
  const int range = opt_.max_levels - opt_.min_levels + 1;
  const int nb = opt_.min_levels + static_cast<int>(rng_() % static_cast<unsigned>(range));
  const int na = opt_.min_levels + static_cast<int>(rng_() % static_cast<unsigned>(range));
  for (int i = 0; i < nb && best_bid - i * t >= t; ++i) up.bids[best_bid - i * t] = random_size();
  for (int i = 0; i < na && best_ask + i * t <= kPriceOne - t; ++i)
    up.asks[best_ask + i * t] = random_size();
  // Down is Up seen from the other side: Up's asks at p are Down's bids at 1-p, and vice versa.
  down.bids.clear();
  down.asks.clear();
  for (const auto& [p, s] : up.asks) down.bids[kPriceOne - p] = s;
  for (const auto& [p, s] : up.bids) down.asks[kPriceOne - p] = s;
}

void MarketSim::advance_to(UnixNanos now, std::vector<SimFrame>& out) {
  if (now > now_) now_ = now;
  // Resolve what ended.
  for (std::size_t i = 0; i < open_markets_.size();) {
    SimMarket& m = markets_[open_markets_[i]];
    if (now_ < m.end) {
      ++i;
      continue;
    }
    m.resolved = true;
    SimFrame f;
    f.payload = resolved_event(m);
    f.type = EventType::kMarketResolved;
    f.tokens[0] = m.up;
    f.tokens[1] = m.down;
    f.custom_only = true;
    out.push_back(std::move(f));
    open_markets_.erase(open_markets_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // Keep every lane listed one window ahead.
  for (int lane = 0; lane < opt_.lanes; ++lane) {
    const std::int64_t w = window_of(lane) * kNanosPerSecond;
    // The newest listed window has started: list the next one.
    while (lane_latest_[static_cast<std::size_t>(lane)] <= now_) {
      const std::uint32_t idx = add_market(lane, lane_latest_[static_cast<std::size_t>(lane)] + w);
      SimFrame f;
      f.payload = new_market_event(markets_[idx]);
      f.type = EventType::kNewMarket;
      f.tokens[0] = markets_[idx].up;
      f.tokens[1] = markets_[idx].down;
      f.custom_only = true;
      f.to_all_custom = true;
      out.push_back(std::move(f));
    }
  }
}

void MarketSim::next(std::vector<SimFrame>& out) {
  ++events_;
  if (open_markets_.empty()) return;
  const std::uint32_t m = open_markets_[rng_() % open_markets_.size()];
  const auto roll = static_cast<int>(rng_() % 1'000);
  if (roll < opt_.jump_per_mille) {
    jump(m, out);
  } else if (roll < opt_.jump_per_mille + opt_.trade_per_mille) {
    trade(m, out);
  } else {
    price_change(m, out);
  }
}

void MarketSim::price_change(std::uint32_t mi, std::vector<SimFrame>& out) {
  SimMarket& m = markets_[mi];
  const std::uint32_t t = rng_() % 2 == 0 ? m.up : m.down;
  const std::uint32_t other = t == m.up ? m.down : m.up;
  const bool bid = rng_() % 2 == 0;
  SimBook& book = tokens_[t].book;
  const Price tick = m.tick;

  // A price near this side's best: one tick better (if the spread allows) down to five worse.
  const int k = static_cast<int>(rng_() % 7) - 1;
  Price p = 0;
  if (bid) {
    const Price best = book.bids.empty() ? (m.mid / tick) * tick - tick : book.bids.rbegin()->first;
    p = best - k * tick;
  } else {
    const Price best = book.asks.empty() ? (m.mid / tick) * tick + tick : book.asks.begin()->first;
    p = best + k * tick;
  }
  p = std::clamp<Price>(p, tick, kPriceOne - tick);
  const bool crosses = bid ? (!book.asks.empty() && p >= book.asks.begin()->first)
                           : (!book.bids.empty() && p <= book.bids.rbegin()->first);
  if (crosses) p = bid ? book.asks.begin()->first - tick : book.bids.rbegin()->first + tick;
  if (p < tick || p > kPriceOne - tick) return;  // no room on this side at all

  auto& side = bid ? book.bids : book.asks;
  Size size = random_size();
  if (side.count(p) != 0 && side.size() > 1 && rng_() % 100 < 15) size = 0;  // a level leaves

  Change entries[2];
  std::size_t n = 0;
  entries[n++] = apply_change(t, bid, p, size);

  // Usually the same order shows in the complementary book too (Up bid p = Down ask 1-p).
  if (static_cast<int>(rng_() % 100) < opt_.paired_percent) {
    SimBook& ob = tokens_[other].book;
    const Price mp = kPriceOne - p;
    const bool mbid = !bid;
    const bool mcross = mbid ? (!ob.asks.empty() && mp >= ob.asks.begin()->first)
                             : (!ob.bids.empty() && mp <= ob.bids.rbegin()->first);
    const auto& mside = mbid ? ob.bids : ob.asks;
    if (!mcross && !(size == 0 && mside.count(mp) == 0))
      entries[n++] = apply_change(other, mbid, mp, size);
  }

  emit_changes(m, entries, n, out);
  for (std::size_t i = 0; i < n; ++i)
    if (entries[i].top_changed) emit_best_bid_ask(entries[i].token, out);
}

MarketSim::Change MarketSim::apply_change(std::uint32_t token, bool bid, Price price, Size size) {
  SimBook& b = tokens_[token].book;
  const std::string before = best_bid_text(b) + "/" + best_ask_text(b);
  auto& s = bid ? b.bids : b.asks;
  if (size == 0) s.erase(price); else s[price] = size;
  Change c{token, price, size, bid, best_bid_text(b), best_ask_text(b), false};
  c.top_changed = before != c.best_bid + "/" + c.best_ask;
  return c;
}

void MarketSim::emit_changes(const SimMarket& m, const Change* changes, std::size_t n,
                             std::vector<SimFrame>& out) {
  SimFrame f;
  f.type = EventType::kPriceChange;
  f.payload = "{\"market\":\"" + m.condition_id + "\",\"price_changes\":[";
  std::size_t routed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Change& e = changes[i];
    f.payload += i ? "," : "";
    f.payload += "{\"asset_id\":\"" + tokens_[e.token].id + "\",\"price\":\"" +
                 price_text(e.price) + "\",\"size\":\"" + format_size(e.size) + "\",\"side\":\"" +
                 (e.bid ? "BUY" : "SELL") + "\",\"hash\":\"" + random_hex(40) +
                 "\",\"best_bid\":\"" + e.best_bid + "\",\"best_ask\":\"" + e.best_ask + "\"}";
    if (routed < 2 && (routed == 0 || f.tokens[0] != e.token)) f.tokens[routed++] = e.token;
  }
  f.payload += "],\"timestamp\":\"" + ms_text(now_ms()) + "\",\"event_type\":\"price_change\"}";
  out.push_back(std::move(f));
}

void MarketSim::trade(std::uint32_t mi, std::vector<SimFrame>& out) {
  SimMarket& m = markets_[mi];
  const std::uint32_t t = rng_() % 2 == 0 ? m.up : m.down;
  const std::uint32_t other = t == m.up ? m.down : m.up;
  const bool buy = rng_() % 2 == 0;  // the taker's side: a buy lifts the best ask
  SimBook& book = tokens_[t].book;
  auto& side = buy ? book.asks : book.bids;
  if (side.empty()) return price_change(mi, out);
  const auto it = buy ? side.begin() : std::prev(side.end());
  const Price p = it->first;
  const Size size = std::max<Size>(kSizeScale / 100, std::min<Size>(it->second, random_size()));
  const Size taken = std::min(size, it->second);
  if (taken == it->second) side.erase(it); else it->second -= taken;
  book.last_trade = p;
  // The same fill seen from the complementary token: its opposite level at 1-p shrinks too.
  SimBook& ob = tokens_[other].book;
  auto& oside = buy ? ob.bids : ob.asks;
  const auto oit = oside.find(kPriceOne - p);
  if (oit != oside.end()) {
    if (oit->second <= taken) oside.erase(oit); else oit->second -= taken;
  }
  ob.last_trade = kPriceOne - p;

  SimFrame f;
  f.type = EventType::kLastTradePrice;
  f.tokens[0] = t;
  f.payload = "{\"market\":\"" + m.condition_id + "\",\"asset_id\":\"" + tokens_[t].id +
              "\",\"price\":\"" + price_text(p) + "\",\"size\":\"" + format_size(taken) +
              "\",\"fee_rate_bps\":\"0\",\"side\":\"" + (buy ? "BUY" : "SELL") +
              "\",\"timestamp\":\"" + ms_text(now_ms()) +
              "\",\"event_type\":\"last_trade_price\",\"transaction_hash\":\"0x" + random_hex(64) +
              "\"}";
  out.push_back(std::move(f));
  // The venue follows a trade that changed the book with fresh snapshots.
  emit_book(t, out);
  emit_book(other, out);
}

void MarketSim::jump(std::uint32_t mi, std::vector<SimFrame>& out) {
  SimMarket& m = markets_[mi];
  const auto delta = static_cast<Price>(static_cast<int>(rng_() % 6'001) - 3'000);
  m.mid = std::clamp<Price>(m.mid + delta, 150, kPriceOne - 150);
  // Near the ends of the range the venue moves to the finer grid, and back in the middle.
  bool reticked = true;
  if ((m.mid < 400 || m.mid > kPriceOne - 400) && m.tick == 100) {
    retick(mi, 10, out);
  } else if (m.mid >= 500 && m.mid <= kPriceOne - 500 && m.tick == 10) {
    retick(mi, 100, out);
  } else {
    reticked = false;
  }
  // (No random draw at 100%: the default stream stays what it always was.)
  if (reticked && opt_.tick_snapshot_percent < 100 &&
      static_cast<int>(rng_() % 100) >= opt_.tick_snapshot_percent) {
    return reprice_by_changes(mi, out);
  }
  build_books(m);
  emit_book(m.up, out);
  emit_book(m.down, out);
}

void MarketSim::retick(std::uint32_t mi, Price new_tick, std::vector<SimFrame>& out) {
  SimMarket& m = markets_[mi];
  const Price old = m.tick;
  m.tick = new_tick;
  for (std::uint32_t t : {m.up, m.down}) {
    SimFrame f;
    f.type = EventType::kTickSizeChange;
    f.tokens[0] = t;
    f.payload = "{\"event_type\":\"tick_size_change\",\"asset_id\":\"" + tokens_[t].id +
                "\",\"market\":\"" + m.condition_id + "\",\"old_tick_size\":\"" +
                price_text(old) + "\",\"new_tick_size\":\"" + price_text(new_tick) +
                "\",\"timestamp\":\"" + ms_text(now_ms()) + "\"}";
    out.push_back(std::move(f));
  }
}

void MarketSim::reprice_by_changes(std::uint32_t mi, std::vector<SimFrame>& out) {
  SimMarket& m = markets_[mi];
  // The books the jump moves to, on the new grid; the stream gets there by price changes alone.
  SimBook from[2] = {tokens_[m.up].book, tokens_[m.down].book};
  build_books(m);
  SimBook to[2] = {tokens_[m.up].book, tokens_[m.down].book};
  tokens_[m.up].book = from[0];
  tokens_[m.down].book = from[1];
  // Per token, first the levels that go, then the ones that come or change: the book passes
  // only through subsets of the old or of the new book, never crossed. 16 entries a frame, as
  // the venue batches a burst of order changes.
  constexpr std::size_t kPerFrame = 16;
  std::vector<Change> batch;
  const auto flush = [&] {
    if (batch.empty()) return;
    emit_changes(m, batch.data(), batch.size(), out);
    batch.clear();
  };
  for (int k = 0; k < 2; ++k) {
    const std::uint32_t t = k == 0 ? m.up : m.down;
    for (bool bid : {true, false}) {
      const auto& was = bid ? from[k].bids : from[k].asks;
      const auto& will = bid ? to[k].bids : to[k].asks;
      for (const auto& [p, sz] : was) {
        if (will.count(p) != 0) continue;
        batch.push_back(apply_change(t, bid, p, 0));
        if (batch.size() == kPerFrame) flush();
      }
    }
    for (bool bid : {true, false}) {
      const auto& was = bid ? from[k].bids : from[k].asks;
      const auto& will = bid ? to[k].bids : to[k].asks;
      for (const auto& [p, sz] : will) {
        const auto it = was.find(p);
        if (it != was.end() && it->second == sz) continue;
        batch.push_back(apply_change(t, bid, p, sz));
        if (batch.size() == kPerFrame) flush();
      }
    }
    flush();
    emit_best_bid_ask(t, out);
  }
}

void MarketSim::emit_book(std::uint32_t token, std::vector<SimFrame>& out) const {
  SimFrame f;
  f.type = EventType::kBook;
  f.tokens[0] = token;
  f.payload = book_event(token);
  out.push_back(std::move(f));
}

void MarketSim::emit_best_bid_ask(std::uint32_t token, std::vector<SimFrame>& out) const {
  const SimToken& t = tokens_[token];
  const SimBook& b = t.book;
  SimFrame f;
  f.type = EventType::kBestBidAsk;
  f.tokens[0] = token;
  f.custom_only = true;
  const std::string spread =
      b.bids.empty() || b.asks.empty()
          ? "1"
          : price_text(b.asks.begin()->first - b.bids.rbegin()->first);
  f.payload = "{\"event_type\":\"best_bid_ask\",\"market\":\"" + markets_[t.market].condition_id +
              "\",\"asset_id\":\"" + t.id + "\",\"best_bid\":\"" + best_bid_text(b) +
              "\",\"best_ask\":\"" + best_ask_text(b) + "\",\"spread\":\"" + spread +
              "\",\"timestamp\":\"" + ms_text(now_ms()) + "\"}";
  out.push_back(std::move(f));
}

BookSummary MarketSim::summary(std::uint32_t token) const {
  const SimToken& t = tokens_[token];
  const SimMarket& m = markets_[t.market];
  BookSummary s;
  s.market = m.condition_id;
  s.asset_id = t.id;
  s.timestamp_ms = now_ms();
  for (const auto& [p, sz] : t.book.bids) s.bids.push_back(Level{sz, p});
  for (const auto& [p, sz] : t.book.asks) s.asks.push_back(Level{sz, p});
  s.tick_size = m.tick;
  s.last_trade_price = t.book.last_trade;
  s.hash = book_hash(s);
  return s;
}

std::string MarketSim::book_event(std::uint32_t token) const {
  const SimToken& t = tokens_[token];
  const SimMarket& m = markets_[t.market];
  std::string s = "{\"market\":\"" + m.condition_id + "\",\"asset_id\":\"" + t.id +
                  "\",\"timestamp\":\"" + ms_text(now_ms()) + "\",\"hash\":\"" +
                  book_hash(summary(token)) + "\",";
  append_levels(s, t.book);
  s += ",\"event_type\":\"book\"}";
  return s;
}

std::string MarketSim::books_json() const {
  std::vector<std::uint32_t> order(tokens_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return tokens_[a].id < tokens_[b].id; });
  std::string out = "[";
  std::vector<Level> bids, asks;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const SimToken& t = tokens_[order[i]];
    bids.clear();
    asks.clear();
    for (const auto& [p, sz] : t.book.bids) bids.push_back(Level{sz, p});
    for (const auto& [p, sz] : t.book.asks) asks.push_back(Level{sz, p});
    L2Book b;  // only to render with the shared renderer: the model stays the std::map
    b.side(Side::kBid).assign(bids);
    b.side(Side::kAsk).assign(asks);
    out += i ? ",\n" : "\n";
    append_book_json(out, t.id, b, BookState::kLive, t.listed_at);
  }
  out += order.empty() ? "]\n" : "\n]\n";
  return out;
}

std::string MarketSim::new_market_event(const SimMarket& m) const {
  const std::string& up = tokens_[m.up].id;
  const std::string& down = tokens_[m.down].id;
  std::string s = "{\"event_type\":\"new_market\",\"id\":\"" + m.id + "\",\"question\":";
  append_json_string(s, m.question);
  s += ",\"market\":\"" + m.condition_id + "\",\"slug\":\"" + m.slug +
       "\",\"description\":\"Resolves Up if the price at the end of the window is at least the "
       "price at its start.\",\"assets_ids\":[\"" + up + "\",\"" + down +
       "\"],\"outcomes\":[\"Up\",\"Down\"],\"event_message\":{\"id\":\"" + m.id +
       "\",\"ticker\":\"" + m.slug + "\",\"slug\":\"" + m.slug + "\",\"title\":";
  append_json_string(s, m.question);
  s += ",\"description\":\"\"},\"timestamp\":\"" + ms_text(now_ms()) +
       "\",\"tags\":[\"crypto\"],\"condition_id\":\"" + m.condition_id +
       "\",\"active\":true,\"clob_token_ids\":[\"" + up + "\",\"" + down +
       "\"],\"order_price_min_tick_size\":\"" + price_text(m.tick) + "\"}";
  return s;
}

std::string MarketSim::resolved_event(const SimMarket& m) const {
  const bool up_wins = m.mid >= 5'000;
  std::string s = "{\"event_type\":\"market_resolved\",\"id\":\"" + m.id + "\",\"market\":\"" +
                  m.condition_id + "\",\"assets_ids\":[\"" + tokens_[m.up].id + "\",\"" +
                  tokens_[m.down].id + "\"],\"winning_asset_id\":\"" +
                  tokens_[up_wins ? m.up : m.down].id + "\",\"winning_outcome\":\"" +
                  (up_wins ? "Up" : "Down") + "\",\"timestamp\":\"" + ms_text(now_ms()) +
                  "\",\"tags\":[\"crypto\"]}";
  return s;
}

std::uint32_t MarketSim::find_token(std::string_view id) const {
  const auto it = token_index_.find(id);
  return it == token_index_.end() ? ~0u : it->second;
}

std::vector<std::uint32_t> MarketSim::open_tokens() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t mi : open_markets_) {
    out.push_back(markets_[mi].up);
    out.push_back(markets_[mi].down);
  }
  return out;
}

std::vector<GammaMarket> MarketSim::gamma_markets() const {
  std::vector<GammaMarket> out;
  for (const SimMarket& m : markets_) {
    GammaMarket g;
    g.id = m.id;
    g.question = m.question;
    g.condition_id = m.condition_id;
    g.slug = m.slug;
    g.series_slug = m.series_slug;
    g.start_date = m.start - m.window_seconds * kNanosPerSecond;  // listed a window ahead
    g.event_start_time = m.start;
    g.end_date = m.end;
    g.active = !m.resolved;
    g.closed = m.resolved;
    g.accepting_orders = !m.resolved;
    g.order_price_min_tick_size = m.tick;
    g.outcomes = {"Up", "Down"};
    g.clob_token_ids = {tokens_[m.up].id, tokens_[m.down].id};
    if (is_v2(m)) {
      // Protocol V2: the market channel knows the tokens by their position ids; clobTokenIds
      // still lists the old CTF ids, which would subscribe to nothing.
      g.version = "v2";
      g.position_ids = std::move(g.clob_token_ids);
      g.clob_token_ids = {ctf_id_of(tokens_[m.up].id), ctf_id_of(tokens_[m.down].id)};
    }
    g.outcome_prices = {price_text(m.mid), price_text(kPriceOne - m.mid)};
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<GammaEvent> MarketSim::gamma_events() const {
  std::vector<GammaEvent> out;
  const std::vector<GammaMarket> markets = gamma_markets();
  for (std::size_t i = 0; i < markets.size(); ++i) {
    const SimMarket& m = markets_[i];
    GammaEvent e;
    e.id = std::to_string(700'000 + i);
    e.ticker = m.slug;
    e.slug = m.slug;
    e.title = m.question;
    e.series_slug = m.series_slug;
    e.series_id = std::to_string(10'000 + m.lane);
    e.start_date = markets[i].start_date;
    e.end_date = m.end;
    e.active = !m.resolved;
    e.closed = m.resolved;
    e.markets.push_back(markets[i]);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace booktape::polymarket
