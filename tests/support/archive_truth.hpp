#pragma once
// One archived websocket stream read back and held against the simulator's ground truth, for
// tests that run the recorder (in-process or as the `booktape record` binary) against the
// simulator (in-process or `booktape sim`). Connections are matched by what they carried (frame
// count and payload chain digest), since the recorder and the simulator number them apart.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/archive/loss_record.hpp"
#include "io/archive/reader.hpp"
#include "io/sim/truth.hpp"

namespace booktape::testing {

// Every frame and record of the files under `dir`, by connection.
struct ArchivedStream : ArchiveVisitor {
  struct Conn {
    std::uint64_t frames = 0;
    std::uint64_t stubs = 0;  // oversized_frame stubs (a frame's place, not its payload)
    std::uint64_t last_message_sequence = 0;
    bool contiguous = true;  // message sequences 1, 2, 3, ...: none missing, none twice
    bool repeated = false;   // a sequence that came again or went back
    std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;  // missing message sequences
    PayloadChain chain;      // over the frames' payloads (stubs have none)
  };
  std::map<std::uint64_t, Conn> conns;  // by the recorder's connection_sequence
  std::vector<std::string> records;     // file, session, loss and stub lines, in order
  std::vector<LossRecord> losses;       // the loss records, in order
  std::vector<std::string> stubs;       // the oversized_frame lines
  std::uint64_t frames = 0, last_global = 0;
  bool global_contiguous = true;
  std::uint64_t global_gaps = 0, global_missing = 0;  // runs of skipped global sequences
  std::uint64_t frames_after_close = 0;  // frames of a connection after its close record
  std::vector<FileReport> reports;
  std::vector<std::filesystem::path> files;

  explicit ArchivedStream(const std::filesystem::path& dir) {
    std::vector<std::string> errors;
    files = ArchiveReader::expand({dir}, errors);
    ArchiveReader reader;
    for (const std::filesystem::path& f : files) {
      FileReport r;
      reader.read_file(f, *this, r);
      reports.push_back(r);
    }
  }
  bool on_frame(const ArchiveFrame& f) override {
    frames_after_close += closed_.count(f.connection_sequence);
    Conn& c = place(f.connection_sequence, f.message_sequence, f.global_sequence);
    ++c.frames;
    c.chain.add(f.payload());
    ++frames;
    return true;
  }
  // A frame's (or a stub's) place in the connection's and the run's sequences.
  Conn& place(std::uint64_t conn, std::uint64_t message, std::uint64_t global) {
    Conn& c = conns[conn];
    c.contiguous &= message == c.last_message_sequence + 1;
    if (message > c.last_message_sequence + 1)
      c.gaps.emplace_back(c.last_message_sequence + 1, message - 1);
    c.repeated |= message <= c.last_message_sequence;
    c.last_message_sequence = std::max(c.last_message_sequence, message);
    global_contiguous &= global == last_global + 1;
    if (global > last_global + 1) {
      ++global_gaps;
      global_missing += global - last_global - 1;
    }
    last_global = std::max(last_global, global);
    return c;
  }
  void on_record(std::string_view line) override {
    records.emplace_back(line);
    if (LossRecord l; parse_loss_record(line, l)) losses.push_back(std::move(l));
    if (line.starts_with("{\"record\":\"oversized_frame\"")) {
      stubs.emplace_back(line);
      simdjson::dom::element e;
      if (parser_.parse(line.data(), line.size()).get(e) == simdjson::SUCCESS) {
        ++place(std::uint64_t(e["connection_sequence"]), std::uint64_t(e["message_sequence"]),
                std::uint64_t(e["global_message_sequence"]))
              .stubs;
      }
    }
    if (line.find("\"event\":\"close\"") != std::string_view::npos) {
      simdjson::dom::element e;
      if (parser_.parse(line.data(), line.size()).get(e) == simdjson::SUCCESS) {
        std::uint64_t seq = 0;
        if (e["connection_sequence"].get_uint64().get(seq) == simdjson::SUCCESS)
          closed_.insert(seq);
      }
    }
  }
  // Session records of one kind ("open", "subscription", "close").
  [[nodiscard]] std::vector<std::string> sessions(std::string_view event) const {
    std::vector<std::string> out;
    const std::string key = "\"record\":\"session\",\"event\":\"" + std::string(event) + "\"";
    for (const std::string& r : records)
      if (r.find(key) != std::string::npos) out.push_back(r);
    return out;
  }
  // Every file read back whole: closed, no bad line, no torn or corrupt member.
  [[nodiscard]] bool clean() const {
    for (const FileReport& r : reports)
      if (r.open_file || r.bad_lines > 0 || r.corrupt || r.torn_tail_bytes > 0 || !r.error.empty())
        return false;
    return !reports.empty();
  }

