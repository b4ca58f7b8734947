#pragma once
// Replays archives through the same decoder and book code the live book stage runs, so a
// replayed book equals the live one: reads files in order, decodes every frame, applies it,
// checks sequences, and summarises (docs/REPLAY.md).
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "codecs/polymarket_book_applier.hpp"
#include "codecs/polymarket_decoder.hpp"
#include "core/book_keeper.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/reader.hpp"

namespace booktape {

struct ReplayOptions {
  bool verify_sha256 = false;
  // Check closed files against their manifest entries (ArchiveReader::Options::check_manifest).
  bool check_manifest = true;
  // Stop before the first frame received after this time (replay --at).
  std::optional<UnixNanos> stop_after;
  // Called about once a second with frames so far (progress on long replays).
  std::function<void(std::uint64_t frames, const std::filesystem::path& file)> progress;
  // For tools built on replay (export): each frame before it is decoded, each file or session
  // record (before the replayer acts on it), and, when `events` is set, the decoded events
  // instead of the book applier: such a sink forwards them to applier() itself, so it can see
  // what each one changed.
  std::function<void(const ArchiveFrame&)> before_frame;
  std::function<void(std::string_view line)> on_record;
  polymarket::EventSink* events = nullptr;
};

struct SequenceStats {
  std::uint64_t gaps = 0;             // places where a sequence skipped ahead
  std::uint64_t missing = 0;          // frames those skips left out
  std::uint64_t backwards = 0;        // a sequence that repeated or went back (duplicates)
};

// What the archive itself says it does not hold (loss records, docs/DATA_CONTRACT.md): frames
// named lost are lost, not gaps; a crash's unknown tail is counted as such.
struct LossSummary {
  std::uint64_t records = 0;         // loss records read
  std::uint64_t frames_lost = 0;     // frames they count (records with a null count add 0)
  std::uint64_t unknown_tails = 0;   // crash records: frames after the last sealed one unknown
  std::uint64_t unread_bytes = 0;    // stop_unread: bytes left unread in sockets
  std::array<std::uint64_t, kLossReasonCount> by_reason{};
};

struct ReplaySummary {
  std::vector<FileReport> files;
  std::vector<std::string> errors;     // paths that could not be read at all
  std::uint64_t frames = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t frames_without_envelope = 0;  // from plain frame files
  SequenceStats global;                // global_message_sequence within each run
  SequenceStats per_session;           // message_sequence within each session
  LossSummary losses;
  std::uint64_t oversized_frames = 0;  // stubs of frames too large to keep (not gaps)
  UnixNanos first_received = 0, last_received = 0;
  bool stopped_at_time = false;        // stop_after was reached
  double elapsed_seconds = 0;
};

class Replayer final : private ArchiveVisitor {
 public:
  explicit Replayer(ReplayOptions options = {});

  // Replays files and directories in order. Can be called more than once; state accumulates.
  const ReplaySummary& run(const std::vector<std::filesystem::path>& inputs);

  [[nodiscard]] const BookKeeper& books() const noexcept { return books_; }
  [[nodiscard]] const polymarket::DecoderStats& decoder_stats() const noexcept {
    return decoder_.stats();
  }
  [[nodiscard]] const polymarket::ApplierStats& applier_stats() const noexcept {
    return applier_.stats();
  }
  // Where an options.events sink forwards the events it is given.
  [[nodiscard]] polymarket::BookApplier& applier() noexcept { return applier_; }
  [[nodiscard]] const ReplaySummary& summary() const noexcept { return summary_; }

  // The whole summary as one JSON object (replay --json).
  [[nodiscard]] std::string summary_json() const;

 private:
  bool on_frame(const ArchiveFrame& f) override;
  void on_record(std::string_view line) override;
  void track(SequenceStats& s, std::uint64_t& last, std::uint64_t seq) noexcept;
  // A frame's place in the sequences without its payload (an oversized stub).
  void track_place(std::string_view run, std::string_view session, std::uint64_t global,
                   std::uint64_t message);
  void on_loss(std::string_view line);

  ReplayOptions opt_;
  ArchiveReader reader_;
  polymarket::Decoder decoder_;
  BookKeeper books_;
  polymarket::BookApplier applier_;
  ReplaySummary summary_;
  std::unordered_map<std::string, std::uint64_t> last_global_;   // per run id
  std::unordered_map<std::string, std::uint64_t> last_message_;  // per session id
  std::string cached_run_;
  std::string cached_session_;
  std::uint64_t* cached_global_ = nullptr;
  std::uint64_t* cached_message_ = nullptr;
  // What the live book stage learns from the network stage, learned here from the archive's
  // records: the tokens each open connection carries, and the run being replayed.
  std::unordered_map<std::string, std::vector<std::string>> session_tokens_;
  std::string run_;
  std::uint64_t frame_index_ = 0;
  MonoNanos last_progress_ = 0;
  const std::filesystem::path* current_file_ = nullptr;
};

}  // namespace booktape
