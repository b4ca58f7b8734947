#include "io/sim/server.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <simdjson.h>

#include <unistd.h>

#include <algorithm>
#include <span>
#include <atomic>
#include <charconv>
#include <future>
#include <map>
#include <random>

#include "codecs/book_json.hpp"
#include "codecs/json_text.hpp"
#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "codecs/polymarket_gamma.hpp"
#include "codecs/polymarket_rest.hpp"
#include "core/book_keeper.hpp"
#include "io/archive/reader.hpp"
#include "io/net/ws_frame.hpp"
#include "io/sim/gamma_service.hpp"
#include "io/sim/pace.hpp"
#include "io/sim/tls_pki.hpp"
#include "io/sim/truth.hpp"

namespace booktape {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
namespace pm = polymarket;

namespace {
// Every fault inject() knows (docs/SIM.md); the connection faults are the first ones.
constexpr std::string_view kFaultKinds[] = {
    "drop",      "close",         "stall",    "stall_silent", "unstall",  "malformed",
    "binary",    "oversized",     "unknown_event", "duplicate", "reorder", "ignore_fin",
    "omit_book", "refuse_operation", "rest_429", "rest_500", "rest_slow", "rest_alter",
    "rest_empty", "gamma_slow", "tls_fail", "gamma_429"};
constexpr std::size_t kConnFaultKinds = 12;

bool known(std::span<const std::string_view> kinds, std::string_view k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}
}  // namespace

bool parse_scheduled_fault(std::string_view text, ScheduledFault& out, std::string& error) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0) {
    error = "a fault is kind@seconds[:arg], e.g. drop@5 or rest_slow@2:1500";
    return false;
  }
  out.spec = FaultSpec{};
  out.spec.kind = std::string(text.substr(0, at));
  if (!known(kFaultKinds, out.spec.kind)) {
    error = "unknown fault '" + out.spec.kind + "' (docs/SIM.md lists them)";
    return false;
  }
  std::string_view rest = text.substr(at + 1);
  std::string_view arg;
  if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    arg = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  double seconds = 0;
  const auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), seconds);
  if (ec != std::errc() || p != rest.data() + rest.size() || !(seconds >= 0) || seconds > 1e9) {
    error = "bad fault time '" + std::string(rest) + "' (seconds after the first subscription)";
    return false;
  }
  out.after_ns = static_cast<std::int64_t>(seconds * 1e9);
  if (!arg.empty()) {
    std::uint64_t n = 0;
    const auto [q, ec2] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
    const bool numeric = ec2 == std::errc() && q == arg.data() + arg.size();
    const std::string& k = out.spec.kind;
    if (k == "omit_book") {
      out.spec.token = std::string(arg);
    } else if (!numeric) {
      error = "fault argument '" + std::string(arg) + "' is not a number";
      return false;
    } else if (k == "oversized") {
      out.spec.bytes = n;
    } else if (k == "rest_slow" || k == "gamma_slow") {
      out.spec.ms = static_cast<std::int64_t>(n);
    } else {
      out.spec.count = n;
    }
  }
  return true;
}

namespace {

constexpr std::size_t kHighWater = std::size_t{64} << 20;  // pending bytes that pause generation
constexpr std::size_t kLowWater = std::size_t{16} << 20;

enum class EndMode : std::uint8_t { kNone, kDrop, kCloseFrame };

// What a session does for the state when it is a websocket connection.
class ConnIo {
 public:
  virtual ~ConnIo() = default;
  virtual void kick() = 0;                // start writing pending bytes if idle
  virtual void end(EndMode mode, std::string reason) = 0;  // after the pending bytes
  virtual void hang_up(std::string reason) = 0;            // now: what is queued stays unsent
};

// A subscribed token whose books this connection does not get (omit_book).
constexpr std::uint8_t kBookWithheld = 2;

// A frame queued in Conn::pending that the truth counts once it is written (docs/SIM.md): where
// its payload ends in the buffer, how long it is, and what it counts as.
struct QueuedFrame {
  enum class Kind : std::uint8_t { kEvent, kControl, kInjected };
  std::size_t end = 0;            // offset just past the payload in the pending buffer
  std::uint32_t payload = 0;      // payload bytes (they end at `end`: frames are unmasked)
  Kind kind = Kind::kEvent;
  pm::EventType type = pm::EventType::kUnknown;
  std::uint32_t events = 1;       // market events it carries (an initial dump: its books)
};

struct Conn {
  std::uint64_t id = 0;
  ConnectionTruth* truth = nullptr;
  ConnIo* io = nullptr;
  bool initialized = false;
  bool custom = false;
  bool stalled = false;
  bool silent = false;       // stall_silent: not even PONG
  bool ignore_fin = false;   // keeps sending after the client ended its side
  bool ending = false;
  std::vector<std::uint8_t> subscribed;  // by simulator token index: 0, 1, or kBookWithheld
  std::vector<std::string> assets;       // as the client listed them
  ByteBuffer pending;
  std::vector<QueuedFrame> queued;  // the frames in `pending`, in order (not yet sent)
  bool writing = false;      // a write of earlier frames is under way
  std::string last_frame;    // for the duplicate fault
  std::string held;          // reorder: a frame held back until the next one
  std::uint64_t reorder = 0;
};

}  // namespace

struct SimServer::Impl {
  explicit Impl(SimServerOptions o) : opt(std::move(o)), acceptor(ioc), pump_timer(ioc) {}
  // Handlers still queued in `ioc` own sessions, and the io_context (declared before the state
  // they touch) destroys them last: they must not reach back into the state then.
  ~Impl() { destroying = true; }

  bool destroying = false;  // first member: outlives every other one

  // --- set-up -------------------------------------------------------------------------------
  void start();
  void do_accept();

  // --- the market stream --------------------------------------------------------------------
  void schedule_pump(std::int64_t delay_ns);
  void pump();
  void pump_poisson(std::int64_t elapsed);
  void emit(const pm::SimFrame& f);
  [[nodiscard]] bool generation_ended(bool step_done);
  void route(const pm::SimFrame& f);
  void send_frame(Conn& c, WsOpcode op, std::string_view payload, pm::EventType type,
                  bool injected = false, bool control = false, std::uint32_t events = 1);
  void account_written(Conn& c, const ByteBuffer& bytes, std::vector<QueuedFrame>& frames,
                       std::size_t written);
  void kick_all();
  [[nodiscard]] bool backpressured() const;
  void on_written(Conn& c);
  void generation_finished();
  void load_replay();

  // --- websocket requests -------------------------------------------------------------------
  std::shared_ptr<Conn> open_conn(ConnIo* io, std::string remote);
  void close_conn(Conn& c, const std::string& reason);
  void on_client_text(Conn& c, std::string_view text);
  void subscribe(Conn& c, const std::vector<std::string>& ids, bool dump);
  void unsubscribe(Conn& c, const std::vector<std::string>& ids);

