#include "codecs/polymarket_gamma.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests/codecs/fixtures.hpp"

namespace booktape::polymarket {
namespace {

using booktape::testing::read_fixture;

constexpr UnixNanos kSec = kNanosPerSecond;
// 2026-03-12T09:20:00Z, the window start of btc-updown-5m-1773307200.
constexpr UnixNanos kWindow = 1'773'307'200 * kSec;

std::vector<DiscoveredMarket> discover(std::string_view body, std::size_t expect_skipped = 0) {
  std::vector<DiscoveredMarket> out;
  std::size_t skipped = 99;
  std::string error;
  EXPECT_TRUE(parse_gamma(body, out, skipped, error)) << error;
  EXPECT_EQ(skipped, expect_skipped);
  return out;
}

std::string utc(UnixNanos t) {
  return format_utc(t);
}

// The real captures predate Protocol V2's `version` field (2026-04): say "v1" in every market,
// as Gamma does for such a market now.
std::string v1(std::string text) {
  for (std::size_t at = text.find("\"conditionId\""); at != std::string::npos;
       at = text.find("\"conditionId\"", at + 20)) {
    text.insert(at, "\"version\": \"v1\", ");
  }
  return text;
}

GammaPage page_of(std::string_view body) {
  GammaPage page;
  std::string error;
  EXPECT_TRUE(parse_gamma_page(body, page, error)) << error;
  return page;
}

// ---------------------------------------------------------------------------------------------
// The real fixtures

TEST(PolymarketGamma, DiscoversRealFiveMinuteMarket) {
  const auto ms = discover(v1(read_fixture("gamma_market.json")));
  ASSERT_EQ(ms.size(), 1u);
  const DiscoveredMarket& m = ms[0];
  EXPECT_EQ(m.market_id, "1557558");
  EXPECT_EQ(m.slug, "btc-updown-5m-1773307200");
  EXPECT_EQ(m.question, "Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET");
  EXPECT_EQ(m.condition_id, "0x78443f961b9a65869dcb39359de9960165c7e5cbad0904eac7f29cd77872a63b");
  EXPECT_EQ(m.series_slug, "btc-up-or-down-5m");  // from events[0]
  EXPECT_EQ(m.outcomes, (std::vector<std::string>{"Up", "Down"}));
  const std::string up =
      "104239898038807136052399800151408521467737075933964991162589336683346093173875";
  const std::string down =
      "71183960810705820955071415844881728181970340514894896943812046065452395013351";
  EXPECT_EQ(m.token_ids, (std::vector<std::string>{up, down}));
  EXPECT_EQ(m.up_token_id, up);
  EXPECT_EQ(m.down_token_id, down);
  // eventStartTime 2026-03-12T09:20:00Z (the slug's stamp), not startDate (the day before).
  EXPECT_EQ(m.start, kWindow);
  EXPECT_EQ(m.end, kWindow + 300 * kSec);
  EXPECT_EQ(utc(m.end), "2026-03-12T09:25:00.000000000Z");
  EXPECT_TRUE(m.active);
  EXPECT_FALSE(m.closed);
  EXPECT_TRUE(m.accepting_orders);
  EXPECT_EQ(m.tick, 100);
}

TEST(PolymarketGamma, DiscoversRealCryptoTwapMarket) {
  const auto ms = discover(v1(read_fixture("gamma_market_crypto_twap.json")));
  ASSERT_EQ(ms.size(), 1u);
  const DiscoveredMarket& m = ms[0];
  EXPECT_EQ(m.market_id, "3763487");
  EXPECT_EQ(m.slug, "btc-updown-5m-1787414400");
  EXPECT_EQ(utc(m.start), "2026-08-22T16:00:00.000000000Z");
  EXPECT_EQ(m.start, 1'787'414'400 * kSec);
  EXPECT_EQ(m.end, 1'787'414'700 * kSec);
  EXPECT_EQ(m.up_token_id,
            "113013382422133157315656090194075928009220145127085300671933810669470922115281");
  EXPECT_EQ(m.down_token_id,
            "38034349155375505476764349018583065542443879908961992019053731521216367745079");
  EXPECT_EQ(m.series_slug, "");  // the cut-down capture has no events[]
  EXPECT_EQ(m.tick, 100);
}

TEST(PolymarketGamma, DiscoversMarketsNestedInRealEvent) {
  const auto ms = discover(v1(read_fixture("gamma_event.json")));
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].market_id, "559657");
  EXPECT_EQ(ms[0].slug, "will-stephen-a-smith-win-the-2028-democratic-presidential-nomination-914");
  EXPECT_EQ(ms[0].condition_id,
            "0xc8f1cf5d4f26e0fd9c8fe89f2a7b3263b902cf14fde7bfccef525753bb492e47");
  EXPECT_EQ(ms[0].token_ids.at(1),
            "76005700027045000587004110133818166617024719626220722682005164003117993034812");
  EXPECT_EQ(ms[1].market_id, "559659");
  EXPECT_EQ(ms[1].token_ids.at(0),
            "57761428076807364758801249497410455358987881775226117256631754592198558850468");
  for (const DiscoveredMarket& m : ms) {
    SCOPED_TRACE(m.market_id);
    EXPECT_EQ(m.outcomes, (std::vector<std::string>{"Yes", "No"}));
    EXPECT_EQ(m.up_token_id, "");  // Yes/No is not Up/Down
    EXPECT_EQ(m.down_token_id, "");
    EXPECT_EQ(m.series_slug, "");            // this event has no series
    EXPECT_EQ(m.tick, 10);                   // 0.001
    EXPECT_EQ(m.end, 1'857'168'000 * kSec);  // 2028-11-07T00:00:00Z
    EXPECT_TRUE(m.active);
    EXPECT_FALSE(m.closed);
    EXPECT_TRUE(m.accepting_orders);
  }
  // No eventStartTime: the start falls back to startDate, milliseconds kept.
  EXPECT_EQ(ms[0].start, 1'752'258'962 * kSec + 893'000'000);  // 2025-07-11T18:36:02.893Z
}

TEST(PolymarketGamma, DiscoversRealLiveMarketWithRawUtf8) {
  const std::string text = v1(read_fixture("gamma_market_live.json"));
  const std::string curly_yes = "\xE2\x80\x9CYes\xE2\x80\x9D";  // “Yes”, not \u201c escapes
  ASSERT_NE(text.find(curly_yes), std::string::npos);
  const auto ms = discover(text);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].market_id, "559652");
  EXPECT_EQ(ms[0].question, "Will Gavin Newsom win the 2028 Democratic presidential nomination?");
  EXPECT_EQ(ms[0].token_ids.at(0),
            "54533043819946592547517511176940999955633860128497669742211153063842200957669");
  EXPECT_EQ(ms[0].up_token_id, "");
  EXPECT_EQ(ms[0].tick, 10);
  EXPECT_EQ(ms[0].start, 1'752'258'956 * kSec + 805'000'000);  // 2025-07-11T18:35:56.805Z
}

TEST(PolymarketGamma, CurlyQuotesSurviveRenderAndParse) {
  GammaMarket m;
  m.id = "1";
  m.question = "Will it resolve to \xE2\x80\x9CYes\xE2\x80\x9D? \"plain\" too";
  m.outcomes = {"\xE2\x80\x9CUp\xE2\x80\x9D", "Down"};
  m.clob_token_ids = {"1", "2"};
  const auto ms = discover(render_market(m));
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].question, m.question);
  EXPECT_EQ(ms[0].outcomes, m.outcomes);
  EXPECT_EQ(ms[0].up_token_id, "");  // “Up” with quotes is not Up
  EXPECT_EQ(ms[0].down_token_id, "2");
}

// ---------------------------------------------------------------------------------------------
// Rendering

GammaMarket btc_market() {
  GammaMarket m;
  m.id = "1557558";
  m.question = "Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET";
  m.condition_id = "0x78";
  m.slug = "btc-updown-5m-1773307200";
  m.series_slug = "btc-up-or-down-5m";
  m.start_date = 1'773'221'341 * kSec + 328'428'000;  // 2026-03-11T09:29:01.328428Z
  m.event_start_time = kWindow;
  m.end_date = kWindow + 300 * kSec;
  m.outcomes = {"Up", "Down"};
  m.clob_token_ids = {"111", "222"};
  m.outcome_prices = {"0.505", "0.495"};
  return m;
}

TEST(PolymarketGamma, RendersMarketExactly) {
  EXPECT_EQ(
      render_market(btc_market()),
      R"({"id":"1557558","question":"Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET",)"
      R"("conditionId":"0x78","slug":"btc-updown-5m-1773307200","endDate":"2026-03-12T09:25:00Z",)"
      R"("startDate":"2026-03-11T09:29:01.328428Z","outcomes":"[\"Up\", \"Down\"]",)"
      R"("outcomePrices":"[\"0.505\", \"0.495\"]","active":true,"closed":false,"archived":false,)"
      R"("enableOrderBook":true,"orderPriceMinTickSize":0.01,"orderMinSize":5,)"
      R"("clobTokenIds":"[\"111\", \"222\"]","version":"v1","acceptingOrders":true,)"
      R"("negRisk":false,"events":[{"seriesSlug":"btc-up-or-down-5m","series":[{"slug":"btc-up-or-down-5m"}]}],)"
      R"("eventStartTime":"2026-03-12T09:20:00Z"})");
}

TEST(PolymarketGamma, RenderedSpellingMatchesRealFixture) {
  const std::string real = read_fixture("gamma_market.json");
  const std::string ours = render_market(btc_market());
  // clang-format off
  static constexpr const char* kKeys[] = {
      "id", "question", "conditionId", "slug", "startDate", "eventStartTime", "endDate", "active",
      "closed", "archived", "enableOrderBook", "acceptingOrders", "negRisk",
      "orderPriceMinTickSize", "orderMinSize", "outcomes", "outcomePrices", "clobTokenIds",
      "events", "seriesSlug"};
  // clang-format on
  for (const char* key : kKeys) {
    SCOPED_TRACE(key);
    EXPECT_NE(real.find('"' + std::string(key) + "\": "), std::string::npos);
    EXPECT_NE(ours.find('"' + std::string(key) + "\":"), std::string::npos);
  }
  // Values spelled as the venue spells them (the fixture is pretty-printed: ": " vs ":").
  for (const char* value :
       {R"("[\"Up\", \"Down\"]")", R"("[\"0.505\", \"0.495\"]")", R"("2026-03-12T09:25:00Z")",
        R"("2026-03-11T09:29:01.328428Z")", R"("2026-03-12T09:20:00Z")", "0.01,", "5,"}) {
    SCOPED_TRACE(value);
    EXPECT_NE(real.find(std::string(": ") + value), std::string::npos);
    EXPECT_NE(ours.find(std::string(":") + value), std::string::npos);
  }
}

TEST(PolymarketGamma, RenderOmitsAbsentValues) {
  GammaMarket m;
  m.id = "9";
  m.order_price_min_tick_size = 10;
  m.order_min_size = "2.50";
  m.active = false;
  m.closed = true;
  m.archived = true;
  m.accepting_orders = false;
  m.enable_order_book = false;
  m.neg_risk = true;
  m.version.clear();  // markets listed before 2026 have none
  EXPECT_EQ(render_market(m),
            R"({"id":"9","question":"","conditionId":"","slug":"","active":false,"closed":true,)"
            R"("archived":true,"enableOrderBook":false,"orderPriceMinTickSize":0.001,)"
            R"("orderMinSize":2.5,"acceptingOrders":false,"negRisk":true})");
  m.order_min_size = "five";  // not a number: a string keeps the JSON valid
  EXPECT_NE(render_market(m).find(R"("orderMinSize":"five")"), std::string::npos);
}

TEST(PolymarketGamma, RendersEventsWithSeries) {
  GammaEvent e;
  e.id = "260654";
  e.ticker = e.slug = "btc-updown-5m-1773307200";
  e.title = "Bitcoin Up or Down";
  e.series_slug = "btc-up-or-down-5m";
  e.series_id = "10684";
  e.start_date = kWindow - kNanosPerHour;
  e.end_date = kWindow + 300 * kSec;
  GammaMarket m;
  m.id = "1";
  m.series_slug = "ignored-inside-an-event";
  e.markets = {m};
  GammaEvent bare;
  bare.id = "2";
  bare.active = false;
  bare.closed = true;
  const std::vector<GammaEvent> events = {e, bare};
  EXPECT_EQ(
      render_events(events),
      R"([{"id":"260654","ticker":"btc-updown-5m-1773307200","slug":"btc-updown-5m-1773307200",)"
      R"("title":"Bitcoin Up or Down","startDate":"2026-03-12T08:20:00Z",)"
      R"("endDate":"2026-03-12T09:25:00Z","active":true,"closed":false,"markets":[{"id":"1",)"
      R"("question":"","conditionId":"","slug":"","active":true,"closed":false,"archived":false,)"
      R"("enableOrderBook":true,"orderPriceMinTickSize":0.01,"orderMinSize":5,"version":"v1",)"
      R"("acceptingOrders":true,"negRisk":false}],"series":[{"id":"10684",)"
      R"("ticker":"btc-up-or-down-5m","slug":"btc-up-or-down-5m","title":"btc-up-or-down-5m"}],)"
      R"("seriesSlug":"btc-up-or-down-5m"},)"
      R"({"id":"2","ticker":"","slug":"","title":"","active":false,"closed":true,"markets":[]}])");
  EXPECT_EQ(render_events(std::vector<GammaEvent>{}), "[]");
  EXPECT_EQ(render_markets(std::vector<GammaMarket>{}), "[]");
}

void expect_discovered_equals(const DiscoveredMarket& d, const GammaMarket& m,
                              std::string_view series) {
  EXPECT_EQ(d.market_id, m.id);
  EXPECT_EQ(d.slug, m.slug);
  EXPECT_EQ(d.question, m.question);
  EXPECT_EQ(d.condition_id, m.condition_id);
  EXPECT_EQ(d.series_slug, series);
  EXPECT_EQ(d.outcomes, m.outcomes);
  EXPECT_EQ(d.token_ids, m.clob_token_ids);
  EXPECT_EQ(d.start, m.event_start_time != 0 ? m.event_start_time : m.start_date);
  EXPECT_EQ(d.end, m.end_date);
  EXPECT_EQ(d.active, m.active);
  EXPECT_EQ(d.closed, m.closed);
  EXPECT_EQ(d.accepting_orders, m.accepting_orders);
  EXPECT_EQ(d.tick, m.order_price_min_tick_size);
}

TEST(PolymarketGamma, MarketsRenderParseRoundTrip) {
  GammaMarket a = btc_market();
  GammaMarket b;
  b.id = "42";
  b.slug = "plain";
  b.question = "Backslash \\ and newline \n and tab \t";
  b.condition_id = "0xc";
  b.start_date = kWindow + 1;  // one nanosecond: the fraction must survive in full
  b.end_date = kWindow + 123'000'000;
  b.active = false;
  b.closed = true;
  b.accepting_orders = false;
  b.order_price_min_tick_size = 1;
  b.outcomes = {"down", "UP", "Other \"x\""};
  b.clob_token_ids = {"7", "8", "9"};
  const std::vector<GammaMarket> in = {a, b};
  const auto ms = discover(render_markets(in));
  ASSERT_EQ(ms.size(), 2u);
  expect_discovered_equals(ms[0], a, "btc-up-or-down-5m");
  expect_discovered_equals(ms[1], b, "");
  EXPECT_EQ(ms[0].up_token_id, "111");
  EXPECT_EQ(ms[0].down_token_id, "222");
  EXPECT_EQ(ms[1].up_token_id, "8");  // by name, case-insensitive, wherever it sits
  EXPECT_EQ(ms[1].down_token_id, "7");
  // A single market object (as /markets/{id} returns) parses too.
  const auto one = discover(render_market(b));
  ASSERT_EQ(one.size(), 1u);
  expect_discovered_equals(one[0], b, "");
}

TEST(PolymarketGamma, EventsRenderParseRoundTrip) {
  GammaEvent e;
  e.id = "1";
  e.slug = "btc-updown-5m-1773307200";
  e.series_slug = "btc-up-or-down-5m";
  e.series_id = "10684";
  GammaMarket m = btc_market();
  m.series_slug = "";  // the event's series is what counts
  e.markets = {m, m};
  e.markets[1].id = "2";
  GammaEvent no_series;
  no_series.id = "3";
  no_series.markets = {btc_market()};
  const std::vector<GammaEvent> in = {e, no_series};
  const auto ms = discover(render_events(in));
  ASSERT_EQ(ms.size(), 3u);
  expect_discovered_equals(ms[0], e.markets[0], "btc-up-or-down-5m");
  expect_discovered_equals(ms[1], e.markets[1], "btc-up-or-down-5m");
  expect_discovered_equals(ms[2], no_series.markets[0], "");  // nested markets carry no stub
}

// ---------------------------------------------------------------------------------------------
// Query strings and selection

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(PolymarketGamma, ParsesQueryStrings) {
  EXPECT_EQ(parse_query_string("a=1&b=x%20y&slug=s1&slug=s2"),
            (Pairs{{"a", "1"}, {"b", "x y"}, {"slug", "s1"}, {"slug", "s2"}}));
  EXPECT_EQ(parse_query_string("?q=a+b%2Bc&order=endDate%2CstartDate"),
            (Pairs{{"q", "a b+c"}, {"order", "endDate,startDate"}}));
  EXPECT_EQ(parse_query_string("flag&&empty=&k%5B%5D=v=w"),
            (Pairs{{"flag", ""}, {"empty", ""}, {"k[]", "v=w"}}));
  EXPECT_EQ(parse_query_string("bad=%zz%4&tail=%"), (Pairs{{"bad", "%zz%4"}, {"tail", "%"}}));
  EXPECT_EQ(parse_query_string("u=%E2%80%9Cx%e2%80%9d"), (Pairs{{"u",
                                                                 "\xE2\x80\x9C"
                                                                 "x"
                                                                 "\xE2\x80\x9D"}}));
  EXPECT_EQ(parse_query_string("nul=%00"), (Pairs{{"nul", std::string(1, '\0')}}));
  EXPECT_TRUE(parse_query_string("").empty());
  EXPECT_TRUE(parse_query_string("?").empty());
}

class GammaSelect : public ::testing::Test {
 protected:
  static GammaMarket mk(std::string id, std::string slug, UnixNanos end, bool closed) {
    GammaMarket m;
    m.id = std::move(id);
    m.slug = std::move(slug);
    m.condition_id = "c" + m.slug;
    m.clob_token_ids = {"t" + m.slug + "1", "t" + m.slug + "2"};
    m.outcomes = {"Up", "Down"};
    m.end_date = end;
    m.closed = closed;
    m.active = !closed;
    return m;
  }

