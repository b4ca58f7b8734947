#pragma once
// "did you mean ...?" for a mistyped name (a config key, a command-line flag): the candidate
// fewest single-letter edits away, if it is close enough to be a typo.
#include <string>
#include <string_view>
#include <vector>

namespace booktape {

// Levenshtein distance (insert, delete, replace one character).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within a third of `word`'s length (at most 3 edits; for "x" nothing is
// close), or "" when none is.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace booktape
