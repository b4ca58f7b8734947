#include "codecs/polymarket_rest.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/codecs/fixtures.hpp"

namespace booktape::polymarket {
namespace {

using booktape::testing::read_fixture;

constexpr Size kShare = kSizeScale;

struct Lv {
  Price price;
  Size size;
  bool operator==(const Lv&) const = default;
};

std::vector<Lv> levels_of(const std::vector<Level>& v) {
  std::vector<Lv> out;
  for (const Level& l : v) out.push_back({l.price, l.size});
  return out;
}

// SHA-1 hex straight from OpenSSL, independent of the code under test.
std::string sha1_hex(const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(s.data(), s.size(), d, &n, EVP_sha1(), nullptr), 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 0xF];
  }
  return out;
}

// A small book whose compact JSON is written out by hand in kSmallJson.
BookSummary small_book() {
  BookSummary b;
  b.market = "0xm";
  b.asset_id = "123";
  b.timestamp_ms = 1'700'000'000'000;
  b.bids = {{100 * kShare, 4800}, {2'500'000, 4700}};  // best first: render must reverse
  b.asks = {{10 * kShare, 5100}, {7'123'456, 5200}};   // best first: render must reverse
  b.min_order_size = "5";
  b.tick_size = 100;
  b.neg_risk = false;
  b.last_trade_price = 5000;
  return b;
}

const std::string kSmallJson =
    R"({"market":"0xm","asset_id":"123","timestamp":"1700000000000","hash":"",)"
    R"("bids":[{"price":"0.47","size":"2.5"},{"price":"0.48","size":"100"}],)"
    R"("asks":[{"price":"0.52","size":"7.123456"},{"price":"0.51","size":"10"}],)"
    R"("min_order_size":"5","tick_size":"0.01","neg_risk":false,"last_trade_price":"0.5"})";
// hashlib.sha1(kSmallJson.encode()).hexdigest(), computed in Python.
constexpr const char* kSmallJsonSha1 = "0c96ca7849638581a89317e9dfedb4b07df1d4be";

ParsedBook parse_single(const std::string& body) {
  std::vector<ParsedBook> books;
  std::string error;
  EXPECT_TRUE(parse_books_response(body, books, error)) << error;
  EXPECT_EQ(books.size(), 1u);
  return books.empty() ? ParsedBook{} : books.front();
}

// ---------------------------------------------------------------------------------------------
// Fixtures

TEST(PolymarketRest, ParsesHandWrittenBookFixtureExactly) {
  const ParsedBook b = parse_single(read_fixture("clob_book_response.json"));
  EXPECT_TRUE(b.ok) << b.error;
  EXPECT_EQ(b.market, "0xc8f1cf5d4f26e0fd9c8fe89f2a7b3263b902cf14fde7bfccef525753bb492e47");
  EXPECT_EQ(b.asset_id, "12345678901234567890");
  EXPECT_EQ(b.hash, "0xabc123");
  EXPECT_EQ(b.timestamp_ms, 1'703'875'200'000);
  EXPECT_EQ(levels_of(b.bids),
            (std::vector<Lv>{{4800, 100 * kShare}, {4900, 200 * kShare}, {5000, 150 * kShare}}));
  EXPECT_EQ(levels_of(b.asks),
            (std::vector<Lv>{{5100, 120 * kShare}, {5200, 180 * kShare}, {5300, 90 * kShare}}));
  EXPECT_EQ(b.tick_size, 0);  // absent in this hand-written example
  EXPECT_EQ(b.min_order_size, "");
  EXPECT_FALSE(b.neg_risk);
  EXPECT_EQ(b.last_trade_price, kNoPrice);
}

