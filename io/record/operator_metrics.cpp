// GET /metrics: every counter an operator alerts on, read at scrape time from the stages'
// relaxed atomics and the operator view's snapshot (docs/OPERATIONS.md lists each family).
// Labels are small fixed sets (connection = a shard number, reason, type, state); never a
// token id.
#include <string>

#include "codecs/polymarket_events.hpp"
#include "core/version.hpp"
#include "io/record/operator_http.hpp"

namespace booktape {

namespace {

double num(const std::atomic<std::uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}
double num(const std::atomic<std::uint32_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}
double secs(const std::atomic<std::uint64_t>& ns) {
  return num(ns) / 1e9;
}

void network_families(MetricFamilies& m, const NetworkStats& n, const OperatorSnapshot& v) {
  // By connection: from the network thread's once-a-second snapshot (the process-wide totals
  // in /status are live; these catch up within a second).
  m.counter("booktape_frames_total", "Websocket frames read, by connection (shard)");
  for (const ConnectionHealth& c : v.connections)
    m.sample(static_cast<double>(c.frames), {{"connection", std::to_string(c.shard)}});
  m.counter("booktape_frame_bytes_total",
            "Payload bytes of the websocket frames read, by connection");
  for (const ConnectionHealth& c : v.connections)
    m.sample(static_cast<double>(c.bytes), {{"connection", std::to_string(c.shard)}});
  m.gauge("booktape_connection_up", "1 if the connection is open and subscribed, by connection");
  for (const ConnectionHealth& c : v.connections)
    m.sample(c.up ? 1 : 0, {{"connection", std::to_string(c.shard)}});

  const double live = num(n.live_connections);
  m.gauge("booktape_connections", "Connections (shards) by state")
      .sample(live, {{"state", "up"}})
      .sample(num(n.shards) - live, {{"state", "down"}});
  m.counter("booktape_connects_total", "Websocket connections that came up")
      .sample(num(n.connects));
  m.counter("booktape_disconnects_total", "Connections that were up and ended")
      .sample(num(n.disconnects));
  m.counter("booktape_reconnects_total",
            "Connections that ended and were replaced by a new one, by reason");
  for (std::size_t k = 0; k < kCloseKindCount; ++k) {
    const auto kind = static_cast<CloseKind>(k);
    if (kind == CloseKind::kNoAssets || kind == CloseKind::kShutdown) continue;
    m.sample(num(n.closes_by_kind[k]), {{"reason", to_string(kind)}});
  }
  m.counter("booktape_stale_connections_total",
            "Connections replaced because no market data came for stale_connection_seconds")
      .sample(num(n.stale_reconnects));
  m.counter("booktape_pings_total", "Text PINGs sent").sample(num(n.pings));
  m.counter("booktape_pongs_total", "PONGs received").sample(num(n.pongs));
  m.counter("booktape_invalid_operations_total", "INVALID OPERATION answers from the venue")
      .sample(num(n.invalid_operations));
  m.counter("booktape_resubscribes_total", "Single tokens unsubscribed and subscribed again")
      .sample(num(n.resubscribes));
  m.counter("booktape_oversized_frames_total", "Frames over max_frame_bytes (the connection ends)")
      .sample(num(n.oversized_frames));
}

void ring_families(MetricFamilies& m, const NetworkStats& n, const PipelineRing& ring) {
  m.gauge("booktape_ring_capacity_bytes", "Size of the frame ring between the stages")
      .sample(static_cast<double>(ring.capacity()));
  m.gauge("booktape_ring_used_bytes", "Bytes in the frame ring not yet released by both stages")
      .sample(static_cast<double>(ring.used_observed()));
  m.gauge("booktape_ring_high_water_bytes", "Most bytes ever seen in the frame ring")
      .sample(num(n.ring_high_water));
  m.counter("booktape_ring_full_waits_total",
            "Times the network thread found the ring full and waited (nothing is dropped)")
      .sample(num(n.ring_full_waits));
  m.counter("booktape_ring_full_wait_seconds_total", "Time the network thread waited for room")
      .sample(secs(n.ring_full_ns));
}

void book_families(MetricFamilies& m, const BookStageStats& b, const OperatorSnapshot& v) {
  m.counter("booktape_events_total", "Market events decoded, by event type");
  for (std::size_t t = 0; t < polymarket::kEventTypeCount; ++t) {
    m.sample(num(b.events_by_type[t]),
             {{"type", polymarket::to_string(static_cast<polymarket::EventType>(t))}});
  }
  m.counter("booktape_book_frames_total", "Frames the book stage has processed")
      .sample(num(b.frames));
  m.counter("booktape_book_snapshots_total", "Book snapshots applied").sample(num(b.snapshots));
  m.counter("booktape_book_changes_total", "Level changes applied").sample(num(b.changes));
  m.counter("booktape_book_changes_suppressed_total",
            "Level changes not applied because the book was not live")
      .sample(num(b.suppressed));
  m.counter("booktape_parse_errors_total", "Frames that were not valid JSON")
      .sample(num(b.parse_errors));
  m.counter("booktape_unknown_events_total", "Events of an unknown shape or event_type (kept raw)")
      .sample(num(b.unknown));
  m.counter("booktape_top_of_book_checks_total",
            "Comparisons of our top of book with the venue's best bid and ask")
      .sample(num(b.checks));
  m.counter("booktape_divergences_total", "Checks where our top of book differed from the venue's")
      .sample(num(b.divergences));
  m.counter("booktape_crossed_books_total", "Times a book became crossed or locked")
      .sample(num(b.crossed));
  m.counter("booktape_stale_tokens_total",
            "Tokens found unhealthy and resubscribed, by why (no first book in time, or silent)")
      .sample(num(b.health_no_book), {{"why", "no_initial_book"}})
      .sample(num(b.health_silent), {{"why", "silent"}});
  m.gauge("booktape_books", "Subscribed tokens by book state");
  for (const auto& [state, count] : v.books_by_state) m.sample(count, {{"state", state}});
  m.gauge("booktape_books_dropped", "Books of tokens no connection carries any more")
      .sample(num(b.dropped));
  m.counter("booktape_checkpoint_books_total",
            "REST checkpoint books compared with the live book, by verdict")
      .sample(num(b.checkpoint_agree), {{"verdict", "agree"}})
      .sample(num(b.checkpoint_diverge), {{"verdict", "diverge"}})
      .sample(num(b.checkpoint_skipped), {{"verdict", "skipped"}})
      .sample(num(b.checkpoint_inconclusive), {{"verdict", "inconclusive"}});
  m.histogram_seconds("booktape_read_to_book_seconds",
                      "From a frame's read completing to its events applied to the books",
                      b.read_to_book);
}

void rest_families(MetricFamilies& m, const RestCheckpointStats& r) {
  const double ok = num(r.rounds_ok);
  m.counter("booktape_rest_rounds_total", "REST checkpoint rounds, by result")
      .sample(ok, {{"result", "ok"}})
      .sample(num(r.rounds) - ok, {{"result", "failed"}});
  m.counter("booktape_rest_requests_total", "POST /books requests").sample(num(r.requests));
  m.counter("booktape_rest_errors_total", "Failed POST /books requests, by kind")
      .sample(num(r.http_errors), {{"kind", "http_status"}})
      .sample(num(r.throttled), {{"kind", "throttled"}})
      .sample(num(r.transport_errors), {{"kind", "transport"}})
      .sample(num(r.bad_bodies), {{"kind", "bad_body"}})
      .sample(num(r.empty_answers), {{"kind", "empty_answer"}});
  m.counter("booktape_rest_books_total", "Books received from REST checkpoints")
      .sample(num(r.books));
  m.counter("booktape_rest_books_missing_total", "Tokens asked for that the answer had no book for")
      .sample(num(r.books_missing));
  m.gauge("booktape_rest_last_latency_seconds", "Latency of the last POST /books")
      .sample(static_cast<double>(r.last_latency_ns.load(std::memory_order_relaxed)) / 1e9);
}

void archive_families(MetricFamilies& m, const ArchiveStageStats& a, const OperatorSnapshot& v) {
  m.counter("booktape_archive_frames_total", "Frames written to the archive").sample(num(a.frames));
  m.counter("booktape_archive_sessions_total", "Session records written").sample(num(a.sessions));
  m.counter("booktape_archive_input_bytes_total", "Archive lines before compression, bytes")
      .sample(num(a.raw_bytes));
  m.counter("booktape_archive_written_bytes_total", "Compressed bytes written to archive files")
      .sample(num(a.bytes_written));
  m.counter("booktape_archive_files_total", "Archive files closed and renamed")
      .sample(num(a.files_closed));
  m.counter("booktape_archive_members_total", "Gzip members (blocks) written")
      .sample(num(a.blocks));
  m.counter("booktape_archive_fsyncs_total", "fdatasync calls").sample(num(a.fsyncs));
  m.counter("booktape_archive_fsync_seconds_total", "Time spent in fdatasync")
      .sample(secs(a.fsync_ns));
  m.counter("booktape_archive_fsync_errors_total", "Failed fdatasync calls")
      .sample(num(a.fsync_errors));
  m.counter("booktape_archive_write_errors_total", "Failed block writes (retried)")
      .sample(num(a.write_errors));
  m.counter("booktape_archive_frames_dropped_total",
            "Frames lost because writes failed past the memory bound")
      .sample(num(a.frames_dropped));
  m.gauge("booktape_archive_write_failing", "1 while the last write attempt failed")
      .sample(a.write_failing.load(std::memory_order_relaxed) ? 1 : 0);
  m.histogram_seconds("booktape_read_to_archive_seconds",
                      "From a frame's read completing to the frame in a written block",
                      a.read_to_archive);
  m.gauge("booktape_archive_disk_bytes", "Bytes of the files under the archive root")
      .sample(static_cast<double>(v.disk.archive_bytes));
  m.gauge("booktape_disk_free_bytes", "Free bytes on the archive's file system (for this user)")
      .sample(static_cast<double>(v.disk.free_bytes));
  m.gauge("booktape_disk_total_bytes", "Size of the archive's file system")
      .sample(static_cast<double>(v.disk.total_bytes));
}

void http_families(MetricFamilies& m, const HttpServerStats& h) {
  m.counter("booktape_http_requests_total", "Operator listener requests answered by a handler")
      .sample(num(h.requests));
  m.counter("booktape_http_refused_total",
            "Requests the listener refused itself (unknown path, method, size, host)")
      .sample(num(h.refused));
  m.counter("booktape_http_timeouts_total", "Connections cut off for being too slow")
      .sample(num(h.timeouts));
  m.counter("booktape_http_evicted_total", "Connections closed to make room at the limit")
      .sample(num(h.evicted));
  m.gauge("booktape_http_connections", "Open operator listener connections").sample(num(h.open));
}

}  // namespace

std::string operator_metrics_text(const OperatorSources& s) {
  const std::shared_ptr<const OperatorSnapshot> view = s.view->latest();
  MetricFamilies m;
  m.gauge("booktape_build_info", "booktape's version; always 1")
      .sample(1, {{"version", BOOKTAPE_VERSION}});
  network_families(m, *s.net, *view);
  ring_families(m, *s.net, *s.ring);
  book_families(m, *s.book, *view);
  if (s.rest != nullptr) rest_families(m, *s.rest);
  if (s.archive != nullptr) archive_families(m, *s.archive, *view);  // null: --books-only
  if (s.http != nullptr) http_families(m, *s.http);
  for (const auto& more : s.more_metrics) more(m);
  m.process();
  return m.text();
}

}  // namespace booktape
