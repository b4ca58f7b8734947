#include "codecs/polymarket_classifier.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

#include "codecs/polymarket_decoder.hpp"
#include "tests/codecs/fixtures.hpp"

namespace booktape::polymarket {
namespace {

using booktape::testing::fixture_names;
using booktape::testing::read_fixture;

std::string json_of(const Classification& c) {
  char buf[kClassificationJsonMax];
  const char* end = write_classification_json(buf, c);
  return std::string(buf, static_cast<std::size_t>(end - buf));
}

std::uint32_t count(const Classification& c, EventType t) {
  return c.events[static_cast<std::size_t>(t)];
}

TEST(PolymarketClassifier, ClassifiesEveryFixture) {
  // Hand-checked: the event_type of each file (none for the five Nautilus strips, the REST
  // bodies and the Gamma documents, which all read as one unknown event).
  const std::map<std::string, std::string> expected = {
      {"clob_book_response.json", R"(["unknown"])"},
      {"clob_book_response_empty_ask.json", R"(["unknown"])"},
      {"gamma_event.json", R"(["unknown"])"},  // an array of one event document
      {"gamma_market.json", R"(["unknown"])"},
      {"gamma_market_crypto_twap.json", R"(["unknown"])"},
      {"gamma_market_live.json", R"(["unknown"])"},
      {"ws_book_snapshot.json", R"(["unknown"])"},
      {"ws_book_snapshot_missing_hash.json", R"(["unknown"])"},
      {"ws_last_trade.json", R"(["unknown"])"},
      {"ws_market_best_bid_ask_msg.json", R"(["best_bid_ask"])"},
      {"ws_market_book_msg.json", R"(["book"])"},
      {"ws_market_last_trade_msg.json", R"(["last_trade_price"])"},
      {"ws_market_mixed_known_unknown.json", R"(["price_change","unknown","last_trade_price"])"},
      {"ws_market_new_market_msg.json", R"(["new_market"])"},
      {"ws_market_price_change_msg.json", R"(["price_change"])"},
      {"ws_market_resolved_msg.json", R"(["market_resolved"])"},
      {"ws_market_tick_size_msg.json", R"(["tick_size_change"])"},
      {"ws_quotes.json", R"(["unknown"])"},
      {"ws_tick_size_change.json", R"(["unknown"])"},
  };
  Classifier cl;
  std::size_t seen = 0;
  for (const std::string& name : fixture_names()) {
    SCOPED_TRACE(name);
    const auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "new fixture: add its expected classification";
    ++seen;
    const Classification c = cl.classify(read_fixture(name));
    EXPECT_EQ(c.kind, FrameKind::kJson);
    EXPECT_EQ(c.json_error, nullptr);
    EXPECT_EQ(json_of(c), it->second);
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(PolymarketClassifier, MixedFixtureCountsOneEventOfEachType) {
  Classifier cl;
  const Classification c = cl.classify(read_fixture("ws_market_mixed_known_unknown.json"));
  EXPECT_EQ(c.distinct, 3);
  EXPECT_EQ(c.order[0], EventType::kPriceChange);
  EXPECT_EQ(c.order[1], EventType::kUnknown);
  EXPECT_EQ(c.order[2], EventType::kLastTradePrice);
  EXPECT_EQ(count(c, EventType::kPriceChange), 1u);
  EXPECT_EQ(count(c, EventType::kUnknown), 1u);
  EXPECT_EQ(count(c, EventType::kLastTradePrice), 1u);
  EXPECT_EQ(count(c, EventType::kBook), 0u);
}

TEST(PolymarketClassifier, RepeatedTypesAreListedOnceInFirstSeenOrderAndCounted) {
  Classifier cl;
  const Classification c = cl.classify(
      R"([{"event_type":"price_change"},{"event_type":"price_change"},)"
      R"({"event_type":"settlement_preview"},{"event_type":"last_trade_price"},)"
      R"({"event_type":"price_change"},{"no_type":1},7,{"event_type":5}])");
  EXPECT_EQ(c.kind, FrameKind::kJson);
  EXPECT_EQ(json_of(c), R"(["price_change","unknown","last_trade_price"])");
  EXPECT_EQ(c.distinct, 3);
  EXPECT_EQ(count(c, EventType::kPriceChange), 3u);
  EXPECT_EQ(count(c, EventType::kUnknown), 4u);  // unknown name, no type, not an object, number
  EXPECT_EQ(count(c, EventType::kLastTradePrice), 1u);
}

TEST(PolymarketClassifier, EveryTypeInOneFrameFitsTheJsonBound) {
  Classifier cl;
  const Classification c = cl.classify(
      R"([{"event_type":"market_resolved"},{"event_type":"x"},{"event_type":"new_market"},)"
      R"({"event_type":"best_bid_ask"},{"event_type":"tick_size_change"},)"
      R"({"event_type":"last_trade_price"},{"event_type":"price_change"},{"event_type":"book"}])");
  const std::string j = json_of(c);
  EXPECT_EQ(j,
            R"(["market_resolved","unknown","new_market","best_bid_ask","tick_size_change",)"
            R"("last_trade_price","price_change","book"])");
  EXPECT_LE(j.size(), kClassificationJsonMax);
  EXPECT_EQ(c.distinct, 8);
}

TEST(PolymarketClassifier, EmptyArrayHasNoTypes) {
  Classifier cl;
  const Classification c = cl.classify("[]");
  EXPECT_EQ(c.kind, FrameKind::kJson);
  EXPECT_EQ(c.json_error, nullptr);
  EXPECT_EQ(json_of(c), "[]");
}

TEST(PolymarketClassifier, NonJsonFramesAreNamedByKind) {
  Classifier cl;
  struct Case {
    std::string_view text;
    FrameKind kind;
    const char* json;
    bool has_error;
  };
  const Case cases[] = {
      {"PONG", FrameKind::kPong, R"(["pong"])", false},
      {"INVALID OPERATION", FrameKind::kInvalidOperation, R"(["invalid_operation"])", false},
      {"NO NEW ASSETS", FrameKind::kNoNewAssets, R"(["no_new_assets"])", false},
      {"", FrameKind::kEmpty, R"(["empty"])", false},
      {"\n", FrameKind::kEmpty, R"(["empty"])", false},
      {"hello", FrameKind::kOtherText, R"(["text"])", true},
      {"null", FrameKind::kOtherText, R"(["text"])", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const Classification r = cl.classify(c.text);
    EXPECT_EQ(r.kind, c.kind);
    EXPECT_EQ(json_of(r), c.json);
    if (c.has_error) {
      ASSERT_NE(r.json_error, nullptr);
      EXPECT_STREQ(r.json_error, "not JSON");
    } else {
      EXPECT_EQ(r.json_error, nullptr);  // a heartbeat is not a parse error
    }
  }
  EXPECT_EQ(json_of(Classifier::binary()), R"(["binary"])");
  EXPECT_EQ(Classifier::binary().json_error, nullptr);
}

TEST(PolymarketClassifier, MalformedJsonSetsJsonError) {
  Classifier cl;
  for (std::string_view bad :
       {R"({"event_type":"book")", R"({"a":1,})", R"([{"event_type":"book"}] x)", R"({} {})",
        "{\"a\":\"\xff\"}", R"({"a":01})", R"({"a":1e})", R"(["\u12"])"}) {
    SCOPED_TRACE(bad);
    const Classification c = cl.classify(bad);
    EXPECT_EQ(c.kind, FrameKind::kMalformed);
    ASSERT_NE(c.json_error, nullptr);
    EXPECT_STRNE(c.json_error, "");
    EXPECT_EQ(json_of(c), R"(["malformed"])");
  }
}

TEST(PolymarketClassifier, FlagsABadValueInAFieldTheDecoderSkips) {
  // The on-demand decoder never reads "x", so it may not notice `tru`; the classifier validates
  // the whole document and must.
  const std::string_view frame =
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"x":tru})";
  Classifier cl;
  const Classification c = cl.classify(frame);
  EXPECT_EQ(c.kind, FrameKind::kMalformed);
  ASSERT_NE(c.json_error, nullptr);
  // The same holds for a bad number and a bad nested value in skipped fields.
  EXPECT_EQ(cl.classify(R"({"event_type":"book","asset_id":"1","x":-})").kind,
            FrameKind::kMalformed);
  EXPECT_EQ(cl.classify(R"({"event_type":"book","asset_id":"1","x":{"y":[nul]}})").kind,
            FrameKind::kMalformed);
}

TEST(PolymarketClassifier, OversizedFramesAreNotParsed) {
  Classifier cl(100);
  const Classification c = cl.classify(read_fixture("ws_market_book_msg.json"));
  EXPECT_EQ(c.kind, FrameKind::kOversized);
  ASSERT_NE(c.json_error, nullptr);
  EXPECT_EQ(json_of(c), R"(["oversized"])");
  EXPECT_EQ(cl.classify(R"({"event_type":"book"})").kind, FrameKind::kJson);
}

TEST(PolymarketClassifier, FrameLargerThanTheInitialParserGrowsIt) {
  // The parser starts at 4 MB; a 5 MB book must still classify.
  std::string frame = R"({"event_type":"book","asset_id":"1","bids":[)";
  for (int i = 0; i < 180'000; ++i) frame += R"({"price":"0.50","size":"1.0"},)";
  frame += R"({"price":"0.50","size":"1.0"}],"asks":[]})";
  ASSERT_GT(frame.size(), std::size_t{5} << 20);
  Classifier cl;
  const Classification c = cl.classify(frame);
  EXPECT_EQ(c.kind, FrameKind::kJson);
  EXPECT_EQ(json_of(c), R"(["book"])");
}

TEST(PolymarketClassifier, DeepNestingIsMalformedNotACrash) {
  Classifier cl;
  EXPECT_EQ(cl.classify(std::string(100'000, '[')).kind, FrameKind::kMalformed);
  EXPECT_EQ(cl.classify(std::string(100'000, '[') + std::string(100'000, ']')).kind,
            FrameKind::kMalformed);  // deeper than the DOM parser's depth limit
}

TEST(PolymarketClassifier, EveryPrefixOfARealFrameIsMalformed) {
  // Each prefix as an exact-size frame (copied into zeroed padding) and in place, with the rest
  // of the real frame in the bytes the parser may read past the end.
  Classifier cl;
  for (const char* name : {"ws_market_mixed_known_unknown.json", "ws_market_new_market_msg.json",
                           "ws_market_book_msg.json"}) {
    SCOPED_TRACE(name);
    const std::string full = read_fixture(name);
    const std::string in_place = full + std::string(64, '\0');
    const std::size_t last = full.find_last_of("}]");
    for (std::size_t len = 1; len <= last; ++len) {
      EXPECT_EQ(cl.classify(std::string_view(full.data(), len)).kind, FrameKind::kMalformed)
          << len;
      EXPECT_EQ(cl.classify(in_place.data(), len, in_place.size()).kind, FrameKind::kMalformed)
          << len;
    }
    EXPECT_EQ(cl.classify(full).kind, FrameKind::kJson);
  }
}

TEST(PolymarketClassifier, AgreesWithTheDecoderOnEventCountsOfValidFrames) {
  // For well-formed frames, the archive's counts and the book stage's must match.
  Classifier cl;
  for (const std::string& name : fixture_names()) {
    if (!name.starts_with("ws_")) continue;
    SCOPED_TRACE(name);
    const std::string text = read_fixture(name);
    Decoder d;
    EventSink ignore;
    d.decode(text, ignore);
    const Classification c = cl.classify(text);
    for (std::size_t i = 0; i < kEventTypeCount; ++i) {
      EXPECT_EQ(c.events[i], d.stats().events_by_type[i]) << to_string(static_cast<EventType>(i));
    }
  }
}

}  // namespace
}  // namespace booktape::polymarket
