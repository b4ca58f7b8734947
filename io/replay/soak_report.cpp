#include "io/replay/soak_report.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

#include "codecs/json_out.hpp"
#include "codecs/svg_chart.hpp"
#include "core/version.hpp"
#include "io/archive/connections.hpp"
#include "io/archive/manifest_index.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/upload_manifest.hpp"
#include "io/archive/verify.hpp"
#include "io/replay/replayer.hpp"

namespace booktape {

namespace fs = std::filesystem;
namespace pm = polymarket;

namespace {

// Watches the replay: frames per second, connections, runs, losses, and book epochs (a snapshot
// and what follows until the next one) that no check against the venue's top of book confirmed.
class Observer final : public pm::EventSink {
 public:
  Observer(const SoakReportOptions& o, SoakReport& r) : o_(o), r_(r) {}
  void attach(Replayer& rp) {
    replay_ = &rp;
    inner_ = &rp.applier();
  }

  void before_frame(const ArchiveFrame& f) {
    if (!f.has_envelope) return;
    tracker_.on_frame(f.run_id, f.received_ns);
    if (o_.since && f.received_ns < *o_.since) return;
    if (!in_range_) {
      in_range_ = true;
      totals_at_start_ = replay_->books().totals();
      decoder_at_start_ = replay_->decoder_stats();
    }
    ++per_second_[f.received_ns / kNanosPerSecond];
    if (r_.from == 0 || f.received_ns < r_.from) r_.from = f.received_ns;
    r_.to = std::max(r_.to, f.received_ns);
  }

  void on_record(std::string_view line) { tracker_.on_record(line); }

  void on_book(pm::BookEvent& e) override {
    const TokenIndex before_t = replay_->books().find(e.asset_id);
    const std::uint64_t snaps =
        before_t != kNoToken ? replay_->books().book(before_t).stats.snapshots : 0;
    inner_->on_book(e);
    const TokenIndex t = replay_->books().find(e.asset_id);
    if (t == kNoToken) return;
    const TokenBook& tb = replay_->books().book(t);
    if (tb.stats.snapshots == snaps) return;  // rejected
    close_epoch(t, tb);
    if (t >= epoch_checks_.size()) epoch_checks_.resize(static_cast<std::size_t>(t) + 1, kNoEpoch);
    epoch_checks_[t] = tb.stats.checks;
    if (counting()) ++r_.epochs;
  }
  void on_price_change(const pm::PriceChangeEvent& e) override { inner_->on_price_change(e); }
  void on_last_trade(const pm::LastTradeEvent& e) override { inner_->on_last_trade(e); }
  void on_tick_size_change(const pm::TickSizeChangeEvent& e) override {
    inner_->on_tick_size_change(e);
    const TokenIndex t = replay_->books().find(e.asset_id);
    if (t != kNoToken) close_epoch(t, replay_->books().book(t));  // the grid changed: it ends
  }
  void on_best_bid_ask(const pm::BestBidAskEvent& e) override { inner_->on_best_bid_ask(e); }
  void on_market(const pm::MarketEvent& e) override { inner_->on_market(e); }
  void on_unknown(std::string_view t) override { inner_->on_unknown(t); }
  void on_invalid(pm::EventType t, pm::InvalidReason w) override { inner_->on_invalid(t, w); }

