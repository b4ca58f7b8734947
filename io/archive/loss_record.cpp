#include "io/archive/loss_record.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>

#include "codecs/envelope.hpp"

namespace booktape {

namespace {

constexpr std::array<const char*, kLossReasonCount> kReasonNames = {
    "disk_full", "write_error", "memory_bound", "file_vanished", "stop_unread", "crash"};

void append_opt(std::string& s, const char* key, const std::optional<std::uint64_t>& v) {
  s += ",\"";
  s += key;
  s += "\":";
  s += v ? std::to_string(*v) : "null";
}

void append_opt(std::string& s, const char* key, const std::optional<std::int64_t>& v) {
  s += ",\"";
  s += key;
  s += "\":";
  s += v ? std::to_string(*v) : "null";
}

template <class T>
std::optional<T> opt_of(simdjson::dom::element e, std::string_view key) {
  simdjson::dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS || v.is_null()) return std::nullopt;
  T out{};
  if constexpr (std::is_same_v<T, std::uint64_t>) {
    if (v.get_uint64().get(out) != simdjson::SUCCESS) return std::nullopt;
  } else {
    if (v.get_int64().get(out) != simdjson::SUCCESS) return std::nullopt;
  }
  return out;
}

}  // namespace

const char* to_string(LossReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kReasonNames.size() ? kReasonNames[i] : "?";
}

bool parse_loss_reason(std::string_view s, LossReason& out) noexcept {
  for (std::size_t i = 0; i < kReasonNames.size(); ++i) {
    if (s == kReasonNames[i]) {
      out = static_cast<LossReason>(i);
      return true;
    }
  }
  return false;
}

bool LossRecord::covers(std::uint64_t from, std::uint64_t to) const noexcept {
  if (!first_global_sequence || from < *first_global_sequence) return false;
  return !last_global_sequence || to <= *last_global_sequence;
}

std::string render_loss_record(const LossRecord& r) {
  std::string s = "{\"record\":\"loss\",\"run_id\":";
  append_json_string(s, r.run_id);
  if (!r.written_by_run_id.empty()) {
    s += ",\"written_by_run_id\":";
    append_json_string(s, r.written_by_run_id);
  }
  s += ",\"reason\":\"";
  s += to_string(r.reason);
  s += "\",\"at_utc\":\"" + format_utc(r.at) + "\",\"at_ns\":" + std::to_string(r.at);
  append_opt(s, "frames", r.frames);
  append_opt(s, "first_global_message_sequence", r.first_global_sequence);
  append_opt(s, "last_global_message_sequence", r.last_global_sequence);
  append_opt(s, "first_received_at_ns", r.first_received_ns);
  append_opt(s, "last_received_at_ns", r.last_received_ns);
  s += ",\"sessions\":[";
  for (std::size_t i = 0; i < r.sessions.size(); ++i) {
    const LossSession& x = r.sessions[i];
    s += i ? ",{\"session_id\":" : "{\"session_id\":";
    append_json_string(s, x.session_id);
    s += ",\"connection_sequence\":" + std::to_string(x.connection_sequence);
    append_opt(s, "first_message_sequence", x.first_message_sequence);
    append_opt(s, "last_message_sequence", x.last_message_sequence);
    append_opt(s, "frames", x.frames);
    s += '}';
  }
  s += ']';
  append_opt(s, "unread_bytes", r.unread_bytes);
  if (r.records > 0) s += ",\"records\":" + std::to_string(r.records);
  s += ",\"detail\":";
  append_json_string(s, r.detail);
  s += "}\n";
  return s;
}

bool parse_loss_record(std::string_view line, LossRecord& out) {
  if (!line.starts_with("{\"record\":\"loss\"")) return false;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(line.data(), line.size(), true).get(e) != simdjson::SUCCESS) return false;
  out = LossRecord{};
  std::string_view v;
  if (e["run_id"].get_string().get(v) != simdjson::SUCCESS) return false;
  out.run_id.assign(v);
  if (e["written_by_run_id"].get_string().get(v) == simdjson::SUCCESS) out.written_by_run_id.assign(v);
  if (e["reason"].get_string().get(v) != simdjson::SUCCESS || !parse_loss_reason(v, out.reason))
    return false;
  std::int64_t at = 0;
  if (e["at_ns"].get_int64().get(at) == simdjson::SUCCESS) out.at = at;
  out.frames = opt_of<std::uint64_t>(e, "frames");
  out.first_global_sequence = opt_of<std::uint64_t>(e, "first_global_message_sequence");
  out.last_global_sequence = opt_of<std::uint64_t>(e, "last_global_message_sequence");
  out.first_received_ns = opt_of<std::int64_t>(e, "first_received_at_ns");
  out.last_received_ns = opt_of<std::int64_t>(e, "last_received_at_ns");
  out.unread_bytes = opt_of<std::uint64_t>(e, "unread_bytes");
  if (const auto n = opt_of<std::uint64_t>(e, "records")) out.records = *n;
  if (e["detail"].get_string().get(v) == simdjson::SUCCESS) out.detail.assign(v);
  simdjson::dom::array sessions;
  if (e["sessions"].get_array().get(sessions) == simdjson::SUCCESS) {
    for (simdjson::dom::element x : sessions) {
      LossSession ls;
      if (x["session_id"].get_string().get(v) == simdjson::SUCCESS) ls.session_id.assign(v);
      if (const auto c = opt_of<std::uint64_t>(x, "connection_sequence")) ls.connection_sequence = *c;
      ls.first_message_sequence = opt_of<std::uint64_t>(x, "first_message_sequence");
      ls.last_message_sequence = opt_of<std::uint64_t>(x, "last_message_sequence");
      ls.frames = opt_of<std::uint64_t>(x, "frames");
      out.sessions.push_back(std::move(ls));
    }
  }
  return true;
}

