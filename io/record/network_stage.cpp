#include "io/record/network_stage.hpp"

#include <openssl/ssl.h>
#include <sched.h>

#include <concurrentqueue/concurrentqueue.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/clock.hpp"
#include "io/net/name_lookup.hpp"
#include "io/net/url.hpp"

namespace booktape {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// After we end our side of a connection, how long the venue has to close its side.
constexpr int kCloseGraceSeconds = 2;
constexpr std::int64_t kCloseGraceNs = std::int64_t{kCloseGraceSeconds} * 1'000'000'000;
// A frame over max_frame_bytes is read through in chunks of this size, never kept whole.
constexpr std::size_t kSkipChunk = std::size_t{64} << 10;

std::int64_t secs_to_ns(double s) { return static_cast<std::int64_t>(s * 1e9); }

bool text_is(const char* p, std::size_t n, std::string_view lit) noexcept {
  return n == lit.size() && std::memcmp(p, lit.data(), n) == 0;
}

std::string assets_json(const std::vector<std::string>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, ids[i]);
  }
  return s + ']';
}

// A connection, whatever its transport.
class Conn {
 public:
  virtual ~Conn() = default;
  virtual void start() = 0;
  virtual void apply_plan() = 0;                       // the shard's plan changed
  virtual void resubscribe(const std::string& token) = 0;
  // Graceful: unsubscribe (a stop), end our side, read what the venue still sends for up to
  // `grace_ns`; bytes still unread then are named in a loss record.
  virtual void close(const std::string& reason, std::int64_t grace_ns, bool unsubscribe) = 0;
  virtual void abort(const std::string& reason) = 0;   // now: no handshake
  [[nodiscard]] virtual bool live() const = 0;
  virtual void fill(ConnectionHealth& h) const = 0;   // its part of the health snapshot
};

struct Shard {
  std::size_t index = 0;
  ShardPlan plan;
  std::shared_ptr<Conn> conn;
  int attempts = 0;              // failures since the last healthy period
  std::unique_ptr<asio::steady_timer> retry;
  bool retry_pending = false;
  // For the health snapshot (this thread's; published by publish_health()).
  std::uint64_t frames = 0, bytes = 0, connects = 0, closes = 0;
  std::string last_close;
};

}  // namespace

struct NetworkStage::Impl {
  Impl(NetworkOptions o, PipelineRing& r, PipelineBells& b)
      : opt(std::move(o)), ring(r), bells(b), guard(asio::make_work_guard(ioc)) {
    const std::optional<Url> u = parse_url(opt.url);
    if (!u || (u->scheme != "ws" && u->scheme != "wss"))
      throw std::invalid_argument("'" + opt.url + "' is not a ws:// or wss:// URL");
    url = *u;
    if (url.tls()) {
      tls = std::make_unique<ssl::context>(ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      tls->set_verify_mode(ssl::verify_peer);
      beast::error_code ec;
      if (opt.ca_file.empty()) tls->set_default_verify_paths(ec);
      else tls->load_verify_file(opt.ca_file.string(), ec);
      if (ec) {
        throw std::invalid_argument("cannot load CA certificates from '" + opt.ca_file.string() +
                                    "': " + ec.message());
      }
    }
    if (opt.max_frame_bytes > ring.max_payload()) opt.max_frame_bytes = ring.max_payload();
  }

  void push_frame(std::uint32_t shard, std::uint64_t conn_seq, std::uint64_t msg_seq,
                  std::uint8_t opcode, const char* data, std::size_t n, UnixNanos recv,
                  MonoNanos mono);
  void push_event(PipelineEvent* e);
  RecordHeader* wait_for_room(std::size_t payload);
  void ensure_shard(std::size_t i);
  void schedule_connect(Shard& s, std::int64_t delay_ns);
  void connect(Shard& s);
  void conn_ended(Shard& s, const Conn* c, std::uint64_t seq, const std::string& reason,
                  bool was_live, std::int64_t live_ns, bool went_quiet);
  std::int64_t backoff_ns(Shard& s);
  std::int64_t stagger_ns();
  void maybe_finish_stop();
  void publish_health();

  NetworkOptions opt;
  PipelineRing& ring;
  PipelineBells& bells;
  NetworkStats stats;
  // One thread runs it; other threads only post(). So the reactor needs no locks (the
  // scheduler's queue keeps its own for those posts).
  asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::unique_ptr<ssl::context> tls;
  Url url;
  std::vector<std::unique_ptr<Shard>> shards;
  std::unordered_map<std::string, std::size_t> token_shard;
  std::uint64_t conn_seq = 0;
  std::uint64_t global_seq = 0;
  MonoNanos next_connect_at = 0;
  std::mt19937_64 rng{std::random_device{}()};
  bool stopping = false;
  bool loop_ending = false;  // the stop's deadline: the loop stops right after its aborts
  std::unique_ptr<asio::steady_timer> stop_timer;
  moodycamel::ConcurrentQueue<std::string> notices;
  TripleBuffer<ConnectionsHealth> health;
  std::unique_ptr<asio::steady_timer> health_timer;  // with publish_connections
};

namespace {

// One websocket connection attempt and, if it comes up, its life until it ends.
template <class Stream>
class ConnImpl final : public Conn, public std::enable_shared_from_this<ConnImpl<Stream>> {
 public:
  template <class... Args>
  ConnImpl(NetworkStage::Impl& net, Shard& shard, Args&&... args)
      : net_(net), shard_(shard), ws_(std::forward<Args>(args)...), lookup_timer_(net.ioc),
        ping_timer_(net.ioc), watchdog_(net.ioc), grace_(net.ioc) {
    // No limit in Beast (a message over its limit fails the whole stream): read_some with our
    // own bound, and a frame over max_frame_bytes is read through and skipped (on_read).
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    buf_.reserve(std::size_t{1} << 20);  // grows to the largest frame seen, then is reused
    seq_ = ++net_.conn_seq;
    session_id_ = net_.opt.run_id + "-c" + std::to_string(seq_);
  }
  ~ConnImpl() override {  // only if its read handler never ran
    delete close_event_;
    delete loss_event_;
  }
  ConnImpl(const ConnImpl&) = delete;
  ConnImpl& operator=(const ConnImpl&) = delete;

