#include "io/record/recorder.hpp"

#include <simdjson.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "codecs/sha256.hpp"
#include "core/clock.hpp"
#include "core/thread_util.hpp"
#include "core/version.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/archive/recovery.hpp"
#include "io/net/http_server.hpp"
#include "io/net/http_client.hpp"
#include "io/net/url.hpp"
#include "io/record/archive_alarms.hpp"
#include "io/record/archive_stage.hpp"
#include "io/record/book_stage.hpp"
#include "io/record/discard_stage.hpp"
#include "io/record/live_consumers.hpp"
#include "io/record/network_stage.hpp"
#include "io/record/operator_http.hpp"
#include "io/record/operator_view.hpp"
#include "io/record/polymarket_discovery.hpp"
#include "io/record/rest_checkpointer.hpp"
#include "io/record/root_guard.hpp"
#include "io/record/run_report.hpp"
#include "io/record/runtime_subscriptions.hpp"
#include "io/record/service_notify.hpp"
#include "io/record/subscription_plan.hpp"
#include "io/record/bookless_tokens.hpp"

namespace booktape {

namespace pm = polymarket;

namespace {

std::int64_t secs_to_ns(double s) { return static_cast<std::int64_t>(s * 1e9); }

std::size_t round_up_pow2(std::size_t v) {
  std::size_t p = 4096;
  while (p < v) p <<= 1;
  return p;
}

// The exit code of a run whose archive is not clean (docs/RECORD.md, "Exit codes").
constexpr int kExitUncleanArchive = 3;

constexpr const char* kFirstTry =
    "For a first try with no network at all: booktape demo";

// A startup failure that run() turns into exit code 2 with this text.
struct StartError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Gamma could not be reached at start: a bounded run gives up (exit 2); an unbounded one (a
// service) keeps trying, with backoff.
struct GammaUnreachable : StartError {
  using StartError::StartError;
};

std::vector<TokenInfo> tokens_of(const pm::DiscoveredMarket& m) {
  std::vector<TokenInfo> out;
  for (std::size_t i = 0; i < m.token_ids.size(); ++i) {
    TokenInfo t;
    t.token_id = m.token_ids[i];
    t.market_slug = m.slug;
    t.condition_id = m.condition_id;
    t.outcome = i < m.outcomes.size() ? m.outcomes[i] : "";
    t.end_time_utc = m.end != 0 ? format_utc(m.end) : "";
    out.push_back(std::move(t));
  }
  return out;
}

// SHA-256 of a file's bytes, "" if it cannot be read.
std::string file_sha256(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  Sha256 h;
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return "";
  const Sha256Digest d = h.finish();
  std::string hex(kSha256HexChars, '0');
  to_hex(d.data(), d.size(), hex.data());
  return hex;
}

// Frames are checked by the reader itself; the other lines (file, session, REST checkpoint
// records) must be JSON too.
class RecordChecker final : public ArchiveVisitor {
 public:
  bool on_frame(const ArchiveFrame&) override { return true; }
  void on_record(std::string_view line) override {
    simdjson::dom::element e;
    if (parser_.parse(line.data(), line.size(), true).get(e) != simdjson::SUCCESS) ++bad;
  }
  std::uint64_t bad = 0;

 private:
  simdjson::dom::parser parser_;
};

}  // namespace

struct Recorder::Impl {
  explicit Impl(RecorderConfig c) : cfg(std::move(c)), plan(static_cast<std::size_t>(cfg.assets_per_connection)) {}

  int run();
  void start_plan();                       // what to record first (throws StartError)
  void refresh_discovery(bool first);      // discovery mode: Gamma again, then roll markets
  void apply_plan(const std::vector<std::vector<TokenInfo>>& base);
  void start_threads();
  void stop_threads();
  void control_loop();
  void handle_events();  // connection notices and per-token health reports
  bool venue_knows(const std::string& token, std::string& answer);  // REST /book: not 404
  void status_tick(MonoNanos now, bool final_line);
  int finish();
  void account_for_frames(RunFacts& f);  // received vs sealed vs named lost
  void recover_archive();  // seals the ".open" files an earlier run left
  void log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  std::string status_text(double frames_per_s) const;
  bool open_listener();   // binds http_listen (false: it cannot, said)
  void serve_operator();  // its routes, then its thread

  RecorderConfig cfg;
  std::string run_id;
  UnixNanos started = 0;
  bool discovery_mode = false;
  std::atomic<bool> stop{false};
  MonoNanos run_deadline = INT64_MAX;  // a bounded run's end
  std::atomic<bool> running{false};  // the stages exist (status_json may read them)

  // The pipeline (created by run(), kept until the recorder is destroyed).
  std::unique_ptr<PipelineRing> ring;
  PipelineBells bells;
  std::unique_ptr<NetworkStage> net;
  std::unique_ptr<BookStage> book;
  std::unique_ptr<ArchiveStage> archive;
  std::unique_ptr<RestCheckpointer> rest;
  std::unique_ptr<DiscardStage> discard;       // books_only: in the archive's place
  std::unique_ptr<LiveConsumers> consumers;    // shm, Redis, alerts (docs/CONSUMERS.md)
  std::atomic<bool> producer_done{false}, rest_stop{false};
  std::thread net_thread, book_thread, archive_thread, rest_thread;
  std::unique_ptr<RecorderService> service;  // systemd notify and the stuck-thread watch

  // The control plane (this thread only).
  SubscriptionPlan plan;
  std::map<std::string, pm::DiscoveredMarket> carried;  // condition id -> market being recorded
  std::map<std::string, RunMarket> recorded;            // every market recorded in this run
  std::set<std::string> discovery_written;              // condition ids in the last discovery file
  MonoNanos next_discovery = 0;
  std::string last_discovery_error;
  std::string last_skipped_summary;  // what the last discovery skipped (logged when it changes)

  // Status output.
  bool status_line = false, status_log = false;
  bool line_drawn = false;
  MonoNanos next_status = 0, last_status = 0;
  std::uint64_t last_frames = 0, last_ring_full = 0;
  std::uint64_t last_resubscribes = 0;

  std::string gate;
  std::filesystem::path report_path;
  RecoveryResult recovery;  // what the start-up recovery found (written before any thread starts)

