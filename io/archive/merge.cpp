#include "io/archive/merge.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "codecs/envelope.hpp"
#include "codecs/json_out.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "codecs/sha256.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/archive/writer.hpp"

namespace booktape {

namespace fs = std::filesystem;
namespace pm = polymarket;

namespace {

constexpr std::size_t kSeenPerRecord = 1024;  // frames a merge_seen record describes

struct InFrame {
  std::string payload;
  UnixNanos received = 0;
  MonoNanos monotonic = 0;
  Opcode opcode = Opcode::kText;
  std::uint32_t group = 0;  // frames of all streams with the same key share a group
};

struct Stream {
  std::vector<InFrame> frames;
  std::size_t head = 0;
};

struct Occurrence {
  std::uint32_t stream;
  std::uint32_t pos;
};

// Everything one input holds that the merge needs.
class InputCollector final : public ArchiveVisitor {
 public:
  explicit InputCollector(Stream& s) : s_(s) {}

  bool on_frame(const ArchiveFrame& f) override {
    if (!f.has_envelope) return true;  // plain frame files have no receive times
    ++frames;
    connections.on_frame(f.run_id, f.received_ns);
    if (f.opcode == Opcode::kText) {
      const pm::FrameKind k = classifier_.classify(f.data, f.size, f.readable).kind;
      if (k == pm::FrameKind::kPong || k == pm::FrameKind::kInvalidOperation ||
          k == pm::FrameKind::kNoNewAssets || k == pm::FrameKind::kEmpty) {
        ++control;
        return true;
      }
    }
    s_.frames.push_back(
        InFrame{std::string(f.payload()), f.received_ns, f.monotonic_ns, f.opcode, 0});
    return true;
  }

  void on_record(std::string_view line) override { connections.on_record(line); }

  std::uint64_t frames = 0, control = 0;
  ConnectionTracker connections;

 private:
  Stream& s_;
  pm::Classifier classifier_;
};

// "YYYYMMDDTHHMMSSZ-" + 8 hex of the inputs' run ids: the same inputs give the same name.
std::string merged_run_id(UnixNanos first, const std::vector<MergeSource>& sources) {
  const CivilTime c = to_civil(first);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%04d%02d%02dT%02d%02d%02dZ-", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  std::string all;
  for (const MergeSource& s : sources)
    for (const std::string& r : s.run_ids) all += r + "\n";
  return stamp + sha256_hex(all).substr(0, 8);
}

void log(const MergeOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

}  // namespace

MergeResult merge_archives(const MergeOptions& o) {
  MergeResult r;
  auto fail = [&r](std::string why) {
    r.exit_code = 2;
    r.error = std::move(why);
    return r;
  };
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_empty(o.out, ec))
    return fail(o.out.string() +
                " is not empty: merge writes a new data root (merging the same "
                "inputs again gives the same files; remove it or pick another)");
  if (o.inputs.size() < 2) return fail("merge needs at least two inputs");

  // Read every input.
  std::vector<Stream> streams(o.inputs.size());
  std::vector<TimeInterval> coverage;
  std::set<std::string> assets;
  std::map<std::string, TokenInfo> tokens;
  bool damaged = false;
  for (std::size_t i = 0; i < o.inputs.size(); ++i) {
    const fs::path& in = o.inputs[i];
    if (!fs::is_directory(in, ec))
      return fail(in.string() + " is not a directory (give data roots)");
    std::vector<std::string> errors;
    const std::vector<fs::path> files =
        ArchiveReader::expand({archive_stream_dir(in, "polymarket", "ws_raw")}, errors);
    if (files.empty())
      return fail(in.string() +
                  " holds no websocket archive files (raw_orderbooks/polymarket/ws_raw/)");
    MergeSource src;
    src.input = in.string();
    InputCollector collect(streams[i]);
    ArchiveReader reader;
    for (const fs::path& f : files) {
      FileReport rep;
      reader.read_file(f, collect, rep);
      if (rep.damaged() || rep.unreadable) {
        ++src.damaged_files;
        damaged = true;
        log(o, "damaged input " + f.string() + ": " + rep.error);
      }
    }
    for (const auto& [run, opened] : collect.connections.runs()) src.run_ids.push_back(run);
    src.frames = collect.frames;
    src.control_frames = collect.control;
    for (const Connection& c : collect.connections.connections())
      coverage.push_back({c.open, c.close});
    assets.insert(collect.connections.assets().begin(), collect.connections.assets().end());
    for (const auto& [id, t] : collect.connections.tokens()) tokens.emplace(id, t);
    r.sources.push_back(std::move(src));
    log(o, "read " + in.string() + ": " + std::to_string(streams[i].frames.size()) + " frames");
  }
  r.covered = union_of(coverage);
  for (std::size_t i = 1; i < r.covered.size(); ++i)
    r.uncovered.push_back({r.covered[i - 1].to, r.covered[i].from});

