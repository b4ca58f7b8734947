#include "codecs/envelope.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstring>

#include "codecs/json_text.hpp"

namespace booktape {

const char* to_string(EnvelopeMode m) noexcept {
  return m == EnvelopeMode::kFull ? "full" : "compact";
}

namespace {

char* put(char* out, std::string_view s) noexcept {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

char* put_u64(char* out, std::uint64_t v) noexcept {
  return std::to_chars(out, out + 20, v).ptr;
}

char* put_i64(char* out, std::int64_t v) noexcept {
  return std::to_chars(out, out + 21, v).ptr;
}

std::string u64s(std::uint64_t v) { return std::to_string(v); }

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const std::size_t at = out.size();
  out.resize(at + json_escape_bound(s.size()));
  char* end = nullptr;
  if (is_valid_utf8(s)) {
    end = json_escape(out.data() + at, s);
  } else {
    // Keep the JSON valid: bytes >= 0x80 are written as \u00XX (Latin-1 reading).
    char* p = out.data() + at;
    for (const char& ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x80) {
        p = json_escape(p, std::string_view(&ch, 1));
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        p = put(p, "\\u00");
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xF];
      }
    }
    end = p;
  }
  out.resize(static_cast<std::size_t>(end - out.data()));
  out.push_back('"');
}

std::string render_file_record(std::string_view run_id, std::uint64_t file_sequence,
                               UnixNanos opened_at, EnvelopeMode mode,
                               std::string_view writer_version) {
  std::string s = "{\"record\":\"file\",\"format\":";
  append_json_string(s, kArchiveFormat);
  s += ",\"format_version\":" + std::to_string(kArchiveFormatVersion) + ",\"writer\":";
  append_json_string(s, writer_version);
  s += ",\"run_id\":";
  append_json_string(s, run_id);
  s += ",\"file_sequence\":" + u64s(file_sequence) + ",\"opened_at_utc\":\"" +
       format_utc(opened_at) + "\",\"envelope\":\"" + to_string(mode) + "\"}\n";
  return s;
}

namespace {

void append_session_body(std::string& s, const SessionInfo& si) {
  s += "\"websocket\":{\"url\":";
  append_json_string(s, si.url);
  s += "},\"subscription\":{\"assets_ids\":[";
  for (std::size_t i = 0; i < si.assets_ids.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, si.assets_ids[i]);
  }
  s += "],\"type\":\"market\",\"custom_feature_enabled\":";
  s += si.custom_feature_enabled ? "true" : "false";
  s += ",\"initial_dump\":";
  s += si.initial_dump ? "true" : "false";
  s += "},\"tokens_tracked\":[";
  for (std::size_t i = 0; i < si.tokens.size(); ++i) {
    const TokenInfo& t = si.tokens[i];
    if (i) s += ',';
    s += "{\"token_id\":";
    append_json_string(s, t.token_id);
    s += ",\"market_slug\":";
    append_json_string(s, t.market_slug);
    s += ",\"condition_id\":";
    append_json_string(s, t.condition_id);
    s += ",\"outcome\":";
    append_json_string(s, t.outcome);
    s += ",\"end_time_utc\":";
    append_json_string(s, t.end_time_utc);
    s += '}';
  }
  s += ']';
}

}  // namespace

std::string render_session_record(const SessionInfo& si, std::string_view event, UnixNanos at) {
  std::string s = "{\"record\":\"session\",\"event\":";
  append_json_string(s, event);
  s += ",\"session_id\":";
  append_json_string(s, si.session_id);
  s += ",\"run_id\":";
  append_json_string(s, si.run_id);
  s += ",\"connection_sequence\":" + u64s(si.connection_sequence) + ",\"at_utc\":\"" +
       format_utc(at) + "\",\"at_ns\":" + std::to_string(at) + ',';
  append_session_body(s, si);
  s += "}\n";
  return s;
}

std::string render_session_close(std::string_view session_id, std::uint64_t connection_sequence,
                                 UnixNanos at, std::string_view reason) {
  std::string s = "{\"record\":\"session\",\"event\":\"close\",\"session_id\":";
  append_json_string(s, session_id);
  s += ",\"connection_sequence\":" + u64s(connection_sequence) + ",\"at_utc\":\"" +
       format_utc(at) + "\",\"at_ns\":" + std::to_string(at) + ",\"reason\":";
  append_json_string(s, reason);
  s += "}\n";
  return s;
}

