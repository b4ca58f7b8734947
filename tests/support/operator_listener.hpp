#pragma once
// A recorder with its operator listener (`--http`) for the tests that ask it things over HTTP.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "io/net/http_client.hpp"
#include "io/record/recorder_config.hpp"
#include "io/sim/server.hpp"
#include "tests/support/recorder_run.hpp"

namespace booktape::testing {

// Records `sim` with the operator listener on a free loopback port (Recorder::http_port()).
inline RecorderConfig config_with_listener(SimServer& sim, const std::filesystem::path& out) {
  RecorderConfig c = config_for(sim, out);
  c.http_listen = "127.0.0.1:0";
  return c;
}

// GET http://127.0.0.1:<port><target> with our client.
inline HttpResponse http_get(std::uint16_t port, const std::string& target) {
  HttpClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.timeout = std::chrono::seconds(10);
  HttpClient c(o);
  return c.get(target);
}

}  // namespace booktape::testing