  void start() override {
    lookup_.emplace(net_.url.host, std::to_string(net_.url.port));
    lookup_deadline_ = monotonic_now() + secs_to_ns(net_.opt.connect_timeout_seconds);
    poll_lookup();
  }

  // The lookup runs on its own thread (io/net/name_lookup.hpp): look at it every few ms, so that a
  // DNS server that does not answer costs a connect timeout, and a stop nothing.
  void poll_lookup() {
    if (ended_) return;
    if (lookup_->done()) {
      if (lookup_->error())
        return fail("cannot resolve host '" + net_.url.host + "': " + lookup_->error().message());
      return on_resolved(lookup_->results());
    }
    if (monotonic_now() >= lookup_deadline_)
      return fail("cannot resolve host '" + net_.url.host + "': no answer from DNS");
    auto self = this->shared_from_this();
    lookup_timer_.expires_after(std::chrono::milliseconds(5));
    lookup_timer_.async_wait([self](beast::error_code ec) {
      if (!ec) self->poll_lookup();
    });
  }

  void apply_plan() override {
    if (!live_ || closing_) return;  // a new connection subscribes to the plan as it is then
    const std::vector<std::string>& want = shard_.plan.assets;
    if (want.empty()) return close(kNoAssetsLeftReason, kCloseGraceNs, false);
    std::unordered_set<std::string> had(subscribed_.begin(), subscribed_.end());
    std::unordered_set<std::string> have(want.begin(), want.end());
    std::vector<std::string> added, removed;
    for (const auto& a : want)
      if (!had.count(a)) added.push_back(a);
    for (const auto& a : subscribed_)
      if (!have.count(a)) removed.push_back(a);
    if (added.empty() && removed.empty()) return;
    if (!added.empty()) send(subscribe_op(added));
    if (!removed.empty()) send("{\"operation\":\"unsubscribe\",\"assets_ids\":" + assets_json(removed) + "}");
    subscribed_ = want;
    pending_op_ = monotonic_now();
    auto* e = new PipelineEvent;
    e->kind = PipelineEvent::Kind::kSessionSubscription;
    e->shard = static_cast<std::uint32_t>(shard_.index);
    e->at = realtime_now();
    e->session = session_info();
    net_.push_event(e);
  }

  void resubscribe(const std::string& token) override {
    if (!live_ || closing_) return;
    send("{\"operation\":\"unsubscribe\",\"assets_ids\":" + assets_json({token}) + "}");
    send(subscribe_op({token}));
    pending_op_ = monotonic_now();
    net_.stats.resubscribes.fetch_add(1, std::memory_order_relaxed);
  }

  void close(const std::string& reason, std::int64_t grace_ns, bool unsubscribe) override {
    if (ended_ || closing_) return;
    if (!live_) return fail(reason);
    // No websocket close handshake: Beast's close reads and silently discards every data frame
    // that arrives until the venue's close reply, and raw-first means keeping those. Instead we
    // end our sending side (TCP FIN) and keep reading: the venue sees the end of the stream,
    // and every frame it sent before closing is read and recorded, before the session's close
    // record. The session ends when the venue closes (or the grace runs out).
    // A stop first unsubscribes, so the venue stops adding to what we must drain.
    if (unsubscribe && !subscribed_.empty()) {
      send("{\"operation\":\"unsubscribe\",\"assets_ids\":" + assets_json(subscribed_) + "}");
    }
    closing_ = true;
    close_reason_ = reason;
    ping_timer_.cancel();
    if (!writing_) end_our_side();  // else once the unsubscribe is written (write_next)
    // A venue that keeps sending after our FIN is cut off after the grace. Its own timer: a
    // watchdog tick already queued could otherwise re-arm over it and leave none.
    auto self = this->shared_from_this();
    grace_.expires_after(std::chrono::nanoseconds(grace_ns));
    grace_.async_wait([self, grace_ns](beast::error_code ec) {
      if (ec || self->ended_) return;
      self->cut_off(grace_ns);
    });
  }