std::string render_oversized_frame(const FrameMeta& m, std::uint64_t payload_length,
                                   const Sha256Digest& sha, std::string_view prefix,
                                   std::uint64_t max_frame_bytes) {
  std::string s = "{\"record\":\"oversized_frame\",\"received_at_utc\":\"" +
                  format_utc(m.received_ns) + "\",\"received_at_ns\":" +
                  std::to_string(m.received_ns) + ",\"monotonic_ns\":" +
                  std::to_string(m.monotonic_ns) + ",\"session_id\":";
  append_json_string(s, m.session_id);
  s += ",\"connection_sequence\":" + u64s(m.connection_sequence) +
       ",\"message_sequence\":" + u64s(m.message_sequence) +
       ",\"global_message_sequence\":" + u64s(m.global_sequence) + ",\"opcode\":\"" +
       (m.opcode == Opcode::kBinary ? "binary" : "text") +
       "\",\"payload_length_bytes\":" + u64s(payload_length) + ",\"payload_sha256\":\"";
  const std::size_t at = s.size();
  s.resize(at + kSha256HexChars);
  to_hex(sha.data(), sha.size(), s.data() + at);
  s += "\",\"prefix_base64\":\"";
  const std::size_t b = s.size();
  s.resize(b + base64_encoded_size(prefix.size()));
  base64_encode(s.data() + b, prefix);
  s += "\",\"max_frame_bytes\":" + u64s(max_frame_bytes) + "}\n";
  return s;
}

std::string render_full_fragment(const SessionInfo& si) {
  std::string s;
  append_session_body(s, si);
  return s;
}

void EnvelopeEncoder::encode_frame(const FrameMeta& m, std::string_view payload,
                                   const polymarket::Classification& c,
                                   const std::string* full_fragment, ByteBuffer& out) {
  using polymarket::FrameKind;
  const bool binary = m.opcode == Opcode::kBinary;
  const bool as_text = !binary && is_valid_utf8(payload);
  const char* err = c.json_error;
  const std::size_t err_len = err != nullptr ? std::strlen(err) : 0;

  // The parsed `json` of the full envelope: the payload itself when it is valid JSON on one
  // line, else its minified form (JSON may hold raw newlines as whitespace).
  std::string_view json;
  if (full_fragment != nullptr && c.kind == FrameKind::kJson && err == nullptr) {
    json = payload;
    if (std::memchr(payload.data(), '\n', payload.size()) != nullptr ||
        std::memchr(payload.data(), '\r', payload.size()) != nullptr) {
      minified_.clear();
      char* dst = minified_.ensure(payload.size() + 1);
      std::size_t n = 0;
      if (simdjson::minify(payload.data(), payload.size(), dst, n) == simdjson::SUCCESS) {
        minified_.commit(n);
        json = minified_.view();
      } else {
        json = {};
      }
    }
  }

  const std::size_t worst =
      512 + json_escape_bound(m.session_id.size()) + polymarket::kClassificationJsonMax +
      json_escape_bound(err_len) + (full_fragment ? full_fragment->size() + json.size() + 16 : 0) +
      (as_text ? json_escape_bound(payload.size()) : base64_encoded_size(payload.size()));
  char* p = out.ensure(worst);

  p = put(p, "{\"record\":\"frame\",\"received_at_utc\":\"");
  format_utc(p, m.received_ns);
  p += kUtcTextLength;
  p = put(p, "\",\"received_at_ns\":");
  p = put_i64(p, m.received_ns);
  p = put(p, ",\"monotonic_ns\":");
  p = put_i64(p, m.monotonic_ns);
  p = put(p, ",\"session_id\":\"");
  p = json_escape(p, m.session_id);
  p = put(p, "\",\"connection_sequence\":");
  p = put_u64(p, m.connection_sequence);
  p = put(p, ",\"message_sequence\":");
  p = put_u64(p, m.message_sequence);
  p = put(p, ",\"global_message_sequence\":");
  p = put_u64(p, m.global_sequence);
  p = put(p, binary ? ",\"opcode\":\"binary\"" : ",\"opcode\":\"text\"");
  p = put(p, ",\"payload_length_bytes\":");
  p = put_u64(p, payload.size());
  p = put(p, ",\"payload_sha256\":\"");
  sha_.hex_digest(payload, p);
  p += kSha256HexChars;
  p = put(p, "\",\"classified_event_types\":");
  p = polymarket::write_classification_json(p, c);
  if (err != nullptr) {
    p = put(p, ",\"json_error\":\"");
    p = json_escape(p, std::string_view(err, err_len));
    *p++ = '"';
  } else {
    p = put(p, ",\"json_error\":null");
  }
  if (full_fragment != nullptr) {
    *p++ = ',';
    p = put(p, *full_fragment);
    p = put(p, ",\"json\":");
    p = json.empty() ? put(p, "null") : put(p, json);
  }
  if (as_text) {
    p = put(p, ",\"raw_text\":\"");
    p = json_escape(p, payload);
  } else {
    p = put(p, ",\"raw_base64\":\"");
    p = base64_encode(p, payload);
  }
  p = put(p, "\"}\n");
  out.commit_to(p);
}

}  // namespace booktape
