#pragma once
// One token's L2 order book: two price ladders of aggregated size per price.
//
// Layout choice (measured in bench/book_bench.cpp): each side is a flat vector sorted so that the
// best level is at the BACK. Updates cluster at the top of the book, so most inserts and erases
// move only a few elements, the best price is one load, and a 60-level book costs about 2 KB.
// A direct-indexed ladder would need 1001 slots a side on a 0.001 grid (16 KB a book).
#include <cassert>
#include <cstdint>
#include <span>
#include <vector>

#include "core/fixed_point.hpp"

namespace booktape {

struct Level {
  Size size;    // shares, micro-units; always > 0 inside a book
  Price price;  // 0.0001 USDC units
};
static_assert(sizeof(Level) == 16);

enum class LevelUpdate : std::uint8_t { kInserted, kUpdated, kRemoved, kRemoveAbsent };

class BookSide {
 public:
  explicit BookSide(Side side, std::size_t reserve_levels = 64) : side_(side) {
    levels_.reserve(reserve_levels);
  }

  // Sets the total size at `price`; size 0 removes the level. Precondition: size >= 0.
  LevelUpdate set(Price price, Size size) noexcept;

  // Replaces the whole side. `levels` may be in any order and is sorted in place; a price that
  // appears twice keeps its LAST size; zero sizes are skipped. Returns the duplicates dropped.
  std::size_t assign(std::span<Level> levels);

  void clear() noexcept { levels_.clear(); }
  [[nodiscard]] bool empty() const noexcept { return levels_.empty(); }
  [[nodiscard]] std::size_t depth() const noexcept { return levels_.size(); }
  [[nodiscard]] Side side() const noexcept { return side_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return levels_.capacity(); }

  // Best level; precondition !empty().
  [[nodiscard]] const Level& best() const noexcept {
    assert(!levels_.empty() && "best() of an empty side");
    return levels_.back();
  }
  // i-th level from the best (0 = best); precondition i < depth().
  [[nodiscard]] const Level& level(std::size_t i) const noexcept {
    assert(i < levels_.size());
    return levels_[levels_.size() - 1 - i];
  }
  // Size at an exact price, 0 if absent.
  [[nodiscard]] Size size_at(Price price) const noexcept;
  // True when `a` is a better price than `b` on this side.
  [[nodiscard]] bool better(Price a, Price b) const noexcept {
    return side_ == Side::kBid ? a > b : a < b;
  }

 private:
  // Storage order key: ascending key == worst..best, so the best is at the back.
  [[nodiscard]] std::int32_t key(Price p) const noexcept { return side_ == Side::kBid ? p : -p; }
  [[nodiscard]] std::size_t lower_bound(Price price) const noexcept;

  std::vector<Level> levels_;
  Side side_;
};

class L2Book {
 public:
  L2Book() : bids_(Side::kBid), asks_(Side::kAsk) {}

  BookSide& side(Side s) noexcept { return s == Side::kBid ? bids_ : asks_; }
  [[nodiscard]] const BookSide& side(Side s) const noexcept {
    return s == Side::kBid ? bids_ : asks_;
  }
  [[nodiscard]] const BookSide& bids() const noexcept { return bids_; }
  [[nodiscard]] const BookSide& asks() const noexcept { return asks_; }

  void clear() noexcept {
    bids_.clear();
    asks_.clear();
  }
  // Crossed or locked: the best bid is at or above the best ask (see docs/BOOKS.md).
  [[nodiscard]] bool crossed() const noexcept {
    return !bids_.empty() && !asks_.empty() && bids_.best().price >= asks_.best().price;
  }
  [[nodiscard]] std::size_t memory_bytes() const noexcept;

 private:
  BookSide bids_;
  BookSide asks_;
};

}  // namespace booktape
