#include "io/net/http_client.hpp"

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/clock.hpp"
#include "io/net/name_lookup.hpp"
#include "io/net/url.hpp"

namespace booktape {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

struct HttpClient::Impl {
  explicit Impl(HttpClientOptions o) : opt(std::move(o)) {
    const std::optional<Url> u = parse_url(opt.base_url);
    if (!u || (u->scheme != "http" && u->scheme != "https"))
      throw HttpError("'" + opt.base_url + "' is not an http:// or https:// URL");
    url = *u;
    prefix = url.target == "/" ? "" : url.target;
    if (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (url.tls()) {
      tls = std::make_unique<ssl::context>(ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      tls->set_verify_mode(ssl::verify_peer);
      beast::error_code ec;
      if (opt.ca_file.empty()) tls->set_default_verify_paths(ec);
      else tls->load_verify_file(opt.ca_file.string(), ec);
      if (ec) throw HttpError("cannot load CA certificates: " + ec.message());
    }
  }

  [[nodiscard]] bool cancelled() const {
    return (opt.cancel != nullptr && opt.cancel->load(std::memory_order_acquire)) ||
           std::chrono::steady_clock::now() >= opt.stop_at;
  }

  // When to look at the cancel flag next: within 100 ms, and never past the deadline.
  [[nodiscard]] std::chrono::steady_clock::time_point next_look() const {
    return std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
  }

  // Runs the loop until `finished`, the request's deadline or a cancel: then everything is
  // cancelled.
  void run_until(const bool& finished) {
    ioc.restart();
    const auto give_up = [&](const std::string& why) {
      last_error = asio::error::timed_out;  // (or cancelled): never worth a retry
      // Close the sockets but keep the streams until the cancelled operations have completed:
      // their handlers still use them (destroying the stream first crashed a stopping
      // recorder whose REST request was under way).
      close_sockets();
      ioc.restart();
      ioc.run();
      disconnect();
      throw HttpError(why);
    };
    while (!finished) {
      if (cancelled()) {
        give_up("cancelled: the request to " + url.host_port() + " was abandoned (stopping)");
      }
      if (ioc.run_one_until(next_look()) == 0 && std::chrono::steady_clock::now() >= deadline) {
        give_up("no answer from " + url.host_port() + " within " +
                std::to_string(opt.timeout.count()) + " ms");
      }
    }
  }

  template <class Op>
  void wait(Op op, const std::string& what) {
    beast::error_code result;
    bool finished = false;
    op([&](beast::error_code ec) {
      result = ec;
      finished = true;
    });
    run_until(finished);
    if (result) {
      last_error = result;
      disconnect();
      throw HttpError(what + ": " + result.message());
    }
  }

  void connect() {
    const NameLookup::Results endpoints = resolve();
    plain = std::make_unique<beast::tcp_stream>(ioc);
    wait([&](auto done) {
      plain->async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) { done(e); });
    }, "cannot connect to " + url.host_port());
    if (tls) {
      secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*plain), *tls);
      plain.reset();
      // SSL_set_tlsext_host_name() is a macro with a C cast: call what it does.
      SSL_ctrl(secure->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(url.host.c_str()));
      secure->set_verify_callback(ssl::host_name_verification(url.host));
      wait([&](auto done) { secure->async_handshake(ssl::stream_base::client, done); },
           "TLS handshake with " + url.host + " failed (is the certificate trusted? a private CA "
           "needs --ca-file)");
    }
  }

  // The host's addresses, giving up at the request's timeout or a cancel like every other step.
  NameLookup::Results resolve() {
    NameLookup lookup(url.host, std::to_string(url.port));
    while (!lookup.wait_until(next_look())) {
      if (cancelled())
        throw HttpError("cancelled: the lookup of '" + url.host + "' was abandoned (stopping)");
      if (std::chrono::steady_clock::now() >= deadline)
        throw HttpError("cannot resolve host '" + url.host + "': no answer from DNS within " +
                        std::to_string(opt.timeout.count()) + " ms");
    }
    if (lookup.error())
      throw HttpError("cannot resolve host '" + url.host + "': " + lookup.error().message());
    return lookup.results();
  }

  void close_sockets() {
    beast::error_code ec;
    if (plain) plain->socket().close(ec);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ec);
  }

  // Only with no operation pending on the streams (they are destroyed).
  void disconnect() {
    close_sockets();
    plain.reset();
    secure.reset();
  }

  template <class Stream>
  HttpResponse exchange(Stream& s, http::request<http::string_body>& req) {
    HttpResponse out;
    const MonoNanos t0 = monotonic_now();
    wait([&](auto done) {
      http::async_write(s, req, [done](beast::error_code e, std::size_t) { done(e); });
    }, "sending to " + url.host_port());
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(opt.max_body);
    wait([&](auto done) {
      http::async_read(s, buf, parser, [done](beast::error_code e, std::size_t) { done(e); });
    }, "reading the answer of " + url.host_port());
    out.latency_ns = monotonic_now() - t0;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) disconnect();
    return out;
  }

  HttpResponse request(http::verb verb, std::string_view target, std::string_view body) {
    http::request<http::string_body> req{verb, prefix + std::string(target), 11};
    req.set(http::field::host, url.host_port());
    req.set(http::field::user_agent, "booktape");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::string(body);
      req.prepare_payload();
    }
    // One deadline for the whole request, connect included (a retry does not get a new one).
    deadline = std::chrono::steady_clock::now() + opt.timeout;
    // A kept-alive connection the server had closed shows up as a send that fails or an answer
    // that ends before its first byte: retry once, fresh. Never after a timeout or a partial
    // answer: the server may have acted on the request.
    for (int attempt = 0;; ++attempt) {
      const bool reused = plain || secure;
      if (!reused) connect();
      try {
        last_error = {};
        return tls ? exchange(*secure, req) : exchange(*plain, req);
      } catch (const HttpError&) {
        if (!reused || attempt > 0 || !closed_before_answer(last_error)) throw;
      }
    }
  }

  static bool closed_before_answer(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
  }

  HttpClientOptions opt;
  std::chrono::steady_clock::time_point deadline;  // of the request under way
  beast::error_code last_error;                    // why the last step failed
  Url url;
  std::string prefix;
  asio::io_context ioc;
  std::unique_ptr<ssl::context> tls;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
};

HttpClient::HttpClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::get(std::string_view target) {
  return impl_->request(http::verb::get, target, {});
}

HttpResponse HttpClient::post_json(std::string_view target, std::string_view body) {
  return impl_->request(http::verb::post, target, body);
}

}  // namespace booktape
