#pragma once
// URL query strings ("a=1&b=x%20y"): the simulator's Gamma and the operator listener read them.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace booktape {

// The decoded query string; repeated keys are kept in order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
// "a=1&b=x%20y&slug=s1&slug=s2" -> pairs. Percent-decodes keys and values and reads '+' as a
// space; an optional leading '?' is skipped; a key without '=' gets ""; a malformed escape
// ("%zz", "%4") is kept literally.
QueryParams parse_query_string(std::string_view query);

}  // namespace booktape