 private:
  std::set<std::uint64_t> closed_;
  simdjson::dom::parser parser_;
};

// What the truth says was sent against what the archive holds.
struct TruthComparison {
  std::uint64_t connections_sent = 0;  // connections that carried at least one frame
  std::uint64_t connections_archived = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_archived = 0;
  std::uint64_t connections_missing = 0;     // sent (frames, digest) with no equal archived one
  std::uint64_t connections_unexpected = 0;  // archived with no equal sent one
  std::uint64_t frames_lost = 0;             // frames of the missing connections, minus what the
                                             // archive holds of them (never negative)
  bool every_connection_contiguous = true;

  [[nodiscard]] bool exact() const {
    return connections_missing == 0 && connections_unexpected == 0 &&
           frames_sent == frames_archived && every_connection_contiguous;
  }
};

inline TruthComparison compare_with_truth(const std::string& truth_json, const ArchivedStream& a) {
  TruthComparison r;
  simdjson::dom::parser p;
  const simdjson::dom::element root = p.parse(truth_json);
  std::multiset<std::pair<std::uint64_t, std::string>> sent, archived;
  for (simdjson::dom::element c : simdjson::dom::array(root["connections"])) {
    const std::uint64_t frames = c["frames"];
    if (frames == 0) continue;  // a connection that never subscribed leaves nothing to archive
    sent.emplace(frames, std::string(std::string_view(c["payload_chain_sha256"])));
    r.frames_sent += frames;
  }
  for (const auto& [seq, c] : a.conns) {
    archived.emplace(c.frames, c.chain.hex());
    r.every_connection_contiguous &= c.contiguous;
  }
  r.connections_sent = sent.size();
  r.connections_archived = archived.size();
  r.frames_archived = a.frames;
  std::uint64_t missing_frames = 0, unexpected_frames = 0;
  for (auto it = sent.begin(); it != sent.end(); ++it) {
    auto m = archived.find(*it);
    if (m != archived.end()) {
      archived.erase(m);
    } else {
      ++r.connections_missing;
      missing_frames += it->first;
    }
  }
  r.connections_unexpected = archived.size();
  for (const auto& [frames, digest] : archived) unexpected_frames += frames;
  r.frames_lost = missing_frames > unexpected_frames ? missing_frames - unexpected_frames : 0;
  return r;
}

// "archived + named as lost = sent", connection by connection: the simulator's truth (a frame
// counts as sent once written to the socket) against the archive's frames, oversized stubs and
// loss records. Connections are paired in opening order (those that carried something on either
// side): the recorder and the simulator number them apart, and a connection that loses frames
// no longer matches by digest.
struct LossAccounting {
  std::uint64_t sent = 0, archived = 0, stubs = 0, named_lost = 0;
  std::uint64_t unknown_losses = 0;  // loss records with no frame count (stop_unread, crash)
  std::uint64_t connections = 0;
  std::string problems;              // one line per connection that does not add up
  [[nodiscard]] bool exact() const {
    return problems.empty() && sent == archived + stubs + named_lost;
  }
};

inline LossAccounting account_against_truth(const std::string& truth_json,
                                            const ArchivedStream& a) {
  LossAccounting r;
  simdjson::dom::parser p;
  const simdjson::dom::element root = p.parse(truth_json);
  struct Sent {
    std::uint64_t frames;
    std::string digest;
  };
  std::vector<Sent> sent;
  for (simdjson::dom::element c : simdjson::dom::array(root["connections"])) {
    const std::uint64_t n = c["frames"];
    if (n == 0) continue;
    sent.push_back({n, std::string(std::string_view(c["payload_chain_sha256"]))});
    r.sent += n;
  }
  // What the archive names as lost, by connection: frames and message-sequence ranges.
  struct Lost {
    std::uint64_t frames = 0, last = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  };
  std::map<std::uint64_t, Lost> lost;
  for (const LossRecord& l : a.losses) {
    if (!l.frames) ++r.unknown_losses;
    for (const LossSession& s : l.sessions) {
      if (!s.frames || !s.first_message_sequence || !s.last_message_sequence) continue;
      Lost& x = lost[s.connection_sequence];
      x.frames += *s.frames;
      x.last = std::max(x.last, *s.last_message_sequence);
      x.ranges.emplace_back(*s.first_message_sequence, *s.last_message_sequence);
      r.named_lost += *s.frames;
    }
  }
  std::set<std::uint64_t> ids;
  for (const auto& [id, c] : a.conns) ids.insert(id);
  for (const auto& [id, x] : lost) ids.insert(id);
  std::size_t i = 0;
  for (const std::uint64_t id : ids) {
    const auto ci = a.conns.find(id);
    const ArchivedStream::Conn empty;
    const ArchivedStream::Conn& c = ci == a.conns.end() ? empty : ci->second;
    const Lost& x = lost.count(id) ? lost.at(id) : Lost{};
    r.archived += c.frames;
    r.stubs += c.stubs;
    ++r.connections;
    const std::string who = "connection " + std::to_string(id) + ": ";
    if (i >= sent.size()) {
      r.problems += who + "archived, but the simulator sent no such connection\n";
      continue;
    }
    const Sent& s = sent[i++];
    const std::uint64_t last = std::max(c.last_message_sequence, x.last);
    if (c.frames + c.stubs + x.frames != s.frames || last != s.frames || c.repeated) {
      r.problems += who + "sent " + std::to_string(s.frames) + ", archived " +
                    std::to_string(c.frames) + " + " + std::to_string(c.stubs) + " stubs, named lost " +
                    std::to_string(x.frames) + ", last sequence " + std::to_string(last) +
                    (c.repeated ? ", a sequence repeated" : "") + "\n";
      continue;
    }
    // Every gap in the archived sequences is inside a named range, and so is the tail.
    auto covered = [&](std::uint64_t from, std::uint64_t to) {
      for (const auto& [f, t] : x.ranges)
        if (f <= from && to <= t) return true;
      return false;
    };
    for (const auto& [from, to] : c.gaps) {
      if (!covered(from, to)) {
        r.problems += who + "sequences " + std::to_string(from) + ".." + std::to_string(to) +
                      " are missing and no loss record names them\n";
      }
    }
    if (c.last_message_sequence < s.frames && !covered(c.last_message_sequence + 1, s.frames)) {
      r.problems += who + "the tail after " + std::to_string(c.last_message_sequence) +
                    " is missing and no loss record names it\n";
    }
    // Nothing lost and no stub: the payloads themselves must be the ones sent.
    if (x.frames == 0 && c.stubs == 0 && c.chain.hex() != s.digest) {
      r.problems += who + "the payloads differ from what was sent (digest)\n";
    }
  }
  for (; i < sent.size(); ++i) {
    r.problems += "a connection of " + std::to_string(sent[i].frames) +
                  " frames sent is not in the archive at all\n";
  }
  return r;
}

}  // namespace booktape::testing
