#include "core/did_you_mean.hpp"

#include <algorithm>

namespace booktape {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_name(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  // Close enough to be a typo: a third of the word (for "x" nothing is close).
  std::size_t best_d = std::min<std::size_t>(4, word.size() / 3 + 1);
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best = &c;
      best_d = d;
    }
  }
  return best != nullptr ? *best : std::string();
}

}  // namespace booktape