  // --- HTTP ---------------------------------------------------------------------------------
  http::response<http::string_body> handle_http(const http::request<http::string_body>& req,
                                                std::int64_t& delay_ms);
  http::response<http::string_body> json_response(http::status s, std::string body,
                                                  unsigned version, bool keep_alive,
                                                  bool venue_headers);
  bool rest_throttled();

  // --- faults and truth ---------------------------------------------------------------------
  bool inject(const FaultSpec& f, std::string& error);
  std::string book_summary_json(std::uint32_t token);
  std::string books_now();
  std::string truth_now();
  std::vector<Conn*> targets(const std::string& target);

  SimServerOptions opt;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::unique_ptr<ssl::context> tls;
  std::filesystem::path ca;
  asio::steady_timer pump_timer;
  std::unique_ptr<pm::MarketSim> market;
  std::vector<pm::SimFrame> batch;
  std::size_t batch_next = 0;            // --pace poisson: the batch's next frame to send
  std::unique_ptr<PoissonClock> poisson;  // --pace poisson: when the next frame is due

  // Pregenerated frames (throughput mode) or recorded ones (replay mode).
  std::vector<pm::SimFrame> pool;
  std::vector<UnixNanos> pool_times;  // replay: receive times, for pacing
  std::vector<bool> pool_binary;
  std::size_t pool_next = 0;
  std::unique_ptr<BookKeeper> replay_books;
  std::unique_ptr<pm::BookApplier> replay_applier;
  std::unique_ptr<pm::Decoder> replay_decoder;

  std::map<std::uint64_t, std::shared_ptr<Conn>> conns;
  std::uint64_t next_conn_id = 1;
  SimTruth truth;
  std::atomic<std::uint64_t> generated{0};
  MonoNanos gen_start = 0;       // first subscription
  bool generating = false, gen_done = false, paused = false, done_reported = false;
  std::size_t next_fault = 0;

  std::uint64_t rest_429_left = 0, rest_500_left = 0, rest_slow_left = 0, tls_fail_left = 0;
  std::uint64_t refuse_ops_left = 0;  // subscription operations to answer INVALID OPERATION
  std::uint64_t rest_alter_left = 0, rest_empty_left = 0;
  std::int64_t rest_slow_ms = 0;
  std::uint64_t gamma_slow_left = 0;
  std::int64_t gamma_slow_ms = 0;
  std::unique_ptr<GammaService> gamma;  // /markets, /events and their keyset forms
  std::vector<MonoNanos> rest_window;  // request times in the last 10 s (rate limit)
  std::vector<std::string> omit_books;
  bool omit_next = false;
  std::mt19937_64 rng{12345};
  std::atomic<bool> stopping{false};
  std::function<void()> on_done;
};

namespace {

std::string remote_of(const tcp::socket& s) {
  beast::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string sec_websocket_accept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string in(key);
  in += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), digest, &len, EVP_sha1(), nullptr);
  std::string out(base64_encoded_size(len), '\0');
  base64_encode(out.data(), std::string_view(reinterpret_cast<const char*>(digest), len));
  return out;
}

// One accepted TCP connection: HTTP requests until it upgrades to the market channel, then a
// websocket connection whose frames the state pushes into Conn::pending.
template <class Stream>
class Session final : public std::enable_shared_from_this<Session<Stream>>, public ConnIo {
 public:
  Session(SimServer::Impl& st, Stream stream) : st_(st), stream_(std::move(stream)),
      reader_(st.opt.max_client_message) {}
  ~Session() override { report_closed(); }

  void start() { read_request(); }
  Stream& stream_ref() noexcept { return stream_; }

