#pragma once
// A Redis subscriber on its own connection and thread (hiredis, blocking connect, then a poll
// loop): every message of the channels matching a pattern, in arrival order, kept or handed to
// a callback on arrival. For tests and the perf harness (no gtest in here): an independent
// client of the server the recorder publishes to.
#include <hiredis/hiredis.h>
#include <poll.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace booktape::testing {

class RedisSubscriber {
 public:
  struct Message {
    std::string channel, payload;
  };
  using OnMessage = std::function<void(std::string_view channel, std::string_view payload)>;

  // Without `on_message`, messages are kept for messages().
  RedisSubscriber(std::uint16_t port, const std::string& pattern, OnMessage on_message = {})
      : on_message_(std::move(on_message)) {
    timeval tv{5, 0};
    c_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c_ == nullptr || c_->err != 0) {
      if (c_ != nullptr) redisFree(c_);
      throw std::runtime_error("subscriber: cannot connect to redis");
    }
    auto* r = static_cast<redisReply*>(redisCommand(c_, "PSUBSCRIBE %s", pattern.c_str()));
    if (r != nullptr) freeReplyObject(r);
    thread_ = std::thread([this] { run(); });
  }
  ~RedisSubscriber() {
    stop_ = true;
    thread_.join();
    redisFree(c_);
  }
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  [[nodiscard]] std::vector<Message> messages() {
    const std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  [[nodiscard]] std::size_t count() {
    const std::lock_guard<std::mutex> lock(mu_);
    return messages_.size();
  }

 private:
  void run() {
    while (!stop_) {
      void* reply = nullptr;
      if (redisGetReplyFromReader(c_, &reply) != REDIS_OK) return;
      if (reply == nullptr) {
        // Nothing buffered: wait for bytes briefly, so the thread notices stop_.
        pollfd p{c_->fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if (redisBufferRead(c_) != REDIS_OK) return;  // the server went away
        continue;
      }
      auto* r = static_cast<redisReply*>(reply);
      if (r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
        const std::string_view channel(r->element[2]->str, r->element[2]->len);
        const std::string_view payload(r->element[3]->str, r->element[3]->len);
        if (on_message_) {
          on_message_(channel, payload);
        } else {
          const std::lock_guard<std::mutex> lock(mu_);
          messages_.push_back({std::string(channel), std::string(payload)});
        }
      }
      freeReplyObject(r);
    }
  }

  OnMessage on_message_;
  redisContext* c_ = nullptr;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Message> messages_;
  std::thread thread_;
};

}  // namespace booktape::testing