  // At the end: epochs still open, connections, runs and the replay's totals.
  void finish(const ReplaySummary& s, const std::vector<VerifiedFile>& files) {
    for (std::size_t t = 0; t < epoch_checks_.size(); ++t)
      close_epoch(static_cast<TokenIndex>(t), replay_->books().book(static_cast<TokenIndex>(t)));
    const BookKeeper& books = replay_->books();
    const KeeperTotals& k = books.totals();
    r_.checks = k.checks - totals_at_start_.checks;
    r_.divergences = k.divergences - totals_at_start_.divergences;
    r_.crossed_events = k.crossed - totals_at_start_.crossed;
    const pm::DecoderStats& d = replay_->decoder_stats();
    for (std::size_t i = 0; i < r_.events_by_type.size(); ++i)
      r_.events_by_type[i] = d.events_by_type[i] - decoder_at_start_.events_by_type[i];
    for (std::size_t i = 0; i < r_.frames_by_kind.size(); ++i) {
      r_.frames_by_kind[i] = d.frames_by_kind[i] - decoder_at_start_.frames_by_kind[i];
      r_.frames += r_.frames_by_kind[i];
    }
    r_.parse_errors = r_.frames_by_kind[static_cast<std::size_t>(pm::FrameKind::kMalformed)];
    r_.unknown_events = r_.events_by_type[static_cast<std::size_t>(pm::EventType::kUnknown)];
    r_.books = books.size();
    for (std::size_t i = 0; i < books.size(); ++i) {
      const TokenBook& tb = books.book(static_cast<TokenIndex>(i));
      r_.crossed_books_at_end += tb.crossed;
      r_.stale_books_at_end += tb.state != BookState::kLive;
    }
    r_.sequence_gaps = s.global.gaps + s.per_session.gaps;
    r_.frames_missing = s.global.missing;
    for (const FileReport& f : s.files) {
      r_.raw_bytes += f.raw_bytes;
      r_.compressed_bytes += f.bytes;
    }
    std::set<std::string> markets;
    for (const auto& [id, t] : tracker_.tokens())
      if (!t.market_slug.empty()) markets.insert(t.market_slug);
    r_.assets = tracker_.assets().size();
    r_.markets = markets.size();
    for (const std::string& m : markets) {
      if (r_.market_slugs.size() == 20) break;
      r_.market_slugs.push_back(m);
    }
    connections(files);
    if (!per_second_.empty()) per_second_series();
  }

 private:
  static constexpr std::uint64_t kNoEpoch = ~std::uint64_t{0};
  [[nodiscard]] bool counting() const noexcept { return in_range_; }

  void close_epoch(TokenIndex t, const TokenBook& tb) {
    if (t >= epoch_checks_.size() || epoch_checks_[t] == kNoEpoch) return;
    if (counting() && tb.stats.checks == epoch_checks_[t]) ++r_.unconfirmed_epochs;
    epoch_checks_[t] = kNoEpoch;
  }

  // Uptime, downtime, losses and restarts from the session records. A session with no close
  // record lasted to its run's last frame (a crash), unless its run is still recording.
  void connections(const std::vector<VerifiedFile>& files) {
    std::set<std::string> live_runs;
    for (const VerifiedFile& f : files)
      if (f.verdict == FileVerdict::kOpenInUse) live_runs.insert(f.report.run_id);
    const UnixNanos lo = o_.since.value_or(std::numeric_limits<UnixNanos>::min());
    std::vector<TimeInterval> up;
    std::set<std::string> crashed;
    for (const Connection& c : tracker_.connections()) {
      if (!c.closed && !live_runs.contains(c.run_id)) crashed.insert(c.run_id);
      if (c.close < lo) continue;
      if (c.open >= lo) ++r_.connections;
      if (c.closed && c.reason != "shutdown") {
        ++r_.connection_losses;
        ++r_.close_reasons[c.reason.empty() ? "unknown" : c.reason];
        events_.push_back(c.close);
      }
      up.push_back({std::max(c.open, lo), c.close});
      if (r_.from == 0 || std::max(c.open, lo) < r_.from) r_.from = std::max(c.open, lo);
      r_.to = std::max(r_.to, c.close);
    }
    const auto& runs = tracker_.runs();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (runs[i].second < lo) continue;
      ++r_.runs;
      if (i > 0) events_.push_back(runs[i].second);  // a restart
    }
    r_.crashes = crashed.size();
    std::sort(up.begin(), up.end(),
              [](const TimeInterval& a, const TimeInterval& b) { return a.from < b.from; });
    UnixNanos cursor = r_.from;
    for (const TimeInterval& i : up) {
      if (i.from > cursor) r_.downtime.push_back({cursor, i.from});
      if (i.to > cursor) {
        r_.covered_ns += i.to - std::max(cursor, i.from);
        cursor = i.to;
      }
    }
    if (r_.to > cursor) r_.downtime.push_back({cursor, r_.to});
    for (const TimeInterval& d : r_.downtime) r_.missed_ns += d.to - d.from;
  }

