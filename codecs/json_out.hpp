#pragma once
// Pieces of the JSON reports the archive tools print (verify, upload, merge, export, report):
// `"key":value` members appended to a string, a comma first unless it opens an object. Cold
// path: reports are written once a run.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/envelope.hpp"

namespace booktape {

// ,"key":   (no comma when `first`)
inline void json_key(std::string& s, std::string_view key, bool first = false) {
  if (!first) s += ',';
  s += '"';
  s.append(key);
  s += "\":";
}
inline void json_u64(std::string& s, std::string_view key, std::uint64_t v, bool first = false) {
  json_key(s, key, first);
  s += std::to_string(v);
}
inline void json_i64(std::string& s, std::string_view key, std::int64_t v, bool first = false) {
  json_key(s, key, first);
  s += std::to_string(v);
}
inline void json_bool(std::string& s, std::string_view key, bool v, bool first = false) {
  json_key(s, key, first);
  s += v ? "true" : "false";
}
inline void json_str(std::string& s, std::string_view key, std::string_view v, bool first = false) {
  json_key(s, key, first);
  append_json_string(s, v);
}
inline void json_str_array(std::string& s, std::string_view key, const std::vector<std::string>& v,
                           bool first = false) {
  json_key(s, key, first);
  s += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, v[i]);
  }
  s += ']';
}

}  // namespace booktape
