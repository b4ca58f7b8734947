#pragma once
// Shared pieces of the tests that run against `booktape sim` in-process: the simulator on its
// own thread, a view of its ground truth, books keyed by asset.
#include <simdjson.h>

#include <map>
#include <string>
#include <thread>

#include "codecs/book_json.hpp"
#include "io/sim/server.hpp"

namespace booktape::testing {

// A simulator running on its own thread for the life of a test.
class Sim {
 public:
  explicit Sim(SimServerOptions o) : sim_(std::move(o)) {
    sim_.start();
    thread_ = std::thread([this] { sim_.run(); });
  }
  ~Sim() {
    sim_.stop();
    thread_.join();
  }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;
  SimServer* operator->() { return &sim_; }
  SimServer& get() { return sim_; }

 private:
  SimServer sim_;
  std::thread thread_;
};

struct TruthView {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  explicit TruthView(const std::string& json) { root = parser.parse(json); }
  simdjson::dom::element conn(std::size_t i) { return root["connections"].at(i); }
  std::size_t connections() { return simdjson::dom::array(root["connections"]).size(); }
  bool has_fault(std::string_view kind) {
    for (simdjson::dom::element f : simdjson::dom::array(root["faults"]))
      if (std::string_view(f["kind"]) == kind) return true;
    return false;
  }
};

// Books in the `--dump-books` shape, one minified object per asset id.
using booktape::books_by_asset;

}  // namespace booktape::testing