  // Keys: payload sha256 and the occurrence of that payload in its stream.
  std::unordered_map<std::string, std::uint32_t> group_of;
  std::vector<std::vector<Occurrence>> groups;
  {
    Sha256 sha;
    for (std::uint32_t s = 0; s < streams.size(); ++s) {
      std::unordered_map<std::string, std::uint32_t> seen_in_stream;
      for (std::uint32_t p = 0; p < streams[s].frames.size(); ++p) {
        InFrame& f = streams[s].frames[p];
        char hex[kSha256HexChars + 1];
        sha.hex_digest(f.payload, hex);
        std::string key(hex, kSha256HexChars);
        key += static_cast<char>(f.opcode == Opcode::kBinary ? 'b' : 't');
        key += std::to_string(seen_in_stream[key]++);
        const auto [it, fresh] =
            group_of.try_emplace(std::move(key), static_cast<std::uint32_t>(groups.size()));
        if (fresh) groups.emplace_back();
        groups[it->second].push_back({s, p});
        f.group = it->second;
      }
    }
  }

  // Merge: keep each stream's order; a frame goes when every stream holding it is at it.
  std::vector<bool> emitted(groups.size(), false);
  UnixNanos first_time = 0;
  {
    bool any = false;
    for (const Stream& s : streams)
      for (const InFrame& f : s.frames)
        if (!any || f.received < first_time) {
          first_time = f.received;
          any = true;
        }
    if (!any) return fail("the inputs hold no frames to merge");
  }
  r.run_id = merged_run_id(first_time, r.sources);

  ArchiveWriterOptions wo;
  wo.root = o.out;
  wo.run_id = r.run_id;
  wo.fsync = FsyncPolicy::kOnClose;
  ArchiveWriter w(wo);
  pm::Classifier classifier;
  SessionInfo session;
  session.run_id = r.run_id;
  session.url = "booktape merge";
  session.assets_ids.assign(assets.begin(), assets.end());
  for (auto& [id, t] : tokens) session.tokens.push_back(t);
  auto open_session = [&](UnixNanos at) {
    ++session.connection_sequence;
    session.session_id = r.run_id + "-m" + std::to_string(session.connection_sequence);
    w.open_session(session, at);
  };
  open_session(first_time);
  {
    std::string m =
        "{\"record\":\"merge\",\"at_ns\":" + std::to_string(first_time) + ",\"sources\":[";
    for (std::size_t i = 0; i < r.sources.size(); ++i) {
      if (i) m += ',';
      m += "{\"recorder\":" + std::to_string(i);
      json_str(m, "input", r.sources[i].input);
      json_str_array(m, "run_ids", r.sources[i].run_ids);
      m += "}";
    }
    m += "],\"uncovered\":[";
    for (std::size_t i = 0; i < r.uncovered.size(); ++i) {
      if (i) m += ',';
      m += "{\"from_utc\":\"" + format_utc(r.uncovered[i].from) + "\",\"to_utc\":\"" +
           format_utc(r.uncovered[i].to) + "\"}";
    }
    m += "]}\n";
    w.append_record(first_time, 0, m);
  }

  std::uint64_t message = 0;
  std::size_t next_gap = 0;
  std::vector<std::uint32_t> seen_primary, seen_mask;
  std::uint64_t seen_first = 1;
  UnixNanos last_at = first_time;
  auto flush_seen = [&]() {
    if (seen_mask.empty()) return;
    std::string m = "{\"record\":\"merge_seen\",\"first_global_message_sequence\":" +
                    std::to_string(seen_first) + ",\"frames\":" + std::to_string(seen_mask.size()) +
                    ",\"primary\":[";
    for (std::size_t i = 0; i < seen_primary.size(); ++i)
      m += (i ? "," : "") + std::to_string(seen_primary[i]);
    m += "],\"seen_by\":[";
    for (std::size_t i = 0; i < seen_mask.size(); ++i)
      m += (i ? "," : "") + std::to_string(seen_mask[i]);
    m += "]}\n";
    w.append_record(last_at, 0, m);
    seen_first += seen_mask.size();
    seen_primary.clear();
    seen_mask.clear();
  };