  void kick() override {
    if (writing_ || !conn_ || conn_->pending.empty()) {
      if (!writing_ && conn_ && conn_->pending.empty()) flushed();
      return;
    }
    std::swap(out_, conn_->pending);  // buffers swap: nothing is copied
    conn_->pending.clear();
    std::swap(out_frames_, conn_->queued);
    conn_->queued.clear();
    writing_ = conn_->writing = true;
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(out_.data(), out_.size()),
                      [self](beast::error_code ec, std::size_t written) {
                        self->writing_ = false;
                        // Sent means written to the socket: a frame counts in the truth only
                        // now, and only if all of it went out.
                        if (self->conn_) {
                          self->conn_->writing = false;
                          self->st_.account_written(*self->conn_, self->out_, self->out_frames_,
                                                    written);
                        }
                        self->out_.clear();
                        if (ec) return self->fail("write: " + ec.message());
                        if (self->conn_) self->st_.on_written(*self->conn_);
                        self->kick();
                      });
  }

  void end(EndMode mode, std::string reason) override {
    if (end_mode_ != EndMode::kNone) return;
    end_mode_ = mode;
    end_reason_ = std::move(reason);
    // A client that ended its side (ignore_fin) reads no close reply and may read nothing more.
    if (hold_) return shutdown_now();
    if (conn_) {
      conn_->ending = true;
      // 1001 "going away", after every frame already queued.
      if (mode == EndMode::kCloseFrame)
        ws_append_frame(conn_->pending, WsOpcode::kClose, std::string_view("\x03\xe9going away", 12));
    }
    kick();
  }

  // A write under way completes (aborted) with the bytes that did go out: the truth counts the
  // frames those hold, and nothing after them.
  void hang_up(std::string reason) override { fail(std::move(reason)); }

 private:
  void read_request() {
    req_ = {};
    auto self = this->shared_from_this();
    http::async_read(stream_, buf_, req_, [self](beast::error_code ec, std::size_t) {
      if (ec) return;  // closed or not HTTP: nothing to tell
      self->on_request();
    });
  }

  void on_request() {
    if (beast::websocket::is_upgrade(req_)) {
      const std::string_view target(req_.target().data(), req_.target().size());
      if (target.substr(0, target.find('?')) != "/ws/market") {
        // The venue answers 404 for any other websocket path (e.g. a bare /ws/).
        return respond(st_.json_response(http::status::not_found, "{\"error\":\"not found\"}",
                                         req_.version(), false, false), 0);
      }
      return upgrade();
    }
    std::int64_t delay_ms = 0;
    auto res = st_.handle_http(req_, delay_ms);  // sets delay_ms: read it only after
    respond(std::move(res), delay_ms);
  }

  void respond(http::response<http::string_body> res, std::int64_t delay_ms) {
    res_ = std::make_shared<http::response<http::string_body>>(std::move(res));
    auto self = this->shared_from_this();
    auto write = [self]() {
      http::async_write(self->stream_, *self->res_, [self](beast::error_code ec, std::size_t) {
        if (ec) return;
        if (self->res_->need_eof()) return self->shutdown_now();
        self->read_request();
      });
    };
    if (delay_ms <= 0) return write();
    timer_ = std::make_unique<asio::steady_timer>(st_.ioc);
    timer_->expires_after(std::chrono::milliseconds(delay_ms));
    timer_->async_wait([write](beast::error_code) { write(); });
  }

  void upgrade() {
    const auto key = req_[http::field::sec_websocket_key];
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols,
                                                                  req_.version());
    res->set(http::field::upgrade, "websocket");
    res->set(http::field::connection, "Upgrade");
    res->set(http::field::sec_websocket_accept,
             sec_websocket_accept(std::string_view(key.data(), key.size())));
    auto self = this->shared_from_this();
    http::async_write(stream_, *res, [self, res](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->conn_ = self->st_.open_conn(self.get(), remote_of(beast::get_lowest_layer(self->stream_).socket()));
      // Bytes the client sent right after its request are frames already.
      const auto data = self->buf_.data();
      self->reader_.feed(static_cast<const char*>(data.data()), data.size());
      self->buf_.consume(data.size());
      self->handle_frames();
    });
  }

  void read_frames() {
    auto self = this->shared_from_this();
    stream_.async_read_some(asio::buffer(rbuf_), [self](beast::error_code ec, std::size_t n) {
      // The client ended its side: what is already queued still goes out, then we close.
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        if (self->conn_ && self->conn_->ignore_fin) {
          self->hold_ = self;  // no read pending to keep it: sends on until a write fails
          return;
        }
        return self->end(EndMode::kDrop, "client closed the connection");
      }
      if (ec) return self->fail("read: " + ec.message());
      self->reader_.feed(self->rbuf_.data(), n);
      self->handle_frames();
    });
  }

  void handle_frames() {
    for (;;) {
      const WsReader::Result r = reader_.next();
      if (r == WsReader::Result::kNeedMore) break;
      if (r == WsReader::Result::kError) {
        return end(EndMode::kDrop, std::string("protocol error from client: ") + reader_.error());
      }
      switch (reader_.opcode()) {
        case WsOpcode::kText: st_.on_client_text(*conn_, reader_.payload()); break;
        case WsOpcode::kPing:
          ws_append_frame(conn_->pending, WsOpcode::kPong, reader_.payload());
          kick();
          break;
        case WsOpcode::kClose:
          if (end_mode_ == EndMode::kCloseFrame) return finish();  // the reply to our close
          ws_append_frame(conn_->pending, WsOpcode::kClose, reader_.payload().substr(0, 2));
          return end(EndMode::kDrop, "client sent a close frame");
        default: break;  // binary and pong frames from a client mean nothing here
      }
    }
    if (end_mode_ != EndMode::kDrop && !finished_) read_frames();  // a close reply may come
  }

  // Everything queued is written: an ending connection can now go.
  void flushed() {
    if (end_mode_ == EndMode::kDrop) return finish();
    if (end_mode_ == EndMode::kCloseFrame && !close_timer_) {
      // Wait for the client's close reply (RFC 6455), at most a second, then hang up.
      close_timer_ = std::make_unique<asio::steady_timer>(st_.ioc, std::chrono::seconds(1));
      auto self = this->shared_from_this();
      close_timer_->async_wait([self](beast::error_code) { self->finish(); });
    }
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (close_timer_) close_timer_->cancel();
    shutdown_now();
  }

  // The truth learns about the end as it happens, not when the last handler lets go.
  void report_closed() {
    if (!conn_ || reported_ || st_.destroying) return;
    reported_ = true;
    // Frames still queued never went out: the truth does not count them (frames_unsent).
    conn_->truth->frames_unsent += conn_->queued.size();
    conn_->queued.clear();
    st_.close_conn(*conn_, end_reason_.empty() ? "connection lost" : end_reason_);
  }

  void shutdown_now() {
    report_closed();
    auto keep = std::move(hold_);  // (ignore_fin) let go once this call returns
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    // FIN after everything written: the client gets every frame, then the connection ends
    // without a websocket close handshake (unless a close frame was queued).
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }

  void fail(std::string why) {
    if (end_reason_.empty()) end_reason_ = std::move(why);
    if (conn_) conn_->ending = true;
    shutdown_now();
  }

  SimServer::Impl& st_;
  Stream stream_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::unique_ptr<asio::steady_timer> timer_;
  std::unique_ptr<asio::steady_timer> close_timer_;
  std::shared_ptr<Conn> conn_;
  std::shared_ptr<Session> hold_;  // itself, while it ignores the client's FIN
  WsReader reader_;
  std::array<char, 16384> rbuf_{};
  ByteBuffer out_;
  std::vector<QueuedFrame> out_frames_;  // the frames in out_
  bool writing_ = false;
  bool finished_ = false;
  bool reported_ = false;
  EndMode end_mode_ = EndMode::kNone;
  std::string end_reason_;
};

}  // namespace

// ------------------------------------------------------------------------------ set-up ------

void SimServer::Impl::start() {
  if (opt.pace == Pace::kPoisson && (opt.rate <= 0 || !opt.replay.empty()))
    throw std::runtime_error("poisson pacing needs a rate above 0 and generated frames");
  if (opt.replay.empty()) {
    market = std::make_unique<pm::MarketSim>(opt.market);
  } else {
    load_replay();
  }
  gamma = std::make_unique<GammaService>(opt.gamma_markets, opt.market.seed,
                                         opt.gamma_limit_per_10s);
  if (opt.tls) {
    std::filesystem::path cert = opt.tls_cert, key = opt.tls_key;
    if (cert.empty() || key.empty()) {
      std::filesystem::path dir = opt.tls_dir;
      if (dir.empty()) dir = std::filesystem::temp_directory_path() / ("booktape-sim-tls-" + std::to_string(::getpid()));
      const TlsFiles files = generate_test_pki(dir);
      cert = files.server_cert;
      key = files.server_key;
      ca = files.ca_cert;
    }
    tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    beast::error_code tls_ec;
    tls->use_certificate_chain_file(cert.string(), tls_ec);
    if (tls_ec) throw std::runtime_error("cannot use certificate " + cert.string() + ": " + tls_ec.message());
    tls->use_private_key_file(key.string(), ssl::context::pem, tls_ec);
    if (tls_ec) throw std::runtime_error("cannot use private key " + key.string() + ": " + tls_ec.message());
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(opt.bind_address, ec);
  if (ec) throw std::runtime_error("bad bind address '" + opt.bind_address + "'");
  const tcp::endpoint ep(address, opt.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + opt.bind_address + ":" +
                             std::to_string(opt.port) + ": " + ec.message());
  }
  truth.seed = opt.market.seed;
  truth.started_at = realtime_now();
  if (opt.pregenerate > 0 && market) {
    std::vector<pm::SimFrame> out;
    while (pool.size() < opt.pregenerate) {
      out.clear();
      market->next(out);
      for (auto& f : out)
        if (pool.size() < opt.pregenerate) pool.push_back(std::move(f));
    }
  }
  do_accept();
  schedule_pump(0);
}

