#pragma once
// One writer per archive root: `booktape record` holds an flock on <root>/.booktape.lock for its
// whole run, so a second recorder on the same --out is refused at once (naming the PID that
// holds it) instead of recording beside the first and touching its files in recovery.
//
// The lock file also says how the last run ended. A run writes "running" when it starts and
// "stopped" once it has stopped cleanly with every frame accounted for. The next start, holding
// the lock, reads it: a run still "running" crashed (a kill, a power cut) or could not write
// what it lost, and the new run writes a loss record for it (crash_record below), since the
// frames it received after its last sealed one are unknown. The file has a fixed size, written
// in place, so a full disk can still record a clean stop.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "io/archive/loss_record.hpp"

namespace booktape {

struct RootHolder {
  long pid = 0;
  std::string run_id;
  std::string started_at_utc;
  std::string state;  // "running", "stopped"; empty: no earlier run recorded here
};

class RootLock {
 public:
  static constexpr const char* kFileName = ".booktape.lock";

  // Takes the lock. Returns null if another process holds it (`holder` then says who, as far
  // as its file tells) or the file cannot be used (`error` says why).
  static std::unique_ptr<RootLock> acquire(const std::filesystem::path& root, RootHolder& holder,
                                           std::string& error);
  ~RootLock();  // the kernel drops the lock with the descriptor (also when the process dies)
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;

  // What the file said when the lock was taken: the previous run.
  [[nodiscard]] const RootHolder& previous() const noexcept { return previous_; }
  // Records this run's state. Returns "" or why it could not.
  std::string mark(std::string_view run_id, UnixNanos started, std::string_view state);

 private:
  RootLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
  RootHolder previous_;
};

// The loss record for `crashed_run_id`, which ended without a clean stop: the frames after the
// last global sequence its sealed websocket files hold (from the manifest `ws_manifest`) are
// unknown. `written_by` is the run writing it.
LossRecord crash_record(const std::filesystem::path& ws_manifest, const RootHolder& crashed,
                        std::string_view written_by, UnixNanos now);

}  // namespace booktape