  void per_second_series() {
    const std::int64_t span = std::max<std::int64_t>(r_.to - r_.from, kNanosPerSecond);
    std::int64_t bucket = kNanosPerSecond;
    for (const std::int64_t s : {1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600}) {
      bucket = s * kNanosPerSecond;
      if (span / bucket <= 240) break;
    }
    r_.bucket_ns = bucket;
    const UnixNanos b0 = r_.from / bucket * bucket;
    const std::size_t n = static_cast<std::size_t>((r_.to - b0) / bucket) + 1;
    std::vector<double> frames(n, 0), events(n, 0);
    for (const auto& [sec, count] : per_second_) {
      const UnixNanos t = sec * kNanosPerSecond;
      if (t < b0) continue;
      const std::size_t i = std::min(n - 1, static_cast<std::size_t>((t - b0) / bucket));
      frames[i] += static_cast<double>(count);
    }
    for (const UnixNanos t : events_) {
      if (t < b0) continue;
      events[std::min(n - 1, static_cast<std::size_t>((t - b0) / bucket))] += 1;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const UnixNanos t = b0 + static_cast<std::int64_t>(i) * bucket;
      r_.frames_per_second.emplace_back(t, frames[i] / (static_cast<double>(bucket) / 1e9));
      r_.reconnects.emplace_back(t, events[i]);
    }
  }

  const SoakReportOptions& o_;
  SoakReport& r_;
  Replayer* replay_ = nullptr;
  pm::BookApplier* inner_ = nullptr;
  ConnectionTracker tracker_;
  std::map<std::int64_t, std::uint64_t> per_second_;
  std::vector<UnixNanos> events_;
  std::vector<std::uint64_t> epoch_checks_;
  KeeperTotals totals_at_start_;
  pm::DecoderStats decoder_at_start_;
  bool in_range_ = false;
};

// REST checkpoint records: status codes, transport errors, 429s.
class RestCounter final : public ArchiveVisitor {
 public:
  RestCounter(const SoakReportOptions& o, SoakReport& r) : o_(o), r_(r) {}
  bool on_frame(const ArchiveFrame&) override { return true; }
  void on_record(std::string_view line) override {
    if (!line.starts_with("{\"record\":\"rest_checkpoint\"")) return;
    simdjson::dom::element d;
    std::int64_t at = 0;
    if (parser_.parse(line.data(), line.size()).get(d) != simdjson::SUCCESS) return;
    if (d["requested_at_ns"].get_int64().get(at) == simdjson::SUCCESS && o_.since && at < *o_.since)
      return;
    ++r_.rest_requests;
    std::int64_t status = 0;
    std::string_view error;
    if (d["response"]["status"].get_int64().get(status) == simdjson::SUCCESS) {
      ++r_.rest_by_status[std::to_string(status)];
      if (status >= 200 && status < 300) {
        ++r_.rest_ok;
      } else if (status == 429) {
        ++r_.rest_rate_limited;
      } else {
        ++r_.rest_http_errors;
      }
    } else {
      ++r_.rest_transport_errors;
      const bool said = d["error"].get_string().get(error) == simdjson::SUCCESS;
      std::string key =
          "error: " + std::string(said ? error.substr(0, error.find(':')) : "unknown");
      ++r_.rest_by_status[key];
    }
  }

