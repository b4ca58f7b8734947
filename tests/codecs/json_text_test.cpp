#include "codecs/json_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace booktape {
namespace {

// The escaping rule written the obvious way, one byte at a time.
std::string reference_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

// json_escape into a buffer of exactly json_escape_bound() bytes (ASan catches overruns).
std::string escape(std::string_view s) {
  std::vector<char> buf(json_escape_bound(s.size()));
  char* end = json_escape(buf.data(), s);
  EXPECT_LE(static_cast<std::size_t>(end - buf.data()), buf.size());
  return std::string(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

std::string unescape(std::string_view body) {
  std::string out;
  EXPECT_TRUE(json_unescape(body, out)) << body;
  return out;
}

bool unescape_fails(std::string_view body) {
  std::string out;
  return !json_unescape(body, out);
}

// Random bytes biased towards the ones that need escaping, so the 32-byte blocks see hits at
// every position, and runs of plain bytes, so whole blocks are copied too.
std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> any(0, 255);
  std::uniform_int_distribution<int> ctrl(0, 0x1F);
  std::string s(n, '\0');
  for (char& c : s) {
    const int k = kind(rng);
    int v = 'a';
    if (k == 0) v = ctrl(rng);
    else if (k == 1) v = '"';
    else if (k == 2) v = '\\';
    else if (k <= 5) v = any(rng);
    c = static_cast<char>(v);
  }
  return s;
}

TEST(JsonEscape, MatchesTheReferenceOnRandomBytesOfEveryLength) {
  std::mt19937 rng(20260301);
  for (std::size_t n = 0; n <= 300; ++n) {
    for (int rep = 0; rep < 8; ++rep) {
      const std::string s = random_bytes(rng, n);
      ASSERT_EQ(escape(s), reference_escape(s)) << "length " << n;
    }
  }
}

TEST(JsonEscape, HandlesEscapesAtBlockEdges) {
  // A byte needing escape at each offset of a 96-byte run of plain text (three AVX2 blocks).
  for (std::size_t at = 0; at < 96; ++at) {
    for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
      std::string s(96, 'x');
      s[at] = special;
      ASSERT_EQ(escape(s), reference_escape(s)) << at;
    }
  }
  // All plain: copied unchanged; bytes >= 0x80 are never escaped.
  const std::string plain(257, '\xe9');
  EXPECT_EQ(escape(plain), plain);
}

TEST(JsonEscape, NamedAndHexEscapes) {
  EXPECT_EQ(escape("\"\\\b\f\n\r\t"), R"(\"\\\b\f\n\r\t)");
  EXPECT_EQ(escape(std::string_view("\x00\x1f\x7f/", 4)), "\\u0000\\u001f\x7f/");
  EXPECT_EQ(escape(""), "");
}

TEST(JsonUnescape, InvertsEscapeOnRandomBytes) {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n <= 300; n += 3) {
    const std::string s = random_bytes(rng, n);
    ASSERT_EQ(unescape(escape(s)), s) << n;
  }
}

