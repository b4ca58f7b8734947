#include "io/net/ws_frame.hpp"

#include <cstring>

namespace booktape {

std::size_t ws_header_size(std::size_t n) noexcept {
  return n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
}

void ws_append_frame(ByteBuffer& out, WsOpcode op, std::string_view payload,
                     std::uint32_t mask_key) {
  const std::size_t n = payload.size();
  auto* p = reinterpret_cast<std::uint8_t*>(out.ensure(kWsMaxHeader + n));
  std::uint8_t* const start = p;
  *p++ = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op));
  const std::uint8_t mask_bit = mask_key != 0 ? 0x80 : 0;
  if (n < 126) {
    *p++ = static_cast<std::uint8_t>(mask_bit | n);
  } else if (n <= 0xFFFF) {
    *p++ = static_cast<std::uint8_t>(mask_bit | 126);
    *p++ = static_cast<std::uint8_t>(n >> 8);
    *p++ = static_cast<std::uint8_t>(n);
  } else {
    *p++ = static_cast<std::uint8_t>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) *p++ = static_cast<std::uint8_t>(std::uint64_t{n} >> (8 * i));
  }
  if (mask_key != 0) {
    std::uint8_t key[4];
    for (int i = 0; i < 4; ++i) key[i] = static_cast<std::uint8_t>(mask_key >> (8 * (3 - i)));
    std::memcpy(p, key, 4);
    p += 4;
    for (std::size_t i = 0; i < n; ++i)
      p[i] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(payload[i]) ^ key[i & 3]);
  } else if (n != 0) {
    std::memcpy(p, payload.data(), n);
  }
  out.commit(static_cast<std::size_t>(p - start) + n);
}

WsReader::Result WsReader::next() {
  for (;;) {
    const auto* base = reinterpret_cast<const std::uint8_t*>(in_.data());
    const std::size_t avail = in_.size() - pos_;
    const std::uint8_t* p = base + pos_;
    if (avail < 2) break;
    const bool fin = (p[0] & 0x80) != 0;
    if ((p[0] & 0x70) != 0) {
      error_ = "reserved bits set (no extension was negotiated)";
      return Result::kError;
    }
    const auto op = static_cast<WsOpcode>(p[0] & 0x0F);
    const bool masked = (p[1] & 0x80) != 0;
    if (masked != expect_masked_) {
      error_ = expect_masked_ ? "client frame not masked" : "server frame masked";
      return Result::kError;
    }
    std::uint64_t len = p[1] & 0x7F;
    std::size_t header = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (std::uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      header = 10;
    }
    const bool control = (static_cast<std::uint8_t>(op) & 0x08) != 0;
    if (control && (len > 125 || !fin)) {
      error_ = "control frame too long or fragmented";
      return Result::kError;
    }
    if (len > max_ || (in_fragmented_ && !control && fragments_.size() + len > max_)) {
      error_ = "message larger than the maximum size";
      return Result::kError;
    }
    if (masked) header += 4;
    if (avail < header + len) break;

    const std::uint8_t* data = p + header;
    std::string chunk(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
    if (masked) {
      const std::uint8_t* key = data - 4;
      for (std::size_t i = 0; i < chunk.size(); ++i)
        chunk[i] = static_cast<char>(static_cast<std::uint8_t>(chunk[i]) ^ key[i & 3]);
    }
    pos_ += header + static_cast<std::size_t>(len);
    if (pos_ == in_.size()) {  // everything consumed: reuse the buffer from the start
      in_.clear();
      pos_ = 0;
    }

    if (control) {
      opcode_ = op;
      message_ = std::move(chunk);
      return Result::kMessage;
    }
    if (op == WsOpcode::kContinuation) {
      if (!in_fragmented_) {
        error_ = "continuation without a message to continue";
        return Result::kError;
      }
      fragments_ += chunk;
      if (fin) {
        in_fragmented_ = false;
        opcode_ = fragmented_op_;
        message_ = std::move(fragments_);
        fragments_.clear();
        return Result::kMessage;
      }
      continue;
    }
    if (op != WsOpcode::kText && op != WsOpcode::kBinary) {
      error_ = "unknown opcode";
      return Result::kError;
    }
    if (in_fragmented_) {
      error_ = "new message inside a fragmented one";
      return Result::kError;
    }
    if (!fin) {
      in_fragmented_ = true;
      fragmented_op_ = op;
      fragments_ = std::move(chunk);
      continue;
    }
    opcode_ = op;
    message_ = std::move(chunk);
    return Result::kMessage;
  }
  // Keep unparsed bytes at the front so the buffer does not grow without bound.
  if (pos_ > 0) {
    const std::size_t rest = in_.size() - pos_;
    std::memmove(in_.data(), in_.data() + pos_, rest);
    in_.resize_down(rest);
    pos_ = 0;
  }
  return Result::kNeedMore;
}

}  // namespace booktape