  void SetUp() override {
    markets_ = {
        mk("100", "a", kWindow + 900 * kSec, false),   // ends 09:35
        mk("99", "b", kWindow + 300 * kSec, false),    // ends 09:25
        mk("7", "c", kWindow + 600 * kSec, true),      // ends 09:30, closed
        mk("250", "d", kWindow + 1200 * kSec, false),  // ends 09:40, archived
        mk("5", "e", 0, false),                        // no end date
    };
    markets_[3].archived = true;
    markets_[0].start_date = kWindow;
    markets_[0].event_start_time = kWindow + 600 * kSec;
    markets_[1].event_start_time = kWindow;
  }

  [[nodiscard]] std::string slugs(std::string_view query) const {
    std::string out;
    for (const GammaMarket* m : select_markets(markets_, parse_query_string(query))) {
      out += m->slug;
    }
    return out;
  }

  std::vector<GammaMarket> markets_;
};

TEST_F(GammaSelect, ClosedAbsentMeansOnlyOpen) {
  EXPECT_EQ(slugs(""), "abde");
  EXPECT_EQ(slugs("closed=false"), "abde");
  EXPECT_EQ(slugs("closed=true"), "c");
  EXPECT_EQ(slugs("slug=c"), "");               // closed markets vanish from slug lookups...
  EXPECT_EQ(slugs("slug=c&closed=true"), "c");  // ...unless closed=true is sent
  EXPECT_EQ(slugs("closed=maybe"), "");
}

TEST_F(GammaSelect, Orders) {
  EXPECT_EQ(slugs("order=endDate"), "ebad");  // ascending by default; no end date sorts first
  EXPECT_EQ(slugs("order=endDate&ascending=true"), "ebad");
  EXPECT_EQ(slugs("order=endDate&ascending=false"), "dabe");
  EXPECT_EQ(slugs("order=id"), "ebad");  // numeric: 5 < 99 < 100 < 250
  EXPECT_EQ(slugs("order=id&ascending=false"), "dabe");
  EXPECT_EQ(slugs("order=eventStartTime,id"), "edba");  // e and d tie on 0: id breaks it
  EXPECT_EQ(slugs("order=startDate,id&ascending=false"), "adbe");
  EXPECT_EQ(slugs("order=volume"), "abde");     // unknown field: input order
  EXPECT_EQ(slugs("ascending=false"), "abde");  // no order: input order
}

TEST_F(GammaSelect, Pages) {
  EXPECT_EQ(slugs("order=endDate&limit=2"), "eb");
  EXPECT_EQ(slugs("order=endDate&limit=2&offset=1"), "ba");
  EXPECT_EQ(slugs("order=endDate&offset=3"), "d");
  EXPECT_EQ(slugs("offset=10"), "");
  EXPECT_EQ(slugs("limit=0"), "");
  EXPECT_EQ(slugs("limit=x&offset=-1"), "abde");  // unparseable: defaults
  std::vector<GammaMarket> many(150, mk("1", "x", kWindow, false));
  EXPECT_EQ(select_markets(many, {}).size(), kDefaultGammaLimit);
  // The venue's cap: 100 whatever `limit` asks (protocol note §9).
  EXPECT_EQ(select_markets(many, parse_query_string("limit=120")).size(), kGammaPageCap);
  EXPECT_EQ(select_markets(many, parse_query_string("limit=500&offset=140")).size(), 10u);
}

TEST_F(GammaSelect, FiltersByIdentity) {
  EXPECT_EQ(slugs("slug=a&slug=d"), "ad");
  EXPECT_EQ(slugs("slug=d&slug=a&slug=zz"), "ad");  // input order, not query order
  EXPECT_EQ(slugs("id=99"), "b");
  EXPECT_EQ(slugs("id=99&id=250"), "bd");
  EXPECT_EQ(slugs("condition_ids=cd"), "d");
  EXPECT_EQ(slugs("clob_token_ids=tb2"), "b");
  EXPECT_EQ(slugs("clob_token_ids=ta1&clob_token_ids=te2"), "ae");
  EXPECT_EQ(slugs("slug=a&id=99"), "");  // filters are ANDed
}

TEST_F(GammaSelect, FiltersByFlags) {
  EXPECT_EQ(slugs("archived=false"), "abe");
  EXPECT_EQ(slugs("archived=true"), "d");
  EXPECT_EQ(slugs("active=false"), "");  // the inactive one is closed
  EXPECT_EQ(slugs("active=false&closed=true"), "c");
  EXPECT_EQ(slugs("active=TRUE"), "abde");
  EXPECT_EQ(slugs("active=1"), "");  // unparseable: nothing, not everything
}

TEST_F(GammaSelect, FiltersByDates) {
  EXPECT_EQ(slugs("end_date_min=2026-03-12T09:25:00Z&end_date_max=2026-03-12T09:35:00Z"), "ab");
  EXPECT_EQ(slugs("end_date_min=2026-03-12T09:25:00.000000001Z"), "ad");
  EXPECT_EQ(slugs("end_date_max=2026-03-12"), "");  // before every end; "e" has none
  EXPECT_EQ(slugs("start_date_min=2026-03-12T09:20:00Z"), "a");
  EXPECT_EQ(slugs("start_date_max=2026-03-12T09:19:59Z"), "");
  EXPECT_EQ(slugs("end_date_min=soon"), "");
}

class GammaSelectEvents : public ::testing::Test {
 protected:
  static GammaEvent ev(const std::string& id, std::string series, UnixNanos end, bool closed) {
    GammaEvent e;
    e.id = id;
    e.slug = "ev" + id;
    e.series_slug = std::move(series);
    e.end_date = end;
    e.start_date = end - 300 * kSec;
    e.closed = closed;
    return e;
  }
  void SetUp() override {
    events_ = {ev("1", "btc-up-or-down-5m", kWindow + 900 * kSec, false),
               ev("2", "eth-up-or-down-5m", kWindow + 300 * kSec, false),
               ev("3", "btc-up-or-down-5m", kWindow + 600 * kSec, true),
               ev("4", "btc-up-or-down-5m", kWindow + 1200 * kSec, false),
               ev("10", "btc-up-or-down-5m", kWindow, false)};
    events_[3].active = false;
  }
  [[nodiscard]] std::string ids(std::string_view query) const {
    std::string out;
    for (const GammaEvent* e : select_events(events_, parse_query_string(query))) {
      out += e->id + ' ';
    }
    return out;
  }
  std::vector<GammaEvent> events_;
};

TEST_F(GammaSelectEvents, FiltersAndOrders) {
  EXPECT_EQ(ids(""), "1 2 4 10 ");
  EXPECT_EQ(ids("series_slug=btc-up-or-down-5m"), "1 4 10 ");
  EXPECT_EQ(ids("series_slug=btc-up-or-down-5m&closed=true"), "3 ");
  EXPECT_EQ(ids("series_slug=btc-up-or-down-5m&tag_slug=crypto"), "1 4 10 ");  // tag ignored
  EXPECT_EQ(ids("series_slug=btc-up-or-down-5m&active=true"), "1 10 ");
  EXPECT_EQ(ids("series_slug=nope"), "");
  EXPECT_EQ(ids("slug=ev2&slug=ev10"), "2 10 ");
  EXPECT_EQ(ids("id=4"), "4 ");
  EXPECT_EQ(ids("order=endDate"), "10 2 1 4 ");
  EXPECT_EQ(ids("order=endDate&ascending=false"), "4 1 2 10 ");
  EXPECT_EQ(ids("order=startDate&ascending=false&limit=2&offset=1"), "1 2 ");
  EXPECT_EQ(ids("order=id&ascending=false"), "10 4 2 1 ");  // numeric ids
  EXPECT_EQ(ids("order=eventStartTime"), "1 2 4 10 ");      // not an event field: ignored
  EXPECT_EQ(ids("closed=no"), "");
}

// ---------------------------------------------------------------------------------------------
// Shapes, skips and errors

TEST(PolymarketGamma, SeriesSlugSources) {
  const auto own =
      discover(R"({"id":"1","seriesSlug":"own","version":"v1","clobTokenIds":"[\"1\"]",)"
               R"("outcomes":"[\"Up\"]",)"
               R"("events":[{"seriesSlug":"event"}]})");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].series_slug, "own");
  const auto nested = discover(R"([{"id":"1","version":"v1","clobTokenIds":"[\"1\"]",)"
                               R"("outcomes":"[\"Up\"]",)"
                               R"("events":[{"series":[{"slug":"from-series"}]}]}])");
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(nested[0].series_slug, "from-series");
  // A single event object; series[0].slug wins over the event's seriesSlug.
  const auto event =
      discover(R"({"id":"9","seriesSlug":"b","series":[{"slug":"a"}],"markets":[)"
               R"({"id":"1","version":"v1","clobTokenIds":"[\"1\", \"2\"]",)"
               R"("outcomes":"[\"Up\", \"Down\"]"}]})");
  ASSERT_EQ(event.size(), 1u);
  EXPECT_EQ(event[0].series_slug, "a");
  EXPECT_EQ(event[0].up_token_id, "1");
  EXPECT_EQ(event[0].down_token_id, "2");
}