TEST(PolymarketRest, ParsesRealEmptyAskCaptureExactly) {
  const ParsedBook b = parse_single(read_fixture("clob_book_response_empty_ask.json"));
  EXPECT_TRUE(b.ok) << b.error;
  EXPECT_EQ(b.market, "0x9d839bf0aa31324b9848f5b89841b779238a7c07dee2f7fca675d934e8ab5bf2");
  EXPECT_EQ(b.asset_id,
            "72610532355343625199299853218161700546393390326785971247545541945337255643692");
  EXPECT_EQ(b.timestamp_ms, 1'785'734'468'581);
  EXPECT_EQ(b.hash, "d7df883ae546b09533a4f485bfae0810da1af04e");
  EXPECT_EQ(levels_of(b.bids), (std::vector<Lv>{{10, 667'120'000}, {20, 6'990'000}}));
  EXPECT_TRUE(b.asks.empty());
  EXPECT_EQ(b.tick_size, 10);  // 0.001
  EXPECT_EQ(b.min_order_size, "5");
  EXPECT_TRUE(b.neg_risk);
  EXPECT_EQ(b.last_trade_price, kNoPrice);  // "" on the wire
}

// The real capture's hash is reproduced by the py-clob-client method (checked in Python first),
// so book_hash() over the parsed fields must give the venue's own value. This holds only while
// the venue spells its numbers in shortest form, as it did here.
TEST(PolymarketRest, BookHashReproducesRealCapture) {
  const ParsedBook p = parse_single(read_fixture("clob_book_response_empty_ask.json"));
  BookSummary s;
  s.market = p.market;
  s.asset_id = p.asset_id;
  s.timestamp_ms = p.timestamp_ms;
  s.bids = p.bids;
  s.asks = p.asks;
  s.min_order_size = p.min_order_size;
  s.tick_size = p.tick_size;
  s.neg_risk = p.neg_risk;
  s.last_trade_price = p.last_trade_price;
  s.hash = "anything: the hash field is blanked before hashing";
  EXPECT_EQ(book_hash(s), "d7df883ae546b09533a4f485bfae0810da1af04e");
}

// ---------------------------------------------------------------------------------------------
// Rendering and hashing

TEST(PolymarketRest, RendersVenueKeyOrderCompactly) {
  BookSummary b = small_book();
  EXPECT_EQ(render_book_summary(b), kSmallJson);
  b.hash = "abc";
  std::string with_hash = kSmallJson;
  with_hash.replace(with_hash.find("\"hash\":\"\""), 9, "\"hash\":\"abc\"");
  EXPECT_EQ(render_book_summary(b), with_hash);
}

TEST(PolymarketRest, RendersBestLevelLastWhateverTheInputOrder) {
  BookSummary b = small_book();
  b.bids = {{1 * kShare, 3000}, {1 * kShare, 4900}, {1 * kShare, 100}, {1 * kShare, 4000}};
  b.asks = {{1 * kShare, 9900}, {1 * kShare, 5100}, {1 * kShare, 10000}};
  const std::string json = render_book_summary(b);
  const ParsedBook p = parse_single(json);
  std::vector<Price> bid_prices, ask_prices;
  for (const Level& l : p.bids) bid_prices.push_back(l.price);
  for (const Level& l : p.asks) ask_prices.push_back(l.price);
  EXPECT_EQ(bid_prices, (std::vector<Price>{100, 3000, 4000, 4900}));
  EXPECT_EQ(ask_prices, (std::vector<Price>{10000, 9900, 5100}));
  EXPECT_NE(json.find(R"({"price":"1","size":"1"})"), std::string::npos);
}

TEST(PolymarketRest, RendersEmptySidesAndNeverTradedBook) {
  BookSummary b;
  b.market = "m";
  b.asset_id = "a";
  b.tick_size = 10;
  b.neg_risk = true;
  EXPECT_EQ(render_book_summary(b),
            R"({"market":"m","asset_id":"a","timestamp":"0","hash":"","bids":[],"asks":[],)"
            R"("min_order_size":"5","tick_size":"0.001","neg_risk":true,"last_trade_price":""})");
}