void SimServer::Impl::load_replay() {
  class Loader final : public ArchiveVisitor {
   public:
    explicit Loader(Impl& st) : st_(st) {}
    bool on_frame(const ArchiveFrame& f) override {
      pm::SimFrame s;
      s.payload.assign(f.data, f.size);
      s.type = pm::EventType::kUnknown;
      st_.pool.push_back(std::move(s));
      st_.pool_times.push_back(f.received_ns);
      st_.pool_binary.push_back(f.opcode == Opcode::kBinary);
      return true;
    }

   private:
    Impl& st_;
  } loader(*this);
  std::vector<std::string> errors;
  ArchiveReader reader;
  for (const auto& path : ArchiveReader::expand(opt.replay, errors)) {
    FileReport r;
    reader.read_file(path, loader, r);
  }
  if (!errors.empty()) throw std::runtime_error("replay input: " + errors.front());
  if (pool.empty()) throw std::runtime_error("replay input holds no frames");
  replay_books = std::make_unique<BookKeeper>();
  replay_applier = std::make_unique<pm::BookApplier>(*replay_books);
  replay_decoder = std::make_unique<pm::Decoder>();
}

void SimServer::Impl::do_accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if (tls) {
        if (tls_fail_left > 0) {
          // The handshake "fails": the server hangs up before answering the ClientHello.
          --tls_fail_left;
          truth.faults.push_back({realtime_now(), "tls_fail", "tls", "handshake refused"});
          socket.close(ec);
        } else {
          auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls));
          auto& stream = s->stream_ref();
          stream.async_handshake(ssl::stream_base::server, [s](beast::error_code hec) {
            if (!hec) s->start();
          });
        }
      } else {
        std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)))
            ->start();
      }
    }
    do_accept();
  });
}

}  // namespace booktape

