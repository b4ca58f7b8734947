#pragma once
// The simulator's ground truth: what it sent to each connection (frames, bytes, event counts and
// a digest of every payload in order), every fault it injected and when, and the final books.
// Tests compare a recording against it; `booktape sim --truth FILE` writes it.
#include <array>
#include <deque>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/polymarket_events.hpp"
#include "codecs/sha256.hpp"
#include "core/clock.hpp"

namespace booktape {

// sha256 over every payload in order, each preceded by its length as 8 little-endian bytes, so
// the digest proves the exact sequence of frames and their boundaries.
class PayloadChain {
 public:
  void add(std::string_view payload) noexcept;
  [[nodiscard]] std::string hex() const;  // the digest so far; the chain can continue
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

 private:
  Sha256 sha_;
  std::uint64_t count_ = 0;
};

struct ConnectionTruth {
  std::uint64_t id = 0;
  std::string remote;
  UnixNanos opened_at = 0, closed_at = 0;
  std::string close_reason;           // why the simulator or the client ended it
  std::vector<std::string> assets;    // the subscription at the end
  bool custom_feature_enabled = false;
  std::uint64_t frames = 0;           // frames written to the socket (all kinds); a frame
                                      // only queued, or cut by a failed write, is not sent
  std::uint64_t frames_unsent = 0;    // queued, never (wholly) written: the connection ended
  std::uint64_t payload_bytes = 0;
  std::array<std::uint64_t, polymarket::kEventTypeCount> events{};  // market events by type
  std::uint64_t control_frames = 0;   // PONG and INVALID OPERATION replies
  std::uint64_t injected = 0;         // frames injected by faults (malformed, binary, ...)
  bool digest = true;
  PayloadChain chain;                 // over every frame sent (written), in order
};

struct FaultRecord {
  UnixNanos at = 0;
  std::string kind;
  std::string target;   // "all", a connection id, a token id, "rest", "tls"
  std::string detail;
};

struct SimTruth {
  std::uint64_t seed = 0;
  UnixNanos started_at = 0, written_at = 0;
  std::uint64_t frames_generated = 0;
  std::array<std::uint64_t, polymarket::kEventTypeCount> events_generated{};
  std::uint64_t rest_requests = 0, rest_throttled = 0, gamma_requests = 0;
  std::deque<ConnectionTruth> connections;   // closed and open, in opening order (stable addresses)
  std::vector<FaultRecord> faults;
  std::string books_json;                    // `booktape replay --dump-books` shape

  [[nodiscard]] std::string to_json();       // the whole truth (books included)
};

}  // namespace booktape
