// The decoder's fast path (codecs/polymarket_fast_path.hpp) against the simdjson on-demand
// decoder it stands in for: every frame is decoded both ways and must give the same result, the
// same events field by field, and the same counters. Frames: every real fixture (as captured and
// minified, each event of an array on its own), the simulator's generator, and many variations
// of both (every cut, byte edits at every position, structural edits). The fast path must also
// actually be taken on the venue's shapes, or the comparison would prove nothing.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/decimal.hpp"
#include "codecs/polymarket_fields.hpp"
#include "io/sim/polymarket_market_gen.hpp"
#include "tests/codecs/fixtures.hpp"
#include "tests/support/decoded_events.hpp"

namespace booktape::polymarket {
namespace {

using testing::Decoded;
using testing::DecoderPair;

std::string minified(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  if (simdjson::minify(text.data(), text.size(), out.data(), n) != simdjson::SUCCESS) return {};
  out.resize(n);
  return out;
}

// Decodes `frame` both ways and checks they agree; returns whether the fast path took it.
bool same_both_ways(DecoderPair& pair, std::string_view frame, std::string_view after = {}) {
  const auto [fast, general] = pair.decode(frame, after);
  EXPECT_FALSE(general.fast);
  EXPECT_TRUE(fast == general) << "frame: " << frame << "\nafter: " << after
                               << "\nfast path:\n" << fast.describe() << "\non-demand:\n"
                               << general.describe();
  return fast.fast;
}

void expect_same_counters(const DecoderPair& pair) {
  EXPECT_EQ(testing::comparable_stats(pair.fast().stats()),
            testing::comparable_stats(pair.general().stats()));
  EXPECT_EQ(pair.general().stats().fast_path, 0u);
}

// The market-channel fixtures: as captured, minified, and the events of arrays on their own.
// Nautilus's fixtures without an event_type also come with the one they stand for, first and
// last (the venue writes it last).
std::vector<std::string> fixture_frames() {
  std::vector<std::string> out;
  for (const std::string& name : testing::fixture_names()) {
    if (!name.starts_with("ws_")) continue;
    const std::string text = testing::read_fixture(name);
    out.push_back(text);
    out.push_back(minified(text));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc) == simdjson::SUCCESS && doc.is_array()) {
      for (simdjson::dom::element e : doc.get_array()) out.push_back(simdjson::minify(e));
    }
  }
  const std::pair<const char*, const char*> typed[] = {
      {"ws_book_snapshot.json", "book"},
      {"ws_book_snapshot_missing_hash.json", "book"},
      {"ws_quotes.json", "price_change"}};
  for (const auto& [name, type] : typed) {
    const std::string text = testing::read_fixture(name);
    out.push_back(testing::with_event_type(text, type));
    std::string last = minified(text);
    last.insert(last.size() - 1, std::string(",\"event_type\":\"") + type + "\"");
    out.push_back(last);
  }
  return out;
}

// The simulator's traffic: initial dumps (arrays of books, and each book alone), then events
// of every kind over market rolls, for a few seeds and shapes.
std::vector<std::string> generator_frames(std::size_t per_seed, std::size_t& hot) {
  std::vector<std::string> out;
  hot = 0;
  for (std::uint64_t seed : {1u, 7u, 2026u}) {
    SimOptions o;
    o.seed = seed;
    o.lanes = 3;
    o.min_levels = seed == 7 ? 0 : 1;
    o.max_levels = seed == 7 ? 3 : 60;
    o.window_scale_seconds = 2;  // markets roll: new_market, market_resolved
    o.trade_per_mille = 60;
    o.jump_per_mille = 20;        // jumps bring tick size changes and extreme prices
    o.start = 1'763'703'252'000'000'000;
    MarketSim sim(o);
    std::string dump = "[";
    for (std::uint32_t t : sim.open_tokens()) {
      out.push_back(sim.book_event(t));
      ++hot;
      dump += (dump.size() > 1 ? "," : "") + sim.book_event(t);
    }
    out.push_back(dump + "]");
    std::vector<SimFrame> frames;
    UnixNanos now = o.start;
    while (frames.size() < per_seed) {
      now += 3'000'000;  // 3 ms of simulated time per event
      sim.advance_to(now, frames);
      sim.next(frames);
    }
    for (SimFrame& f : frames) {
      hot += f.type == EventType::kPriceChange || f.type == EventType::kBook;
      out.push_back(std::move(f.payload));
    }
  }
  return out;
}

