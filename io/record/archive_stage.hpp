#pragma once
// The recorder's archive stage (pipeline consumer 1): classifies each frame and hands it to the
// offline core's archive writer, writes the session records, and measures the time from read
// completion to the frame being in a written block. It never drops a frame: if it falls behind,
// the ring fills and the network thread waits (counted there).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/latency_histogram.hpp"
#include "core/wait_strategy.hpp"
#include "io/archive/writer.hpp"
#include "io/record/pipeline.hpp"

namespace booktape {

struct ArchiveStageOptions {
  ArchiveWriterOptions writer;
  std::size_t max_frame_bytes = std::size_t{16} << 20;  // the classifier's limit
};

struct ArchiveStageStats {
  std::atomic<std::uint64_t> frames{0}, sessions{0};
  std::atomic<std::uint64_t> blocks{0}, files_closed{0}, bytes_written{0}, raw_bytes{0};
  std::atomic<std::uint64_t> write_errors{0}, frames_dropped{0}, fsyncs{0};
  std::atomic<std::uint64_t> fsync_ns{0}, fsync_errors{0};  // time in fdatasync, in total
  std::atomic<bool> write_failing{false};
  std::atomic<bool> failed{false};  // the stage stopped writing for good (failure() says why)
  std::atomic<std::uint64_t> sleeps{0};  // idle sleeps (the archive never spins)
  LatencyHistogram read_to_archive;  // read completed -> frame in a written block
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
