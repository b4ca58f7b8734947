#pragma once
// `booktape sim`: a local stand-in for Polymarket on one port (127.0.0.1 by default), plain or
// TLS, speaking what the protocol note describes (docs/SIM.md):
//   /ws/market                 the market channel (subscribe, operations, PING/PONG, dumps)
//   GET /book, POST /books     CLOB REST book summaries, consistent with the stream
//   GET /markets, /events      Gamma (and their /keyset forms), listing the rolling up/down
//                              markets and an optional catalogue of the venue's size
//   /control/...               faults on command, status, truth (loopback tooling)
// Traffic comes from the seeded generator (io/sim/polymarket_market_gen.hpp) or from a replay
// of recorded frames. Everything runs on the thread that calls run().
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/sim/pace.hpp"
#include "io/sim/polymarket_market_gen.hpp"

namespace booktape {

// One fault to inject (docs/SIM.md lists the kinds).
struct FaultSpec {
  std::string kind;             // drop, close, stall, stall_silent, unstall, malformed, binary,
                                // oversized, unknown_event, duplicate, reorder, omit_book,
                                // rest_429, rest_500, rest_slow, rest_alter, tls_fail,
                                // refuse_operation, gamma_slow, gamma_429
  std::string target = "all";   // "all" or a connection id (websocket faults)
  std::uint64_t count = 1;      // how many (REST, TLS, refuse_operation: the next N requests)
  std::uint64_t bytes = 0;      // oversized: payload size
  std::int64_t ms = 0;          // rest_slow: delay
  std::string token;            // omit_book: the token id ("next": the next subscribed token)
};

struct ScheduledFault {
  std::int64_t after_ns = 0;    // since the first subscription
  FaultSpec spec;
};

// Parses "kind@seconds[:arg]" (arg: a count, byte size, ms or token depending on the kind).
bool parse_scheduled_fault(std::string_view text, ScheduledFault& out, std::string& error);

struct SimServerOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;                 // 0: a free port (see SimServer::port())
  bool tls = false;
  std::filesystem::path tls_dir;          // where the generated CA and certificate go
  std::filesystem::path tls_cert, tls_key;  // use these instead of generating (PEM)
  polymarket::SimOptions market;
  double rate = 1000;                     // frames per second; 0: as fast as possible
  std::uint32_t burst = 1;                // frames sent back to back per tick at `rate`
  Pace pace = Pace::kSteady;              // kPoisson: one frame per write at random gaps
                                          // (needs rate > 0; not for replays)
  std::uint64_t max_frames = 0;           // stop generating after this many (0: never)
  std::int64_t duration_ns = 0;           // stop generating after this long (0: never)
  std::size_t pregenerate = 0;            // build this many frames first, then send them over
                                          // and over without per-frame generation (throughput
                                          // tests; the truth's books are then meaningless)
  bool wait_for_subscriber = true;        // generate nothing until a connection subscribed
  std::size_t assets_per_connection = 500;  // beyond it: no data for the extra assets
  std::size_t max_client_message = std::size_t{1} << 20;
  std::uint32_t rest_limit_per_10s = 0;   // 0: no limit; else 429 past it
  // Gamma: a catalogue of this many extra markets (io/sim/gamma_catalogue.hpp), and a rate
  // limit (0: none; else 429 past it).
  std::size_t gamma_markets = 0;
  std::uint32_t gamma_limit_per_10s = 0;
  bool digest = true;                     // payload chain digests in the truth (costs CPU)
  std::vector<std::filesystem::path> replay;  // send these recorded frames instead
  double replay_speed = 0;                // 0: as fast as possible, 1: recorded pace, x: x times
  std::vector<ScheduledFault> faults;
};

class SimServer {
 public:
  explicit SimServer(SimServerOptions options);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds and listens (throws std::runtime_error saying what failed). Generates the TLS
  // certificates if needed.
  void start();
  // Serves until stop(). Call from the thread that owns the simulator.
  void run();
  // Thread-safe. Closes every connection and makes run() return.
  void stop();

  [[nodiscard]] std::uint16_t port() const;
  // "ws://127.0.0.1:PORT/ws/market" or wss://localhost:PORT/ws/market
  [[nodiscard]] std::string ws_url() const;
  // "http(s)://HOST:PORT" (CLOB REST and Gamma both live here)
  [[nodiscard]] std::string http_url() const;
  // The CA a client must trust for wss:// (empty when plain or given certificates).
  [[nodiscard]] std::filesystem::path ca_file() const;

  // Thread-safe: run on the simulator's thread and wait for the result.
  [[nodiscard]] std::string truth_json();
  [[nodiscard]] std::string books_json();
  bool inject(const FaultSpec& fault, std::string& error);
  // Frames generated so far (thread-safe, approximate while running).
  [[nodiscard]] std::uint64_t frames_generated() const;

  // Called on the simulator's thread once generation stopped (max_frames/duration) and every
  // queued frame was written.
  std::function<void()> on_generation_done;

  struct Impl;  // opaque; named here only so the .cpp's session classes can refer to it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
