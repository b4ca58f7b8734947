#pragma once
// Market discovery through Gamma (protocol note section 4): which BTC up/down markets exist,
// their condition ids, Up/Down token ids, slugs and window times. Used by `booktape discover`
// and by the recorder on a schedule.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codecs/polymarket_gamma.hpp"
#include "core/clock.hpp"

namespace booktape {

struct DiscoveryOptions {
  std::string gamma_url = "https://gamma-api.polymarket.com";
  std::filesystem::path ca_file;
  // Series to list, each by GET /events?series_slug=S&closed=false&order=endDate&ascending=true
  std::vector<std::string> series = {"btc-up-or-down-5m", "btc-up-or-down-15m",
                                     "btc-up-or-down-hourly", "btc-up-or-down-daily"};
  bool all_active = false;        // instead: every active market (GET /markets, paginated)
  int page_size = 500;
  int max_pages = 40;             // all_active stops after this many pages (reported)
  std::chrono::milliseconds timeout{15'000};
  const std::atomic<bool>* cancel = nullptr;  // set: a request under way is abandoned
  std::chrono::steady_clock::time_point stop_at = std::chrono::steady_clock::time_point::max();
};

// One answer from Gamma, kept verbatim with what asked for it (the seed's "preserve raw metadata
// responses": a body without its request and status is weak provenance).
struct GammaResponse {
  std::string target;        // path and query as sent ("/events?series_slug=...")
  int status = 0;            // HTTP status
  UnixNanos fetched_at = 0;  // when the response was read (CLOCK_REALTIME)
  std::string body;          // as received, even when it is an error page
};

struct DiscoveryResult {
  UnixNanos fetched_at = 0;                           // when discovery started
  std::vector<polymarket::DiscoveredMarket> markets;  // deduplicated by condition id
  std::size_t requests = 0;
  std::size_t skipped = 0;          // Gamma entries that could not be used (see parse_gamma)
  std::vector<std::string> errors;  // one line per failed request (the rest still counts)
  std::vector<GammaResponse> raw_responses;  // every response received, in request order
};

// Asks Gamma. Never throws for network or HTTP errors: they land in `errors`.
DiscoveryResult discover(const DiscoveryOptions& options);

// Markets worth subscribing now: not closed, window ending after `now`, starting at or before
// `now + lead`, with both an Up and a Down token when `require_up_down` (series mode; all_active
// passes false: any tokens). A missing end or start (0) is not held against a market. Sorted by
// end time (unknown last), then slug; at most `limit` (0: all).
std::vector<polymarket::DiscoveredMarket> select_markets(
    const std::vector<polymarket::DiscoveredMarket>& markets, UnixNanos now, std::int64_t lead_ns,
    int limit, bool require_up_down = true);

// The seed's discovery JSON (data/discovery/polymarket_btc_markets_latest.json): fetched_at_utc,
// source, and one normalised record per market (slug, question, condition_id, market_id,
// series_slug, outcomes, token ids with their outcome, up/down token ids, start/end times,
// active/closed/accepting_orders, tick size).
std::string discovery_json(const DiscoveryResult& r, const std::string& source_url);

// Writes <dir>/polymarket_btc_markets_latest.json, <dir>/polymarket_btc_markets_manifest.json
// (fetched time, requests, markets, errors, sha256 of the latest file) and the raw Gamma
// responses as <dir>/raw/gamma_<YYYYMMDDTHHMMSSZ>.jsonl.gz (one gzip member; one line per
// response: fetched_at_utc, request_index, url, status, body as a JSON string; "-2", "-3"...
// before the extension if that name is taken). Writes go to temporary names first, then
// rename, so a reader never sees half a file; the manifest goes last. Throws
// std::runtime_error naming the file that could not be written. Returns the latest file's path.
std::filesystem::path write_discovery(const DiscoveryResult& r, const std::string& source_url,
                                      const std::filesystem::path& dir);

}  // namespace booktape