  // The operator listener (http_listen): declared last, so it stops before what it reads goes.
  const Recorder* self = nullptr;  // for its status_json()
  std::unique_ptr<OperatorView> view;
  MonoNanos next_view = 0;
  std::unique_ptr<RuntimeSubscriptions> subs;       // on the listener (docs/CONSUMERS.md)
  std::vector<std::vector<TokenInfo>> base_groups;  // the plan before runtime changes
  std::unique_ptr<HttpServer> http;
  std::atomic<std::uint16_t> http_port{0};  // once bound (any thread reads it)
  RootGuard root;           // the archive root's lock, reserve and the previous run's crash record
  bool root_finished = false;
  std::unique_ptr<ArchiveAlarms> alarms;  // write failures, drops, vanished files, free space
  BooklessTokens bookless{cfg.initial_book_timeout_seconds};  // tokens that get no book
  std::atomic<std::uint64_t> unknown_tokens{0};  // its count, for status_json (any thread)
};

void Recorder::Impl::log(const char* fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char ts[kUtcTextLength + 1];
  format_utc(ts, realtime_now());
  ts[23] = 'Z';  // milliseconds, and the zone
  ts[24] = '\0';
  std::fprintf(stderr, "%s%s booktape record: %s\n", line_drawn ? "\r\033[K" : "", ts, msg);
  line_drawn = false;
}

// ---------------------------------------------------------------------------- the plan -------

void Recorder::Impl::apply_plan(const std::vector<std::vector<TokenInfo>>& base) {
  base_groups = base;  // (a no-op when called with base_groups itself)
  // What runtime subscriptions (POST/DELETE /subscriptions) add to and remove from it.
  const std::vector<std::vector<TokenInfo>> groups = subs ? subs->compose(base) : base;
  const std::vector<std::size_t> changed = plan.update(groups);
  for (std::size_t s : changed) {
    ShardPlan sp;
    sp.assets = plan.shard_assets(s);
    sp.tokens = plan.shard(s);
    net->set_shard(s, std::move(sp));
  }
  if (rest && !changed.empty()) rest->set_tokens(plan.all_assets());
  if (view && !changed.empty()) view->set_plan(plan);
  if (consumers) consumers->set_tokens(groups);
}

void Recorder::Impl::start_plan() {
  if (!discovery_mode) {
    std::vector<std::string> ids = cfg.assets;
    if (!cfg.assets_file.empty()) {
      for (std::string& id : read_assets_file(cfg.assets_file)) ids.push_back(std::move(id));
    }
    std::set<std::string> seen;
    std::vector<std::vector<TokenInfo>> groups;
    for (const std::string& id : ids) {
      if (!seen.insert(id).second) continue;
      TokenInfo t;
      t.token_id = id;
      groups.push_back({t});
    }
    if (groups.empty()) throw StartError("the assets file lists no token id");
    apply_plan(groups);
    log("recording %zu token ids given explicitly (no discovery) on %zu connection(s)",
        plan.token_count(), plan.shard_count());
    return;
  }
  // A service must not depend on an outside restart policy while Gamma is down: an unbounded
  // run tries again, 1 s after the first failure, doubling up to a minute, saying each try.
  for (int attempt = 1;; ++attempt) {
    try {
      refresh_discovery(true);
      return;
    } catch (const GammaUnreachable& e) {
      if (cfg.duration_seconds > 0 || stop.load(std::memory_order_acquire)) throw;
      const int wait_s = std::min(60, 1 << std::min(attempt - 1, 6));
      const std::string why = e.what();
      log("%s; an unbounded run keeps trying: attempt %d failed, the next in %d s",
          why.substr(0, why.find('\n')).c_str(), attempt, wait_s);
      const MonoNanos until = monotonic_now() + std::int64_t{wait_s} * kNanosPerSecond;
      while (monotonic_now() < until && !stop.load(std::memory_order_acquire)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (stop.load(std::memory_order_acquire)) throw;
    }
  }
}

void Recorder::Impl::refresh_discovery(bool first) {
  DiscoveryOptions o;
  o.gamma_url = cfg.gamma_url;
  o.ca_file = cfg.ca_file;
  o.series = cfg.series;
  o.all_active = cfg.all_active;
  o.shard = cfg.shard;
  o.cancel = &stop;  // a stop does not wait for Gamma to answer, nor does a bounded run's end
  if (run_deadline != INT64_MAX) {  // monotonic_now() is CLOCK_MONOTONIC_RAW: convert by offset
    o.stop_at = std::chrono::steady_clock::now() +
                std::chrono::nanoseconds(std::max<MonoNanos>(0, run_deadline - monotonic_now()));
  }
  const DiscoveryResult r = discover(o);
  const UnixNanos now = realtime_now();
  next_discovery = monotonic_now() + secs_to_ns(cfg.discovery_interval_seconds);

  if (r.markets.empty() && !r.errors.empty()) {
    const std::string why =
        "cannot discover markets at " + redact_url(cfg.gamma_url) + ": " + r.errors.front();
    if (first) {
      throw GammaUnreachable(why + "\nCheck the network and --gamma-url (and --ca-file for a "
                             "private CA). " + kFirstTry);
    }
    if (why != last_discovery_error) log("%s (keeping the current markets)", why.c_str());
    last_discovery_error = why;
  } else {
    last_discovery_error.clear();
    for (const std::string& e : r.errors) log("discovery: %s", e.c_str());
  }
  // Hydrating markets (no ids yet) are looked at again next time; said once, not every minute.
  if (std::string why = skipped_summary(r, 5); why != last_skipped_summary) {
    if (!why.empty()) log("discovery: %s", why.c_str());
    last_skipped_summary = std::move(why);
  }

  // Keep what we carry until its end plus drop_after_end (trading and settlement messages go
  // on after the window), whether or not Gamma still lists it; add what is due now.
  const std::int64_t drop = secs_to_ns(cfg.drop_after_end_seconds);
  std::vector<std::string> dropped;
  for (auto it = carried.begin(); it != carried.end();) {
    if (it->second.end != 0 && now > it->second.end + drop) {
      dropped.push_back(it->second.slug);
      it = carried.erase(it);
    } else {
      ++it;
    }
  }
  const auto selected = select_markets(r.markets, now, secs_to_ns(cfg.subscribe_lead_seconds),
                                       cfg.market_limit, !cfg.all_active);
  std::vector<std::string> added;
  for (const pm::DiscoveredMarket& m : selected) {
    auto [it, fresh] = carried.try_emplace(m.condition_id, m);
    if (fresh) {
      added.push_back(m.slug);
    } else {
      it->second = m;  // an end time can move
    }
    RunMarket& rm = recorded[m.condition_id];
    rm.slug = m.slug;
    rm.condition_id = m.condition_id;
    rm.up_token = m.up_token_id;
    rm.down_token = m.down_token_id;
    rm.end_utc = m.end != 0 ? format_utc(m.end) : "";
  }
  if (first && carried.empty()) {
    throw StartError("no market to record: Gamma at " + redact_url(cfg.gamma_url) + " listed " +
                     std::to_string(r.markets.size()) + " market(s)" +
                     (cfg.shard.sharded() ? " of shard " + to_string(cfg.shard) + " (and " +
                                                std::to_string(r.other_shards) + " of the others)"
                                          : std::string()) +
                     ", none of them open now or within subscribe_lead_seconds " +
                     (cfg.all_active ? std::string("(--all-active)")
                                     : "with both Up and Down tokens (series: " +
                                           [&] {
                                             std::string s;
                                             for (const auto& x : cfg.series) s += (s.empty() ? "" : ", ") + x;
                                             return s;
                                           }() + ")") +
                     ".\nCheck --series, or record token ids with --asset. " + kFirstTry);
  }
  std::vector<std::vector<TokenInfo>> groups;
  for (const auto& [id, m] : carried) groups.push_back(tokens_of(m));
  apply_plan(groups);

  // The seed's discovery JSON of what is recorded (and the raw Gamma answers beside it),
  // written whenever that set changes.
  std::set<std::string> ids;
  for (const auto& [id, m] : carried) ids.insert(id);
  if (!carried.empty() && ids != discovery_written) {
    DiscoveryResult shown = r;
    shown.markets.clear();
    for (const auto& [id, m] : carried) shown.markets.push_back(m);
    try {
      write_discovery(shown, cfg.gamma_url, cfg.out / "discovery");
      discovery_written = std::move(ids);
    } catch (const std::exception& e) {
      log("cannot write the discovery files: %s", e.what());
    }
  }
  for (const std::string& s : added) log("subscribing %s", s.c_str());
  for (const std::string& s : dropped) log("dropping %s (ended)", s.c_str());
  if (first) {
    log("recording %zu market(s), %zu tokens, on %zu connection(s)", carried.size(),
        plan.token_count(), plan.shard_count());
  }
}

// ---------------------------------------------------------------------------- threads --------

void Recorder::Impl::start_threads() {
  auto cpu = [&](std::size_t i) { return i < cfg.cpus.size() ? cfg.cpus[i] : -1; };
  auto pinned = [](const char* name, int c) {
    name_current_thread(name);
    const std::string err = pin_current_thread(c);
    if (!err.empty()) std::fprintf(stderr, "booktape record: %s not pinned: %s\n", name, err.c_str());
  };
  book_thread = std::thread([this, pinned, c = cpu(1)] {
    pinned("bt-book", c);
    book->run(producer_done);
  });
  archive_thread = std::thread([this, pinned, c = cpu(2)] {
    pinned("bt-archive", c);
    if (archive) archive->run(producer_done); else discard->run(producer_done);
  });
  if (consumers) consumers->start(cpu(2));  // a cold thread, like REST's: off the book's cpu
  net_thread = std::thread([this, pinned, c = cpu(0)] {
    pinned("bt-net", c);
    net->run();
  });
  if (rest) {
    // Cold threads share the archive's cpu, never the book's: a wake-up there would preempt it.
    rest_thread = std::thread([this, c = cpu(2)] {
      name_current_thread("bt-rest");
      (void)pin_current_thread(c);
      try {
        rest->run(rest_stop);
      } catch (const std::exception& e) {
        // Checkpoints are a cross-check: losing them must not take the recorder down.
        std::fprintf(stderr, "booktape record: ALARM: REST checkpoints stopped: %s\n", e.what());
      }
    });
  }
}

void Recorder::Impl::stop_threads() {
  // Stop reading first, and tell REST to abandon a request under way (a venue that does not
  // answer would otherwise hold the stop for its 15 s timeout); then the stages drain
  // everything already in the ring and close their files; the REST thread is joined last.
  rest_stop.store(true, std::memory_order_release);
  if (net) net->stop();
  if (net_thread.joinable()) net_thread.join();
  producer_done.store(true, std::memory_order_release);
  bells.data.ring();
  if (book_thread.joinable()) book_thread.join();
  if (consumers) consumers->stop();  // after the books: their last updates still go out
  if (archive_thread.joinable()) archive_thread.join();
  if (rest_thread.joinable()) rest_thread.join();
}

void Recorder::Impl::handle_events() {
  std::string notice;
  while (net->pop_notice(notice)) log("%s", notice.c_str());
  if (consumers) consumers->pop_notices([this](const std::string& s) { log("%s", s.c_str()); });
  if (rest) {
    if (const std::string n = rest->failure_note(monotonic_now()); !n.empty()) log("%s", n.c_str());
  }
  HealthEvent h;
  while (book->pop_health(h)) {
    if (h.kind == HealthEvent::Kind::kSilent) {
      net->resubscribe(h.token);
      log("asset %s: silent while its connection flows, resubscribing it", h.token.c_str());
      continue;
    }
    switch (bookless.on_report(h.token, monotonic_now())) {
      case BooklessTokens::Action::kIgnore:
      case BooklessTokens::Action::kWait: break;
      case BooklessTokens::Action::kAskVenue:
        if (std::string answer; !venue_knows(h.token, answer)) {
          bookless.mark_unknown(h.token);
          unknown_tokens.store(bookless.unknown_count(), std::memory_order_relaxed);
          log("asset %s: no book after %d tries, and the venue does not know it (REST /book: "
              "%s); reported as unknown, not resubscribed again",
              h.token.c_str(), BooklessTokens::kAskAfter, answer.c_str());
          break;
        }
        [[fallthrough]];
      case BooklessTokens::Action::kResubscribe:
        net->resubscribe(h.token);
        log("asset %s: no book arrived in time, resubscribing it (less often each time)",
            h.token.c_str());
        break;
    }
  }
}

bool Recorder::Impl::venue_knows(const std::string& token, std::string& answer) {
  HttpClientOptions o;
  o.base_url = cfg.rest_url;
  o.ca_file = cfg.ca_file;
  o.timeout = std::chrono::milliseconds(5'000);
  o.cancel = &stop;
  try {
    HttpClient client(o);
    const HttpResponse r = client.get("/book?token_id=" + token);
    answer = std::to_string(r.status) + " " + r.body.substr(0, std::min<std::size_t>(r.body.size(), 100));
    return r.status != 404;
  } catch (const HttpError& e) {
    answer = e.what();
    return true;  // no answer is no verdict: keep trying, less often
  }
}

// ---------------------------------------------------------------------------- status ---------

std::string Recorder::Impl::status_text(double fps) const {
  const NetworkStats& n = net->stats();
  const BookStageStats& b = book->stats();
  char s[512];
  const double fill = 100.0 * static_cast<double>(ring->used_observed()) /
                      static_cast<double>(ring->capacity());
  const auto p99 = [](const LatencyHistogram& h) {
    return h.count() == 0 ? std::string("-") : format_duration_ns(h.quantile(0.99));
  };
  const ArchiveStageStats* a = archive ? &archive->stats() : nullptr;
  // A failed attempt is a reconnect too: the shard is trying again.
  std::snprintf(s, sizeof s,
                "%.0f frames/s | books %u/%zu live, %u stale | conns %u/%u, reconnects %llu | "
                "ring %.1f%% | p99 read->book %s, ->archive %s | %s%s",
                fps, b.live.load(), plan.token_count(), b.stale.load(), n.live_connections.load(),
                n.shards.load(),
                static_cast<unsigned long long>(n.disconnects.load() + n.connect_failures.load()),
                fill, p99(b.read_to_book).c_str(),
                a ? p99(a->read_to_archive).c_str() : "- (books only)",
                alarms ? alarms->disk_text().c_str() : "no archive",
                a == nullptr                 ? ""
                : a->write_failing.load()    ? " | ARCHIVE WRITES FAILING"
                : a->frames_dropped.load() > 0 ? " | FRAMES LOST"
                                               : "");
  return consumers ? s + consumers->status_text() : std::string(s);
}

void Recorder::Impl::status_tick(MonoNanos now, bool final_line) {
  const NetworkStats& n = net->stats();
  // Alarms first: they are logged whatever the status mode.
  const std::uint64_t full = n.ring_full_waits.load(std::memory_order_relaxed);
  if (full != last_ring_full) {
    log("ALARM: the ring was full %llu more time(s): the network waited for a stage that fell "
        "behind (nothing was dropped)",
        static_cast<unsigned long long>(full - last_ring_full));
    last_ring_full = full;
  }
  if (archive && alarms) {
    for (const std::string& line : alarms->tick(archive->stats(), now)) log("%s", line.c_str());
  }
  if (!final_line && now < next_status) return;
  const double dt = last_status == 0 ? 0 : static_cast<double>(now - last_status) / 1e9;
  const std::uint64_t frames = n.frames.load(std::memory_order_relaxed);
  const double fps = dt > 0 ? static_cast<double>(frames - last_frames) / dt : 0;
  last_frames = frames;
  last_status = now;
  if (status_line) {
    next_status = now + kNanosPerSecond;
    std::fprintf(stderr, "\r\033[K%s", status_text(fps).c_str());
    line_drawn = true;
    if (final_line) {
      std::fputc('\n', stderr);
      line_drawn = false;
    }
  } else if (status_log) {
    next_status = now + secs_to_ns(cfg.status_interval_seconds);
    if (dt > 0 || final_line) {
      log("%s | frames %llu", status_text(fps).c_str(), static_cast<unsigned long long>(frames));
    }
  } else {
    next_status = now + kNanosPerSecond;
  }
  std::fflush(stderr);
}

void Recorder::Impl::control_loop() {
  const MonoNanos t0 = monotonic_now();
  const MonoNanos deadline =
      cfg.duration_seconds > 0 ? t0 + secs_to_ns(cfg.duration_seconds) : INT64_MAX;
  run_deadline = deadline;
  last_status = t0;
  next_status = t0 + kNanosPerSecond;
  while (!stop.load(std::memory_order_acquire)) {
    const MonoNanos now = monotonic_now();
    if (now >= deadline) break;
    if (archive && archive->stats().failed.load(std::memory_order_acquire)) {
      // A recorder that cannot archive has no reason to run: stop (the gate reports the loss).
      log("ALARM: the archive stage stopped writing (%s); stopping the recorder",
          archive->failure().c_str());
      break;
    }
    if (discovery_mode && now >= next_discovery) refresh_discovery(false);
    if (subs && subs->take()) {
      apply_plan(base_groups);
      log("runtime subscriptions applied: recording %zu tokens on %zu connection(s)",
          plan.token_count(), plan.shard_count());
    }
    handle_events();
    status_tick(now, false);
    if (const std::string s = service->tick(now); !s.empty()) log("%s", s.c_str());
    if (view && now >= next_view) {
      next_view = now + kNanosPerSecond;
      view->refresh(*book, *net, net->stats().frames.load(std::memory_order_relaxed), now,
                    [this](double fps) { return status_text(fps); });
    }
    // A cold thread: a short sleep keeps stop requests and deadlines prompt.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// ---------------------------------------------------------------------------- the run --------

int Recorder::Impl::run() {
  started = realtime_now();
  run_id = make_run_id(started) + run_id_label(cfg.shard, cfg.replica);  // "-s1of3-r1"
  discovery_mode = cfg.assets.empty() && cfg.assets_file.empty();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  status_line = cfg.status == "line" || (cfg.status == "auto" && tty);
  status_log = cfg.status == "log" || (cfg.status == "auto" && !tty);

  if (!open_listener()) return 2;
  try {
    make_private_dirs(cfg.out);
  } catch (const std::exception& e) {
    log("cannot create the archive directory %s: %s", cfg.out.c_str(), e.what());
    return 2;
  }

  // One recorder per archive root: refused before recovery could touch a live run's files.
  if (const std::string refusal = take_root(cfg.out, root); !refusal.empty()) {
    log("%s", refusal.c_str());
    return 2;
  }
  // Before any writer exists, so no file of this run can be mistaken for a crashed one.
  ArchiveWriterOptions wo;
  wo.root = cfg.out;
  wo.manifest_dir = cfg.manifest_dir;
  wo.run_id = run_id;
  wo.envelope = cfg.envelope;
  wo.gzip_level = cfg.gzip_level;
  wo.block_bytes = cfg.block_bytes;
  wo.block_max_age_ns = secs_to_ns(cfg.block_max_age_seconds);
  wo.max_file_bytes = cfg.max_file_bytes;
  wo.fsync = cfg.fsync;
  wo.fsync_interval_ns = secs_to_ns(cfg.fsync_interval_seconds);
  wo.max_pending_bytes = cfg.max_pending_bytes;
  if (!cfg.books_only) {  // books only: no archive root to recover, lock or watch
    recover_archive();
    prepare_root(root, wo, started, cfg.reserve_bytes);
    for (const std::string& note : root.notes) log("%s", note.c_str());
    alarms = std::make_unique<ArchiveAlarms>(
        cfg.out, DiskWatermark{cfg.disk_warn_free_percent, cfg.disk_warn_free_bytes},
        cfg.max_pending_bytes);
  }

  ring = std::make_unique<PipelineRing>(round_up_pow2(cfg.ring_bytes));
  NetworkOptions no;
  no.url = cfg.ws_url;
  no.ca_file = cfg.ca_file;
  no.run_id = run_id;
  no.max_frame_bytes = cfg.max_frame_bytes;
  no.ping_interval_seconds = cfg.ping_interval_seconds;
  no.pong_timeout_seconds = cfg.pong_timeout_seconds;
  no.stale_connection_seconds = cfg.stale_connection_seconds;
  no.connect_stagger_seconds = cfg.connect_stagger_seconds;
  no.backoff_initial_seconds = cfg.backoff_initial_seconds;
  no.backoff_max_seconds = cfg.backoff_max_seconds;
  no.backoff_reset_after_seconds = cfg.backoff_reset_after_seconds;
  no.publish_connections = http != nullptr;
  no.stop_grace_seconds = cfg.stop_grace_seconds;
  try {
    net = std::make_unique<NetworkStage>(no, *ring, bells);
  } catch (const std::exception& e) {
    log("%s", e.what());
    return 2;
  }

  BookStageOptions bo;
  bo.wait = cfg.wait;
  bo.max_spin_ns = static_cast<std::int64_t>(cfg.spin_max_us) * 1000;
  bo.compare_checkpoints = cfg.rest_checkpoint_interval_seconds > 0;
  bo.initial_book_timeout_seconds = cfg.initial_book_timeout_seconds;
  bo.token_silent_seconds = cfg.token_silent_seconds;
  bo.publish_health = http != nullptr;
  if (wants_consumers(cfg)) {
    try {
      consumers = std::make_unique<LiveConsumers>(cfg, &net->stats().connects,
                                                  &net->stats().connect_failures);
    } catch (const std::exception& e) {
      log("live consumers: %s", e.what());
      return 2;
    }
    bo.consumers = consumers->feed();
  }
  book = std::make_unique<BookStage>(bo, *ring, bells);

  ArchiveStageOptions ao;
  ao.writer = wo;
  ao.max_frame_bytes = cfg.max_frame_bytes;
  if (cfg.books_only) {
    discard = std::make_unique<DiscardStage>(*ring, bells);
  } else {
    ao.reserve = root.reserve.get();
    archive = std::make_unique<ArchiveStage>(ao, *ring, bells);
  }

  if (cfg.rest_checkpoint_interval_seconds > 0) {
    RestCheckpointOptions ro;
    ro.rest_url = cfg.rest_url;
    ro.ca_file = cfg.ca_file;
    ro.interval_seconds = cfg.rest_checkpoint_interval_seconds;
    ro.batch = cfg.rest_batch;
    ro.writer = wo;
    ro.writer.stream = "rest_checkpoints";
    ro.archive = !cfg.books_only;
    ro.stop = &rest_stop;
    try {
      rest = std::make_unique<RestCheckpointer>(ro, book.get());
    } catch (const std::exception& e) {
      log("REST checkpoints: %s", e.what());
      return 2;
    }
  }
  running.store(true, std::memory_order_release);
  service = std::make_unique<RecorderService>(
      RecorderServiceOptions{cfg.ping_interval_seconds, cfg.stale_connection_seconds,
                             cfg.pong_timeout_seconds,
                             [this](double fps) { return status_text(fps); }},
      *ring, net->stats());
  if (const std::string s = service->describe(); !s.empty()) log("%s", s.c_str());
  serve_operator();

  if (cfg.books_only) {
    log("run %s: %s -> books only (no archive)", run_id.c_str(), redact_url(cfg.ws_url).c_str());
  } else {
    log("run %s: %s -> %s (%s envelope)", run_id.c_str(), redact_url(cfg.ws_url).c_str(),
        cfg.out.c_str(), cfg.envelope == EnvelopeMode::kFull ? "full" : "compact");
  }
  if (cfg.wait == WaitMode::kBusySpin && std::thread::hardware_concurrency() < 2) {
    // The book thread holds a core; the network and archive threads need another.
    log("warning: busy-spin on 1 cpu: the book thread never yields; use spin-then-park");
  }
  // This thread runs the control loop: with pinning, off the book's cpu (see start_threads).
  const ScopedPin control_pin(cfg.cpus.size() == 3 ? cfg.cpus[2] : -1);
  start_threads();
  int code = 0;
  try {
    start_plan();
    control_loop();
  } catch (const StartError& e) {
    log("%s", e.what());
    stop_threads();  // nothing was recorded: no report to write
    return 2;
  } catch (const std::exception& e) {
    log("stopping after an error: %s", e.what());
    code = 1;
  }
  if (line_drawn) {
    std::fputc('\n', stderr);
    line_drawn = false;
  }
  const char* const stopping = "stopping: closing connections, draining the pipeline, closing files";
  log("%s", stopping);
  service->stopping(stopping);
  stop_threads();
  std::string notice;
  while (net->pop_notice(notice)) log("%s", notice.c_str());
  const int fin = finish();
  return code != 0 ? code : fin;
}

bool Recorder::Impl::open_listener() {
  if (cfg.http_listen.empty()) return true;
  HttpServerOptions o;
  if (!parse_listen_address(cfg.http_listen, o.host, o.port)) {  // validate() said so already
    log("http_listen %s: expected HOST:PORT", cfg.http_listen.c_str());
    return false;
  }
  http = std::make_unique<HttpServer>(o);
  try {
    http->listen();  // first of all: a port in use stops the run before anything is written
  } catch (const HttpServerError& e) {
    log("http_listen (--http): %s", e.what());
    http.reset();
    return false;
  }
  http_port.store(http->port(), std::memory_order_release);
  return true;
}

void Recorder::Impl::serve_operator() {
  if (!http) return;
  view = std::make_unique<OperatorView>(cfg.out);
  view->set_plan(plan);
  OperatorSources s;
  s.net = &net->stats();
  s.book = &book->stats();
  s.archive = archive ? &archive->stats() : nullptr;  // --books-only: none
  s.rest = rest ? &rest->stats() : nullptr;
  s.ring = ring.get();
  s.http = &http->stats();
  s.view = view.get();
  s.status_json = [r = self] { return r->status_json(); };
  if (consumers) consumers->serve(*http, s);  // the book API, its metrics and alerts
  subs = std::make_unique<RuntimeSubscriptions>(is_loopback_host(http->options().host));
  subs->add_to(*http);
  add_operator_routes(*http, std::move(s));
  http->start();
  const HttpServerOptions& o = http->options();
  const bool v6 = o.host.find(':') != std::string::npos;
  log("operator listener on http://%s%s%s:%u (/ the status page, /status, /metrics, /books, "
      "/odds, /subscriptions)",
      v6 ? "[" : "", o.host.c_str(), v6 ? "]" : "", static_cast<unsigned>(http->port()));
}

void Recorder::Impl::recover_archive() {
  RecoveryOptions o;
  o.root = cfg.out;
  o.manifest_dir = cfg.manifest_dir;
  o.durable = cfg.fsync != FsyncPolicy::kNone;
  o.max_frame_bytes = cfg.max_frame_bytes;
  const MonoNanos t0 = monotonic_now();
  try {
    recovery = recover_open_files(o);
  } catch (const std::exception& e) {
    // A file-system error outside any one file (the tree cannot be walked): record anyway; the
    // .open files stay for the next start.
    ++recovery.failed;
    recovery.problems.push_back(std::string("recovery stopped: ") + e.what());
  }
  const RecoveryResult& r = recovery;
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  if (r.open_files == 0 && r.problems.empty()) {
    log("recovery: no file left open by an earlier run");
    return;
  }
  log("recovery: %llu file(s) left open by an earlier run: %llu sealed as recovered (%llu frames, "
      "%llu REST records kept; torn tails cut: %llu bytes, %llu rows), %llu seal(s) completed, "
      "%llu empty removed, %llu in use, %llu damaged, %llu failed (%.1f ms)",
      u(r.open_files), u(r.files_recovered), u(r.frames), u(r.records), u(r.torn_tail_bytes),
      u(r.torn_tail_rows), u(r.seals_completed), u(r.empty_removed), u(r.in_use), u(r.corrupt),
      u(r.failed), static_cast<double>(monotonic_now() - t0) / 1e6);
  if (r.in_use > 0) {
    log("recovery: %llu .open file(s) are locked by a recorder still running on %s; left alone",
        u(r.in_use), cfg.out.c_str());
  }
  for (const std::string& p : r.problems) log("ALARM: recovery: %s", p.c_str());
}

int Recorder::Impl::finish() {
  const UnixNanos ended = realtime_now();
  status_tick(monotonic_now(), true);
  if (!archive) {  // books only: nothing on disk to close, check or report
    log("%llu frames, books only: no archive written",
        static_cast<unsigned long long>(net->stats().frames.load()));
    return 0;
  }
  const NetworkStats& n = net->stats();
  const BookStageStats& b = book->stats();
  const ArchiveStageStats& a = archive->stats();
  const ArchiveWriter& w = archive->writer();
  const pm::DecoderStats& d = book->decoder_stats();

  RunFacts f;
  f.run_id = run_id;
  f.writer_version = "booktape " BOOKTAPE_VERSION;
  f.config_yaml = to_yaml(with_urls_redacted(cfg));  // the manifest keeps no key a URL carries
  f.started = started;
  f.ended = ended;
  f.bounded = cfg.duration_seconds > 0;
  for (const auto& [id, m] : recorded) f.markets.push_back(m);
  f.tokens = plan.token_count();
  f.connects = n.connects.load();
  f.disconnects = n.disconnects.load();
  f.connect_failures = n.connect_failures.load();
  f.frames = n.frames.load();
  f.json_frames = f.frames - d.frames_by_kind[static_cast<std::size_t>(pm::FrameKind::kMalformed)];
  f.market_events = b.events.load();
  f.parse_errors = b.parse_errors.load();
  f.unknown = b.unknown.load();
  f.divergences = b.divergences.load();
  f.checks = b.checks.load();
  f.ring_full_waits = n.ring_full_waits.load();
  f.ring_bytes = ring->capacity();
  f.ring_high_water = n.ring_high_water.load();
  f.rest_enabled = rest != nullptr;
  if (rest) {
    const RestCheckpointStats& r = rest->stats();
    f.rest_rounds = r.rounds.load();
    f.rest_rounds_ok = r.rounds_ok.load();
    f.rest_requests = r.requests.load();
    f.rest_failures = r.http_errors.load() + r.transport_errors.load() + r.bad_bodies.load() +
                      r.empty_answers.load();
    f.checkpoint_agree = b.checkpoint_agree.load();
    f.checkpoint_diverge = b.checkpoint_diverge.load();
  }
  f.files = w.closed_files();
  if (rest) {
    const auto& more = rest->writer().closed_files();
    f.files.insert(f.files.end(), more.begin(), more.end());
  }
  f.frames_dropped = a.frames_dropped.load();
  f.recovery = recovery;
  f.read_to_book = b.read_to_book.summary_json();
  f.read_to_archive = a.read_to_archive.summary_json();
  f.read_to_book_text = b.read_to_book.summary_text();
  f.read_to_archive_text = a.read_to_archive.summary_text();
  f.rest_interval_seconds = cfg.rest_checkpoint_interval_seconds;
  f.oversized_received = n.oversized_frames.load();
  f.unknown_tokens = bookless.unknown_tokens();
  account_for_frames(f);

  log("%llu frames on %llu connection(s) (%llu closed), %llu market events, %llu malformed; "
      "%zu files closed",
      static_cast<unsigned long long>(f.frames), static_cast<unsigned long long>(f.connects),
      static_cast<unsigned long long>(f.disconnects), static_cast<unsigned long long>(f.market_events),
      static_cast<unsigned long long>(f.parse_errors), f.files.size());
  // The line an operator reads first: received against archived against lost.
  log("%s%s: %s", f.archive_clean() ? "" : "ALARM: ", accounting_text(f).c_str(),
      f.archive_clean() ? "every frame is in a sealed file"
      : f.unaccounted() > 0
          ? "UNCLEAN: frames are missing that no loss record names"
          : "UNCLEAN: see the loss records (replay and the report count them)");
  for (const LossRecord& l : f.losses) {
    log("  loss (%s): %s", to_string(l.reason), l.detail.c_str());
  }
  if (f.unwritten_losses > 0) {
    log("ALARM: %llu loss record(s) could not be written; the next start records this run as "
        "crashed", static_cast<unsigned long long>(f.unwritten_losses));
  }
  std::vector<std::string> notes;
  finish_root(root, run_id, started, f.unaccounted() == 0 && f.unwritten_losses == 0, notes);
  root_finished = true;
  for (const std::string& note : notes) log("%s", note.c_str());
  if (rest) {
    log("REST checkpoints: %llu rounds (%llu ok), books agree %llu, diverge %llu, skipped %llu "
        "(stream behind: %llu)",
        static_cast<unsigned long long>(f.rest_rounds), static_cast<unsigned long long>(f.rest_rounds_ok),
        static_cast<unsigned long long>(f.checkpoint_agree),
        static_cast<unsigned long long>(f.checkpoint_diverge),
        static_cast<unsigned long long>(b.checkpoint_skipped.load()),
        static_cast<unsigned long long>(b.checkpoint_behind.load()));
    for (const std::string& e : book->checkpoint_examples()) log("  diverged: %s", e.c_str());
  }

  // Exit 3: the archive is not clean (frames lost or unaccounted, loss records unwritten, files
  // left open), whatever the gate says; documented in docs/RECORD.md.
  const int archive_code = f.archive_clean() ? 0 : kExitUncleanArchive;
  if (!f.bounded) {
    if (archive_code != 0 && !w.stats().last_error.empty())
      log("the archive's last write error: %s", w.stats().last_error.c_str());
    return archive_code;
  }

  // A bounded run proves its outputs: every closed file reads back cleanly and matches the
  // checksum its manifest entry recorded.
  ArchiveReader reader;
  for (const ManifestEntry& e : f.files) {
    const std::filesystem::path p = cfg.out / e.path;
    RecordChecker v;
    FileReport fr;
    reader.read_file(p, v, fr);
    const std::string sha = file_sha256(p);
    if (fr.corrupt || fr.bad_lines > 0 || v.bad > 0 || !fr.error.empty() || sha != e.sha256) {
      ++f.unreadable_files;
      log("output check failed for %s: %s", e.path.c_str(),
          sha != e.sha256 ? "sha256 differs from the manifest"
          : !fr.error.empty() ? fr.error.c_str()
                              : "lines that are not JSON");
    }
  }
  const Gate g = evaluate_gate(f);
  gate = g.name();
  const std::filesystem::path mdir = cfg.manifest_dir.empty() ? cfg.out / "manifests" : cfg.manifest_dir;
  const std::filesystem::path rdir = cfg.out / "reports" / "checkpoints";
  const std::string manifest = run_manifest_json(f, g);
  const std::string report = run_report_markdown(f, g);
  try {
    make_private_dirs(mdir);
    make_private_dirs(rdir);
    // The seed's fixed names hold the latest run; the run-named copies keep every run.
    write_file_atomically(mdir, "checkpoint_010b_ws_raw_sample.json", manifest);
    write_file_atomically(mdir, "checkpoint_010b_ws_raw_sample_" + run_id + ".json", manifest);
    write_file_atomically(rdir, "checkpoint_010b_ws_raw_sample.md", report);
    write_file_atomically(rdir, "checkpoint_010b_ws_raw_sample_" + run_id + ".md", report);
    fsync_dir(mdir);
    fsync_dir(rdir);
    report_path = rdir / "checkpoint_010b_ws_raw_sample.md";
  } catch (const std::exception& e) {
    log("cannot write the run manifest or report: %s", e.what());
    return archive_code != 0 ? archive_code : 1;
  }
  log("gate %s; report %s", gate.c_str(), report_path.c_str());
  for (const std::string& r : g.reasons) log("  needs review: %s", r.c_str());
  return archive_code != 0 ? archive_code : g.pass ? 0 : 1;
}

void Recorder::Impl::account_for_frames(RunFacts& f) {
  const ArchiveStageStats& a = archive->stats();
  const ArchiveWriter& w = archive->writer();
  for (const ManifestEntry& e : w.closed_files()) {
    ++f.ws_files;
    f.frames_sealed += e.frames;
    f.oversized_sealed += e.oversized_frames;
    f.loss_records += e.loss_records;
  }
  // This run's loss records, as written into its sealed files (crash records of earlier runs
  // count frames of those runs: none here).
  ArchiveReader reader;
  class Losses final : public ArchiveVisitor {
   public:
    bool on_frame(const ArchiveFrame&) override { return true; }
    void on_record(std::string_view line) override {
      LossRecord r;
      if (parse_loss_record(line, r)) found.push_back(std::move(r));
    }
    std::vector<LossRecord> found;
  } losses;
  for (const ManifestEntry& e : w.closed_files()) {
    if (e.loss_records == 0) continue;
    FileReport fr;
    reader.read_file(cfg.out / e.path, losses, fr);
  }
  for (LossRecord& r : losses.found) {
    if (r.run_id == run_id) {
      f.frames_lost += r.frames.value_or(0);
      f.losses.push_back(std::move(r));
    }
  }
  f.crashes = root.crashes;
  f.unwritten_losses = a.unwritten_losses.load();
  f.unsealed_files = count_unsealed(cfg.out, run_id);
  f.write_errors = w.stats().write_errors + w.stats().fsync_errors;
  if (rest) f.write_errors += rest->writer().stats().write_errors + rest->writer().stats().fsync_errors;
}

// ---------------------------------------------------------------------------- public ---------

Recorder::Recorder(RecorderConfig config) {
  const std::vector<std::string> problems = validate(config);
  if (!problems.empty()) {
    std::string msg = "the recorder's settings are not usable:";
    for (const std::string& p : problems) msg += "\n  " + p;
    throw ConfigError(msg);
  }
  impl_ = std::make_unique<Impl>(std::move(config));
  impl_->self = this;
}

Recorder::~Recorder() {
  if (impl_) {
    if (impl_->http) impl_->http->stop();  // its handlers read everything below
    impl_->stop_threads();  // a run() cut short by an exception still joins
  }
}

int Recorder::run() {
  Impl& im = *impl_;
  const int code = im.run();
  if (im.root.lock && !im.root_finished) {
    // It ended before its report (could not start): clean if nothing was received.
    std::vector<std::string> notes;
    const bool nothing = !im.net || im.net->stats().frames.load() == 0;
    finish_root(im.root, im.run_id, im.started, nothing, notes);
    im.root_finished = true;
    for (const std::string& note : notes) im.log("%s", note.c_str());
  }
  return code;
}

void Recorder::request_stop() noexcept { impl_->stop.store(true, std::memory_order_release); }

const std::string& Recorder::gate() const noexcept { return impl_->gate; }
const std::filesystem::path& Recorder::report_path() const noexcept { return impl_->report_path; }
const std::string& Recorder::run_id() const noexcept { return impl_->run_id; }
std::uint16_t Recorder::http_port() const noexcept {
  return impl_->http_port.load(std::memory_order_acquire);
}

std::string Recorder::status_json() const {
  const Impl& im = *impl_;
  if (!im.running.load(std::memory_order_acquire)) return "{\"running\":false}";
  const NetworkStats& n = im.net->stats();
  const BookStageStats& b = im.book->stats();
  const ArchiveStageStats none;  // books only: an archive that wrote nothing
  const ArchiveStageStats& a = im.archive ? im.archive->stats() : none;
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::string s = "{\"running\":true,\"run_id\":\"" + im.run_id + "\",\"network\":{\"frames\":" +
                  u(n.frames.load()) + ",\"bytes\":" + u(n.bytes.load()) + ",\"connects\":" +
                  u(n.connects.load()) + ",\"disconnects\":" + u(n.disconnects.load()) +
                  ",\"connect_failures\":" + u(n.connect_failures.load()) +
                  ",\"reconnects\":" + u(n.disconnects.load() + n.connect_failures.load()) +
                  ",\"pings\":" + u(n.pings.load()) + ",\"pongs\":" + u(n.pongs.load()) +
                  ",\"live_connections\":" + u(n.live_connections.load()) + ",\"shards\":" +
                  u(n.shards.load()) + ",\"stale_reconnects\":" + u(n.stale_reconnects.load()) +
                  ",\"pong_timeouts\":" + u(n.pong_timeouts.load()) + ",\"invalid_operations\":" +
                  u(n.invalid_operations.load()) + ",\"resubscribes\":" + u(n.resubscribes.load()) +
                  ",\"oversized_frames\":" + u(n.oversized_frames.load()) +
                  ",\"ring_full_waits\":" + u(n.ring_full_waits.load()) + ",\"ring_full_ns\":" +
                  u(n.ring_full_ns.load()) + ",\"ring_high_water\":" + u(n.ring_high_water.load()) +
                  ",\"ring_bytes\":" + u(im.ring->capacity()) + "},\"books\":{\"frames\":" +
                  u(b.frames.load()) + ",\"events\":" + u(b.events.load()) + ",\"tokens\":" +
                  u(b.tokens.load()) + ",\"live\":" + u(b.live.load()) + ",\"stale\":" +
                  u(b.stale.load()) + ",\"awaiting\":" + u(b.awaiting.load()) +
                  ",\"unconfirmed\":" + u(b.unconfirmed.load()) + ",\"confirmations\":" +
                  u(b.confirmations.load()) + ",\"disagreements\":" + u(b.disagreements.load()) +
                  ",\"dropped\":" + u(b.dropped.load()) + ",\"unknown_tokens\":" +
                  u(im.unknown_tokens.load()) + ",\"checks\":" +
                  u(b.checks.load()) + ",\"divergences\":" + u(b.divergences.load()) +
                  ",\"parse_errors\":" + u(b.parse_errors.load()) + ",\"unknown\":" +
                  u(b.unknown.load()) + ",\"health_no_book\":" + u(b.health_no_book.load()) +
                  ",\"health_silent\":" + u(b.health_silent.load()) +
                  ",\"checkpoint_books\":" + u(b.checkpoint_books.load()) +
                  ",\"checkpoint_agree\":" + u(b.checkpoint_agree.load()) +
                  ",\"checkpoint_agree_waited\":" + u(b.checkpoint_agree_waited.load()) +
                  ",\"checkpoint_diverge\":" + u(b.checkpoint_diverge.load()) +
                  ",\"checkpoint_skipped\":" + u(b.checkpoint_skipped.load()) +
                  ",\"checkpoint_inconclusive\":" + u(b.checkpoint_inconclusive.load()) +
                  ",\"checkpoint_behind\":" + u(b.checkpoint_behind.load()) +
                  ",\"read_to_book\":" + b.read_to_book.summary_json() +
                  "},\"archive\":{\"frames\":" + u(a.frames.load()) + ",\"sessions\":" +
                  u(a.sessions.load()) + ",\"blocks\":" + u(a.blocks.load()) +
                  ",\"files_closed\":" + u(a.files_closed.load()) + ",\"bytes_written\":" +
                  u(a.bytes_written.load()) + ",\"raw_bytes\":" + u(a.raw_bytes.load()) +
                  ",\"write_errors\":" + u(a.write_errors.load()) + ",\"frames_dropped\":" +
                  u(a.frames_dropped.load()) + ",\"write_failing\":" +
                  (a.write_failing.load() ? "true" : "false") +
                  ",\"read_to_archive\":" + a.read_to_archive.summary_json();
  // Losses (docs/RECORD.md): what waits for the disk, what was dropped, stubs and records.
  s += ",\"pending_bytes\":" + u(a.pending_bytes.load()) + ",\"pending_frames\":" +
       u(a.pending_frames.load()) + ",\"dropping_frames\":" + u(a.dropping_frames.load()) +
       ",\"drop_runs\":" + u(a.drop_runs.load()) + ",\"loss_records\":" +
       u(a.loss_records.load()) + ",\"oversized_frames\":" + u(a.oversized_frames.load()) +
       ",\"files_vanished\":" + u(a.files_vanished.load()) + ",\"last_errno\":" +
       std::to_string(a.last_errno.load()) + ",\"reserve_released_bytes\":" +
       u(a.reserve_released.load()) + ",\"unwritten_losses\":" + u(a.unwritten_losses.load()) +
       "}";
  if (im.alarms) {  // books only: no archive, no disk to watch
    const DiskStats& disk = im.alarms->disk();
    s += ",\"disk\":{\"total_bytes\":" + u(disk.total_bytes.load()) + ",\"free_bytes\":" +
         u(disk.free_bytes.load()) + ",\"low\":" + (disk.low.load() ? "true" : "false") +
         ",\"low_alarms\":" + u(disk.low_alarms.load()) + ",\"reserved_bytes\":" +
         u(im.root.reserve ? im.root.reserve->reserved() : 0) + "}";
  }
  const RecoveryResult& rv = im.recovery;
  s += ",\"recovery\":{\"open_files\":" + u(rv.open_files) + ",\"files_recovered\":" +
       u(rv.files_recovered) + ",\"seals_completed\":" + u(rv.seals_completed) +
       ",\"empty_removed\":" + u(rv.empty_removed) + ",\"corrupt\":" + u(rv.corrupt) +
       ",\"failed\":" + u(rv.failed) + ",\"frames\":" + u(rv.frames) +
       ",\"torn_tail_bytes\":" + u(rv.torn_tail_bytes) + ",\"torn_tail_rows\":" +
       u(rv.torn_tail_rows) + "}";
  if (im.consumers) s += ",\"consumers\":" + im.consumers->status_json();
  if (im.rest) {
    const RestCheckpointStats& r = im.rest->stats();
    s += ",\"rest\":{\"rounds\":" + u(r.rounds.load()) + ",\"rounds_ok\":" + u(r.rounds_ok.load()) +
         ",\"requests\":" + u(r.requests.load()) + ",\"responses_ok\":" + u(r.responses_ok.load()) +
         ",\"http_errors\":" + u(r.http_errors.load()) + ",\"throttled\":" + u(r.throttled.load()) +
         ",\"transport_errors\":" + u(r.transport_errors.load()) + ",\"bad_bodies\":" +
         u(r.bad_bodies.load()) + ",\"empty_answers\":" + u(r.empty_answers.load()) +
         ",\"books_missing\":" + u(r.books_missing.load()) + ",\"books\":" + u(r.books.load()) + "}";
  }
  return s + "}";
}

}  // namespace booktape
