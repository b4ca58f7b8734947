#include "codecs/envelope.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/json_text.hpp"
#include "codecs/sha256.hpp"
#include "tests/codecs/fixtures.hpp"

namespace booktape {
namespace {

namespace dom = simdjson::dom;
using booktape::testing::fixture_names;
using booktape::testing::read_fixture;
using polymarket::Classification;
using polymarket::Classifier;

constexpr UnixNanos kAt = 1'703'875'200'123'456'789;  // 2023-12-29T18:40:00.123456789Z

FrameMeta meta(Opcode op = Opcode::kText) {
  FrameMeta m;
  m.received_ns = kAt;
  m.monotonic_ns = 42;
  m.session_id = "s-7";
  m.connection_sequence = 3;
  m.message_sequence = 17;
  m.global_sequence = 99;
  m.opcode = op;
  return m;
}

// One encoder and classifier for the test, as the writer thread has.
struct Encoder {
  std::string encode(std::string_view payload, const std::string* full = nullptr,
                     Opcode op = Opcode::kText) {
    const Classification c = op == Opcode::kBinary ? Classifier::binary() : cl.classify(payload);
    ByteBuffer out;
    enc.encode_frame(meta(op), payload, c, full, out);
    return std::string(out.view());
  }
  Classifier cl;
  EnvelopeEncoder enc;
};

// Parses one line; fails the test if it is not a single JSON object ending in exactly one '\n'.
dom::element parse_line(dom::parser& p, const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a record must be one line";
  dom::element e;
  const auto err = p.parse(line).get(e);
  EXPECT_EQ(err, simdjson::SUCCESS) << simdjson::error_message(err) << "\n" << line;
  EXPECT_TRUE(e.is_object());
  return e;
}

std::vector<std::string> keys_of(dom::element e) {
  std::vector<std::string> keys;
  dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return keys;
  for (dom::key_value_pair kv : o) keys.emplace_back(kv.key);
  return keys;
}

std::string str(dom::element e, std::string_view key) {
  std::string_view s;
  const auto err = e[key].get_string().get(s);
  EXPECT_EQ(err, simdjson::SUCCESS) << key;
  return std::string(s);
}

std::uint64_t u64(dom::element e, std::string_view key) {
  std::uint64_t v = 0;
  EXPECT_EQ(e[key].get_uint64().get(v), simdjson::SUCCESS) << key;
  return v;
}

bool has(dom::element e, std::string_view key) { return e[key].error() == simdjson::SUCCESS; }

// Structural JSON equality (object key order matters here: the envelope keeps the payload's).
bool json_equal(dom::element a, dom::element b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case dom::element_type::OBJECT: {
      dom::object oa = a.get_object().value_unsafe();
      dom::object ob = b.get_object().value_unsafe();
      if (oa.size() != ob.size()) return false;
      auto ib = ob.begin();
      for (dom::key_value_pair kv : oa) {
        if (kv.key != ib.key() || !json_equal(kv.value, ib.value())) return false;
        ++ib;
      }
      return true;
    }
    case dom::element_type::ARRAY: {
      dom::array xa = a.get_array().value_unsafe();
      dom::array xb = b.get_array().value_unsafe();
      if (xa.size() != xb.size()) return false;
      auto ib = xb.begin();
      for (dom::element x : xa) {
        if (!json_equal(x, *ib)) return false;
        ++ib;
      }
      return true;
    }
    case dom::element_type::STRING:
      return a.get_string().value_unsafe() == b.get_string().value_unsafe();
    case dom::element_type::INT64:
      return a.get_int64().value_unsafe() == b.get_int64().value_unsafe();
    case dom::element_type::UINT64:
      return a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe();
    case dom::element_type::DOUBLE:
      return a.get_double().value_unsafe() == b.get_double().value_unsafe();
    case dom::element_type::BOOL:
      return a.get_bool().value_unsafe() == b.get_bool().value_unsafe();
    case dom::element_type::NULL_VALUE:
      return true;
  }
  return false;
}

// The payload back from a frame record, whichever way it was stored.
std::string payload_of(dom::element e) {
  if (has(e, "raw_text")) {
    EXPECT_FALSE(has(e, "raw_base64"));
    return str(e, "raw_text");
  }
  std::string out;
  EXPECT_TRUE(base64_decode(str(e, "raw_base64"), out));
  return out;
}

SessionInfo session() {
  SessionInfo s;
  s.session_id = "s-7";
  s.run_id = "run \"one\"";
  s.connection_sequence = 3;
  s.url = "wss://ws-subscriptions-clob.polymarket.com/ws/market";
  s.assets_ids = {"71321045679252212594626385532706912750332728571942532289631379312455583992563",
                  "52114319501245915516055106046884209969926127482827954674443846427813813222426"};
  s.tokens.push_back(TokenInfo{s.assets_ids[0], "btc-updown-5m-1773307200", "0x7844", "Up",
                               "2026-03-12T09:25:00Z"});
  s.tokens.push_back(TokenInfo{s.assets_ids[1], "btc-updown-5m-1773307200", "0x7844",
                               "Down \xe2\x80\x9cquoted\xe2\x80\x9d", "2026-03-12T09:25:00Z"});
  s.custom_feature_enabled = true;
  s.initial_dump = false;
  return s;
}

TEST(Envelope, CompactFrameHasEverySeedFieldWithRecordFirst) {
  Encoder enc;
  const std::string payload = read_fixture("ws_market_book_msg.json");
  const std::string line = enc.encode(payload);
  dom::parser p;
  const dom::element e = parse_line(p, line);
  EXPECT_EQ(keys_of(e), (std::vector<std::string>{
                            "record", "received_at_utc", "received_at_ns", "monotonic_ns",
                            "session_id", "connection_sequence", "message_sequence",
                            "global_message_sequence", "opcode", "payload_length_bytes",
                            "payload_sha256", "classified_event_types", "json_error", "raw_text"}));
  EXPECT_EQ(str(e, "record"), "frame");
  EXPECT_EQ(str(e, "received_at_utc"), "2023-12-29T18:40:00.123456789Z");  // 9 digits
  EXPECT_EQ(u64(e, "received_at_ns"), 1'703'875'200'123'456'789u);
  EXPECT_EQ(u64(e, "monotonic_ns"), 42u);
  EXPECT_EQ(str(e, "session_id"), "s-7");
  EXPECT_EQ(u64(e, "connection_sequence"), 3u);
  EXPECT_EQ(u64(e, "message_sequence"), 17u);
  EXPECT_EQ(u64(e, "global_message_sequence"), 99u);
  EXPECT_EQ(str(e, "opcode"), "text");
  EXPECT_EQ(u64(e, "payload_length_bytes"), 428u);
  EXPECT_EQ(str(e, "payload_sha256"), sha256_hex(payload));
  EXPECT_EQ(str(e, "payload_sha256").substr(0, 16), "a50845078aedce7b");  // SOURCES.md
  dom::array types;
  ASSERT_EQ(e["classified_event_types"].get_array().get(types), simdjson::SUCCESS);
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types.at(0).get_string().value_unsafe(), "book");
  EXPECT_TRUE(e["json_error"].is_null());
  EXPECT_EQ(str(e, "raw_text"), payload);
}

