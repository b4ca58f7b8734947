#include "io/archive/connections.hpp"

#include <algorithm>

namespace booktape {

std::vector<TimeInterval> union_of(std::vector<TimeInterval> v) {
  std::sort(v.begin(), v.end(),
            [](const TimeInterval& a, const TimeInterval& b) { return a.from < b.from; });
  std::vector<TimeInterval> out;
  for (const TimeInterval& i : v) {
    if (!out.empty() && i.from <= out.back().to) {
      out.back().to = std::max(out.back().to, i.to);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

void ConnectionTracker::on_frame(std::string_view run_id, UnixNanos received) {
  if (run_id != run_) run_.assign(run_id);
  UnixNanos& last = last_frame_[run_];
  last = std::max(last, received);
}

void ConnectionTracker::on_record(std::string_view line) {
  const bool file = line.starts_with("{\"record\":\"file\"");
  if (!file && !line.starts_with("{\"record\":\"session\"")) return;
  simdjson::dom::element d;
  std::string_view text;
  if (parser_.parse(line.data(), line.size()).get(d) != simdjson::SUCCESS) return;
  if (file) {
    if (d["run_id"].get_string().get(text) != simdjson::SUCCESS) return;
    run_.assign(text);
    if (std::none_of(runs_.begin(), runs_.end(), [&](const auto& r) { return r.first == run_; })) {
      UnixNanos at = 0;
      if (d["opened_at_utc"].get_string().get(text) == simdjson::SUCCESS)
        at = parse_utc(text).value_or(0);
      runs_.emplace_back(run_, at);
    }
    return;
  }
  std::string_view event, id;
  std::int64_t at = 0;
  if (d["event"].get_string().get(event) != simdjson::SUCCESS ||
      d["session_id"].get_string().get(id) != simdjson::SUCCESS ||
      d["at_ns"].get_int64().get(at) != simdjson::SUCCESS)
    return;
  Connection& c = by_session_[std::string(id)];
  if (event == "close") {
    c.close = at;
    c.closed = true;
    if (d["reason"].get_string().get(text) == simdjson::SUCCESS) c.reason = text;
    return;
  }
  if (c.session_id.empty()) {  // open, or the first file of ours that restates it
    c.session_id = id;
    c.run_id = run_;
    c.open = at;
  }
  c.open = std::min(c.open, at);
  simdjson::dom::array ids, tokens;
  if (d["subscription"]["assets_ids"].get_array().get(ids) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : ids)
      if (e.get_string().get(text) == simdjson::SUCCESS) assets_.emplace(text);
  }
  if (d["tokens_tracked"].get_array().get(tokens) == simdjson::SUCCESS) {
    for (simdjson::dom::element t : tokens) {
      TokenInfo info;
      if (t["token_id"].get_string().get(text) != simdjson::SUCCESS) continue;
      info.token_id = text;
      if (t["market_slug"].get_string().get(text) == simdjson::SUCCESS) info.market_slug = text;
      if (t["condition_id"].get_string().get(text) == simdjson::SUCCESS) info.condition_id = text;
      if (t["outcome"].get_string().get(text) == simdjson::SUCCESS) info.outcome = text;
      if (t["end_time_utc"].get_string().get(text) == simdjson::SUCCESS) info.end_time_utc = text;
      assets_.insert(info.token_id);
      tokens_[info.token_id] = std::move(info);
    }
  }
}

std::vector<Connection> ConnectionTracker::connections() const {
  std::vector<Connection> out;
  for (const auto& [id, c] : by_session_) {
    if (c.session_id.empty()) continue;  // a close with no open seen (a file read alone)
    Connection k = c;
    if (!k.closed) {
      const auto it = last_frame_.find(k.run_id);
      k.close = it != last_frame_.end() ? std::max(it->second, k.open) : k.open;
    }
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace booktape