  // The grace is over and the venue has not closed: what the kernel holds unread is lost, and
  // named (its bytes: frames not read have no count). Said, too.
  void cut_off(std::int64_t grace_ns) {
    std::uint64_t unread = 0;
    {
      beast::error_code ec;
      const std::size_t n = beast::get_lowest_layer(ws_).socket().available(ec);
      if (!ec) unread = n;
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", static_cast<double>(grace_ns) / 1e9);
    std::string note = "connection " + std::to_string(seq_) + ": the venue had not closed " +
                       secs + " s after we did; cut off, ";
    if (unread > 0) {
      note += std::to_string(unread) + " bytes still unread in the socket (named in a loss record)";
      auto* e = new PipelineEvent;
      e->kind = PipelineEvent::Kind::kLoss;
      e->shard = static_cast<std::uint32_t>(shard_.index);
      e->at = realtime_now();
      e->session.connection_sequence = seq_;
      LossRecord& r = e->loss;
      r.run_id = net_.opt.run_id;
      r.reason = LossReason::kStopUnread;
      r.at = e->at;
      r.frames = std::nullopt;  // not read: how many frames the bytes hold is unknown
      r.unread_bytes = unread;
      LossSession ls;
      ls.session_id = session_id_;
      ls.connection_sequence = seq_;
      ls.first_message_sequence = msg_seq_ + 1;
      r.sessions.push_back(std::move(ls));
      r.detail = "connection " + std::to_string(seq_) + " closed (" + close_reason_ + "): " +
                 std::to_string(unread) + " bytes were still unread in the socket's receive " +
                 "queue when the " + secs + " s drain grace ended (for wss:// these are TLS " +
                 "bytes); frames the venue had not sent yet are not counted";
      // Pushed with the close record, after the read under way (if any) delivered its frame.
      loss_event_ = e;
    } else {
      note += "frames still on their way not read";
    }
    net_.notices.enqueue(std::move(note));
    fail(close_reason_);
  }

  // Our sending side ends (TCP FIN); reading goes on.
  void end_our_side() {
    if (fin_sent_) return;
    fin_sent_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void abort(const std::string& reason) override { fail(reason); }

  [[nodiscard]] bool live() const override { return live_ && !ended_ && !closing_; }

  void fill(ConnectionHealth& h) const override {
    h.up = live();
    h.connection = seq_;
    h.up_since = h.up ? connected_at_ : 0;
    h.last_data_mono = h.up && got_data_ ? last_data_ : 0;
  }

 private:
  std::string subscribe_op(const std::vector<std::string>& ids) const {
    return "{\"operation\":\"subscribe\",\"assets_ids\":" + assets_json(ids) +
           ",\"initial_dump\":true,\"custom_feature_enabled\":" +
           (net_.opt.custom_feature_enabled ? "true" : "false") + "}";
  }

  SessionInfo session_info() const {
    SessionInfo s;
    s.session_id = session_id_;
    s.run_id = net_.opt.run_id;
    s.connection_sequence = seq_;
    s.url = redact_url(net_.opt.url);  // archived in every session record
    s.assets_ids = subscribed_;
    s.tokens = shard_.plan.tokens;
    s.custom_feature_enabled = net_.opt.custom_feature_enabled;
    s.initial_dump = true;
    return s;
  }

  void on_resolved(const tcp::resolver::results_type& results) {
    auto self = this->shared_from_this();
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(std::chrono::nanoseconds(secs_to_ns(net_.opt.connect_timeout_seconds)));
    tcp_layer.async_connect(results, [self](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail("cannot connect to " + self->net_.url.host_port() + ": " + ec.message());
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true), ignored);
      self->on_connected();
    });
  }

