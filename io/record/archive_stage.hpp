#pragma once
// The recorder's archive stage (pipeline consumer 1): classifies each frame and hands it to the
// offline core's archive writer, writes the session records, and measures the time from read
// completion to the frame being in a written block. It never drops a frame: if it falls behind,
// the ring fills and the network thread waits (counted there).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/latency_histogram.hpp"
#include "core/wait_strategy.hpp"
#include "io/archive/space_reserve.hpp"
#include "io/archive/writer.hpp"
#include "io/record/pipeline.hpp"

namespace booktape {

struct ArchiveStageOptions {
  ArchiveWriterOptions writer;
  std::size_t max_frame_bytes = std::size_t{16} << 20;  // the classifier's limit
  // Released when the disk still refuses at the end, so the last blocks, loss records and
  // manifests find room (may be null).
  SpaceReserve* reserve = nullptr;
  double close_retry_seconds = 5;  // how long the end retries a refused seal before that
};

struct ArchiveStageStats {
  std::atomic<std::uint64_t> frames{0}, sessions{0};
  std::atomic<std::uint64_t> blocks{0}, files_closed{0}, bytes_written{0}, raw_bytes{0};
  std::atomic<std::uint64_t> write_errors{0}, frames_dropped{0}, fsyncs{0};
  std::atomic<std::uint64_t> fsync_ns{0}, fsync_errors{0};  // time in fdatasync, in total
  // Not in the archive yet: raw bytes and frames of the blocks waiting for the disk.
  std::atomic<std::uint64_t> pending_bytes{0}, pending_frames{0};
  std::atomic<std::uint64_t> oversized_frames{0}, loss_records{0}, files_vanished{0};
  // Dropping now (the memory bound is reached): how many so far, and their global sequences.
  std::atomic<std::uint64_t> drop_runs{0}, dropping_frames{0}, dropping_first{0}, dropping_last{0};
  std::atomic<std::uint64_t> reserve_released{0};  // bytes of the reserve given back at the end
  std::atomic<std::uint64_t> unwritten_losses{0};  // loss records even the end could not write
  std::atomic<int> last_errno{0};
  std::atomic<bool> write_failing{false};
  std::atomic<bool> failed{false};  // the stage stopped writing for good (failure() says why)
  std::atomic<std::uint64_t> sleeps{0};  // idle sleeps (the archive never spins)
  LatencyHistogram read_to_archive;  // read completed -> frame in a written block

  // The last write error's text (path, call, strerror): cold, copied under a lock only when it
  // changes.
  [[nodiscard]] std::string last_error() const {
    std::lock_guard lock(error_mu_);
    return last_error_;
  }
  void set_last_error(const std::string& e) {
    std::lock_guard lock(error_mu_);
    last_error_ = e;
  }

 private:
  mutable std::mutex error_mu_;
  std::string last_error_;
};

class ArchiveStage {
 public:
  ArchiveStage(ArchiveStageOptions options, PipelineRing& ring, PipelineBells& bells);
  ~ArchiveStage();
  ArchiveStage(const ArchiveStage&) = delete;
  ArchiveStage& operator=(const ArchiveStage&) = delete;

  // The stage's loop: returns once `producer_done` is set and every record was written; the
  // archive is then closed (no .open file left).
  void run(const std::atomic<bool>& producer_done);

  [[nodiscard]] const ArchiveStageStats& stats() const noexcept;
  // Why the stage stopped writing; read only after stats().failed is seen true.
  [[nodiscard]] const std::string& failure() const noexcept;
  [[nodiscard]] const std::string& run_id() const noexcept;
  // Only once run() has returned.
  [[nodiscard]] const ArchiveWriter& writer() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booktape
