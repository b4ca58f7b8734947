// The operator listener's HTTP server on real loopback sockets: routing (exact, prefix, 404,
// 405), what a handler gets and returns, and the defences: header and body limits, a slow
// client cut off, a full house making room, a Host that is not loopback, a port in use.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "io/net/http_client.hpp"
#include "io/net/http_server.hpp"
#include "tests/support/loopback.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

// A raw client socket, for requests no well-behaved client sends.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  bool send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything until the server closes (or `limit`); `closed` says whether it did.
  std::string read_until_closed(std::chrono::milliseconds limit, bool* closed = nullptr) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed != nullptr) *closed = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    if (closed != nullptr) *closed = false;
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { opt.port = 0; }
  void start() {
    server = std::make_unique<HttpServer>(opt);
    server->route("GET", "/hello", [](const HttpRequest& r) {
      return HttpReply::text("hello " + r.query_param("name").value_or("nobody"));
    });
    server->route("POST", "/echo", [](const HttpRequest& r) {
      HttpReply reply = HttpReply::json(std::string(r.body), 201);
      reply.headers.emplace_back("X-Method", std::string(r.method));
      return reply;
    });
    server->route_prefix("GET", "/books/", [](const HttpRequest& r) {
      return HttpReply::text("book " + std::string(r.path.substr(7)));
    });
    server->route_prefix("GET", "/books/special/", [](const HttpRequest& r) {
      return HttpReply::text("special " + std::string(r.path.substr(15)));
    });
    server->route("GET", "/boom", [](const HttpRequest&) -> HttpReply {
      throw std::runtime_error("the handler failed");
    });
    server->listen();
    server->start();
    base = "http://127.0.0.1:" + std::to_string(server->port());
  }
  [[nodiscard]] HttpClientOptions client_options() const {
    HttpClientOptions o;
    o.base_url = base;
    o.timeout = 5s;
    return o;
  }
  HttpResponse get(const std::string& target) {
    HttpClient c(client_options());
    return c.get(target);
  }

  HttpServerOptions opt;
  std::unique_ptr<HttpServer> server;
  std::string base;
};

TEST_F(HttpServerTest, RoutesExactAndLongestPrefixAndDecodesTheQuery) {
  start();
  HttpResponse r = get("/hello?x=1&name=big%20bird&y");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello big bird");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(get("/hello").body, "hello nobody");
  EXPECT_EQ(get("/books/123").body, "book 123");
  EXPECT_EQ(get("/books/special/7").body, "special 7");
  EXPECT_EQ(server->stats().requests.load(), 4u);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  start();
  HttpResponse r = get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_NE(r.body.find("no such path: /nope"), std::string::npos);
  EXPECT_EQ(get("/hello/more").status, 404);  // an exact route is not a prefix

  r = get("/echo");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "POST");
  HttpClient c(client_options());
  r = c.post_json("/hello", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET");
  EXPECT_GE(server->stats().refused.load(), 3u);
}

TEST_F(HttpServerTest, AHandlerGetsTheBodyAndSetsStatusTypeAndHeaders) {
  start();
  HttpClient c(client_options());
  const HttpResponse r = c.post_json("/echo", R"({"tokens":["1","2"]})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"tokens":["1","2"]})");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("X-Method"), "POST");
}

TEST_F(HttpServerTest, AHandlerThatThrowsAnswers500AndTheServerGoesOn) {
  start();
  const HttpResponse r = get("/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("the handler failed"), std::string::npos);
  EXPECT_EQ(server->stats().handler_errors.load(), 1u);
  EXPECT_EQ(get("/hello").status, 200);
}

TEST_F(HttpServerTest, KeepsAConnectionAliveForSeveralRequests) {
  start();
  HttpClient c(client_options());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.get("/hello").status, 200);
  EXPECT_EQ(server->stats().connections.load(), 1u);
}

