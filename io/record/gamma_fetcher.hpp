#pragma once
// Discovery's requests to Gamma on one kept-alive client: paced under the venue's rate limits,
// 429 answers retried after a backoff, every answer kept verbatim in the result (provenance),
// bodies parsed into pages. Internal to io/record/polymarket_discovery.
#include <chrono>
#include <memory>
#include <string>

#include "codecs/polymarket_gamma.hpp"
#include "core/rate_window.hpp"
#include "io/net/http_client.hpp"
#include "io/record/polymarket_discovery.hpp"

namespace booktape {

class GammaFetcher {
 public:
  GammaFetcher(const DiscoveryOptions& options, DiscoveryResult& result);

  // Fetches `target` and parses it into `page`. False (with an error line naming `label`) when
  // the request failed, the status was not 200 (after the retries for 429), or the body was not
  // Gamma JSON. Skipped markets are added to the result as they come.
  bool fetch(const std::string& target, const std::string& label, polymarket::GammaPage& page);

 private:
  bool connect(const std::string& label);
  void give_up();
  // Sleeps until `t` unless discovery is cancelled or out of time first (false then).
  bool sleep_until(std::chrono::steady_clock::time_point t) const;
  [[nodiscard]] std::chrono::milliseconds backoff(int attempt, const HttpResponse& r) const;

  const DiscoveryOptions& options_;
  DiscoveryResult& result_;
  std::unique_ptr<HttpClient> client_;
  SlidingWindowLimit pace_;
  int failures_in_a_row_ = 0;
  bool gave_up_ = false;
};

}  // namespace booktape
