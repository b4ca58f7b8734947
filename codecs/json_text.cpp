#include "codecs/json_text.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace booktape {

namespace {

// Escape form of each byte: 0 = copy, 'u' = \u00XX, other = the letter after the backslash.
constexpr auto kEscape = [] {
  struct Table {
    char v[256];
  } t{};
  for (int c = 0; c < 0x20; ++c) t.v[c] = 'u';
  // Through unsigned char: a char subscript would be negative for bytes >= 0x80 (clang warns).
  const auto set = [&t](char byte, char e) { t.v[static_cast<unsigned char>(byte)] = e; };
  set('\b', 'b');
  set('\f', 'f');
  set('\n', 'n');
  set('\r', 'r');
  set('\t', 't');
  set('"', '"');
  set('\\', '\\');
  return t;
}();

inline char* escape_byte(char* out, unsigned char c) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  const char e = kEscape.v[c];
  if (e == 0) {
    *out++ = static_cast<char>(c);
  } else if (e != 'u') {
    *out++ = '\\';
    *out++ = e;
  } else {
    std::memcpy(out, "\\u00", 4);
    out[4] = kHex[c >> 4];
    out[5] = kHex[c & 0xF];
    out += 6;
  }
  return out;
}

}  // namespace

char* json_escape(char* out, std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const end = p + s.size();
#if defined(__AVX2__)
  // 32 bytes at a time: a block with no '"', '\\' or control byte is copied whole; otherwise
  // copy up to the first such byte, escape it, and continue after it.
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  while (end - p >= 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
    // Unsigned v < 0x20  <=>  min(v, 0x1F) == v.
    const __m256i ctrl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1F)), v);
    const __m256i hit = _mm256_or_si256(
        ctrl, _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)));
    const auto mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(hit));
    if (mask == 0) {
      p += 32;
      out += 32;
      continue;
    }
    const int first = __builtin_ctz(mask);  // bytes before it were already stored
    out += first;
    p += first;
    out = escape_byte(out, *p++);
  }
#elif defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
    const __m128i ctrl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
    const __m128i hit =
        _mm_or_si128(ctrl, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const auto mask = static_cast<std::uint32_t>(_mm_movemask_epi8(hit));
    if (mask == 0) {
      p += 16;
      out += 16;
      continue;
    }
    const int first = __builtin_ctz(mask);
    out += first;
    p += first;
    out = escape_byte(out, *p++);
  }
#endif
  while (p != end) out = escape_byte(out, *p++);
  return out;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

namespace {

bool read_hex4(std::string_view s, std::size_t i, std::uint32_t& out) noexcept {
  if (i + 4 > s.size()) return false;
  std::uint32_t v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    const int h = hex_value(s[k]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<std::uint32_t>(h);
  }
  out = v;
  return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

bool json_unescape(std::string_view s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t bs = s.find('\\', i);
    if (bs == std::string_view::npos) {
      out.append(s.substr(i));
      return true;
    }
    out.append(s.substr(i, bs - i));
    if (bs + 1 >= s.size()) return false;
    const char e = s[bs + 1];
    i = bs + 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!read_hex4(s, i, cp)) return false;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t lo = 0;
          if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u' || !read_hex4(s, i + 2, lo) ||
              lo < 0xDC00 || lo > 0xDFFF)
            return false;
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: return false;
    }
  }
  return true;
}

namespace {

// For each 8-bit keep mask, the pshufb control that packs the kept bytes of an 8-byte group to
// the front.
struct CompactTable {
  alignas(16) std::uint8_t shuffle[256][16];
  std::uint8_t count[256];
};
constexpr CompactTable kCompact = [] {
  CompactTable t{};
  for (int m = 0; m < 256; ++m) {
    int n = 0;
    for (int i = 0; i < 8; ++i)
      if (m & (1 << i)) t.shuffle[m][n++] = static_cast<std::uint8_t>(i);
    for (int i = n; i < 16; ++i) t.shuffle[m][i] = 0x80;  // zero fill
    t.count[m] = static_cast<std::uint8_t>(n);
  }
  return t;
}();

// Bits of `chunk` (64 bytes) equal to c.
inline std::uint64_t eq_mask(const char* chunk, char c) noexcept {
#if defined(__AVX2__)
  const __m256i needle = _mm256_set1_epi8(c);
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk + 32));
  const auto lo = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, needle)));
  const auto hi = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, needle)));
  return (std::uint64_t{hi} << 32) | lo;
