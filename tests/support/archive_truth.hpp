#pragma once
// One archived websocket stream read back and held against the simulator's ground truth, for
// tests that run the recorder (in-process or as the `booktape record` binary) against the
// simulator (in-process or `booktape sim`). Connections are matched by what they carried (frame
// count and payload chain digest), since the recorder and the simulator number them apart.
#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/archive/reader.hpp"
#include "io/sim/truth.hpp"

namespace booktape::testing {

// Every frame and record of the files under `dir`, by connection.
struct ArchivedStream : ArchiveVisitor {
  struct Conn {
    std::uint64_t frames = 0;
    std::uint64_t last_message_sequence = 0;
    bool contiguous = true;  // message sequences 1, 2, 3, ...: none missing, none twice
    PayloadChain chain;
  };
  std::map<std::uint64_t, Conn> conns;  // by the recorder's connection_sequence
  std::vector<std::string> records;     // file and session lines, in order
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
    Conn& c = conns[f.connection_sequence];
    c.contiguous &= f.message_sequence == c.last_message_sequence + 1;
    c.last_message_sequence = f.message_sequence;
    ++c.frames;
    c.chain.add(f.payload());
    global_contiguous &= f.global_sequence == last_global + 1;
    if (f.global_sequence > last_global + 1) {
      ++global_gaps;
      global_missing += f.global_sequence - last_global - 1;
    }
    last_global = f.global_sequence;
    ++frames;
    return true;
  }
  void on_record(std::string_view line) override {
    records.emplace_back(line);
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

}  // namespace booktape::testing