  void on_connected() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      handshake();
    } else {
      auto& tls = ws_.next_layer();
      // SNI, and a certificate that must name the host (SSL_set_tlsext_host_name is a macro
      // with a C cast: call what it does).
      SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(net_.url.host.c_str()));
      tls.set_verify_callback(ssl::host_name_verification(net_.url.host));
      auto self = this->shared_from_this();
      tls.async_handshake(ssl::stream_base::client, [self](beast::error_code ec) {
        if (ec) {
          return self->fail("TLS handshake with " + self->net_.url.host + " failed: " + ec.message() +
                            " (is the certificate trusted? a private CA needs --ca-file)");
        }
        self->handshake();
      });
    }
  }

  void handshake() {
    auto self = this->shared_from_this();
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "booktape");
    }));
    ws_.async_handshake(net_.url.host_port(), net_.url.target, [self](beast::error_code ec) {
      if (ec) return self->fail("websocket handshake with " + self->net_.url.host_port() + self->net_.url.target + " failed: " + ec.message());
      self->on_live();
    });
  }

  void on_live() {
    beast::get_lowest_layer(ws_).expires_never();
    // Close handshakes are bounded; idle time is judged by our own watchdog (data, not pings).
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(5);
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    live_ = true;
    connected_at_ = last_data_ = monotonic_now();
    unanswered_ping_ = 0;
    subscribed_ = shard_.plan.assets;
    net_.stats.connects.fetch_add(1, std::memory_order_relaxed);
    net_.stats.live_connections.fetch_add(1, std::memory_order_relaxed);
    ++shard_.connects;
    net_.notices.enqueue("connection " + std::to_string(seq_) + " (shard " +
                         std::to_string(shard_.index) + ") up, subscribing " +
                         std::to_string(shard_.plan.assets.size()) + " assets");
    auto* e = new PipelineEvent;
    e->kind = PipelineEvent::Kind::kSessionOpen;
    e->shard = static_cast<std::uint32_t>(shard_.index);
    e->at = realtime_now();
    e->session = session_info();
    net_.push_event(e);
    send("{\"assets_ids\":" + assets_json(subscribed_) +
         ",\"type\":\"market\",\"initial_dump\":true,\"custom_feature_enabled\":" +
         (net_.opt.custom_feature_enabled ? "true" : "false") + "}");
    read();
    arm_ping();
    arm_watchdog();
    // The plan emptied while this connection was being set up (apply_plan waits for live):
    // nothing to record on it, and the stale check needs assets, so it would stay open forever.
    if (subscribed_.empty()) close(kNoAssetsLeftReason, kCloseGraceNs, false);
  }

  // Some of a message at a time (usually all of it), at most max_frame_bytes + 1 in buf_: one
  // byte more than that makes it oversized, and the rest of it streams by in chunks.
  void read() {
    auto self = this->shared_from_this();
    reading_ = true;
    const std::size_t limit =
        skipping_ ? kSkipChunk : net_.opt.max_frame_bytes + 1 - std::min(buf_.size(), net_.opt.max_frame_bytes);
    ws_.async_read_some(buf_, limit,
                        [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // A frame too large to keep: hash what streamed by, keep its first bytes, and let it go.
  void skip_buffered() {
    const auto data = buf_.data();
    const auto* p = static_cast<const char*>(data.data());
    if (!skipping_) {
      skipping_ = true;
      skip_sha_.reset();
      stub_ = OversizedStub{};
      stub_.opcode = ws_.got_text() ? 1 : 2;
      stub_.prefix_length = static_cast<std::uint8_t>(std::min(data.size(), OversizedStub::kPrefixBytes));
      std::memcpy(stub_.prefix, p, stub_.prefix_length);
      net_.stats.oversized_frames.fetch_add(1, std::memory_order_relaxed);
    }
    skip_sha_.update(p, data.size());
    stub_.length += data.size();
    buf_.consume(data.size());
  }

  // The session's close record goes into the ring after the last frame this connection read:
  // when the connection ends while a read is outstanding, it waits for that read's handler
  // (which runs: with the frame, or aborted by the close). Not at the stop's deadline: the loop
  // stops right after its aborts, and that handler would never run.
  void push_close(PipelineEvent* e) {
    if (reading_ && !net_.loop_ending) {
      close_event_ = e;
    } else {
      push_closing(e);
    }
  }

  // The connection's last records: what it left unread (a cut-off), then its close.
  void push_closing(PipelineEvent* close) {
    if (loss_event_ != nullptr) {
      loss_event_->loss.sessions.front().first_message_sequence = msg_seq_ + 1;
      net_.push_event(std::exchange(loss_event_, nullptr));
    }
    net_.push_event(close);
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    // Part of a message (one over 1.5 KB takes two reads; an oversized one many): read on, no
    // clocks read.
    if (!ec && !ended_ && !ws_.is_message_done()) {
      if (skipping_ || buf_.size() > net_.opt.max_frame_bytes) skip_buffered();
      return read();
    }
    // Stamp first: the receive time is when the message's last read completed.
    const UnixNanos recv = realtime_now();
    const MonoNanos mono = monotonic_now();
    if (ended_) {
      // Ended while this read was under way: keep a frame it completed (it was received), then
      // the close record it was holding back.
      if (!ec && ws_.is_message_done()) deliver(recv, mono);
      if (close_event_ != nullptr) push_closing(std::exchange(close_event_, nullptr));
      return;
    }
    if (ec) {
      if (ec == websocket::error::closed) {
        const auto& r = ws_.reason();
        return fail("the venue closed the connection (code " + std::to_string(r.code) +
                    (r.reason.empty() ? "" : ", " + std::string(r.reason.data(), r.reason.size())) + ")");
      }
      return fail("connection lost: " + ec.message());
    }
    const auto data = buf_.data();
    const auto* p = static_cast<const char*>(data.data());
    const std::size_t n = data.size();
    const bool text = ws_.got_text();
    if (deliver(recv, mono)) return read();  // an oversized frame's stub
    if (text && text_is(p, n, "PONG")) {
      unanswered_ping_ = 0;
      net_.stats.pongs.fetch_add(1, std::memory_order_relaxed);
    } else if (text && text_is(p, n, "INVALID OPERATION")) {
      net_.stats.invalid_operations.fetch_add(1, std::memory_order_relaxed);
      if (pending_op_ != 0 && mono - pending_op_ < 10 * kNanosPerSecond) {
        close("the venue refused a subscription change (INVALID OPERATION): reconnecting "
              "with the whole set",
              kCloseGraceNs, false);  // reading on: frames still on their way are kept
      }
    } else if (!(text && text_is(p, n, "NO NEW ASSETS"))) {
      last_data_ = mono;
      got_data_ = true;
    }
    buf_.consume(n);
    read();
  }

  // The message just completed goes into the ring: the frame, or the stub of one over
  // max_frame_bytes (its place in the sequences, length, SHA-256 and first bytes). Returns true
  // for a stub (buf_ is then empty).
  bool deliver(UnixNanos recv, MonoNanos mono) {
    if (!skipping_ && buf_.size() <= net_.opt.max_frame_bytes) {
      const auto data = buf_.data();
      net_.push_frame(static_cast<std::uint32_t>(shard_.index), seq_, ++msg_seq_,
                      ws_.got_text() ? 1 : 2, static_cast<const char*>(data.data()), data.size(),
                      recv, mono);
      return false;
    }
    skip_buffered();
    stub_.sha256 = skip_sha_.finish();
    skipping_ = false;
    net_.push_frame(static_cast<std::uint32_t>(shard_.index), seq_, ++msg_seq_, kOversizedOpcode,
                    reinterpret_cast<const char*>(&stub_), sizeof stub_, recv, mono);
    last_data_ = mono;  // the venue is sending
    got_data_ = true;
    return true;
  }

  void arm_ping() {
    auto self = this->shared_from_this();
    ping_timer_.expires_after(std::chrono::nanoseconds(secs_to_ns(net_.opt.ping_interval_seconds)));
    ping_timer_.async_wait([self](beast::error_code ec) {
      if (ec || self->ended_) return;
      self->send("PING");  // the venue's text heartbeat; it answers PONG
      if (self->unanswered_ping_ == 0) self->unanswered_ping_ = monotonic_now();
      self->net_.stats.pings.fetch_add(1, std::memory_order_relaxed);
      self->arm_ping();
    });
  }

  void arm_watchdog() {
    auto self = this->shared_from_this();
    watchdog_.expires_after(std::chrono::seconds(1));
    watchdog_.async_wait([self](beast::error_code ec) {
      if (ec || self->ended_ || self->closing_) return;  // closing: the grace timer decides
      const MonoNanos now = monotonic_now();
      NetworkStage::Impl& net = self->net_;
      // Both checks wait while the kernel holds bytes we have not read: then we are the slow
      // side (the process was paused or starved, the stages are behind), the data and the
      // PONG are in that backlog, and closing would throw away everything the venue queued.
      if (self->unread_bytes_waiting()) return self->arm_watchdog();
      // Liveness from data: the venue can keep answering PONG while sending nothing.
      if (!self->subscribed_.empty() &&
          now - self->last_data_ > secs_to_ns(net.opt.stale_connection_seconds)) {
        net.stats.stale_reconnects.fetch_add(1, std::memory_order_relaxed);
        self->went_quiet_ = self->got_data_;
        return self->close("stale: no market data for " +
                               std::to_string(static_cast<int>(net.opt.stale_connection_seconds)) +
                               " s while subscribed to " + std::to_string(self->subscribed_.size()) +
                               " assets",
                           kCloseGraceNs, false);
      }
      // A PONG is owed from the oldest PING not answered yet.
      if (self->unanswered_ping_ != 0 &&
          now - self->unanswered_ping_ > secs_to_ns(net.opt.pong_timeout_seconds)) {
        net.stats.pong_timeouts.fetch_add(1, std::memory_order_relaxed);
        return self->close("no PONG for " +
                               std::to_string(static_cast<int>(net.opt.pong_timeout_seconds)) + " s",
                           kCloseGraceNs, false);
      }
      self->arm_watchdog();
    });
  }

  [[nodiscard]] bool unread_bytes_waiting() {
    beast::error_code ec;
    const std::size_t n = beast::get_lowest_layer(ws_).socket().available(ec);
    return !ec && n > 0;
  }

  void send(std::string text) {
    if (ended_ || closing_) return;
    writes_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    auto self = this->shared_from_this();
    ws_.async_write(asio::buffer(writes_.front()), [self](beast::error_code ec, std::size_t) {
      self->writes_.pop_front();
      self->writing_ = false;
      if (ec) return self->fail("write failed: " + ec.message());
      if (self->ended_) return;
      if (!self->writes_.empty()) return self->write_next();  // a stop's unsubscribe, too
      if (self->closing_) self->end_our_side();
    });
  }

  // The connection is over: record why (once), then let the shard decide what comes next.
  void end(const std::string& why) {
    if (ended_) return;
    ended_ = true;
    // Once we started closing, that is the reason, whatever error the handshake ended with.
    const std::string reason = closing_ ? close_reason_ : why;
    ping_timer_.cancel();
    watchdog_.cancel();
    grace_.cancel();
    lookup_timer_.cancel();  // a lookup under way is left to finish alone
    const bool was_live = live_;
    if (was_live) {
      net_.stats.disconnects.fetch_add(1, std::memory_order_relaxed);
      net_.stats.live_connections.fetch_sub(1, std::memory_order_relaxed);
    } else {
      net_.stats.connect_failures.fetch_add(1, std::memory_order_relaxed);
    }
    auto* e = new PipelineEvent;
    e->kind = PipelineEvent::Kind::kSessionClose;
    e->shard = static_cast<std::uint32_t>(shard_.index);
    e->at = realtime_now();
    e->session.session_id = session_id_;
    e->session.run_id = net_.opt.run_id;
    e->session.connection_sequence = seq_;
    e->reason = was_live ? reason : "connect failed: " + reason;
    e->tokens_dropped = reason == kNoAssetsLeftReason;
    const CloseKind kind = close_kind_of(reason, was_live);
    net_.stats.closes_by_kind[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    ++shard_.closes;
    shard_.last_close = e->reason;
    push_close(e);  // from here on the stages own it
    net_.conn_ended(shard_, this, seq_, reason, was_live,
                    was_live ? monotonic_now() - connected_at_ : 0, went_quiet_);
  }

  void fail(const std::string& reason) {
    if (ended_) return;
    end(reason);
    hard_close();
  }

  void hard_close() {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }

  NetworkStage::Impl& net_;
  Shard& shard_;
  websocket::stream<Stream> ws_;
  std::optional<NameLookup> lookup_;
  MonoNanos lookup_deadline_ = 0;
  asio::steady_timer lookup_timer_;
  asio::steady_timer ping_timer_, watchdog_, grace_;
  beast::flat_buffer buf_;
  std::deque<std::string> writes_;
  bool writing_ = false;
  bool reading_ = false;                  // an async_read is outstanding
  PipelineEvent* close_event_ = nullptr;  // held back until that read's handler runs
  PipelineEvent* loss_event_ = nullptr;   // a cut-off's unread bytes, pushed before the close
  bool live_ = false;
  bool closing_ = false;  // we are closing: reading until the venue closes or the grace ends
  bool fin_sent_ = false;
  bool skipping_ = false;  // reading through a frame over max_frame_bytes
  Sha256 skip_sha_;        // of the skipped frame, as it streams by
  OversizedStub stub_;
  bool ended_ = false;
  std::string close_reason_;
  std::uint64_t seq_ = 0;
  std::uint64_t msg_seq_ = 0;
  std::string session_id_;
  std::vector<std::string> subscribed_;
  MonoNanos connected_at_ = 0, last_data_ = 0, pending_op_ = 0;
  bool got_data_ = false;    // a market frame arrived on this connection
  bool went_quiet_ = false;  // closed by us as stale after it had delivered data
  MonoNanos unanswered_ping_ = 0;  // when the oldest PING still owed a PONG was sent (0: none)
};

}  // namespace

// ------------------------------------------------------------------------- the stage --------

void NetworkStage::Impl::push_frame(std::uint32_t shard, std::uint64_t conn, std::uint64_t msg,
                                    std::uint8_t opcode, const char* data, std::size_t n,
                                    UnixNanos recv, MonoNanos mono) {
  RecordHeader* h = ring.try_claim(n);
  if (h == nullptr) {
    // A stage is behind: wait (TCP pushes back on the venue), counted and alarmed. The archive
    // never drops a frame.
    stats.ring_full_waits.fetch_add(1, std::memory_order_relaxed);
    stats.ring_high_water.store(ring.capacity(), std::memory_order_relaxed);  // it was full
    const MonoNanos t0 = monotonic_now();
    h = wait_for_room(n);
    stats.ring_full_ns.fetch_add(static_cast<std::uint64_t>(monotonic_now() - t0),
                                 std::memory_order_relaxed);
  }
  h->type = RecordType::kFrame;
  h->opcode = opcode;
  h->connection = shard;
  h->received_ns = recv;
  h->monotonic_ns = mono;
  h->connection_sequence = conn;
  h->message_sequence = msg;
  h->global_sequence = ++global_seq;
  h->aux = 0;
  std::memcpy(PipelineRing::payload_of(h), data, n);
  ring.commit(h);
  bells.data.ring();
  const std::uint64_t frames = stats.frames.fetch_add(1, std::memory_order_relaxed) + 1;
  stats.bytes.fetch_add(n, std::memory_order_relaxed);
  Shard& sh = *shards[shard];
  ++sh.frames;
  sh.bytes += n;
  stats.last_frame_mono.store(mono, std::memory_order_relaxed);
  if ((frames & 1023) == 0) {  // a high-water mark without touching consumer lines every frame
    const std::uint64_t used = ring.used();
    if (used > stats.ring_high_water.load(std::memory_order_relaxed))
      stats.ring_high_water.store(used, std::memory_order_relaxed);
  }
}

RecordHeader* NetworkStage::Impl::wait_for_room(std::size_t n) {
  // Sleep until a stage releases records (it rings `space`), leaving the core to the stage
  // that is behind; the timeout only bounds a missed wake-up.
  RecordHeader* h = nullptr;
  while ((h = ring.try_claim(n)) == nullptr) {
    bells.data.ring();
    bells.space.park(1'000'000, [&] { return !ring.would_fit(n); });
  }
  return h;
}

void NetworkStage::Impl::push_event(PipelineEvent* e) {
  RecordHeader* h = ring.try_claim(0);
  if (h == nullptr) h = wait_for_room(0);
  h->type = RecordType::kControl;
  h->opcode = 0;
  h->connection = e->shard;
  h->received_ns = e->at;
  h->monotonic_ns = monotonic_now();
  h->connection_sequence = e->session.connection_sequence;
  h->message_sequence = 0;
  h->global_sequence = global_seq;  // the last frame before it
  h->aux = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(e));
  ring.commit(h);
  bells.data.ring();
}

void NetworkStage::Impl::ensure_shard(std::size_t i) {
  while (shards.size() <= i) {
    auto s = std::make_unique<Shard>();
    s->index = shards.size();
    s->retry = std::make_unique<asio::steady_timer>(ioc);
    shards.push_back(std::move(s));
  }
  stats.shards.store(static_cast<std::uint32_t>(shards.size()), std::memory_order_relaxed);
}

std::int64_t NetworkStage::Impl::stagger_ns() {
  // Connections open at least `connect_stagger` apart: many sockets at once have drawn 429s.
  const MonoNanos now = monotonic_now();
  next_connect_at = std::max(now, next_connect_at + secs_to_ns(opt.connect_stagger_seconds));
  return next_connect_at - now;
}

std::int64_t NetworkStage::Impl::backoff_ns(Shard& s) {
  const double base = std::min(opt.backoff_max_seconds,
                               opt.backoff_initial_seconds * static_cast<double>(1ull << std::min(s.attempts, 20)));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  ++s.attempts;
  return secs_to_ns(std::min(opt.backoff_max_seconds * 1.2, base * jitter(rng)));
}

void NetworkStage::Impl::schedule_connect(Shard& s, std::int64_t delay_ns) {
  if (stopping || s.retry_pending) return;
  s.retry_pending = true;
  s.retry->expires_after(std::chrono::nanoseconds(delay_ns));
  Shard* sp = &s;
  s.retry->async_wait([this, sp](beast::error_code ec) {
    sp->retry_pending = false;
    if (ec || stopping || sp->conn || sp->plan.assets.empty()) return;
    connect(*sp);
  });
}

void NetworkStage::Impl::connect(Shard& s) {
  if (tls) {
    auto c = std::make_shared<ConnImpl<beast::ssl_stream<beast::tcp_stream>>>(*this, s, ioc, *tls);
    s.conn = c;
    c->start();
  } else {
    auto c = std::make_shared<ConnImpl<beast::tcp_stream>>(*this, s, ioc);
    s.conn = c;
    c->start();
  }
}

void NetworkStage::Impl::conn_ended(Shard& s, const Conn* c, std::uint64_t seq,
                                    const std::string& reason, bool was_live, std::int64_t live_ns,
                                    bool went_quiet) {
  if (s.conn.get() != c) return;
  // Keep the object alive until its own handlers finish; drop the shard's reference.
  asio::post(ioc, [keep = std::move(s.conn)] {});
  if (stopping) return maybe_finish_stop();
  std::string note = "connection " + std::to_string(seq) + " (shard " + std::to_string(s.index) +
                     ") " + (was_live ? "closed: " : "failed: ") + reason;
  if (!s.plan.assets.empty()) {
    // A healthy period resets the backoff. So does a stale close of a connection that had
    // delivered data: the link worked and we chose to drop it (its tokens went quiet), so
    // doubling the wait after every such close would leave quiet tokens unrecorded most of
    // the time. A connection that never delivered anything still backs off.
    if (was_live && (live_ns >= secs_to_ns(opt.backoff_reset_after_seconds) || went_quiet)) {
      s.attempts = 0;
    }
    const std::int64_t delay = backoff_ns(s);
    char tail[64];
    std::snprintf(tail, sizeof tail, "; reconnecting in %.1f s", static_cast<double>(delay) / 1e9);
    note += tail;
    schedule_connect(s, delay);
  }
  notices.enqueue(std::move(note));
}

void NetworkStage::Impl::publish_health() {
  ConnectionsHealth& out = health.back();
  out.taken_mono = monotonic_now();
  out.shards.resize(shards.size());
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const Shard& s = *shards[i];
    ConnectionHealth& h = out.shards[i];
    h.shard = static_cast<std::uint32_t>(i);
    h.assets = static_cast<std::uint32_t>(s.plan.assets.size());
    h.frames = s.frames;
    h.bytes = s.bytes;
    h.connects = s.connects;
    h.closes = s.closes;
    h.last_close = s.last_close;  // reuses the slot's storage
    h.up = false;
    h.connection = 0;
    h.up_since = h.last_data_mono = 0;
    if (s.conn) s.conn->fill(h);
  }
  health.publish();
  if (stopping) return;
  health_timer->expires_after(std::chrono::seconds(1));
  health_timer->async_wait([this](beast::error_code ec) {
    if (!ec) publish_health();
  });
}