TEST(PolymarketGamma, AcceptsRealArraysAndTickSpellings) {
  const auto ms = discover(
      R"([{"id":1,"version":"v1","clobTokenIds":["1","2"],"outcomes":["UP","down"],)"
      R"("orderPriceMinTickSize":"0.01"},)"
      R"({"id":"2","version":"v1","clobTokenIds":"[\"3\"]","outcomes":"[\"x\"]",)"
      R"("orderPriceMinTickSize":0.0001},)"
      R"({"id":"3","version":"v1","clobTokenIds":"[\"4\"]","outcomes":"[\"x\"]",)"
      R"("orderPriceMinTickSize":0.00015},)"
      R"({"id":"4","version":"v1","clobTokenIds":"[\"5\"]","outcomes":"[\"x\"]",)"
      R"("orderPriceMinTickSize":2},)"
      R"({"id":"5","version":"v1","clobTokenIds":"[\"6\"]","outcomes":"[\"x\"]",)"
      R"("orderPriceMinTickSize":1}])");
  ASSERT_EQ(ms.size(), 5u);
  EXPECT_EQ(ms[0].market_id, "1");
  EXPECT_EQ(ms[0].up_token_id, "1");
  EXPECT_EQ(ms[0].down_token_id, "2");
  EXPECT_EQ(ms[0].tick, 100);
  EXPECT_EQ(ms[1].tick, 1);
  EXPECT_EQ(ms[2].tick, 0);  // off the 0.0001 grid
  EXPECT_EQ(ms[3].tick, 0);  // above 1
  EXPECT_EQ(ms[4].tick, 10000);
}

