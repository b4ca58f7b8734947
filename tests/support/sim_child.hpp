#pragma once
// `booktape sim` as a child process on a free port, stopped with SIGTERM at the end of the test.
// Its ready line tells where it listens.
#include <simdjson.h>

#include <csignal>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace booktape::testing {

class SimChild {
 public:
  explicit SimChild(std::vector<std::string> extra = {"--rate", "10", "--seed", "7"})
      : child_(args(std::move(extra))) {
    using namespace std::chrono_literals;
    const std::string ready = child_.read_line(10s);
    simdjson::dom::element e;
    if (parser_.parse(ready).get(e) == simdjson::SUCCESS) {
      http_url_ = std::string(std::string_view(e["http_url"]));
      ws_url_ = std::string(std::string_view(e["ws_url"]));
    }
  }
  ~SimChild() {
    using namespace std::chrono_literals;
    child_.signal(SIGTERM);
    child_.wait(10s);
  }
  SimChild(const SimChild&) = delete;
  SimChild& operator=(const SimChild&) = delete;
  [[nodiscard]] const std::string& url() const { return http_url_; }
  [[nodiscard]] const std::string& ws_url() const { return ws_url_; }

 private:
  static std::vector<std::string> args(std::vector<std::string> extra) {
    std::vector<std::string> a = {BOOKTAPE_BINARY, "sim"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  Child child_;
  simdjson::dom::parser parser_;
  std::string http_url_, ws_url_;
};

}  // namespace booktape::testing
