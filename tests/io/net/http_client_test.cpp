// The blocking HTTP client against servers played by hand on loopback: what it retries, and
// that a timeout is one deadline per request.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "io/net/http_client.hpp"
#include "tests/support/loopback.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

// Answers the first request of its first connection (keep-alive), then reads every request
// that comes and answers none: a venue that hangs mid-session. Counts the requests.
class AnswersOnceServer {
 public:
  // `partial`: later requests get the first bytes of an answer, then nothing.
  explicit AnswersOnceServer(bool partial = false)
      : partial_(partial), fd_(testing::listen_loopback(port_)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~AnswersOnceServer() {
    stop_ = true;
    thread_.join();
    for (int c : conns_) ::close(c);
    ::close(fd_);
  }
  AnswersOnceServer(const AnswersOnceServer&) = delete;
  AnswersOnceServer& operator=(const AnswersOnceServer&) = delete;
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int requests() const { return requests_.load(); }

 private:
  void serve() {
    std::string pending;
    while (!stop_) {
      std::vector<pollfd> fds{{fd_, POLLIN, 0}};
      for (int c : conns_) fds.push_back({c, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) conns_.push_back(c);
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        char buf[4096];
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) continue;
        // One request per read is enough here: small requests, one at a time.
        if (requests_.fetch_add(1) == 0) {
          const std::string ok =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]";
          EXPECT_GT(::write(fds[i].fd, ok.data(), ok.size()), 0);
        } else if (partial_) {  // the start of an answer that never ends
          const std::string head =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[";
          EXPECT_GT(::write(fds[i].fd, head.data(), head.size()), 0);
        }
      }
    }
  }

  bool partial_ = false;
  std::uint16_t port_ = 0;  // before fd_: listen_loopback sets it while fd_ is initialised
  int fd_ = -1;
  std::vector<int> conns_;
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(HttpClient, ATimedOutRequestIsNotSentAgain) {
  AnswersOnceServer server;
  HttpClientOptions o;
  o.base_url = server.url();
  o.timeout = 400ms;
  HttpClient client(o);
  EXPECT_EQ(client.post_json("/books", "[]").status, 200);
  // The server hangs now. A POST the server may have acted on is not repeated on a fresh
  // connection (was: a retry, a second request and twice the timeout).
  try {
    client.post_json("/books", "[]");
    ADD_FAILURE() << "no answer came, yet the request succeeded";
  } catch (const HttpError& e) {
    EXPECT_NE(std::string(e.what()).find("within 400 ms"), std::string::npos) << e.what();
  }
  std::this_thread::sleep_for(100ms);  // a retry, if any, would have arrived by now
  EXPECT_EQ(server.requests(), 2);
}

// Giving up while an answer is half read (a timeout here; a stop's cancel takes the same way):
// the cancelled read completes before its stream goes (it used to be destroyed first, a crash
// of a stopping recorder, and under ASan a use after free), and the client stays usable.
TEST(HttpClient, GivingUpInTheMiddleOfAnAnswerIsClean) {
  AnswersOnceServer server(/*partial=*/true);
  std::atomic<bool> cancel{false};
  HttpClientOptions o;
  o.base_url = server.url();
  o.timeout = 300ms;
  o.cancel = &cancel;
  HttpClient client(o);
  EXPECT_EQ(client.post_json("/books", "[]").status, 200);
  EXPECT_THROW(client.post_json("/books", "[]"), HttpError);  // timed out mid-answer
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    cancel = true;
  });
  try {
    client.post_json("/books", "[]");  // a fresh connection, half an answer, then a stop
    ADD_FAILURE() << "no whole answer came, yet the request succeeded";
  } catch (const HttpError& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
  }
  stopper.join();
}

}  // namespace
}  // namespace booktape
