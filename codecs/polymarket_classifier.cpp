#include "codecs/polymarket_classifier.hpp"

#include <simdjson.h>

#include <cstring>
#include <new>

#include "core/byte_buffer.hpp"

namespace booktape::polymarket {

namespace dom = simdjson::dom;

struct Classifier::Impl {
  explicit Impl(std::size_t max) : max_frame(max) {}
  dom::parser parser;
  ByteBuffer padded;
  std::size_t max_frame;
};

Classifier::Classifier(std::size_t max_frame_bytes)
    : impl_(std::make_unique<Impl>(max_frame_bytes)) {
  // Size the parser once for typical frames; initial dumps may grow it (rarely).
  if (impl_->parser.allocate(std::size_t{4} << 20) != simdjson::SUCCESS) throw std::bad_alloc();
}

Classifier::~Classifier() = default;

Classification Classifier::binary() noexcept {
  Classification c;
  c.kind = FrameKind::kBinary;
  return c;
}

namespace {

void add(Classification& c, EventType t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  if (c.events[i]++ == 0) c.order[c.distinct++] = t;
}

void classify_event(Classification& c, dom::element e) noexcept {
  dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return add(c, EventType::kUnknown);
  std::string_view type;
  if (obj["event_type"].get_string().get(type) != simdjson::SUCCESS)
    return add(c, EventType::kUnknown);
  add(c, event_type_from(type));
}

}  // namespace

Classification Classifier::classify(const char* data, std::size_t size,
                                    std::size_t readable) noexcept {
  Classification c;
  c.kind = classify_text(std::string_view(data, size));
  if (c.kind == FrameKind::kOtherText) c.json_error = "not JSON";
  if (c.kind != FrameKind::kJson) return c;
  if (size > impl_->max_frame) {
    c.kind = FrameKind::kOversized;
    c.json_error = "frame larger than max_frame_bytes; not parsed";
    return c;
  }
  if (readable < size + simdjson::SIMDJSON_PADDING) {
    impl_->padded.clear();
    char* p = impl_->padded.ensure(size + simdjson::SIMDJSON_PADDING);
    std::memcpy(p, data, size);
    std::memset(p + size, 0, simdjson::SIMDJSON_PADDING);
    data = p;
  }
  dom::element root;
  // The DOM parser grows itself when a frame exceeds its capacity (allocates; rare).
  const simdjson::error_code err = impl_->parser.parse(data, size, false).get(root);
  if (err) {
    c.kind = FrameKind::kMalformed;
    c.json_error = simdjson::error_message(err);
    return c;
  }
  dom::array arr;
  if (root.get_array().get(arr) == simdjson::SUCCESS) {
    for (dom::element e : arr) classify_event(c, e);
  } else {
    classify_event(c, root);
  }
  return c;
}

char* write_classification_json(char* out, const Classification& c) noexcept {
  *out++ = '[';
  auto put = [&out](const char* name, bool first) {
    if (!first) *out++ = ',';
    *out++ = '"';
    const std::size_t n = std::strlen(name);
    std::memcpy(out, name, n);
    out += n;
    *out++ = '"';
  };
  if (c.kind == FrameKind::kJson) {
    for (std::uint8_t i = 0; i < c.distinct; ++i) put(to_string(c.order[i]), i == 0);
  } else {
    put(to_string(c.kind), true);
  }
  *out++ = ']';
  return out;
}

}  // namespace booktape::polymarket