TEST_F(HttpServerTest, OversizedHeadersAre431AndAnOversizedBodyIs413BeforeItIsSent) {
  opt.max_header_bytes = 1024;
  opt.max_body_bytes = 100;
  start();
  {
    RawClient c(server->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(
        "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
    bool closed = false;
    const std::string answer = c.read_until_closed(10s, &closed);
    EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;
    EXPECT_TRUE(closed);
  }
  {
    // The body is announced, never sent: the refusal comes from the headers alone.
    RawClient c(server->port());
    ASSERT_TRUE(
        c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n"));
    bool closed = false;
    const std::string answer = c.read_until_closed(10s, &closed);
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
    EXPECT_TRUE(closed);
  }
  {
    RawClient c(server->port());
    ASSERT_TRUE(c.send("NOT HTTP AT ALL\r\n\r\n"));
    const std::string answer = c.read_until_closed(10s);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  }
  EXPECT_EQ(get("/hello").status, 200);  // the server is unharmed
}

TEST_F(HttpServerTest, ASlowClientIsCutOffAndOthersAreServedMeanwhile) {
  opt.request_timeout = 1s;
  start();
  RawClient slow(server->port());
  ASSERT_TRUE(slow.connected());
  // A slowloris: a byte of the request line every 100 ms, never finishing.
  const std::string line = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ";
  bool cut = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; std::chrono::steady_clock::now() - t0 < 30s; ++i) {
    if (!slow.send(std::string(1, i < line.size() ? line[i] : 'a'))) {
      cut = true;
      break;
    }
    bool closed = false;
    (void)slow.read_until_closed(100ms, &closed);
    if (closed) {
      cut = true;
      break;
    }
    if (i == 3) {
      EXPECT_EQ(get("/hello").status, 200);  // served while the slow one trickles
    }
  }
  EXPECT_TRUE(cut) << "a client sending a byte every 100 ms was never cut off";
  // Beast's timer closes the socket before the read's handler counts the timeout.
  for (int i = 0; i < 500 && server->stats().timeouts.load() == 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server->stats().timeouts.load(), 1u);
}

TEST_F(HttpServerTest, AFullHouseClosesTheClientThatWaitedLongest) {
  opt.max_connections = 4;
  opt.request_timeout = 60s;  // only eviction can free a slot here
  start();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawClient>(server->port()));
    ASSERT_TRUE(idle.back()->connected());
    ASSERT_TRUE(idle.back()->send("GET /hel"));  // half a request, then nothing
  }
  // Each new client evicts the connection that has waited longest for a request: first the
  // half-requests, then the earlier clients idling on keep-alive. All are served.
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<HttpClient>(client_options()));
    EXPECT_EQ(clients.back()->get("/hello").status, 200);
  }
  EXPECT_EQ(server->stats().evicted.load(), 6u);
  bool closed = false;
  (void)idle.front()->read_until_closed(5s, &closed);
  EXPECT_TRUE(closed) << "the oldest idle connection should have been closed";
  EXPECT_LE(server->stats().open.load(), 4u);
}

TEST_F(HttpServerTest, ALoopbackListenerRefusesARequestForAnotherHost) {
  start();
  RawClient c(server->port());
  ASSERT_TRUE(
      c.send("GET /hello HTTP/1.1\r\nHost: attacker.example:80\r\nConnection: close\r\n\r\n"));
  const std::string answer = c.read_until_closed(10s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 403", 0), 0u) << answer;
  for (const char* host : {"localhost", "127.0.0.1:9", "[::1]:80", "127.1.2.3"}) {
    RawClient ok(server->port());
    ASSERT_TRUE(ok.send(std::string("GET /hello HTTP/1.1\r\nHost: ") + host +
                        "\r\nConnection: close\r\n\r\n"));
    const std::string a = ok.read_until_closed(10s);
    EXPECT_EQ(a.rfind("HTTP/1.1 200", 0), 0u) << host << ": " << a;
  }
}

TEST_F(HttpServerTest, APortInUseIsAnErrorNamingTheAddress) {
  std::uint16_t port = 0;
  const int fd = testing::listen_loopback(port);
  HttpServerOptions o;
  o.port = port;
  HttpServer s(o);
  try {
    s.listen();
    FAIL() << "listening on a port in use succeeded";
  } catch (const HttpServerError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
    EXPECT_NE(what.find("in use"), std::string::npos) << what;
  }
  ::close(fd);
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndReturns) {
  start();
  RawClient c(server->port());
  ASSERT_TRUE(c.send("GET /hel"));
  server->stop();
  bool closed = false;
  (void)c.read_until_closed(5s, &closed);
  EXPECT_TRUE(closed);
  server->stop();  // idempotent
}

TEST(ListenAddress, ParsesHostAndPortAndKnowsLoopback) {
  std::string host;
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_listen_address("127.0.0.1:9100", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9100);
  ASSERT_TRUE(parse_listen_address("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(parse_listen_address("localhost:80", host, port));
  ASSERT_TRUE(parse_listen_address("0.0.0.0:9100", host, port));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.1.2.3"));
  EXPECT_TRUE(is_loopback_host("127.0.0.2"));
  EXPECT_TRUE(is_loopback_host("::1"));
  for (const char* bad : {"", "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "example.com:80", "::1:80", "[::1]80", "1.2.3:4", "127.0.0.1:80x"}) {
    EXPECT_FALSE(parse_listen_address(bad, host, port)) << bad;
  }
}

}  // namespace
}  // namespace booktape
