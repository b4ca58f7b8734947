#pragma once
// Shared pieces of the archive tests: writing frames through the real writer and collecting
// what the real reader gives back.
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "codecs/polymarket_classifier.hpp"
#include "io/archive/reader.hpp"
#include "io/archive/writer.hpp"

namespace booktape::testing {

struct SentFrame {
  std::string payload;
  Opcode opcode = Opcode::kText;
  UnixNanos received_ns = 0;
  std::uint64_t global_sequence = 0;
  std::uint64_t message_sequence = 0;
};

// Writes frames for one session the way the archive stage does: classify, then append.
class FrameWriter {
 public:
  FrameWriter(ArchiveWriter& w, std::string session_id, std::uint64_t connection_sequence)
      : w_(w), session_(std::move(session_id)), conn_(connection_sequence) {}

  void open(UnixNanos at, std::vector<std::string> assets = {"1", "2"}) {
    SessionInfo s;
    s.session_id = session_;
    s.run_id = w_.run_id();
    s.connection_sequence = conn_;
    s.url = "wss://ws-subscriptions-clob.polymarket.com/ws/market";
    s.assets_ids = std::move(assets);
    for (const auto& id : s.assets_ids)
      s.tokens.push_back(TokenInfo{id, "btc-updown-5m-1773307200", "0xabc", "Up",
                                   "2026-03-12T09:25:00Z"});
    w_.open_session(s, at);
  }

  SentFrame& write(std::string payload, UnixNanos received, Opcode op = Opcode::kText) {
    SentFrame f;
    f.payload = std::move(payload);
    f.opcode = op;
    f.received_ns = received;
    f.global_sequence = ++global_;
    f.message_sequence = ++message_;
    FrameMeta m;
    m.received_ns = received;
    m.monotonic_ns = received - 1'700'000'000'000'000'000;  // any monotonic-looking value
    m.session_id = session_;
    m.connection_sequence = conn_;
    m.message_sequence = f.message_sequence;
    m.global_sequence = f.global_sequence;
    m.opcode = op;
    const auto c = op == Opcode::kBinary ? polymarket::Classifier::binary()
                                         : classifier_.classify(f.payload);
    w_.append(m, f.payload, c);
    sent_.push_back(std::move(f));
    return sent_.back();
  }

  void skip_global(std::uint64_t n) { global_ += n; }
  // Frames of this session that never reach the writer (lost): both sequences move on.
  void skip(std::uint64_t n) {
    global_ += n;
    message_ += n;
  }
  [[nodiscard]] const std::vector<SentFrame>& sent() const { return sent_; }
  [[nodiscard]] const std::string& session() const { return session_; }

 private:
  ArchiveWriter& w_;
  std::string session_;
  std::uint64_t conn_;
  std::uint64_t global_ = 0, message_ = 0;
  polymarket::Classifier classifier_;
  std::vector<SentFrame> sent_;
};

struct ReadFrame {
  std::string payload;
  bool has_envelope = false;
  UnixNanos received_ns = 0;
  std::uint64_t global_sequence = 0, message_sequence = 0, connection_sequence = 0;
  std::string session_id, run_id;
  Opcode opcode = Opcode::kText;
};

class Collector : public ArchiveVisitor {
 public:
  bool on_frame(const ArchiveFrame& f) override {
    frames.push_back(ReadFrame{std::string(f.payload()), f.has_envelope, f.received_ns,
                               f.global_sequence, f.message_sequence, f.connection_sequence,
                               std::string(f.session_id), std::string(f.run_id), f.opcode});
    return true;
  }
  void on_record(std::string_view line) override { records.emplace_back(line); }
  std::vector<ReadFrame> frames;
  std::vector<std::string> records;
};

inline std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir,
                                                      std::string_view suffix) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().ends_with(suffix))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Reads every line of a JSONL manifest as a DOM element list (documents kept alive).
struct ManifestLines {
  std::vector<std::string> lines;
  explicit ManifestLines(const std::filesystem::path& p) {
    std::ifstream in(p);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) lines.push_back(l);
  }
};

}  // namespace booktape::testing
