#include "codecs/gzip_member.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/gzip_stream.hpp"
#include "tests/codecs/fixtures.hpp"

namespace booktape {
namespace {

using booktape::testing::read_fixture;

const std::uint8_t* bytes(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

// Blocks as the archive writer makes them: JSONL text, one of them large, one empty.
struct Block {
  std::string raw;
  std::uint32_t rows;
};
std::vector<Block> sample_blocks() {
  std::vector<Block> blocks;
  std::string jsonl;
  std::uint32_t rows = 0;
  for (const char* name : {"ws_market_book_msg.json", "ws_quotes.json", "gamma_event.json"}) {
    std::string text = read_fixture(name);
    for (char& c : text) {
      if (c == '\n') c = ' ';
    }
    jsonl += text + "\n";
    ++rows;
  }
  blocks.push_back({jsonl, rows});
  std::mt19937 rng(1);
  std::string big;
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    big += R"({"record":"frame","global_message_sequence":)" + std::to_string(i) +
           R"(,"raw_text":"PONG","r":)" + std::to_string(rng() % 1'000'000) + "}\n";
  }
  blocks.push_back({big, 20'000});
  blocks.push_back({"", 0});
  blocks.push_back({"PONG\n", 1});
  return blocks;
}

struct Archive {
  std::string data;                 // the concatenated members
  std::vector<std::size_t> offsets;  // where each member starts
  std::vector<std::size_t> sizes;
};
Archive compress_all(const std::vector<Block>& blocks, int level = 6) {
  GzipMemberWriter w(level);
  ByteBuffer out;
  Archive a;
  for (const Block& b : blocks) {
    a.offsets.push_back(out.size());
    const std::size_t n = w.compress(b.raw, b.rows, out);
    EXPECT_LE(n, w.bound(b.raw.size()));
    a.sizes.push_back(n);
  }
  a.data = std::string(out.view());
  return a;
}

// Reads a multi-member gzip file the way any zlib-based reader does.
std::string zlib_gunzip(std::string_view gz, std::size_t* members = nullptr) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  std::string out;
  std::vector<char> buf(1 << 16);
  zs.next_in = const_cast<Bytef*>(bytes(gz));  // zlib's API is not const-correct
  zs.avail_in = static_cast<uInt>(gz.size());
  std::size_t n = 0;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (rc == Z_STREAM_END) {
      ++n;
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK) {
      ADD_FAILURE() << "zlib inflate failed: " << rc;
      break;
    }
  }
  inflateEnd(&zs);
  if (members != nullptr) *members = n;
  return out;
}

// A gzip member written by zlib's own gzip writer (windowBits 31), optionally with an FEXTRA
// subfield of our choosing.
std::string zlib_gzip(std::string_view raw, const std::string* extra = nullptr) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header h{};
  std::string extra_copy;
  if (extra != nullptr) {
    extra_copy = *extra;
    h.extra = reinterpret_cast<Bytef*>(extra_copy.data());
    h.extra_len = static_cast<uInt>(extra_copy.size());
    EXPECT_EQ(deflateSetHeader(&zs, &h), Z_OK);
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(raw.size())) + 64, '\0');
  zs.next_in = const_cast<Bytef*>(bytes(raw));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string joined(const std::vector<Block>& blocks) {
  std::string all;
  for (const Block& b : blocks) all += b.raw;
  return all;
}

TEST(GzipMember, ConcatenatedMembersReadBackWithZlib) {
  const std::vector<Block> blocks = sample_blocks();
  const Archive a = compress_all(blocks);
  std::size_t members = 0;
  EXPECT_EQ(zlib_gunzip(a.data, &members), joined(blocks));
  EXPECT_EQ(members, blocks.size());
  EXPECT_LT(a.data.size(), joined(blocks).size() / 4);  // it does compress
}

TEST(GzipMember, EveryLevelIsReadableByZlib) {
  const std::vector<Block> blocks = {{read_fixture("gamma_market.json"), 1}};
  for (int level = 0; level <= 12; ++level) {
    EXPECT_EQ(zlib_gunzip(compress_all(blocks, level).data), blocks[0].raw) << level;
  }
  EXPECT_THROW(GzipMemberWriter(13), std::invalid_argument);
}

TEST(GzipMember, InflateGzipReadsOurMembers) {
  const std::vector<Block> blocks = sample_blocks();
  const Archive a = compress_all(blocks);
  std::string out;
  const InflateOutcome r = inflate_gzip(bytes(a.data), a.data.size(), [&out](std::string_view c) {
    out.append(c);
    return true;
  });
  EXPECT_EQ(r.status, InflateOutcome::Status::kOk);
  EXPECT_EQ(r.members, blocks.size());
  EXPECT_EQ(r.consumed, a.data.size());
  EXPECT_EQ(out, joined(blocks));
}

TEST(GzipMember, HeaderCarriesMemberRawAndRowCounts) {
  const std::vector<Block> blocks = sample_blocks();
  const Archive a = compress_all(blocks);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    MemberHeader h;
    ASSERT_EQ(parse_member_header(bytes(a.data) + a.offsets[i], a.data.size() - a.offsets[i], h),
              MemberStatus::kOk)
        << i;
    EXPECT_EQ(h.member_bytes, a.sizes[i]);
    EXPECT_EQ(h.raw_bytes, blocks[i].raw.size());
    EXPECT_EQ(h.rows, blocks[i].rows);
    // The header alone is enough: nothing past its 28 bytes is needed.
    MemberHeader h2;
    EXPECT_EQ(parse_member_header(bytes(a.data) + a.offsets[i], kGzipMemberHeaderBytes, h2),
              MemberStatus::kOk);
    EXPECT_EQ(h2.member_bytes, h.member_bytes);
  }
}

