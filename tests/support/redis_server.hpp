#pragma once
// A real `redis-server` (Debian's) for the length of a test: on 127.0.0.1 at a free port, no
// persistence, logging to a file in its own directory. kill() and start() again on the same
// port play a Redis that dies and comes back. Fails the test loudly when redis-server is not
// installed (scripts/install-deps.sh installs it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/loopback.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_subscriber.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape::testing {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";

class RedisServer {
 public:
  // `extra`: more redis-server options ("--requirepass", "secret").
  explicit RedisServer(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    port_ = dead_port();
    start();
  }
  ~RedisServer() { kill(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // Starts it (again, on the same port) and waits until it answers PING.
  void start() {
    if (::access(kRedisServer, X_OK) != 0) {
      ADD_FAILURE() << kRedisServer << " is missing: run scripts/install-deps.sh (redis-server)";
      return;
    }
    std::vector<std::string> argv = {kRedisServer,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.path().string(),
                                     "--logfile",
                                     (dir_.path() / "redis.log").string()};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    child_ = std::make_unique<Child>(argv);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (answers()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "redis-server did not come up on port " << port_;
  }

  // SIGKILL: no goodbye to its clients, everything in memory lost.
  void kill() {
    if (!child_) return;
    child_->signal(SIGKILL);
    child_->wait(std::chrono::seconds(10));
    child_.reset();
  }

  // SIGSTOP / SIGCONT: a Redis that stops reading (its socket buffers fill), then resumes.
  void pause() { child_->signal(SIGSTOP); }
  void resume() { child_->signal(SIGCONT); }

  // A blocking hiredis connection for the test's own commands (an independent client).
  [[nodiscard]] std::unique_ptr<redisContext, void (*)(redisContext*)> client() const {
    timeval tv{5, 0};
    return {redisConnectWithTimeout("127.0.0.1", port_, tv), redisFree};
  }

 private:
  bool answers() const {
    auto c = client();
    if (!c || c->err) return false;
    auto* r = static_cast<redisReply*>(redisCommand(c.get(), "PING"));
    const bool ok = r != nullptr && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR);
    if (r != nullptr) freeReplyObject(r);
    return ok;
  }

  std::vector<std::string> extra_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Child> child_;
};

// A command on a blocking connection; the reply as text ("" for nil), or an integer as text.
inline std::string redis_call(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (r == nullptr) return "<no reply>";
  std::string out;
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR)
    out.assign(r->str, r->len);
  else if (r->type == REDIS_REPLY_INTEGER)
    out = std::to_string(r->integer);
  freeReplyObject(r);
  return out;
}

}  // namespace booktape::testing