TEST(Envelope, RawTextRoundTripsEveryFixtureByteExact) {
  Encoder enc;
  const std::string fragment = render_full_fragment(session());
  dom::parser p;
  for (const std::string& name : fixture_names()) {
    SCOPED_TRACE(name);
    const std::string payload = read_fixture(name);
    for (const std::string* full : {static_cast<const std::string*>(nullptr), &fragment}) {
      const dom::element e = parse_line(p, enc.encode(payload, full));
      ASSERT_TRUE(has(e, "raw_text"));  // every fixture is valid UTF-8
      EXPECT_EQ(str(e, "raw_text"), payload);
      EXPECT_EQ(u64(e, "payload_length_bytes"), payload.size());
      EXPECT_EQ(str(e, "payload_sha256"), sha256_hex(payload));
    }
  }
}

TEST(Envelope, RawTextRoundTripsAwkwardPayloads) {
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  const std::vector<std::string> payloads = {
      "",
      "PONG",
      R"({"q":"say \"hi\"","b":"C:\\path\\"})",
      all_controls,
      "line1\nline2\r\n\ttabbed\n",
      "\x7f DEL and \xc3\xa9 \xe2\x80\x9c \xf0\x9f\x98\x80 \xe2\x80\xa8 (U+2028)",
      std::string(100, '"') + std::string(33, '\\') + "end",
      std::string(31, 'a') + "\"" + std::string(32, 'b') + "\n" + std::string(64, 'c'),
      R"(not json at all {)",
  };
  Encoder enc;
  dom::parser p;
  for (const std::string& payload : payloads) {
    SCOPED_TRACE(payload);
    const dom::element e = parse_line(p, enc.encode(payload));
    ASSERT_TRUE(has(e, "raw_text"));
    EXPECT_EQ(str(e, "raw_text"), payload);
    EXPECT_EQ(str(e, "payload_sha256"), sha256_hex(payload));
  }
}

