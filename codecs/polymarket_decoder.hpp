#pragma once
// Decodes Polymarket market-channel websocket frames with simdjson on-demand and hands each
// event to an EventSink. One decoder per thread; its parser and scratch space are allocated at
// construction and reused, so steady-state decoding allocates nothing (tests/codecs/
// decoder_alloc_test.cpp counts).
//
// A frame is one event object or a JSON array of them. Each object is walked once in document
// order (the venue puts event_type LAST) and dispatched when it ends, so an event is delivered
// only if its whole object parsed. Text that is not JSON, unknown event types, malformed JSON and
// oversized frames are classified and counted, never fatal.
//
// The two frames that are most of the traffic (one price_change or one book object, as the venue
// sends them) first go through a strict hand-written scanner (codecs/polymarket_fast_path.hpp);
// anything it does not fully recognize takes the simdjson path, with identical results.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "codecs/polymarket_events.hpp"

namespace booktape::polymarket {

struct DecodeResult {
  FrameKind kind = FrameKind::kJson;
  std::uint32_t events = 0;      // event objects delivered or reported (incl. unknown/invalid)
  int json_error = 0;            // simdjson::error_code when kind == kMalformed, else 0
  [[nodiscard]] const char* error_message() const noexcept;  // "" when json_error == 0
};

struct DecoderStats {
  std::uint64_t frames = 0;
  std::array<std::uint64_t, kFrameKindCount> frames_by_kind{};
  std::array<std::uint64_t, kEventTypeCount> events_by_type{};
  std::uint64_t invalid_events = 0;  // events not delivered (see InvalidReason)
  std::uint64_t bad_values = 0;      // prices/sizes/sides that failed exact decoding
  std::uint64_t parser_grows = 0;    // frames that needed a larger parser (allocates)
  std::uint64_t fast_path = 0;       // frames the fast path decoded (also counted above)
};

class Decoder {
 public:
  // Bytes readable after a frame's end that simdjson needs (SIMDJSON_PADDING). Frames passed
  // with less are copied into an internal padded buffer first.
  static constexpr std::size_t kPadding = 64;

  struct Options {
    std::size_t initial_capacity = std::size_t{4} << 20;  // initial dumps can be megabytes
    std::size_t max_frame_bytes = std::size_t{64} << 20;   // larger frames are kOversized
    std::size_t max_depth = 256;
    bool fast_path = true;  // false: every frame takes simdjson on-demand (differential tests)
  };

  Decoder();
  explicit Decoder(const Options& options);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // `readable` is how many bytes may be read from `data` (>= size + kPadding avoids a copy).
  DecodeResult decode(const char* data, std::size_t size, std::size_t readable,
                      EventSink& sink) noexcept;
  DecodeResult decode(std::string_view frame, EventSink& sink) noexcept {
    return decode(frame.data(), frame.size(), frame.size(), sink);
  }
  // Counts a frame that is not decoded at all (a binary frame).
  void count_binary() noexcept;

  [[nodiscard]] const DecoderStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape::polymarket