TEST(PolymarketGamma, SkipsUnusableEntriesNamingEachWithWhy) {
  const GammaPage page = page_of(
      R"([7,"x",null,)"
      R"({"id":"no-version","clobTokenIds":"[\"1\", \"2\"]","outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"slug":"v3","version":"v3","clobTokenIds":"[\"1\"]","outcomes":"[\"Up\"]"},)"
      R"({"id":"no-tokens","version":"v1","outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"id":"null-tokens","version":"v1","clobTokenIds":null,"outcomes":"[\"Up\"]"},)"
      R"({"id":"no-outcomes","version":"v1","clobTokenIds":"[\"1\", \"2\"]"},)"
      R"({"id":"mismatch","version":"v1","clobTokenIds":"[\"1\", \"2\"]","outcomes":"[\"Up\"]"},)"
      R"({"id":"numbers","version":"v1","clobTokenIds":"[1, 2]","outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"id":"truncated","version":"v1","clobTokenIds":"[\"1\", ","outcomes":"[\"Up\"]"},)"
      R"({"id":"object","version":"v1","clobTokenIds":"{}","outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"id":"hex","version":"v1","clobTokenIds":"[\"0x1f\", \"2\"]","outcomes":"[\"A\", \"B\"]"},)"
      R"({"id":"event","markets":[1,{"id":"nested-bad","version":"v1"},)"
      R"({"id":"ok","version":"v1","clobTokenIds":"[\"1\", \"2\"]","outcomes":"[\"Up\", \"Down\"]"}]}])");
  ASSERT_EQ(page.markets.size(), 1u);
  EXPECT_EQ(page.markets[0].market_id, "ok");
  EXPECT_EQ(page.markets[0].start, 0);
  EXPECT_EQ(page.markets[0].end, 0);
  EXPECT_EQ(page.markets[0].tick, 0);
  EXPECT_FALSE(page.markets[0].active);
  EXPECT_EQ(page.entries, 14u);  // listing elements: the event counts once
  std::vector<std::string> got;
  for (const SkippedMarket& m : page.skipped) got.push_back(m.name + ":" + to_string(m.reason));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "(element 0):not_an_object", "(element 1):not_an_object",
                     "(element 2):not_an_object", "no-version:no_version", "v3:unknown_version",
                     "no-tokens:missing_ids", "null-tokens:missing_ids",
                     "no-outcomes:bad_ids", "mismatch:unmatched_outcomes", "numbers:bad_ids",
                     "truncated:bad_ids", "object:bad_ids", "hex:non_decimal_id",
                     "event market 0:not_an_object", "nested-bad:missing_ids"}));
  EXPECT_TRUE(discover("[]").empty());
  EXPECT_FALSE(page.next_cursor.has_value());
}

