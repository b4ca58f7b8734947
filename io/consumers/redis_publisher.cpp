#include "io/consumers/redis_publisher.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "io/consumers/consumer_json.hpp"

namespace booktape {

namespace {

std::int64_t secs_to_ns(double s) {
  return static_cast<std::int64_t>(s * 1e9);
}

// What the reply at the head of the pipeline answers.
enum class Cmd : std::uint8_t { kAuth, kSelect, kBookPublish, kBookSet, kTrade, kRefresh };
struct InFlight {
  Cmd cmd;
  std::uint32_t slot;
};

// The one reply being parsed: our reply functions fill it instead of building objects, so
// reading replies allocates nothing. Only the top level matters (our commands answer +OK, an
// integer, or an error).
struct ReplyState {
  bool error = false;
  bool integer = false;
  long long value = 0;
  char text[160] = {};
};

ReplyState* state_of(const redisReadTask* task) {
  return static_cast<ReplyState*>(task->privdata);
}

void* on_string(const redisReadTask* task, char* str, size_t len) {
  ReplyState* s = state_of(task);
  if (task->parent == nullptr && task->type == REDIS_REPLY_ERROR) {
    s->error = true;
    const std::size_t n = std::min(len, sizeof s->text - 1);
    std::memcpy(s->text, str, n);
    s->text[n] = '\0';
  }
  return s;
}
void* on_array(const redisReadTask* task, int) {
  return state_of(task);
}
void* on_integer(const redisReadTask* task, long long v) {
  ReplyState* s = state_of(task);
  if (task->parent == nullptr) {
    s->integer = true;
    s->value = v;
  }
  return s;
}
void* on_nil(const redisReadTask* task) {
  return state_of(task);
}
void on_free(void*) {}

redisReplyObjectFunctions kNoObjects = {on_string, on_array, on_integer, on_nil, on_free};

// RESP: *N\r\n then $len\r\nbytes\r\n per argument.
void resp_header(std::string& out, int args) {
  out += '*';
  char buf[16];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, args).ptr);
  out += "\r\n";
}
void resp_arg(std::string& out, std::string_view a) {
  out += '$';
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, a.size()).ptr);
  out += "\r\n";
  out.append(a);
  out += "\r\n";
}
// An argument made of two parts (a key prefix and an asset id), without a temporary.
void resp_arg2(std::string& out, std::string_view a, std::string_view b) {
  out += '$';
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, a.size() + b.size()).ptr);
  out += "\r\n";
  out.append(a);
  out.append(b);
  out += "\r\n";
}

constexpr std::string_view kBookChannel = "polymarket:orderbook:";
constexpr std::string_view kBookKey = "orderbook:polymarket:";
constexpr std::string_view kTradeChannel = "polymarket:trade:";
constexpr std::int64_t kReadEveryNs = 100'000;  // replies only pace flow control: no busy reads

}  // namespace

struct RedisPublisher::Impl {
  Impl(RedisOptions o, const shm::TableView& t, std::function<void(std::string)> n)
      : opt(std::move(o)),
        table(t),
        notice(std::move(n)),
        ttl_ms(std::max<std::int64_t>(1, static_cast<std::int64_t>(opt.ttl_seconds * 1000))),
        backoff_ns(secs_to_ns(opt.backoff_initial_seconds)) {
    const std::size_t slots = table.header().slot_count;
    pending.assign(slots, 0);
    refresh_state.assign(slots, kNever);
    trades.resize(std::max<std::size_t>(opt.trade_backlog, 1));
    in_flight.resize(opt.max_in_flight + 16);  // + AUTH, SELECT
    cmd.reserve(64 << 10);
    json.reserve(16 << 10);
  }
  ~Impl() { disconnect(); }

  enum class Phase : std::uint8_t { kDown, kConnecting, kReady };
  static constexpr std::int64_t kNever = -1;  // refresh_state: not SET since the connection
  static constexpr std::int64_t kDead = -2;   // SET, but not live or rest: let it expire

