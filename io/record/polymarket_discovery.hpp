#pragma once
// Market discovery through Gamma (protocol note sections 4 and 9): which BTC up/down markets
// exist (or every active market), their condition ids, asset ids, slugs and window times. Used
// by `booktape discover` and by the recorder on a schedule.
//
// Paging (docs/RECORD.md, "Discovery"): keyset only, as the venue requires since 2026 — series by
// GET /events/keyset (500 a page), --all-active by GET /markets/keyset (100 a page), following
// next_cursor until it is absent. A page's length says nothing about the end (the venue caps
// pages whatever `limit` asks), `offset` is never sent, a cursor seen before stops the listing
// with an error. Requests are paced under Gamma's limits; a 429 is retried after a backoff.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "codecs/polymarket_gamma.hpp"
#include "core/clock.hpp"
#include "io/record/market_shard.hpp"

namespace booktape {

// Where a long listing has got to (after every page).
struct DiscoveryProgress {
  std::size_t pages = 0, markets = 0, skipped = 0;
};

struct DiscoveryOptions {
  std::string gamma_url = "https://gamma-api.polymarket.com";
  std::filesystem::path ca_file;
  // Series to list, each by GET /events/keyset?series_slug=S&closed=false&limit=500
  std::vector<std::string> series = polymarket::default_btc_series();
  bool all_active = false;        // instead: every active market (GET /markets/keyset)
  // Items asked for a page: the venue's caps (smaller only to test paging on a few markets).
  int markets_page_size = 100;
  int events_page_size = 500;
  int max_pages = 2'000;          // per listing (200,000 markets); past it: stopped, reported
  // Pacing: at most this many requests in any 10 s (Gamma allows 300 on /markets, 500 on
  // /events; 0: no pacing). A 429 is retried up to max_retries times after a backoff that
  // doubles from backoff_initial to backoff_max (or the answer's Retry-After, within it).
  int requests_per_10s = 250;
  int max_retries = 5;
  std::chrono::milliseconds backoff_initial{1'000};
  std::chrono::milliseconds backoff_max{30'000};
  std::function<void(const DiscoveryProgress&)> progress;  // called after every page
  std::chrono::milliseconds timeout{15'000};
  const std::atomic<bool>* cancel = nullptr;  // set: a request under way is abandoned
  std::chrono::steady_clock::time_point stop_at = std::chrono::steady_clock::time_point::max();
  // Keep only this shard's markets (io/record/market_shard.hpp); the listing is the same.
  MarketShard shard;
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
  std::size_t pages = 0;            // listing pages read
  std::size_t throttled = 0;        // 429 answers (each retried after a backoff)
  // Listed markets not used, each with why (polymarket::SkipReason). Hydrating ones have no ids
  // yet: the next discovery looks again.
  std::vector<polymarket::SkippedMarket> skipped;
  MarketShard shard;               // the markets above are this shard's...
  std::size_t other_shards = 0;    // ...and this many listed ones belong to the others
  std::vector<std::string> errors;  // one line per failed request (the rest still counts)
  std::vector<GammaResponse> raw_responses;  // every response received, in request order

  [[nodiscard]] std::array<std::size_t, polymarket::kSkipReasonCount> skipped_by_reason() const;
};

// "12 skipped: 3 hydrating (s1, s2, s3), 9 no_version (s4, ...)": at most `names` names a
// reason; "" when nothing was skipped.
std::string skipped_summary(const DiscoveryResult& r, std::size_t names = 10);

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
// (fetched time, requests, pages, 429s, markets, the skipped markets by name and reason, errors,
// sha256 of the latest file) and the raw Gamma
// responses as <dir>/raw/gamma_<YYYYMMDDTHHMMSSZ>.jsonl.gz (one gzip member; one line per
// response: fetched_at_utc, request_index, url, status, body as a JSON string; "-2", "-3"...
// before the extension if that name is taken). Writes go to temporary names first, then
// rename, so a reader never sees half a file; the manifest goes last. Throws
// std::runtime_error naming the file that could not be written. Returns the latest file's path.
std::filesystem::path write_discovery(const DiscoveryResult& r, const std::string& source_url,
                                      const std::filesystem::path& dir);

}  // namespace booktape
