// The simulator's Gamma keeps the venue's 2026 paging rules (protocol note §9), so a discovery
// written for the old Gamma fails against it: plain pages capped at 100, offset past 10,000
// refused, keyset pages with a cursor until the last, offset refused there, a catalogue with
// the venue's mix of shapes.
#include "io/sim/gamma_service.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>

#include "codecs/polymarket_gamma.hpp"

namespace booktape {
namespace {

namespace pm = polymarket;

std::size_t items(const std::string& body, const char* key = nullptr) {
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(body);
  simdjson::dom::array a = key ? simdjson::dom::array(e[key]) : simdjson::dom::array(e);
  return a.size();
}

GammaAnswer get(GammaService& g, std::string_view path, std::string_view query,
                const pm::MarketSim* market = nullptr) {
  return g.answer(path, pm::parse_query_string(query), market);
}

TEST(GammaService, PlainPagesAreCappedAndOffsetPastTenThousandIsRefused) {
  GammaService g(25'000, 3, 0);
  const GammaAnswer page = get(g, "/markets", "active=true&closed=false&limit=500");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(items(page.body), 100u);  // what a client asking 500 used to take for the end
  EXPECT_EQ(items(get(g, "/markets", "limit=50&offset=10000").body), 50u);
  const GammaAnswer past = get(g, "/markets", "limit=100&offset=10001");
  EXPECT_EQ(past.status, 422);
  EXPECT_NE(past.body.find("offset"), std::string::npos);
  EXPECT_EQ(get(g, "/markets", "offset=soon").status, 422);
  EXPECT_EQ(get(g, "/events", "offset=20000").status, 422);
}

TEST(GammaService, KeysetPagesFollowTheCursorToTheEndAndRefuseOffset) {
  GammaService g(1'000, 3, 0);
  std::set<std::string> ids;
  std::string cursor;
  int pages = 0;
  for (; pages < 50; ++pages) {
    std::string q = "active=true&closed=false&limit=500";
    if (!cursor.empty()) q += "&after_cursor=" + cursor;
    const GammaAnswer a = get(g, "/markets/keyset", q);
    ASSERT_EQ(a.status, 200) << a.body;
    pm::GammaPage page;
    std::string error;
    ASSERT_TRUE(pm::parse_gamma_page(a.body, page, error)) << error;
    EXPECT_LE(page.entries, 100u);
    for (const pm::DiscoveredMarket& m : page.markets) EXPECT_TRUE(ids.insert(m.market_id).second);
    for (const pm::SkippedMarket& m : page.skipped) EXPECT_TRUE(ids.insert(m.name).second);
    if (!page.next_cursor) break;
    cursor = *page.next_cursor;
  }
  const std::size_t open = 1'000 - 1'000 / 37;
  EXPECT_EQ(ids.size(), open);
  EXPECT_EQ(pages + 1, static_cast<int>((open + 99) / 100));
  EXPECT_EQ(get(g, "/markets/keyset", "offset=0").status, 422);
  EXPECT_EQ(get(g, "/events/keyset", "limit=10&offset=5").status, 422);
  EXPECT_EQ(get(g, "/markets/keyset", "after_cursor=not-ours").status, 422);
  // No rolling markets behind it (replay mode): an empty last page.
  EXPECT_EQ(get(g, "/events/keyset", "limit=500").body, R"({"events":[]})");
}

TEST(GammaService, TheRateLimitAndTheFaultAnswer429) {
  GammaService g(0, 3, 2);  // 2 requests in any 10 s
  EXPECT_EQ(get(g, "/markets", "").status, 200);
  EXPECT_EQ(get(g, "/events/keyset", "").status, 200);
  EXPECT_EQ(get(g, "/markets", "").status, 429);
  EXPECT_EQ(g.throttled(), 1u);
  GammaService f(0, 3, 0);
  f.throttle_next(2);
  EXPECT_EQ(get(f, "/markets/keyset", "").status, 429);
  EXPECT_EQ(get(f, "/markets/keyset", "").status, 429);
  EXPECT_EQ(get(f, "/markets/keyset", "").status, 200);
  EXPECT_EQ(f.throttled(), 2u);
}

TEST(GammaCatalogue, HasTheVenuesMixAndHydratesOnceListed) {
  GammaCatalogue c(10'000, 9, 1'790'000'000 * kNanosPerSecond);
  std::size_t v2 = 0, closed = 0;
  for (const pm::GammaMarket& m : c.markets()) {
    v2 += m.version == "v2";
    closed += m.closed;
    if (m.version == "v2") {
      EXPECT_EQ(m.position_ids.size(), 2u);
      EXPECT_EQ(m.clob_token_ids.size(), 2u);  // the decoys a V1 reading would take
    }
  }
  EXPECT_GE(v2, 950u);  // one in ten (the versionless and v3 ones excepted)
  EXPECT_LE(v2, 1'000u);
  EXPECT_EQ(closed, 10'000u / 37);
  const auto skips = c.expected_skips();
  const auto n = [&](pm::SkipReason r) { return skips[static_cast<std::size_t>(r)]; };
  EXPECT_GT(n(pm::SkipReason::kHydrating), 90u);
  EXPECT_GT(n(pm::SkipReason::kNoVersion), 40u);
  EXPECT_GT(n(pm::SkipReason::kUnknownVersion), 40u);
  EXPECT_GT(n(pm::SkipReason::kUnmatchedOutcomes), 40u);
  EXPECT_GT(n(pm::SkipReason::kNonDecimalId), 40u);
  // Every expected id is a 77-digit decimal, each once.
  const auto ids = c.expected_ids();
  for (const auto& [id, market] : ids) EXPECT_EQ(id.size(), 77u);

  // Listing a hydrating market gives it its ids for the next listing.
  std::size_t first_hydrating = 0;
  while (c.kind(first_hydrating) != GammaCatalogue::Kind::kHydrating) ++first_hydrating;
  const pm::GammaMarket* m = &c.markets()[first_hydrating];
  const auto& listed_ids = m->version == "v2" ? m->position_ids : m->clob_token_ids;
  EXPECT_EQ(listed_ids, (std::vector<std::string>{"", ""}));
  c.listed({&m, 1});
  EXPECT_EQ(listed_ids.at(0).size(), 77u);
  EXPECT_EQ(c.expected_ids().size(), ids.size() + 2);
  EXPECT_EQ(c.expected_skips()[static_cast<std::size_t>(pm::SkipReason::kHydrating)],
            n(pm::SkipReason::kHydrating) - 1);
  // The same seed is the same catalogue (a test can rebuild what a simulator lists).
  GammaCatalogue again(10'000, 9, 0);
  EXPECT_EQ(again.markets()[123].clob_token_ids, c.markets()[123].clob_token_ids);
}

}  // namespace
}  // namespace booktape
