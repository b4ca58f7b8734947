#pragma once
// REST /books checkpoints, beside the websocket archive as an independent cross-check
// (docs/RECORD.md): every `interval` the subscribed tokens are fetched with POST /books (at most
// `batch` ids a request), each exchange is archived as one gzip JSONL line under
// raw_orderbooks/polymarket/rest_checkpoints/ (request, status, latency, allowlisted response
// headers, the raw response JSON), and the books go to the book stage for comparison. Failures
// back off and are counted; they never touch the websocket path. Runs on its own thread.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "io/archive/writer.hpp"

namespace booktape {

class BookStage;

struct RestCheckpointOptions {
  std::string rest_url;                 // https://clob.polymarket.com
  std::filesystem::path ca_file;
  double interval_seconds = 30;
  int batch = 500;
  double backoff_max_seconds = 300;
  ArchiveWriterOptions writer;          // stream "rest_checkpoints"
  bool archive = true;                  // false (books_only): fetch and compare, write nothing
  const std::atomic<bool>* stop = nullptr;  // set: a request under way is abandoned
};

struct RestCheckpointStats {
  std::atomic<std::uint64_t> rounds{0}, rounds_ok{0}, requests{0}, responses_ok{0};
  std::atomic<std::uint64_t> http_errors{0}, throttled{0}, transport_errors{0}, books{0};
  std::atomic<std::uint64_t> bad_bodies{0};
  // Asked-for tokens without a usable book in the answer; answers with none at all (such a
  // request does not count as a successful checkpoint).
  std::atomic<std::uint64_t> books_missing{0}, empty_answers{0};
  std::atomic<std::int64_t> last_latency_ns{0};
};

// REST failures said as they happen, at most once per `every` (the recorder's log): the control
// thread asks; the REST thread records the last error's text.
class RestFailureLog {
 public:
  void record(std::string what);                 // REST thread: a request failed
  // Control thread: the line to log now, if a failure happened since the last one and `every`
  // has passed ("" otherwise).
  std::string note(MonoNanos now, std::int64_t every_ns, std::uint64_t failures);

 private:
  std::mutex mu_;  // cold: taken once per failed request and once per control tick
  std::string last_;
  std::uint64_t said_failures_ = 0;
  MonoNanos next_ = 0;
};

// The response headers a checkpoint keeps: nothing that can carry a session or a secret.
bool safe_response_header(std::string_view name) noexcept;

class RestCheckpointer {
 public:
  RestCheckpointer(RestCheckpointOptions options, BookStage* compare_with);
  ~RestCheckpointer();
  RestCheckpointer(const RestCheckpointer&) = delete;
  RestCheckpointer& operator=(const RestCheckpointer&) = delete;

  // Thread-safe: the tokens to fetch from the next round on.
  void set_tokens(std::vector<std::string> tokens);
  // The thread's loop, until `stop` is set; closes the archive on the way out.
  void run(const std::atomic<bool>& stop);
  // One round now (tests, and run()); false if there were no tokens to fetch.
  bool checkpoint_once();

  [[nodiscard]] const RestCheckpointStats& stats() const noexcept;
  // A line for the log about failures since the last one (rate-limited to one per 10 s), or "".
  std::string failure_note(MonoNanos now);
  // Only once run() has returned.
  [[nodiscard]] const ArchiveWriter& writer() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
