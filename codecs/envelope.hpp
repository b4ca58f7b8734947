#pragma once
// The archive's JSONL records (docs/DATA_CONTRACT.md, format booktape.ws_raw v1).
//
// Every line is one JSON object whose first key is "record": "file" (first line of each file),
// "session" (a websocket connection opened/continued/changed/closed) or "frame" (one websocket
// frame exactly as received). The compact envelope (default) carries the seed-000 per-frame
// fields and references its session; the full envelope also repeats the session's
// websocket.url, subscription.assets_ids and tokens_tracked and the parsed `json` on every line,
// as the seed's recorder wrote them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/polymarket_classifier.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"
#include "core/clock.hpp"

namespace booktape {

inline constexpr int kArchiveFormatVersion = 1;
inline constexpr std::string_view kArchiveFormat = "booktape.ws_raw";

enum class Opcode : std::uint8_t { kText = 1, kBinary = 2 };
enum class EnvelopeMode : std::uint8_t { kCompact, kFull };
const char* to_string(EnvelopeMode m) noexcept;

struct FrameMeta {
  UnixNanos received_ns = 0;        // CLOCK_REALTIME when the read completed
  MonoNanos monotonic_ns = 0;       // CLOCK_MONOTONIC_RAW at the same moment
  std::string_view session_id;
  std::uint64_t connection_sequence = 0;  // n-th connection of the run
  std::uint64_t message_sequence = 0;     // n-th frame on this connection, from 1
  std::uint64_t global_sequence = 0;      // n-th frame of the run across connections, from 1
  Opcode opcode = Opcode::kText;
};

// Discovery metadata for one tracked token (seed 000 keeps it with every frame).
struct TokenInfo {
  std::string token_id, market_slug, condition_id, outcome, end_time_utc;
};

// A websocket connection's context.
struct SessionInfo {
  std::string session_id;
  std::string run_id;
  std::uint64_t connection_sequence = 0;
  std::string url;
  std::vector<std::string> assets_ids;
  std::vector<TokenInfo> tokens;
  bool custom_feature_enabled = true;
  bool initial_dump = true;
};

// Cold-path record renderers (each returns one line ending in '\n').
std::string render_file_record(std::string_view run_id, std::uint64_t file_sequence,
                               UnixNanos opened_at, EnvelopeMode mode,
                               std::string_view writer_version);
// event: "open", "continued" (repeated at the top of a new file), or "subscription" (its asset
// set changed).
std::string render_session_record(const SessionInfo& s, std::string_view event, UnixNanos at);
std::string render_session_close(std::string_view session_id, std::uint64_t connection_sequence,
                                 UnixNanos at, std::string_view reason);
// A frame larger than the recorder's max_frame_bytes, read through without being kept: its
// place in the sequences, true length, SHA-256 (computed while it streamed by) and first bytes
// (base64), as an "oversized_frame" record (docs/DATA_CONTRACT.md).
std::string render_oversized_frame(const FrameMeta& m, std::uint64_t payload_length,
                                   const Sha256Digest& sha, std::string_view prefix,
                                   std::uint64_t max_frame_bytes);
// The full envelope's per-line session fields: "websocket":{...},"subscription":{...},
// "tokens_tracked":[...] (no surrounding braces, no trailing comma).
std::string render_full_fragment(const SessionInfo& s);

// Appends `s` as a JSON string with quotes (escaping; invalid UTF-8 bytes become \u00XX).
void append_json_string(std::string& out, std::string_view s);

class EnvelopeEncoder {
 public:
  // Appends one "frame" record to `out`. `full_fragment` selects the full envelope (nullptr:
  // compact). No allocation once `out` has grown to its working size.
  void encode_frame(const FrameMeta& m, std::string_view payload,
                    const polymarket::Classification& c, const std::string* full_fragment,
                    ByteBuffer& out);

 private:
  Sha256 sha_;
  ByteBuffer minified_;
};

}  // namespace booktape
