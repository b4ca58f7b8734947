#pragma once
// When an archive's connections were up, from its file and session records
// (docs/DATA_CONTRACT.md): each connection from its `open` to its `close`; one with no close
// record (the run was killed) up to its run's last frame. `merge` uses it for the times no
// recorder covered, the soak report for uptime and connection losses.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "codecs/envelope.hpp"
#include "core/clock.hpp"

namespace booktape {

struct TimeInterval {
  UnixNanos from = 0, to = 0;
};

// Sorted and merged: overlapping or touching intervals become one.
std::vector<TimeInterval> union_of(std::vector<TimeInterval> v);

struct Connection {
  std::string session_id, run_id;
  UnixNanos open = 0;
  UnixNanos close = 0;  // the close record's time, or the run's last frame (closed == false)
  bool closed = false;  // a close record was found
  std::string reason;   // the close record's reason ("shutdown" for a graceful stop)
};

class ConnectionTracker {
 public:
  // Feed every record line and every frame of an archive, in archive order.
  void on_record(std::string_view line);
  void on_frame(std::string_view run_id, UnixNanos received);

  [[nodiscard]] std::vector<Connection> connections() const;
  // Runs in the order their first file record came, with that record's opened_at time.
  [[nodiscard]] const std::vector<std::pair<std::string, UnixNanos>>& runs() const noexcept {
    return runs_;
  }
  // Every asset a session subscribed to, and the tokens its records described.
  [[nodiscard]] const std::set<std::string>& assets() const noexcept { return assets_; }
  [[nodiscard]] const std::map<std::string, TokenInfo>& tokens() const noexcept { return tokens_; }

 private:
  simdjson::dom::parser parser_;
  std::string run_;
  std::vector<std::pair<std::string, UnixNanos>> runs_;
  std::map<std::string, Connection> by_session_;
  std::map<std::string, UnixNanos> last_frame_;  // by run
  std::set<std::string> assets_;
  std::map<std::string, TokenInfo> tokens_;
};

}  // namespace booktape