void NetworkStage::Impl::maybe_finish_stop() {
  for (const auto& s : shards)
    if (s->conn) return;
  guard.reset();  // nothing left: run() returns once the last handlers are done
  if (stop_timer) stop_timer->cancel();
  if (health_timer) health_timer->cancel();
}

NetworkStage::NetworkStage(NetworkOptions options, PipelineRing& ring, PipelineBells& bells)
    : impl_(std::make_unique<Impl>(std::move(options), ring, bells)) {}

NetworkStage::~NetworkStage() = default;

const NetworkStats& NetworkStage::stats() const noexcept { return impl_->stats; }

const ConnectionsHealth& NetworkStage::connections(bool* fresh) {
  const bool took = impl_->health.take();
  if (fresh != nullptr) *fresh = took;
  return impl_->health.front();
}

const char* to_string(CloseKind k) noexcept {
  switch (k) {
    case CloseKind::kConnectFailed: return "connect_failed";
    case CloseKind::kStale: return "stale";
    case CloseKind::kPongTimeout: return "pong_timeout";
    case CloseKind::kRefusedOperation: return "refused_operation";
    case CloseKind::kVenueClosed: return "venue_closed";
    case CloseKind::kConnectionLost: return "connection_lost";
    case CloseKind::kOversizedFrame: return "oversized_frame";
    case CloseKind::kWriteFailed: return "write_failed";
    case CloseKind::kNoAssets: return "no_assets";
    case CloseKind::kShutdown: return "shutdown";
    case CloseKind::kCount: break;
  }
  return "?";
}