  for (;;) {
    // Skip what is merged already; find the earliest-received frame that may go.
    int best = -1;
    int earliest = -1;
    for (std::size_t s = 0; s < streams.size(); ++s) {
      Stream& st = streams[s];
      while (st.head < st.frames.size() && emitted[st.frames[st.head].group]) ++st.head;
      if (st.head >= st.frames.size()) continue;
      const InFrame& f = st.frames[st.head];
      if (earliest < 0 || f.received < streams[static_cast<std::size_t>(earliest)]
                                           .frames[streams[static_cast<std::size_t>(earliest)].head]
                                           .received)
        earliest = static_cast<int>(s);
      bool ready = true;
      for (const Occurrence& oc : groups[f.group]) {
        const Stream& other = streams[oc.stream];
        std::size_t h = other.head;
        while (h < other.frames.size() && emitted[other.frames[h].group]) ++h;
        ready &= h == oc.pos;
      }
      if (ready &&
          (best < 0 || f.received < streams[static_cast<std::size_t>(best)]
                                        .frames[streams[static_cast<std::size_t>(best)].head]
                                        .received))
        best = static_cast<int>(s);
    }
    if (earliest < 0) break;  // every stream is done
    if (best < 0) {
      // The streams disagree on an order (the venue sent two connections the same frames in a
      // different order): the earliest received goes first.
      ++r.order_conflicts;
      best = earliest;
    }
    const Stream& bs = streams[static_cast<std::size_t>(best)];
    const InFrame& f = bs.frames[bs.head];
    const std::vector<Occurrence>& occ = groups[f.group];
    // The primary sighting: the earliest receive time among the streams that have the frame.
    const InFrame* primary = &f;
    std::uint32_t primary_stream = static_cast<std::uint32_t>(best);
    std::uint32_t mask = 0;
    for (const Occurrence& oc : occ) {
      const InFrame& g = streams[oc.stream].frames[oc.pos];
      mask |= 1u << std::min<std::uint32_t>(oc.stream, 31);
      if (g.received < primary->received) {
        primary = &g;
        primary_stream = oc.stream;
      }
    }
    emitted[f.group] = true;
    r.duplicates += occ.size() - 1;
    ++r.sources[primary_stream].primary;
    if (occ.size() == 1) ++r.sources[static_cast<std::size_t>(best)].only_here;

    // Times no recorder covered: the merged connection ends there, as a lost one does.
    while (next_gap < r.uncovered.size() && primary->received > r.uncovered[next_gap].from) {
      flush_seen();
      w.close_session(session.session_id, r.uncovered[next_gap].from,
                      "uncovered: no input recorder had a connection until " +
                          format_utc(r.uncovered[next_gap].to));
      open_session(std::max(r.uncovered[next_gap].to, r.uncovered[next_gap].from));
      message = 0;
      ++next_gap;
    }

    FrameMeta m;
    m.received_ns = primary->received;
    m.monotonic_ns = primary->monotonic;
    m.session_id = session.session_id;
    m.connection_sequence = session.connection_sequence;
    m.message_sequence = ++message;
    m.global_sequence = ++r.frames;
    m.opcode = primary->opcode;
    const pm::Classification c = primary->opcode == Opcode::kBinary
                                     ? pm::Classifier::binary()
                                     : classifier.classify(primary->payload);
    w.append(m, primary->payload, c);
    last_at = primary->received;
    seen_primary.push_back(primary_stream);
    seen_mask.push_back(mask);
    if (seen_mask.size() == kSeenPerRecord) flush_seen();
  }
  flush_seen();
  w.close_session(session.session_id, last_at, "shutdown");
  w.close();
  if (!w.closed() || w.stats().frames_dropped > 0)
    return fail("cannot write the merged archive: " + w.stats().last_error);
  for (const ManifestEntry& e : w.closed_files()) r.files.push_back(e.path);
  log(o, "merged " + std::to_string(r.frames) + " frames (" + std::to_string(r.duplicates) +
             " duplicates dropped) into " + o.out.string());
  r.exit_code = damaged ? 1 : 0;
  return r;
}

std::string MergeResult::json() const {
  std::string s = "{\"exit_code\":" + std::to_string(exit_code);
  if (!error.empty()) {
    s += ",\"error\":";
    append_json_string(s, error);
  }
  s += ",\"run_id\":";
  append_json_string(s, run_id);
  s += ",\"frames\":" + std::to_string(frames) + ",\"duplicates\":" + std::to_string(duplicates) +
       ",\"order_conflicts\":" + std::to_string(order_conflicts) + ",\"sources\":[";
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const MergeSource& m = sources[i];
    if (i) s += ',';
    s += "{\"recorder\":" + std::to_string(i);
    json_str(s, "input", m.input);
    json_str_array(s, "run_ids", m.run_ids);
    s += ",\"frames\":" + std::to_string(m.frames) +
         ",\"control_frames\":" + std::to_string(m.control_frames) +
         ",\"primary\":" + std::to_string(m.primary) +
         ",\"only_here\":" + std::to_string(m.only_here) +
         ",\"damaged_files\":" + std::to_string(m.damaged_files) + "}";
  }
  auto intervals = [&s](const char* key, const std::vector<TimeInterval>& v) {
    s += ",\"";
    s += key;
    s += "\":[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(v[i].to - v[i].from) / 1e9);
      s += "{\"from_utc\":\"" + format_utc(v[i].from) + "\",\"to_utc\":\"" + format_utc(v[i].to) +
           "\",\"seconds\":" + buf + "}";
    }
    s += ']';
  };
  s += ']';
  intervals("covered", covered);
  intervals("uncovered", uncovered);
  json_str_array(s, "files", files);
  s += "}\n";
  return s;
}

}  // namespace booktape
