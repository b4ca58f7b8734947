#include "io/record/root_guard.hpp"

#include "io/archive/paths.hpp"

namespace booktape {

namespace fs = std::filesystem;

std::string take_root(const fs::path& out, RootGuard& g) {
  RootHolder holder;
  std::string error;
  g.lock = RootLock::acquire(out, holder, error);
  if (g.lock) return {};
  if (!error.empty()) return error;
  std::string who = holder.pid > 0 ? "PID " + std::to_string(holder.pid) : "another process";
  if (!holder.run_id.empty()) who += ", run " + holder.run_id;
  if (!holder.started_at_utc.empty()) who += ", started " + holder.started_at_utc;
  return "another booktape record (" + who + ") is writing to " + out.string() +
         ": one recorder per archive root. Stop it first, or record into another --out.";
}

void prepare_root(RootGuard& g, const ArchiveWriterOptions& writer, UnixNanos started,
                  std::uint64_t reserve_bytes) {
  const fs::path& out = writer.root;
  const RootHolder& prev = g.lock->previous();
  bool named = true;  // the previous run needs nothing more from the lock file
  if (prev.state == "running" && !prev.run_id.empty() && prev.run_id != writer.run_id) {
    const fs::path mdir = writer.manifest_dir.empty() ? out / "manifests" : writer.manifest_dir;
    LossRecord r = crash_record(manifest_path(mdir, writer.venue, writer.stream), prev,
                                writer.run_id, realtime_now());
    g.notes.push_back("ALARM: the previous run " + prev.run_id + " did not stop cleanly: " +
                      r.detail + " (a crash loss record says so)");
    ArchiveWriter w(writer);
    w.note_loss(r);
    w.close();
    if (!w.closed()) w.abandon();
    named = w.unwritten_losses().empty();
    if (named) {
      g.crashes.push_back(std::move(r));
    } else {
      g.notes.push_back("ALARM: the crash record could not be written (" + w.stats().last_error +
                        "); the lock file keeps naming that run, so the next start tries again "
                        "(and a crash of this run would go unnamed)");
    }
  }
  if (named) {
    if (const std::string e = g.lock->mark(writer.run_id, started, "running"); !e.empty()) {
      g.notes.push_back("warning: " + e +
                        " (a crash of this run could not be named by the next start)");
    } else {
      g.marked = true;
    }
  }
  g.reserve = std::make_unique<SpaceReserve>(out, reserve_bytes);
  if (reserve_bytes > 0) {
    std::string note = "reserved " + std::to_string(g.reserve->reserved()) +
                       " bytes under " + out.string() + " for the end of the run";
    if (!g.reserve->shortfall().empty()) note += " (" + g.reserve->shortfall() + ")";
    g.notes.push_back(std::move(note));
  }
}

void finish_root(RootGuard& g, const std::string& run_id, UnixNanos started, bool accounted,
                 std::vector<std::string>& notes) {
  if (g.reserve) g.reserve->release();
  if (!g.lock || !g.marked) return;  // the file still names an earlier run: leave it so
  if (!accounted) {
    notes.push_back("the run stays marked unclean in " + std::string(RootLock::kFileName) +
                    ": the next start records what is unknown");
    return;
  }
  if (const std::string e = g.lock->mark(run_id, started, "stopped"); !e.empty()) {
    notes.push_back("warning: " + e + " (the next start will call this run crashed)");
  }
}

std::uint64_t count_unsealed(const fs::path& out, const std::string& run_id) {
  std::uint64_t n = 0;
  for (const char* stream : {"ws_raw", "rest_checkpoints"}) {
    const fs::path dir = archive_stream_dir(out, "polymarket", stream);
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (is_open_name(name) && name.find(run_id) != std::string::npos) ++n;
    }
  }
  return n;
}

}  // namespace booktape
