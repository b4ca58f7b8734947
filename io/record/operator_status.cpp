// GET /status: the recorder's counters (Recorder::status_json) plus the operator view: the
// status line, frames/s and its history, each connection, books by state, each token's top of
// book with its age, the last alerts, and the archive's disk (docs/OPERATIONS.md lists the
// fields). Prices and sizes are exact decimal strings, as everywhere else in booktape; rates,
// ages and spreads in basis points are numbers for display.
#include <algorithm>
#include <cstdio>
#include <string>

#include "codecs/envelope.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"
#include "core/version.hpp"
#include "io/record/operator_http.hpp"

namespace booktape {

namespace {

void key(std::string& out, const char* name) {
  out += '"';
  out += name;
  out += "\":";
}

void number(std::string& out, double v, int decimals = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  out += buf;
}

void price_or_null(std::string& out, Price p) {
  if (p == kNoPrice) {
    out += "null";
    return;
  }
  out += '"';
  out += format_price(p);
  out += '"';
}

void seconds_since(std::string& out, MonoNanos then, MonoNanos now) {
  if (then == 0) {
    out += "null";
    return;
  }
  number(out, static_cast<double>(now - then) / 1e9);
}

// `books_at`: when the book stage copied the books (the age is the book's at that moment).
void token_json(std::string& out, const TokenRow& t, MonoNanos books_at) {
  const TokenHealth& b = t.book;
  out += "{\"asset_id\":";
  append_json_string(out, t.asset_id);
  out += ",\"market\":";
  append_json_string(out, t.market);
  out += ",\"outcome\":";
  append_json_string(out, t.outcome);
  out += ",\"connection\":" + std::to_string(t.connection);
  out += ",\"state\":\"";
  out += to_string(t.has_book ? b.state : BookState::kAwaitingSnapshot);
  out += "\",\"stale_reason\":\"";
  out += to_string(t.has_book ? b.stale_reason : StaleReason::kNone);
  out += "\",\"best_bid\":";
  price_or_null(out, t.has_book ? b.best_bid : kNoPrice);
  out += ",\"best_ask\":";
  price_or_null(out, t.has_book ? b.best_ask : kNoPrice);
  out += ",\"bid_size\":\"" + format_size(t.has_book ? b.bid_size : 0) + "\"";
  out += ",\"ask_size\":\"" + format_size(t.has_book ? b.ask_size : 0) + "\"";
  const bool two_sided = t.has_book && b.best_bid != kNoPrice && b.best_ask != kNoPrice;
  out += ",\"mid\":";
  if (two_sided) {
    // Exact: (bid + ask) / 2 has at most one more decimal than the price grid.
    out += '"' +
           format_fixed(static_cast<Int128>(b.best_bid) * 5 + static_cast<Int128>(b.best_ask) * 5,
                        kPriceDecimals + 1) +
           '"';
  } else {
    out += "null";
  }
  out += ",\"spread\":";
  if (two_sided) {
    out += '"' + format_price(b.best_ask - b.best_bid) + '"';
  } else {
    out += "null";
  }
  out += ",\"spread_bps\":";
  if (two_sided && b.best_bid + b.best_ask > 0) {
    // Basis points of the mid, for display.
    number(out,
           2e4 * static_cast<double>(b.best_ask - b.best_bid) /
               static_cast<double>(b.best_bid + b.best_ask),
           2);
  } else {
    out += "null";
  }
  out += ",\"last_trade_price\":";
  price_or_null(out, t.has_book ? b.last_trade_price : kNoPrice);
  out += ",\"age_seconds\":";
  seconds_since(out, t.has_book ? b.last_update_mono : 0, books_at);
  out += ",\"updates\":" + std::to_string(t.has_book ? b.updates : 0);
  out += ",\"updates_per_second\":";
  number(out, t.updates_per_second, 2);
  out += ",\"crossed\":";
  out += t.has_book && b.crossed ? "true" : "false";
  out += ",\"in_sync\":";
  out += !t.has_book || b.in_sync ? "true" : "false";
  out += '}';
}

// `at`: when the network thread copied the connections (ages are to that moment).
void connection_json(std::string& out, const ConnectionHealth& c, MonoNanos at) {
  out += "{\"connection\":" + std::to_string(c.shard);
  out += ",\"up\":";
  out += c.up ? "true" : "false";
  out += ",\"session\":" + std::to_string(c.connection);
  out += ",\"assets\":" + std::to_string(c.assets);
  out += ",\"frames\":" + std::to_string(c.frames);
  out += ",\"bytes\":" + std::to_string(c.bytes);
  out += ",\"connects\":" + std::to_string(c.connects);
  out += ",\"closes\":" + std::to_string(c.closes);
  out += ",\"up_seconds\":";
  seconds_since(out, c.up_since, at);
  out += ",\"last_data_age_seconds\":";
  seconds_since(out, c.last_data_mono, at);
  out += ",\"last_close\":";
  append_json_string(out, c.last_close);
  out += '}';
}

// The seed's dashboard figures (avg, p50, p95, max) and p99, in ns.
void latency_json(std::string& out, const LatencyHistogram& h) {
  auto q = [&h](double x) { return std::to_string(h.quantile(x)); };
  out += "{\"count\":" + std::to_string(h.count()) + ",\"avg_ns\":";
  number(out, h.mean(), 0);
  out += ",\"p50_ns\":" + q(0.5) + ",\"p95_ns\":" + q(0.95) + ",\"p99_ns\":" + q(0.99) +
         ",\"max_ns\":" + std::to_string(h.max()) + '}';
}

}  // namespace

std::string operator_status_json(const OperatorSources& s, std::size_t token_limit) {
  const std::shared_ptr<const OperatorSnapshot> v = s.view->latest();
  const MonoNanos now = monotonic_now();
  std::string out = s.status_json();
  if (out.empty() || out.back() != '}') return out;
  out.pop_back();  // the object goes on with the view's fields

  out += ",\"version\":\"" BOOKTAPE_VERSION "\"";
  out += ",\"now_utc\":\"" + format_utc(realtime_now()) + "\",";
  key(out, "view_age_seconds");
  seconds_since(out, v->taken_mono, now);
  out += ',';
  key(out, "books_copy_age_seconds");
  seconds_since(out, v->books_taken_mono, now);
  out += ',';
  key(out, "status_line");
  append_json_string(out, v->status_line);
  out += ',';
  key(out, "frames_per_second");
  number(out, v->frames_per_second, 1);
  out += ',';
  key(out, "frames_history");
  out += '[';
  for (std::size_t i = 0; i < v->frames_history.size(); ++i) {
    if (i > 0) out += ',';
    number(out, v->frames_history[i], 1);
  }
  out += "],";

  key(out, "latency");
  out += "{\"read_to_book\":";
  latency_json(out, s.book->read_to_book);
  out += ",\"read_to_archive\":";
  if (s.archive != nullptr)
    latency_json(out, s.archive->read_to_archive);
  else
    out += "null";  // --books-only
  out += "},";

  key(out, "connections");
  out += '[';
  for (std::size_t i = 0; i < v->connections.size(); ++i) {
    if (i > 0) out += ',';
    connection_json(out, v->connections[i], v->connections_taken_mono);
  }
  out += "],";

  key(out, "books_by_state");
  out += '{';
  bool first = true;
  for (const auto& [state, count] : v->books_by_state) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, state);
    out += ':' + std::to_string(count);
  }
  out += "},";

  const std::size_t listed = std::min(token_limit, v->tokens.size());
  key(out, "tokens");
  out += "{\"count\":" + std::to_string(v->tokens.size()) +
         ",\"listed\":" + std::to_string(listed) + ",\"items\":[";
  for (std::size_t i = 0; i < listed; ++i) {
    if (i > 0) out += ',';
    token_json(out, v->tokens[i], v->books_taken_mono);
  }
  out += "]},";

  key(out, "alerts");
  out += s.alerts_json ? s.alerts_json() : "[]";
  out += ',';

  key(out, "disk");
  out += "{\"path\":";
  append_json_string(out, v->disk.path);
  out += ",\"archive_bytes\":" + std::to_string(v->disk.archive_bytes) +
         ",\"free_bytes\":" + std::to_string(v->disk.free_bytes) +
         ",\"total_bytes\":" + std::to_string(v->disk.total_bytes) + "}}";
  return out;
}

}  // namespace booktape
