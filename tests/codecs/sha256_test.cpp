#include "codecs/sha256.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace booktape {
namespace {

std::string hex(const Sha256Digest& d) {
  std::string out(kSha256HexChars, '\0');
  to_hex(d.data(), d.size(), out.data());
  return out;
}

// FIPS 180-2 / NIST test vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, MillionAsStreamedInPiecesMatchesTheVector) {
  Sha256 h;
  h.reset();
  const std::string chunk(1'000, 'a');
  for (int i = 0; i < 1'000; ++i) h.update(chunk.data(), chunk.size());
  EXPECT_EQ(hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingEqualsOneShotForRandomSplits) {
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> any(0, 255);
  Sha256 h;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{55}, std::size_t{56},
                        std::size_t{63}, std::size_t{64}, std::size_t{65}, std::size_t{1000},
                        std::size_t{100'003}}) {
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(any(rng));
    char one_shot[kSha256HexChars];
    h.hex_digest(data, one_shot);
    h.reset();
    std::size_t at = 0;
    while (at < n) {
      const std::size_t piece =
          std::min(n - at, std::uniform_int_distribution<std::size_t>(0, 97)(rng));
      h.update(data.data() + at, piece);
      at += piece;
    }
    EXPECT_EQ(hex(h.finish()), std::string(one_shot, kSha256HexChars)) << n;
    EXPECT_EQ(std::string(one_shot, kSha256HexChars), sha256_hex(data)) << n;
  }
}

TEST(Sha256, HasherIsReusableAfterFinish) {
  Sha256 h;
  char a[kSha256HexChars], b[kSha256HexChars];
  h.hex_digest("abc", a);
  h.hex_digest("", b);
  EXPECT_EQ(std::string(a, kSha256HexChars),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(std::string(b, kSha256HexChars),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, ToHexIsLowercase) {
  const std::uint8_t bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  char out[8];
  to_hex(bytes, 4, out);
  EXPECT_EQ(std::string(out, 8), "000fa0ff");
}

}  // namespace
}  // namespace booktape
