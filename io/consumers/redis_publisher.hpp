#pragma once
// The Redis fan-out (seeds 003 and 004's names), on the consumer thread:
//   PUBLISH polymarket:orderbook:<asset_id>  the book message (io/consumers/consumer_json.hpp)
//   SET     orderbook:polymarket:<asset_id>  the same, PX ttl; refreshed on change, and at least
//                                            every ttl/2 (PEXPIRE) while the book is live or rest
//   PUBLISH polymarket:trade:<asset_id>      every trade, never conflated
//
// hiredis (Debian's 0.14) in non-blocking mode: its connect, its output buffer and its reply
// parser (with reply functions of ours that build no objects). Commands are pipelined; replies
// are matched to commands in order. Nothing here blocks: a slow or dead Redis makes books wait
// in a per-token "pending" set (the latest state wins: `conflated`) and trades in a bounded
// backlog (`trades_dropped` when it is full); a lost connection is retried with backoff and
// every book is SET again once it is back.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/latency_histogram.hpp"
#include "io/consumers/consumer_feed.hpp"
#include "io/consumers/redis_url.hpp"
#include "io/consumers/shm_book_table.hpp"

namespace booktape {

struct RedisOptions {
  RedisEndpoint endpoint;
  double ttl_seconds = 5;  // of the orderbook:polymarket:<id> keys
  double connect_timeout_seconds = 2;
  double backoff_initial_seconds = 0.5;  // reconnect: doubling from this...
  double backoff_max_seconds = 30;       // ...up to this
  std::size_t max_in_flight = 8192;      // commands awaiting a reply; beyond, books wait
  std::size_t max_output_bytes = std::size_t{8} << 20;  // unsent bytes; beyond, books wait
  std::size_t trade_backlog = 65536;                    // trades waiting for Redis; beyond, dropped
};

struct RedisStats {
  std::atomic<std::uint64_t> published{0};       // book messages Redis accepted (PUBLISH and SET)
  std::atomic<std::uint64_t> trades{0};          // trade messages Redis accepted
  std::atomic<std::uint64_t> refreshed{0};       // TTL refreshes of unchanged books
  std::atomic<std::uint64_t> conflated{0};       // book changes merged while waiting for Redis
  std::atomic<std::uint64_t> errors{0};          // error replies, failed connects, commands lost
  std::atomic<std::uint64_t> trades_dropped{0};  // backlog full, or lost with a connection
  std::atomic<std::uint64_t> connects{0}, disconnects{0};
  std::atomic<bool> connected{false};
  LatencyHistogram frame_to_publish;  // a book's frame received -> its PUBLISH written (UTC)
};

class RedisPublisher {
 public:
  // `notice`: a line for the log (connects, losses, refusals), called on this thread.
  RedisPublisher(RedisOptions options, const shm::TableView& table,
                 std::function<void(std::string)> notice);
  ~RedisPublisher();
  RedisPublisher(const RedisPublisher&) = delete;
  RedisPublisher& operator=(const RedisPublisher&) = delete;

  // A token's slot changed: its latest state goes out when Redis can take it.
  void book_changed(std::uint32_t slot);
  void trade(const TradeRecord& t);
  // Connects, writes what waits, reads replies. Never blocks. Returns the work done.
  std::size_t service(MonoNanos now);
  // Sends what it can for up to `budget_ns` (at shutdown).
  void drain(std::int64_t budget_ns);

  [[nodiscard]] const RedisStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
