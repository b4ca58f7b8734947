#pragma once
// Reads the shared Polymarket fixtures (../shared/fixtures/polymarket, see its SOURCES.md) at run
// time; they are never copied into the repository. BOOKTAPE_FIXTURES_DIR comes from
// tests/CMakeLists.txt.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace booktape::testing {

inline std::string fixture_path(std::string_view name) {
  return std::string(BOOKTAPE_FIXTURES_DIR) + "/" + std::string(name);
}

// The fixture's bytes, exactly as stored. A missing fixture fails the test (and throws, so the
// test stops instead of asserting on an empty string).
inline std::string read_fixture(std::string_view name) {
  const std::string path = fixture_path(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "missing fixture " << path;
    throw std::runtime_error("missing fixture " + path);
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) {
    ADD_FAILURE() << "cannot read fixture " << path;
    throw std::runtime_error("cannot read fixture " + path);
  }
  return text;
}

// Names of every *.json fixture in the folder, sorted.
inline std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(BOOKTAPE_FIXTURES_DIR, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 5 && name.ends_with(".json")) names.push_back(name);
  }
  if (ec) ADD_FAILURE() << "cannot list " << BOOKTAPE_FIXTURES_DIR << ": " << ec.message();
  std::sort(names.begin(), names.end());
  return names;
}

// Nautilus strips event_type from some of its fixtures; this puts it back into the real text,
// right after the first '{', leaving every other byte as captured.
inline std::string with_event_type(std::string text, std::string_view type) {
  const std::size_t brace = text.find('{');
  if (brace == std::string::npos) {
    ADD_FAILURE() << "no object to add event_type to";
    return text;
  }
  text.insert(brace + 1, "\"event_type\":\"" + std::string(type) + "\",");
  return text;
}

}  // namespace booktape::testing