TEST(PolymarketGamma, TheVersionChoosesTheIdsEvenWhenBothAreListed) {
  // V2: positionIds, a real array; V1: clobTokenIds, a JSON-encoded string.
  const GammaPage page = page_of(
      R"([{"slug":"new","version":"v2","outcomes":"[\"Up\", \"Down\"]",)"
      R"("clobTokenIds":"[\"111\", \"222\"]","positionIds":["333","444"]},)"
      R"({"slug":"old","version":"v1","outcomes":"[\"Up\", \"Down\"]",)"
      R"("clobTokenIds":"[\"555\", \"666\"]","positionIds":["777","888"]},)"
      R"({"slug":"v2-only","version":"v2","outcomes":"[\"Yes\", \"No\"]","positionIds":["9","10"]},)"
      R"({"slug":"v2-without-positions","version":"v2","outcomes":"[\"Up\", \"Down\"]",)"
      R"("clobTokenIds":"[\"1\", \"2\"]"}])");
  ASSERT_EQ(page.markets.size(), 3u);
  EXPECT_EQ(page.markets[0].token_ids, (std::vector<std::string>{"333", "444"}));
  EXPECT_EQ(page.markets[0].up_token_id, "333");
  EXPECT_EQ(page.markets[0].down_token_id, "444");
  EXPECT_EQ(page.markets[1].token_ids, (std::vector<std::string>{"555", "666"}));
  EXPECT_EQ(page.markets[2].token_ids, (std::vector<std::string>{"9", "10"}));
  ASSERT_EQ(page.skipped.size(), 1u);
  EXPECT_EQ(page.skipped[0].name, "v2-without-positions");
  EXPECT_EQ(page.skipped[0].reason, SkipReason::kMissingIds);

  // Rendered by the simulator the same way.
  GammaMarket m = btc_market();
  m.version = "v2";
  m.position_ids = {"31", "32"};
  const auto ms = discover(render_market(m));
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].up_token_id, "31");
  EXPECT_NE(render_market(m).find(R"("version":"v2","positionIds":["31","32"])"),
            std::string::npos);
}

