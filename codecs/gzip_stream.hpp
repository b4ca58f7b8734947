#pragma once
// Streaming inflate (zlib) for gzip files written by other tools: any number of members, any
// member size, no BT subfield needed. The booktape reader uses GzipMemberReader for its own
// files and this for everything else.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace booktape {

struct InflateOutcome {
  enum class Status : std::uint8_t { kOk, kTruncated, kCorrupt } status = Status::kOk;
  std::size_t consumed = 0;  // compressed bytes of complete members (torn tail starts here)
  std::size_t members = 0;
  const char* message = "";
};

// Inflates `n` bytes of gzip data, calling `sink` with decompressed chunks in order. Trailing
// garbage or a cut member ends the stream with kTruncated/kCorrupt after delivering everything
// that inflated cleanly. `sink` returns false to stop early.
InflateOutcome inflate_gzip(const std::uint8_t* data, std::size_t n,
                            const std::function<bool(std::string_view chunk)>& sink);

}  // namespace booktape