  void connect(MonoNanos now);
  void check_connected(MonoNanos now);
  void fail(MonoNanos now, const std::string& why);
  void disconnect();
  bool room() const noexcept {
    return in_flight_count + 3 <= opt.max_in_flight &&
           (c == nullptr || sdslen(c->obuf) < opt.max_output_bytes);
  }
  void push_in_flight(Cmd k, std::uint32_t slot) {
    in_flight[(if_head + in_flight_count) % in_flight.size()] = InFlight{k, slot};
    ++in_flight_count;
  }
  void append(MonoNanos now);
  void append_book(std::uint32_t slot, MonoNanos now);
  void append_trade(const TradeRecord& t);
  void append_refreshes(MonoNanos now);
  void flush(MonoNanos now);
  void read_replies(MonoNanos now);
  // False when the connection is of no use (AUTH or SELECT refused).
  bool on_reply(const InFlight& f, const ReplyState& r);
  const std::string& asset_of(std::uint32_t slot);
  const std::string& market_of(std::uint32_t slot);
  void learn_identity(std::uint32_t slot);

  RedisOptions opt;
  const shm::TableView& table;
  std::function<void(std::string)> notice;
  RedisStats stats;
  std::int64_t ttl_ms;

  redisContext* c = nullptr;
  Phase phase = Phase::kDown;
  MonoNanos next_connect = 0, connect_deadline = 0, last_read = 0, next_refresh = 0;
  std::int64_t backoff_ns;
  bool ever_connected = false;
  std::string last_failure;  // to log a failure once, not at every retry
  ReplyState reply;

  // Books waiting for Redis: a flag per slot and the slots in order (each at most once).
  std::vector<std::uint8_t> pending;
  std::vector<std::uint32_t> pending_list;
  std::size_t pending_pos = 0;
  // Per slot: mono time of its last SET or refresh, or kNever / kDead.
  std::vector<std::int64_t> refresh_state;
  std::uint32_t refresh_pos = 0;
  // Trades waiting: a ring.
  std::vector<TradeRecord> trades;
  std::size_t trade_head = 0, trade_count = 0;
  // Commands written or buffered, awaiting replies, in order: a ring.
  std::vector<InFlight> in_flight;
  std::size_t if_head = 0, in_flight_count = 0;
  // Frame receipt times of the PUBLISHes buffered since the last complete write.
  std::vector<std::int64_t> unsent_received;
  // Identities learnt from the table (once per token).
  struct Identity {
    std::string asset, market;
  };
  std::vector<Identity> identities;
  shm::Book book;
  BookMessage message;
  std::string cmd, json;
  std::uint64_t published = 0, trades_ok = 0, refreshed = 0, conflated = 0, errors = 0;
  std::uint64_t trades_dropped = 0;
};

void RedisPublisher::Impl::connect(MonoNanos now) {
  const RedisEndpoint& e = opt.endpoint;
  // A host name is resolved here (getaddrinfo): on this thread, never the book's.
  c = e.unix_path.empty() ? redisConnectNonBlock(e.host.c_str(), e.port)
                          : redisConnectUnixNonBlock(e.unix_path.c_str());
  if (c == nullptr || c->err != 0) {
    fail(now, c == nullptr ? std::string("out of memory") : std::string(c->errstr));
    return;
  }
  phase = Phase::kConnecting;
  connect_deadline = now + secs_to_ns(opt.connect_timeout_seconds);
}

