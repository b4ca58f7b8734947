// The hot path allocates nothing per message in steady state: the book stage (decode + apply)
// and the archive stage (classify + envelope + gzip block + write) are run over a realistic
// mixed stream twice; the second pass, after every buffer has grown to its working size, must
// make zero heap allocations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codecs/envelope.hpp"
#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "core/book_keeper.hpp"
#include "io/archive/writer.hpp"
#include "io/consumers/alert_rules.hpp"
#include "io/consumers/consumer_feed.hpp"
#include "io/consumers/consumer_json.hpp"
#include "tests/alloc/counting_malloc.hpp"
#include "tests/support/fixture_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using testing::count_allocations;

std::vector<std::string> mixed_stream() {
  testing::StreamGen gen(5, 6);
  std::vector<std::string> frames;
  // An initial dump: one JSON array holding every book, as the venue sends on subscribe.
  std::string dump = "[";
  for (std::size_t t = 0; t < gen.ids().size(); ++t) dump += (t ? "," : "") + gen.snapshot(t);
  frames.push_back(dump + "]");
  for (int i = 0; i < 20'000; ++i) {
    frames.push_back(gen.price_change());
    switch (i % 1'000) {
      case 100: frames.push_back(testing::fixture("ws_market_last_trade_msg.json")); break;
      case 200: frames.push_back("PONG"); break;
      case 300: frames.push_back(testing::fixture("ws_market_mixed_known_unknown.json")); break;
      case 400: frames.push_back("{\"event_type\":\"book\",\"asset_id\":"); break;  // malformed
      case 500: frames.push_back(testing::fixture("ws_market_tick_size_msg.json")); break;
      case 600: frames.push_back(testing::fixture("ws_market_best_bid_ask_msg.json")); break;
      case 700: frames.push_back(testing::fixture("ws_market_new_market_msg.json")); break;
      case 800: frames.push_back(gen.snapshot(static_cast<std::size_t>(i) % 6)); break;
      default: break;
    }
  }
  return frames;
}

TEST(SteadyStateAllocations, BookStageDecodesAndAppliesWithoutAllocating) {
  const std::vector<std::string> frames = mixed_stream();
  polymarket::Decoder decoder;
  BookKeeper books;
  polymarket::BookApplier applier(books);
  auto pass = [&] {
    std::uint64_t seq = 0;
    for (const std::string& f : frames) {
      books.begin_frame(++seq, 0);
      decoder.decode(f.data(), f.size(), f.capacity(), applier);  // copies: no padding
    }
  };
  pass();  // warm-up: tokens interned, parser and scratch sized, book capacities reached
  const long allocations = count_allocations(pass);
  EXPECT_EQ(allocations, 0) << "over " << frames.size() << " frames";
  EXPECT_GT(books.totals().changes_applied, 30'000u);
  EXPECT_GT(decoder.stats().frames_by_kind[static_cast<std::size_t>(polymarket::FrameKind::kMalformed)], 0u);
}

// The live consumers' share of the book stage (the feed's slot writes and queues), and what the
// consumer thread does per update before Redis (pop, read the slot, build the book message,
// judge the alert rules): no allocation either. (hiredis's own buffers are outside this.)
TEST(SteadyStateAllocations, TheConsumerFeedAndTheConsumerThreadsWorkDoNotAllocate) {
  const std::vector<std::string> frames = mixed_stream();
  polymarket::Decoder decoder;
  BookKeeper books;
  polymarket::BookApplier applier(books);
  ConsumerFeedOptions fo;
  fo.table.slots = 64;
  ConsumerFeed feed(fo);
  feed.attach(books);
  applier.observer = &feed;
  shm::Book book;
  BookMessage message;
  std::string json;
  std::vector<AlertRule> rules;
  for (const char* r : {"bid>=0.5", "ask<=0.4", "displayed>=0.6", "spread_bps>100"})
    rules.push_back(*parse_alert_rule(r));
  std::vector<AlertEdge> edges(rules.size() * 64);
  std::uint64_t published = 0, fired = 0;
  auto pass = [&] {
    std::uint64_t seq = 0;
    for (const std::string& f : frames) {
      ++seq;
      books.begin_frame(seq, static_cast<std::int64_t>(seq));
      feed.begin_frame(static_cast<std::int64_t>(seq));
      decoder.decode(f.data(), f.size(), f.capacity(), applier);
      feed.flush();
      feed.notify();
      std::uint32_t slot = 0;
      while (feed.pop_dirty(slot)) {  // the consumer thread's turn
        if (feed.table().view().read_book(slot, book) != shm::ReadResult::kOk) continue;
        message.build(json, book, static_cast<std::int64_t>(seq));
        ++published;
        shm::Top top;
        (void)feed.table().view().read_top(slot, top);
        for (std::size_t r = 0; r < rules.size(); ++r) {
          const auto v = alert_value(rules[r], top, static_cast<std::int64_t>(seq));
          if (v && edges[r * 64 + slot].update(rules[r], *v, static_cast<std::int64_t>(seq), 0)) ++fired;
        }
      }
      TradeRecord t;
      while (feed.pop_trade(t)) {}
    }
  };
  pass();
  const std::uint64_t published_before = published;
  const long allocations = count_allocations(pass);
  EXPECT_EQ(allocations, 0) << "over " << frames.size() << " frames";
  EXPECT_GT(published - published_before, 15'000u);
  EXPECT_GT(fired, 0u);
}

TEST(SteadyStateAllocations, ArchiveStageEncodesCompressesAndWritesWithoutAllocating) {
  const std::vector<std::string> frames = mixed_stream();
  testing::TempDir dir;
  ArchiveWriterOptions o;
  o.root = dir.path();
  o.block_bytes = 64 << 10;
  o.fsync = FsyncPolicy::kNone;
  ArchiveWriter writer(o);
  polymarket::Classifier classifier;
  SessionInfo s;
  s.run_id = writer.run_id();
  s.session_id = s.run_id + "-c1";  // the real length: past the small-string buffer
  const UnixNanos t0 = 1'763'703'252'000'000'000;
  writer.open_session(s, t0);
  std::uint64_t seq = 0;
  auto pass = [&] {
    for (const std::string& f : frames) {
      ++seq;
      FrameMeta m;
      m.received_ns = t0 + static_cast<UnixNanos>(seq);  // same hour: no rotation
      m.monotonic_ns = static_cast<MonoNanos>(seq);
      m.session_id = s.session_id;
      m.connection_sequence = 1;
      m.message_sequence = seq;
      m.global_sequence = seq;
      writer.append(m, f, classifier.classify(f));
    }
  };
  pass();
  const std::uint64_t blocks_before = writer.stats().blocks;
  const long allocations = count_allocations(pass);
  EXPECT_EQ(allocations, 0) << "over " << frames.size() << " frames";
  EXPECT_GT(writer.stats().blocks, blocks_before + 10) << "the measured pass wrote blocks";
  writer.close();
  EXPECT_EQ(writer.stats().frames, 2 * frames.size());
}

}  // namespace
}  // namespace booktape
