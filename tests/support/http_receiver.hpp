#pragma once
// A real HTTP/1.1 receiver on 127.0.0.1 for the length of a test (or a perf run: no gtest in
// here): it records every request's body with its arrival time and answers 200 (keeping the
// connection), or, hanging, never answers at all (a webhook that hangs).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"

namespace booktape::testing {

class HttpReceiver {
 public:
  struct Request {
    std::string head, body;
    std::int64_t arrived_ns = 0;  // UTC, when its last byte was read
  };

  explicit HttpReceiver(bool hang = false) : hang_(hang) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("HttpReceiver: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~HttpReceiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  [[nodiscard]] std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  [[nodiscard]] std::vector<Request> requests() {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  [[nodiscard]] std::size_t count() {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

 private:
  // Waits up to 100 ms for `fd` to be readable (so the thread notices stop_).
  static bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 100) > 0;
  }

  void serve(int fd) {
    std::string buf;
    while (!stop_) {
      const std::size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t cl = buf.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(buf.substr(cl + 16));
        if (buf.size() >= end + 4 + length) {
          Request r{buf.substr(0, end), buf.substr(end + 4, length), realtime_now()};
          buf.erase(0, end + 4 + length);
          {
            const std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(std::move(r));
          }
          if (!hang_) {
            static constexpr char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            if (::send(fd, kOk, sizeof kOk - 1, MSG_NOSIGNAL) < 0) return;
          }
          continue;
        }
      }
      if (!readable(fd)) continue;
      char tmp[4096];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }

  void run() {
    while (!stop_) {
      if (!readable(listen_fd_)) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }

  bool hang_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace booktape::testing
