#pragma once
// A fresh directory for one test, removed afterwards: under $TMPDIR if set, else /dev/shm
// (tests rewrite files thousands of times; a disk-backed /tmp makes that slow), else /tmp.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace booktape::testing {

class TempDir {
 public:
  TempDir() {
    const char* env = std::getenv("TMPDIR");
    std::string base = env != nullptr ? env : "/tmp";
    if (env == nullptr && ::access("/dev/shm", W_OK) == 0) base = "/dev/shm";
    std::string pattern = base + "/booktape-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace booktape::testing