CloseKind close_kind_of(std::string_view reason, bool was_live) noexcept {
  if (reason == "shutdown") return CloseKind::kShutdown;
  if (reason == kNoAssetsLeftReason) return CloseKind::kNoAssets;
  if (!was_live) return CloseKind::kConnectFailed;
  if (reason.starts_with("stale:")) return CloseKind::kStale;
  if (reason.starts_with("no PONG")) return CloseKind::kPongTimeout;
  if (reason.starts_with("the venue refused")) return CloseKind::kRefusedOperation;
  if (reason.starts_with("the venue closed")) return CloseKind::kVenueClosed;
  if (reason.starts_with("a frame larger")) return CloseKind::kOversizedFrame;
  if (reason.starts_with("write failed")) return CloseKind::kWriteFailed;
  return CloseKind::kConnectionLost;
}
bool NetworkStage::pop_notice(std::string& out) { return impl_->notices.try_dequeue(out); }

void NetworkStage::set_shard(std::size_t shard, ShardPlan plan) {
  asio::post(impl_->ioc, [this, shard, plan = std::move(plan)]() mutable {
    Impl& im = *impl_;
    if (im.stopping) return;
    im.ensure_shard(shard);
    Shard& s = *im.shards[shard];
    for (const auto& a : s.plan.assets) im.token_shard.erase(a);
    s.plan = std::move(plan);
    for (const auto& a : s.plan.assets) im.token_shard[a] = shard;
    if (s.conn) {
      s.conn->apply_plan();
    } else if (!s.plan.assets.empty()) {
      im.schedule_connect(s, im.stagger_ns());
    }
  });
}