TEST(PolymarketRest, RenderParseRoundTrip) {
  BookSummary a = small_book();
  a.hash = book_hash(a);
  BookSummary b;
  b.market = "0x\"quoted\"";  // escaping must survive too
  b.asset_id = "456";
  b.timestamp_ms = 1;
  b.bids = {{1, 1}};  // the smallest size and price on the grids
  b.asks = {{kMaxLevelSize, kPriceOne}};
  b.min_order_size = "1.5";
  b.tick_size = 1;
  b.neg_risk = true;
  b.last_trade_price = 0;
  const std::vector<BookSummary> in = {a, b};
  std::vector<ParsedBook> out;
  std::string error;
  ASSERT_TRUE(parse_books_response(render_books_response(in), out, error)) << error;
  ASSERT_EQ(out.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const BookSummary& s = in[i];
    const ParsedBook& p = out[i];
    EXPECT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.market, s.market);
    EXPECT_EQ(p.asset_id, s.asset_id);
    EXPECT_EQ(p.hash, s.hash);
    EXPECT_EQ(p.timestamp_ms, s.timestamp_ms);
    // Rendering sorts (worst first); compare as sets by sorting both the same way.
    auto sorted = [](std::vector<Lv> v) {
      std::sort(v.begin(), v.end(), [](Lv x, Lv y) { return x.price < y.price; });
      return v;
    };
    EXPECT_EQ(sorted(levels_of(p.bids)), sorted(levels_of(s.bids)));
    EXPECT_EQ(sorted(levels_of(p.asks)), sorted(levels_of(s.asks)));
    EXPECT_EQ(p.min_order_size, s.min_order_size);
    EXPECT_EQ(p.tick_size, s.tick_size);
    EXPECT_EQ(p.neg_risk, s.neg_risk);
    EXPECT_EQ(p.last_trade_price, s.last_trade_price);
  }
  EXPECT_EQ(out[0].hash.size(), 40u);
}

TEST(PolymarketRest, BooksResponseIsAnArray) {
  EXPECT_EQ(render_books_response({}), "[]");
  const std::vector<BookSummary> two = {small_book(), small_book()};
  const std::string json = render_books_response(two);
  EXPECT_EQ(json, "[" + kSmallJson + "," + kSmallJson + "]");
}

TEST(PolymarketRest, BookHashMatchesIndependentSha1OfHandBuiltJson) {
  EXPECT_EQ(sha1_hex(kSmallJson), kSmallJsonSha1);  // the test's own SHA-1 agrees with Python
  EXPECT_EQ(book_hash(small_book()), kSmallJsonSha1);
}

TEST(PolymarketRest, BookHashIsLowercaseHexAndDeterministic) {
  const std::string h = book_hash(small_book());
  ASSERT_EQ(h.size(), 40u);
  EXPECT_TRUE(std::all_of(h.begin(), h.end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_EQ(book_hash(small_book()), h);
  BookSummary shuffled = small_book();  // same book, levels in another order
  std::reverse(shuffled.bids.begin(), shuffled.bids.end());
  std::reverse(shuffled.asks.begin(), shuffled.asks.end());
  EXPECT_EQ(book_hash(shuffled), h);
  BookSummary hashed = small_book();
  hashed.hash = h;  // the hash field is blanked, so setting it changes nothing
  EXPECT_EQ(book_hash(hashed), h);
}

TEST(PolymarketRest, BookHashChangesWhenAnythingChanges) {
  const std::string base = book_hash(small_book());
  std::vector<BookSummary> variants;
  for (std::size_t i = 0; i < 2; ++i) {
    BookSummary b = small_book();
    b.bids[i].price -= 1;
    variants.push_back(b);
    b = small_book();
    b.bids[i].size += 1;
    variants.push_back(b);
    b = small_book();
    b.asks[i].price += 1;
    variants.push_back(b);
    b = small_book();
    b.asks[i].size -= 1;
    variants.push_back(b);
  }
  BookSummary b = small_book();
  b.bids.pop_back();
  variants.push_back(b);
  b = small_book();
  b.asks.push_back({1, 9999});
  variants.push_back(b);
  b = small_book();
  b.timestamp_ms += 1;
  variants.push_back(b);
  b = small_book();
  b.neg_risk = true;
  variants.push_back(b);
  b = small_book();
  b.last_trade_price = kNoPrice;
  variants.push_back(b);
  b = small_book();
  b.tick_size = 10;
  variants.push_back(b);
  std::vector<std::string> seen = {base};
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const std::string h = book_hash(variants[i]);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), h), 0) << "variant " << i;
    seen.push_back(h);
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing edge cases