TEST(GzipMember, ReaderInflatesEachMemberInTurn) {
  const std::vector<Block> blocks = sample_blocks();
  const Archive a = compress_all(blocks);
  GzipMemberReader reader;
  ByteBuffer out;
  std::size_t off = 0;
  for (const Block& b : blocks) {
    MemberHeader h;
    ASSERT_EQ(reader.inflate(bytes(a.data) + off, a.data.size() - off, h, out), MemberStatus::kOk);
    EXPECT_EQ(out.view(), b.raw);
    EXPECT_EQ(h.rows, b.rows);
    off += h.member_bytes;
  }
  EXPECT_EQ(off, a.data.size());
}

TEST(GzipMember, MemberCutAtEveryOffsetIsTruncated) {
  const std::vector<Block> blocks = {{read_fixture("ws_market_new_market_msg.json"), 1},
                                     {read_fixture("ws_quotes.json"), 1}};
  const Archive a = compress_all(blocks);
  GzipMemberReader reader;
  ByteBuffer out;
  for (std::size_t cut = 0; cut < a.sizes[0]; ++cut) {
    // A copy of exactly `cut` bytes, so ASan sees any read past the end.
    const std::vector<std::uint8_t> part(bytes(a.data), bytes(a.data) + cut);
    MemberHeader h;
    ASSERT_EQ(reader.inflate(part.data(), part.size(), h, out), MemberStatus::kTruncated) << cut;
    const MemberStatus hs = parse_member_header(part.data(), part.size(), h);
    EXPECT_EQ(hs, cut < kGzipMemberHeaderBytes ? MemberStatus::kTruncated : MemberStatus::kOk)
        << cut;
  }
  // Cut anywhere inside the second member: the first still reads, the second is truncated.
  for (std::size_t cut = a.offsets[1]; cut < a.data.size(); ++cut) {
    const std::vector<std::uint8_t> part(bytes(a.data), bytes(a.data) + cut);
    MemberHeader h;
    ASSERT_EQ(reader.inflate(part.data(), part.size(), h, out), MemberStatus::kOk);
    EXPECT_EQ(out.view(), blocks[0].raw);
    EXPECT_EQ(reader.inflate(part.data() + a.offsets[1], cut - a.offsets[1], h, out),
              MemberStatus::kTruncated)
        << cut;
  }
}