 private:
  const SoakReportOptions& o_;
  SoakReport& r_;
  simdjson::dom::parser parser_;
};

StreamFiles files_of(const ManifestIndex& ix,
                     std::vector<std::pair<UnixNanos, std::uint64_t>>& grow) {
  StreamFiles f;
  std::vector<std::uint64_t> sizes;
  for (const ManifestEntry* e : ix.entries()) {
    sizes.push_back(e->bytes);
    f.bytes += e->bytes;
    f.recovered += e->recovered;
    grow.emplace_back(e->closed_at, e->bytes);
  }
  f.files = sizes.size();
  if (!sizes.empty()) {
    std::sort(sizes.begin(), sizes.end());
    f.min_bytes = sizes.front();
    f.max_bytes = sizes.back();
    f.median_bytes = sizes[sizes.size() / 2];
  }
  return f;
}

std::string bytes_text(double b) {
  char buf[32];
  if (b >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  } else if (b >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  } else if (b >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  }
  return buf;
}

std::string seconds_text(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string pct(double num, double den) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f%%", den > 0 ? 100.0 * num / den : 0.0);
  return buf;
}

void findings(SoakReport& r) {
  auto add = [&r](std::string s) { r.findings.push_back(std::move(s)); };
  const std::int64_t period = r.to - r.from;
  if (r.frames == 0) add("no frames were archived in the period");
  if (r.missed_ns > 0)
    add("no connection was open for " + seconds_text(r.missed_ns) + " in " +
        std::to_string(r.downtime.size()) +
        " interval(s): frames sent then are missing "
        "(booktape merge fills them from a second recorder)");
  if (r.connection_losses > 0)
    add(std::to_string(r.connection_losses) + " connection(s) were lost (reasons below)");
  if (r.crashes > 0)
    add(std::to_string(r.crashes) + " run(s) ended without a clean stop (a crash or a kill)");
  if (r.divergences > 0)
    add(std::to_string(r.divergences) +
        " divergence(s) from the venue's best bid/ask: replay --json lists examples");
  if (r.unconfirmed_epochs > 0)
    add(std::to_string(r.unconfirmed_epochs) + " of " + std::to_string(r.epochs) +
        " book epochs were never checked against the venue's top of book");
  if (r.unexplained_gaps > 0)
    add(std::to_string(r.unexplained_gaps) +
        " sequence gap(s) no loss record explains (booktape verify)");
  if (r.frames_lost > 0)
    add(std::to_string(r.frames_lost) + " frame(s) named lost in loss records");
  if (r.invalid_files + r.missing_files > 0)
    add(std::to_string(r.invalid_files) + " invalid and " + std::to_string(r.missing_files) +
        " missing archive file(s) (booktape verify)");
  if (r.rest_rate_limited > 0)
    add(std::to_string(r.rest_rate_limited) + " REST request(s) were rate limited (429)");
  if (r.rest_http_errors + r.rest_transport_errors > 0)
    add(std::to_string(r.rest_http_errors + r.rest_transport_errors) + " REST request(s) failed");
  if (r.not_uploaded > 0 && r.uploaded_files > 0)
    add(std::to_string(r.not_uploaded) + " closed file(s) not uploaded yet");
  if (period < 24 * 3'600 * kNanosPerSecond)
    add("the period is shorter than 24 h: not a full soak (seed 002, checkpoint 8)");
}

}  // namespace

SoakReport build_soak_report(const SoakReportOptions& o) {
  SoakReport r;
  r.root = o.root;
  r.since = o.since;
  r.generated_at = realtime_now();

  // verify first: damaged files, gaps, losses, live runs.
  VerifyOptions vo;
  vo.label = false;
  vo.verify_payloads = false;
  const RootVerification v = verify_root(o.root, vo);
  for (const VerifiedFile& f : v.files) {
    r.invalid_files += f.verdict == FileVerdict::kInvalid;
    r.missing_files += f.verdict == FileVerdict::kMissing;
    r.open_files += f.verdict == FileVerdict::kOpenInUse || f.verdict == FileVerdict::kOpenLeft;
  }
  for (const SequenceGap& g : v.gaps)
    if (!g.recorded_loss && !g.in_damaged_file) ++r.unexplained_gaps;
  for (const LossRecord& l : v.losses) {
    if (o.since && l.at != 0 && l.at < *o.since) continue;
    ++r.loss_records;
    r.frames_lost += l.frames.value_or(0);
    r.crash_records += !l.last_global_sequence.has_value();
  }

  // The websocket archive, replayed.
  Observer obs(o, r);
  ReplayOptions ro;
  ro.progress = o.progress;
  ro.before_frame = [&obs](const ArchiveFrame& f) { obs.before_frame(f); };
  ro.on_record = [&obs](std::string_view line) { obs.on_record(line); };
  ro.events = &obs;
  auto replay = std::make_unique<Replayer>(ro);
  obs.attach(*replay);
  const ReplaySummary& s = replay->run({archive_stream_dir(o.root, "polymarket", "ws_raw")});
  obs.finish(s, v.files);

  // REST checkpoints.
  {
    RestCounter rc(o, r);
    ArchiveReader reader;
    std::vector<std::string> errors;
    for (const fs::path& f : ArchiveReader::expand(
             {archive_stream_dir(o.root, "polymarket", "rest_checkpoints")}, errors)) {
      FileReport rep;
      reader.read_file(f, rc, rep);
    }
  }

  // Files, disk growth, disk use.
  std::vector<std::pair<UnixNanos, std::uint64_t>> grow;
  r.ws_files = files_of(
      ManifestIndex::load(manifest_path(o.root / "manifests", "polymarket", "ws_raw")), grow);
  r.rest_files = files_of(
      ManifestIndex::load(manifest_path(o.root / "manifests", "polymarket", "rest_checkpoints")),
      grow);
  std::sort(grow.begin(), grow.end());
  std::uint64_t cumulative = 0;
  for (const auto& [t, b] : grow) {
    cumulative += b;
    if (o.since && t < *o.since) continue;
    r.archive_bytes.emplace_back(t, static_cast<double>(cumulative));
  }
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(o.root, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) r.disk_bytes += it->file_size(ec);
  const fs::space_info sp = fs::space(o.root, ec);
  if (!ec) {
    r.fs_capacity = sp.capacity;
    r.fs_available = sp.available;
  }

  // Uploads.
  const auto uploads = read_upload_manifest(upload_manifest_path(o.root));
  for (const auto& [path, u] : uploads) {
    ++r.uploaded_files;
    r.uploaded_bytes += u.bytes;
    r.removed_local += u.removed_at != 0;
    r.last_upload = std::max(r.last_upload, u.verified_at);
  }
  for (const VerifiedFile& f : v.files)
    if ((f.verdict == FileVerdict::kOk || f.verdict == FileVerdict::kInvalid) &&
        !uploads.contains(f.path))
      ++r.not_uploaded;
  findings(r);
  return r;
}

std::array<std::string, 3> SoakReport::svgs() const {
  TimeSeriesPlot f;
  f.title = "frames/s archived (mean per " + seconds_text(bucket_ns) + ")";
  f.y_label = "frames/s";
  f.series.push_back({"frames/s", frames_per_second, false});
  TimeSeriesPlot c;
  c.title = "connections lost and restarts (per " + seconds_text(bucket_ns) + ")";
  c.y_label = "count";
  c.series.push_back({"lost or restarted", reconnects, false});
  TimeSeriesPlot d;
  d.title = "archive on disk (closed files, cumulative)";
  d.y_label = "bytes";
  d.y_format = [](double v) { return bytes_text(v); };
  d.series.push_back({"archive bytes", archive_bytes, true});
  return {time_series_svg(f), time_series_svg(c), time_series_svg(d)};
}

std::string SoakReport::json() const {
  std::string s =
      "{\"format\":\"booktape.soak_report\",\"format_version\":1,\"writer\":"
      "\"booktape " BOOKTAPE_VERSION "\"";
  auto kv = [&s](const char* k, std::uint64_t v) { json_u64(s, k, v); };
  auto kd = [&s](const char* k, double v) {
    char b[48];
    std::snprintf(b, sizeof b, "%.6g", v);
    s += ",\"" + std::string(k) + "\":" + b;
  };
  auto ks = [&s](const char* k, const std::string& v) { json_str(s, k, v); };
  ks("root", root.string());
  s += ",\"since_utc\":" + (since ? "\"" + format_utc(*since) + "\"" : std::string("null"));
  ks("generated_at_utc", format_utc(generated_at));
  ks("from_utc", from ? format_utc(from) : "");
  ks("to_utc", to ? format_utc(to) : "");
  kd("period_seconds", static_cast<double>(to - from) / 1e9);
  kd("uptime_fraction",
     to > from ? static_cast<double>(covered_ns) / static_cast<double>(to - from) : 0.0);
  kd("missed_seconds", static_cast<double>(missed_ns) / 1e9);
  s += ",\"downtime\":[";
  for (std::size_t i = 0; i < downtime.size(); ++i) {
    if (i) s += ',';
    s += "{\"from_utc\":\"" + format_utc(downtime[i].from) + "\",\"to_utc\":\"" +
         format_utc(downtime[i].to) + "\"}";
  }
  s += "]";
  kv("assets", assets);
  kv("markets", markets);
  json_str_array(s, "market_slugs", market_slugs);
  kv("frames", frames);
  s += ",\"events_by_type\":{";
  bool first = true;
  for (std::size_t i = 0; i < events_by_type.size(); ++i) {
    if (events_by_type[i] == 0) continue;
    s += std::string(first ? "" : ",") + "\"" + to_string(static_cast<pm::EventType>(i)) +
         "\":" + std::to_string(events_by_type[i]);
    first = false;
  }
  s += "},\"frames_by_kind\":{";
  first = true;
  for (std::size_t i = 0; i < frames_by_kind.size(); ++i) {
    if (frames_by_kind[i] == 0) continue;
    s += std::string(first ? "" : ",") + "\"" + to_string(static_cast<pm::FrameKind>(i)) +
         "\":" + std::to_string(frames_by_kind[i]);
    first = false;
  }
  s += "}";
  kv("runs", runs);
  kv("restarts", runs > 0 ? runs - 1 : 0);
  kv("crashes", crashes);
  kv("connections", connections);
  kv("connection_losses", connection_losses);
  s += ",\"close_reasons\":{";
  first = true;
  for (const auto& [k, v] : close_reasons) {
    if (!first) s += ',';
    first = false;
    append_json_string(s, k);
    s += ":" + std::to_string(v);
  }
  s += "},\"rest\":{\"requests\":" + std::to_string(rest_requests) +
       ",\"ok\":" + std::to_string(rest_ok) +
       ",\"rate_limited\":" + std::to_string(rest_rate_limited) +
       ",\"http_errors\":" + std::to_string(rest_http_errors) +
       ",\"transport_errors\":" + std::to_string(rest_transport_errors) + ",\"by_status\":{";
  first = true;
  for (const auto& [k, v] : rest_by_status) {
    if (!first) s += ',';
    first = false;
    append_json_string(s, k);
    s += ":" + std::to_string(v);
  }
  s += "}}";
  for (const auto& [name, f] :
       {std::pair{"ws_raw_files", &ws_files}, std::pair{"rest_files", &rest_files}}) {
    s += ",\"" + std::string(name) + "\":{\"files\":" + std::to_string(f->files) +
         ",\"bytes\":" + std::to_string(f->bytes) +
         ",\"min_bytes\":" + std::to_string(f->min_bytes) +
         ",\"median_bytes\":" + std::to_string(f->median_bytes) +
         ",\"max_bytes\":" + std::to_string(f->max_bytes) +
         ",\"recovered\":" + std::to_string(f->recovered) + "}";
  }
  kv("raw_bytes", raw_bytes);
  kv("compressed_bytes", compressed_bytes);
  kd("compression_ratio",
     compressed_bytes > 0 ? static_cast<double>(raw_bytes) / static_cast<double>(compressed_bytes)
                          : 0.0);
  kd("compressed_bytes_per_frame",
     frames > 0 ? static_cast<double>(compressed_bytes) / static_cast<double>(frames) : 0.0);
  kv("disk_bytes", disk_bytes);
  kv("fs_capacity_bytes", fs_capacity);
  kv("fs_available_bytes", fs_available);
  s += ",\"upload\":{\"uploaded_files\":" + std::to_string(uploaded_files) +
       ",\"uploaded_bytes\":" + std::to_string(uploaded_bytes) +
       ",\"removed_local\":" + std::to_string(removed_local) +
       ",\"not_uploaded\":" + std::to_string(not_uploaded) + ",\"last_upload_utc\":" +
       (last_upload ? "\"" + format_utc(last_upload) + "\"" : std::string("null")) + "}";
  s += ",\"quality\":{";
  s += "\"checks\":" + std::to_string(checks);
  kv("divergences", divergences);
  kv("crossed_events", crossed_events);
  kv("crossed_books_at_end", crossed_books_at_end);
  kv("books", books);
  kv("stale_books_at_end", stale_books_at_end);
  kv("epochs", epochs);
  kv("unconfirmed_epochs", unconfirmed_epochs);
  kv("parse_errors", parse_errors);
  kv("unknown_events", unknown_events);
  kv("sequence_gaps", sequence_gaps);
  kv("frames_missing", frames_missing);
  kv("unexplained_gaps", unexplained_gaps);
  kv("loss_records", loss_records);
  kv("frames_lost", frames_lost);
  kv("crash_records", crash_records);
  kv("invalid_files", invalid_files);
  kv("missing_files", missing_files);
  kv("open_files", open_files);
  s += "}";
  auto series = [&s](const char* k, const std::vector<std::pair<UnixNanos, double>>& v) {
    s += ",\"" + std::string(k) + "\":[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      char b[64];
      std::snprintf(b, sizeof b, "[%lld,%.6g]", static_cast<long long>(v[i].first), v[i].second);
      s += (i ? "," : "") + std::string(b);
    }
    s += "]";
  };
  kv("bucket_ns", static_cast<std::uint64_t>(bucket_ns));
  series("frames_per_second", frames_per_second);
  series("reconnects", reconnects);
  series("archive_bytes", archive_bytes);
  json_str_array(s, "findings", findings);
  s += "}\n";
  return s;
}