TEST(PolymarketRest, TimestampForms) {
  EXPECT_EQ(parse_single(R"({"asset_id":"1","timestamp":1703875200000})").timestamp_ms,
            1'703'875'200'000);
  EXPECT_EQ(parse_single(R"({"asset_id":"1","timestamp":"2023-12-29T18:40:00Z"})").timestamp_ms, 0);
  EXPECT_EQ(parse_single(R"({"asset_id":"1"})").timestamp_ms, 0);
  EXPECT_EQ(parse_single(R"({"asset_id":"1","timestamp":"12x"})").timestamp_ms, 0);
  EXPECT_EQ(parse_single(R"({"asset_id":"1","timestamp":"99999999999999999999"})").timestamp_ms, 0);
  EXPECT_TRUE(parse_single(R"({"asset_id":"1","timestamp":"2023-12-29"})").ok);
}

TEST(PolymarketRest, AcceptsEveryDocumentedPriceSpelling) {
  const ParsedBook b = parse_single(
      R"({"asset_id":"1","bids":[{"price":".48","size":"1"},{"price":"0.50","size":"0.000001"}],)"
      R"("asks":[{"price":"1","size":"219.217767"},{"price":"0.5","size":"8.333332"}]})");
  EXPECT_TRUE(b.ok) << b.error;
  EXPECT_EQ(levels_of(b.bids), (std::vector<Lv>{{4800, kShare}, {5000, 1}}));
  EXPECT_EQ(levels_of(b.asks), (std::vector<Lv>{{10000, 219'217'767}, {5000, 8'333'332}}));
}

TEST(PolymarketRest, FlagsUndecodableBooks) {
  const char* bad[] = {
      R"({"asset_id":"1","bids":[{"price":"1.01","size":"1"}]})",         // price above 1
      R"({"asset_id":"1","bids":[{"price":"1.0001","size":"1"}]})",       // just above 1
      R"({"asset_id":"1","bids":[{"price":"0.00001","size":"1"}]})",      // finer than 0.0001
      R"({"asset_id":"1","asks":[{"price":"0.5","size":"0.0000001"}]})",  // finer than 1e-6
      R"({"asset_id":"1","asks":[{"price":"0.5","size":"1e3"}]})",        // exponent
      R"({"asset_id":"1","asks":[{"price":"-0.5","size":"1"}]})",         // sign
      R"({"asset_id":"1","asks":[{"price":0.5,"size":"1"}]})",            // number, not exact
      R"({"asset_id":"1","asks":[{"price":"0.5"}]})",                     // no size
      R"({"asset_id":"1","asks":[["0.5","1"]]})",                         // not an object
      R"({"asset_id":"1","asks":{"price":"0.5","size":"1"}})",            // side not an array
      R"({"asset_id":"1","asks":[{"price":"0.5","size":"100000000.000001"}]})",  // > bound
      R"({"bids":[],"asks":[]})",  // no asset_id
      R"({"error":"No orderbook exists for the requested token id"})",
  };
  for (const char* body : bad) {
    SCOPED_TRACE(body);
    const ParsedBook b = parse_single(body);
    EXPECT_FALSE(b.ok);
    EXPECT_FALSE(b.error.empty());
  }
  EXPECT_TRUE(parse_single(R"({"asset_id":"1","asks":[{"price":"0.5","size":"100000000"}]})").ok);
  const ParsedBook venue = parse_single(R"({"error":"No orderbook exists"})");
  EXPECT_NE(venue.error.find("No orderbook exists"), std::string::npos);
}

