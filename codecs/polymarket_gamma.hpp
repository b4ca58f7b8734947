#pragma once
// Gamma API (gamma-api.polymarket.com) markets and events: rendered and queried by the
// simulator, parsed by the recorder's discovery. Wire shape: the Polymarket protocol reference,
// §4 and §9. Quirks worth knowing: `outcomes`, `outcomePrices` and `clobTokenIds` are
// JSON-ENCODED STRINGS ("[\"Up\", \"Down\"]"), not arrays, while `positionIds` (Protocol V2) is
// a real array; which of the two holds a market's asset ids depends on its `version`. Cold path:
// allocations are fine.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/query_string.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"

namespace booktape::polymarket {

// The BTC up/down series a recorder follows unless told otherwise: every horizon the venue lists
// (protocol note §4; the 4-hour one since 2026, slugs btc-updown-4h-<window start>).
inline std::vector<std::string> default_btc_series() {
  return {"btc-up-or-down-5m", "btc-up-or-down-15m", "btc-up-or-down-hourly",
          "btc-up-or-down-4h", "btc-up-or-down-daily"};
}

struct GammaMarket {
  std::string id, question, condition_id, slug;
  // Gamma puts the series on the market's parent event; render_market() writes it as a minimal
  // "events":[{"seriesSlug":..,"series":[{"slug":..}]}] so discovery from /markets finds it.
  std::string series_slug;
  // ISO-8601 UTC on the wire ("2026-03-12T09:25:00Z"); 0 means absent and is not rendered.
  UnixNanos start_date = 0, event_start_time = 0, end_date = 0;
  bool active = true, closed = false, archived = false, accepting_orders = true,
       enable_order_book = true, neg_risk = false;
  Price order_price_min_tick_size = 100;  // rendered as a JSON number (0.01)
  std::string order_min_size = "5";       // rendered as a JSON number when it is a decimal
  // Each a JSON-encoded string on the wire; an empty list omits the field (as Gamma does for
  // clobTokenIds of markets without an order book).
  std::vector<std::string> outcomes;        // ["Up","Down"]
  std::vector<std::string> clob_token_ids;  // zipped with outcomes by index
  std::vector<std::string> outcome_prices;  // decimal strings, verbatim
  // Protocol V2: "v1" markets trade by clobTokenIds, "v2" markets by positionIds (a real JSON
  // array; an empty list omits it). An empty version is not rendered (markets before 2026).
  std::string version = "v1";
  std::vector<std::string> position_ids;
};

struct GammaEvent {
  std::string id, ticker, slug, title;
  std::string series_slug, series_id;      // empty series_slug: no "series"/"seriesSlug" rendered
  UnixNanos start_date = 0, end_date = 0;  // 0: absent
  bool active = true, closed = false;
  std::vector<GammaMarket> markets;  // rendered nested, without their own "events" stub
};

// Compact JSON in the real fixtures' spelling and key order.
std::string render_market(const GammaMarket& m);
std::string render_markets(std::span<const GammaMarket> markets);  // JSON array (/markets)
std::string render_markets(std::span<const GammaMarket* const> markets);
std::string render_events(std::span<const GammaEvent> events);     // JSON array (/events)
std::string render_events(std::span<const GammaEvent* const> events);
// Keyset pages: {"markets":[...],"next_cursor":"..."} (/markets/keyset) and {"events":[...],
// "next_cursor":"..."} (/events/keyset); an empty cursor is left out, as on the last page.
std::string render_markets_page(std::span<const GammaMarket* const> markets,
                                std::string_view next_cursor);
std::string render_events_page(std::span<const GammaEvent* const> events,
                               std::string_view next_cursor);

// Query strings (codecs/query_string.hpp), as the simulator's Gamma reads them.
using booktape::parse_query_string;
using booktape::QueryParams;

// Gamma's query selection, for the simulator. Filters (all ANDed; a repeated key is an OR):
//   id, slug, condition_ids, clob_token_ids (a market matches if any of its tokens is listed);
//   active, archived ("true"/"false"); closed ("true"/"false"; ABSENT MEANS closed=false, as
//   Gamma does); start_date_min/max, end_date_min/max (inclusive, ISO or date alone; a market
//   without that date never passes such a bound).
// A filter value that does not parse (active=maybe, end_date_min=soon) matches nothing: a typo
// yields an empty page, not the whole catalogue.
// order: comma list of endDate, startDate, eventStartTime, id (numeric); unknown names are
//   ignored; without order the input order is kept. ascending: "false" sorts descending,
//   anything else (including absent) ascending. Ties keep the input order.
// limit: default 100 (also when unparseable), at most 100 (kGammaPageCap); offset: default 0.
// match_*: every row that passes, in order, without the page.
std::vector<const GammaMarket*> match_markets(std::span<const GammaMarket* const> markets,
                                              const QueryParams& params);
std::vector<const GammaMarket*> select_markets(std::span<const GammaMarket* const> markets,
                                               const QueryParams& params);
std::vector<const GammaMarket*> select_markets(std::span<const GammaMarket> markets,
                                               const QueryParams& params);
// Same rules for events: id, slug, series_slug (repeatable), active, closed (absent => false);
// tag_slug and other keys are ignored; order among endDate, startDate, id.
std::vector<const GammaEvent*> match_events(std::span<const GammaEvent* const> events,
                                            const QueryParams& params);
std::vector<const GammaEvent*> select_events(std::span<const GammaEvent* const> events,
                                             const QueryParams& params);
std::vector<const GammaEvent*> select_events(std::span<const GammaEvent> events,
                                             const QueryParams& params);

inline constexpr std::size_t kDefaultGammaLimit = 100;
// The venue's caps (protocol note §9): every plain page and every /markets/keyset page holds at
// most 100 items whatever `limit` asks; /events/keyset pages at most 500; plain `offset` above
// 10,000 is refused (422), and the keyset endpoints refuse `offset` altogether.
inline constexpr std::size_t kGammaPageCap = 100;
inline constexpr std::size_t kGammaEventsKeysetCap = 500;
inline constexpr std::size_t kGammaMaxOffset = 10'000;

// Keyset paging as the simulator serves /markets/keyset and /events/keyset: the rows that pass
// the query's filters (match_*), in id order (one total order, as keyset paging needs); from the
// row after `after_cursor` (a next_cursor this server issued), at most `limit` (capped at 100 for
// markets, 500 for events). `next_cursor` is set when rows follow the page, else empty. False
// for a cursor it cannot read. `order` is ignored: the key is the id.
bool keyset_markets(std::span<const GammaMarket* const> markets, const QueryParams& params,
                    std::vector<const GammaMarket*>& page, std::string& next_cursor);
bool keyset_events(std::span<const GammaEvent* const> events, const QueryParams& params,
                   std::vector<const GammaEvent*>& page, std::string& next_cursor);

// What the recorder's discovery needs from one market. `token_ids` are the asset ids the CLOB
// and the market channel know it by: positionIds for a "v2" market, clobTokenIds for "v1".
struct DiscoveredMarket {
  std::string market_id, slug, question, condition_id, series_slug;
  std::vector<std::string> outcomes, token_ids;  // zipped by index, same length (>= 1)
  // By outcome NAME ("Up"/"Down", any case); empty when the market's outcomes are not named so
  // (Yes/No markets are not mapped: "Yes" is not "up").
  std::string up_token_id, down_token_id;
  UnixNanos start = 0;  // eventStartTime (the window start), else startDate; 0 if neither
  UnixNanos end = 0;    // endDate; 0 if absent
  bool active = false, closed = false, accepting_orders = false;
  Price tick = 0;  // orderPriceMinTickSize; 0 if absent or not a multiple of 0.0001 in (0, 1]
};

// Why a listed market is not discovered. Each is counted and named; the names are stable (files
// and scripts read them).
enum class SkipReason : std::uint8_t {
  kNotAnObject = 0,     // a listing element that is not a JSON object
  kHydrating,           // ids still empty ("", "[]" or empty entries): look again next time
  kNoVersion,           // no `version`: which id field is the asset id is unknown
  kUnknownVersion,      // a `version` other than "v1" and "v2"
  kMissingIds,          // the version's id field is absent
  kBadIds,              // the id field or `outcomes` is not a list of strings
  kUnmatchedOutcomes,   // outcomes and ids of different lengths (or no outcomes)
  kNonDecimalId,        // an id that is not a decimal number
  kCount
};
inline constexpr std::size_t kSkipReasonCount = static_cast<std::size_t>(SkipReason::kCount);
const char* to_string(SkipReason r) noexcept;

struct SkippedMarket {
  std::string name;  // slug, else id, else condition id, else "(element N)"
  SkipReason reason = SkipReason::kNotAnObject;
};

// One Gamma answer, parsed.
struct GammaPage {
  std::vector<DiscoveredMarket> markets;
  std::vector<SkippedMarket> skipped;
  std::size_t entries = 0;  // elements of the listing (markets or events), used or not
  // A keyset page's next_cursor; absent (or empty) on the last page, and for plain listings.
  std::optional<std::string> next_cursor;
};

// Accepts a /markets array, a single market object, an /events array, a single event object
// (an object or element with a "markets" array and an "id" is an event; its markets take the
// series slug from series[0].slug, else its seriesSlug), or a keyset page (an object without an
// id: {"markets":[...]} or {"events":[...]}, with "next_cursor" until the last page). A market alone takes its series
// from its own seriesSlug, else events[0].seriesSlug, else events[0].series[0].slug.
// A market's asset ids are chosen by its `version` (see DiscoveredMarket); the markets that
// cannot be used are skipped and listed with why (SkipReason). Returns false with `error` only
// when the body is not JSON, not an object or array, or is Gamma's {"error": ...} reply. Never
// throws on malformed input. `page` is cleared first.
bool parse_gamma_page(std::string_view body, GammaPage& page, std::string& error);
// The same, for callers that need only the markets and how many were skipped.
bool parse_gamma(std::string_view body, std::vector<DiscoveredMarket>& out, std::size_t& skipped,
                 std::string& error);

}  // namespace booktape::polymarket
