// Market discovery through Gamma: series listings or the whole active catalogue, page by page
// along keyset cursors (io/record/gamma_fetcher does the requests), parsed by parse_gamma_page,
// deduplicated, selected by window, and written as the seed's discovery files. Cold path (a few
// hundred requests a minute at most): clarity over allocation counts.
#include "io/record/polymarket_discovery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "codecs/envelope.hpp"
#include "codecs/gzip_member.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"
#include "core/fixed_point.hpp"
#include "io/archive/paths.hpp"
#include "io/record/gamma_fetcher.hpp"

namespace booktape {

namespace fs = std::filesystem;
namespace pm = polymarket;

namespace {

constexpr const char* kLatestName = "polymarket_btc_markets_latest.json";
constexpr const char* kManifestName = "polymarket_btc_markets_manifest.json";

// RFC 3986 unreserved characters pass; everything else becomes %XX, so a series slug with '&',
// '=' or a space cannot change the query's meaning.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

// Adds the markets not seen yet; returns how many. The key is the condition id (what the CLOB
// knows a market by; io/record/market_shard.hpp).
std::size_t add_unique(std::vector<pm::DiscoveredMarket>& found,
                       std::unordered_set<std::string>& seen,
                       std::vector<pm::DiscoveredMarket>& page) {
  std::size_t added = 0;
  for (pm::DiscoveredMarket& m : page) {
    if (seen.insert(market_key(m)).second) {
      found.push_back(std::move(m));
      ++added;
    }
  }
  return added;
}

// One listing, page by page along next_cursor until it is absent (docs/RECORD.md). `base` is the
// path and filters; the page size and cursor are added.
void list_all(GammaFetcher& fetcher, const DiscoveryOptions& o, const std::string& base,
              int page_size, const std::string& label, DiscoveryResult& r,
              std::unordered_set<std::string>& seen) {
  std::unordered_set<std::string> cursors;
  std::string cursor;
  pm::GammaPage page;
  for (int pages = 0;; ++pages) {
    if (pages == o.max_pages) {
      r.errors.push_back(label + ": stopped after " + std::to_string(pages) +
                         " pages (max_pages); the listing goes on");
      return;
    }
    std::string target = base + "&limit=" + std::to_string(page_size);
    if (!cursor.empty()) target += "&after_cursor=" + percent_encode(cursor);
    if (!fetcher.fetch(target, label, page)) return;  // the error line says why
    ++r.pages;
    const std::size_t added = add_unique(r.markets, seen, page.markets);
    if (o.progress) o.progress(DiscoveryProgress{r.pages, r.markets.size(), r.skipped.size()});
    // The end is an absent cursor, never a short page: the venue caps pages at its own size.
    if (!page.next_cursor) return;
    if (!cursors.insert(*page.next_cursor).second) {
      r.errors.push_back(label + ": next_cursor repeated after " + std::to_string(pages + 1) +
                         " pages; the listing does not advance, stopped there");
      return;
    }
    if (added == 0 && page.skipped.empty() && page.entries > 0) {
      r.errors.push_back(label + ": page " + std::to_string(pages + 1) +
                         " listed only markets already seen; the listing does not advance, "
                         "stopped there");
      return;
    }
    cursor = *page.next_cursor;
  }
}

// End time with "unknown" (0) after every known one, then slug: a stable, readable order.
bool earlier(const pm::DiscoveredMarket& a, const pm::DiscoveredMarket& b) {
  const auto key = [](const pm::DiscoveredMarket& m) {
    return std::make_tuple(m.end == 0, m.end, std::string_view(m.slug),
                           std::string_view(m.condition_id));
  };
  return key(a) < key(b);
}

void append_key(std::string& out, const char* key) {
  out += '"';
  out += key;
  out += "\":";
}

void append_string_or_null(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "null";
  } else {
    append_json_string(out, s);
  }
}

void append_time_or_null(std::string& out, UnixNanos t) {
  if (t == 0) {
    out += "null";
  } else {
    append_json_string(out, format_utc(t));
  }
}

void append_bool(std::string& out, bool b) {
  out += b ? "true" : "false";
}

void append_market(std::string& out, const pm::DiscoveredMarket& m) {
  out += '{';
  append_key(out, "slug");
  append_json_string(out, m.slug);
  out += ',';
  append_key(out, "question");
  append_json_string(out, m.question);
  out += ',';
  append_key(out, "condition_id");
  append_json_string(out, m.condition_id);
  out += ',';
  append_key(out, "market_id");
  append_json_string(out, m.market_id);
  out += ',';
  append_key(out, "series_slug");
  append_string_or_null(out, m.series_slug);
  out += ',';
  append_key(out, "outcomes");
  out += '[';
  for (std::size_t i = 0; i < m.outcomes.size(); ++i) {
    if (i != 0) out += ',';
    append_json_string(out, m.outcomes[i]);
  }
  out += "],";
  append_key(out, "tokens");
  out += '[';
  // parse_gamma guarantees equal lengths; min() keeps a hand-built record from reading past.
  const std::size_t n = std::min(m.token_ids.size(), m.outcomes.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    out += '{';
    append_key(out, "token_id");
    append_json_string(out, m.token_ids[i]);
    out += ',';
    append_key(out, "outcome");
    append_json_string(out, m.outcomes[i]);
    out += '}';
  }
  out += "],";
  append_key(out, "up_token_id");
  append_string_or_null(out, m.up_token_id);
  out += ',';
  append_key(out, "down_token_id");
  append_string_or_null(out, m.down_token_id);
  out += ',';
  append_key(out, "start_time_utc");
  append_time_or_null(out, m.start);
  out += ',';
  append_key(out, "end_time_utc");
  append_time_or_null(out, m.end);
  out += ',';
  append_key(out, "active");
  append_bool(out, m.active);
  out += ',';
  append_key(out, "closed");
  append_bool(out, m.closed);
  out += ',';
  append_key(out, "accepting_orders");
  append_bool(out, m.accepting_orders);
  out += ',';
  append_key(out, "tick_size");
  if (m.tick == 0) {
    out += "null";
  } else {
    append_json_string(out, format_price(m.tick));
  }
  out += '}';
}

std::string compact_utc(UnixNanos t) {
  const CivilTime c = to_civil(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

// gamma_<time>.jsonl.gz, or gamma_<time>-2.jsonl.gz ... when two discoveries share a second: an
// earlier run's raw responses are never replaced.
std::string free_raw_name(const fs::path& raw_dir, UnixNanos t) {
  const std::string stem = "gamma_" + compact_utc(t);
  std::string name = stem + ".jsonl.gz";
  for (int i = 2; fs::exists(raw_dir / name); ++i) {
    name = stem + "-" + std::to_string(i) + ".jsonl.gz";
  }
  return name;
}

// One JSONL line per response, compressed as gzip members of at most kMaxBlockRawBytes each
// (one member in practice: bodies are capped at the HTTP client's max_body).
std::string raw_responses_gz(const DiscoveryResult& r, const std::string& source_url) {
  GzipMemberWriter gz(6);
  ByteBuffer out;
  std::string block;
  std::uint32_t rows = 0;
  const auto flush = [&] {
    if (rows == 0) return;
    gz.compress(block, rows, out);
    block.clear();
    rows = 0;
  };
  for (std::size_t i = 0; i < r.raw_responses.size(); ++i) {
    const GammaResponse& g = r.raw_responses[i];
    std::string line = "{\"fetched_at_utc\":";
    append_json_string(line, format_utc(g.fetched_at));
    line += ",\"request_index\":" + std::to_string(i) + ",\"method\":\"GET\",\"url\":";
    append_json_string(line, source_url + g.target);
    line += ",\"status\":" + std::to_string(g.status) + ",\"body\":";
    append_json_string(line, g.body);
    line += "}\n";
    if (block.size() + line.size() > kMaxBlockRawBytes) flush();
    block += line;
    ++rows;
  }
  flush();
  return std::string(out.view());
}

}  // namespace

DiscoveryResult discover(const DiscoveryOptions& options) {
  DiscoveryResult r;
  r.fetched_at = realtime_now();
  GammaFetcher fetcher(options, r);
  std::unordered_set<std::string> seen;
  if (options.all_active) {
    list_all(fetcher, options, "/markets/keyset?active=true&closed=false",
             std::clamp<int>(options.markets_page_size, 1, pm::kGammaPageCap), "GET /markets/keyset",
             r, seen);
  } else {
    // Every page of every series: a day of five-minute windows (288) fits one page of 500, but
    // a long series or a larger pre-listing must not be cut.
    for (const std::string& slug : options.series) {
      list_all(fetcher, options,
               "/events/keyset?series_slug=" + percent_encode(slug) + "&closed=false",
               std::clamp<int>(options.events_page_size, 1, pm::kGammaEventsKeysetCap),
               "GET /events/keyset?series_slug=" + slug, r, seen);
    }
  }
  // After the whole listing, so the split depends on the markets only, not on paging or order.
  r.shard = options.shard;
  r.other_shards = keep_shard(r.markets, options.shard);
  return r;
}

std::array<std::size_t, pm::kSkipReasonCount> DiscoveryResult::skipped_by_reason() const {
  std::array<std::size_t, pm::kSkipReasonCount> n{};
  for (const pm::SkippedMarket& s : skipped) ++n[static_cast<std::size_t>(s.reason)];
  return n;
}

std::string skipped_summary(const DiscoveryResult& r, std::size_t names) {
  if (r.skipped.empty()) return {};
  const auto by_reason = r.skipped_by_reason();
  std::string out = std::to_string(r.skipped.size()) + " skipped:";
  bool first = true;
  for (std::size_t k = 0; k < by_reason.size(); ++k) {
    if (by_reason[k] == 0) continue;
    const auto reason = static_cast<pm::SkipReason>(k);
    out += first ? " " : ", ";
    first = false;
    out += std::to_string(by_reason[k]) + " " + pm::to_string(reason) + " (";
    std::size_t shown = 0;
    for (const pm::SkippedMarket& s : r.skipped) {
      if (s.reason != reason) continue;
      if (shown == names) {
        out += ", ...";
        break;
      }
      out += shown ? ", " : "";
      out += s.name;
      ++shown;
    }
    out += ')';
  }
  return out;
}

std::vector<pm::DiscoveredMarket> select_markets(const std::vector<pm::DiscoveredMarket>& markets,
                                                 UnixNanos now, std::int64_t lead_ns, int limit,
                                                 bool require_up_down) {
  std::vector<pm::DiscoveredMarket> out;
  for (const pm::DiscoveredMarket& m : markets) {
    if (m.closed || m.token_ids.empty()) continue;
    if (m.end != 0 && m.end <= now) continue;               // the window is over
    if (m.start != 0 && m.start > now + lead_ns) continue;  // not yet worth a subscription
    if (require_up_down && (m.up_token_id.empty() || m.down_token_id.empty())) continue;
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), earlier);
  if (limit > 0 && out.size() > static_cast<std::size_t>(limit)) {
    out.resize(static_cast<std::size_t>(limit));
  }
  return out;
}

std::string discovery_json(const DiscoveryResult& r, const std::string& source_url) {
  std::vector<const pm::DiscoveredMarket*> sorted;
  sorted.reserve(r.markets.size());
  for (const pm::DiscoveredMarket& m : r.markets) sorted.push_back(&m);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return earlier(*a, *b); });
  std::string out = "{\"fetched_at_utc\":";
  append_json_string(out, format_utc(r.fetched_at));
  out += ",\"source\":";
  append_json_string(out, source_url);
  out += ",\"market_count\":" + std::to_string(r.markets.size()) + ",\"markets\":[";
  // One market per line: still one JSON document, but readable and diffable.
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    append_market(out, *sorted[i]);
  }
  out += sorted.empty() ? "]}\n" : "\n]}\n";
  return out;
}

