#include "codecs/gzip_stream.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <memory>

namespace booktape {

InflateOutcome inflate_gzip(const std::uint8_t* data, std::size_t n,
                            const std::function<bool(std::string_view)>& sink) {
  InflateOutcome out;
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(kChunk);
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {  // 16: gzip wrapper only
    out.status = InflateOutcome::Status::kCorrupt;
    out.message = "inflateInit2 failed";
    return out;
  }
  std::size_t pos = 0;
  bool member_open = false;
  bool stopped = false;  // the sink asked to stop: whatever is left was not read, not torn
  while (pos < n) {
    const std::size_t give = std::min<std::size_t>(n - pos, std::numeric_limits<uInt>::max());
    zs.next_in = const_cast<Bytef*>(data + pos);  // zlib's API is not const-correct
    zs.avail_in = static_cast<uInt>(give);
    zs.next_out = reinterpret_cast<Bytef*>(buf.get());
    zs.avail_out = static_cast<uInt>(kChunk);
    member_open = true;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    pos += give - zs.avail_in;
    const std::size_t produced = kChunk - zs.avail_out;
    if (produced > 0 && !sink(std::string_view(buf.get(), produced))) {
      stopped = true;
      break;
    }
    if (rc == Z_STREAM_END) {
      ++out.members;
      out.consumed = pos;
      member_open = false;
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ends inside a member
    if (rc != Z_OK) {
      out.status = InflateOutcome::Status::kCorrupt;
      out.message = zs.msg != nullptr ? zs.msg : "inflate error";
      inflateEnd(&zs);
      return out;
    }
  }
  if (!stopped && member_open && pos >= n && out.consumed < n) {
    out.status = InflateOutcome::Status::kTruncated;
    out.message = "gzip data ends inside a member";
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace booktape
