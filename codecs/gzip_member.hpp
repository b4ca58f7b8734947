#pragma once
// Archive blocks as independent gzip members (RFC 1952), compressed with libdeflate.
//
// Every member we write carries one FEXTRA subfield, SI1='B' SI2='T' (booktape), LEN=12:
//   u32 member_bytes  whole member, header to trailer
//   u32 raw_bytes     uncompressed length
//   u32 rows          JSONL lines in the block
// (little-endian). Any gzip reader ignores it; ours uses it to size buffers, to skip members
// without inflating, and to tell a torn tail (a member cut short by a crash) from corruption.
// A concatenation of members is itself a valid .gz file, so `zcat` reads an archive whole.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/byte_buffer.hpp"

struct libdeflate_compressor;
struct libdeflate_decompressor;

namespace booktape {

inline constexpr std::size_t kGzipMemberHeaderBytes = 28;  // 10 fixed + 2 XLEN + 4 + 12
inline constexpr std::size_t kGzipTrailerBytes = 8;        // CRC32 + ISIZE
inline constexpr std::size_t kMaxBlockRawBytes = std::size_t{1} << 30;

struct MemberHeader {
  std::uint32_t member_bytes = 0;
  std::uint32_t raw_bytes = 0;
  std::uint32_t rows = 0;
};

class GzipMemberWriter {
 public:
  // level: libdeflate level 0..12 (bench/archive_bench.cpp compares levels with zlib).
  explicit GzipMemberWriter(int level);
  ~GzipMemberWriter();
  GzipMemberWriter(const GzipMemberWriter&) = delete;
  GzipMemberWriter& operator=(const GzipMemberWriter&) = delete;

  // Compresses `raw` (at most kMaxBlockRawBytes) into one member appended to `out`; returns the
  // member's size. Allocates only if `out` must grow past its capacity.
  std::size_t compress(std::string_view raw, std::uint32_t rows, ByteBuffer& out);
  [[nodiscard]] int level() const noexcept { return level_; }
  // Largest member compress() can produce for `raw_bytes` of input.
  [[nodiscard]] std::size_t bound(std::size_t raw_bytes) const noexcept;

 private:
  libdeflate_compressor* c_;
  int level_;
};

enum class MemberStatus : std::uint8_t {
  kOk = 0,
  kTruncated,   // the data ends before the member does: a torn tail
  kNotGzip,     // no gzip magic here
  kForeign,     // a gzip member without our BT subfield (another writer's file)
  kCorrupt,     // header, deflate stream, CRC or length does not check out
};
const char* to_string(MemberStatus s) noexcept;

// Reads a member header at `data` (up to `avail` bytes).
MemberStatus parse_member_header(const std::uint8_t* data, std::size_t avail,
                                 MemberHeader& out) noexcept;

class GzipMemberReader {
 public:
  GzipMemberReader();
  ~GzipMemberReader();
  GzipMemberReader(const GzipMemberReader&) = delete;
  GzipMemberReader& operator=(const GzipMemberReader&) = delete;

  // Inflates the booktape member at `data` (`avail` bytes readable) into `out` (replacing its
  // contents), verifying CRC32 and length. On kOk, `header` describes the member.
  MemberStatus inflate(const std::uint8_t* data, std::size_t avail, MemberHeader& header,
                       ByteBuffer& out) noexcept;

 private:
  libdeflate_decompressor* d_;
};

}  // namespace booktape
