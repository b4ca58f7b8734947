#include "codecs/gzip_member.hpp"

#include <libdeflate.h>

#include <cstring>
#include <stdexcept>

namespace booktape {

namespace {

constexpr std::uint8_t kFlagExtra = 0x04;
constexpr std::uint8_t kOsUnix = 3;
constexpr std::uint16_t kExtraLen = 16;  // SI1 SI2 LEN(2) + 12 bytes of data

void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint16_t get_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get_u32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

}  // namespace

const char* to_string(MemberStatus s) noexcept {
  switch (s) {
    case MemberStatus::kOk: return "ok";
    case MemberStatus::kTruncated: return "truncated";
    case MemberStatus::kNotGzip: return "not_gzip";
    case MemberStatus::kForeign: return "foreign";
    case MemberStatus::kCorrupt: return "corrupt";
  }
  return "?";
}

GzipMemberWriter::GzipMemberWriter(int level)
    : c_(libdeflate_alloc_compressor(level)), level_(level) {
  if (c_ == nullptr) throw std::invalid_argument("gzip level must be 0..12");
}

GzipMemberWriter::~GzipMemberWriter() { libdeflate_free_compressor(c_); }

std::size_t GzipMemberWriter::bound(std::size_t raw_bytes) const noexcept {
  return kGzipMemberHeaderBytes + libdeflate_deflate_compress_bound(c_, raw_bytes) +
         kGzipTrailerBytes;
}

std::size_t GzipMemberWriter::compress(std::string_view raw, std::uint32_t rows, ByteBuffer& out) {
  if (raw.size() > kMaxBlockRawBytes) throw std::length_error("gzip block larger than 1 GiB");
  auto* h = reinterpret_cast<std::uint8_t*>(out.ensure(bound(raw.size())));
  const std::size_t deflated = libdeflate_deflate_compress(
      c_, raw.data(), raw.size(), h + kGzipMemberHeaderBytes, bound(raw.size()) -
      kGzipMemberHeaderBytes - kGzipTrailerBytes);
  // Cannot fail: the space given is libdeflate's own bound.
  const std::size_t member = kGzipMemberHeaderBytes + deflated + kGzipTrailerBytes;

  h[0] = 0x1f;
  h[1] = 0x8b;
  h[2] = 8;  // deflate
  h[3] = kFlagExtra;
  put_u32(h + 4, 0);  // MTIME: none (receive times live in the rows)
  h[8] = 0;           // XFL
  h[9] = kOsUnix;
  put_u16(h + 10, kExtraLen);
  h[12] = 'B';
  h[13] = 'T';
  put_u16(h + 14, 12);
  put_u32(h + 16, static_cast<std::uint32_t>(member));
  put_u32(h + 20, static_cast<std::uint32_t>(raw.size()));
  put_u32(h + 24, rows);
  std::uint8_t* t = h + kGzipMemberHeaderBytes + deflated;
  put_u32(t, libdeflate_crc32(0, raw.data(), raw.size()));
  put_u32(t + 4, static_cast<std::uint32_t>(raw.size()));
  out.commit(member);
  return member;
}

MemberStatus parse_member_header(const std::uint8_t* p, std::size_t avail,
                                 MemberHeader& out) noexcept {
  if (avail < 2) return avail == 0 || p[0] == 0x1f ? MemberStatus::kTruncated
                                                   : MemberStatus::kNotGzip;
  if (p[0] != 0x1f || p[1] != 0x8b) return MemberStatus::kNotGzip;
  if (avail < 12) return MemberStatus::kTruncated;
  if (p[2] != 8) return MemberStatus::kCorrupt;
  if (!(p[3] & kFlagExtra)) return MemberStatus::kForeign;
  const std::size_t xlen = get_u16(p + 10);
  if (avail < 12 + xlen) return MemberStatus::kTruncated;
  // Walk the subfields looking for ours.
  for (std::size_t i = 12; i + 4 <= 12 + xlen;) {
    const std::size_t len = get_u16(p + i + 2);
    if (i + 4 + len > 12 + xlen) return MemberStatus::kCorrupt;
    if (p[i] == 'B' && p[i + 1] == 'T' && len == 12) {
      out.member_bytes = get_u32(p + i + 4);
      out.raw_bytes = get_u32(p + i + 8);
      out.rows = get_u32(p + i + 12);
      // Deflate cannot expand more than ~1032:1, so a larger raw length is corruption, not a
      // reason to allocate gigabytes.
      if (out.member_bytes < 12 + xlen + kGzipTrailerBytes || out.raw_bytes > kMaxBlockRawBytes ||
          out.raw_bytes > std::uint64_t{out.member_bytes} * 1100 + 1024)
        return MemberStatus::kCorrupt;
      return MemberStatus::kOk;
    }
    i += 4 + len;
  }
  return MemberStatus::kForeign;
}

GzipMemberReader::GzipMemberReader() : d_(libdeflate_alloc_decompressor()) {
  if (d_ == nullptr) throw std::bad_alloc();
}

GzipMemberReader::~GzipMemberReader() { libdeflate_free_decompressor(d_); }

MemberStatus GzipMemberReader::inflate(const std::uint8_t* data, std::size_t avail,
                                       MemberHeader& header, ByteBuffer& out) noexcept {
  const MemberStatus s = parse_member_header(data, avail, header);
  if (s != MemberStatus::kOk) return s;
  if (header.member_bytes > avail) return MemberStatus::kTruncated;
  out.clear();
  char* dst = nullptr;
  try {
    dst = out.ensure(header.raw_bytes + 1);  // +1: never ask libdeflate for 0 bytes of room
  } catch (...) {
    return MemberStatus::kCorrupt;  // a raw length we cannot allocate is not ours
  }
  std::size_t in_used = 0, out_used = 0;
  const libdeflate_result r = libdeflate_gzip_decompress_ex(
      d_, data, header.member_bytes, dst, header.raw_bytes + 1, &in_used, &out_used);
  if (r != LIBDEFLATE_SUCCESS || in_used != header.member_bytes || out_used != header.raw_bytes)
    return MemberStatus::kCorrupt;
  out.commit(out_used);
  return MemberStatus::kOk;
}

}  // namespace booktape