TEST(GzipMember, FlippedByteInTheBodyIsCorrupt) {
  const std::vector<Block> blocks = {{read_fixture("ws_market_mixed_known_unknown.json"), 1}};
  const Archive a = compress_all(blocks);
  GzipMemberReader reader;
  ByteBuffer out;
  // Every byte after the header: deflate data, CRC32 and ISIZE.
  for (std::size_t at = kGzipMemberHeaderBytes; at < a.data.size(); ++at) {
    std::string bad = a.data;
    bad[at] = static_cast<char>(bad[at] ^ 0xFF);
    MemberHeader h;
    ASSERT_EQ(reader.inflate(bytes(bad), bad.size(), h, out), MemberStatus::kCorrupt) << at;
  }
  // Untouched, it still reads.
  MemberHeader h;
  EXPECT_EQ(reader.inflate(bytes(a.data), a.data.size(), h, out), MemberStatus::kOk);
}

TEST(GzipMember, CorruptHeaderValuesAreNotTrusted) {
  const Archive a = compress_all({{"some text\n", 1}});
  GzipMemberReader reader;
  ByteBuffer out;
  MemberHeader h;
  std::string bad = a.data;
  bad[2] = 7;  // not deflate
  EXPECT_EQ(parse_member_header(bytes(bad), bad.size(), h), MemberStatus::kCorrupt);
  bad = a.data;
  bad[20] = '\xff';  // raw_bytes far beyond what the member could inflate to
  bad[23] = '\x3f';
  EXPECT_EQ(reader.inflate(bytes(bad), bad.size(), h, out), MemberStatus::kCorrupt);
  bad = a.data;
  bad[16] = static_cast<char>(bad[16] + 1);  // member_bytes one too large: reads as cut short
  EXPECT_EQ(reader.inflate(bytes(bad), bad.size(), h, out), MemberStatus::kTruncated);
  bad = a.data;
  bad[16] = static_cast<char>(bad[16] - 1);  // one too small: the deflate stream does not fit
  EXPECT_EQ(reader.inflate(bytes(bad), bad.size(), h, out), MemberStatus::kCorrupt);
}

TEST(GzipMember, RandomMutationsNeverCrash) {
  const Archive a = compress_all({{read_fixture("ws_market_new_market_msg.json"), 1}});
  std::mt19937 rng(77);
  GzipMemberReader reader;
  ByteBuffer out;
  for (int i = 0; i < 3'000; ++i) {
    std::string bad = a.data;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    bad.resize(rng() % (bad.size() + 1));
    const std::vector<std::uint8_t> exact(bytes(bad), bytes(bad) + bad.size());
    MemberHeader h;
    const MemberStatus s = reader.inflate(exact.data(), exact.size(), h, out);
    if (s == MemberStatus::kOk) {
      EXPECT_EQ(out.size(), h.raw_bytes);
      EXPECT_LE(h.member_bytes, exact.size());
    }
  }
}

TEST(GzipMember, NotGzipAndForeignMembersAreTold) {
  MemberHeader h;
  const std::string text = "{\"record\":\"file\"}\n";
  EXPECT_EQ(parse_member_header(bytes(text), text.size(), h), MemberStatus::kNotGzip);
  EXPECT_EQ(parse_member_header(bytes(text), 1, h), MemberStatus::kNotGzip);
  EXPECT_EQ(parse_member_header(bytes(text), 0, h), MemberStatus::kTruncated);

  const std::string plain = zlib_gzip("hello from zlib\n");
  EXPECT_EQ(parse_member_header(bytes(plain), plain.size(), h), MemberStatus::kForeign);
  GzipMemberReader reader;
  ByteBuffer out;
  EXPECT_EQ(reader.inflate(bytes(plain), plain.size(), h, out), MemberStatus::kForeign);

  // An FEXTRA with another writer's subfield, and one with our id but the wrong length.
  const std::string other("XY\x02\x00" "ab", 6);
  const std::string with_other = zlib_gzip("x", &other);
  EXPECT_EQ(parse_member_header(bytes(with_other), with_other.size(), h), MemberStatus::kForeign);
  const std::string short_bt("BT\x04\x00\x01\x02\x03\x04", 8);
  const std::string with_short = zlib_gzip("x", &short_bt);
  EXPECT_EQ(parse_member_header(bytes(with_short), with_short.size(), h), MemberStatus::kForeign);
  // A subfield whose length runs past XLEN is corrupt.
  const std::string overlong("BT\x20\x00\x01\x02", 6);
  const std::string with_overlong = zlib_gzip("x", &overlong);
  EXPECT_EQ(parse_member_header(bytes(with_overlong), with_overlong.size(), h),
            MemberStatus::kCorrupt);
}

