#include "io/replay/replayer.hpp"

#include <simdjson.h>

#include <array>

#include "codecs/envelope.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"

namespace booktape {

namespace pm = polymarket;

namespace {
// Whether a record happened after `stop` (--at): session records carry at_ns, file records the
// time their file was opened.
bool happened_after(const simdjson::dom::element& rec, UnixNanos stop) {
  std::int64_t at = 0;
  std::string_view utc;
  if (rec["at_ns"].get(at) != simdjson::SUCCESS) {
    if (rec["opened_at_utc"].get(utc) != simdjson::SUCCESS) return false;
    const std::optional<UnixNanos> t = parse_utc(utc);
    if (!t) return false;
    at = *t;
  }
  return at > stop;
}
}  // namespace

Replayer::Replayer(ReplayOptions options)
    : opt_(std::move(options)),
      reader_(ArchiveReader::Options{opt_.verify_sha256, opt_.check_manifest}),
      applier_(books_) {}

void Replayer::track(SequenceStats& s, std::uint64_t& last, std::uint64_t seq) noexcept {
  // `last` == 0: the first frame we see of this run/session; it may legitimately start
  // anywhere (a replay of one file from the middle of a run).
  if (last != 0) {
    if (seq == last + 1) {
    } else if (seq > last + 1) {
      ++s.gaps;
      s.missing += seq - last - 1;
    } else {
      ++s.backwards;
    }
  }
  if (seq > last) last = seq;
}

bool Replayer::on_frame(const ArchiveFrame& f) {
  if (opt_.stop_after && f.has_envelope && f.received_ns > *opt_.stop_after) {
    summary_.stopped_at_time = true;
    return false;
  }
  ++frame_index_;
  ++summary_.frames;
  summary_.payload_bytes += f.size;
  if (f.has_envelope) {
    if (summary_.first_received == 0) summary_.first_received = f.received_ns;
    summary_.last_received = f.received_ns;
    // Compared by content: one file may hold several runs (archives joined with cat), and the
    // reader's buffer keeps its address when it takes a run id of the same length.
    if (cached_global_ == nullptr || f.run_id != cached_run_) {
      cached_run_.assign(f.run_id);
      cached_global_ = &last_global_[cached_run_];
    }
    track(summary_.global, *cached_global_, f.global_sequence);
    if (f.session_id != cached_session_ || cached_message_ == nullptr) {
      cached_session_.assign(f.session_id);
      cached_message_ = &last_message_[cached_session_];
    }
    track(summary_.per_session, *cached_message_, f.message_sequence);
  } else {
    ++summary_.frames_without_envelope;
  }

  books_.begin_frame(f.has_envelope ? f.global_sequence : frame_index_, f.received_ns);
  if (opt_.before_frame) opt_.before_frame(f);
  if (f.opcode == Opcode::kBinary) {
    decoder_.count_binary();
  } else if (opt_.events != nullptr) {
    decoder_.decode(f.data, f.size, f.readable, *opt_.events);
  } else {
    decoder_.decode(f.data, f.size, f.readable, applier_);
  }

  if (opt_.progress && (frame_index_ & 0xFFFF) == 0) {
    const MonoNanos now = monotonic_now();
    if (now - last_progress_ >= kNanosPerSecond) {
      last_progress_ = now;
      opt_.progress(summary_.frames, *current_file_);
    }
  }
  return true;
}

void Replayer::track_place(std::string_view run, std::string_view session, std::uint64_t global,
                           std::uint64_t message) {
  track(summary_.global, last_global_[std::string(run)], global);
  track(summary_.per_session, last_message_[std::string(session)], message);
  cached_global_ = cached_message_ = nullptr;  // the maps may have grown
}

void Replayer::on_loss(std::string_view line) {
  LossRecord l;
  if (!parse_loss_record(line, l)) return;
  LossSummary& s = summary_.losses;
  ++s.records;
  ++s.by_reason[static_cast<std::size_t>(l.reason)];
  s.frames_lost += l.frames.value_or(0);
  s.unread_bytes += l.unread_bytes.value_or(0);
  if (l.reason == LossReason::kCrash) ++s.unknown_tails;
  // The frames it names are lost, not a gap: the sequences move past them (when the record
  // comes where they would have been, as the writer puts it).
  if (l.first_global_sequence && l.last_global_sequence) {
    std::uint64_t& last = last_global_[l.run_id];
    if (last + 1 >= *l.first_global_sequence) last = std::max(last, *l.last_global_sequence);
  }
  for (const LossSession& x : l.sessions) {
    if (!x.first_message_sequence || !x.last_message_sequence) continue;
    std::uint64_t& last = last_message_[x.session_id];
    if (last + 1 >= *x.first_message_sequence) last = std::max(last, *x.last_message_sequence);
  }
  cached_global_ = cached_message_ = nullptr;
}

void Replayer::on_record(std::string_view line) {
  if (line.starts_with("{\"record\":\"loss\"")) return on_loss(line);
  if (opt_.on_record) opt_.on_record(line);
  // Records are few (files and connections, not frames): a DOM parse of a copy is fine here.
  simdjson::dom::parser parser;
  simdjson::dom::element rec;
  std::string_view kind, run, event, session;
  if (parser.parse(line.data(), line.size()).get(rec) != simdjson::SUCCESS ||
      rec["record"].get(kind) != simdjson::SUCCESS) {
    return;
  }
  if (opt_.stop_after && happened_after(rec, *opt_.stop_after)) return;  // not yet, at --at
  std::int64_t at_ns = 0;  // when continuity was lost, for the books' state_since
  if (rec["at_ns"].get(at_ns) != simdjson::SUCCESS) at_ns = 0;
  if (kind == "oversized_frame") {
    std::uint64_t global = 0, message = 0;
    if (rec["session_id"].get(session) != simdjson::SUCCESS ||
        rec["global_message_sequence"].get(global) != simdjson::SUCCESS ||
        rec["message_sequence"].get(message) != simdjson::SUCCESS) {
      return;
    }
    ++summary_.oversized_frames;
    track_place(run_, session, global, message);
    return;
  }
  if (kind == "file") {
    if (rec["run_id"].get(run) != simdjson::SUCCESS) return;
    if (!run_.empty() && run != run_) {
      // Another recorder process: it started with no books, so none of ours carries over.
      books_.mark_all_stale(StaleReason::kExternal, at_ns);
      session_tokens_.clear();
    }
    run_.assign(run);
    return;
  }
  if (kind != "session" || rec["event"].get(event) != simdjson::SUCCESS ||
      rec["session_id"].get(session) != simdjson::SUCCESS) {
    return;
  }
  const auto it = session_tokens_.find(std::string(session));
  if (event == "close") {
    if (it == session_tokens_.end()) return;
    // As the live book stage does (io/record/book_stage.cpp): continuity is lost, so the connection's
    // books are stale until their fresh snapshot. Not for a graceful stop: nothing follows it
    // in this run, so the books stay as last observed (a next run marks them stale above).
    std::string_view reason;
    if (rec["reason"].get(reason) != simdjson::SUCCESS || reason != "shutdown") {
      for (const std::string& id : it->second) {
        const TokenIndex t = books_.find(id);
        if (t != kNoToken) books_.mark_stale(t, StaleReason::kExternal, at_ns);
      }
    }
    session_tokens_.erase(it);
    return;
  }
  // open, continued, subscription: the full set of tokens the connection now carries.
  simdjson::dom::array ids;
  if (rec["subscription"]["assets_ids"].get(ids) != simdjson::SUCCESS) return;
  std::vector<std::string>& tokens =
      it != session_tokens_.end() ? it->second : session_tokens_[std::string(session)];
  tokens.clear();
  for (simdjson::dom::element id : ids) {
    std::string_view text;
    if (id.get(text) == simdjson::SUCCESS) tokens.emplace_back(text);
  }
}

const ReplaySummary& Replayer::run(const std::vector<std::filesystem::path>& inputs) {
  const MonoNanos t0 = monotonic_now();
  const std::vector<std::filesystem::path> files = ArchiveReader::expand(inputs, summary_.errors);
  for (const auto& path : files) {
    current_file_ = &path;
    cached_global_ = nullptr;
    FileReport report;
    const bool go_on = reader_.read_file(path, *this, report);
    if (report.unreadable) summary_.errors.push_back(path.string() + ": " + report.error);
    summary_.files.push_back(std::move(report));
    if (!go_on) break;
  }
  current_file_ = nullptr;
  summary_.elapsed_seconds += static_cast<double>(monotonic_now() - t0) / 1e9;
  return summary_;
}

namespace {

void kv(std::string& s, const char* key, std::uint64_t v, bool comma = true) {
  if (comma) s += ',';
  s += '"';
  s += key;
  s += "\":";
  s += std::to_string(v);
}

template <std::size_t N, typename Enum>
void counts(std::string& s, const char* key, const std::array<std::uint64_t, N>& a) {
  s += ",\"";
  s += key;
  s += "\":{";
  bool first = true;
  for (std::size_t i = 0; i < N; ++i) {
    if (a[i] == 0) continue;
    if (!first) s += ',';
    first = false;
    s += '"';
    s += to_string(static_cast<Enum>(i));
    s += "\":" + std::to_string(a[i]);
  }
  s += '}';
}

void top_json(std::string& s, const TopOfBook& t) {
  s += "{\"bid\":";
  s += t.bid == kNoPrice ? "null" : '"' + format_price(t.bid) + '"';
  s += ",\"ask\":";
  s += t.ask == kNoPrice ? "null" : '"' + format_price(t.ask) + '"';
  s += '}';
}

}  // namespace

std::string Replayer::summary_json() const {
  const ReplaySummary& r = summary_;
  const pm::DecoderStats& d = decoder_.stats();
  const pm::ApplierStats& a = applier_.stats();
  const KeeperTotals& k = books_.totals();

  std::array<std::uint64_t, kBookStateCount> by_state{};
  std::uint64_t diverged_tokens = 0, crossed_now = 0;
  for (std::size_t i = 0; i < books_.size(); ++i) {
    const TokenBook& tb = books_.book(static_cast<TokenIndex>(i));
    ++by_state[static_cast<std::size_t>(tb.state)];
    diverged_tokens += tb.stats.divergences > 0;
    crossed_now += tb.crossed;
  }
  std::uint64_t torn_bytes = 0, torn_rows = 0, bad_lines = 0, len_mis = 0, sha_mis = 0,
                open_files = 0, corrupt = 0, damaged = 0, corrupt_bytes = 0, missing_rows = 0,
                unlisted = 0;
  for (const FileReport& f : r.files) {
    torn_bytes += f.torn_tail_bytes;
    torn_rows += f.torn_tail_rows;
    bad_lines += f.bad_lines;
    len_mis += f.length_mismatches;
    sha_mis += f.sha_mismatches;
    open_files += f.open_file;
    corrupt += f.corrupt;
    damaged += f.damaged();
    corrupt_bytes += f.corrupt_bytes;
    missing_rows += f.manifest == ManifestCheck::kMismatch ? f.missing_rows : f.corrupt_rows;
    unlisted += f.manifest == ManifestCheck::kNotListed;
  }
  const auto malformed = d.frames_by_kind[static_cast<std::size_t>(pm::FrameKind::kMalformed)];
  const auto other_text = d.frames_by_kind[static_cast<std::size_t>(pm::FrameKind::kOtherText)];
  const auto unknown_events = d.events_by_type[static_cast<std::size_t>(pm::EventType::kUnknown)];

  std::string s = "{";
  kv(s, "frames", r.frames, false);
  kv(s, "payload_bytes", r.payload_bytes);
  counts<pm::kEventTypeCount, pm::EventType>(s, "events_by_type", d.events_by_type);
  counts<pm::kFrameKindCount, pm::FrameKind>(s, "frames_by_kind", d.frames_by_kind);
  kv(s, "tokens", books_.size());
  s += ",\"books\":{";
  for (std::size_t i = 0; i < kBookStateCount; ++i)  // by state name: live, stale, ...
    kv(s, to_string(static_cast<BookState>(i)), by_state[i], i != 0);
  kv(s, "crossed", crossed_now);
  s += '}';
  kv(s, "divergences", k.divergences);
  kv(s, "checks", k.checks);
  kv(s, "tokens_with_divergences", diverged_tokens);
  s += ",\"divergence_examples\":[";
  bool first = true;
  for (const Divergence& dv : books_.divergence_examples()) {
    if (!first) s += ',';
    first = false;
    s += "{\"asset_id\":";
    append_json_string(s, books_.token_id(dv.token));
    s += ",\"frame\":" + std::to_string(dv.frame);
    if (dv.received_ns != 0) s += ",\"received_at_utc\":\"" + format_utc(dv.received_ns) + '"';
    s += ",\"ours\":";
    top_json(s, dv.ours);
    s += ",\"venue\":";
    top_json(s, dv.venue);
    s += '}';
  }
  s += ']';
  kv(s, "parse_errors", malformed);
  kv(s, "unknown", unknown_events + other_text);
  kv(s, "invalid_events", d.invalid_events);
  kv(s, "bad_values", d.bad_values);
  kv(s, "snapshots", k.snapshots);
  kv(s, "changes_applied", k.changes_applied);
  kv(s, "changes_suppressed", k.changes_suppressed);
  kv(s, "bad_updates", k.bad_updates);
  kv(s, "tick_size_changes", k.tick_size_changes);
  kv(s, "confirmations", k.confirmations);
  kv(s, "disagreements", k.disagreements);
  kv(s, "crossed_events", k.crossed);
  kv(s, "unattributed_entries", a.unattributed_entries);
  kv(s, "market_events", a.market_events);
  kv(s, "sequence_gaps", r.global.gaps + r.per_session.gaps);
  // Frames the archive names as lost (loss records) are counted here, never as gaps.
  s += ",\"losses\":{";
  kv(s, "records", r.losses.records, false);
  kv(s, "frames_lost", r.losses.frames_lost);
  kv(s, "unknown_tails", r.losses.unknown_tails);
  kv(s, "unread_bytes", r.losses.unread_bytes);
  s += ",\"by_reason\":{";
  first = true;
  for (std::size_t i = 0; i < r.losses.by_reason.size(); ++i) {
    if (r.losses.by_reason[i] == 0) continue;
    kv(s, to_string(static_cast<LossReason>(i)), r.losses.by_reason[i], !first);
    first = false;
  }
  s += "}}";
  kv(s, "oversized_frames", r.oversized_frames);
  s += ",\"sequences\":{\"global\":{";
  kv(s, "gaps", r.global.gaps, false);
  kv(s, "missing", r.global.missing);
  kv(s, "backwards", r.global.backwards);
  s += "},\"per_session\":{";
  kv(s, "gaps", r.per_session.gaps, false);
  kv(s, "missing", r.per_session.missing);
  kv(s, "backwards", r.per_session.backwards);
  s += "}}";
  kv(s, "frames_without_envelope", r.frames_without_envelope);
  if (r.first_received != 0) {
    s += ",\"first_received_at_utc\":\"" + format_utc(r.first_received) +
         "\",\"last_received_at_utc\":\"" + format_utc(r.last_received) + '"';
  }
  kv(s, "files_read", r.files.size());
  kv(s, "open_files", open_files);
  kv(s, "corrupt_files", corrupt);
  kv(s, "torn_tail_bytes", torn_bytes);
  kv(s, "torn_tail_rows", torn_rows);
  kv(s, "damaged_files", damaged);
  kv(s, "corrupt_bytes", corrupt_bytes);
  kv(s, "missing_rows", missing_rows);
  kv(s, "unlisted_files", unlisted);
  s += ",\"envelope_errors\":{";
  kv(s, "bad_lines", bad_lines, false);
  kv(s, "length_mismatches", len_mis);
  kv(s, "sha256_mismatches", sha_mis);
  s += '}';
  s += ",\"files\":[";
  for (std::size_t i = 0; i < r.files.size(); ++i) {
    const FileReport& f = r.files[i];
    if (i) s += ',';
    s += "{\"path\":";
    append_json_string(s, f.path.string());
    s += std::string(",\"format\":\"") + to_string(f.format) + '"';
    s += std::string(",\"open_file\":") + (f.open_file ? "true" : "false");
    kv(s, "bytes", f.bytes);
    kv(s, "members", f.members);
    kv(s, "frames", f.frames);
    kv(s, "torn_tail_bytes", f.torn_tail_bytes);
    kv(s, "torn_tail_rows", f.torn_tail_rows);
    s += std::string(",\"corrupt\":") + (f.corrupt ? "true" : "false");
    s += std::string(",\"damaged\":") + (f.damaged() ? "true" : "false");
    s += std::string(",\"manifest\":\"") + to_string(f.manifest) + '"';
    if (f.manifest == ManifestCheck::kMismatch) {
      s += ",\"manifest_problem\":";
      append_json_string(s, f.manifest_problem);
      kv(s, "missing_rows", f.missing_rows);
    }
    if (!f.corrupt_spans.empty()) {
      s += ",\"corrupt_spans\":[";
      for (std::size_t j = 0; j < f.corrupt_spans.size(); ++j) {
        const CorruptSpan& c = f.corrupt_spans[j];
        if (j) s += ',';
        s += "{";
        kv(s, "offset", c.offset, false);
        kv(s, "bytes", c.bytes);
        kv(s, "rows", c.rows);
        s += ",\"reason\":";
        append_json_string(s, c.reason);
        s += '}';
      }
      s += ']';
    }
    if (!f.error.empty()) {
      s += ",\"error\":";
      append_json_string(s, f.error);
    }
    s += '}';
  }
  s += ']';
  s += ",\"errors\":[";
  for (std::size_t i = 0; i < r.errors.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, r.errors[i]);
  }
  s += ']';
  s += std::string(",\"stopped_at_time\":") + (r.stopped_at_time ? "true" : "false");
  char buf[64];
  std::snprintf(buf, sizeof buf, ",\"elapsed_seconds\":%.3f", r.elapsed_seconds);
  s += buf;
  const double fps = r.elapsed_seconds > 0 ? static_cast<double>(r.frames) / r.elapsed_seconds : 0;
  std::snprintf(buf, sizeof buf, ",\"frames_per_second\":%.0f", fps);
  s += buf;
  s += "}\n";
  return s;
}

}  // namespace booktape
