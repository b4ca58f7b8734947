#include "io/sim/truth.hpp"

#include "codecs/envelope.hpp"

namespace booktape {

void PayloadChain::add(std::string_view payload) noexcept {
  std::uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(std::uint64_t{payload.size()} >> (8 * i));
  sha_.update(len, sizeof len);
  sha_.update(payload.data(), payload.size());
  ++count_;
}

std::string PayloadChain::hex() const {
  const Sha256Digest d = sha_.peek();  // the chain goes on after a mid-run truth
  std::string out(kSha256HexChars, '\0');
  to_hex(d.data(), d.size(), out.data());
  return out;
}

namespace {

void counts(std::string& s, const std::array<std::uint64_t, polymarket::kEventTypeCount>& a) {
  s += '{';
  bool first = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == 0) continue;
    s += first ? "" : ",";
    first = false;
    s += std::string("\"") + polymarket::to_string(static_cast<polymarket::EventType>(i)) +
         "\":" + std::to_string(a[i]);
  }
  s += '}';
}

}  // namespace

std::string SimTruth::to_json() {
  std::string s = "{\"seed\":" + std::to_string(seed) + ",\"started_at_utc\":\"" +
                  format_utc(started_at) + "\",\"written_at_utc\":\"" + format_utc(written_at) +
                  "\",\"frames_generated\":" + std::to_string(frames_generated) +
                  ",\"events_generated\":";
  counts(s, events_generated);
  s += ",\"rest_requests\":" + std::to_string(rest_requests) +
       ",\"rest_throttled\":" + std::to_string(rest_throttled) +
       ",\"gamma_requests\":" + std::to_string(gamma_requests) + ",\"connections\":[";
  for (std::size_t i = 0; i < connections.size(); ++i) {
    ConnectionTruth& c = connections[i];
    s += i ? ",\n" : "\n";
    s += "{\"id\":" + std::to_string(c.id) + ",\"remote\":";
    append_json_string(s, c.remote);
    s += ",\"opened_at_utc\":\"" + format_utc(c.opened_at) + "\"";
    if (c.closed_at != 0) {
      s += ",\"closed_at_utc\":\"" + format_utc(c.closed_at) + "\",\"close_reason\":";
      append_json_string(s, c.close_reason);
    }
    s += ",\"custom_feature_enabled\":";
    s += c.custom_feature_enabled ? "true" : "false";
    s += ",\"frames\":" + std::to_string(c.frames) +
         ",\"payload_bytes\":" + std::to_string(c.payload_bytes) + ",\"events\":";
    counts(s, c.events);
    s += ",\"frames_unsent\":" + std::to_string(c.frames_unsent) +
         ",\"control_frames\":" + std::to_string(c.control_frames) +
         ",\"injected\":" + std::to_string(c.injected);
    if (c.digest) s += ",\"payload_chain_sha256\":\"" + c.chain.hex() + "\"";
    s += ",\"assets\":[";
    for (std::size_t k = 0; k < c.assets.size(); ++k) {
      s += k ? "," : "";
      append_json_string(s, c.assets[k]);
    }
    s += "]}";
  }
  s += "],\n\"faults\":[";
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const FaultRecord& f = faults[i];
    s += i ? ",\n" : "\n";
    s += "{\"at_utc\":\"" + format_utc(f.at) + "\",\"at_ns\":" + std::to_string(f.at) +
         ",\"kind\":";
    append_json_string(s, f.kind);
    s += ",\"target\":";
    append_json_string(s, f.target);
    s += ",\"detail\":";
    append_json_string(s, f.detail);
    s += '}';
  }
  s += "],\n\"books\":";
  s += books_json.empty() ? "[]" : books_json;
  s += "}\n";
  return s;
}

}  // namespace booktape
