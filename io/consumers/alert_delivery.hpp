#pragma once
// Delivers fired alerts on a thread of its own, so a slow webhook or command never holds the
// consumer thread, let alone the books:
//   --alert-webhook URL   POST the alert JSON (one kept-alive connection; TLS verified)
//   --alert-command CMD   run CMD (explicit argv, no shell) with the alert JSON on stdin
// Each attempt has its own timeout; failures are retried (3 attempts, 0.25 s then 0.5 s apart)
// and counted. The queue is bounded: alerts beyond it are dropped and counted.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/latency_histogram.hpp"

namespace booktape {

struct AlertDeliveryOptions {
  std::string webhook_url;           // http:// or https://; empty: none
  std::filesystem::path ca_file;     // for https (empty: the system store)
  std::vector<std::string> command;  // argv; empty: none
  double timeout_seconds = 5;        // per attempt, webhook and command alike
  int attempts = 3;
  std::size_t queue = 1024;  // alerts waiting for delivery
};

struct AlertDeliveryStats {
  std::atomic<std::uint64_t> delivered{0};  // alerts every configured channel took
  std::atomic<std::uint64_t> failed{0};     // alerts a channel refused after every attempt
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> dropped{0};  // the queue was full
  // The frame that crossed was received -> its webhook request handed to the socket (UTC ns).
  LatencyHistogram frame_to_webhook;
};

// One alert to deliver.
struct AlertMessage {
  std::string json;
  std::int64_t received_ns = 0;  // receive time of the frame that crossed (0: a feed alert)
};

class AlertDelivery {
 public:
  // `notice`: a log line (failures), called on the delivery thread.
  AlertDelivery(AlertDeliveryOptions options, std::function<void(std::string)> notice);
  ~AlertDelivery();  // stops the thread: what is queued is delivered first, up to one timeout
  AlertDelivery(const AlertDelivery&) = delete;
  AlertDelivery& operator=(const AlertDelivery&) = delete;

  // Any thread; never blocks (a full queue drops the alert, counted).
  void post(AlertMessage m);
  [[nodiscard]] const AlertDeliveryStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs argv[0] (found on PATH) with `input` on its stdin and its stdout discarded; waits up to
// `timeout_seconds`, then kills it. Returns "" on exit status 0, else what went wrong.
std::string run_command(const std::vector<std::string>& argv, const std::string& input,
                        double timeout_seconds);

}  // namespace booktape
