#pragma once
// The recorder's live consumers, wired from its config (docs/CONSUMERS.md): the book stage's
// feed into the book table (shm or private), and the consumer thread with the Redis fan-out and
// the alerts. The recorder creates it when the config asks for any consumer, hands feed() to
// the book stage, starts the thread with the others and stops it after the book stage.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "codecs/envelope.hpp"
#include "io/consumers/book_routes.hpp"
#include "io/consumers/consumer_stage.hpp"
#include "io/net/http_server.hpp"
#include "io/record/operator_http.hpp"
#include "io/record/recorder_config.hpp"

namespace booktape {

class LiveConsumers {
 public:
  // Throws std::runtime_error for what cannot be set up (the shm table in use, no memory).
  // `connects`, `connect_failures`: the network's counters (for disconnects>=N).
  LiveConsumers(const RecorderConfig& cfg, const std::atomic<std::uint64_t>* connects,
                const std::atomic<std::uint64_t>* connect_failures);
  ~LiveConsumers();
  LiveConsumers(const LiveConsumers&) = delete;
  LiveConsumers& operator=(const LiveConsumers&) = delete;

  [[nodiscard]] ConsumerFeed* feed() noexcept { return feed_.get(); }
  void start(int cpu);  // the bt-consumers thread (a cold thread: `cpu` as the REST thread's)
  void stop();          // after the book stage has finished: what it fed still goes out
  // What discovery knows of the recorded tokens (for alerts' slug and outcome).
  void set_tokens(const std::vector<std::vector<TokenInfo>>& groups);
  // On the operator listener (before it starts): the book API's routes (/books, /books/<id>,
  // /odds/<market>), and the consumers' metric families and last alerts in what it serves.
  void serve(HttpServer& server, OperatorSources& sources);
  void pop_notices(const std::function<void(const std::string&)>& log);
  [[nodiscard]] std::string status_json() const { return stage_->status_json(); }
  [[nodiscard]] std::string status_text() const { return stage_->status_text(); }
  [[nodiscard]] const ConsumerStage& stage() const noexcept { return *stage_; }

 private:
  std::unique_ptr<ConsumerFeed> feed_;
  std::unique_ptr<ConsumerStage> stage_;
  std::unique_ptr<BookRoutes> routes_;  // reads the table from the listener's thread
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace booktape