// Variations of a frame that a JSON scanner can get wrong: cut anywhere; one byte replaced, at
// every position, by one that matters (structure, quotes, escapes, whitespace, controls, UTF-8,
// digits); one byte deleted; whitespace inserted.
std::vector<std::string> byte_edits(const std::string& f) {
  static const char kBytes[] = {'"', '\\', ',', ':', '{', '}', '[', ']', ' ', '\n',
                                '\t', '0', '9', '.', '-', 'e', 'x', '\x01', '\x7f', '\xc3',
                                '\xff', '\0'};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < f.size(); ++i) {
    out.push_back(f.substr(0, i));
    for (char c : kBytes) {
      if (f[i] == c) continue;
      std::string m = f;
      m[i] = c;
      out.push_back(std::move(m));
    }
    out.push_back(f.substr(0, i) + f.substr(i + 1));
    out.push_back(f.substr(0, i) + " " + f.substr(i));
    out.push_back(f.substr(0, i) + "\r\n" + f.substr(i));
  }
  return out;
}

// Replaces the first `from` in `s` with `to` (nothing when absent).
std::string replaced(std::string s, std::string_view from, std::string_view to) {
  const std::size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// Edits of the JSON structure: repeated, unknown, missing and renamed keys, other value types,
// escapes, non-ASCII, legacy and pair shapes, arrays of events, bytes after the object.
std::vector<std::string> structural_edits(const std::string& f) {
  std::vector<std::string> out;
  const std::string body = f.substr(1, f.size() - 2);  // without the outer braces
  for (const char* v : {"\"x\"", "\"\"", "1", "-2.5e3", "null", "true", "{}", "[]", "{\"a\":\"b\"}",
                        "[\"a\"]", "\"a\\\"b\"", "\"\\u00e9\"", "\"\xc3\xa9\"", "\"a b\""}) {
    out.push_back("{\"extra\":" + std::string(v) + "," + body + "}");
    out.push_back("{" + body + ",\"extra\":" + v + "}");
    for (const char* key : {"market", "asset_id", "hash", "timestamp", "event_type", "bids",
                            "asks", "price_changes", "price", "size", "side", "best_bid",
                            "best_ask"}) {
      const std::string k = std::string("\"") + key + "\":";
      const std::size_t at = f.find(k);
      if (at == std::string::npos) continue;
      // The key's value replaced (the rest of the frame left as is), repeated, or dropped.
      std::string m = f;
      const std::size_t value = at + k.size();
      std::size_t value_end = value;
      if (m[value] == '"') value_end = m.find('"', value + 1) + 1;
      if (value_end > value) {
        out.push_back(m.replace(value, value_end - value, v));
        out.push_back(f.substr(0, value_end) + "," + f.substr(at, value_end - at) +
                      f.substr(value_end));
        std::string dropped = f;
        dropped.erase(at, value_end - at + (f[value_end] == ',' ? 1 : 0));
        out.push_back(dropped);
      }
      out.push_back(replaced(f, k, std::string("\"") + key + "\" :"));
      out.push_back(replaced(f, k, std::string("\"") + key + "x\":"));
      out.push_back(replaced(f, k, std::string("\"") + key + "\\u0020\":"));
    }
  }
  for (const char* type : {"book", "price_change", "last_trade_price", "tick_size_change",
                           "best_bid_ask", "new_market", "market_resolved", "other", "",
                           "Book", "book "}) {
    out.push_back(replaced(replaced(f, "\"event_type\":\"book\"",
                                    std::string("\"event_type\":\"") + type + "\""),
                           "\"event_type\":\"price_change\"",
                           std::string("\"event_type\":\"") + type + "\""));
  }
  out.push_back(replaced(f, "\"price_changes\"", "\"changes\""));
  out.push_back(replaced(f, "\"price_changes\":[", "\"price_changes\":[{},"));
  out.push_back(replaced(f, "\"price_changes\":[", "\"price_changes\":[1,"));
  out.push_back(replaced(f, "\"bids\":[", "\"bids\":[[\"0.5\",\"10\"],"));
  out.push_back(replaced(f, "\"bids\":[", "\"bids\":[{},"));
  out.push_back(replaced(f, "\"bids\":[", "\"bids\":[{\"size\":\"3\",\"price\":\"0.4\"},"));
  out.push_back(replaced(f, "\"bids\":[", R"("bids":[{"price":"0.4","size":"3","x":"y"},)"));
  // Levels whose values the exact parsers refuse or take the long way.
  for (const auto& [price, size] : std::initializer_list<std::pair<const char*, const char*>>{
           {"1.5", "3"}, {"0.4", "0"}, {"0.4", "-3"}, {"0.4", "1e3"}, {"0.40", "123456789012"},
           {"0.40", "12.1234567"}, {"0.40", "12.1234560"}, {".4", "5."}, {"0.0001", "0.000001"},
           {"0.00001", "1"}, {"1", "100000000"}, {"1.0000", "100000000.000001"}}) {
    out.push_back(replaced(f, "\"asks\":[",
                           std::string(R"("asks":[{"price":")") + price + R"(","size":")" + size +
                               "\"},"));
  }
  out.push_back(replaced(f, "\"side\":\"BUY\"", "\"side\":\"buy\""));
  out.push_back(replaced(f, "\"side\":\"SELL\"", "\"side\":\"BUY \""));
  out.push_back(replaced(f, "\"best_bid\":\"", "\"best_bid\":\"\",\"x\":\""));
  out.push_back("[" + f + "]");
  out.push_back("[" + f + "," + f + "]");
  out.push_back(" " + f);
  out.push_back(f + " ");
  out.push_back(f + "\n\n");
  out.push_back(f + "x");
  out.push_back(f + "}");
  out.push_back(f + f);
  return out;
}

// Every edit of every base decodes the same both ways. Many edits leave a frame the fast path
// takes (a digit for a digit, whitespace between tokens), many do not: both sides of every check
// are exercised.
void expect_edits_agree(const std::vector<std::string>& bases,
                        std::vector<std::string> (*edits)(const std::string&)) {
  DecoderPair pair;
  std::size_t fast = 0, total = 0;
  for (const std::string& base : bases) {
    for (const std::string& m : edits(base)) {
      fast += same_both_ways(pair, m);
      ++total;
    }
  }
  expect_same_counters(pair);
  EXPECT_GT(fast, total / 20);
  EXPECT_LT(fast, total / 2);
}

TEST(PolymarketFastPath, EveryFixtureDecodesAsOnDemandDoes) {
  DecoderPair pair;
  std::size_t fast = 0;
  std::set<std::string> fast_types;
  for (const std::string& f : fixture_frames()) {
    if (same_both_ways(pair, f)) {
      ++fast;
      fast_types.insert(f.find("\"book\"") != std::string::npos ? "book" : "price_change");
    }
  }
  expect_same_counters(pair);
  // Both shapes, pretty-printed and compact: ws_market_book_msg and ws_market_price_change_msg
  // (as captured and minified), the mixed array's price_change on its own, and Nautilus's two
  // snapshots and ws_quotes with their event_type first (pretty) and last (compact).
  EXPECT_EQ(fast_types.size(), 2u);
  EXPECT_EQ(fast, 11u);
  EXPECT_EQ(pair.fast().stats().fast_path, fast);
}

TEST(PolymarketFastPath, GeneratorOutputDecodesAsOnDemandDoesAndAllOfItsHotFramesTakeIt) {
  std::size_t hot = 0;
  const std::vector<std::string> frames = generator_frames(6'000, hot);
  DecoderPair pair;
  std::size_t fast = 0;
  for (const std::string& f : frames) fast += same_both_ways(pair, f);
  expect_same_counters(pair);
  EXPECT_GT(hot, 10'000u);
  EXPECT_EQ(fast, hot) << "every book and price_change the venue-like generator sends";
}

TEST(PolymarketFastPath, EveryCutOfAFrameFollowedByItsRestIsReadAsCut) {
  // The rest of the frame lies in the readable bytes after the cut: a scanner that reads past
  // its end would find a complete object there.
  std::size_t hot = 0;
  std::vector<std::string> frames = generator_frames(40, hot);
  for (const std::string& f : fixture_frames()) frames.push_back(f);
  DecoderPair pair;
  for (const std::string& f : frames) {
    for (std::size_t k = 0; k < f.size(); ++k) {
      const std::string_view frame(f.data(), k), rest(f.data() + k, f.size() - k);
      const bool whole = rest.find_first_not_of(" \n\r\t") == std::string_view::npos;
      if (same_both_ways(pair, frame, rest) && !whole) ADD_FAILURE() << "cut, yet fast: " << frame;
    }
  }
  expect_same_counters(pair);
}

TEST(PolymarketFastPath, ByteEditsDecodeAsOnDemandDoes) {
  std::size_t hot = 0;
  const std::vector<std::string> generated = generator_frames(60, hot);
  std::vector<std::string> bases;
  for (const std::string& f : generated) {
    if (f.find("\"price_change\"") != std::string::npos && bases.size() < 2) bases.push_back(f);
  }
  for (const std::string& f : generated) {
    if (f.front() == '{' && f.find("\"book\"") != std::string::npos && f.size() < 900) {
      bases.push_back(f);
      break;
    }
  }
  bases.push_back(minified(testing::read_fixture("ws_market_price_change_msg.json")));
  bases.push_back(testing::read_fixture("ws_market_book_msg.json"));
  ASSERT_EQ(bases.size(), 5u);
  expect_edits_agree(bases, byte_edits);
}

TEST(PolymarketFastPath, StructuralEditsDecodeAsOnDemandDoes) {
  std::size_t hot = 0;
  std::vector<std::string> bases;
  for (const std::string& f : generator_frames(200, hot)) {
    if (f.front() == '{' && (f.find("\"price_change\"") != std::string::npos ||
                             f.find("\"book\"") != std::string::npos))
      bases.push_back(f);
    if (bases.size() == 12) break;
  }
  for (const std::string& f : fixture_frames())
    if (f.front() == '{') bases.push_back(f);
  expect_edits_agree(bases, structural_edits);
}

TEST(PolymarketFastPath, TakesTheVenueShapesAndDeclinesWhatItDoesNotKnow) {
  const std::string book = R"({"market":"0xm","asset_id":"1","timestamp":"1","hash":"h",)"
                           R"("bids":[{"price":"0.4","size":"2"}],"asks":[],"event_type":"book"})";
  const std::string change =
      R"({"market":"0xm","price_changes":[{"asset_id":"1","price":"0.4","size":"2",)"
      R"("side":"BUY","hash":"h","best_bid":"0.4","best_ask":"0.5"}],"timestamp":"1",)"
      R"("event_type":"price_change"})";
  DecoderPair pair;
  EXPECT_TRUE(same_both_ways(pair, book));
  EXPECT_TRUE(same_both_ways(pair, change));
  EXPECT_TRUE(same_both_ways(pair, replaced(book, "\"bids\":", "\"bids\" :\n ")));
  EXPECT_TRUE(same_both_ways(pair, replaced(change, "\"hash\":\"h\"", "\"hash\":\"h h\"")));
  EXPECT_TRUE(same_both_ways(pair, replaced(change, "{\"market", "{\"note\":\"x\",\"market")));
  for (const std::string& declined : {
           replaced(book, "\"h\"", "\"h\\u0068\""),                  // an escape
           replaced(book, "\"h\"", "\"\xc3\xa9\""),                   // UTF-8
           replaced(book, "\"timestamp\":\"1\"", "\"timestamp\":1"),  // a number
           replaced(book, "\"hash\":\"h\"", "\"hash\":null"),
           replaced(book, "\"hash\":\"h\"", "\"hash\":\"h\",\"hash\":\"i\""),  // repeated
           replaced(book, "{\"price\":\"0.4\",\"size\":\"2\"}", "[\"0.4\",\"2\"]"),  // a pair
           replaced(change, "\"price_changes\"", "\"changes\""),     // legacy
           replaced(change, "\"timestamp\"", "\"price\":\"1\",\"timestamp\""),  // another's key
           replaced(book, "\"book\"", "\"tick_size_change\""),
           "[" + book + "]",                                          // an array of events
           book + "x",                                                // trailing bytes
           book.substr(0, book.size() - 1),                           // cut
       }) {
    EXPECT_FALSE(same_both_ways(pair, declined)) << declined;
  }
  expect_same_counters(pair);
}

TEST(PolymarketFastPath, FramesWithoutPaddingAreCopiedFirst) {
  // Passed with readable == size, as Decoder::decode(string_view) does.
  const std::string frame = minified(testing::read_fixture("ws_market_book_msg.json"));
  Decoder fast, general(Decoder::Options{.fast_path = false});
  testing::EventLog a, b;
  const DecodeResult ra = fast.decode(frame, a);
  const DecodeResult rb = general.decode(frame, b);
  EXPECT_EQ(ra.kind, rb.kind);
  EXPECT_EQ(a.log, b.log);
  EXPECT_EQ(fast.stats().fast_path, 1u);
}

}  // namespace
}  // namespace booktape::polymarket

namespace booktape::polymarket {
namespace {

// The shared value parsers (codecs/polymarket_fields.hpp) take short cuts for the venue's usual
// forms (padded_digits reads 8 bytes at once): every string here must give what the general
// exact parser gives. Strings sit in a padded buffer, as in a frame.
TEST(PolymarketValueParsers, SizesAndPricesMatchTheExactDecimalParser) {
  std::vector<std::string> texts = {"", ".", "0", "5.", ".5", "0.0", "1.000000", "1.0000000",
                                    "1.0000001", "-1", "+1", "1e3", "1 ", " 1", "00000000000001",
                                    "999999999", "1000000000", "100000000", "100000000.000001",
                                    "0.", "0.5", "0.50", "0.500", "0.5000", "0.50000", "0.00001",
                                    "1", "1.0", "0.1:", "0.1/", "0.a", "12.34a6"};
  std::uint64_t x = 88172645463325252u;  // xorshift: deterministic
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  static const char kChars[] = "0123456789012345678901234567890123456789..-e/:a ";
  for (int i = 0; i < 200'000; ++i) {
    std::string s;
    const std::size_t n = next() % 16;
    for (std::size_t k = 0; k < n; ++k) s += kChars[next() % (sizeof kChars - 1)];
    texts.push_back(s);
  }
  for (const std::string& text : texts) {
    std::string padded = text + std::string(16, static_cast<char>(next() % 2 ? '7' : '"'));
    const std::string_view s(padded.data(), text.size());
    std::int64_t exact = 0;
    const bool size_ok = parse_decimal(s, kSizeDecimals, exact) == DecimalError::kOk &&
                         exact <= kMaxLevelSize;
    Size size = -1;
    ASSERT_EQ(fields::parse_size(s, size), size_ok) << "'" << text << "'";
    if (size_ok) {
      EXPECT_EQ(size, exact) << "'" << text << "'";
    }
    const bool price_ok = parse_decimal(s, kPriceDecimals, exact) == DecimalError::kOk &&
                          exact <= kPriceOne;
    Price price = -1;
    ASSERT_EQ(fields::parse_price(s, price), price_ok) << "'" << text << "'";
    if (price_ok) {
      EXPECT_EQ(price, exact) << "'" << text << "'";
    }
  }
}

}  // namespace
}  // namespace booktape::polymarket