TEST(Envelope, RandomAsciiPayloadsRoundTrip) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 127);
  std::uniform_int_distribution<std::size_t> len(0, 200);
  Encoder enc;
  dom::parser p;
  for (int i = 0; i < 500; ++i) {
    std::string payload(len(rng), '\0');
    for (char& c : payload) c = static_cast<char>(byte(rng));
    const dom::element e = parse_line(p, enc.encode(payload));
    ASSERT_EQ(payload_of(e), payload) << i;
  }
}

TEST(Envelope, InvalidUtf8PayloadUsesBase64) {
  Encoder enc;
  dom::parser p;
  const std::string fragment = render_full_fragment(session());
  for (const std::string& payload :
       {std::string("{\"a\":\"\xff\"}"), std::string("\xc3"), std::string("ok\xed\xa0\x80"),
        std::string("\x00\xff\xfe\x80", 4)}) {
    for (const std::string* full : {static_cast<const std::string*>(nullptr), &fragment}) {
      const dom::element e = parse_line(p, enc.encode(payload, full));
      EXPECT_FALSE(has(e, "raw_text"));
      ASSERT_TRUE(has(e, "raw_base64"));
      EXPECT_EQ(payload_of(e), payload);
      EXPECT_EQ(u64(e, "payload_length_bytes"), payload.size());
      EXPECT_EQ(str(e, "payload_sha256"), sha256_hex(payload));
      EXPECT_EQ(str(e, "opcode"), "text");
      if (full != nullptr) {
        EXPECT_TRUE(e["json"].is_null());
      }
    }
  }
}

TEST(Envelope, BinaryOpcodeUsesBase64EvenForText) {
  Encoder enc;
  dom::parser p;
  for (const std::string& payload : {std::string("PONG"), std::string("\x1f\x8b\x08\x00\x00", 5),
                                    std::string()}) {
    const dom::element e = parse_line(p, enc.encode(payload, nullptr, Opcode::kBinary));
    EXPECT_EQ(str(e, "opcode"), "binary");
    EXPECT_FALSE(has(e, "raw_text"));
    EXPECT_EQ(payload_of(e), payload);
    dom::array types;
    ASSERT_EQ(e["classified_event_types"].get_array().get(types), simdjson::SUCCESS);
    ASSERT_EQ(types.size(), 1u);
    EXPECT_EQ(types.at(0).get_string().value_unsafe(), "binary");
  }
}

TEST(Envelope, ClassificationAndJsonErrorAreCarried) {
  Encoder enc;
  dom::parser p;
  {
    const dom::element e = parse_line(p, enc.encode(read_fixture("ws_market_mixed_known_unknown.json")));
    dom::array types;
    ASSERT_EQ(e["classified_event_types"].get_array().get(types), simdjson::SUCCESS);
    std::vector<std::string> names;
    for (dom::element t : types) names.emplace_back(t.get_string().value_unsafe());
    EXPECT_EQ(names, (std::vector<std::string>{"price_change", "unknown", "last_trade_price"}));
  }
  {
    const dom::element e = parse_line(p, enc.encode("PONG"));
    EXPECT_TRUE(e["json_error"].is_null());
    EXPECT_EQ(e["classified_event_types"].at(0).get_string().value_unsafe(), "pong");
  }
  {
    const dom::element e = parse_line(p, enc.encode(R"({"event_type":"book",)"));
    EXPECT_FALSE(str(e, "json_error").empty());
    EXPECT_EQ(e["classified_event_types"].at(0).get_string().value_unsafe(), "malformed");
  }
  {
    const dom::element e = parse_line(p, enc.encode("hello"));
    EXPECT_EQ(str(e, "json_error"), "not JSON");
  }
}

