#pragma once
// Classifies a frame for the archive envelope: is it valid JSON (json_error), and which event
// types does it hold (classified_event_types, the manifest's counts). Uses simdjson's DOM parser,
// which validates the WHOLE document: the book stage's on-demand decoder skips values it does not
// need and so cannot promise that. One classifier per thread; no allocation per frame.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "codecs/polymarket_events.hpp"

namespace booktape::polymarket {

struct Classification {
  FrameKind kind = FrameKind::kJson;
  const char* json_error = nullptr;  // static text; set for kMalformed, kOtherText, kOversized
  std::uint8_t distinct = 0;         // entries used in `order`
  std::array<EventType, kEventTypeCount> order{};  // distinct event types, first-seen order
  std::array<std::uint32_t, kEventTypeCount> events{};  // events of each type in the frame
};

class Classifier {
 public:
  explicit Classifier(std::size_t max_frame_bytes = std::size_t{64} << 20);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // `readable` as in Decoder::decode: >= size + 64 avoids a copy.
  Classification classify(const char* data, std::size_t size, std::size_t readable) noexcept;
  Classification classify(std::string_view frame) noexcept {
    return classify(frame.data(), frame.size(), frame.size());
  }
  static Classification binary() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends the classification as a JSON array of names: ["price_change"], ["pong"], ...
// Writes at most kClassificationJsonMax bytes.
inline constexpr std::size_t kClassificationJsonMax = 160;
char* write_classification_json(char* out, const Classification& c) noexcept;

}  // namespace booktape::polymarket