TEST(PolymarketGamma, MarketsStillHydratingAreSkippedAsSuchWhateverTheSpelling) {
  const GammaPage page = page_of(
      R"([{"slug":"empty-string","version":"v1","clobTokenIds":"","outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"slug":"empty-list","version":"v1","clobTokenIds":"[]","outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"slug":"empty-entry","version":"v1","clobTokenIds":"[\"\", \"2\"]",)"
      R"("outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"slug":"v2-empty","version":"v2","positionIds":[],"outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"slug":"v2-blank","version":"v2","positionIds":["",""],"outcomes":"[\"Up\", \"Down\"]"},)"
      R"({"slug":"no-outcomes-yet","version":"v1","clobTokenIds":"[]"}])");
  EXPECT_TRUE(page.markets.empty());
  ASSERT_EQ(page.skipped.size(), 6u);
  for (const SkippedMarket& m : page.skipped) {
    EXPECT_EQ(m.reason, SkipReason::kHydrating) << m.name;
  }
  EXPECT_EQ(page.skipped[0].name, "empty-string");
}

TEST(PolymarketGamma, ARealMarketWithoutAVersionIsSkippedAndNamed) {
  // The captures predate `version`: strictly, which id is the asset id is unknown.
  const GammaPage page = page_of(read_fixture("gamma_market.json"));
  EXPECT_TRUE(page.markets.empty());
  ASSERT_EQ(page.skipped.size(), 1u);
  EXPECT_EQ(page.skipped[0].name, "btc-updown-5m-1773307200");
  EXPECT_EQ(page.skipped[0].reason, SkipReason::kNoVersion);
}

