#pragma once
// The bounded run's evidence (seed 000): a manifest and a markdown report with the gate
// WS_RAW_SAMPLE_PASS or WS_RAW_SAMPLE_NEEDS_REVIEW, decided by the seed's rules:
//   PASS requires at least one selected BTC market with both outcome tokens, at least one
//   parseable websocket text message, at least two successful REST checkpoints, parseable gzip
//   JSONL outputs, and checksum summaries. A websocket that connects but delivers no market
//   message is NEEDS_REVIEW, never a pass.
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "io/archive/loss_record.hpp"
#include "io/archive/manifest.hpp"
#include "io/archive/recovery.hpp"

namespace booktape {

struct RunMarket {
  std::string slug, condition_id, up_token, down_token, end_utc;
};

struct RunFacts {
  std::string run_id, writer_version, config_yaml;
  UnixNanos started = 0, ended = 0;
  bool bounded = false;
  std::vector<RunMarket> markets;         // selected (empty for explicit token ids)
  std::size_t tokens = 0;
  std::vector<std::string> unknown_tokens;  // no book, and REST /book says 404: not retried
  // websocket
  std::uint64_t connects = 0, disconnects = 0, connect_failures = 0;
  std::uint64_t frames = 0, json_frames = 0, market_events = 0, parse_errors = 0, unknown = 0;
  std::uint64_t divergences = 0, checks = 0;
  std::uint64_t ring_full_waits = 0;
  std::uint64_t ring_bytes = 0, ring_high_water = 0;  // the ring's size and most bytes in use
  std::uint64_t oversized_received = 0;   // frames over max_frame_bytes the network skipped
  // REST
  bool rest_enabled = false;
  double rest_interval_seconds = 0;
  std::uint64_t rest_rounds = 0, rest_rounds_ok = 0, rest_requests = 0, rest_failures = 0;
  std::uint64_t checkpoint_agree = 0, checkpoint_diverge = 0;
  // outputs
  std::vector<ManifestEntry> files;       // every file closed (websocket and REST archives)
  std::uint64_t unreadable_files = 0;     // failed to read back cleanly
  std::uint64_t frames_dropped = 0;       // archive could not write
  RecoveryResult recovery;                // ".open" files of earlier runs sealed at start
  std::string read_to_book, read_to_archive;  // latency summaries (JSON)
  std::string read_to_book_text, read_to_archive_text;  // the same for people (µs/ms)

  // Every frame received is in a sealed websocket file (a frame or an oversized stub) or named
  // in a loss record in one (docs/RECORD.md, "Losses"). Counted from this run's manifest entries.
  std::uint64_t ws_files = 0;             // websocket files sealed
  std::uint64_t frames_sealed = 0;        // frame records in them
  std::uint64_t oversized_sealed = 0;     // oversized stubs in them
  std::uint64_t frames_lost = 0;          // frames named in this run's loss records in them
  std::uint64_t loss_records = 0;         // loss records in them (this run's and earlier runs')
  std::uint64_t unwritten_losses = 0;     // loss records even the end of the run could not write
  std::uint64_t unsealed_files = 0;       // this run's files left ".open" at the end
  std::uint64_t write_errors = 0;         // failed writes, seals and syncs (both streams)
  std::vector<LossRecord> losses;         // this run's loss records, as written
  std::vector<LossRecord> crashes;        // written at start for earlier runs that crashed
  [[nodiscard]] std::uint64_t unaccounted() const noexcept {
    const std::uint64_t kept = frames_sealed + oversized_sealed + frames_lost;
    return frames > kept ? frames - kept : 0;
  }
  // Every frame received is in a sealed file, no loss record of this run (a stop_unread one
  // counts no frames, yet data the venue sent was not read), nothing left open. Write errors
  // retried until they succeeded lose nothing: the gate reports them, the exit code does not.
  [[nodiscard]] bool archive_clean() const noexcept {
    return unaccounted() == 0 && losses.empty() && unwritten_losses == 0 && unsealed_files == 0;
  }
};

struct Gate {
  bool pass = false;
  std::vector<std::string> reasons;  // why not (empty on PASS)
  [[nodiscard]] const char* name() const noexcept {
    return pass ? "WS_RAW_SAMPLE_PASS" : "WS_RAW_SAMPLE_NEEDS_REVIEW";
  }
};

Gate evaluate_gate(const RunFacts& f);
// "5050 frames received, 1676 in sealed websocket files, 3374 named lost[, N unaccounted]"
std::string accounting_text(const RunFacts& f);
std::string run_manifest_json(const RunFacts& f, const Gate& g);
std::string run_report_markdown(const RunFacts& f, const Gate& g);

}  // namespace booktape
