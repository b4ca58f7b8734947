#include "io/consumers/consumer_stage.hpp"

#include <concurrentqueue/concurrentqueue.h>
#include <sys/prctl.h>

#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "codecs/book_json.hpp"
#include "codecs/envelope.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"
#include "io/consumers/consumer_json.hpp"

namespace booktape {

namespace {

// Consumers are not latency-critical to the microsecond (a webhook, a Redis subscriber): a
// spin would cost a core at steady rates (measured: ~30% of one at 20 k frames/s with a 20 us
// spin), so the thread naps almost at once, adding up to ~100 us to a message's latency.
constexpr std::int64_t kSpinNs = 2'000;        // spin this long after the last work...
constexpr std::int64_t kNapNs = 100'000;       // ...then nap this long at a time...
constexpr std::int64_t kNapForNs = 5'000'000;  // ...for this long, then park
constexpr std::int64_t kParkNs = 50'000'000;   // a park ends on a ring, or after this
constexpr std::int64_t kTickNs = 100'000'000;  // stale scans, disconnects, counters
constexpr std::size_t kBatch = 4096;           // feed entries a pass takes at most

void append_text_or_null(std::string& out, const std::string* s) {
  if (s == nullptr) {
    out += "null";
  } else {
    append_json_string(out, *s);
  }
}

}  // namespace

struct ConsumerStage::Impl {
  Impl(ConsumerStageOptions o, ConsumerFeed& f) : opt(std::move(o)), feed(f) {
    auto note = [this](std::string s) { notices.enqueue(std::move(s)); };
    if (opt.redis) redis = std::make_unique<RedisPublisher>(*opt.redis, feed.table().view(), note);
    if (!opt.alerts.empty()) {
      delivery = std::make_unique<AlertDelivery>(opt.delivery, note);
      edges.resize(opt.alerts.size());
      feed_edges.resize(opt.alerts.size());
    }
    cooldown_ns = static_cast<std::int64_t>(opt.alert_cooldown_seconds * 1e9);
  }

  void on_book(std::uint32_t slot, std::int64_t now_mono, std::int64_t now_utc);
  void tick(std::int64_t now_mono, std::int64_t now_utc);
  void fire(const AlertRule& r, std::int64_t value, const shm::Top* top, std::uint32_t slot,
            std::int64_t now_utc);
  void take_tokens();
  void idle(std::size_t work);

  ConsumerStageOptions opt;
  ConsumerFeed& feed;
  ConsumerStageStats stats;
  // Before the publisher and the delivery, so it outlives them: the delivery thread writes
  // notices until it is joined (in the delivery's destructor).
  moodycamel::ConcurrentQueue<std::string> notices;
  std::unique_ptr<RedisPublisher> redis;
  std::unique_ptr<AlertDelivery> delivery;
  std::int64_t cooldown_ns = 0;

  // Per rule, per slot (grown as tokens appear: never per update).
  std::vector<std::vector<AlertEdge>> edges;
  std::vector<AlertEdge> feed_edges;  // disconnects rules
  std::uint64_t connects_seen = 0, failures_base = 0;
  std::uint64_t books = 0, trades = 0, fired = 0, parks = 0;

  // Token metadata: handed over by the control thread (rare), swapped in by this one.
  std::mutex tokens_mu;
  std::vector<TokenMeta> tokens_in;
  std::atomic<bool> tokens_ready{false};
  std::unordered_map<std::string, TokenMeta> meta;

  // The last alerts fired, newest first: written by this thread, read by the listener's.
  mutable std::mutex recent_mu;
  std::deque<std::string> recent;

