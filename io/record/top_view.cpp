#include "io/record/top_view.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>

namespace booktape {

namespace {

namespace dom = simdjson::dom;

std::string str(dom::element e, const char* key) {
  std::string_view v;
  return e[key].get_string().get(v) ? std::string() : std::string(v);
}
std::uint64_t u64(dom::element e, const char* key) {
  std::uint64_t v = 0;
  return e[key].get_uint64().get(v) ? 0 : v;
}
std::optional<double> real(dom::element e, const char* key) {
  double v = 0;
  if (e[key].get_double().get(v) == simdjson::SUCCESS) return v;
  std::uint64_t u = 0;
  if (e[key].get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nullopt;
}
std::optional<std::string> opt_str(dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v)) return std::nullopt;
  return std::string(v);
}

TopLatency latency_of(dom::element e) {
  TopLatency l;
  l.count = u64(e, "count");
  l.avg_ns = u64(e, "avg_ns");
  l.p50_ns = u64(e, "p50_ns");
  l.p95_ns = u64(e, "p95_ns");
  l.max_ns = u64(e, "max_ns");
  return l;
}

std::string duration(std::uint64_t ns) {
  char b[32];
  if (ns >= 1'000'000'000) {
    std::snprintf(b, sizeof b, "%.2fs", static_cast<double>(ns) / 1e9);
  } else if (ns >= 1'000'000) {
    std::snprintf(b, sizeof b, "%.2fms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(b, sizeof b, "%.1fus", static_cast<double>(ns) / 1e3);
  }
  return b;
}

std::string latency_text(const char* name, const TopLatency& l) {
  return std::string(name) + " avg " + duration(l.avg_ns) + " p50 " + duration(l.p50_ns) + " p95 " +
         duration(l.p95_ns) + " max " + duration(l.max_ns);
}

std::string fixed(std::optional<double> v, int decimals) {
  if (!v) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, *v);
  return b;
}

// `s` cut or padded to `n` characters (left- or right-aligned).
std::string cell(std::string s, std::size_t n, bool right) {
  if (s.size() > n) s = n == 0 ? "" : s.substr(0, n - 1) + "~";
  const std::string pad(n - s.size(), ' ');
  return right ? pad + s : s + pad;
}

// The state as the table shows it (short enough for its column).
std::string short_state(const std::string& s) {
  return s == "awaiting_snapshot" ? "awaiting" : s;
}

constexpr const char* kReset = "\033[0m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kGreen = "\033[32m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kSilent = "\033[1;37;41m";  // bold white on red: a book silent > 10 s

}  // namespace

bool parse_top_status(std::string_view json, TopModel& out, std::string& error) {
  dom::parser parser;
  dom::element s;
  if (parser.parse(json.data(), json.size()).get(s) != simdjson::SUCCESS || !s.is_object()) {
    error = "not a JSON object";
    return false;
  }
  bool running = false;
  if (s["running"].get_bool().get(running) || !running) {
    error = "the recorder is not running yet";
    return false;
  }
  dom::element net, tokens;
  if (s["network"].get(net) || s["tokens"].get(tokens)) {
    error = "not a booktape /status (no network or tokens)";
    return false;
  }
  TopModel m;
  m.run_id = str(s, "run_id");
  m.now_utc = str(s, "now_utc");
  m.status_line = str(s, "status_line");
  m.frames = u64(net, "frames");
  m.reconnects = u64(net, "disconnects");
  m.connections_up = static_cast<std::uint32_t>(u64(net, "live_connections"));
  m.connections = static_cast<std::uint32_t>(u64(net, "shards"));
  m.frames_per_second = real(s, "frames_per_second").value_or(0);
  dom::element lat;
  if (!s["latency"].get(lat)) {
    m.read_to_book = latency_of(lat["read_to_book"]);
    m.read_to_archive = latency_of(lat["read_to_archive"]);
  }
  dom::object states;
  if (!s["books_by_state"].get(states)) {
    for (auto [k, v] : states) {
      std::uint64_t n = 0;
      if (!v.get_uint64().get(n)) m.books_by_state[std::string(k)] = static_cast<std::uint32_t>(n);
    }
  }
  dom::array links;
  if (!s["connections"].get(links)) {
    for (dom::element c : links) {
      TopConnection l;
      l.connection = static_cast<std::uint32_t>(u64(c, "connection"));
      bool up = false;
      l.up = !c["up"].get_bool().get(up) && up;
      l.assets = static_cast<std::uint32_t>(u64(c, "assets"));
      l.last_data_age_seconds = real(c, "last_data_age_seconds");
      l.last_close = str(c, "last_close");
      m.links.push_back(std::move(l));
    }
  }
  m.tokens = u64(tokens, "count");
  dom::array items;
  if (!tokens["items"].get(items)) {
    for (dom::element t : items) {
      TopRow r;
      r.asset_id = str(t, "asset_id");
      r.market = str(t, "market");
      r.outcome = str(t, "outcome");
      r.state = str(t, "state");
      r.bid = opt_str(t, "best_bid");
      r.ask = opt_str(t, "best_ask");
      r.spread_bps = real(t, "spread_bps");
      r.age_seconds = real(t, "age_seconds");
      r.updates_per_second = real(t, "updates_per_second").value_or(0);
      r.connection = static_cast<std::uint32_t>(u64(t, "connection"));
      m.rows.push_back(std::move(r));
    }
  }
  dom::array alerts;
  if (!s["alerts"].get(alerts)) {
    for (dom::element a : alerts) {
      std::string line = str(a, "fired_at_utc") + " " + str(a, "rule") + " " + str(a, "market");
      if (line.size() < 3) line = simdjson::minify(a);
      m.alerts.push_back(std::move(line));
    }
  }
  out = std::move(m);
  return true;
}

bool parse_top_sort(std::string_view name, TopSort& out) {
  for (const TopSort s : {TopSort::kMarket, TopSort::kSpread, TopSort::kAge, TopSort::kUpdates}) {
    if (name == to_string(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

const char* to_string(TopSort s) noexcept {
  switch (s) {
    case TopSort::kMarket:
      return "market";
    case TopSort::kSpread:
      return "spread";
    case TopSort::kAge:
      return "age";
    case TopSort::kUpdates:
      return "updates";
  }
  return "?";
}

std::vector<std::string> render_top(const TopModel& m, const TopLayout& layout) {
  const auto width = static_cast<std::size_t>(std::max(40, layout.width));
  std::vector<std::string> out;
  const auto line = [&](std::string text, const char* c = nullptr) {
    if (text.size() > width) text.resize(width);
    out.push_back(c != nullptr && layout.color ? c + text + kReset : text);
  };

  line("booktape top  " + m.run_id + "  " + m.now_utc.substr(0, 19) +
           "  sort: " + to_string(layout.sort) + (layout.descending ? " (desc)" : "") +
           (layout.keys ? "  [m s a u r q]" : ""),
       kBold);
  const auto state_count = [&](const char* s) {
    const auto it = m.books_by_state.find(s);
    return std::to_string(it == m.books_by_state.end() ? 0 : it->second);
  };
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", m.frames_per_second);
  line("frames " + std::to_string(m.frames) + " (" + rate + "/s)  connections " +
       std::to_string(m.connections_up) + "/" + std::to_string(m.connections) + " up, " +
       std::to_string(m.reconnects) + " reconnects");
  line("books  " + state_count("live") + " live, " + state_count("stale") + " stale, " +
       state_count("unconfirmed") + " unconfirmed, " + state_count("awaiting_snapshot") +
       " awaiting a snapshot, of " + std::to_string(m.tokens) + " tokens");
  line("latency " + latency_text("read->book   ", m.read_to_book));
  line("        " + latency_text("read->archive", m.read_to_archive));

  // Connection health: each one while they fit on a line, else the ones that are down.
  std::string links;
  std::size_t down = 0;
  for (const TopConnection& l : m.links) {
    if (!l.up) ++down;
    links += "  #" + std::to_string(l.connection) + (l.up ? " up" : " DOWN") + " " +
             std::to_string(l.assets) + " assets";
    if (l.up && l.last_data_age_seconds)
      links += ", data " + fixed(l.last_data_age_seconds, 1) + "s ago";
    if (!l.up && !l.last_close.empty()) links += " (" + l.last_close + ")";
  }
  if (links.size() + 12 > width && !m.links.empty()) {
    links = "  " + std::to_string(m.links.size() - down) + " up, " + std::to_string(down) + " down";
    for (const TopConnection& l : m.links) {
      if (!l.up) links += "; #" + std::to_string(l.connection) + " " + l.last_close;
    }
  }
  line("connections" + (links.empty() ? std::string("  none yet") : links),
       down > 0 ? kRed : nullptr);

  // Staleness alerts: books silent over 10 s, and the recorder's own alerts.
  std::vector<std::string> alerts;
  for (const TopRow& r : m.rows) {
    if (r.silent()) {
      alerts.push_back("STALE " + (r.market.empty() ? r.asset_id : r.market) + " " + r.outcome +
                       ": no update for " + fixed(r.age_seconds, 1) + " s");
    }
  }
  for (const std::string& a : m.alerts) alerts.push_back("ALERT " + a);
  if (alerts.empty()) {
    line("alerts  none", kGreen);
  } else {
    for (std::size_t i = 0; i < alerts.size() && i < 5; ++i) line(alerts[i], kRed);
    if (alerts.size() > 5)
      line("  ... " + std::to_string(alerts.size() - 5) + " more alerts", kRed);
  }
  out.emplace_back();

  // The table: market grows to the width left by the fixed columns.
  constexpr std::size_t kOutcome = 8, kState = 9, kPrice = 7, kSpread = 10, kAge = 8, kUpd = 8;
  const std::size_t fixed_cols = kOutcome + kState + 2 * kPrice + kSpread + kAge + kUpd + 7;
  std::size_t longest = 6;  // "MARKET"
  for (const TopRow& r : m.rows)
    longest = std::max(longest, (r.market.empty() ? r.asset_id : r.market).size());
  const std::size_t market_w =
      std::min(longest, width > fixed_cols + 10 ? width - fixed_cols - 1 : std::size_t{10});
  line(cell("MARKET", market_w, false) + " " + cell("OUTCOME", kOutcome, false) + " " +
           cell("STATE", kState, false) + " " + cell("BID", kPrice, true) + " " +
           cell("ASK", kPrice, true) + " " + cell("SPREAD bp", kSpread, true) + " " +
           cell("AGE s", kAge, true) + " " + cell("UPD/s", kUpd, true),
       kBold);

  std::vector<const TopRow*> rows;
  for (const TopRow& r : m.rows) rows.push_back(&r);
  const auto key = [&](const TopRow* r) -> std::optional<double> {
    switch (layout.sort) {
      case TopSort::kSpread:
        return r->spread_bps;
      case TopSort::kAge:
        return r->age_seconds;
      case TopSort::kUpdates:
        return r->updates_per_second;
      case TopSort::kMarket:
        break;
    }
    return std::nullopt;
  };
  if (layout.sort != TopSort::kMarket) {
    // Rows without a value (no book yet) go last either way.
    std::stable_sort(rows.begin(), rows.end(), [&](const TopRow* a, const TopRow* b) {
      const std::optional<double> x = key(a), y = key(b);
      if (!x || !y) return x.has_value() && !y.has_value();
      return layout.descending ? *x > *y : *x < *y;
    });
  } else if (layout.descending) {
    std::reverse(rows.begin(), rows.end());
  }
  const std::size_t room =
      layout.height > 0
          ? static_cast<std::size_t>(std::max(1, layout.height - static_cast<int>(out.size()) - 1))
          : rows.size();
  for (std::size_t i = 0; i < rows.size() && i < room; ++i) {
    const TopRow& r = *rows[i];
    const std::string text =
        cell(r.market.empty() ? r.asset_id : r.market, market_w, false) + " " +
        cell(r.outcome, kOutcome, false) + " " + cell(short_state(r.state), kState, false) + " " +
        cell(r.bid.value_or("-"), kPrice, true) + " " + cell(r.ask.value_or("-"), kPrice, true) +
        " " + cell(fixed(r.spread_bps, 1), kSpread, true) + " " +
        cell(fixed(r.age_seconds, 1), kAge, true) + " " +
        cell(fixed(r.updates_per_second, 1), kUpd, true);
    const char* c = r.silent()           ? kSilent
                    : r.state == "live"  ? nullptr
                    : r.state == "stale" ? kRed
                                         : kYellow;
    line(text, c);
  }
  if (rows.size() > room) {
    line("... " + std::to_string(rows.size() - room) + " more of " + std::to_string(m.tokens) +
         " tokens (sort to see others)");
  } else if (m.tokens > rows.size()) {
    line("... " + std::to_string(m.tokens - rows.size()) + " more tokens not sent by /status");
  }
  return out;
}

}  // namespace booktape
