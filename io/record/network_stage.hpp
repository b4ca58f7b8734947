#pragma once
// The recorder's network thread: every websocket connection to the market channel (Beast over
// Asio and OpenSSL), one per shard of at most `assets_per_connection` tokens.
//
// Per frame it only stamps (CLOCK_REALTIME and CLOCK_MONOTONIC_RAW the moment the read
// completes), copies the bytes once into the pipeline ring, and compares tiny control texts
// (PONG, INVALID OPERATION) by length and bytes: it never parses, logs, allocates per frame or
// touches disk. Liveness comes from data, not heartbeats: a connection that is subscribed but
// has carried no market frame for `stale_connection_seconds`, or whose PINGs went unanswered
// for `pong_timeout_seconds`, is replaced. Reconnects back off exponentially with jitter and
// resubscribe everything; every open, subscription change and close (with its reason) is a
// pipeline event, so the archive records it and the book stage marks books stale.
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/envelope.hpp"
#include "core/triple_buffer.hpp"
#include "core/wait_strategy.hpp"
#include "io/record/pipeline.hpp"

namespace booktape {

struct NetworkOptions {
  std::string url;                       // ws:// or wss://
  std::filesystem::path ca_file;         // empty: the system store
  std::string run_id;
  std::size_t max_frame_bytes = std::size_t{16} << 20;
  double ping_interval_seconds = 10;
  double pong_timeout_seconds = 30;
  double stale_connection_seconds = 30;
  double connect_timeout_seconds = 15;
  double connect_stagger_seconds = 0.25;
  double backoff_initial_seconds = 1;
  double backoff_max_seconds = 60;
  double backoff_reset_after_seconds = 60;
  bool custom_feature_enabled = true;
  // Publish every connection's health once a second (connections()), for the operator listener.
  bool publish_connections = false;
  // A stop unsubscribes, ends our side and reads what the venue still sends for this long;
  // bytes still unread then are named in a loss record (stop_unread).
  double stop_grace_seconds = 5;
};

// The tokens one connection should carry.
struct ShardPlan {
  std::vector<std::string> assets;
  std::vector<TokenInfo> tokens;   // discovery metadata, same order (may be empty)
};

// Why a connection ended, as counted (the log keeps the whole reason). Every kind but
// kNoAssets and kShutdown is followed by a reconnect.
enum class CloseKind : std::uint8_t {
  kConnectFailed = 0,  // DNS, TCP, TLS or the websocket handshake failed
  kStale,              // subscribed, but no market data for stale_connection_seconds
  kPongTimeout,        // no PONG for pong_timeout_seconds
  kRefusedOperation,   // the venue answered a subscription change with INVALID OPERATION
  kVenueClosed,        // the venue closed the websocket
  kConnectionLost,     // a read failed (reset, EOF)
  kOversizedFrame,     // a frame over max_frame_bytes
  kWriteFailed,
  kNoAssets,           // its markets all rolled off
  kShutdown,
  kCount
};
inline constexpr std::size_t kCloseKindCount = static_cast<std::size_t>(CloseKind::kCount);
const char* to_string(CloseKind k) noexcept;
// The kind of a close from its reason text (the texts network_stage.cpp writes).
CloseKind close_kind_of(std::string_view reason, bool was_live) noexcept;

// One connection ("shard": the slot a reconnect reuses) as the network thread last saw it.
struct ConnectionHealth {
  std::uint32_t shard = 0;
  bool up = false;                   // open and subscribed
  std::uint64_t connection = 0;      // the current connection's sequence number (0: none now)
  std::uint32_t assets = 0;          // tokens the shard should carry
  std::uint64_t frames = 0, bytes = 0;       // read on this shard since the start, all connections
  std::uint64_t connects = 0, closes = 0;    // connections that came up, connections that ended
  MonoNanos up_since = 0;            // when the current connection came up (0: down)
  MonoNanos last_data_mono = 0;      // last market frame on the current connection (0: none)
  std::string last_close;            // why the previous connection ended ("" if none did)
};
struct ConnectionsHealth {
  MonoNanos taken_mono = 0;
  std::vector<ConnectionHealth> shards;
};

// Counters any thread may read (relaxed).
struct NetworkStats {
  std::atomic<std::uint64_t> frames{0}, bytes{0}, pongs{0}, pings{0};
  std::atomic<std::uint64_t> connects{0}, disconnects{0}, connect_failures{0};
  std::atomic<std::uint64_t> stale_reconnects{0}, pong_timeouts{0}, invalid_operations{0};
  std::atomic<std::uint64_t> oversized_frames{0}, resubscribes{0};
  std::atomic<std::uint64_t> ring_full_waits{0}, ring_full_ns{0}, ring_high_water{0};
  std::atomic<std::uint32_t> live_connections{0}, shards{0};
  std::atomic<std::int64_t> last_frame_mono{0};
  // Connections ended, by why (reconnects: all but kNoAssets and kShutdown).
  std::array<std::atomic<std::uint64_t>, kCloseKindCount> closes_by_kind{};
};

class NetworkStage {
 public:
  NetworkStage(NetworkOptions options, PipelineRing& ring, PipelineBells& bells);
  ~NetworkStage();
  NetworkStage(const NetworkStage&) = delete;
  NetworkStage& operator=(const NetworkStage&) = delete;

  // Thread-safe. Sets what shard `shard` should carry (shards are created on demand). An open
  // connection changes its subscription with operations; a refusal falls back to a new
  // connection. An empty plan closes the shard's connection.
  void set_shard(std::size_t shard, ShardPlan plan);
  // Thread-safe. Unsubscribes and resubscribes one token on its shard (a silent token, or one
  // whose first book never came).
  void resubscribe(const std::string& token);

  // The network thread's loop; returns after stop() once every connection is closed.
  void run();
  // Thread-safe. Closes every connection ("shutdown"), then run() returns.
  void stop();

  [[nodiscard]] const NetworkStats& stats() const noexcept;
  // One reader thread only (the recorder's control thread): every connection's health as last
  // published (with publish_connections), and whether it is newer than the last call's.
  const ConnectionsHealth& connections(bool* fresh = nullptr);
  // Thread-safe: the next connection notice for the operator's log ("connection 3 closed:
  // stale ..., reconnecting in 1.2 s"), if any. Connection events only, never per frame.
  bool pop_notice(std::string& out);

  struct Impl;  // opaque; named so the .cpp's connection classes can refer to it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