// Fields the checkpoint does not compare never make a book unusable: noted, left at defaults.
TEST(PolymarketRest, ABadTickSizeOrLastTradeIsAWarningNotAnUnusableBook) {
  for (const char* body : {R"({"asset_id":"1","tick_size":"0.00001"})",
                           R"({"asset_id":"1","tick_size":"0"})", R"({"asset_id":"1","tick_size":0.01})",
                           R"({"asset_id":"1","last_trade_price":"2"})",
                           R"({"asset_id":"1","last_trade_price":0.5})"}) {
    SCOPED_TRACE(body);
    const ParsedBook b = parse_single(body);
    EXPECT_TRUE(b.ok) << b.error;
    EXPECT_FALSE(b.warning.empty());
    EXPECT_EQ(b.tick_size, 0);
    EXPECT_EQ(b.last_trade_price, kNoPrice);
  }
  const ParsedBook nulls = parse_single(
      R"({"asset_id":"1","bids":null,"asks":[{"price":"0.5","size":"1"}],"last_trade_price":null})");
  EXPECT_TRUE(nulls.ok) << nulls.error;
  EXPECT_TRUE(nulls.warning.empty());
  EXPECT_TRUE(nulls.bids.empty());
  EXPECT_EQ(nulls.asks.size(), 1u);
}

TEST(PolymarketRest, ArrayElementsFailOneByOne) {
  std::vector<ParsedBook> out;
  std::string error;
  ASSERT_TRUE(parse_books_response(
      R"([{"asset_id":"1"},7,{"asset_id":"2","bids":[{"price":"9","size":"1"}]},{"asset_id":"3"}])",
      out, error));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_FALSE(out[1].ok);
  EXPECT_FALSE(out[2].ok);
  EXPECT_TRUE(out[3].ok);
  EXPECT_EQ(out[3].asset_id, "3");
  ASSERT_TRUE(parse_books_response("[]", out, error));
  EXPECT_TRUE(out.empty());  // cleared first
}

TEST(PolymarketRest, RejectsBodiesThatAreNotBookJson) {
  const char* bad[] = {"",         "   ", "not json",
                       "\"text\"", "42",  "null",
                       "{",        "[{]", "<html><title>Attention Required</title></html>"};
  for (const char* body : bad) {
    SCOPED_TRACE(body);
    std::vector<ParsedBook> out = {ParsedBook{}};
    std::string error;
    EXPECT_FALSE(parse_books_response(body, out, error));
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(out.empty());
  }
}

TEST(PolymarketRest, NeverCrashesOnTruncatedOrCorruptedInput) {
  for (const char* name : {"clob_book_response.json", "clob_book_response_empty_ask.json"}) {
    const std::string text = read_fixture(name);
    std::vector<ParsedBook> out;
    std::string error;
    // No prefix that stops before the closing brace is a complete JSON document.
    const std::size_t close = text.find_last_of('}');
    for (std::size_t n = 0; n <= close; ++n) {
      EXPECT_FALSE(parse_books_response(std::string_view(text).substr(0, n), out, error)) << n;
    }
    EXPECT_TRUE(parse_books_response(text, out, error));
    std::mt19937 rng(12345);
    for (int round = 0; round < 2000; ++round) {
      std::string mutated = text;
      for (int k = 0; k < 3; ++k) {
        mutated[rng() % mutated.size()] = static_cast<char>(rng() % 256);
      }
      (void)parse_books_response(mutated, out, error);  // must simply return
    }
  }
}

}  // namespace
}  // namespace booktape::polymarket