TEST(Envelope, FullModeAddsSessionFieldsAndParsedJson) {
  Encoder enc;
  const SessionInfo si = session();
  const std::string fragment = render_full_fragment(si);
  const std::string payload = read_fixture("ws_market_new_market_msg.json");  // multi-line
  ASSERT_NE(payload.find('\n'), std::string::npos);
  const std::string line = enc.encode(payload, &fragment);
  EXPECT_NE(line.find(R"("json":{"event_type":"new_market","id":"1031769","question":)"),
            std::string::npos)
      << "json should be the minified payload";
  dom::parser p;
  const dom::element e = parse_line(p, line);
  const std::vector<std::string> keys = keys_of(e);
  ASSERT_FALSE(keys.empty());
  EXPECT_EQ(keys.front(), "record");
  for (const char* k : {"websocket", "subscription", "tokens_tracked", "json", "raw_text"}) {
    EXPECT_TRUE(has(e, k)) << k;
  }
  EXPECT_EQ(str(e["websocket"], "url"), si.url);
  dom::array ids;
  ASSERT_EQ(e["subscription"]["assets_ids"].get_array().get(ids), simdjson::SUCCESS);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.at(0).get_string().value_unsafe(), si.assets_ids[0]);
  EXPECT_EQ(ids.at(1).get_string().value_unsafe(), si.assets_ids[1]);
  EXPECT_EQ(str(e["subscription"], "type"), "market");
  dom::array tokens;
  ASSERT_EQ(e["tokens_tracked"].get_array().get(tokens), simdjson::SUCCESS);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(str(tokens.at(1).value_unsafe(), "token_id"), si.assets_ids[1]);
  EXPECT_EQ(str(tokens.at(1).value_unsafe(), "market_slug"), "btc-updown-5m-1773307200");
  EXPECT_EQ(str(tokens.at(1).value_unsafe(), "condition_id"), "0x7844");
  EXPECT_EQ(str(tokens.at(1).value_unsafe(), "outcome"), si.tokens[1].outcome);
  EXPECT_EQ(str(tokens.at(1).value_unsafe(), "end_time_utc"), "2026-03-12T09:25:00Z");

  // `json` is the payload, parsed: equal as JSON, minified onto the one line.
  dom::parser p2;
  dom::element want;
  ASSERT_EQ(p2.parse(payload).get(want), simdjson::SUCCESS);
  EXPECT_TRUE(json_equal(e["json"].value_unsafe(), want));
  EXPECT_EQ(str(e["json"], "slug"), "nvda-above-240-on-january-30-2026");
  EXPECT_EQ(str(e, "raw_text"), payload);
}

TEST(Envelope, FullModeKeepsASingleLinePayloadVerbatim) {
  Encoder enc;
  const std::string fragment = render_full_fragment(session());
  const std::string payload = R"({"event_type": "book", "x": [1, 2.50, "a\u0041"]})";
  const std::string line = enc.encode(payload, &fragment);
  EXPECT_NE(line.find(",\"json\":" + payload + ","), std::string::npos) << line;
  dom::parser p;
  const dom::element e = parse_line(p, line);
  dom::parser p2;
  EXPECT_TRUE(json_equal(e["json"].value_unsafe(), p2.parse(payload).value_unsafe()));
}

TEST(Envelope, FullModeHasNullJsonWhenThePayloadIsNotJson) {
  Encoder enc;
  const std::string fragment = render_full_fragment(session());
  dom::parser p;
  for (const std::string& payload : {std::string(R"({"event_type":"book","x":tru})"),
                                    std::string("PONG"), std::string("{\n\"a\":\n"),
                                    std::string("")}) {
    SCOPED_TRACE(payload);
    const dom::element e = parse_line(p, enc.encode(payload, &fragment));
    ASSERT_TRUE(has(e, "json"));
    EXPECT_TRUE(e["json"].is_null());
    EXPECT_EQ(str(e, "raw_text"), payload);
    EXPECT_TRUE(has(e, "websocket"));
  }
}