void LossSpan::add_frame(UnixNanos received_ns, std::uint64_t global_sequence,
                         std::uint64_t connection_sequence, std::uint64_t message_sequence,
                         std::string_view session_id) {
  if (frames_ == 0) {
    first_global_ = last_global_ = global_sequence;
  } else {
    first_global_ = std::min(first_global_, global_sequence);
    last_global_ = std::max(last_global_, global_sequence);
  }
  if (frames_ + records_ == 0) first_received_ = received_ns;
  last_received_ = received_ns;
  ++frames_;
  if (hit_ >= sessions_.size() || sessions_[hit_].connection_sequence != connection_sequence) {
    hit_ = 0;
    while (hit_ < sessions_.size() && sessions_[hit_].connection_sequence != connection_sequence)
      ++hit_;
    if (hit_ == sessions_.size()) {
      sessions_.push_back(Session{std::string(session_id), connection_sequence, message_sequence,
                                  message_sequence, 0});
    }
  }
  Session& s = sessions_[hit_];
  s.first = s.frames == 0 ? message_sequence : std::min(s.first, message_sequence);
  s.last = s.frames == 0 ? message_sequence : std::max(s.last, message_sequence);
  ++s.frames;
}

void LossSpan::add_record(UnixNanos at) noexcept {
  if (frames_ + records_ == 0) first_received_ = at;
  last_received_ = at;
  ++records_;
}

void LossSpan::merge(const LossSpan& o) {
  if (o.empty()) return;
  if (o.frames_ > 0) {
    first_global_ = frames_ == 0 ? o.first_global_ : std::min(first_global_, o.first_global_);
    last_global_ = frames_ == 0 ? o.last_global_ : std::max(last_global_, o.last_global_);
  }
  if (empty()) first_received_ = o.first_received_;
  last_received_ = o.last_received_;
  frames_ += o.frames_;
  records_ += o.records_;
  for (const Session& x : o.sessions_) {
    if (x.frames == 0) continue;  // kept from an earlier span, not part of this one
    auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const Session& s) {
      return s.connection_sequence == x.connection_sequence;
    });
    if (it == sessions_.end()) {
      sessions_.push_back(x);
    } else {
      it->first = it->frames == 0 ? x.first : std::min(it->first, x.first);
      it->last = it->frames == 0 ? x.last : std::max(it->last, x.last);
      it->frames += x.frames;
    }
  }
}

void LossSpan::clear() noexcept {
  frames_ = records_ = 0;
  first_global_ = last_global_ = 0;
  first_received_ = last_received_ = 0;
  // The sessions of this span stay, emptied, for the next one (a block's span is cleared every
  // block: no allocation while the same connections flow); the ones it did not use go.
  std::erase_if(sessions_, [](const Session& s) { return s.frames == 0; });
  for (Session& s : sessions_) s.frames = 0;
  hit_ = 0;
}

LossRecord LossSpan::to_record(std::string_view run_id, LossReason reason, UnixNanos at,
                               std::string detail) const {
  LossRecord r;
  r.run_id = std::string(run_id);
  r.reason = reason;
  r.at = at;
  r.frames = frames_;
  r.records = records_;
  if (frames_ > 0) {
    r.first_global_sequence = first_global_;
    r.last_global_sequence = last_global_;
  }
  if (!empty()) {
    r.first_received_ns = first_received_;
    r.last_received_ns = last_received_;
  }
  for (const Session& s : sessions_) {
    if (s.frames == 0) continue;
    r.sessions.push_back(LossSession{s.session_id, s.connection_sequence, s.first, s.last, s.frames});
  }
  r.detail = std::move(detail);
  return r;
}

}  // namespace booktape
