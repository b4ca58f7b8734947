// The HTTP book API's bodies (served once the operator listener exists): exact depth bands,
// costs to trade a notional, and seed 001's odds.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "io/consumers/book_api.hpp"
#include "tests/io/consumers/consumer_test_support.hpp"

namespace booktape {
namespace {

constexpr std::int64_t kNow = 1'700'000'010'000'000'000;

std::string at(const std::string& json, std::initializer_list<const char*> path) {
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(json);
  for (const char* k : path)
    if (e[k].get(e)) return "<absent>";
  return simdjson::minify(e);
}

TEST(BookApi, TheDetailHasTheWholeBookDepthBandsAndCostsToTrade) {
  const TokenBook tb =
      testing::book_of({{100'000'000, 4800}, {200'000'000, 4700}, {50'000'000, 4000}},
                       {{100'000'000, 5200}, {1'000'000'000, 5500}, {10'000'000, 7000}});
  BookSnapshot s{"7132", "0xabc", &tb.book, "live", Price{5000}, kNow - 2'500'000'000};
  const std::string j = book_detail_json(s, kNow);
  EXPECT_EQ(at(j, {"state"}), "\"live\"");
  EXPECT_EQ(at(j, {"age_ms"}), "2500");
  EXPECT_EQ(at(j, {"bids"}), R"([["0.48","100"],["0.47","200"],["0.4","50"]])");
  EXPECT_EQ(at(j, {"mid"}), "\"0.5\"");
  EXPECT_EQ(at(j, {"depth", "asks"}), "3");
  EXPECT_EQ(at(j, {"depth_within", "0.01", "bids"}),
            R"({"size":"300","notional":"142","levels":2})");
  EXPECT_EQ(at(j, {"depth_within", "0.05", "bids", "levels"}), "2");
  EXPECT_EQ(at(j, {"depth_within", "0.1", "bids"}),
            R"({"size":"350","notional":"162","levels":3})");
  EXPECT_EQ(at(j, {"depth_within", "0.01", "asks"}),
            R"({"size":"100","notional":"52","levels":1})");
  EXPECT_EQ(at(j, {"depth_within", "0.05", "asks"}),
            R"({"size":"1100","notional":"602","levels":2})");
  // 100 USDC buys 100 at 0.52 (52 USDC), then 87.272727 at 0.55 (the largest whole micro-share).
  EXPECT_EQ(at(j, {"cost", "buy", "100", "filled"}), "\"187.272727\"");
  EXPECT_EQ(at(j, {"cost", "buy", "100", "cost"}), "\"99.99999985\"");
  EXPECT_EQ(at(j, {"cost", "buy", "100", "worst_price"}), "\"0.55\"");
  EXPECT_EQ(at(j, {"cost", "buy", "100", "complete"}), "true");
  // 1,000 USDC is more than the bids hold: all of them, marked incomplete.
  EXPECT_EQ(
      at(j, {"cost", "sell", "1000"}),
      R"({"filled":"350","cost":"162","average_price":"0.46285714","worst_price":"0.4","levels":3,"complete":false})");
}

TEST(BookApi, OddsGiveEachOutcomesDisplayedPriceAndTheBooksAge) {
  const TokenBook up = testing::book_of({{1, 4800}}, {{1, 5200}});
  const TokenBook wide = testing::book_of({{1, 3000}}, {{1, 9000}});
  const OutcomeSnapshot outcomes[] = {
      {"Up", {"1", "0xabc", &up.book, "live", std::nullopt, kNow - 1'000'000}},
      {"Down", {"2", "0xabc", &wide.book, "live", Price{4900}, kNow - 1'000'000}},
      {"Maybe", {"3", "0xabc", nullptr, "awaiting_snapshot", std::nullopt, 0}},
  };
  const std::string j = odds_json("btc-up-or-down-15m-1", "0xabc", outcomes, kNow);
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(j);
  EXPECT_EQ(std::string_view(e["market"]), "btc-up-or-down-15m-1");
  simdjson::dom::array o = e["outcomes"];
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(
      simdjson::minify(o.at(0)),
      R"({"outcome":"Up","asset_id":"1","displayed_price":"0.5","displayed_source":"midpoint","best_bid":"0.48","best_ask":"0.52","state":"live","received_at_utc":"2023-11-14T22:13:29.999000000Z","age_ms":1})");
  // A spread over 0.10 shows the last trade, as Polymarket does.
  EXPECT_EQ(std::string_view(o.at(1)["displayed_price"]), "0.49");
  EXPECT_EQ(std::string_view(o.at(1)["displayed_source"]), "last_trade");
  EXPECT_TRUE(o.at(2)["displayed_price"].is_null());
  EXPECT_TRUE(o.at(2)["age_ms"].is_null());
}

}  // namespace
}  // namespace booktape
