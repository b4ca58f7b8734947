#include "io/net/ws_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "io/net/url.hpp"

namespace booktape {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// The parts that differ between ws:// and wss://.
class Link {
 public:
  virtual ~Link() = default;
  virtual void handshake(const Url& u, asio::io_context& ioc, std::chrono::milliseconds timeout) = 0;
  virtual void write_text(std::string_view text) = 0;
  virtual void async_read(beast::flat_buffer& buf,
                          std::function<void(beast::error_code, bool binary)> done) = 0;
  // polite: a close handshake; otherwise (a read is in flight) just the TCP connection.
  virtual void close(bool polite) = 0;
};

template <class Next>
class LinkImpl final : public Link {
 public:
  template <class... Args>
  explicit LinkImpl(std::size_t max_message, Args&&... args) : ws_(std::forward<Args>(args)...) {
    ws_.read_message_max(max_message);
    ws_.auto_fragment(false);
  }

  void handshake(const Url& u, asio::io_context& ioc, std::chrono::milliseconds timeout) override {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(u.host, std::to_string(u.port), ec);
    if (ec) throw WsError("cannot resolve host '" + u.host + "': " + ec.message());
    tcp_layer.expires_after(timeout);
    run(ioc, [&](auto done) { tcp_layer.async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) { done(e); }); },
        "cannot connect to " + u.host + ":" + std::to_string(u.port));
    tcp_layer.socket().set_option(tcp::no_delay(true), ec);
    if constexpr (!std::is_same_v<Next, beast::tcp_stream>) {
      auto& tls = ws_.next_layer();
      // SNI and host name verification: the certificate must name the host we asked for.
      // SSL_set_tlsext_host_name() is a macro with a C cast (-Wold-style-cast): call what it does.
      if (SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(u.host.c_str())) != 1)
        throw WsError("cannot set the TLS server name");
      tls.set_verify_callback(ssl::host_name_verification(u.host));
      tcp_layer.expires_after(timeout);
      run(ioc, [&](auto done) { tls.async_handshake(ssl::stream_base::client, done); },
          "TLS handshake with " + u.host + " failed (is the certificate trusted? a private CA "
          "needs --ca-file)");
    }
    tcp_layer.expires_never();
    ws_.set_option(websocket::stream_base::timeout{timeout, websocket::stream_base::none(), false});
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "booktape");
    }));
    websocket::response_type res;
    run(ioc, [&](auto done) { ws_.async_handshake(res, u.host_port(), u.target, done); },
        "websocket handshake with " + u.host_port() + u.target + " failed");
  }

  void write_text(std::string_view text) override {
    ws_.text(true);
    beast::error_code ec;
    ws_.write(asio::buffer(text.data(), text.size()), ec);
    if (ec) throw WsError("websocket write failed: " + ec.message());
  }

  void async_read(beast::flat_buffer& buf,
                  std::function<void(beast::error_code, bool)> done) override {
    ws_.async_read(buf, [this, done](beast::error_code ec, std::size_t) {
      done(ec, !ws_.got_text());
    });
  }

  void close(bool polite) override {
    beast::error_code ec;
    if (polite) {
      ws_.close(websocket::close_code::normal, ec);
    } else {
      beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(ws_).socket().close(ec);
    }
  }

 private:
  // Starts an async operation and runs the loop until it completes (timeouts come from the
  // stream's expiry); throws `what` with the reason on failure.
  template <class Start>
  void run(asio::io_context& ioc, Start start, const std::string& what) {
    beast::error_code result;
    bool finished = false;
    start([&](beast::error_code ec) {
      result = ec;
      finished = true;
    });
    ioc.restart();
    while (!finished && ioc.run_one() > 0) {
    }
    if (!finished) result = asio::error::operation_aborted;
    if (result) throw WsError(what + ": " + result.message());
  }

  websocket::stream<Next> ws_;
};

}  // namespace

struct WsClient::Impl {
  explicit Impl(WsClientOptions o) : opt(std::move(o)) {}
  WsClientOptions opt;
  asio::io_context ioc;
  std::unique_ptr<ssl::context> tls;
  std::unique_ptr<Link> link;
  beast::flat_buffer buf;
  bool read_pending = false, read_done = false, read_binary = false;
  std::string failed;  // the error that ended the connection; later calls repeat it
  beast::error_code read_ec;
  UnixNanos read_at = 0;
  MonoNanos read_mono = 0;
};

WsClient::WsClient(WsClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

WsClient::~WsClient() = default;

void WsClient::connect() {
  Impl& im = *impl_;
  const std::optional<Url> u = parse_url(im.opt.url);
  if (!u || (u->scheme != "ws" && u->scheme != "wss"))
    throw WsError("'" + im.opt.url + "' is not a ws:// or wss:// URL");
  if (u->tls()) {
    im.tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(im.tls->native_handle(), TLS1_2_VERSION);
    im.tls->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (im.opt.ca_file.empty()) {
      im.tls->set_default_verify_paths(ec);
    } else {
      im.tls->load_verify_file(im.opt.ca_file.string(), ec);
    }
    if (ec) throw WsError("cannot load CA certificates '" + im.opt.ca_file.string() + "': " + ec.message());
    im.link = std::make_unique<LinkImpl<beast::ssl_stream<beast::tcp_stream>>>(
        im.opt.max_message, im.ioc, *im.tls);
  } else {
    im.link = std::make_unique<LinkImpl<beast::tcp_stream>>(im.opt.max_message, im.ioc);
  }
  im.link->handshake(*u, im.ioc, im.opt.connect_timeout);
}

void WsClient::send_text(std::string_view text) {
  if (!impl_->link) throw WsError("not connected");
  impl_->link->write_text(text);
}

bool WsClient::read(WsMessage& out, std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  if (!im.failed.empty()) throw WsError(im.failed);
  if (!im.link) throw WsError("not connected");
  if (!im.read_pending) {
    // One read stays in flight across calls that time out, so no message is ever lost.
    im.read_pending = true;
    im.read_done = false;
    im.link->async_read(im.buf, [&im](beast::error_code ec, bool binary) {
      im.read_at = realtime_now();
      im.read_mono = monotonic_now();
      im.read_ec = ec;
      im.read_binary = binary;
      im.read_done = true;
    });
  }
  im.ioc.restart();
  im.ioc.run_for(timeout);
  if (!im.read_done) return false;
  im.read_pending = false;
  if (im.read_ec) {
    im.failed = im.read_ec == websocket::error::closed
                    ? "the server closed the connection"
                    : "websocket read failed: " + im.read_ec.message();
    throw WsError(im.failed);
  }
  out.data = beast::buffers_to_string(im.buf.data());
  im.buf.consume(im.buf.size());
  out.binary = im.read_binary;
  out.received_ns = im.read_at;
  out.monotonic_ns = im.read_mono;
  return true;
}

void WsClient::close() {
  if (!impl_->link) return;
  impl_->link->close(!impl_->read_pending);
  impl_->link.reset();
}

}  // namespace booktape
