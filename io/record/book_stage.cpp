#include "io/record/book_stage.hpp"

#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.hpp"
#include "core/spsc_queue.hpp"
#include "io/consumers/consumer_feed.hpp"

namespace booktape {

namespace pm = polymarket;

namespace {
constexpr std::size_t kCheckpointQueue = 16;  // REST rounds waiting to be compared

std::int64_t secs_to_ns(double s) { return static_cast<std::int64_t>(s * 1e9); }

// What the stage knows of a subscribed token beyond its book.
struct Watch {
  std::string token;
  std::uint32_t shard = 0;
  // Monotonic: a wall clock step must not make every token look silent (or none).
  MonoNanos subscribed_at = 0;
  MonoNanos reported_at = 0;  // last health report (one per timeout period)
};

struct Pending {
  TokenIndex token;
  std::uint64_t hash;
  std::int64_t rest_ms;
  MonoNanos deadline;
  std::uint64_t states_from;  // the book's states_seen at the last look (first: on arrival)
};
}  // namespace

struct BookStage::Impl {
  Impl(BookStageOptions o, PipelineRing& r, PipelineBells& b)
      : opt(o), ring(r), bells(b), applier(books), feed(o.consumers) {
    books.track_state(opt.compare_checkpoints);
    if (feed != nullptr) {
      feed->attach(books);
      applier.observer = feed;
    }
  }
  ~Impl() {
    CheckpointBatch* left = nullptr;
    while (checkpoints.try_pop(left)) delete left;
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::size_t poll(bool look_at_clock);
  void on_frame(const RecordHeader* h);
  void on_event(PipelineEvent* e);
  void on_oversized(std::uint64_t connection_sequence);
  void health_scan(MonoNanos now);
  void compare(const CheckpointBatch& b);
  void check_pending(MonoNanos now);
  void publish();
  bool health_step(MonoNanos now);  // true: the sweep goes on next pass
  bool carried_elsewhere(const std::string& id, const std::string& session_id) const;

  BookStageOptions opt;
  PipelineRing& ring;
  PipelineBells& bells;
  BookStageStats stats;
  BookKeeper books;
  pm::Decoder decoder;
  pm::BookApplier applier;
  ConsumerFeed* feed;  // null: no live consumers
  // REST thread -> this stage; owns the batches in it. The book stage polls it every pass, and
  // an empty check here is a compare of two cached positions.
  SpscQueue<CheckpointBatch*> checkpoints{kCheckpointQueue};
  moodycamel::ConcurrentQueue<HealthEvent> health;
  // session id -> its subscription (to mark the right books stale when it closes)
  std::unordered_map<std::string, std::vector<std::string>> sessions;
  std::unordered_map<std::string, Watch> watched;
  std::unordered_set<std::string> dropped;  // unsubscribed from every connection
  std::vector<Pending> pending;
  std::vector<std::string> examples;
  MonoNanos next_scan = 0;
  // The health sweep: a slice of books per pass, published when every book was copied.
  TripleBuffer<BookHealth> health_out;
  std::size_t health_pos = 0;
  bool health_sweeping = false;
  MonoNanos next_health = 0;
  // REST rounds taken off the queue, waiting for the stream to reach their request time
  // (compare_held); oldest first.
  std::deque<std::unique_ptr<CheckpointBatch>> held;
  UnixNanos last_received = 0;  // receive time of the last frame applied
  std::size_t compare_held(bool at_end);
};

BookStage::BookStage(BookStageOptions options, PipelineRing& ring, PipelineBells& bells)
    : impl_(std::make_unique<Impl>(options, ring, bells)) {}
BookStage::~BookStage() = default;

const BookStageStats& BookStage::stats() const noexcept { return impl_->stats; }
const BookKeeper& BookStage::books() const noexcept { return impl_->books; }
const pm::DecoderStats& BookStage::decoder_stats() const noexcept { return impl_->decoder.stats(); }
const std::vector<std::string>& BookStage::checkpoint_examples() const noexcept {
  return impl_->examples;
}

void BookStage::submit_checkpoint(std::unique_ptr<CheckpointBatch> batch) {
  if (!impl_->checkpoints.try_push(batch.get())) {
    // The stage has not taken the last kCheckpointQueue rounds: this one is not compared.
    impl_->stats.checkpoint_books.fetch_add(batch->books.size(), std::memory_order_relaxed);
    impl_->stats.checkpoint_skipped.fetch_add(batch->books.size(), std::memory_order_relaxed);
    return;
  }
  (void)batch.release();  // the queue owns it now
  impl_->bells.data.ring();
}

bool BookStage::pop_health(HealthEvent& out) { return impl_->health.try_dequeue(out); }

const BookHealth& BookStage::health(bool* fresh) {
  const bool took = impl_->health_out.take();
  if (fresh != nullptr) *fresh = took;
  return impl_->health_out.front();
}

void BookStage::Impl::on_frame(const RecordHeader* h) {
  last_received = h->received_ns;
  books.begin_frame(h->global_sequence, h->received_ns, h->monotonic_ns);
  if (feed != nullptr) feed->begin_frame(h->received_ns);
  const char* data = reinterpret_cast<const char*>(h + 1);
  if (h->opcode == 2) {
    decoder.count_binary();
  } else if (h->opcode == kOversizedOpcode) {
    on_oversized(h->connection_sequence);
  } else {
    // The ring leaves zeroed padding after every payload: the decoder parses in place.
    decoder.decode(data, h->length, h->length + PipelineRing::kPayloadPadding, applier);
  }
  stats.read_to_book.record(monotonic_now() - h->monotonic_ns);
  if (feed != nullptr) feed->flush();  // after the latency sample: consumers come second
}

void BookStage::Impl::on_event(PipelineEvent* e) {
  const SessionInfo& s = e->session;
  switch (e->kind) {
    case PipelineEvent::Kind::kSessionOpen:
    case PipelineEvent::Kind::kSessionSubscription: {
      std::vector<std::string>& had = sessions[s.session_id];
      // Tokens this connection no longer carries are no longer watched (a market was dropped);
      // carried by no connection, their books leave the counts (they stay for --dump-books).
      bool marked = false;
      for (const std::string& id : had) {
        if (std::find(s.assets_ids.begin(), s.assets_ids.end(), id) != s.assets_ids.end()) continue;
        watched.erase(id);
        if (carried_elsewhere(id, s.session_id)) continue;
        dropped.insert(id);
        // Unsubscribed: its book no longer follows the venue. Consumers see it stale (Redis
        // lets its key expire) rather than a frozen "live" book.
        const TokenIndex t = books.find(id);
        // (Whatever state follows the venue: live, or unconfirmed after a tick size change.)
        const BookState was = t == kNoToken ? BookState::kStale : books.book(t).state;
        if (was == BookState::kStale || was == BookState::kAwaitingSnapshot) continue;
        if (feed != nullptr && !marked) feed->begin_frame(e->at);
        marked = true;
        books.mark_stale(t, StaleReason::kExternal);
        if (feed != nullptr) feed->touch(t);
      }
      if (feed != nullptr && marked) feed->flush();
      had = s.assets_ids;
      for (const std::string& id : s.assets_ids) dropped.erase(id);
      for (const std::string& id : s.assets_ids) {
        auto [it, fresh] = watched.try_emplace(id);
        Watch& w = it->second;
        w.shard = e->shard;
        if (fresh || e->kind == PipelineEvent::Kind::kSessionOpen) {
          w.token = id;
          w.subscribed_at = monotonic_now();  // a new connection: its initial book is due again
        }
      }
      break;
    }
    case PipelineEvent::Kind::kLoss: break;  // the archive's concern
    case PipelineEvent::Kind::kSessionClose: {
      const auto it = sessions.find(s.session_id);
      if (it == sessions.end()) break;  // a connection attempt that never came up
      // Continuity is lost: every book of this connection is stale until its fresh snapshot.
      // Its tokens are watched again when a connection carrying them opens.
      if (feed != nullptr) feed->begin_frame(e->at);
      for (const std::string& id : it->second) {
        const TokenIndex t = books.find(id);
        if (t != kNoToken) {
          books.mark_stale(t, StaleReason::kExternal, e->at);
          if (feed != nullptr) feed->touch(t);
        }
        watched.erase(id);
      }
      if (feed != nullptr) feed->flush();
      const std::vector<std::string> ids = std::move(it->second);
      sessions.erase(it);
      // Closed because its markets all rolled off: those tokens are gone, not waiting.
      if (e->tokens_dropped) {
        for (const std::string& id : ids)
          if (!carried_elsewhere(id, s.session_id)) dropped.insert(id);
      }
      break;
    }
  }
}

void BookStage::Impl::on_oversized(std::uint64_t connection_sequence) {
  // A frame too large to keep went by unparsed: whatever it said about this connection's books
  // is unknown, so they are stale until a fresh book (the health check resubscribes a token
  // that gets none within initial_book_timeout).
  const std::string suffix = "-c" + std::to_string(connection_sequence);
  const MonoNanos now = monotonic_now();
  for (const auto& [sid, ids] : sessions) {
    if (!sid.ends_with(suffix)) continue;
    for (const std::string& id : ids) {
      const TokenIndex t = books.find(id);
      if (t != kNoToken) books.mark_stale(t, StaleReason::kExternal);
      if (auto it = watched.find(id); it != watched.end()) it->second.subscribed_at = now;
    }
  }
}

bool BookStage::Impl::carried_elsewhere(const std::string& id,
                                        const std::string& session_id) const {
  for (const auto& [sid, ids] : sessions) {
    if (sid != session_id && std::find(ids.begin(), ids.end(), id) != ids.end()) return true;
  }
  return false;
}

void BookStage::Impl::health_scan(MonoNanos now) {
  const std::int64_t no_book = secs_to_ns(opt.initial_book_timeout_seconds);
  const std::int64_t silent = secs_to_ns(opt.token_silent_seconds);
  for (auto& [id, w] : watched) {
    const TokenIndex t = books.find(id);
    // An unconfirmed book is a book (kept across a tick size change): silence rules apply to it.
    const bool synced = t != kNoToken && (books.book(t).state == BookState::kLive ||
                                          books.book(t).state == BookState::kUnconfirmed);
    const std::int64_t since = now - std::max(w.subscribed_at, w.reported_at);
    if (!synced && since > no_book) {
      // No book (first, or after a reconnect or tick size change) within the timeout.
      w.reported_at = now;
      stats.health_no_book.fetch_add(1, std::memory_order_relaxed);
      health.enqueue(HealthEvent{HealthEvent::Kind::kNoInitialBook, id});
    } else if (synced && now - books.book(t).last_update_mono > silent &&
               now - w.reported_at > silent) {
      w.reported_at = now;
      stats.health_silent.fetch_add(1, std::memory_order_relaxed);
      health.enqueue(HealthEvent{HealthEvent::Kind::kSilent, id});
    }
  }
}

void BookStage::Impl::compare(const CheckpointBatch& batch) {
  const MonoNanos now = monotonic_now();
  for (const CheckpointBook& rb : batch.books) {
    stats.checkpoint_books.fetch_add(1, std::memory_order_relaxed);
    const TokenIndex t = books.find(rb.asset_id);
    if (t == kNoToken || books.book(t).state != BookState::kLive) {
      stats.checkpoint_skipped.fetch_add(1, std::memory_order_relaxed);
      // Its websocket is down (stale) or never gave it a book: consumers get this REST book
      // instead, marked as such, in the slot only; the live book waits for its next snapshot.
      // (Any other state keeps its own book.)
      if (t != kNoToken && feed != nullptr && (books.book(t).state == BookState::kStale ||
                                               books.book(t).state == BookState::kAwaitingSnapshot))
        feed->rest_book(t, rb.bids, rb.asks, rb.timestamp_ms, batch.fetched_at);
      continue;  // not synced here: nothing to compare with
    }
    const TokenBook& tb = books.book(t);
    const std::uint64_t h = BookKeeper::state_hash_of(rb.bids, rb.asks);
    // The REST answer and the stream race: the REST book is right if the live book was in that
    // exact state at some recent point (it may already have moved on).
    bool seen = false;
    std::int64_t oldest_ms = std::numeric_limits<std::int64_t>::max();
    for (std::uint32_t i = 0; i < tb.history_len; ++i) {
      const StateMark& m = tb.history[i];
      seen |= m.hash == h;
      oldest_ms = std::min(oldest_ms, m.event_ms);
    }
    if (seen || tb.state_hash == h) {
      stats.checkpoint_agree.fetch_add(1, std::memory_order_relaxed);
    } else if (tb.history_len > 0 && rb.timestamp_ms < oldest_ms) {
      // The REST book is older than every state we keep (the book moved through more states
      // since, or our first snapshot came after it): no verdict.
      stats.checkpoint_inconclusive.fetch_add(1, std::memory_order_relaxed);
    } else {
      // Not seen yet: the stream may not have delivered the updates the REST book already has.
      // Wait a moment for the live book to reach that state; one that never does diverges.
      pending.push_back(Pending{t, h, rb.timestamp_ms,
                                now + secs_to_ns(opt.checkpoint_wait_seconds), tb.states_seen});
    }
  }
}

std::size_t BookStage::Impl::compare_held(bool at_end) {
  // A REST book is compared only once the stream has caught up with its request: the last frame
  // applied was received after the request went out, or nothing is left in the ring. A stream
  // seconds behind would otherwise make every REST book look like a divergence.
  std::size_t done = 0;
  while (!held.empty()) {
    const CheckpointBatch& b = *held.front();
    const bool caught_up =
        at_end || last_received >= b.fetched_at || ring.peek(kBookConsumer) == nullptr;
    if (caught_up) {
      compare(b);
    } else if (held.size() > kCheckpointQueue) {
      // 16 rounds behind: the oldest is not compared (skipped: stream behind).
      const auto n = static_cast<std::uint64_t>(b.books.size());
      stats.checkpoint_books.fetch_add(n, std::memory_order_relaxed);
      stats.checkpoint_skipped.fetch_add(n, std::memory_order_relaxed);
      stats.checkpoint_behind.fetch_add(n, std::memory_order_relaxed);
    } else {
      break;
    }
    held.pop_front();
    ++done;
  }
  return done;
}

namespace {
enum class Reached : std::uint8_t { kNo, kYes, kUnknown };

// Whether the book passed through state `hash` since it had seen `from` states (the last
// look): every state since then, not only the current one, since one poll can apply many frames
// (and a frame several events) and move the book through the REST state and on. kUnknown: more
// states went by between two looks than the history keeps.
Reached reached_since(const TokenBook& tb, std::uint64_t hash, std::uint64_t from) {
  if (tb.state == BookState::kLive && tb.state_hash == hash) return Reached::kYes;
  const std::uint64_t fresh = tb.states_seen - from;
  const std::uint64_t n = std::min<std::uint64_t>(fresh, tb.history_len);
  for (std::uint64_t k = 1; k <= n; ++k) {
    const std::size_t at = (tb.history_pos + kStateHistory - k) % kStateHistory;
    if (tb.history[at].hash == hash) return Reached::kYes;
  }
  return fresh > kStateHistory ? Reached::kUnknown : Reached::kNo;
}
}  // namespace

void BookStage::Impl::check_pending(MonoNanos now) {
  for (std::size_t i = 0; i < pending.size();) {
    Pending& p = pending[i];
    const TokenBook& tb = books.book(p.token);
    const Reached r = reached_since(tb, p.hash, p.states_from);
    p.states_from = tb.states_seen;  // the next look scans only what comes after this one
    if (r == Reached::kYes) {
      stats.checkpoint_agree.fetch_add(1, std::memory_order_relaxed);
      stats.checkpoint_agree_waited.fetch_add(1, std::memory_order_relaxed);
    } else if (r == Reached::kUnknown) {
      stats.checkpoint_inconclusive.fetch_add(1, std::memory_order_relaxed);
    } else if (now >= p.deadline) {
      stats.checkpoint_diverge.fetch_add(1, std::memory_order_relaxed);
      if (examples.size() < 16) {
        examples.push_back("asset " + books.token_id(p.token) + ": REST book at " +
                           std::to_string(p.rest_ms) + " ms never matched the live book (last "
                           "venue event " + std::to_string(tb.last_event_ms) + " ms)");
      }
    } else {
      ++i;
      continue;
    }
    pending[i] = pending.back();
    pending.pop_back();
  }
}

void BookStage::Impl::publish() {
  const KeeperTotals& k = books.totals();
  stats.snapshots.store(k.snapshots, std::memory_order_relaxed);
  stats.changes.store(k.changes_applied, std::memory_order_relaxed);
  stats.divergences.store(k.divergences, std::memory_order_relaxed);
  stats.crossed.store(k.crossed, std::memory_order_relaxed);
  stats.checks.store(k.checks, std::memory_order_relaxed);
  stats.suppressed.store(k.changes_suppressed, std::memory_order_relaxed);
  stats.confirmations.store(k.confirmations, std::memory_order_relaxed);
  stats.disagreements.store(k.disagreements, std::memory_order_relaxed);
  const pm::DecoderStats& d = decoder.stats();
  stats.parse_errors.store(d.frames_by_kind[static_cast<std::size_t>(pm::FrameKind::kMalformed)],
                           std::memory_order_relaxed);
  std::uint64_t events = 0;
  for (std::size_t i = 0; i < d.events_by_type.size(); ++i) {
    events += d.events_by_type[i];
    stats.events_by_type[i].store(d.events_by_type[i], std::memory_order_relaxed);
  }
  stats.events.store(events, std::memory_order_relaxed);
  stats.unknown.store(d.events_by_type[static_cast<std::size_t>(pm::EventType::kUnknown)],
                      std::memory_order_relaxed);
  std::array<std::uint32_t, kBookStateCount> by_state{};  // indexed by BookState
  for (std::size_t i = 0; i < books.size(); ++i)
    ++by_state[static_cast<std::size_t>(books.book(static_cast<TokenIndex>(i)).state)];
  std::uint32_t gone = 0;
  for (const std::string& id : dropped) {  // a rolled-off market's book is not "live" any more
    const TokenIndex t = books.find(id);
    if (t == kNoToken) continue;
    --by_state[static_cast<std::size_t>(books.book(t).state)];
    ++gone;
  }
  const std::uint32_t live = by_state[static_cast<std::size_t>(BookState::kLive)];
  const std::uint32_t stale = by_state[static_cast<std::size_t>(BookState::kStale)];
  const std::uint32_t awaiting = by_state[static_cast<std::size_t>(BookState::kAwaitingSnapshot)];
  const std::uint32_t unconfirmed = by_state[static_cast<std::size_t>(BookState::kUnconfirmed)];
  stats.tokens.store(static_cast<std::uint32_t>(books.size()) - gone, std::memory_order_relaxed);
  stats.dropped.store(gone, std::memory_order_relaxed);
  stats.live.store(live, std::memory_order_relaxed);
  stats.stale.store(stale, std::memory_order_relaxed);
  stats.awaiting.store(awaiting, std::memory_order_relaxed);
  stats.unconfirmed.store(unconfirmed, std::memory_order_relaxed);
  if (feed != nullptr) feed->publish(realtime_now());
}

// A whole sweep of 100 k books at once would hold the thread for milliseconds; a slice per pass
// keeps each pass's cost to what copying kHealthSlice books takes (~50 us).
constexpr std::size_t kHealthSlice = 1024;

bool BookStage::Impl::health_step(MonoNanos now) {
  BookHealth& out = health_out.back();
  if (!health_sweeping) {
    if (now < next_health) return false;
    health_sweeping = true;
    health_pos = 0;
    out.tokens.resize(books.size());  // books added during the sweep wait for the next one
  }
  const std::size_t end = std::min(out.tokens.size(), health_pos + kHealthSlice);
  for (; health_pos < end; ++health_pos) {
    const auto t = static_cast<TokenIndex>(health_pos);
    const TokenBook& tb = books.book(t);
    TokenHealth& h = out.tokens[health_pos];
    if (h.asset_id.empty()) h.asset_id = books.token_id(t);
    h.state = tb.state;
    h.stale_reason = tb.stale_reason;
    h.crossed = tb.crossed;
    h.in_sync = tb.in_sync;
    const BookSide& bids = tb.book.bids();
    const BookSide& asks = tb.book.asks();
    h.best_bid = bids.empty() ? kNoPrice : bids.best().price;
    h.bid_size = bids.empty() ? 0 : bids.best().size;
    h.best_ask = asks.empty() ? kNoPrice : asks.best().price;
    h.ask_size = asks.empty() ? 0 : asks.best().size;
    h.last_trade_price = tb.last_trade_price;
    h.last_update_mono = tb.last_update_mono;
    h.last_update_ns = tb.last_update_ns;
    h.updates = tb.stats.snapshots + tb.stats.changes_applied;
  }
  if (health_pos < out.tokens.size()) return true;
  out.taken_mono = now;
  health_out.publish();
  health_sweeping = false;
  next_health = now + kNanosPerSecond;
  return false;
}

// `look_at_clock`: whether to read the clock for housekeeping even if there was no work (the
// idle loop asks every 64 polls and after every park, so a spin never reads it per poll).
std::size_t BookStage::Impl::poll(bool look_at_clock) {
  std::size_t work = consume_records(
      ring, bells, kBookConsumer, 256,
      [this](const RecordHeader* h) {
        on_frame(h);
        stats.frames.fetch_add(1, std::memory_order_relaxed);
      },
      [this](PipelineEvent* e) { on_event(e); });
  CheckpointBatch* taken = nullptr;
  while (checkpoints.try_pop(taken)) {
    held.emplace_back(taken);
    ++work;
  }
  if (feed != nullptr) feed->notify();  // once a pass, not per frame
  if (!held.empty()) work += compare_held(false);
  if (work == 0 && !look_at_clock) return 0;
  const MonoNanos now = monotonic_now();
  if (!pending.empty()) check_pending(now);
  if (now >= next_scan) {
    next_scan = now + 250'000'000;  // counters 4x a second; health checks ride along
    health_scan(now);
    publish();
  }
  // A sweep under way counts as work: the stage does not park between its slices.
  if (opt.publish_health && health_step(now)) ++work;
  return work;
}

void BookStage::run(const std::atomic<bool>& producer_done) {
  Impl& im = *impl_;
  IdleStrategy idle(im.opt.wait, im.bells.data, im.opt.max_spin_ns);
  std::uint64_t parks_seen = 0;
  std::uint32_t polls = 0;
  for (;;) {
    const bool look_at_clock = idle.parks() != parks_seen || (++polls & 63) == 0;
    parks_seen = idle.parks();
    const std::size_t work = im.poll(look_at_clock);
    if (work == 0 && producer_done.load(std::memory_order_acquire) &&
        im.ring.peek(kBookConsumer) == nullptr) {
      break;
    }
    idle.idle(work, [&] {
      return im.ring.peek(kBookConsumer) == nullptr && !producer_done.load(std::memory_order_acquire);
    });
  }
  // Checkpoints still waiting for the stream will not get it now.
  im.compare_held(true);
  im.check_pending(std::numeric_limits<MonoNanos>::max());
  im.publish();
  im.stats.parks.store(idle.parks(), std::memory_order_relaxed);
}

}  // namespace booktape
