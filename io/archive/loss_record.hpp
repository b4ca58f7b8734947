#pragma once
// Loss records: the archive's own statement of frames it does not hold (docs/DATA_CONTRACT.md,
// "loss"). One JSONL line in the websocket stream, first key "record":"loss":
//
//   {"record":"loss","run_id":"...","reason":"disk_full","at_utc":"...","at_ns":...,
//    "frames":3374,"first_global_message_sequence":1677,"last_global_message_sequence":5050,
//    "first_received_at_ns":...,"last_received_at_ns":...,
//    "sessions":[{"session_id":"...-c1","connection_sequence":1,"first_message_sequence":1600,
//                 "last_message_sequence":4900,"frames":3300}],
//    "unread_bytes":null,"detail":"..."}
//
// Counts, sequence bounds and times are integers when known and null when not: a crash's unknown
// tail has "frames":null and first_global_message_sequence = the last sealed one + 1; a stop that
// left bytes unread in a socket has "frames":null and "unread_bytes". A record written by a later
// run about an earlier one carries "written_by_run_id".
//
// LossSpan gathers the frames of a loss as they happen (per frame: a few compares, no
// allocation except the first time a session appears), so the record can name exactly what went.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace booktape {

enum class LossReason : std::uint8_t {
  kDiskFull,      // the disk refused the data (ENOSPC, EDQUOT) until the end of the run
  kWriteError,    // any other write error (EIO, EFBIG, a file that cannot be created, ...)
  kMemoryBound,   // writes failed for so long that the unwritten data reached max_pending_bytes
  kFileVanished,  // the file was deleted or moved while it was written: its sealed blocks went
  kStopUnread,    // a stop found bytes still unread in a socket at the end of its drain grace
  kCrash,         // the run ended without a clean stop; written by the next start
};
inline constexpr std::size_t kLossReasonCount = 6;
const char* to_string(LossReason r) noexcept;
bool parse_loss_reason(std::string_view s, LossReason& out) noexcept;

struct LossSession {
  std::string session_id;
  std::uint64_t connection_sequence = 0;
  std::optional<std::uint64_t> first_message_sequence, last_message_sequence;
  std::optional<std::uint64_t> frames;
};

struct LossRecord {
  std::string run_id;              // the run whose frames are lost
  std::string written_by_run_id;   // set when a later run writes it (a crash record)
  LossReason reason = LossReason::kWriteError;
  UnixNanos at = 0;                // when the loss was established (CLOCK_REALTIME)
  std::optional<std::uint64_t> frames;
  std::optional<std::uint64_t> first_global_sequence, last_global_sequence;
  std::optional<UnixNanos> first_received_ns, last_received_ns;
  std::vector<LossSession> sessions;
  std::optional<std::uint64_t> unread_bytes;
  std::uint64_t records = 0;       // data records (REST checkpoints) lost; 0 in the ws stream
  std::string detail;              // what happened, for a human: path, errno text, bounds

  // Whether it names every global sequence in [from, to]: an unknown end (a crash's tail) covers
  // everything from its first on; an unknown first covers nothing.
  [[nodiscard]] bool covers(std::uint64_t from, std::uint64_t to) const noexcept;
};

// One line ending in '\n'.
std::string render_loss_record(const LossRecord& r);
// Reads a line written by render_loss_record (false: not a loss record, or not readable).
bool parse_loss_record(std::string_view line, LossRecord& out);

// The frames (and data records) of one loss, accumulated as they are lost.
class LossSpan {
 public:
  void add_frame(UnixNanos received_ns, std::uint64_t global_sequence,
                 std::uint64_t connection_sequence, std::uint64_t message_sequence,
                 std::string_view session_id);
  void add_record(UnixNanos at) noexcept;
  void merge(const LossSpan& o);
  void clear() noexcept;
  [[nodiscard]] bool empty() const noexcept { return frames_ == 0 && records_ == 0; }
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }
  [[nodiscard]] std::uint64_t records() const noexcept { return records_; }
  [[nodiscard]] std::uint64_t first_global() const noexcept { return first_global_; }
  [[nodiscard]] std::uint64_t last_global() const noexcept { return last_global_; }
  // The record naming these frames.
  [[nodiscard]] LossRecord to_record(std::string_view run_id, LossReason reason, UnixNanos at,
                                     std::string detail) const;

 private:
  struct Session {
    std::string session_id;
    std::uint64_t connection_sequence = 0;
    std::uint64_t first = 0, last = 0, frames = 0;
  };
  std::uint64_t frames_ = 0, records_ = 0;
  std::uint64_t first_global_ = 0, last_global_ = 0;
  UnixNanos first_received_ = 0, last_received_ = 0;
  std::vector<Session> sessions_;
  std::size_t hit_ = 0;  // the session of the last frame (frames come in runs)
};

}  // namespace booktape
