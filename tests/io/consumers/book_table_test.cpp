// The book table: what the writer puts in a slot is what a reader gets, through the same
// self-contained reader header other programs use, and no read is ever torn.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "io/consumers/book_table.hpp"
#include "tests/io/consumers/consumer_test_support.hpp"

namespace booktape {
namespace {

using testing::book_of;
using testing::unique_shm_name;

TEST(BookTable, AReaderSeesTheTopLevelsStateAndIdentityOfASlot) {
  BookTableOptions o;
  o.slots = 8;
  o.depth = 3;
  BookTable table(o);
  // Levels are {size, price}: sizes in 1e-6 shares, prices in 1e-4 USDC.
  TokenBook tb =
      book_of({{100'000'000, 4800}, {5'000'000, 4700}, {1, 4600}, {2, 4500}}, {{7'000'000, 5200}});
  tb.last_trade_price = 4900;
  tb.last_trade_size = 3'000'000;
  tb.last_event_ms = 1'757'908'892'351;
  table.assign(0, "7132", "0xabc");
  table.write_book(0, tb, 123'456'789, TradeMark{1, 1'757'908'892'000});

  const shm::TableView& v = table.view();
  EXPECT_EQ(v.header().depth, 3u);
  EXPECT_EQ(v.slots_used(), 1u);
  shm::Book b;
  ASSERT_EQ(v.read_book(0, b), shm::ReadResult::kOk);
  EXPECT_EQ(b.asset_id(), "7132");
  EXPECT_EQ(b.market(), "0xabc");
  EXPECT_EQ(b.head.update_seq, 1u);
  EXPECT_EQ(b.head.received_ns, 123'456'789);
  EXPECT_EQ(b.head.venue_ms, 1'757'908'892'351);
  EXPECT_EQ(b.head.state, 1);  // live
  EXPECT_EQ(b.head.best_bid, 4800);
  EXPECT_EQ(b.head.best_bid_size, 100'000'000);
  EXPECT_EQ(b.head.best_ask, 5200);
  EXPECT_EQ(b.head.bid_depth, 4);  // the whole side
  ASSERT_EQ(b.bids.size(), 3u);    // the table keeps 3
  EXPECT_EQ(b.bids[2].price, 4600);
  ASSERT_EQ(b.asks.size(), 1u);
  EXPECT_EQ(b.head.last_trade_price, 4900);
  EXPECT_EQ(b.head.last_trade_side, 1);
  EXPECT_EQ(b.head.last_trade_ms, 1'757'908'892'000);
  EXPECT_EQ(b.head.flags & shm::kFlagInSync, shm::kFlagInSync);

  shm::Top top;
  ASSERT_EQ(v.read_top(0, top), shm::ReadResult::kOk);
  EXPECT_EQ(top.best_bid, 4800);
  EXPECT_EQ(top.best_ask_size, 7'000'000);
  EXPECT_EQ(top.update_seq, 1u);
  EXPECT_EQ(v.read_top(1, top), shm::ReadResult::kUnused);
  EXPECT_EQ(v.find("7132"), std::optional<std::uint32_t>(0));
  EXPECT_EQ(v.find("7133"), std::nullopt);
}

TEST(BookTable, StatesAreNumberedByTheirNames) {
  EXPECT_EQ(BookTable::state_code(BookState::kAwaitingSnapshot), 0);
  EXPECT_EQ(BookTable::state_code(BookState::kLive), 1);
  EXPECT_EQ(BookTable::state_code(BookState::kStale), 2);
  for (const int c : {0, 1, 2, 3, 16})
    EXPECT_STRNE(shm::state_name(static_cast<std::uint8_t>(c)), "other");
}

TEST(BookTable, ARestBookIsShownBestFirstAsStateRest) {
  BookTableOptions o;
  o.slots = 2;
  o.depth = 2;
  BookTable table(o);
  table.assign(0, "1", "");
  TokenBook stale = book_of({{1, 4000}}, {});
  stale.state = BookState::kStale;
  stale.stale_reason = StaleReason::kExternal;
  // The venue's REST order: bids ascending, asks descending (best last).
  const std::vector<Level> bids = {{10, 4500}, {20, 4600}, {30, 4700}};
  const std::vector<Level> asks = {{5, 5600}, {6, 5500}, {0, 5400}};
  table.write_rest(0, stale, bids, asks, 1'000, 2'000'000'000, TradeMark{});
  shm::Book b;
  ASSERT_EQ(table.view().read_book(0, b), shm::ReadResult::kOk);
  EXPECT_STREQ(shm::state_name(b.head.state), "rest");
  EXPECT_EQ(b.head.stale_reason, 4);
  EXPECT_EQ(b.head.rest_fetched_ns, 2'000'000'000);
  EXPECT_EQ(b.head.venue_ms, 1'000);
  ASSERT_EQ(b.bids.size(), 2u);
  EXPECT_EQ(b.bids[0].price, 4700);
  EXPECT_EQ(b.bids[1].price, 4600);
  ASSERT_EQ(b.asks.size(), 2u);  // the zero-size level is not a level
  EXPECT_EQ(b.asks[0].price, 5500);
  EXPECT_EQ(b.head.best_ask, 5500);
  EXPECT_EQ(b.head.bid_depth, 3);
}

TEST(BookTable, ANamedTableIsInDevShmForOtherProcessesAndMarkedClosedAtTheEnd) {
  const std::string name = unique_shm_name("named");
  {
    BookTableOptions o;
    o.shm_name = name;
    o.slots = 4;
    BookTable table(o);
    table.assign(0, "42", "0x1");
    table.write_book(0, book_of({{1, 100}}, {}), 5, TradeMark{});
    const shm::Reader r(name);  // another mapping of the same file
    EXPECT_EQ(r.header().writer_pid, ::getpid());
    EXPECT_FALSE(r.closed());
    shm::Top top;
    ASSERT_EQ(r.read_top(0, top), shm::ReadResult::kOk);
    EXPECT_EQ(top.best_bid, 100);
    // A second writer of the same name while this one runs is refused.
    EXPECT_THROW(BookTable{o}, std::runtime_error);
  }
  const shm::Reader r(name);  // the last books stay readable
  EXPECT_TRUE(r.closed());
  {
    BookTableOptions o;
    o.shm_name = name;
    o.slots = 4;
    BookTable again(o);  // a closed table is replaced
    EXPECT_EQ(shm::Reader(name).slots_used(), 0u);
  }
  ::shm_unlink(("/" + name).c_str());
}

TEST(BookTable, AReaderRefusesWhatIsNotATableItKnows) {
  EXPECT_THROW(shm::Reader("booktape-test-no-such-table"), std::runtime_error);
  EXPECT_THROW(shm::Reader("a/b"), std::runtime_error);
  std::vector<std::byte> junk(8192, std::byte{0x41});
  EXPECT_THROW(shm::TableView(junk.data(), junk.size()), std::runtime_error);
  BookTableOptions o;
  o.slots = 1;
  BookTable table(o);
  std::vector<std::byte> copy(table.bytes());
  std::memcpy(copy.data(), &table.view().header(), sizeof(shm::Header));
  copy[8] = std::byte{2};  // layout version 2
  try {
    shm::TableView v(copy.data(), copy.size());
    FAIL() << "version 2 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("layout version 2"), std::string::npos) << e.what();
  }
}

// The writer rewrites slots as fast as it can with books that each carry their own number in
// every field; readers check that every copy they keep is one whole book (no torn read), and
// that a slot's update_seq never goes back. Also run under TSan (scripts/test.sh --tsan).
TEST(BookTable, ReadersNeverSeeATornSlotWhileTheWriterHammersIt) {
  constexpr std::uint32_t kSlots = 4;
  constexpr std::uint32_t kDepth = 8;
  constexpr int kVariants = 16;
  BookTableOptions o;
  o.slots = kSlots;
  o.depth = kDepth;
  BookTable table(o);
  std::vector<TokenBook> books;
  for (int v = 0; v < kVariants; ++v) {
    std::vector<Level> bids, asks;
    for (int k = 0; k < 2 + v % 7; ++k)
      bids.push_back({Size{1'000 * v + k + 1}, 4000 - 10 * k - v});
    for (int k = 0; k < 1 + v % 5; ++k)
      asks.push_back({Size{7'000 * v + k + 1}, 6000 + 10 * k + v});
    books.push_back(book_of(bids, asks));
  }
  for (std::uint32_t s = 0; s < kSlots; ++s) table.assign(s, std::to_string(s), "m");

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> checked{0}, torn{0};
  auto reader = [&] {
    const shm::TableView& view = table.view();
    shm::Book b;
    std::vector<std::uint64_t> last(kSlots, 0);
    std::uint64_t n = 0;
    while (!done.load(std::memory_order_relaxed)) {
      for (std::uint32_t s = 0; s < kSlots; ++s) {
        if (view.read_book(s, b) != shm::ReadResult::kOk) continue;
        if (b.head.update_seq == 0) continue;  // not written yet
        const auto v = static_cast<int>(b.head.received_ns % kVariants);
        const L2Book& want = books[static_cast<std::size_t>(v)].book;
        bool ok = b.head.venue_ms == b.head.received_ns && b.head.update_seq >= last[s] &&
                  b.head.best_bid == want.bids().best().price &&
                  b.bids.size() == std::min<std::size_t>(want.bids().depth(), kDepth) &&
                  b.asks.size() == std::min<std::size_t>(want.asks().depth(), kDepth);
        for (std::size_t k = 0; ok && k < b.bids.size(); ++k)
          ok = b.bids[k].price == want.bids().level(k).price &&
               b.bids[k].size == want.bids().level(k).size;
        for (std::size_t k = 0; ok && k < b.asks.size(); ++k)
          ok = b.asks[k].price == want.asks().level(k).price &&
               b.asks[k].size == want.asks().level(k).size;
        last[s] = b.head.update_seq;
        if (!ok) torn.fetch_add(1);
        ++n;
      }
    }
    checked.fetch_add(n);
  };
  std::thread r1(reader), r2(reader);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  std::uint64_t writes = 0;
  for (std::int64_t n = 1; std::chrono::steady_clock::now() < until; ++n) {
    for (int burst = 0; burst < 64; ++burst, ++n) {
      TokenBook& tb = books[static_cast<std::size_t>(n % kVariants)];
      tb.last_event_ms = n;
      table.write_book(static_cast<std::uint32_t>(n % kSlots), tb, n, TradeMark{});
      ++writes;
    }
  }
  done.store(true);
  r1.join();
  r2.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(checked.load(), 1000u) << "the readers hardly ran";
  EXPECT_GT(writes, 10'000u);
}

}  // namespace
}  // namespace booktape
