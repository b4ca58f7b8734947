#pragma once
// What the control thread does about a token that gets no book (docs/RECORD.md, "Connections"):
// the book stage reports it every initial_book_timeout; the first report resubscribes it at
// once, later ones less and less often (the wait doubles, up to 5 minutes), and from the third
// try on the venue is asked (REST GET /book?token_id=): a 404 makes the token unknown, which is
// logged and counted once and never resubscribed again (was: every 2 s, forever, unsaid).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"

namespace booktape {

class BooklessTokens {
 public:
  enum class Action : std::uint8_t {
    kResubscribe,  // do it now
    kAskVenue,     // ask REST whether the venue knows it (then mark_unknown or resubscribe)
    kWait,         // backing off: not yet
    kIgnore,       // known to be unknown to the venue
  };
  static constexpr int kAskAfter = 3;  // tries before the venue is asked

  explicit BooklessTokens(double base_seconds) : base_ns_(secs(base_seconds)) {}

  Action on_report(const std::string& token, MonoNanos now);
  void mark_unknown(const std::string& token);
  [[nodiscard]] std::uint64_t unknown_count() const noexcept { return unknown_; }
  [[nodiscard]] std::vector<std::string> unknown_tokens() const;

 private:
  static std::int64_t secs(double s) { return static_cast<std::int64_t>(s * 1e9); }
  struct State {
    int tries = 0;
    MonoNanos next = 0;  // not before this
    bool unknown = false;
  };
  std::int64_t base_ns_;
  std::unordered_map<std::string, State> tokens_;
  std::uint64_t unknown_ = 0;
};

}  // namespace booktape