TEST(PolymarketGamma, KeysetPagesCarryTheirCursorUntilTheLastPage) {
  const std::string market =
      R"({"id":"1","version":"v1","clobTokenIds":"[\"1\"]","outcomes":"[\"Up\"]"})";
  const GammaPage first = page_of(R"({"markets":[)" + market + R"(],"next_cursor":"abc"})");
  ASSERT_EQ(first.markets.size(), 1u);
  EXPECT_EQ(first.entries, 1u);
  EXPECT_EQ(first.next_cursor, "abc");
  const GammaPage last = page_of(R"({"markets":[)" + market + "]}");
  EXPECT_EQ(last.markets.size(), 1u);
  EXPECT_FALSE(last.next_cursor.has_value());
  const GammaPage empty_cursor = page_of(R"({"markets":[],"next_cursor":""})");
  EXPECT_FALSE(empty_cursor.next_cursor.has_value());
  EXPECT_EQ(empty_cursor.entries, 0u);
  const GammaPage events =
      page_of(R"({"events":[{"id":"9","markets":[)" + market + R"(]}],"next_cursor":"e2"})");
  ASSERT_EQ(events.markets.size(), 1u);
  EXPECT_EQ(events.entries, 1u);
  EXPECT_EQ(events.next_cursor, "e2");
  // A single event (an id beside its markets) is not a keyset page.
  const GammaPage event = page_of(R"({"id":"9","markets":[)" + market + "]}");
  EXPECT_EQ(event.markets.size(), 1u);
  EXPECT_FALSE(event.next_cursor.has_value());
  // Rendered pages read back.
  GammaMarket m = btc_market();
  const GammaMarket* rows[] = {&m};
  EXPECT_EQ(page_of(render_markets_page(rows, "zz")).next_cursor, "zz");
  EXPECT_EQ(render_markets_page({}, ""), R"({"markets":[]})");
  EXPECT_EQ(render_events_page({}, "c"), R"({"events":[],"next_cursor":"c"})");
}