#else
  std::uint64_t m = 0;
  for (int i = 0; i < 64; ++i) m |= std::uint64_t{chunk[i] == c} << i;
  return m;
#endif
}

}  // namespace

char* json_unescape_simple(char* out, std::string_view body) noexcept {
  const char* p = body.data();
  std::size_t left = body.size();
  bool escaped_carry = false;  // the first byte of this chunk follows an escaping backslash
  alignas(32) char tail[64];
  while (left > 0) {
    const char* chunk = p;
    std::uint64_t valid = ~std::uint64_t{0};
    if (left < 64) {  // the last partial chunk is copied so nothing past the body is read
      std::memcpy(tail, p, left);
      std::memset(tail + left, 0, 64 - left);
      chunk = tail;
      valid = (std::uint64_t{1} << left) - 1;
    }
    const std::uint64_t bs = eq_mask(chunk, '\\') & valid;
    const std::uint64_t quotes = eq_mask(chunk, '"') & valid;
    // An escaped byte at position 0 (its backslash ended the previous chunk) is never itself an
    // escaping backslash.
    const std::uint64_t carry_in = escaped_carry ? 1 : 0;
    const std::uint64_t bits = bs & ~carry_in;
    std::uint64_t drop = 0;     // escaping backslashes
    std::uint64_t escaped = 0;  // bytes that follow one
    if ((bits & (bits << 1)) == 0) {
      // Common case, no two backslashes side by side: each one escapes the next byte.
      drop = bits;
      escaped = (bits << 1) | carry_in;
      escaped_carry = (bits >> 63) != 0;
    } else {
      // Runs of backslashes (two in a row are one literal backslash): pair them up in order.
      escaped = carry_in;
      escaped_carry = false;
      std::uint64_t rest = bits;
      while (rest != 0) {
        const int i = __builtin_ctzll(rest);
        rest &= rest - 1;
        drop |= std::uint64_t{1} << i;
        if (i == 63) {
          escaped_carry = true;
        } else {
          escaped |= std::uint64_t{1} << (i + 1);
          rest &= ~(std::uint64_t{1} << (i + 1));  // an escaped backslash escapes nothing
        }
      }
    }
    // Only \" \\ and \/ decode to the escaped byte itself; anything else goes the slow way.
    const std::uint64_t simple = quotes | bs | eq_mask(chunk, '/');
    if ((escaped & ~valid) != 0) return nullptr;  // the body ends inside an escape
    if ((escaped & ~simple) != 0) return nullptr;
    if ((quotes & ~escaped) != 0) return nullptr;  // a bare quote cannot be inside a string
    const std::uint64_t keep = ~drop & valid;
    if (keep == ~std::uint64_t{0}) {
      std::memcpy(out, chunk, 64);
      out += 64;
    } else {
      for (int g = 0; g < 8; ++g) {
        const auto m = static_cast<std::uint8_t>(keep >> (8 * g));
#if defined(__SSE4_1__) || defined(__AVX2__)
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(chunk + 8 * g));
        const __m128i c = _mm_load_si128(reinterpret_cast<const __m128i*>(kCompact.shuffle[m]));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(v, c));
#else
        for (int k = 0; k < kCompact.count[m]; ++k) out[k] = chunk[8 * g + kCompact.shuffle[m][k]];
#endif
        out += kCompact.count[m];
      }
    }
    const std::size_t step = left < 64 ? left : 64;
    p += step;
    left -= step;
  }
  return escaped_carry ? nullptr : out;  // a body cannot end inside an escape
}

bool is_valid_utf8(std::string_view s) noexcept { return simdjson::validate_utf8(s.data(), s.size()); }

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

char* base64_encode(char* out, std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size();
  for (; n >= 3; n -= 3, p += 3) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    *out++ = kB64[v >> 18];
    *out++ = kB64[(v >> 12) & 63];
    *out++ = kB64[(v >> 6) & 63];
    *out++ = kB64[v & 63];
  }
  if (n > 0) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (n == 2 ? std::uint32_t{p[1]} << 8 : 0);
    *out++ = kB64[v >> 18];
    *out++ = kB64[(v >> 12) & 63];
    *out++ = n == 2 ? kB64[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return false;  // "x=y=" is not padding
    int v[4] = {value(text[i]), value(text[i + 1]), pad == 2 ? 0 : value(text[i + 2]),
                pad >= 1 ? 0 : value(text[i + 3])};
    if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) return false;
    const auto w = static_cast<std::uint32_t>((v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3]);
    out.push_back(static_cast<char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

}  // namespace booktape
