#pragma once
// What one `booktape record` run holds on its archive root (docs/RECORD.md, "Losses"):
//  - the one-writer lock (io/archive/root_lock.hpp): a second recorder on the same --out is
//    refused, naming the PID that writes there;
//  - the crash record of the previous run, if that run never stopped cleanly (its frames after
//    the last sealed one are unknown), written by this run before it records anything;
//  - the space reserved for the end of the run (io/archive/space_reserve.hpp).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/archive/loss_record.hpp"
#include "io/archive/root_lock.hpp"
#include "io/archive/space_reserve.hpp"
#include "io/archive/writer.hpp"

namespace booktape {

struct RootGuard {
  std::unique_ptr<RootLock> lock;
  std::unique_ptr<SpaceReserve> reserve;
  std::vector<LossRecord> crashes;  // for earlier runs (at most the previous one)
  std::vector<std::string> notes;   // what to log (ALARM lines included)
  bool marked = false;              // this run is the one the lock file names
};

// Takes the lock on `out`. Returns "" on success, else what to tell the user: who holds it, or
// why the lock file cannot be used.
std::string take_root(const std::filesystem::path& out, RootGuard& g);

// After the start-up recovery sealed the earlier runs' files: the crash record for the
// previous run if it did not stop cleanly, written and sealed in a small file of its own before
// this run marks itself running (so a kill now cannot lose it), and the reserve taken.
// `writer` is this run's websocket archive (root, manifests, run id, durability).
void prepare_root(RootGuard& g, const ArchiveWriterOptions& writer, UnixNanos started,
                  std::uint64_t reserve_bytes);

// At the end: a run whose every frame is in a sealed file or a written loss record is marked
// stopped; otherwise it stays "running", so the next start names what is unknown.
void finish_root(RootGuard& g, const std::string& run_id, UnixNanos started, bool accounted,
                 std::vector<std::string>& notes);

// This run's files still ".open" under the archive streams (left when the disk refused).
std::uint64_t count_unsealed(const std::filesystem::path& out, const std::string& run_id);

}  // namespace booktape
