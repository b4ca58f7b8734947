#include "io/net/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <list>
#include <thread>

#include "codecs/envelope.hpp"
#include "codecs/query_string.hpp"
#include "core/thread_util.hpp"

namespace booktape {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------- small pieces ---

namespace {

bool loopback_host_header(std::string_view host) {
  // Host: name[:port], [v6]:port or v6 without brackets (not valid, but harmless to accept).
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    const std::size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    name = name.substr(1, close - 1);
  } else if (name.find(':') != name.rfind(':')) {
    // several colons: a bare IPv6 address
  } else {
    name = name.substr(0, name.find(':'));
  }
  return is_loopback_host(name);
}

}  // namespace

std::optional<std::string> HttpRequest::query_param(std::string_view key) const {
  for (auto& [k, v] : parse_query_string(query))
    if (k == key) return std::move(v);
  return std::nullopt;
}

HttpReply HttpReply::text(std::string body, int status) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpReply HttpReply::json(std::string body, int status) {
  HttpReply r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpReply HttpReply::error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  body += "}\n";
  return json(std::move(body), status);
}


// ---------------------------------------------------------------------------- the server -----

namespace {
struct Route {
  std::string method;
  std::string path;
  bool prefix = false;
  HttpHandler handler;
};
}  // namespace

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : opt(std::move(o)) {}

  void accept();
  HttpReply dispatch(const http::request<http::string_body>& req, bool& from_handler);
  class Session;

  HttpServerOptions opt;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::vector<Route> routes;     // fixed once the thread runs
  std::list<Session*> sessions;  // the server thread's; each session removes itself
  HttpServerStats stats;
  std::thread thread;
  bool loopback = true;
  bool started = false;
  bool stopped = false;
};

// One connection: read a request, answer it, and again while the client keeps it alive.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {
    where_ = server_.sessions.insert(server_.sessions.end(), this);
    server_.stats.open.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() {
    server_.sessions.erase(where_);
    server_.stats.open.fetch_sub(1, std::memory_order_relaxed);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void read() {
    reading_ = true;
    reading_since_ = std::chrono::steady_clock::now();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.opt.max_header_bytes));
    parser_->body_limit(server_.opt.max_body_bytes);
    stream_.expires_after(server_.opt.request_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void close() {
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  [[nodiscard]] bool reading() const noexcept { return reading_; }
  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] std::chrono::steady_clock::time_point reading_since() const noexcept {
    return reading_since_;
  }

 private:
  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec == beast::error::timeout) {
      server_.stats.timeouts.fetch_add(1, std::memory_order_relaxed);
      return close();
    }
    if (ec == http::error::body_limit)
      return refuse(413, "the request body is larger than " +
                             std::to_string(server_.opt.max_body_bytes) + " bytes");
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return refuse(431, "the request headers are larger than " +
                             std::to_string(server_.opt.max_header_bytes) + " bytes");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) return close();
    if (ec) {
      // A malformed request: say so if the socket still takes it, then close.
      if (parser_->got_some()) return refuse(400, "malformed HTTP request: " + ec.message());
      return close();
    }
    const http::request<http::string_body>& req = parser_->get();
    bool from_handler = false;
    HttpReply reply = server_.dispatch(req, from_handler);
    (from_handler ? server_.stats.requests : server_.stats.refused)
        .fetch_add(1, std::memory_order_relaxed);
    write(std::move(reply), req.keep_alive(), req.version());
  }

  // The server answers by itself and closes: what is left of the request is not read.
  void refuse(int status, const std::string& why) {
    server_.stats.refused.fetch_add(1, std::memory_order_relaxed);
    write(HttpReply::error(status, why), false, 11);
  }

  void write(HttpReply reply, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(reply.status));
    res->set(http::field::server, "booktape");
    res->set(http::field::content_type, reply.content_type);
    // Live numbers: never from a cache. And no content sniffing of text or JSON.
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : reply.headers) res->set(k, v);
    res->body() = std::move(reply.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(server_.opt.write_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        self->on_write(ec, res->keep_alive());
                      });
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    if (ec == beast::error::timeout) server_.stats.timeouts.fetch_add(1, std::memory_order_relaxed);
    if (ec || !keep_alive) return close();
    read();
  }

  Impl& server_;
  beast::tcp_stream stream_;
  // Bounded: a request cannot grow it past the header and body limits.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::list<Session*>::iterator where_;
  bool reading_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point reading_since_{};
};

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      stats.connections.fetch_add(1, std::memory_order_relaxed);
      std::size_t open = 0;
      Session* oldest = nullptr;
      for (Session* s : sessions) {
        if (s->closed()) continue;  // goes as soon as its handler runs
        ++open;
        if (s->reading() && (oldest == nullptr || s->reading_since() < oldest->reading_since()))
          oldest = s;
      }
      if (open >= opt.max_connections && oldest != nullptr) {
        // Make room: the connection that has waited longest for its request goes (a slowloris,
        // or an idle keep-alive); one busy writing an answer is left alone.
        oldest->close();
        stats.evicted.fetch_add(1, std::memory_order_relaxed);
        --open;
      }
      if (open < opt.max_connections) {
        std::make_shared<Session>(*this, std::move(socket))->read();
      } else {
        // Every slot is writing an answer: this one is refused (closed unread).
        stats.evicted.fetch_add(1, std::memory_order_relaxed);
      }
    }
    accept();
  });
}

