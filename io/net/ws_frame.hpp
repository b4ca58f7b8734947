#pragma once
// RFC 6455 websocket framing, for the paths where Beast's per-message API costs too much: the
// simulator writes pre-encoded frames in large batches, and reads its clients' small control
// messages itself (so nothing else ever writes to the socket). Beast still does the HTTP upgrade.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_buffer.hpp"

namespace booktape {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Largest header: 2 bytes + 8 bytes of extended length + 4 bytes of mask.
inline constexpr std::size_t kWsMaxHeader = 14;

// Appends one unfragmented frame (FIN set). `mask_key` == 0 writes an unmasked frame (server to
// client); any other value masks the payload with it (client to server, as RFC 6455 requires).
void ws_append_frame(ByteBuffer& out, WsOpcode op, std::string_view payload,
                     std::uint32_t mask_key = 0);
// Header size for a payload of n bytes (unmasked).
std::size_t ws_header_size(std::size_t n) noexcept;

// Incremental parser of a byte stream into whole messages (fragments joined; control frames,
// which may interleave with fragments, delivered on their own).
class WsReader {
 public:
  enum class Result : std::uint8_t {
    kMessage,     // `opcode()` and `payload()` hold one complete message
    kNeedMore,    // feed more bytes
    kError,       // protocol violation (`error()` says which); the connection must close
  };

  explicit WsReader(std::size_t max_message_bytes = std::size_t{16} << 20,
                    bool expect_masked = true)
      : max_(max_message_bytes), expect_masked_(expect_masked) {}

  // Appends received bytes.
  void feed(const char* data, std::size_t n) { in_.append(std::string_view(data, n)); }
  // Takes the next message out of what was fed.
  Result next();

  [[nodiscard]] WsOpcode opcode() const noexcept { return opcode_; }
  [[nodiscard]] std::string_view payload() const noexcept { return message_; }
  [[nodiscard]] const char* error() const noexcept { return error_; }

 private:
  ByteBuffer in_;          // unparsed bytes
  std::size_t pos_ = 0;    // parse position in in_
  std::string message_;    // the message being assembled / delivered
  std::string fragments_;  // data of an unfinished fragmented message
  WsOpcode fragmented_op_ = WsOpcode::kContinuation;
  bool in_fragmented_ = false;
  WsOpcode opcode_ = WsOpcode::kText;
  std::size_t max_;
  bool expect_masked_;
  const char* error_ = "";
};

}  // namespace booktape