TEST(GzipStream, InflatesForeignMultiMemberData) {
  const std::string a = zlib_gzip(read_fixture("gamma_event.json"));
  const std::string b = zlib_gzip("second member\n");
  const std::string data = a + b;
  std::string out;
  const InflateOutcome r = inflate_gzip(bytes(data), data.size(), [&out](std::string_view c) {
    out.append(c);
    return true;
  });
  EXPECT_EQ(r.status, InflateOutcome::Status::kOk);
  EXPECT_EQ(r.members, 2u);
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(out, read_fixture("gamma_event.json") + "second member\n");
}

TEST(GzipStream, TruncatedDataReportsTheLastMemberBoundary) {
  const std::string first = read_fixture("ws_quotes.json");
  const std::string second = read_fixture("ws_market_new_market_msg.json");
  const std::string a = zlib_gzip(first);
  const std::string data = a + zlib_gzip(second);
  const std::string all = first + second;
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    const std::vector<std::uint8_t> part(bytes(data), bytes(data) + cut);
    std::string out;
    const InflateOutcome r = inflate_gzip(part.data(), part.size(), [&out](std::string_view c) {
      out.append(c);
      return true;
    });
    const bool at_boundary = cut == 0 || cut == a.size() || cut == data.size();
    ASSERT_EQ(r.status,
              at_boundary ? InflateOutcome::Status::kOk : InflateOutcome::Status::kTruncated)
        << cut;
    EXPECT_EQ(r.consumed, cut < a.size() ? 0 : cut < data.size() ? a.size() : data.size()) << cut;
    EXPECT_EQ(r.members, cut < a.size() ? 0u : cut < data.size() ? 1u : 2u) << cut;
    // Whatever was delivered is a prefix of the real content.
    ASSERT_LE(out.size(), all.size());
    EXPECT_EQ(out, all.substr(0, out.size())) << cut;
    if (cut >= a.size()) {
      EXPECT_GE(out.size(), first.size()) << cut;
    }
  }
}

TEST(GzipStream, TrailingGarbageIsCorruptAfterTheGoodMembers) {
  const std::string a = zlib_gzip("good\n");
  const std::string data = a + "this is not gzip";
  std::string out;
  const InflateOutcome r = inflate_gzip(bytes(data), data.size(), [&out](std::string_view c) {
    out.append(c);
    return true;
  });
  EXPECT_EQ(r.status, InflateOutcome::Status::kCorrupt);
  EXPECT_EQ(r.members, 1u);
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(out, "good\n");
  EXPECT_STRNE(r.message, "");
}

TEST(GzipStream, SinkCanStopEarly) {
  const std::string data = zlib_gzip("a\n") + zlib_gzip("b\n");
  int calls = 0;
  const InflateOutcome r = inflate_gzip(bytes(data), data.size(), [&calls](std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.status, InflateOutcome::Status::kOk);
}

TEST(GzipStream, StoppingInTheOnlyMemberIsNotATornTail) {
  // A small file gzipped whole by another tool: one member, inflated in one call. The sink stops
  // at once, as replay --at does; the unread rest is not a cut member.
  const std::string data = zlib_gzip("{\"event_type\":\"book\"}\nPONG\n");
  int calls = 0;
  const InflateOutcome r = inflate_gzip(bytes(data), data.size(), [&calls](std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.status, InflateOutcome::Status::kOk) << r.message;
}

}  // namespace
}  // namespace booktape
