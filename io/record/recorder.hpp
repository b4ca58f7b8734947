#pragma once
// `booktape record`: the live recorder (docs/RECORD.md). It owns the pipeline, the network
// thread, the book stage and the archive stage, each on its own thread (pinned when configured),
// plus a REST checkpoint thread, and runs the control loop on the caller's thread: discovery on
// a schedule, the subscription plan (token ids spread over connections), market rolls, per-token
// health, status output, and the orderly shutdown (stop reading, drain the ring, close every
// file, write manifests, and for a bounded run the seed's run manifest, report and gate).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "io/record/recorder_config.hpp"

namespace booktape {

class Recorder {
 public:
  explicit Recorder(RecorderConfig config);  // throws ConfigError for an unusable config
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Runs until the duration is over or request_stop(). Returns the exit code: 0 (a bounded run
  // also passed its gate), 1 (the gate needs review, or the archive had errors), 2 (it could not
  // start: no markets to record, the venue unreachable, a bad setting).
  int run();
  // Async-signal-safe: asks run() to shut down cleanly.
  void request_stop() noexcept;

  // A snapshot of the live counters as one JSON object (any thread).
  [[nodiscard]] std::string status_json() const;
  // After run(): the gate of a bounded run and where its report went.
  [[nodiscard]] const std::string& gate() const noexcept;
  [[nodiscard]] const std::filesystem::path& report_path() const noexcept;
  [[nodiscard]] const std::string& run_id() const noexcept;
  // The operator listener's port once run() has bound it (http_listen; 0: none).
  [[nodiscard]] std::uint16_t http_port() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
