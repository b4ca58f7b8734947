#pragma once
// The recorder in-process on its own thread for the length of a test, with its status counters
// (Recorder::status_json) at hand; and a bounded wait for a condition.
#include <simdjson.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "io/record/recorder.hpp"
#include "io/sim/server.hpp"

namespace booktape::testing {

class RecorderRun {
 public:
  explicit RecorderRun(RecorderConfig c) : rec_(std::move(c)) {
    thread_ = std::thread([this] { code_ = rec_.run(); });
  }
  ~RecorderRun() { stop(); }
  RecorderRun(const RecorderRun&) = delete;
  RecorderRun& operator=(const RecorderRun&) = delete;
  int stop() {
    if (thread_.joinable()) {
      rec_.request_stop();
      thread_.join();
    }
    return code_;
  }
  int wait() {  // for a bounded run (duration_seconds)
    if (thread_.joinable()) thread_.join();
    return code_;
  }
  Recorder& get() { return rec_; }
  // One counter of status_json(), by "section.name" (0 if absent).
  std::uint64_t counter(std::string_view section, std::string_view name) {
    simdjson::dom::element e;
    if (parser_.parse(rec_.status_json()).get(e)) return 0;
    std::uint64_t v = 0;
    if (e[section][name].get_uint64().get(v)) return 0;
    return v;
  }
  bool flag(std::string_view section, std::string_view name) {
    simdjson::dom::element e;
    if (parser_.parse(rec_.status_json()).get(e)) return false;
    bool v = false;
    if (e[section][name].get_bool().get(v)) return false;
    return v;
  }

 private:
  Recorder rec_;
  std::thread thread_;
  int code_ = -1;
  simdjson::dom::parser parser_;
};

// The simulator's default market series (BTC 5m and 15m: the recorder's default series), `frames`
// of them (0: forever) at `rate` a second.
inline SimServerOptions sim_options(std::uint64_t frames, double rate, std::uint64_t seed = 5) {
  SimServerOptions o;
  o.market.seed = seed;
  o.market.lanes = 2;
  o.rate = rate;
  o.max_frames = frames;
  return o;
}

// Settings that record `sim` into `out`: no status output, no REST checkpoints, a small ring.
inline RecorderConfig config_for(SimServer& sim, const std::filesystem::path& out) {
  RecorderConfig c;
  c.ws_url = sim.ws_url();
  c.rest_url = c.gamma_url = sim.http_url();
  c.ca_file = sim.ca_file();
  c.out = out;
  c.status = "off";
  c.rest_checkpoint_interval_seconds = 0;
  c.ring_bytes = std::size_t{8} << 20;
  c.max_frame_bytes = std::size_t{1} << 20;
  return c;
}

// Waits up to `limit` for `done()`.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace booktape::testing
