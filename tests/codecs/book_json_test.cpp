#include "codecs/book_json.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace booktape {
namespace {

constexpr Size kShare = kSizeScale;

TEST(BookJson, LevelsBestFirstAsExactDecimalStrings) {
  L2Book b;
  // Inserted in no particular order; sizes with every number of decimals.
  b.side(Side::kBid).set(4'900, 350 * kShare);
  b.side(Side::kBid).set(5'000, 219'217'767);  // 219.217767
  b.side(Side::kBid).set(10, 1);               // 0.001 x 0.000001
  b.side(Side::kAsk).set(5'200, 250'500'000);  // 250.5
  b.side(Side::kAsk).set(5'100, 150 * kShare);
  b.side(Side::kAsk).set(kPriceOne, 8'333'332);  // 1 x 8.333332
  std::string out;
  append_book_json(out, "A\"1", b, BookState::kLive, 1'703'875'200'123'456'789);
  EXPECT_EQ(out,
            R"({"asset_id":"A\"1","state":"live","state_since":"2023-12-29T18:40:00.123456789Z",)"
            R"("bids":[["0.5","219.217767"],["0.49","350"],["0.001","0.000001"]],)"
            R"("asks":[["0.51","150"],["0.52","250.5"],["1","8.333332"]]})");
}

TEST(BookJson, EmptyBook) {
  std::string out;
  append_book_json(out, "X", L2Book{}, BookState::kAwaitingSnapshot, 0);
  EXPECT_EQ(out, R"({"asset_id":"X","state":"awaiting_snapshot","state_since":null,)"
                 R"("bids":[],"asks":[]})");
}

TEST(BookJson, BooksJsonIsSortedByAssetIdOnePerLineWithEachBooksState) {
  BookKeeper keeper;
  const TokenIndex b = keeper.token("b-token");
  const TokenIndex a = keeper.token("a-token");
  keeper.begin_frame(1, 1'703'875'200'000'000'000);
  std::vector<Level> bids{{1 * kShare, 4'000}};
  std::vector<Level> asks{{2 * kShare, 6'000}};
  keeper.apply_snapshot(b, bids, asks, 1);
  std::vector<Level> none;
  keeper.apply_snapshot(a, none, none, 1);
  keeper.begin_frame(2, 1'703'875'201'500'000'000);
  keeper.apply_tick_size(b, 10, 2);
  const std::string j = books_json(keeper);
  EXPECT_EQ(j,
            "[\n"
            R"({"asset_id":"a-token","state":"live",)"
            R"("state_since":"2023-12-29T18:40:00.000000000Z",)"
            R"("bids":[],"asks":[]},)"
            "\n"
            R"({"asset_id":"b-token","state":"unconfirmed",)"
            R"("state_since":"2023-12-29T18:40:01.500000000Z",)"
            R"("bids":[["0.4","1"]],"asks":[["0.6","2"]]})"
            "\n]\n");
  simdjson::dom::parser p;
  EXPECT_EQ(p.parse(j).error(), simdjson::SUCCESS);
  EXPECT_EQ(books_json(BookKeeper{}), "[]\n");
}

TEST(BookJson, BookViewCarriesStateTopMidSpreadAndDisplayedPrice) {
  BookKeeper keeper;
  const TokenIndex t = keeper.token("tok");
  keeper.begin_frame(1, 1'703'875'200'123'456'789);
  // bids 0.50 x200, 0.49 x350; asks 0.51 x150.
  std::vector<Level> bids{{350 * kShare, 4'900}, {200 * kShare, 5'000}};
  std::vector<Level> asks{{150 * kShare, 5'100}};
  keeper.apply_snapshot(t, bids, asks, 1);
  const std::string v = book_view_json(keeper, t);
  // mid = (0.50 + 0.51) / 2 = 0.505; spread 0.01 = 0.01 / 0.505 = 198.0198 bps -> "198.02";
  // spread <= 0.10, so Polymarket displays the midpoint.
  EXPECT_EQ(v,
            R"({"asset_id":"tok","state":"live","state_since":"2023-12-29T18:40:00.123456789Z",)"
            R"("stale_reason":"none","in_sync":true,)"
            R"("crossed":false,"last_update_utc":"2023-12-29T18:40:00.123456789Z",)"
            R"("best_bid":"0.5","best_ask":"0.51","mid":"0.505","spread":"0.01",)"
            R"("spread_bps":"198.02","displayed_price":"0.505","displayed_source":"midpoint",)"
            R"("depth_levels":{"bids":2,"asks":1},)"
            R"("book":{"asset_id":"tok","state":"live",)"
            R"("state_since":"2023-12-29T18:40:00.123456789Z",)"
            R"("bids":[["0.5","200"],["0.49","350"]],)"
            R"("asks":[["0.51","150"]]}})");
  simdjson::dom::parser p;
  EXPECT_EQ(p.parse(v).error(), simdjson::SUCCESS);
}

TEST(BookJson, BookViewOfAnEmptyStaleBookHasNullTopAndLastTrade) {
  BookKeeper keeper;
  const TokenIndex t = keeper.token("tok");
  keeper.record_trade(t, 4'250, 10 * kShare, 5);
  keeper.mark_stale(t, StaleReason::kBadSnapshot);
  const std::string v = book_view_json(keeper, t);
  EXPECT_EQ(v,
            R"({"asset_id":"tok","state":"stale","state_since":null,)"
            R"("stale_reason":"bad_snapshot","in_sync":true,)"
            R"("crossed":false,"best_bid":null,"best_ask":null,)"
            R"("displayed_price":"0.425","displayed_source":"last_trade",)"
            R"("depth_levels":{"bids":0,"asks":0},)"
            R"("book":{"asset_id":"tok","state":"stale","state_since":null,"bids":[],"asks":[]}})");
}

TEST(BookJson, BooksByAssetComparesLevelsNotTrust) {
  const std::string a =
      R"([{"asset_id":"x","state":"live","state_since":"2023-12-29T18:40:00.000000000Z",)"
      R"("bids":[["0.5","1"]],"asks":[]},)"
      R"({"asset_id":"y","state":"stale","state_since":null,"bids":[],"asks":[["0.6","2"]]}])";
  const std::string b =
      R"([{"asset_id":"x","state":"unconfirmed","state_since":"2023-12-29T18:41:00Z",)"
      R"("bids":[["0.5","1"]],"asks":[]}])";
  const auto ma = books_by_asset(a);
  const auto mb = books_by_asset(b);
  ASSERT_EQ(ma.size(), 2u);
  EXPECT_EQ(ma.at("x"), R"({"asset_id":"x","bids":[["0.5","1"]],"asks":[]})");
  EXPECT_EQ(ma.at("x"), mb.at("x"));
  EXPECT_EQ(ma.at("y"), R"({"asset_id":"y","bids":[],"asks":[["0.6","2"]]})");
  EXPECT_TRUE(books_by_asset(R"([{"asset_id":"x","bids":[]}])").empty());  // no asks: not a book
  EXPECT_TRUE(books_by_asset("{}").empty());
}

}  // namespace
}  // namespace booktape
