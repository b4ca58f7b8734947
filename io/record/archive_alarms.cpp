#include "io/record/archive_alarms.hpp"

#include <sys/statvfs.h>

#include <cstdio>
#include <cstring>

namespace booktape {

namespace {

std::string bytes_text(std::uint64_t b) {
  char s[32];
  if (b >= (std::uint64_t{1} << 30)) {
    std::snprintf(s, sizeof s, "%.1f GiB", static_cast<double>(b) / (1 << 30));
  } else if (b >= (std::uint64_t{1} << 20)) {
    std::snprintf(s, sizeof s, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  } else if (b >= 1024) {
    std::snprintf(s, sizeof s, "%.1f KiB", static_cast<double>(b) / 1024);
  } else {
    std::snprintf(s, sizeof s, "%llu bytes", static_cast<unsigned long long>(b));
  }
  return s;
}

std::string u(std::uint64_t v) { return std::to_string(v); }

}  // namespace

ArchiveAlarms::ArchiveAlarms(std::filesystem::path root, DiskWatermark watermark,
                             std::size_t max_pending)
    : root_(std::move(root)), mark_(watermark), max_pending_(max_pending) {}

void ArchiveAlarms::sample_disk(std::vector<std::string>& out) {
  struct statvfs v {};
  if (::statvfs(root_.c_str(), &v) != 0) return;
  const std::uint64_t total = static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize;
  const std::uint64_t free = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  disk_.total_bytes.store(total, std::memory_order_relaxed);
  disk_.free_bytes.store(free, std::memory_order_relaxed);
  const double pct = total > 0 ? 100.0 * static_cast<double>(free) / static_cast<double>(total) : 100;
  const bool low = pct < mark_.free_percent || (mark_.free_bytes > 0 && free < mark_.free_bytes);
  if (low && !disk_.low.load(std::memory_order_relaxed)) {
    disk_.low_alarms.fetch_add(1, std::memory_order_relaxed);
    char s[256];
    std::snprintf(s, sizeof s,
                  "ALARM: the archive's disk is getting full: %s free of %s (%.1f%%) under %s; "
                  "warning below %.0f%% or %s",
                  bytes_text(free).c_str(), bytes_text(total).c_str(), pct, root_.c_str(),
                  mark_.free_percent, bytes_text(mark_.free_bytes).c_str());
    out.emplace_back(s);
  } else if (!low && disk_.low.load(std::memory_order_relaxed)) {
    out.push_back("the archive's disk has room again: " + bytes_text(free) + " free of " +
                  bytes_text(total));
  }
  disk_.low.store(low, std::memory_order_relaxed);
}

std::string ArchiveAlarms::disk_text() const {
  const std::uint64_t total = disk_.total_bytes.load(std::memory_order_relaxed);
  if (total == 0) return "disk ?";
  const double pct = 100.0 * static_cast<double>(disk_.free_bytes.load(std::memory_order_relaxed)) /
                     static_cast<double>(total);
  char s[48];
  std::snprintf(s, sizeof s, "disk %.1f%% free%s", pct,
                disk_.low.load(std::memory_order_relaxed) ? " LOW" : "");
  return s;
}

std::vector<std::string> ArchiveAlarms::tick(const ArchiveStageStats& a, MonoNanos now) {
  std::vector<std::string> out;
  if (now >= next_disk_) {  // a statvfs a second is plenty for a watermark
    next_disk_ = now + kNanosPerSecond;
    sample_disk(out);
  }

  const std::uint64_t werr = a.write_errors.load(std::memory_order_relaxed);
  const bool failing = a.write_failing.load(std::memory_order_relaxed);
  const std::uint64_t pending = a.pending_bytes.load(std::memory_order_relaxed);
  const std::uint64_t pending_frames = a.pending_frames.load(std::memory_order_relaxed);
  const auto describe = [&] {
    const int err = a.last_errno.load(std::memory_order_relaxed);
    std::string s = a.last_error();
    if (err != 0) s += " (errno " + std::to_string(err) + ")";
    return s + "; waiting in memory: " + bytes_text(pending) + ", " + u(pending_frames) +
           " frames (kept up to max_pending_bytes " + bytes_text(max_pending_) +
           ", then dropped and named in a loss record)";
  };
  if (werr != last_write_errors_ && (!failing_ || now >= next_repeat_)) {
    out.push_back("ALARM: archive write failed (" + u(werr - last_write_errors_) +
                  " time(s) since the last report, retried once a second): " + describe());
    last_write_errors_ = werr;
    next_repeat_ = now + 10 * kNanosPerSecond;
  }
  if (failing_ && !failing) {
    out.push_back("archive writes work again: the blocks kept in memory are written");
    last_write_errors_ = werr;
  }
  failing_ = failing;

  // Dropping: said at once, with what so far; restated while it goes on; summed up when it ends.
  const std::uint64_t runs = a.drop_runs.load(std::memory_order_relaxed);
  const std::uint64_t df = a.dropping_frames.load(std::memory_order_relaxed);
  if (df > 0) {
    const std::uint64_t first = a.dropping_first.load(std::memory_order_relaxed);
    const std::uint64_t last = a.dropping_last.load(std::memory_order_relaxed);
    if (!dropping_ || runs != last_drop_runs_ || now >= next_repeat_) {
      out.push_back("ALARM: dropping frames: " + u(df) + " so far, global sequences " + u(first) +
                    ".." + u(last) + " (unwritten blocks reached max_pending_bytes; " +
                    a.last_error() + "); they will be named in a loss record");
      next_repeat_ = now + 10 * kNanosPerSecond;
    }
    dropping_ = true;
    drop_first_ = first;
    drop_last_ = last;
    drop_frames_ = df;
  } else if (dropping_) {
    out.push_back("ALARM: dropped " + u(drop_frames_) + " frames, global sequences " +
                  u(drop_first_) + ".." + u(drop_last_) +
                  "; writing works again and a loss record names them");
    dropping_ = false;
  }
  last_drop_runs_ = runs;

  const std::uint64_t vanished = a.files_vanished.load(std::memory_order_relaxed);
  if (vanished != last_vanished_) {
    out.push_back("ALARM: " + u(vanished - last_vanished_) +
                  " archive file(s) deleted or moved while being written: " + a.last_error() +
                  "; a new file was started and a loss record names the lost frames");
    last_vanished_ = vanished;
  }
  const std::uint64_t oversized = a.oversized_frames.load(std::memory_order_relaxed);
  if (oversized != last_oversized_) {
    out.push_back(u(oversized - last_oversized_) +
                  " frame(s) over max_frame_bytes skipped; each archived as an oversized_frame "
                  "stub (length, sha256, first bytes)");
    last_oversized_ = oversized;
  }
  return out;
}

}  // namespace booktape