TEST(Envelope, FramesAppendToTheSameBuffer) {
  Classifier cl;
  EnvelopeEncoder enc;
  ByteBuffer out;
  const std::string a = read_fixture("ws_quotes.json");
  const std::string b = "PONG";
  enc.encode_frame(meta(), a, cl.classify(a), nullptr, out);
  enc.encode_frame(meta(), b, cl.classify(b), nullptr, out);
  const std::string all(out.view());
  const std::size_t nl = all.find('\n');
  ASSERT_NE(nl, std::string::npos);
  dom::parser p;
  EXPECT_EQ(str(parse_line(p, all.substr(0, nl + 1)), "raw_text"), a);
  EXPECT_EQ(str(parse_line(p, all.substr(nl + 1)), "raw_text"), b);
}

TEST(Envelope, WorstCaseEscapingFits) {
  // 200 KB of control bytes escape to 6x; the encoder must reserve that up front.
  std::string payload(200'000, '\x01');
  Encoder enc;
  dom::parser p;
  const dom::element e = parse_line(p, enc.encode(payload));
  EXPECT_EQ(str(e, "raw_text"), payload);
}

TEST(Envelope, FileSessionAndCloseRecordsParse) {
  dom::parser p;
  {
    const std::string line = render_file_record("run \"x\"\n", 3, kAt, EnvelopeMode::kFull,
                                                "booktape 0.1.0");
    const dom::element e = parse_line(p, line);
    EXPECT_EQ(keys_of(e).front(), "record");
    EXPECT_EQ(str(e, "record"), "file");
    EXPECT_EQ(str(e, "format"), "booktape.ws_raw");
    EXPECT_EQ(u64(e, "format_version"), 1u);
    EXPECT_EQ(str(e, "writer"), "booktape 0.1.0");
    EXPECT_EQ(str(e, "run_id"), "run \"x\"\n");
    EXPECT_EQ(u64(e, "file_sequence"), 3u);
    EXPECT_EQ(str(e, "opened_at_utc"), "2023-12-29T18:40:00.123456789Z");
    EXPECT_EQ(str(e, "envelope"), "full");
  }
  {
    const SessionInfo si = session();
    const dom::element e = parse_line(p, render_session_record(si, "open", kAt));
    EXPECT_EQ(keys_of(e).front(), "record");
    EXPECT_EQ(str(e, "record"), "session");
    EXPECT_EQ(str(e, "event"), "open");
    EXPECT_EQ(str(e, "session_id"), "s-7");
    EXPECT_EQ(str(e, "run_id"), "run \"one\"");
    EXPECT_EQ(u64(e, "connection_sequence"), 3u);
    EXPECT_EQ(str(e, "at_utc"), "2023-12-29T18:40:00.123456789Z");
    EXPECT_EQ(u64(e, "at_ns"), static_cast<std::uint64_t>(kAt));
    EXPECT_EQ(str(e["websocket"], "url"), si.url);
    EXPECT_EQ(e["subscription"]["assets_ids"].get_array().value_unsafe().size(), 2u);
    EXPECT_TRUE(e["subscription"]["custom_feature_enabled"].get_bool().value_unsafe());
    EXPECT_FALSE(e["subscription"]["initial_dump"].get_bool().value_unsafe());
    EXPECT_EQ(e["tokens_tracked"].get_array().value_unsafe().size(), 2u);
  }
  {
    SessionInfo empty;
    const dom::element e = parse_line(p, render_session_record(empty, "continued", kAt));
    EXPECT_EQ(str(e, "event"), "continued");
    EXPECT_EQ(e["tokens_tracked"].get_array().value_unsafe().size(), 0u);
  }
  {
    const dom::element e =
        parse_line(p, render_session_close("s-7", 3, kAt, "read: \"end of stream\""));
    EXPECT_EQ(str(e, "record"), "session");
    EXPECT_EQ(str(e, "event"), "close");
    EXPECT_EQ(str(e, "session_id"), "s-7");
    EXPECT_EQ(u64(e, "connection_sequence"), 3u);
    EXPECT_EQ(str(e, "reason"), "read: \"end of stream\"");
  }
}

TEST(Envelope, AppendJsonStringKeepsInvalidUtf8AsLatin1Escapes) {
  std::string out;
  append_json_string(out, "a\xff\x01\"b");
  EXPECT_EQ(out, R"("a\u00ff\u0001\"b")");
  std::string valid;
  append_json_string(valid, "\xc3\xa9\n");
  EXPECT_EQ(valid, "\"\xc3\xa9\\n\"");
}

}  // namespace
}  // namespace booktape
