#pragma once
// Text helpers for putting raw websocket payloads into JSONL and getting them back byte-exact:
// JSON string escaping and unescaping, UTF-8 validation, base64 (for payloads that are not
// valid UTF-8 and so cannot be a JSON string).
#include <cstddef>
#include <string>
#include <string_view>

namespace booktape {

// Worst-case output of json_escape for n input bytes (every byte a control char -> \u00XX).
inline constexpr std::size_t json_escape_bound(std::size_t n) noexcept { return 6 * n; }

// Writes `s` as the body of a JSON string (no surrounding quotes) to `out` and returns the new
// end. Escapes '"' and '\\' as \" and \\, \b \f \n \r \t by name, other bytes < 0x20 as \u00XX;
// copies everything else (including bytes >= 0x80) unchanged. `out` must have
// json_escape_bound(s.size()) bytes. Vectorised: runs of bytes needing no escape are copied
// 16 or 32 at a time.
char* json_escape(char* out, std::string_view s) noexcept;

// Decodes the body of a JSON string (between the quotes), appending to `out`. Handles every
// JSON escape including \uXXXX and surrogate pairs (written as UTF-8). Returns false on an
// invalid escape or a lone surrogate, leaving `out` with what was decoded so far.
bool json_unescape(std::string_view body, std::string& out);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

// Standard base64 (RFC 4648, with padding).
inline constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }
char* base64_encode(char* out, std::string_view s) noexcept;  // out: base64_encoded_size bytes
bool base64_decode(std::string_view text, std::string& out);    // false on invalid input

// The value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other byte.
[[nodiscard]] int hex_value(char c) noexcept;

}  // namespace booktape

namespace booktape {

// Fast path of json_unescape for payload text: decodes `body` into `out` and returns the new end,
// or nullptr when the body holds an escape other than \" \\ \/ (or a stray quote or an invalid
// escape), in which case the caller falls back to json_unescape. `out` needs body.size() + 64
// bytes. Escapes are dropped 64 bytes at a time (a shuffle-table compaction), so the dense
// \" of an escaped JSON payload cost little.
char* json_unescape_simple(char* out, std::string_view body) noexcept;

}  // namespace booktape