void RedisPublisher::Impl::check_connected(MonoNanos now) {
  pollfd p{c->fd, POLLOUT, 0};
  const int r = ::poll(&p, 1, 0);
  if (r == 0) {
    if (now >= connect_deadline) fail(now, "connect timed out");
    return;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (r < 0 || ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    fail(now, std::strerror(err != 0 ? err : errno));
    return;
  }
  // Replies are parsed into `reply`, not into objects.
  c->reader->fn = &kNoObjects;
  c->reader->privdata = &reply;
  phase = Phase::kReady;
  stats.connects.fetch_add(1, std::memory_order_relaxed);
  stats.connected.store(true, std::memory_order_relaxed);
  backoff_ns = secs_to_ns(opt.backoff_initial_seconds);
  last_failure.clear();
  notice("redis: connected to " + opt.endpoint.where() +
         (ever_connected ? " again; publishing every book again" : ""));
  ever_connected = true;
  cmd.clear();
  if (!opt.endpoint.password.empty()) {
    // The password goes into hiredis's buffer only: never into a message or a log line.
    const bool user = !opt.endpoint.username.empty();
    resp_header(cmd, user ? 3 : 2);
    resp_arg(cmd, "AUTH");
    if (user) resp_arg(cmd, opt.endpoint.username);
    resp_arg(cmd, opt.endpoint.password);
    push_in_flight(Cmd::kAuth, 0);
  }
  if (opt.endpoint.db != 0) {
    char db[16];
    resp_header(cmd, 2);
    resp_arg(cmd, "SELECT");
    resp_arg(cmd, std::string_view(db, std::to_chars(db, db + sizeof db, opt.endpoint.db).ptr));
    push_in_flight(Cmd::kSelect, 0);
  }
  if (!cmd.empty()) redisAppendFormattedCommand(c, cmd.data(), cmd.size());
  std::fill(cmd.begin(), cmd.end(), '\0');  // the password leaves our buffer
  cmd.clear();
  // Whatever Redis had may be gone (a restart): every token's latest state goes out again.
  const std::uint32_t used = table.slots_used();
  std::fill(refresh_state.begin(), refresh_state.end(), kNever);
  for (std::uint32_t s = 0; s < used; ++s) {
    if (pending[s] == 0) {
      pending[s] = 1;
      pending_list.push_back(s);
    }
  }
  last_read = now;
}

void RedisPublisher::Impl::fail(MonoNanos now, const std::string& why) {
  ++errors;
  const bool was_ready = phase == Phase::kReady;
  // Commands that were in flight are lost with the connection: books go out again (they are
  // pending from the reconnect on), trades are counted lost.
  while (in_flight_count > 0) {
    const InFlight f = in_flight[if_head];
    if_head = (if_head + 1) % in_flight.size();
    --in_flight_count;
    if (f.cmd == Cmd::kTrade) ++trades_dropped;
  }
  unsent_received.clear();
  disconnect();
  if (was_ready) {
    stats.disconnects.fetch_add(1, std::memory_order_relaxed);
    notice("redis: lost " + opt.endpoint.where() + ": " + why + "; retrying (books and the " +
           "archive go on)");
  } else if (why != last_failure) {
    notice("redis: cannot connect to " + opt.endpoint.where() + ": " + why +
           "; retrying with backoff (books and the archive go on)");
  }
  last_failure = why;
  next_connect = now + backoff_ns;
  backoff_ns = std::min(backoff_ns * 2, secs_to_ns(opt.backoff_max_seconds));
}

void RedisPublisher::Impl::disconnect() {
  if (c != nullptr) {
    redisFree(c);
    c = nullptr;
  }
  phase = Phase::kDown;
  stats.connected.store(false, std::memory_order_relaxed);
}

void RedisPublisher::Impl::learn_identity(std::uint32_t slot) {
  if (identities.size() <= slot) identities.resize(std::size_t{slot} + 1);
  Identity& id = identities[slot];
  if (!id.asset.empty() && !id.market.empty()) return;
  if (table.read_book(slot, book) != shm::ReadResult::kOk) return;
  id.asset = book.asset_id();
  id.market = book.market();
}

const std::string& RedisPublisher::Impl::asset_of(std::uint32_t slot) {
  learn_identity(slot);
  return identities[slot].asset;
}
const std::string& RedisPublisher::Impl::market_of(std::uint32_t slot) {
  learn_identity(slot);
  return identities[slot].market;
}

void RedisPublisher::Impl::append_book(std::uint32_t slot, MonoNanos now) {
  if (table.read_book(slot, book) != shm::ReadResult::kOk) return;
  message.build(json, book, realtime_now());
  const std::string_view id(book.head.asset_id,
                            strnlen(book.head.asset_id, sizeof book.head.asset_id));
  resp_header(cmd, 3);
  resp_arg(cmd, "PUBLISH");
  resp_arg2(cmd, kBookChannel, id);
  resp_arg(cmd, json);
  push_in_flight(Cmd::kBookPublish, slot);
  char ttl[24];
  resp_header(cmd, 5);
  resp_arg(cmd, "SET");
  resp_arg2(cmd, kBookKey, id);
  resp_arg(cmd, json);
  resp_arg(cmd, "PX");
  resp_arg(cmd, std::string_view(ttl, std::to_chars(ttl, ttl + sizeof ttl, ttl_ms).ptr));
  push_in_flight(Cmd::kBookSet, slot);
  const auto st = static_cast<shm::State>(book.head.state);
  refresh_state[slot] = st == shm::State::kLive || st == shm::State::kRest ? now : kDead;
  unsent_received.push_back(book.head.received_ns);
}

void RedisPublisher::Impl::append_trade(const TradeRecord& t) {
  json.clear();
  append_trade_json(json, asset_of(t.slot), market_of(t.slot), t);
  resp_header(cmd, 3);
  resp_arg(cmd, "PUBLISH");
  resp_arg2(cmd, kTradeChannel, asset_of(t.slot));
  resp_arg(cmd, json);
  push_in_flight(Cmd::kTrade, t.slot);
}

void RedisPublisher::Impl::append_refreshes(MonoNanos now) {
  const std::int64_t period = ttl_ms * 1'000'000 / 4;
  if (now < next_refresh) return;
  const std::int64_t half = ttl_ms * 1'000'000 / 2;
  const std::uint32_t used = table.slots_used();
  char ttl[24];
  const std::string_view ttl_text(ttl, std::to_chars(ttl, ttl + sizeof ttl, ttl_ms).ptr);
  while (refresh_pos < used) {
    if (!room() || cmd.size() > (std::size_t{1} << 20)) return;  // the rest next time
    const std::uint32_t s = refresh_pos++;
    const std::int64_t at = refresh_state[s];
    if (at < 0 || now - at < half || pending[s] != 0) continue;
    resp_header(cmd, 3);
    resp_arg(cmd, "PEXPIRE");
    resp_arg2(cmd, kBookKey, asset_of(s));
    resp_arg(cmd, ttl_text);
    push_in_flight(Cmd::kRefresh, s);
    refresh_state[s] = now;
  }
  refresh_pos = 0;
  next_refresh = now + period;
}

void RedisPublisher::Impl::append(MonoNanos now) {
  cmd.clear();
  while (trade_count > 0 && room()) {
    append_trade(trades[trade_head]);
    trade_head = (trade_head + 1) % trades.size();
    --trade_count;
  }
  while (pending_pos < pending_list.size() && room() && cmd.size() < (std::size_t{1} << 20)) {
    const std::uint32_t s = pending_list[pending_pos++];
    pending[s] = 0;
    append_book(s, now);
  }
  if (pending_pos == pending_list.size()) {
    pending_list.clear();  // keeps its capacity
    pending_pos = 0;
  }
  append_refreshes(now);
  if (!cmd.empty() && redisAppendFormattedCommand(c, cmd.data(), cmd.size()) != REDIS_OK)
    fail(now, "out of memory");
}

void RedisPublisher::Impl::flush(MonoNanos now) {
  if (c == nullptr || sdslen(c->obuf) == 0) return;
  int done = 0;
  if (redisBufferWrite(c, &done) != REDIS_OK) {
    fail(now, c->errstr);
    return;
  }
  if (done != 0) {
    const std::int64_t t = realtime_now();
    for (const std::int64_t r : unsent_received) stats.frame_to_publish.record(t - r);
    unsent_received.clear();
  }
}

bool RedisPublisher::Impl::on_reply(const InFlight& f, const ReplyState& r) {
  if (r.error) {
    ++errors;
    const bool setup = f.cmd == Cmd::kAuth || f.cmd == Cmd::kSelect;
    if (setup || errors <= 3) {
      // Redis's own words (they never repeat the password).
      notice(std::string("redis: ") +
             (f.cmd == Cmd::kAuth ? "AUTH"
              : setup             ? "SELECT"
                                  : "a command") +
             " refused: " + r.text);
    }
    if (f.cmd == Cmd::kTrade) ++trades_dropped;
    return !setup;  // without AUTH or the db, every command would fail: reconnect later
  }
  switch (f.cmd) {
    case Cmd::kBookPublish:
      ++published;
      break;
    case Cmd::kTrade:
      ++trades_ok;
      break;
    case Cmd::kRefresh:
      ++refreshed;
      // The key was gone (expired before we came round, or Redis lost it): SET it again.
      if (r.integer && r.value == 0 && pending[f.slot] == 0) {
        pending[f.slot] = 1;
        pending_list.push_back(f.slot);
      }
      break;
    default:
      break;
  }
  return true;
}

void RedisPublisher::Impl::read_replies(MonoNanos now) {
  last_read = now;
  if (redisBufferRead(c) != REDIS_OK) {
    fail(now, c->errstr[0] != '\0' ? c->errstr : "connection closed");
    return;
  }
  for (;;) {
    reply = ReplyState{};
    void* r = nullptr;
    if (redisGetReplyFromReader(c, &r) != REDIS_OK) {
      fail(now, "unreadable reply");
      return;
    }
    if (r == nullptr) break;
    if (in_flight_count == 0) {
      fail(now, "a reply to no command");
      return;
    }
    const InFlight f = in_flight[if_head];
    if_head = (if_head + 1) % in_flight.size();
    --in_flight_count;
    if (!on_reply(f, reply)) {
      fail(now, f.cmd == Cmd::kAuth ? "AUTH refused" : "SELECT refused");
      return;
    }
  }
}

RedisPublisher::RedisPublisher(RedisOptions options, const shm::TableView& table,
                               std::function<void(std::string)> notice)
    : impl_(std::make_unique<Impl>(std::move(options), table, std::move(notice))) {}

RedisPublisher::~RedisPublisher() = default;

const RedisStats& RedisPublisher::stats() const noexcept {
  return impl_->stats;
}

void RedisPublisher::book_changed(std::uint32_t slot) {
  Impl& im = *impl_;
  if (slot >= im.pending.size()) return;
  if (im.pending[slot] != 0) {
    ++im.conflated;  // still waiting: it will go out with the latest state
    return;
  }
  im.pending[slot] = 1;
  im.pending_list.push_back(slot);  // at most one entry per slot: no growth in steady state
}

void RedisPublisher::trade(const TradeRecord& t) {
  Impl& im = *impl_;
  if (im.trade_count == im.trades.size()) {
    ++im.trades_dropped;
    return;
  }
  im.trades[(im.trade_head + im.trade_count) % im.trades.size()] = t;
  ++im.trade_count;
}

std::size_t RedisPublisher::service(MonoNanos now) {
  Impl& im = *impl_;
  std::size_t work = 0;
  if (im.phase == Impl::Phase::kDown && now >= im.next_connect) im.connect(now);
  if (im.phase == Impl::Phase::kConnecting) im.check_connected(now);
  if (im.phase == Impl::Phase::kReady) {
    const std::size_t before = im.in_flight_count;
    im.append(now);
    if (im.c != nullptr) im.flush(now);
    work += im.in_flight_count - std::min(before, im.in_flight_count);
    if (im.c != nullptr && im.in_flight_count > 0 &&
        (now - im.last_read >= kReadEveryNs || !im.room())) {
      const std::size_t waiting = im.in_flight_count;
      im.read_replies(now);
      work += waiting - std::min(waiting, im.in_flight_count);
    }
  }
  RedisStats& s = im.stats;
  s.published.store(im.published, std::memory_order_relaxed);
  s.trades.store(im.trades_ok, std::memory_order_relaxed);
  s.refreshed.store(im.refreshed, std::memory_order_relaxed);
  s.conflated.store(im.conflated, std::memory_order_relaxed);
  s.errors.store(im.errors, std::memory_order_relaxed);
  s.trades_dropped.store(im.trades_dropped, std::memory_order_relaxed);
  return work;
}

void RedisPublisher::drain(std::int64_t budget_ns) {
  Impl& im = *impl_;
  const MonoNanos until = monotonic_now() + budget_ns;
  while (
      im.phase == Impl::Phase::kReady && monotonic_now() < until &&
      (im.in_flight_count > 0 || im.trade_count > 0 || im.pending_pos < im.pending_list.size())) {
    (void)service(monotonic_now());
    pollfd p{im.c != nullptr ? im.c->fd : -1, POLLIN, 0};
    if (im.c != nullptr) (void)::poll(&p, 1, 1);
    im.last_read = 0;  // read at once
  }
  (void)service(monotonic_now());
}

}  // namespace booktape