HttpReply HttpServer::Impl::dispatch(const http::request<http::string_body>& req,
                                     bool& from_handler) {
  from_handler = false;
  if (loopback) {
    const auto host = req.find(http::field::host);
    if (host != req.end() && !loopback_host_header(host->value())) {
      return HttpReply::error(403,
                              "this listener is on a loopback address and answers only "
                              "requests for localhost, 127.x.x.x or [::1] (Host: " +
                                  std::string(host->value()) + ")");
    }
  }
  HttpRequest r;
  r.method = req.method_string();
  r.target = req.target();
  const std::size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  r.query = q == std::string_view::npos ? std::string_view() : r.target.substr(q + 1);
  r.body = req.body();
  if (const auto ct = req.find(http::field::content_type); ct != req.end())
    r.content_type = ct->value();
  if (const auto o = req.find(http::field::origin); o != req.end()) r.origin = o->value();

  const Route* found = nullptr;
  std::string allow;
  // Exact routes first, then the longest prefix.
  for (const Route& rt : routes) {
    if (rt.prefix || rt.path != r.path) continue;
    if (rt.method == r.method) found = &rt;
    allow += (allow.empty() ? "" : ", ") + rt.method;
  }
  if (found == nullptr && allow.empty()) {
    std::size_t best = 0;
    for (const Route& rt : routes) {
      if (!rt.prefix || !r.path.starts_with(rt.path) || rt.path.size() < best) continue;
      if (rt.path.size() > best) allow.clear();
      best = rt.path.size();
      if (rt.method == r.method) found = &rt;
      allow += (allow.empty() ? "" : ", ") + rt.method;
    }
  }
  if (found == nullptr) {
    if (allow.empty()) return HttpReply::not_found("no such path: " + std::string(r.path));
    HttpReply reply = HttpReply::error(405, std::string(r.method) + " is not allowed on " +
                                                std::string(r.path) + " (allowed: " + allow + ")");
    reply.headers.emplace_back("Allow", allow);
    return reply;
  }
  from_handler = true;
  try {
    return found->handler(r);
  } catch (const std::exception& e) {
    stats.handler_errors.fetch_add(1, std::memory_order_relaxed);
    return HttpReply::error(500, e.what());
  }
}

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  if (impl_->started) throw std::logic_error("HttpServer::route after start()");
  auto& routes = impl_->routes;
  std::erase_if(routes,
                [&](const Route& r) { return !r.prefix && r.method == method && r.path == path; });
  routes.push_back(Route{std::move(method), std::move(path), false, std::move(handler)});
}

void HttpServer::route_prefix(std::string method, std::string prefix, HttpHandler handler) {
  if (impl_->started) throw std::logic_error("HttpServer::route_prefix after start()");
  auto& routes = impl_->routes;
  std::erase_if(routes,
                [&](const Route& r) { return r.prefix && r.method == method && r.path == prefix; });
  routes.push_back(Route{std::move(method), std::move(prefix), true, std::move(handler)});
}

void HttpServer::listen() {
  Impl& im = *impl_;
  const std::string shown =
      (im.opt.host.find(':') != std::string::npos ? "[" + im.opt.host + "]" : im.opt.host) + ":" +
      std::to_string(im.opt.port);
  beast::error_code ec;
  const asio::ip::address addr =
      asio::ip::make_address(im.opt.host == "localhost" ? "127.0.0.1" : im.opt.host, ec);
  if (ec) throw HttpServerError("cannot listen on " + shown + ": not an IP address");
  im.loopback = addr.is_loopback();
  const tcp::endpoint ep(addr, im.opt.port);
  const auto fail = [&](const char* what) {
    throw HttpServerError("cannot listen on " + shown + ": " + what + ": " + ec.message());
  };
  im.acceptor.open(ep.protocol(), ec);
  if (ec) fail("socket");
  // A restarted recorder can take its port back while the old connections sit in TIME_WAIT.
  im.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) fail("SO_REUSEADDR");
  im.acceptor.bind(ep, ec);
  if (ec) {
    beast::error_code ignored;
    im.acceptor.close(ignored);
    fail("bind");
  }
  im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
}

void HttpServer::start() {
  Impl& im = *impl_;
  if (im.started || !im.acceptor.is_open()) return;
  im.started = true;
  im.accept();
  im.thread = std::thread([&im] {
    name_current_thread("bt-http");
    im.ioc.run();
  });
}

void HttpServer::stop() {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  if (!im.thread.joinable()) return;
  // On the server's thread: no new connection, every open one closed. Their handlers then
  // finish with errors, the sessions go, and run() returns with no work left.
  asio::post(im.ioc, [&im] {
    beast::error_code ignored;
    im.acceptor.close(ignored);
    for (Impl::Session* s : im.sessions) s->close();
  });
  im.thread.join();
}

std::uint16_t HttpServer::port() const noexcept {
  beast::error_code ec;
  const tcp::endpoint ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

const HttpServerOptions& HttpServer::options() const noexcept {
  return impl_->opt;
}
const HttpServerStats& HttpServer::stats() const noexcept {
  return impl_->stats;
}

}  // namespace booktape