  std::int64_t idle_since = 0;
  std::int64_t next_tick = 0;
};

void ConsumerStage::Impl::fire(const AlertRule& r, std::int64_t value, const shm::Top* top,
                               std::uint32_t slot, std::int64_t now_utc) {
  ++fired;
  std::string asset;
  if (top != nullptr) {
    shm::Book b;
    if (feed.table().view().read_book(slot, b) == shm::ReadResult::kOk) asset = b.asset_id();
  }
  const auto it = meta.find(asset);
  const TokenMeta* m = it == meta.end() ? nullptr : &it->second;
  std::string j = "{\"rule\":";
  append_json_string(j, r.text);
  j += ",\"asset_id\":";
  append_text_or_null(j, top != nullptr ? &asset : nullptr);
  j += ",\"market\":";
  append_text_or_null(j, m != nullptr && !m->slug.empty() ? &m->slug : nullptr);
  j += ",\"outcome\":";
  append_text_or_null(j, m != nullptr && !m->outcome.empty() ? &m->outcome : nullptr);
  j += ",\"condition_id\":";
  append_text_or_null(j, m != nullptr && !m->condition_id.empty() ? &m->condition_id : nullptr);
  j += ",\"value\":";
  append_json_string(j, format_alert_value(r, value));
  j += ",\"best_bid\":";
  append_price_or_null(j, top != nullptr ? top->best_bid : shm::kNoPrice);
  j += ",\"best_ask\":";
  append_price_or_null(j, top != nullptr ? top->best_ask : shm::kNoPrice);
  j += ",\"state\":";
  if (top != nullptr)
    append_json_string(j, shm::state_name(top->state));
  else
    j += "null";
  j += ",\"received_at_utc\":";
  if (top != nullptr && top->received_ns > 0)
    append_quoted_utc(j, top->received_ns);
  else
    j += "null";
  j += ",\"fired_at_utc\":";
  append_quoted_utc(j, now_utc);
  j += '}';
  // A stale alert has no frame that crossed: no receipt time to measure from.
  const bool from_frame = top != nullptr && r.metric != AlertMetric::kStale;
  {
    const std::lock_guard<std::mutex> lock(recent_mu);  // alerts are rare: a cold lock
    recent.push_front(j);
    if (recent.size() > kRecentAlerts) recent.pop_back();
  }
  delivery->post(AlertMessage{std::move(j), from_frame ? top->received_ns : 0});
}

void ConsumerStage::Impl::on_book(std::uint32_t slot, std::int64_t now_mono, std::int64_t now_utc) {
  ++books;
  if (redis) redis->book_changed(slot);
  if (!delivery) return;
  shm::Top top;
  if (feed.table().view().read_top(slot, top) != shm::ReadResult::kOk) return;
  const bool live = top.state == static_cast<std::uint8_t>(shm::State::kLive);
  for (std::size_t i = 0; i < opt.alerts.size(); ++i) {
    const AlertRule& r = opt.alerts[i];
    if (!r.over_books()) continue;
    // Prices only count in a live book; staleness in any (a fresh update clears it).
    if (!live && r.metric != AlertMetric::kStale) continue;
    const std::optional<std::int64_t> v = alert_value(r, top, now_utc);
    if (!v) continue;
    std::vector<AlertEdge>& e = edges[i];
    if (e.size() <= slot) e.resize(std::size_t{slot} + 1);
    if (e[slot].update(r, *v, now_mono, cooldown_ns)) fire(r, *v, &top, slot, now_utc);
  }
}

void ConsumerStage::Impl::tick(std::int64_t now_mono, std::int64_t now_utc) {
  if (delivery) {
    const std::uint32_t used = feed.table().view().slots_used();
    for (std::size_t i = 0; i < opt.alerts.size(); ++i) {
      const AlertRule& r = opt.alerts[i];
      if (r.metric == AlertMetric::kStale) {
        std::vector<AlertEdge>& e = edges[i];
        if (e.size() < used) e.resize(used);
        for (std::uint32_t s = 0; s < used; ++s) {
          shm::Top top;
          if (feed.table().view().read_top(s, top) != shm::ReadResult::kOk) continue;
          const std::optional<std::int64_t> v = alert_value(r, top, now_utc);
          if (v && e[s].update(r, *v, now_mono, cooldown_ns)) fire(r, *v, &top, s, now_utc);
        }
      } else if (r.metric == AlertMetric::kDisconnects && opt.connects != nullptr &&
                 opt.connect_failures != nullptr) {
        // Consecutive failures: those since the last successful connect.
        const std::uint64_t c = opt.connects->load(std::memory_order_relaxed);
        const std::uint64_t f = opt.connect_failures->load(std::memory_order_relaxed);
        if (c != connects_seen) {
          connects_seen = c;
          failures_base = f;
        }
        const auto v = static_cast<std::int64_t>(f - failures_base);
        if (feed_edges[i].update(r, v, now_mono, cooldown_ns)) fire(r, v, nullptr, 0, now_utc);
      }
    }
  }
  stats.books.store(books, std::memory_order_relaxed);
  stats.trades.store(trades, std::memory_order_relaxed);
  stats.alerts_fired.store(fired, std::memory_order_relaxed);
  stats.parks.store(parks, std::memory_order_relaxed);
}

void ConsumerStage::Impl::take_tokens() {
  if (!tokens_ready.load(std::memory_order_acquire)) return;
  std::vector<TokenMeta> in;
  {
    const std::lock_guard<std::mutex> lock(tokens_mu);
    in.swap(tokens_in);
    tokens_ready.store(false, std::memory_order_relaxed);
  }
  meta.clear();
  for (TokenMeta& t : in) {
    std::string id = t.asset_id;
    meta.emplace(std::move(id), std::move(t));
  }
}

void ConsumerStage::Impl::idle(std::size_t work) {
  if (work > 0) {
    idle_since = 0;
    return;
  }
  const std::int64_t now = monotonic_now();
  if (idle_since == 0) idle_since = now;
  const std::int64_t idle_for = now - idle_since;
  if (idle_for < kSpinNs) {
    __builtin_ia32_pause();
  } else if (idle_for < kNapForNs) {
    // While napping the book thread's ring is a fence and a load: no wake-up to pay.
    std::this_thread::sleep_for(std::chrono::nanoseconds(kNapNs));
  } else {
    ++parks;
    feed.bell().park(kParkNs, [this] { return feed.empty(); });
    idle_since = monotonic_now() - kNapForNs;  // after a park, nap again before parking
  }
}

ConsumerStage::ConsumerStage(ConsumerStageOptions options, ConsumerFeed& feed)
    : impl_(std::make_unique<Impl>(std::move(options), feed)) {}

ConsumerStage::~ConsumerStage() = default;

void ConsumerStage::run(const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  // Naps of 50 us: the kernel's default 50 us timer slack would double them.
  (void)::prctl(PR_SET_TIMERSLACK, 10'000UL);
  for (;;) {
    const bool stopping = stop.load(std::memory_order_acquire);
    im.take_tokens();  // an acquire load unless discovery handed over a new list
    std::size_t work = 0;
    TradeRecord t;
    while (work < kBatch && im.feed.pop_trade(t)) {
      ++im.trades;
      if (im.redis) im.redis->trade(t);
      ++work;
    }
    const std::int64_t now_mono = monotonic_now();
    const std::int64_t now_utc = realtime_now();
    std::uint32_t slot = 0;
    while (work < 2 * kBatch && im.feed.pop_dirty(slot)) {
      im.on_book(slot, now_mono, now_utc);
      ++work;
    }
    if (im.redis) work += im.redis->service(now_mono);
    if (now_mono >= im.next_tick) {
      im.next_tick = now_mono + kTickNs;
      im.tick(now_mono, now_utc);
    }
    if (stopping && im.feed.empty()) break;
    if (!stopping) im.idle(work);
  }
  if (im.redis) im.redis->drain(kNanosPerSecond);
  im.tick(monotonic_now(), realtime_now());
}

void ConsumerStage::set_tokens(std::vector<TokenMeta> tokens) {
  Impl& im = *impl_;
  const std::lock_guard<std::mutex> lock(im.tokens_mu);
  im.tokens_in = std::move(tokens);
  im.tokens_ready.store(true, std::memory_order_release);
}

bool ConsumerStage::pop_notice(std::string& out) {
  return impl_->notices.try_dequeue(out);
}

const ConsumerStageStats& ConsumerStage::stats() const noexcept {
  return impl_->stats;
}
const RedisStats* ConsumerStage::redis_stats() const noexcept {
  return impl_->redis ? &impl_->redis->stats() : nullptr;
}
const AlertDeliveryStats* ConsumerStage::alert_stats() const noexcept {
  return impl_->delivery ? &impl_->delivery->stats() : nullptr;
}

std::string ConsumerStage::status_json() const {
  const Impl& im = *impl_;
  auto u = [](const std::atomic<std::uint64_t>& v) {
    return std::to_string(v.load(std::memory_order_relaxed));
  };
  const ConsumerFeedStats& f = im.feed.stats();
  const BookTable& t = im.feed.table();
  std::string s = "{\"feed\":{\"updates\":" + u(f.updates) + ",\"queued\":" + u(f.queued) +
                  ",\"conflated\":" + u(f.conflated) + ",\"trades\":" + u(f.trades) +
                  ",\"trades_dropped\":" + u(f.trades_dropped) + ",\"unserved\":" + u(f.unserved) +
                  ",\"rest_books\":" + u(f.rest_books) + "},\"table\":{\"shm\":";
  if (t.shm_name().empty())
    s += "null";
  else
    append_json_string(s, t.shm_name());
  s += ",\"slots\":" + std::to_string(t.slot_count()) +
       ",\"slots_used\":" + std::to_string(t.view().slots_used()) +
       ",\"depth\":" + std::to_string(t.depth()) + "},\"thread\":{\"books\":" + u(im.stats.books) +
       ",\"trades\":" + u(im.stats.trades) + ",\"parks\":" + u(im.stats.parks) + "}";
  if (const RedisStats* r = redis_stats()) {
    s += ",\"redis\":{\"connected\":" + std::string(r->connected.load() ? "true" : "false") +
         ",\"published\":" + u(r->published) + ",\"trades\":" + u(r->trades) +
         ",\"refreshed\":" + u(r->refreshed) + ",\"conflated\":" + u(r->conflated) +
         ",\"errors\":" + u(r->errors) + ",\"trades_dropped\":" + u(r->trades_dropped) +
         ",\"connects\":" + u(r->connects) + ",\"disconnects\":" + u(r->disconnects) +
         ",\"frame_to_publish\":" + r->frame_to_publish.summary_json() + "}";
  }
  if (const AlertDeliveryStats* a = alert_stats()) {
    s += ",\"alerts\":{\"fired\":" + u(im.stats.alerts_fired) +
         ",\"delivered\":" + u(a->delivered) + ",\"failed\":" + u(a->failed) +
         ",\"retries\":" + u(a->retries) + ",\"dropped\":" + u(a->dropped) +
         ",\"frame_to_webhook\":" + a->frame_to_webhook.summary_json() + "}";
  }
  return s + "}";
}

const ConsumerFeedStats& ConsumerStage::feed_stats() const noexcept {
  return impl_->feed.stats();
}

std::string ConsumerStage::recent_alerts_json() const {
  const std::lock_guard<std::mutex> lock(impl_->recent_mu);
  std::string out = "[";
  for (const std::string& a : impl_->recent) out += (out.size() > 1 ? "," : "") + a;
  return out + "]";
}

std::string ConsumerStage::status_text() const {
  const RedisStats* r = redis_stats();
  if (r == nullptr) return {};
  // Conflated: merged in the feed (the consumer thread behind) and while waiting for Redis.
  const std::uint64_t conflated = impl_->feed.stats().conflated.load() + r->conflated.load();
  return " | redis " + std::string(r->connected.load() ? "" : "DOWN, ") +
         std::to_string(r->published.load()) + " published, " + std::to_string(conflated) +
         " conflated, " + std::to_string(r->errors.load()) + " errors";
}

}  // namespace booktape
