// Differential fuzzing of the decoder's fast path (codecs/polymarket_fast_path.hpp): the input
// is split at '\n' into frames, each decoded by two decoders, one with the fast path and one
// without (simdjson on-demand only). Both must return the same result and report the same
// events, field by field, and end with the same counters. Each frame is decoded a second time
// cut short, with the rest of the frame in the readable bytes after its end: bytes that may be
// read but are not part of the frame must never change what it means.
//
// A fresh pair per input, so that a finding reproduces from its input alone; small capacities,
// as in frame_decoder_fuzzer, so that parser growth and oversized frames are reachable.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "tests/support/decoded_events.hpp"

namespace {

using namespace booktape;
using booktape::testing::DecoderPair;

void check_same(DecoderPair& pair, std::string_view frame, std::string_view after) {
  const auto [fast, general] = pair.decode(frame, after);
  if (fast == general && !general.fast) return;
  std::fprintf(stderr, "fast path:\n%s\non-demand:\n%s\n", fast.describe().c_str(),
               general.describe().c_str());
  BOOKTAPE_FUZZ_CHECK(fast == general);
  BOOKTAPE_FUZZ_CHECK(!general.fast);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  polymarket::Decoder::Options o;
  o.initial_capacity = 512;
  o.max_frame_bytes = 16 << 10;
  DecoderPair pair(o);

  booktape::fuzz::for_each_line(
      std::string_view(reinterpret_cast<const char*>(data), size), [&](std::string_view frame) {
        check_same(pair, frame, {});
        if (frame.empty()) return;
        // A cut chosen by the frame's own bytes, so the fuzzer can steer it.
        const std::size_t cut = static_cast<unsigned char>(frame.back()) * frame.size() / 256;
        check_same(pair, frame.substr(0, cut), frame.substr(cut));
      });
  BOOKTAPE_FUZZ_CHECK(booktape::testing::comparable_stats(pair.fast().stats()) ==
                      booktape::testing::comparable_stats(pair.general().stats()));
  return 0;
}