TEST(JsonUnescape, DecodesEveryEscapeIncludingSurrogatePairs) {
  EXPECT_EQ(unescape(R"(a\"b\\c\/d\b\f\n\r\t)"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(unescape(R"(\u0041\u00e9\u20AC)"), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(unescape(R"(\u0000)"), std::string(1, '\0'));
  EXPECT_EQ(unescape(R"(\u07ff\u0800\uffff)"), "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
  EXPECT_EQ(unescape(R"(\ud83d\ude00)"), "\xf0\x9f\x98\x80");       // U+1F600
  EXPECT_EQ(unescape(R"(\uD800\uDC00)"), "\xf0\x90\x80\x80");       // U+10000
  EXPECT_EQ(unescape(R"(\udbff\udfff)"), "\xf4\x8f\xbf\xbf");       // U+10FFFF
  EXPECT_EQ(unescape("plain \xc3\xa9 text"), "plain \xc3\xa9 text");  // raw UTF-8 kept
  EXPECT_EQ(unescape(""), "");
}

TEST(JsonUnescape, AppendsToTheOutput) {
  std::string out = "x";
  EXPECT_TRUE(json_unescape(R"(\n)", out));
  EXPECT_EQ(out, "x\n");
}

TEST(JsonUnescape, RejectsInvalidEscapes) {
  EXPECT_TRUE(unescape_fails(R"(\x41)"));
  EXPECT_TRUE(unescape_fails(R"(\a)"));
  EXPECT_TRUE(unescape_fails(R"(\')"));
  EXPECT_TRUE(unescape_fails("abc\\"));          // backslash at the end
  EXPECT_TRUE(unescape_fails(R"(\u12)"));        // short
  EXPECT_TRUE(unescape_fails(R"(\u12G4)"));      // not hex
  EXPECT_TRUE(unescape_fails(R"(\ud83d)"));      // lone high surrogate
  EXPECT_TRUE(unescape_fails(R"(\ud83dx)"));     // high surrogate, then text
  EXPECT_TRUE(unescape_fails(R"(\ud83d\u0041)"));  // high surrogate, then not a low one
  EXPECT_TRUE(unescape_fails(R"(\ud83d\ud83d)"));  // two highs
  EXPECT_TRUE(unescape_fails(R"(\ude00)"));      // lone low surrogate
  EXPECT_TRUE(unescape_fails(R"(\ud83d\u)"));    // cut pair
}

// json_unescape_simple decodes only \" \\ \/ and gives up (nullptr) on anything else: another
// escape, an invalid or cut escape, or a bare quote. The reference says which, byte by byte.
struct SimpleResult {
  bool ok;
  std::string text;
};
SimpleResult reference_unescape_simple(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') return {false, {}};
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 == s.size()) return {false, {}};
    const char e = s[++i];
    if (e != '"' && e != '\\' && e != '/') return {false, {}};
    out += e;
  }
  return {true, out};
}

SimpleResult unescape_simple(std::string_view body) {
  const std::vector<char> in(body.begin(), body.end());  // exact size: ASan sees over-reads
  std::vector<char> out(body.size() + 64);
  const char* end = json_unescape_simple(out.data(), std::string_view(in.data(), in.size()));
  if (end == nullptr) return {false, {}};
  EXPECT_LE(static_cast<std::size_t>(end - out.data()), body.size());
  return {true, std::string(out.data(), static_cast<std::size_t>(end - out.data()))};
}

TEST(JsonUnescapeSimple, MatchesTheReferenceOnRandomBodies) {
  // Mostly backslashes, quotes and slashes, so runs of backslashes straddle the 64-byte chunks.
  constexpr char kAlphabet[] = "\\\\\\\"\"/abn u0";
  std::mt19937 rng(31337);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 2);
  for (std::size_t n = 0; n <= 300; ++n) {
    for (int rep = 0; rep < 20; ++rep) {
      std::string body(n, 'x');
      for (char& c : body) c = kAlphabet[pick(rng)];
      const SimpleResult want = reference_unescape_simple(body);
      const SimpleResult got = unescape_simple(body);
      ASSERT_EQ(got.ok, want.ok) << n << ": " << body;
      if (want.ok) {
        ASSERT_EQ(got.text, want.text) << body;
        std::string slow;
        ASSERT_TRUE(json_unescape(body, slow));
        ASSERT_EQ(got.text, slow);
      }
    }
  }
}

TEST(JsonUnescapeSimple, InvertsEscapeOfTextWithQuotesAndBackslashes) {
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> kind(0, 5);
  for (std::size_t n = 0; n <= 400; n += 7) {
    std::string s(n, 'a');
    for (char& c : s) {
      const int k = kind(rng);
      c = k == 0 ? '"' : k == 1 ? '\\' : k == 2 ? '/' : static_cast<char>('a' + k);
    }
    const SimpleResult got = unescape_simple(escape(s));
    ASSERT_TRUE(got.ok) << n;
    EXPECT_EQ(got.text, s) << n;
  }
}

TEST(JsonUnescapeSimple, GivesUpOnOtherEscapesAndBareQuotes) {
  EXPECT_TRUE(unescape_simple(R"(a\"b\\c\/d)").ok);
  EXPECT_EQ(unescape_simple(R"(a\"b\\c\/d)").text, "a\"b\\c/d");
  EXPECT_FALSE(unescape_simple(R"(line\n)").ok);
  EXPECT_FALSE(unescape_simple(R"(\u0041)").ok);
  EXPECT_FALSE(unescape_simple(R"(bare"quote)").ok);
  EXPECT_FALSE(unescape_simple("ends with \\").ok);
  // A backslash as the 64th byte escapes the first byte of the next chunk.
  std::string edge(63, 'a');
  edge += "\\\"";
  EXPECT_EQ(unescape_simple(edge).text, std::string(63, 'a') + "\"");
  edge = std::string(63, 'a') + "\\n";
  EXPECT_FALSE(unescape_simple(edge).ok);
  edge = std::string(64, 'a') + "\\";
  EXPECT_FALSE(unescape_simple(edge).ok);
  EXPECT_EQ(unescape_simple("").text, "");
}

TEST(Utf8, ValidatesWellFormedSequencesOnly) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii {\"a\":1}"));
  EXPECT_TRUE(is_valid_utf8(std::string_view("\0", 1)));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9"));              // U+00E9
  EXPECT_TRUE(is_valid_utf8("\xe2\x80\x9c"));          // U+201C (gamma_market_live.json)
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));      // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xef\xbb\xbf"));          // BOM is a valid character
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\x80"));                 // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc3"));                 // cut
  EXPECT_FALSE(is_valid_utf8("\xe2\x80"));             // cut
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));             // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));         // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));         // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  // A bad byte deep inside a long valid string (past the first SIMD blocks).
  std::string s(1000, 'a');
  EXPECT_TRUE(is_valid_utf8(s));
  s[777] = '\xfe';
  EXPECT_FALSE(is_valid_utf8(s));
}

std::string b64(std::string_view s) {
  std::string out(base64_encoded_size(s.size()), '\0');
  char* end = base64_encode(out.data(), s);
  EXPECT_EQ(static_cast<std::size_t>(end - out.data()), out.size());
  return out;
}

TEST(Base64, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(b64("\xff\xfe\xfd"), "//79");
  EXPECT_EQ(b64(std::string_view("\0\0\0", 3)), "AAAA");
}

TEST(Base64, RoundTripsRandomData) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> any(0, 255);
  for (std::size_t n = 0; n <= 300; ++n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(any(rng));
    std::string back;
    ASSERT_TRUE(base64_decode(b64(s), back)) << n;
    ASSERT_EQ(back, s) << n;
  }
}

TEST(Base64, RejectsBadInput) {
  for (std::string_view bad : {"Zg=", "Z", "Zm9", "Zm9v!A==", "Zm 9", "Zg==Zg==", "=Zm9",
                               "Zm=v", "Z===", "====", "Zm9v\n", "Zm9-", "Zm9_"}) {
    std::string out;
    EXPECT_FALSE(base64_decode(bad, out)) << '"' << bad << '"';
  }
  std::string out;
  EXPECT_TRUE(base64_decode("", out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace booktape