fs::path write_discovery(const DiscoveryResult& r, const std::string& source_url,
                         const fs::path& dir) {
  const fs::path raw_dir = dir / "raw";
  make_private_dirs(raw_dir);

  // Raw first, then the latest file, then the manifest that names both: whoever sees a manifest
  // finds what it points at.
  const std::string raw_name = free_raw_name(raw_dir, r.fetched_at);
  const std::string raw = raw_responses_gz(r, source_url);
  write_file_atomically(raw_dir, raw_name, raw);
  const std::string latest = discovery_json(r, source_url);
  write_file_atomically(dir, kLatestName, latest);

  std::string m = "{\"fetched_at_utc\":";
  append_json_string(m, format_utc(r.fetched_at));
  m += ",\"written_at_utc\":";
  append_json_string(m, format_utc(realtime_now()));
  m += ",\"source\":";
  append_json_string(m, source_url);
  m += ",\"requests\":" + std::to_string(r.requests);
  m += ",\"pages\":" + std::to_string(r.pages);
  m += ",\"throttled\":" + std::to_string(r.throttled);
  m += ",\"markets\":" + std::to_string(r.markets.size());
  m += ",\"shard\":\"" + to_string(r.shard) + "\",\"other_shards\":";
  m += std::to_string(r.other_shards);
  m += ",\"skipped\":" + std::to_string(r.skipped.size()) + ",\"skipped_by_reason\":{";
  const auto by_reason = r.skipped_by_reason();
  for (std::size_t k = 0; k < by_reason.size(); ++k) {
    if (k != 0) m += ',';
    m += '"';
    m += pm::to_string(static_cast<pm::SkipReason>(k));
    m += "\":" + std::to_string(by_reason[k]);
  }
  m += "},\"skipped_markets\":[";
  for (std::size_t i = 0; i < r.skipped.size(); ++i) {
    m += i != 0 ? ",{\"name\":" : "{\"name\":";
    append_json_string(m, r.skipped[i].name);
    m += ",\"reason\":\"";
    m += pm::to_string(r.skipped[i].reason);
    m += "\"}";
  }
  m += ']';
  m += ",\"errors\":[";
  for (std::size_t i = 0; i < r.errors.size(); ++i) {
    if (i != 0) m += ',';
    append_json_string(m, r.errors[i]);
  }
  m += "],\"latest_file\":";
  append_json_string(m, kLatestName);
  m += ",\"latest_bytes\":" + std::to_string(latest.size()) + ",\"latest_sha256\":";
  append_json_string(m, sha256_hex(latest));
  m += ",\"raw_file\":";
  append_json_string(m, "raw/" + raw_name);
  m += ",\"raw_responses\":" + std::to_string(r.raw_responses.size());
  m += ",\"raw_bytes\":" + std::to_string(raw.size()) + ",\"raw_sha256\":";
  append_json_string(m, sha256_hex(raw));
  m += "}\n";
  write_file_atomically(dir, kManifestName, m);
  // The renames are durable only once the directories' entries are.
  fsync_dir(raw_dir);
  fsync_dir(dir);
  return dir / kLatestName;
}

}  // namespace booktape