namespace booktape {

// -------------------------------------------------------------------------- connections -----

std::shared_ptr<Conn> SimServer::Impl::open_conn(ConnIo* io, std::string remote) {
  auto c = std::make_shared<Conn>();
  c->id = next_conn_id++;
  c->io = io;
  ConnectionTruth& t = truth.connections.emplace_back();
  t.id = c->id;
  t.remote = std::move(remote);
  t.opened_at = realtime_now();
  t.digest = opt.digest;
  c->truth = &t;
  conns[c->id] = c;
  return c;
}

void SimServer::Impl::close_conn(Conn& c, const std::string& reason) {
  ConnectionTruth& t = *c.truth;
  if (t.closed_at == 0) {
    t.closed_at = realtime_now();
    t.close_reason = reason;
    t.assets = c.assets;
    t.custom_feature_enabled = c.custom;
  }
  conns.erase(c.id);
  if (paused && !backpressured()) {
    paused = false;
    schedule_pump(0);
  }
}

std::vector<Conn*> SimServer::Impl::targets(const std::string& target) {
  std::vector<Conn*> out;
  for (auto& [id, c] : conns) {
    if (c->ending) continue;
    if (target == "all" || target == std::to_string(id)) out.push_back(c.get());
  }
  return out;
}

void SimServer::Impl::send_frame(Conn& c, WsOpcode op, std::string_view payload,
                                 pm::EventType type, bool injected, bool control,
                                 std::uint32_t events) {
  ws_append_frame(c.pending, op, payload);
  QueuedFrame q;
  q.end = c.pending.size();
  q.payload = static_cast<std::uint32_t>(payload.size());
  q.kind = control ? QueuedFrame::Kind::kControl
                   : injected ? QueuedFrame::Kind::kInjected : QueuedFrame::Kind::kEvent;
  q.type = type;
  q.events = events;
  c.queued.push_back(q);
}

void SimServer::Impl::account_written(Conn& c, const ByteBuffer& bytes,
                                      std::vector<QueuedFrame>& frames, std::size_t written) {
  ConnectionTruth& t = *c.truth;
  for (const QueuedFrame& q : frames) {
    if (q.end > written) {
      ++t.frames_unsent;  // the write failed before all of it went out
      continue;
    }
    ++t.frames;
    t.payload_bytes += q.payload;
    switch (q.kind) {
      case QueuedFrame::Kind::kControl: ++t.control_frames; break;
      case QueuedFrame::Kind::kInjected: ++t.injected; break;
      case QueuedFrame::Kind::kEvent: t.events[static_cast<std::size_t>(q.type)] += q.events; break;
    }
    if (t.digest) t.chain.add(std::string_view(bytes.data() + (q.end - q.payload), q.payload));
  }
  frames.clear();
}

void SimServer::Impl::route(const pm::SimFrame& f) {
  for (auto& [id, cp] : conns) {
    Conn& c = *cp;
    if (!c.initialized || c.stalled || c.ending) continue;
    bool wanted = false;
    if (f.custom_only && !c.custom) continue;
    if (f.to_all_custom) {
      wanted = true;
    } else {
      for (std::uint32_t t : f.tokens)
        if (t < c.subscribed.size() && c.subscribed[t] != 0) wanted = true;
      if (f.tokens[0] == ~0u) wanted = true;  // replayed frames: to every subscriber
    }
    if (!wanted) continue;
    // omit_book: this connection gets no book for the token until it subscribes to it again.
    if (f.type == pm::EventType::kBook && f.tokens[1] == ~0u && f.tokens[0] < c.subscribed.size() &&
        c.subscribed[f.tokens[0]] == kBookWithheld) {
      continue;
    }
    if (c.reorder > 0) {
      if (c.held.empty()) {
        c.held = f.payload;  // sent after the next frame: out of order
        continue;
      }
      send_frame(c, WsOpcode::kText, f.payload, f.type);
      send_frame(c, WsOpcode::kText, c.held, pm::EventType::kUnknown, true);
      c.held.clear();
      --c.reorder;
      continue;
    }
    send_frame(c, WsOpcode::kText, f.payload, f.type);
    c.last_frame = f.payload;
  }
}

void SimServer::Impl::kick_all() {
  for (auto& [id, c] : conns)
    if (!c->pending.empty()) c->io->kick();
}

bool SimServer::Impl::backpressured() const {
  for (const auto& [id, c] : conns)
    if (c->pending.size() > kHighWater) return true;
  return false;
}

void SimServer::Impl::on_written(Conn& c) {
  (void)c;
  if (paused) {
    bool low = true;
    for (const auto& [id, other] : conns)
      if (other->pending.size() > kLowWater) low = false;
    if (low) {
      paused = false;
      schedule_pump(0);
    }
  }
  if (gen_done && !done_reported) generation_finished();
}

void SimServer::Impl::generation_finished() {
  for (const auto& [id, c] : conns)
    if (!c->pending.empty() || c->writing) return;  // wait until everything queued is written
  done_reported = true;
  truth.books_json = books_now();
  if (on_done) on_done();
}

// ------------------------------------------------------------------------ the pump ----------

void SimServer::Impl::schedule_pump(std::int64_t delay_ns) {
  pump_timer.expires_after(std::chrono::nanoseconds(delay_ns));
  pump_timer.async_wait([this](beast::error_code ec) {
    if (!ec && !stopping) pump();
  });
}

void SimServer::Impl::pump() {
  if (gen_done) return;
  const bool subscribed = std::any_of(conns.begin(), conns.end(),
                                      [](const auto& kv) { return kv.second->initialized; });
  if (!generating) {
    if (opt.wait_for_subscriber && !subscribed) return schedule_pump(2'000'000);
    generating = true;
    gen_start = monotonic_now();
  }
  if (backpressured()) {
    paused = true;  // resumed by on_written / close_conn
    return;
  }
  const MonoNanos now_mono = monotonic_now();
  const std::int64_t elapsed = now_mono - gen_start;

  // Scheduled faults are due relative to the first subscription.
  while (next_fault < opt.faults.size() && opt.faults[next_fault].after_ns <= elapsed) {
    std::string error;
    if (!inject(opt.faults[next_fault].spec, error)) {
      truth.faults.push_back({realtime_now(), opt.faults[next_fault].spec.kind, "", "ignored: " + error});
    }
    ++next_fault;
  }

  if (opt.pace == Pace::kPoisson) return pump_poisson(elapsed);

  // How many frames are due now.
  std::uint64_t budget = 4'096;
  std::int64_t next_delay = 0;
  const std::uint64_t done_so_far = generated.load(std::memory_order_relaxed);
  if (!opt.replay.empty() && opt.replay_speed > 0) {
    budget = 0;
    const UnixNanos t0 = pool_times.front();
    while (pool_next + budget < pool.size()) {
      const std::int64_t due =
          static_cast<std::int64_t>(static_cast<double>(pool_times[pool_next + budget] - t0) /
                                    opt.replay_speed);
      if (due > elapsed) {
        next_delay = due - elapsed;
        break;
      }
      ++budget;
    }
    if (budget == 0 && next_delay == 0) budget = 1;
  } else if (opt.rate > 0) {
    const std::uint32_t burst = std::max<std::uint32_t>(opt.burst, 1);
    const auto ticks = static_cast<std::uint64_t>(static_cast<double>(elapsed) * opt.rate / 1e9 /
                                                  burst) + 1;
    const std::uint64_t allowed = ticks * burst;
    budget = allowed > done_so_far ? allowed - done_so_far : 0;
    next_delay = static_cast<std::int64_t>(static_cast<double>(ticks * burst) / opt.rate * 1e9) -
                 elapsed;
  }
  if (opt.max_frames > 0) budget = std::min(budget, opt.max_frames - done_so_far);

  std::uint64_t sent = 0;
  if (!pool.empty()) {
    while (sent < budget && pool_next < pool.size()) {
      pm::SimFrame& f = pool[pool_next];
      if (replay_decoder) {
        // Replay: the frame goes to every subscriber as it was recorded; REST serves the books
        // it builds.
        replay_decoder->decode(f.payload, *replay_applier);
        for (auto& [id, c] : conns)
          if (c->initialized && !c->stalled && !c->ending)
            send_frame(*c, pool_binary[pool_next] ? WsOpcode::kBinary : WsOpcode::kText,
                       f.payload, pm::EventType::kUnknown);
      } else {
        emit(f);
      }
      ++pool_next;
      ++sent;
      // Pregenerated frames repeat (the books then stop meaning anything: throughput mode);
      // recorded ones are sent once.
      if (pool_next == pool.size() && !replay_decoder) pool_next = 0;
    }
  } else {
    batch.clear();
    market->advance_to(realtime_now(), batch);
    while (batch.size() < budget) {
      const std::size_t before = batch.size();
      market->next(batch);
      if (batch.size() == before) break;  // nothing to generate (no market)
    }
    for (const pm::SimFrame& f : batch) emit(f);
    sent = batch.size();
  }
  generated.fetch_add(sent, std::memory_order_relaxed);
  truth.frames_generated = generated.load(std::memory_order_relaxed);
  kick_all();

  if (generation_ended(true)) return;
  schedule_pump(budget == 0 || opt.rate > 0 || next_delay > 0 ? std::max<std::int64_t>(next_delay, 0)
                                                               : 0);
}

void SimServer::Impl::emit(const pm::SimFrame& f) {
  route(f);
  ++truth.events_generated[static_cast<std::size_t>(f.type)];
}

// Stops generating once the frame count, the duration or the replay is reached; a market step
// is not cut (`step_done` false while frames of its batch wait), so the truth's books stay those
// of every frame sent.
bool SimServer::Impl::generation_ended(bool step_done) {
  const std::uint64_t total = generated.load(std::memory_order_relaxed);
  const bool frames_done = opt.max_frames > 0 && total >= opt.max_frames;
  const bool time_done = opt.duration_ns > 0 && monotonic_now() - gen_start >= opt.duration_ns;
  const bool replay_done = replay_decoder && pool_next >= pool.size();
  if (!(step_done && (frames_done || time_done)) && !replay_done) return false;
  gen_done = true;
  generation_finished();
  return true;
}

// --pace poisson: one frame per call, each in a write of its own, at its drawn due time. When
// the next frame is due already (a late timer), the call is posted rather than looped: the
// completion of the write just started is queued before it, so frames never share a write
// while the socket keeps up.
void SimServer::Impl::pump_poisson(std::int64_t elapsed) {
  if (!poisson) poisson = std::make_unique<PoissonClock>(opt.rate, opt.market.seed);
  if (poisson->due_ns() > elapsed) return schedule_pump(poisson->due_ns() - elapsed);
  if (!pool.empty()) {  // pregenerated frames, over and over
    emit(pool[pool_next]);
    pool_next = (pool_next + 1) % pool.size();
  } else {
    if (batch_next == batch.size()) {
      batch.clear();
      batch_next = 0;
      market->advance_to(realtime_now(), batch);
      if (batch.empty()) market->next(batch);
      if (batch.empty()) return schedule_pump(1'000'000);  // no market to generate for
    }
    emit(batch[batch_next++]);
  }
  poisson->advance();
  generated.fetch_add(1, std::memory_order_relaxed);
  truth.frames_generated = generated.load(std::memory_order_relaxed);
  kick_all();
  if (generation_ended(batch_next == batch.size())) return;
  const std::int64_t wait = poisson->due_ns() - (monotonic_now() - gen_start);
  if (wait > 0) return schedule_pump(wait);
  asio::post(ioc, [this] {
    if (!stopping && !gen_done) pump();
  });
}

// ------------------------------------------------------------------- client requests -------

void SimServer::Impl::on_client_text(Conn& c, std::string_view text) {
  ConnectionTruth& t = *c.truth;
  (void)t;
  if (text == "PING") {
    if (!c.silent) {
      send_frame(c, WsOpcode::kText, "PONG", pm::EventType::kUnknown, false, true);
      c.io->kick();
    }
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  simdjson::dom::object obj;
  auto invalid = [&]() {
    send_frame(c, WsOpcode::kText, "INVALID OPERATION", pm::EventType::kUnknown, false, true);
    c.io->kick();
  };
  if (parser.parse(text.data(), text.size()).get(e) || e.get_object().get(obj)) return invalid();
  std::vector<std::string> ids;
  simdjson::dom::array arr;
  if (!obj["assets_ids"].get_array().get(arr)) {
    for (simdjson::dom::element id : arr) {
      std::string_view s;
      if (!id.get_string().get(s)) ids.emplace_back(s);
    }
  }
  bool dump = true;
  if (bool v = true; !obj["initial_dump"].get_bool().get(v)) dump = v;
  if (bool v = false; !obj["custom_feature_enabled"].get_bool().get(v)) c.custom = v;
  std::string_view op;
  if (!obj["operation"].get_string().get(op)) {
    if (refuse_ops_left > 0 && (op == "subscribe" || op == "unsubscribe")) {
      --refuse_ops_left;
      truth.faults.push_back({realtime_now(), "refuse_operation", std::to_string(c.id), std::string(op)});
      return invalid();
    }
    if (op == "subscribe") {
      c.initialized = true;
      subscribe(c, ids, dump);
    } else if (op == "unsubscribe") {
      unsubscribe(c, ids);
    } else {
      return invalid();
    }
    return;
  }
  std::string_view type;
  if (!obj["type"].get_string().get(type) && (type == "market" || type == "MARKET")) {
    // The initial message is accepted once; the venue refuses a second one.
    if (c.initialized) return invalid();
    c.initialized = true;
    subscribe(c, ids, dump);
    return;
  }
  invalid();
}

void SimServer::Impl::subscribe(Conn& c, const std::vector<std::string>& ids, bool dump) {
  std::string frame = "[";
  std::size_t books = 0;
  for (const std::string& id : ids) {
    if (std::find(c.assets.begin(), c.assets.end(), id) != c.assets.end()) continue;
    c.assets.push_back(id);
    // Past the per-connection limit the venue silently sends nothing for the extra assets.
    if (c.assets.size() > opt.assets_per_connection) continue;
    const std::uint32_t tok = market ? market->find_token(id) : ~0u;
    if (tok == ~0u) continue;  // unknown ids just produce no events
    if (c.subscribed.size() <= tok) c.subscribed.resize(market->tokens().size(), 0);
    c.subscribed[tok] = 1;
    const auto listed = std::find(omit_books.begin(), omit_books.end(), id);
    if (omit_next || listed != omit_books.end()) {
      // Once: a later subscription to the token (a resubscribe) gets its book.
      if (listed != omit_books.end()) omit_books.erase(listed);
      else omit_next = false;
      c.subscribed[tok] = kBookWithheld;
      truth.faults.push_back({realtime_now(), "omit_book", std::to_string(c.id), id});
      continue;
    }
    if (dump) {
      frame += books++ ? "," : "";
      frame += market->book_event(tok);
    }
  }
  if (books > 0) {
    frame += ']';
    // The initial books come as one JSON array, as on the venue.
    send_frame(c, WsOpcode::kText, frame, pm::EventType::kBook, false, false,
               static_cast<std::uint32_t>(books));
    c.last_frame = frame;
    c.io->kick();
  }
  if (!generating) schedule_pump(0);
}

void SimServer::Impl::unsubscribe(Conn& c, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    std::erase(c.assets, id);
    const std::uint32_t tok = market ? market->find_token(id) : ~0u;
    if (tok != ~0u && tok < c.subscribed.size()) c.subscribed[tok] = 0;
  }
}

// --------------------------------------------------------------------------- HTTP ----------

http::response<http::string_body> SimServer::Impl::json_response(http::status s, std::string body,
                                                                 unsigned version,
                                                                 bool keep_alive,
                                                                 bool venue_headers) {
  http::response<http::string_body> res{s, version};
  res.set(http::field::server, "cloudflare");
  res.set(http::field::content_type, "application/json");
  if (venue_headers) {
    // What the venue's edge adds; a recorder must keep only an allowlist of these.
    res.set(http::field::set_cookie,
            "__cf_bm=sim" + std::to_string(rng()) + "; path=/; HttpOnly; Secure; SameSite=None");
    res.set("CF-RAY", std::to_string(rng() % 1'000'000'000) + "-SIM");
    res.set("X-Sim-Secret", "this-header-must-not-be-archived");
    // A header the edge repeats rather than joining (HTTP allows both).
    res.insert(http::field::vary, "Accept-Encoding");
    res.insert(http::field::vary, "Origin");
  }
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool SimServer::Impl::rest_throttled() {
  if (opt.rest_limit_per_10s == 0) return false;
  const MonoNanos now = monotonic_now();
  std::erase_if(rest_window, [&](MonoNanos t) { return now - t > 10 * kNanosPerSecond; });
  if (rest_window.size() >= opt.rest_limit_per_10s) return true;
  rest_window.push_back(now);
  return false;
}

std::string SimServer::Impl::book_summary_json(std::uint32_t token) {
  return pm::render_book_summary(market->summary(token));
}

http::response<http::string_body> SimServer::Impl::handle_http(
    const http::request<http::string_body>& req, std::int64_t& delay_ms) {
  const std::string_view target(req.target().data(), req.target().size());
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  const pm::QueryParams params = pm::parse_query_string(query);
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  auto param = [&](std::string_view key) -> std::string {
    for (const auto& [k, val] : params)
      if (k == key) return val;
    return {};
  };
  auto error = [&](http::status s, std::string_view msg) {
    std::string body = "{\"error\":";
    append_json_string(body, msg);
    body += '}';
    return json_response(s, std::move(body), v, ka, true);
  };

  if (path == "/book" || path == "/books") {
    ++truth.rest_requests;
    if (rest_500_left > 0) {
      --rest_500_left;
      truth.faults.push_back({realtime_now(), "rest_500", "rest", std::string(path)});
      return error(http::status::internal_server_error, "Internal Server Error");
    }
    if (rest_429_left > 0 || rest_throttled()) {
      if (rest_429_left > 0) {
        --rest_429_left;
        truth.faults.push_back({realtime_now(), "rest_429", "rest", std::string(path)});
      }
      ++truth.rest_throttled;
      return error(http::status::too_many_requests, "Too Many Requests");
    }
    if (rest_slow_left > 0) {
      --rest_slow_left;
      delay_ms = rest_slow_ms;
      truth.faults.push_back({realtime_now(), "rest_slow", "rest",
                              std::string(path) + " +" + std::to_string(rest_slow_ms) + " ms"});
    }
    if (!market) return error(http::status::not_found, "no books in replay mode");
    if (path == "/book") {
      if (req.method() != http::verb::get) return error(http::status::method_not_allowed, "use GET");
      const std::string id = param("token_id");
      if (id.empty()) return error(http::status::bad_request, "Invalid payload: token_id");
      const std::uint32_t tok = market->find_token(id);
      if (tok == ~0u)
        return error(http::status::not_found, "No orderbook exists for the requested token id");
      return json_response(http::status::ok, book_summary_json(tok), v, ka, true);
    }
    if (req.method() != http::verb::post) return error(http::status::method_not_allowed, "use POST");
    simdjson::dom::parser parser;
    simdjson::dom::array items;
    if (parser.parse(req.body()).get_array().get(items))
      return error(http::status::bad_request, "Invalid payload: expected [{\"token_id\":...}]");
    if (items.size() > 500) return error(http::status::bad_request, "Too many token ids (max 500)");
    std::vector<pm::BookSummary> out;
    for (simdjson::dom::element item : items) {
      std::string_view id;
      if (item["token_id"].get_string().get(id)) continue;
      const std::uint32_t tok = market->find_token(id);
      if (tok != ~0u) out.push_back(market->summary(tok));
    }
    if (rest_empty_left > 0) {  // a 200 that carries none of the books asked for
      --rest_empty_left;
      truth.faults.push_back({realtime_now(), "rest_empty", "rest", std::to_string(out.size()) + " books"});
      return json_response(http::status::ok, "[]", v, ka, true);
    }
    if (rest_alter_left > 0) {
      // Books that never existed on the stream: one more unit of size at every best level,
      // with a hash that matches the altered book (a cross-check must compare content).
      --rest_alter_left;
      const auto by_price = [](const Level& x, const Level& y) { return x.price < y.price; };
      for (pm::BookSummary& b : out) {
        if (!b.bids.empty()) std::max_element(b.bids.begin(), b.bids.end(), by_price)->size += kSizeScale;
        if (!b.asks.empty()) std::min_element(b.asks.begin(), b.asks.end(), by_price)->size += kSizeScale;
        b.hash.clear();
        b.hash = pm::book_hash(b);
      }
      truth.faults.push_back({realtime_now(), "rest_alter", "rest", std::to_string(out.size()) + " books"});
    }
    return json_response(http::status::ok, pm::render_books_response(out), v, ka, true);
  }
  if (GammaService::serves(path)) {
    ++truth.gamma_requests;
    if (gamma_slow_left > 0) {
      --gamma_slow_left;
      delay_ms = gamma_slow_ms;
      truth.faults.push_back({realtime_now(), "gamma_slow", "gamma",
                              std::string(path) + " +" + std::to_string(gamma_slow_ms) + " ms"});
    }
    GammaAnswer a = gamma->answer(path, params, market.get());
    return json_response(static_cast<http::status>(a.status), std::move(a.body), v, ka, false);
  }
  if (path == "/control/status") {
    std::string s = "{\"frames_generated\":" + std::to_string(generated.load()) +
                    ",\"generating\":" + (generating ? "true" : "false") +
                    ",\"done\":" + (gen_done ? "true" : "false") + ",\"connections\":[";
    bool first = true;
    for (const auto& [id, c] : conns) {
      s += first ? "" : ",";
      first = false;
      s += "{\"id\":" + std::to_string(id) + ",\"frames\":" + std::to_string(c->truth->frames) +
           ",\"assets\":" + std::to_string(c->assets.size()) +
           ",\"stalled\":" + (c->stalled ? "true" : "false") + "}";
    }
    s += "]}";
    return json_response(http::status::ok, std::move(s), v, ka, false);
  }
  if (path == "/control/fault") {
    if (req.method() != http::verb::post) return error(http::status::method_not_allowed, "use POST");
    FaultSpec f;
    f.kind = param("kind");
    if (const std::string t = param("target"); !t.empty()) f.target = t;
    if (const std::string n = param("count"); !n.empty()) f.count = std::stoull(n);
    if (const std::string n = param("bytes"); !n.empty()) f.bytes = std::stoull(n);
    if (const std::string n = param("ms"); !n.empty()) f.ms = std::stoll(n);
    f.token = param("token");
    std::string err;
    if (!inject(f, err)) return error(http::status::bad_request, err);
    return json_response(http::status::ok, "{\"ok\":true}", v, ka, false);
  }
  if (path == "/control/truth") return json_response(http::status::ok, truth_now(), v, ka, false);
  return error(http::status::not_found, "not found");
}

// ------------------------------------------------------------------------- faults ----------

bool SimServer::Impl::inject(const FaultSpec& f, std::string& error) {
  const UnixNanos now = realtime_now();
  const std::string& k = f.kind;
  auto record = [&](const std::string& target, const std::string& detail) {
    truth.faults.push_back({now, k, target, detail});
  };
  if (k == "rest_429") { rest_429_left += f.count; record("rest", std::to_string(f.count)); return true; }
  if (k == "refuse_operation") {
    refuse_ops_left += f.count;
    record("ws", std::to_string(f.count));
    return true;
  }
  if (k == "rest_500") { rest_500_left += f.count; record("rest", std::to_string(f.count)); return true; }
  if (k == "rest_alter") { rest_alter_left += f.count; record("rest", std::to_string(f.count)); return true; }
  if (k == "rest_empty") { rest_empty_left += f.count; record("rest", std::to_string(f.count)); return true; }
  if (k == "gamma_429") {
    gamma->throttle_next(f.count);
    record("gamma", std::to_string(f.count));
    return true;
  }
  if (k == "gamma_slow") {
    gamma_slow_left += f.count;
    gamma_slow_ms = f.ms > 0 ? f.ms : 2'000;
    record("gamma", std::to_string(f.count) + " x " + std::to_string(gamma_slow_ms) + " ms");
    return true;
  }
  if (k == "rest_slow") {
    rest_slow_left += f.count;
    rest_slow_ms = f.ms > 0 ? f.ms : 2'000;
    record("rest", std::to_string(f.count) + " x " + std::to_string(rest_slow_ms) + " ms");
    return true;
  }
  if (k == "tls_fail") {
    if (!tls) {
      error = "tls_fail needs --tls";
      return false;
    }
    tls_fail_left += f.count;
    record("tls", std::to_string(f.count));
    return true;
  }
  if (k == "omit_book") {
    if (f.token.empty() || f.token == "next") {
      omit_next = true;
    } else {
      omit_books.push_back(f.token);
    }
    record(f.token.empty() ? "next" : f.token, "book left out of the next initial dump");
    return true;
  }
  if (!known(std::span(kFaultKinds).first(kConnFaultKinds), k)) {
    error = "unknown fault '" + k + "'";
    return false;
  }
  const std::vector<Conn*> ts = targets(f.target);
  if (ts.empty()) {
    error = "no open connection matches '" + f.target + "'";
    return false;
  }
  for (Conn* c : ts) {
    const std::string id = std::to_string(c->id);
    if (k == "drop") {
      record(id, "TCP closed without a close frame, after the frames already queued");
      c->io->end(EndMode::kDrop, "sim fault: drop");
    } else if (k == "close") {
      record(id, "close frame 1001");
      c->io->end(EndMode::kCloseFrame, "sim fault: close frame");
    } else if (k == "stall" || k == "stall_silent") {
      c->stalled = true;
      c->silent = k == "stall_silent";
      record(id, c->silent ? "no data and no PONG" : "no data; PING still answered");
    } else if (k == "unstall") {
      c->stalled = c->silent = false;
      record(id, "data flows again");
    } else if (k == "malformed") {
      send_frame(*c, WsOpcode::kText, "{\"event_type\":\"price_change\",\"market\":\"0x",
                 pm::EventType::kUnknown, true);
      record(id, "truncated JSON");
    } else if (k == "binary") {
      send_frame(*c, WsOpcode::kBinary, std::string_view("\x00\x01\x02\xff\xfe binary", 13),
                 pm::EventType::kUnknown, true);
      record(id, "binary frame");
    } else if (k == "oversized") {
      const std::size_t n = f.bytes > 0 ? f.bytes : std::size_t{20} << 20;
      std::string big = "{\"event_type\":\"sim_oversized\",\"padding\":\"";
      big.append(n > big.size() + 2 ? n - big.size() - 2 : 0, 'x');
      big += "\"}";
      send_frame(*c, WsOpcode::kText, big, pm::EventType::kUnknown, true);
      record(id, std::to_string(big.size()) + " bytes");
    } else if (k == "unknown_event") {
      send_frame(*c, WsOpcode::kText,
                 "{\"event_type\":\"sim_unknown_event\",\"market\":\"0x0\",\"timestamp\":\"" +
                     std::to_string(now / 1'000'000) + "\"}",
                 pm::EventType::kUnknown, true);
      record(id, "event_type sim_unknown_event");
    } else if (k == "duplicate") {
      if (c->last_frame.empty()) {
        record(id, "nothing sent yet: skipped");
        continue;
      }
      send_frame(*c, WsOpcode::kText, c->last_frame, pm::EventType::kUnknown, true);
      record(id, "the last frame sent again");
    } else if (k == "reorder") {
      c->reorder += f.count;
      record(id, std::to_string(f.count) + " pair(s) of frames swapped");
    } else if (k == "ignore_fin") {
      c->ignore_fin = true;
      record(id, "keeps sending after the client ends its side");
    }
    c->io->kick();
  }
  return true;
}

std::string SimServer::Impl::books_now() {
  if (market) return market->books_json();
  if (replay_books) return booktape::books_json(*replay_books);
  return "[]\n";
}

std::string SimServer::Impl::truth_now() {
  truth.written_at = realtime_now();
  truth.books_json = books_now();
  for (auto& [id, c] : conns) {  // open connections: their subscription so far
    c->truth->assets = c->assets;
    c->truth->custom_feature_enabled = c->custom;
  }
  return truth.to_json();
}

// ---------------------------------------------------------------------- public API ---------

SimServer::SimServer(SimServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SimServer::~SimServer() = default;

void SimServer::start() {
  impl_->on_done = [this] {
    if (on_generation_done) on_generation_done();
  };
  impl_->start();
}

void SimServer::run() { impl_->ioc.run(); }

void SimServer::stop() {
  asio::post(impl_->ioc, [this] {
    Impl& im = *impl_;
    im.stopping = true;
    beast::error_code ec;
    im.acceptor.close(ec);
    im.pump_timer.cancel();
    const auto open = im.conns;  // ending a connection erases it from the map
    for (auto& [id, c] : open) c->io->end(EndMode::kCloseFrame, "sim stopped");
    // Give queued frames and close frames a moment to leave, then hang up on whoever is still
    // there and stop the loop once the aborted writes have reported what they wrote (the truth
    // counts a frame only once it is written).
    auto t = std::make_shared<asio::steady_timer>(im.ioc, std::chrono::milliseconds(200));
    t->async_wait([this, t](beast::error_code) {
      Impl& st = *impl_;
      const auto left = st.conns;
      for (auto& [id, c] : left) c->io->hang_up("sim stopped");
      asio::post(st.ioc, [&st] { asio::post(st.ioc, [&st] { st.ioc.stop(); }); });
    });
  });
}

std::uint16_t SimServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string SimServer::ws_url() const {
  return std::string(impl_->tls ? "wss://localhost:" : "ws://127.0.0.1:") +
         std::to_string(port()) + "/ws/market";
}

std::string SimServer::http_url() const {
  return std::string(impl_->tls ? "https://localhost:" : "http://127.0.0.1:") +
         std::to_string(port());
}

std::filesystem::path SimServer::ca_file() const { return impl_->ca; }

namespace {
template <class F>
auto on_sim_thread(asio::io_context& ioc, F f) -> decltype(f()) {
  if (ioc.stopped()) return f();  // nothing runs the loop any more: the caller owns the state
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto result = task.get_future();
  asio::post(ioc, [&task] { task(); });
  return result.get();
}
}  // namespace

std::string SimServer::truth_json() {
  return on_sim_thread(impl_->ioc, [this] { return impl_->truth_now(); });
}

std::string SimServer::books_json() {
  return on_sim_thread(impl_->ioc, [this] { return impl_->books_now(); });
}

bool SimServer::inject(const FaultSpec& fault, std::string& error) {
  return on_sim_thread(impl_->ioc, [&] { return impl_->inject(fault, error); });
}

std::uint64_t SimServer::frames_generated() const { return impl_->generated.load(); }

}  // namespace booktape
