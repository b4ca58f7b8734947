#pragma once
// What the control thread says about the archive while it happens (docs/RECORD.md, "Losses"):
// a write that fails (the path, the errno, what waits in memory), frames being dropped (at once,
// with the count and the global sequences), a file deleted or moved while written, and a disk
// getting full (a free-space watermark, alarmed before the disk refuses anything).
//
// It only reads the archive stage's counters and statvfs() (once a second); it runs on the
// control thread, every pass of its loop (50 ms), so a drop is said as it starts. Each tick
// returns the lines to log; the disk numbers are kept for the status line and status_json (the
// operator surfaces export them).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "io/record/archive_stage.hpp"

namespace booktape {

// The archive root's file system (statvfs), sampled by the control thread.
struct DiskStats {
  std::atomic<std::uint64_t> total_bytes{0}, free_bytes{0};  // free: what we may still write
  std::atomic<bool> low{false};          // under the watermark
  std::atomic<std::uint64_t> low_alarms{0};  // times it went under
};

struct DiskWatermark {
  double free_percent = 10;               // alarm under this share of the disk...
  std::uint64_t free_bytes = std::uint64_t{2} << 30;  // ...or under this many bytes (0: off)
};

class ArchiveAlarms {
 public:
  ArchiveAlarms(std::filesystem::path root, DiskWatermark watermark, std::size_t max_pending);

  // Lines to log now (each already says ALARM when it is one).
  std::vector<std::string> tick(const ArchiveStageStats& a, MonoNanos now);
  [[nodiscard]] const DiskStats& disk() const noexcept { return disk_; }
  // "disk 41% free" or "disk 3.2% free LOW" for the status line.
  [[nodiscard]] std::string disk_text() const;

 private:
  void sample_disk(std::vector<std::string>& out);

  std::filesystem::path root_;
  DiskWatermark mark_;
  std::size_t max_pending_;
  DiskStats disk_;
  std::uint64_t last_write_errors_ = 0, last_drop_runs_ = 0, last_vanished_ = 0;
  std::uint64_t last_oversized_ = 0;
  bool failing_ = false, dropping_ = false;
  std::uint64_t drop_first_ = 0, drop_last_ = 0, drop_frames_ = 0;
  MonoNanos next_repeat_ = 0;  // a failure still going on is restated every 10 s, not every tick
  MonoNanos next_disk_ = 0;
};

}  // namespace booktape
