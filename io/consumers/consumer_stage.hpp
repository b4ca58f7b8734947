#pragma once
// The consumer thread (`bt-consumers`): takes what the book stage's feed queued (tokens whose
// slot changed, trades) and hands it to the consumers: the Redis fan-out and the alert rules
// (delivered on a thread of their own). It reads books only from the book table, never from the
// book stage, and the book stage never waits for it (io/consumers/consumer_feed.hpp).
//
// Waiting: a 2 us spin, then 100 us naps for 5 ms (the book thread's doorbell ring stays a
// fence and a load), then a park on the feed's doorbell, so the book thread pays a wake-up only
// for the first update after a quiet spell and an idle recorder costs nothing here.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/consumers/alert_delivery.hpp"
#include "io/consumers/alert_rules.hpp"
#include "io/consumers/consumer_feed.hpp"
#include "io/consumers/redis_publisher.hpp"

namespace booktape {

// What discovery knows of a token, for the alerts (slug, outcome) and the book API.
struct TokenMeta {
  std::string asset_id, slug, outcome, condition_id;
};

struct ConsumerStageOptions {
  std::optional<RedisOptions> redis;  // none: no Redis fan-out
  std::vector<AlertRule> alerts;
  double alert_cooldown_seconds = 60;
  AlertDeliveryOptions delivery;  // used when there are alerts
  // The network's counters, for disconnects>=N (null: that rule never fires).
  const std::atomic<std::uint64_t>* connects = nullptr;
  const std::atomic<std::uint64_t>* connect_failures = nullptr;
};

struct ConsumerStageStats {
  std::atomic<std::uint64_t> books{0};   // token changes taken from the feed
  std::atomic<std::uint64_t> trades{0};  // trades taken from the feed
  std::atomic<std::uint64_t> alerts_fired{0};
  std::atomic<std::uint64_t> parks{0};
};

class ConsumerStage {
 public:
  // Throws std::runtime_error for an unusable option (a webhook URL that is not http(s)).
  ConsumerStage(ConsumerStageOptions options, ConsumerFeed& feed);
  ~ConsumerStage();
  ConsumerStage(const ConsumerStage&) = delete;
  ConsumerStage& operator=(const ConsumerStage&) = delete;

  // The thread's loop. Once `stop` is set (after the book stage has finished) it takes what the
  // feed still holds, gives Redis up to 1 s to take it, and returns.
  void run(const std::atomic<bool>& stop);

  // Any thread: what discovery knows of the tokens (replaces the previous list).
  void set_tokens(std::vector<TokenMeta> tokens);
  // Any thread: the next log line (Redis connects and losses, delivery failures).
  bool pop_notice(std::string& out);

  [[nodiscard]] const ConsumerStageStats& stats() const noexcept;
  [[nodiscard]] const ConsumerFeedStats& feed_stats() const noexcept;
  [[nodiscard]] const RedisStats* redis_stats() const noexcept;          // null: no Redis
  [[nodiscard]] const AlertDeliveryStats* alert_stats() const noexcept;  // null: no alerts
  // {"feed":{...},"table":{...},"redis":{...},"alerts":{...}} (any thread).
  [[nodiscard]] std::string status_json() const;
  // The last alerts fired (at most kRecentAlerts), newest first, as a JSON array of the
  // messages delivered (any thread; for the operator page, /status and `top`).
  static constexpr std::size_t kRecentAlerts = 20;
  [[nodiscard]] std::string recent_alerts_json() const;
  // " | redis 12 published, 3 conflated, 0 errors" or "" (for the status line).
  [[nodiscard]] std::string status_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
