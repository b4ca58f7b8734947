#include "core/l2_book.hpp"

#include <algorithm>

namespace booktape {

std::size_t BookSide::lower_bound(Price price) const noexcept {
  // First index whose key is >= key(price). Updates cluster near the best (the back), so probe
  // the last few levels linearly before falling back to a binary search.
  const std::int32_t k = key(price);
  const std::size_t n = levels_.size();
  std::size_t i = n;
  for (std::size_t probes = 0; i > 0 && probes < 4; ++probes) {
    if (key(levels_[i - 1].price) < k) return i;
    --i;
  }
  auto it = std::lower_bound(levels_.begin(), levels_.begin() + static_cast<std::ptrdiff_t>(i), k,
                             [this](const Level& l, std::int32_t v) { return key(l.price) < v; });
  return static_cast<std::size_t>(it - levels_.begin());
}

LevelUpdate BookSide::set(Price price, Size size) noexcept {
  assert(size >= 0 && "sizes are totals, never negative");
  const std::size_t i = lower_bound(price);
  const bool found = i < levels_.size() && levels_[i].price == price;
  if (size == 0) {
    if (!found) return LevelUpdate::kRemoveAbsent;
    levels_.erase(levels_.begin() + static_cast<std::ptrdiff_t>(i));
    return LevelUpdate::kRemoved;
  }
  if (found) {
    levels_[i].size = size;
    return LevelUpdate::kUpdated;
  }
  // May allocate when the side outgrows its reserve; steady state reuses capacity.
  levels_.insert(levels_.begin() + static_cast<std::ptrdiff_t>(i), Level{size, price});
  return LevelUpdate::kInserted;
}

std::size_t BookSide::assign(std::span<Level> levels) {
  levels_.clear();
  // Real captures already arrive in our storage order (worst first); check before sorting.
  auto less = [this](const Level& a, const Level& b) { return key(a.price) < key(b.price); };
  // Sort stably (among equal prices the later entry must stay later) without allocating in
  // the usual cases: already sorted, exactly reversed (best first), or short.
  if (!std::is_sorted(levels.begin(), levels.end(), less)) {
    auto greater = [&](const Level& a, const Level& b) { return less(b, a); };
    const bool strictly_reversed =
        std::adjacent_find(levels.begin(), levels.end(),
                           [&](const Level& a, const Level& b) { return !greater(a, b); }) ==
        levels.end();
    if (strictly_reversed) {
      std::reverse(levels.begin(), levels.end());
    } else if (levels.size() <= 256) {
      for (std::size_t i = 1; i < levels.size(); ++i) {  // insertion sort: stable, in place
        const Level v = levels[i];
        std::size_t j = i;
        for (; j > 0 && less(v, levels[j - 1]); --j) levels[j] = levels[j - 1];
        levels[j] = v;
      }
    } else {
      std::stable_sort(levels.begin(), levels.end(), less);  // rare: may allocate a buffer
    }
  }
  std::size_t duplicates = 0;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const Level& l = levels[i];
    if (i + 1 < levels.size() && levels[i + 1].price == l.price) {
      ++duplicates;  // stable sort keeps input order among equals: the later one wins
      continue;
    }
    if (l.size > 0) levels_.push_back(l);
  }
  return duplicates;
}

Size BookSide::size_at(Price price) const noexcept {
  const std::size_t i = lower_bound(price);
  return i < levels_.size() && levels_[i].price == price ? levels_[i].size : 0;
}

std::size_t L2Book::memory_bytes() const noexcept {
  return sizeof(L2Book) + (bids_.capacity() + asks_.capacity()) * sizeof(Level);
}

}  // namespace booktape
