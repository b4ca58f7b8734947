#pragma once
// A small HTTP/1.1 server (Beast) for the operator listener (`record --http HOST:PORT`): the
// recorder serves /metrics, /status and its status page on it, and the consumers add their
// book API. It runs on its own thread, far from the hot path: handlers read counters and
// published snapshots, never a stage's own state.
//
// Registering handlers (before start(); the routes are fixed once the server runs, so the
// server thread reads them without a lock):
//
//   HttpServer server(options);
//   server.listen();                                   // binds now: throws HttpServerError
//   server.route("GET", "/status", [&](const HttpRequest& r) {
//     return HttpReply::json(make_status_json());
//   });
//   server.route_prefix("GET", "/books/", [&](const HttpRequest& r) {
//     const std::string_view id = r.path.substr(7);   // what follows the prefix
//     ...
//     return HttpReply::not_found("no book for asset " + std::string(id));
//   });
//   server.start();                                    // its thread; handlers run there
//   ...
//   server.stop();                                     // closes every connection, joins
//
// A handler gets the method, the raw target, its path and query (query_param() decodes one
// value) and the body (at most max_body_bytes; larger requests are refused with 413 before any
// handler runs). It returns the status, the content type and the body (plus any extra headers).
// Handlers run one at a time on the server's thread, so they must not block: no waiting on a
// stage, no disk or network I/O beyond what is instant (reading /proc is fine); a handler that
// throws answers 500 with the exception's text. The handler's strings are copied before it
// returns: it may build them from anything alive during the call.
//
// Matching: an exact route first, then the longest matching prefix route. No route for the path:
// 404. A route for the path but not for the method: 405 with an Allow header.
//
// Defences: the whole request (headers and body) must arrive within request_timeout (a client
// sending a byte a second is cut off); headers are capped at max_header_bytes (431) and bodies at
// max_body_bytes (413); a response must be taken within write_timeout. At max_connections, a
// new connection closes the one that has waited longest for its request (a slow or idle one),
// so slow clients cannot hold every slot. A listener on a loopback address answers only
// requests whose Host names a loopback host (localhost, 127.x.x.x, [::1]): a web page cannot
// reach it through DNS rebinding.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "io/net/listen_address.hpp"
#include <vector>

namespace booktape {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address, or "localhost"
  std::uint16_t port = 0;          // 0: the kernel picks one (port() tells which)
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds request_timeout{5'000};  // for one whole request, idle time included
  std::chrono::milliseconds write_timeout{10'000};   // for one whole response
  std::size_t max_connections = 64;
};

struct HttpRequest {
  std::string_view method;  // "GET", as sent
  std::string_view target;  // "/books/12?depth=5", as sent
  std::string_view path;    // "/books/12" (not percent-decoded)
  std::string_view query;   // "depth=5" (no '?'; empty if none)
  std::string_view body;    // at most max_body_bytes
  std::string_view content_type;  // the Content-Type header, as sent ("" if none)
  std::string_view origin;        // the Origin header ("" if none: not sent by a browser page)
  // The percent-decoded value of `key` in the query ("a=1&b=x%20y"); a key with no '=' is "".
  [[nodiscard]] std::optional<std::string> query_param(std::string_view key) const;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Cache-Control

  static HttpReply text(std::string body, int status = 200);
  static HttpReply json(std::string body, int status = 200);
  // A JSON error body {"error": "..."}.
  static HttpReply error(int status, std::string_view message);
  static HttpReply not_found(std::string_view message) { return error(404, message); }
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

// The listener cannot be set up (a bad address, a port in use); what() says which and why.
struct HttpServerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Counters any thread may read (relaxed).
struct HttpServerStats {
  std::atomic<std::uint64_t> connections{0};  // accepted
  std::atomic<std::uint64_t> requests{0};     // answered by a handler (any status)
  std::atomic<std::uint64_t> refused{0};   // answered by the server: 400, 403, 404, 405, 413, 431
  std::atomic<std::uint64_t> timeouts{0};  // cut off by request_timeout or write_timeout
  std::atomic<std::uint64_t> evicted{0};   // closed to make room at max_connections
  std::atomic<std::uint64_t> handler_errors{0};  // handlers that threw (answered 500)
  std::atomic<std::uint32_t> open{0};            // connections now
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before start(). `path` must start with '/'. A second route for the same method and path
  // replaces the first.
  void route(std::string method, std::string path, HttpHandler handler);
  void route_prefix(std::string method, std::string prefix, HttpHandler handler);

  // Binds and listens; throws HttpServerError ("cannot listen on 127.0.0.1:9100: Address
  // already in use").
  void listen();
  // Serves on a thread of its own (listen() first).
  void start();
  // Closes the listener and every connection, then joins the thread. Idempotent.
  void stop();

  // The bound port (after listen()).
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] const HttpServerOptions& options() const noexcept;
  [[nodiscard]] const HttpServerStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};


}  // namespace booktape