std::string SoakReport::markdown(const std::array<std::string, 3>& plots) const {
  std::string m = "# Soak report " +
                  (from ? format_utc(from).substr(0, 10) : std::string("(no data)")) + "\n\n";
  m += "Data root `" + root.string() + "`, generated " + format_utc(generated_at) +
       " by booktape " BOOKTAPE_VERSION ".\n";
  m += "Period " + (from ? format_utc(from) : "-") + " .. " + (to ? format_utc(to) : "-") + " (" +
       seconds_text(to - from) + ")" + (since ? ", counted from " + format_utc(*since) : "") +
       ".\n\n";
  m += "## Findings\n\n";
  if (findings.empty()) m += "None.\n";
  for (const std::string& f : findings) m += "- " + f + "\n";
  const double period = static_cast<double>(to - from);
  m += "\n## Metrics\n\n| metric | value |\n| --- | --- |\n";
  auto row = [&m](const std::string& k, const std::string& v) {
    m += "| " + k + " | " + v + " |\n";
  };
  row("uptime (a connection open)", pct(static_cast<double>(covered_ns), period));
  row("time missed (no connection)",
      seconds_text(missed_ns) + " in " + std::to_string(downtime.size()) + " interval(s)");
  row("markets tracked", std::to_string(markets) + " (" + std::to_string(assets) + " assets)");
  row("frames archived", std::to_string(frames) +
                             (period > 0 ? " (" +
                                               std::to_string(static_cast<std::uint64_t>(
                                                   static_cast<double>(frames) / (period / 1e9))) +
                                               "/s mean)"
                                         : ""));
  std::string ev;
  for (std::size_t i = 0; i < events_by_type.size(); ++i)
    if (events_by_type[i] != 0)
      ev += std::string(ev.empty() ? "" : ", ") + to_string(static_cast<pm::EventType>(i)) + " " +
            std::to_string(events_by_type[i]);
  row("events", ev.empty() ? "-" : ev);
  row("runs (restarts, crashes)", std::to_string(runs) + " (" +
                                      std::to_string(runs > 0 ? runs - 1 : 0) + ", " +
                                      std::to_string(crashes) + ")");
  std::string reasons;
  for (const auto& [k, v] : close_reasons)
    reasons += std::string(reasons.empty() ? "" : "; ") + k + ": " + std::to_string(v);
  row("connections (lost)", std::to_string(connections) + " (" + std::to_string(connection_losses) +
                                (reasons.empty() ? "" : ": " + reasons) + ")");
  std::string st;
  for (const auto& [k, v] : rest_by_status)
    st += std::string(st.empty() ? "" : ", ") + k + ": " + std::to_string(v);
  row("REST checkpoints (API errors, rate limited)",
      std::to_string(rest_requests) + " (" +
          std::to_string(rest_http_errors + rest_transport_errors) + ", " +
          std::to_string(rest_rate_limited) + ")" + (st.empty() ? "" : "; " + st));
  row("websocket files (median size)",
      std::to_string(ws_files.files) + ", " + bytes_text(static_cast<double>(ws_files.bytes)) +
          " (" + bytes_text(static_cast<double>(ws_files.median_bytes)) + "; " +
          std::to_string(ws_files.recovered) + " recovered after a crash)");
  row("REST checkpoint files",
      std::to_string(rest_files.files) + ", " + bytes_text(static_cast<double>(rest_files.bytes)));
  char ratio[64];
  std::snprintf(
      ratio, sizeof ratio, "%.1fx (%.0f bytes a frame)",
      compressed_bytes > 0 ? static_cast<double>(raw_bytes) / static_cast<double>(compressed_bytes)
                           : 0.0,
      frames > 0 ? static_cast<double>(compressed_bytes) / static_cast<double>(frames) : 0.0);
  row("compression", ratio);
  row("disk use", bytes_text(static_cast<double>(disk_bytes)) + " under the root; file system " +
                      bytes_text(static_cast<double>(fs_available)) + " free of " +
                      bytes_text(static_cast<double>(fs_capacity)));
  row("upload", uploaded_files == 0
                    ? std::string("nothing uploaded (booktape upload)")
                    : std::to_string(uploaded_files) + " files verified on the remote (" +
                          bytes_text(static_cast<double>(uploaded_bytes)) + "), " +
                          std::to_string(removed_local) + " removed locally, " +
                          std::to_string(not_uploaded) + " not uploaded; last " +
                          format_utc(last_upload));
  row("checks against the venue's top of book (divergences)",
      std::to_string(checks) + " (" + std::to_string(divergences) + ")");
  row("crossed books (events, at the end)",
      std::to_string(crossed_events) + ", " + std::to_string(crossed_books_at_end));
  row("book epochs (never checked)",
      std::to_string(epochs) + " (" + std::to_string(unconfirmed_epochs) + ")");
  row("books at the end (not live)",
      std::to_string(books) + " (" + std::to_string(stale_books_at_end) + ")");
  row("sequence gaps (unexplained)",
      std::to_string(sequence_gaps) + " (" + std::to_string(unexplained_gaps) + ")");
  row("loss records (frames lost, crash tails)", std::to_string(loss_records) + " (" +
                                                     std::to_string(frames_lost) + ", " +
                                                     std::to_string(crash_records) + ")");
  row("parse errors, unknown events",
      std::to_string(parse_errors) + ", " + std::to_string(unknown_events));
  row("archive files invalid, missing, open", std::to_string(invalid_files) + ", " +
                                                  std::to_string(missing_files) + ", " +
                                                  std::to_string(open_files));
  m += "\n## Plots\n\n![frames/s](" + plots[0] + ")\n\n![connections lost and restarts](" +
       plots[1] + ")\n\n![archive on disk](" + plots[2] + ")\n";
  if (!downtime.empty()) {
    m += "\n## Time with no connection\n\n| from | to | seconds |\n| --- | --- | --- |\n";
    for (const TimeInterval& d : downtime)
      m += "| " + format_utc(d.from) + " | " + format_utc(d.to) + " | " +
           seconds_text(d.to - d.from) + " |\n";
  }
  m += "\nThe numbers, the series and the findings are in the JSON file beside this one "
       "(docs/ARCHIVE_TOOLS.md lists its fields).\n";
  return m;
}

fs::path write_soak_report(const SoakReport& r, const fs::path& dir) {
  const std::string date =
      r.from ? format_utc(r.from).substr(0, 10) : format_utc(r.generated_at).substr(0, 10);
  const std::string base = "soak_test_" + date;
  const std::array<std::string, 3> names = {base + "_frames.svg", base + "_reconnects.svg",
                                            base + "_disk.svg"};
  make_private_dirs(dir);
  const std::array<std::string, 3> svg = r.svgs();
  for (std::size_t i = 0; i < 3; ++i) write_file_atomically(dir, names[i], svg[i]);
  write_file_atomically(dir, base + ".json", r.json());
  write_file_atomically(dir, base + ".md", r.markdown(names));
  return dir / (base + ".md");
}

}  // namespace booktape
