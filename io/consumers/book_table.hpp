#pragma once
// The writer of the book table (layout: io/consumers/shm_book_table.hpp): one slot per token,
// each a seqlock'd copy of its book's top levels, best prices, last trade and state.
//
// The table is also how the book stage hands books to the consumer thread: the book thread
// writes a token's slot after every change, and the consumer thread (Redis, alerts) reads the
// slot when it gets to the token, so it always sees the latest state (conflation) and never
// touches the books themselves. With `--shm NAME` the table lives in /dev/shm/NAME, readable by
// any local process; without it, in private memory, for the consumer thread alone.
//
// Threads: every write (assign, write_*, heartbeat) from one thread, the book stage's; reads
// (view()) from any thread.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/book_keeper.hpp"
#include "io/consumers/shm_book_table.hpp"

namespace booktape {

// What the book keeper does not keep of a token's last trade (the feed remembers it).
struct TradeMark {
  std::uint8_t side = shm::kNoSide;  // 0 BUY, 1 SELL
  std::int64_t venue_ms = 0;
};

struct BookTableOptions {
  std::string shm_name;          // empty: private memory, no file
  std::uint32_t slots = 131072;  // tokens served; a token past them is counted, not served
  std::uint32_t depth = 20;      // levels kept per side
};

class BookTable {
 public:
  static constexpr std::uint32_t kMaxDepth = 1000;
  static constexpr std::uint32_t kMaxSlots = 1u << 22;

  // Creates the table. A stale file of the same name (its writer gone) is replaced; one whose
  // writer still runs is refused. Throws std::runtime_error saying what is wrong.
  explicit BookTable(const BookTableOptions& options);
  ~BookTable();  // marks the table closed; the file stays for readers (the last books)
  BookTable(const BookTable&) = delete;
  BookTable& operator=(const BookTable&) = delete;

  [[nodiscard]] std::uint32_t slot_count() const noexcept { return slots_; }
  [[nodiscard]] std::uint32_t depth() const noexcept { return depth_; }
  [[nodiscard]] const std::string& shm_name() const noexcept { return name_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return size_; }
  // A reader of this table (valid while the table lives).
  [[nodiscard]] const shm::TableView& view() const noexcept { return *view_; }

  // Gives slot `i` (< slot_count()) to a token. Slots are given in order: i is the number of
  // slots given so far. Ids longer than 79 bytes or markets longer than 71 are cut.
  void assign(std::uint32_t i, std::string_view asset_id, std::string_view market) noexcept;
  // The market of a slot given without one.
  void set_market(std::uint32_t i, std::string_view market) noexcept;

  // Writes a live book's state (whatever state the book stage gives it) into slot i.
  // `received_ns`: the receive time of the frame that changed it (or of the event, for a state
  // change without a frame).
  void write_book(std::uint32_t i, const TokenBook& tb, std::int64_t received_ns,
                  const TradeMark& trade) noexcept;
  // Writes a REST checkpoint book (levels in any order) into slot i, state kRest, keeping the
  // live book's last trade. The live book is not touched: its next change overwrites the slot.
  // Allocates only when a side is longer than any before (a scratch list).
  void write_rest(std::uint32_t i, const TokenBook& tb, std::span<const Level> bids,
                  std::span<const Level> asks, std::int64_t venue_ms, std::int64_t fetched_ns,
                  const TradeMark& trade) noexcept;

  // The writer is alive (readers judge a table whose heartbeat is old as abandoned).
  void heartbeat(std::int64_t now_ns) noexcept;

  // The state number a book stage state has in the table, by its name.
  [[nodiscard]] static std::uint8_t state_code(BookState s) noexcept;

 private:
  std::byte* slot(std::uint32_t i) const noexcept;
  // A seqlock write of one slot: seq odd, update_seq + 1, ... fields ..., seq even.
  static void begin_write(std::byte* s) noexcept;
  static void end_write(std::byte* s) noexcept;
  static void store_level(std::byte* dst, const Level& l) noexcept;
  // The best n levels of a side, best first (n <= its depth).
  static void store_side(std::byte* dst, const BookSide& side, std::uint32_t n) noexcept;

  std::string name_;
  std::uint32_t slots_ = 0;
  std::uint32_t depth_ = 0;
  std::uint32_t slot_bytes_ = 0;
  std::size_t size_ = 0;
  std::byte* base_ = nullptr;
  std::optional<shm::TableView> view_;  // set once the table is mapped
  std::vector<Level> scratch_;          // write_rest's sorted side
};

}  // namespace booktape
