// The HTTP book API's handlers over a book table in private memory (the end-to-end test with a
// recorder, a simulator and real HTTP clients is tests/io/record/book_api_http_test.cpp): a book
// cut to the table's depth says how deep the whole book is; tokens given by id alone are found
// by their market; unknown ids are 404 and pages are bounded.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "io/consumers/book_routes.hpp"
#include "io/consumers/book_table.hpp"
#include "tests/io/consumers/consumer_test_support.hpp"

namespace booktape {
namespace {

using testing::book_of;

HttpRequest get(std::string_view target) {
  HttpRequest r;
  r.method = "GET";
  r.target = target;
  const std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  return r;
}

class BookRoutesTest : public ::testing::Test {
 protected:
  BookRoutesTest() : table_(options()) {
    // Levels are {size, price}: sizes in 1e-6 shares, prices in 1e-4 USDC.
    table_.assign(0, "11", "0xm");
    table_.write_book(
        0,
        book_of({{100'000'000, 4800}, {5'000'000, 4700}, {1'000'000, 4600}}, {{7'000'000, 5200}}),
        1, TradeMark{});
    table_.assign(1, "12", "0xm");
    table_.write_book(1, book_of({{2'000'000, 4700}}, {{3'000'000, 5300}}), 1, TradeMark{});
    table_.assign(2, "13", "0xother");
    table_.write_book(2, book_of({}, {}), 1, TradeMark{});
  }
  static BookTableOptions options() {
    BookTableOptions o;
    o.slots = 4;
    o.depth = 2;
    return o;
  }
  BookTable table_;
  simdjson::dom::parser p_;
};

TEST_F(BookRoutesTest, ABookCutToTheTableDepthSaysHowDeepTheWholeBookIs) {
  BookRoutes routes(table_.view());
  const HttpReply r = routes.book(get("/books/11"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type.substr(0, 16), "application/json");
  simdjson::dom::element b = p_.parse(r.body);
  EXPECT_EQ(std::uint64_t(b["depth"]["bids"]), 3u);
  EXPECT_EQ(std::uint64_t(b["levels_shown"]["bids"]), 2u);
  EXPECT_EQ(simdjson::minify(b["bids"]), R"([["0.48","100"],["0.47","5"]])");
  EXPECT_EQ(std::string_view(b["market"]), "0xm");
  EXPECT_EQ(std::string_view(b["state"]), "live");
  EXPECT_EQ(routes.book(get("/books/99")).status, 404);
  EXPECT_EQ(routes.book(get("/books/")).status, 404);
}

TEST_F(BookRoutesTest, OddsFindAMarketBySlugOrByItsBooksConditionId) {
  BookRoutes routes(table_.view());
  // Tokens given by id alone: found by the market their books carry.
  HttpReply r = routes.odds(get("/odds/0xm"));
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element o = p_.parse(r.body);
  EXPECT_EQ(simdjson::dom::array(o["outcomes"]).size(), 2u);
  EXPECT_EQ(routes.odds(get("/odds/btc-x")).status, 404);
  EXPECT_EQ(routes.odds(get("/odds/")).status, 404);
  // With discovery's names.
  routes.set_tokens({{"11", "btc-x", "Up", "0xm"}, {"12", "btc-x", "Down", "0xm"}});
  r = routes.odds(get("/odds/btc-x"));
  ASSERT_EQ(r.status, 200) << r.body;
  o = p_.parse(r.body);
  EXPECT_EQ(std::string_view(o["condition_id"]), "0xm");
  EXPECT_EQ(std::string_view(o["outcomes"].at(0)["outcome"]), "Up");
  EXPECT_EQ(std::string_view(o["outcomes"].at(0)["best_bid"]), "0.48");
  EXPECT_EQ(std::string_view(o["outcomes"].at(1)["outcome"]), "Down");
  EXPECT_EQ(std::string_view(o["outcomes"].at(1)["displayed_price"]), "0.5");
  EXPECT_EQ(routes.odds(get("/odds/0xm")).status, 200);  // by condition id too
}

TEST_F(BookRoutesTest, BooksArePagedAndBadPagesAreRefused) {
  BookRoutes routes(table_.view());
  simdjson::dom::element all = p_.parse(routes.books(get("/books")).body);
  EXPECT_EQ(std::uint64_t(all["total"]), 3u);
  EXPECT_EQ(simdjson::dom::array(all["books"]).size(), 3u);
  EXPECT_TRUE(all["next_offset"].is_null());
  simdjson::dom::parser p2;
  simdjson::dom::element page = p2.parse(routes.books(get("/books?offset=1&limit=1")).body);
  EXPECT_EQ(std::string_view(page["books"].at(0)["asset_id"]), "12");
  EXPECT_EQ(std::uint64_t(page["next_offset"]), 2u);
  EXPECT_EQ(routes.books(get("/books?limit=x")).status, 400);
  EXPECT_EQ(routes.books(get("/books?limit=10001")).status, 400);
  EXPECT_EQ(routes.books(get("/books?offset=-1")).status, 400);
}

}  // namespace
}  // namespace booktape
