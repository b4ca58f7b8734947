#pragma once
// `booktape merge`: archives of recorders that recorded the same markets at the same time,
// merged into one archive that holds every venue frame once (docs/ARCHIVE_TOOLS.md).
//
// Each input (a data root) is a stream: its websocket frames in archive order, run after run.
// Frames are aligned by content: a frame's key is its payload's sha256 and which occurrence of
// that payload it is in its stream, so the n-th copy of a payload in one stream matches the
// n-th in another. The merged order keeps every stream's own order (a venue sends each
// connection its events in one order, and books are built from absolute level sizes, so any
// order that keeps each stream's order builds the same books): a frame goes out once every
// stream that holds it has nothing before it left; among frames that may go, the earliest
// received first. A frame only one stream has (what the others missed while down, a
// connection's own initial dump) goes out in its place in that stream, so the gaps of each
// recorder are filled from the others. Heartbeat answers (PONG and the like) are per
// connection, not venue events, and are left out.
//
// Each merged frame keeps its first receive time (the earliest of the streams that have it)
// as primary; `merge_seen` records say which recorder that was and which recorders saw it.
// Times when no recorder had a connection are reported as uncovered, and the merged archive
// closes its session there (so replay marks the books stale until fresh snapshots, as for a
// lost connection). The output is an ordinary booktape archive under a run id made from the
// inputs (merging the same inputs again gives the same files), and merging is idempotent:
// merging a merged archive with any of its inputs adds no frame.
//
// The inputs' frames are held in memory while merging.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "io/archive/connections.hpp"

namespace booktape {

struct MergeOptions {
  std::vector<std::filesystem::path> inputs;  // data roots, in priority order
  std::filesystem::path out;                  // a new data root (must be empty or absent)
  std::function<void(std::string_view)> log;  // progress lines
};

struct MergeSource {
  std::string input;
  std::vector<std::string> run_ids;
  std::uint64_t frames = 0;          // frames read
  std::uint64_t control_frames = 0;  // heartbeat answers left out
  std::uint64_t primary = 0;         // merged frames whose receive time is this recorder's
  std::uint64_t only_here = 0;       // merged frames no other recorder had (gaps it filled)
  std::uint64_t damaged_files = 0;   // input files that did not read back whole
};

struct MergeResult {
  int exit_code =
      0;  // 0 merged; 1 an input damaged or unreadable (merged what was readable); 2 unusable
  std::string error;  // why exit 2
  std::string run_id;
  std::vector<MergeSource> sources;
  std::uint64_t frames = 0;           // merged frames written
  std::uint64_t duplicates = 0;       // frames dropped as copies of a merged one
  std::uint64_t order_conflicts = 0;  // streams that disagreed on an order (earliest received won)
  std::vector<TimeInterval> covered;  // union of the inputs' connection times
  std::vector<TimeInterval> uncovered;
  std::vector<std::string> files;  // written, relative to `out`
  [[nodiscard]] std::string json() const;
};

MergeResult merge_archives(const MergeOptions& o);

}  // namespace booktape
