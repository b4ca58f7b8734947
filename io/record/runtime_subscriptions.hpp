#pragma once
// Runtime subscriptions on the operator listener (docs/CONSUMERS.md, "Runtime subscriptions"):
//   POST   /subscriptions  {"token_ids":["...", ...]}  record these tokens too
//   DELETE /subscriptions  {"token_ids":["...", ...]}  stop recording these tokens
//   GET    /subscriptions                              what was added and removed at runtime
// A request is queued and answered 202 at once; the control thread takes the queue within a
// tick (50 ms) and applies it through the same subscription plan discovery uses, so a change
// reaches the websocket as a subscribe/unsubscribe operation and the archive as a `session`
// record with event `subscription` (docs/DATA_CONTRACT.md), like a market roll.
//
// Who may change them: only a client of a loopback listener (a public listener answers 403:
// anyone who can reach it could otherwise make the recorder subscribe to anything), and only a
// request that a web page cannot send: Content-Type application/json (a cross-site form or
// no-cors fetch cannot set it without a CORS preflight, which this listener never grants) and
// no Origin header (every browser sends one with a POST or DELETE; curl and scripts do not).
//
// The plan is the base (discovery's markets, or --asset) plus the tokens added here, minus
// those removed here: a removed discovery token stays out while its market is carried, and
// adding it again undoes the removal.
//
// Threads: the handlers on the listener's thread; take() and compose() on the control thread.
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "codecs/envelope.hpp"
#include "io/net/http_server.hpp"

namespace booktape {

class RuntimeSubscriptions {
 public:
  static constexpr std::size_t kMaxIdsPerRequest = 1000;
  static constexpr std::size_t kMaxAdded = 10000;  // tokens added (or removed) at runtime, in all
  static constexpr std::size_t kMaxIdBytes = 100;

  // `writable`: the listener is on a loopback address (else every change answers 403).
  explicit RuntimeSubscriptions(bool writable) : writable_(writable) {}

  // Registers the three routes on `server` (before it starts); this object must outlive the
  // server's thread.
  void add_to(HttpServer& server);

  [[nodiscard]] HttpReply change(const HttpRequest& r, bool add);
  [[nodiscard]] HttpReply list() const;

  // Control thread: applies the queued requests to the added/removed sets; true if they
  // changed (the plan must be composed again).
  bool take();
  // The plan's groups: `base` without the removed tokens, then each added token as its own
  // group.
  [[nodiscard]] std::vector<std::vector<TokenInfo>> compose(
      const std::vector<std::vector<TokenInfo>>& base) const;

 private:
  struct Request {
    bool add;
    std::vector<std::string> ids;
  };
  const bool writable_;
  mutable std::mutex mu_;  // cold: a request against the control thread's tick
  std::vector<Request> pending_;
  std::set<std::string> added_, removed_;  // written under mu_ by take(); read by list()
  std::size_t applied_ = 0, requests_ = 0;
};

// The token ids of a request body {"token_ids":[...]} (or "assets_ids", the venue's name);
// false and `why` when it is not that, or an id is not 1-100 letters and digits.
bool parse_token_ids(std::string_view body, std::vector<std::string>& ids, std::string& why);

}  // namespace booktape