void NetworkStage::resubscribe(const std::string& token) {
  asio::post(impl_->ioc, [this, token] {
    Impl& im = *impl_;
    const auto it = im.token_shard.find(token);
    if (it == im.token_shard.end()) return;
    Shard& s = *im.shards[it->second];
    if (s.conn) s.conn->resubscribe(token);
  });
}

void NetworkStage::run() {
  Impl& im = *impl_;
  if (im.opt.publish_connections && !im.health_timer) {
    im.health_timer = std::make_unique<asio::steady_timer>(im.ioc);
    asio::post(im.ioc, [&im] { im.publish_health(); });
  }
  im.ioc.run();
}

void NetworkStage::stop() {
  asio::post(impl_->ioc, [this] {
    Impl& im = *impl_;
    if (im.stopping) return;
    im.stopping = true;
    for (auto& s : im.shards) {
      s->retry->cancel();
      if (s->conn) s->conn->close("shutdown", secs_to_ns(im.opt.stop_grace_seconds), true);
    }
    // Each connection drains for the grace; a second more, then the loop ends regardless.
    im.stop_timer = std::make_unique<asio::steady_timer>(
        im.ioc, std::chrono::nanoseconds(secs_to_ns(im.opt.stop_grace_seconds + 1)));
    im.stop_timer->async_wait([&im](beast::error_code ec) {
      if (ec) return;
      // Handshakes that did not finish: end those sessions now (each still gets its record).
      im.loop_ending = true;
      for (auto& sh : im.shards) {
        if (sh->conn) sh->conn->abort("shutdown");
      }
      im.ioc.stop();
    });
    im.maybe_finish_stop();
  });
}

}  // namespace booktape
