#pragma once
// Gamma API (gamma-api.polymarket.com) markets and events: rendered and queried by the
// simulator, parsed by the recorder's discovery. Wire shape: the Polymarket protocol reference,
// §4. Quirk worth knowing: `outcomes`, `outcomePrices` and `clobTokenIds` are JSON-ENCODED
// STRINGS ("[\"Up\", \"Down\"]"), not arrays. Cold path: allocations are fine.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/query_string.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"

namespace booktape::polymarket {

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
std::string render_events(std::span<const GammaEvent> events);     // JSON array (/events)

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
// limit: default 100 (also when unparseable); offset: default 0.
std::vector<const GammaMarket*> select_markets(std::span<const GammaMarket> markets,
                                               const QueryParams& params);
// Same rules for events: id, slug, series_slug (repeatable), active, closed (absent => false);
// tag_slug and other keys are ignored; order among endDate, startDate, id.
std::vector<const GammaEvent*> select_events(std::span<const GammaEvent> events,
                                             const QueryParams& params);

inline constexpr std::size_t kDefaultGammaLimit = 100;

// What the recorder's discovery needs from one market.
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

// Accepts a /markets array, a single market object, an /events array or a single event object
// (an object or element with a "markets" array is an event; its markets take the series slug
// from series[0].slug, else its seriesSlug). A market alone takes it from its own seriesSlug,
// else events[0].seriesSlug, else events[0].series[0].slug. `out` is cleared first.
// Entries that cannot be used (not an object, no clobTokenIds, outcomes and tokens of different
// lengths, a list that is not a JSON-encoded array of strings) are skipped and counted.
// Returns false with `error` only when the body is not JSON, not an object or array, or is
// Gamma's {"error": ...} reply. Never throws on malformed input.
bool parse_gamma(std::string_view body, std::vector<DiscoveredMarket>& out, std::size_t& skipped,
                 std::string& error);

}  // namespace booktape::polymarket