TEST(PolymarketGamma, KeysetPagingWalksEveryRowOnceInIdOrder) {
  std::vector<GammaMarket> markets(250);
  for (std::size_t i = 0; i < markets.size(); ++i) {
    markets[i].id = std::to_string(1'000 - i);  // listed in descending id order
    markets[i].closed = i % 50 == 0;            // 5 closed: filtered out
  }
  std::vector<const GammaMarket*> rows;
  for (const GammaMarket& m : markets) rows.push_back(&m);
  std::vector<const GammaMarket*> page;
  std::string cursor;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    // Asks for 500: the cap is 100.
    std::string q = "limit=500";
    if (!cursor.empty()) q += "&after_cursor=" + cursor;
    ASSERT_TRUE(keyset_markets(rows, parse_query_string(q), page, cursor));
    EXPECT_LE(page.size(), kGammaPageCap);
    for (const GammaMarket* m : page) seen.push_back(m->id);
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);  // 100 + 100 + 45; no cursor on the last
  ASSERT_EQ(seen.size(), 245u);
  EXPECT_EQ(seen.front(), "751");
  EXPECT_EQ(seen.back(), "999");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // A cursor names a row, not a position: removing that row does not shift the next page.
  ASSERT_TRUE(keyset_markets(rows, parse_query_string("limit=10"), page, cursor));
  const std::string after = cursor;
  rows.erase(std::find_if(rows.begin(), rows.end(),
                          [&](const GammaMarket* m) { return m->id == page.back()->id; }));
  ASSERT_TRUE(keyset_markets(rows, parse_query_string("limit=10&after_cursor=" + after), page,
                             cursor));
  EXPECT_EQ(page.front()->id, "761");
  EXPECT_FALSE(keyset_markets(rows, parse_query_string("after_cursor=nothex"), page, cursor));
  EXPECT_FALSE(keyset_markets(rows, parse_query_string("after_cursor=abcd"), page, cursor));

  // Events: 500 a page.
  std::vector<GammaEvent> events(600);
  for (std::size_t i = 0; i < events.size(); ++i) events[i].id = std::to_string(i + 1);
  std::vector<const GammaEvent*> erows;
  for (const GammaEvent& e : events) erows.push_back(&e);
  std::vector<const GammaEvent*> epage;
  ASSERT_TRUE(keyset_events(erows, parse_query_string("limit=1000"), epage, cursor));
  EXPECT_EQ(epage.size(), kGammaEventsKeysetCap);
  ASSERT_TRUE(keyset_events(erows, parse_query_string("limit=1000&after_cursor=" + cursor), epage,
                            cursor));
  EXPECT_EQ(epage.size(), 100u);
  EXPECT_TRUE(cursor.empty());
}

TEST(PolymarketGamma, RejectsBodiesOfOtherShapes) {
  for (const char* body : {"", "nope", "42", "\"[]\"", "true", "null", "[", "{\"a\":}",
                           R"({"type":"validation error","error":"invalid order"})"}) {
    SCOPED_TRACE(body);
    std::vector<DiscoveredMarket> out(1);
    std::size_t skipped = 5;
    std::string error;
    EXPECT_FALSE(parse_gamma(body, out, skipped, error));
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(out.empty());
  }
  std::vector<DiscoveredMarket> out;
  std::size_t skipped = 0;
  std::string error;
  EXPECT_FALSE(parse_gamma(R"({"error":"invalid order"})", out, skipped, error));
  EXPECT_NE(error.find("invalid order"), std::string::npos);
}

TEST(PolymarketGamma, NeverCrashesOnTruncatedOrCorruptedFixtures) {
  for (const char* name : {"gamma_market.json", "gamma_event.json", "gamma_market_live.json",
                           "gamma_market_crypto_twap.json"}) {
    SCOPED_TRACE(name);
    const std::string text = read_fixture(name);
    std::vector<DiscoveredMarket> out;
    std::size_t skipped = 0;
    std::string error;
    // No prefix that stops before the closing bracket is complete JSON.
    const std::size_t close = text.find_last_of("}]");
    for (std::size_t n = 0; n <= close; ++n) {
      ASSERT_FALSE(parse_gamma(std::string_view(text).substr(0, n), out, skipped, error)) << n;
    }
    ASSERT_TRUE(parse_gamma(text, out, skipped, error));
    std::mt19937 rng(777);
    for (int round = 0; round < 500; ++round) {
      std::string mutated = text;
      for (int k = 0; k < 4; ++k) mutated[rng() % mutated.size()] = static_cast<char>(rng() % 256);
      (void)parse_gamma(mutated, out, skipped, error);  // must simply return
    }
  }
}

// The second parse (the JSON-encoded lists) sees truncated text too.
TEST(PolymarketGamma, SkipsEveryTruncatedEncodedList) {
  const std::string text = v1(read_fixture("gamma_market.json"));
  const std::string field = R"("[\"Up\", \"Down\"]")";
  const std::size_t at = text.find(field);
  ASSERT_NE(at, std::string::npos);
  const std::string inner = R"(["Up", "Down"])";
  for (std::size_t n = 0; n <= inner.size(); ++n) {
    SCOPED_TRACE(n);
    std::string escaped = "\"";
    for (const char c : inner.substr(0, n)) {
      if (c == '"') escaped += '\\';
      escaped += c;
    }
    escaped += '"';
    std::string body = text;
    body.replace(at, field.size(), escaped);
    const bool complete = n == inner.size();
    const auto ms = discover(body, complete ? 0 : 1);
    EXPECT_EQ(ms.size(), complete ? 1u : 0u);
  }
}

}  // namespace
}  // namespace booktape::polymarket
