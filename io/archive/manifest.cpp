#include "io/archive/manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "codecs/envelope.hpp"
#include "io/archive/paths.hpp"

namespace booktape {

std::string render_manifest_entry(const ManifestEntry& e) {
  using polymarket::EventType;
  using polymarket::FrameKind;
  std::string s = "{\"record\":\"manifest_entry\",\"format\":\"";
  s += kArchiveFormat;
  s += "\",\"format_version\":" + std::to_string(kArchiveFormatVersion) + ",\"path\":";
  append_json_string(s, e.path);
  s += ",\"sha256\":\"" + e.sha256 + "\",\"bytes\":" + std::to_string(e.bytes) +
       ",\"rows\":" + std::to_string(e.rows) + ",\"frames\":" + std::to_string(e.frames) +
       ",\"members\":" + std::to_string(e.members);
  if (e.records > 0) s += ",\"records\":" + std::to_string(e.records);
  if (e.frames + e.records + e.oversized_frames > 0) {
    s += ",\"first_received_at_utc\":\"" + format_utc(e.first_received_ns) +
         "\",\"last_received_at_utc\":\"" + format_utc(e.last_received_ns) +
         "\",\"first_received_at_ns\":" + std::to_string(e.first_received_ns) +
         ",\"last_received_at_ns\":" + std::to_string(e.last_received_ns);
  }
  if (e.frames + e.oversized_frames > 0) {
    s += ",\"first_global_message_sequence\":" + std::to_string(e.first_global_sequence) +
         ",\"last_global_message_sequence\":" + std::to_string(e.last_global_sequence);
  }
  s += ",\"events_by_type\":{";
  bool first = true;
  for (std::size_t i = 0; i < e.events_by_type.size(); ++i) {
    if (e.events_by_type[i] == 0) continue;
    if (!first) s += ',';
    first = false;
    s += std::string("\"") + to_string(static_cast<EventType>(i)) +
         "\":" + std::to_string(e.events_by_type[i]);
  }
  s += "},\"frames_by_kind\":{";
  first = true;
  for (std::size_t i = 0; i < e.frames_by_kind.size(); ++i) {
    if (e.frames_by_kind[i] == 0) continue;
    if (!first) s += ',';
    first = false;
    s += std::string("\"") + to_string(static_cast<FrameKind>(i)) +
         "\":" + std::to_string(e.frames_by_kind[i]);
  }
  s += "},\"run_id\":";
  append_json_string(s, e.run_id);
  s += ",\"file_sequence\":" + std::to_string(e.file_sequence) + ",\"closed_at_utc\":\"" +
       format_utc(e.closed_at) + "\",\"recovered\":" + (e.recovered ? "true" : "false");
  if (e.recovered) {
    s += ",\"torn_tail_bytes\":" + std::to_string(e.torn_tail_bytes) +
         ",\"torn_tail_rows\":" + std::to_string(e.torn_tail_rows);
  }
  if (e.oversized_frames > 0) s += ",\"oversized_frames\":" + std::to_string(e.oversized_frames);
  if (e.loss_records > 0) {
    s += ",\"loss_records\":" + std::to_string(e.loss_records) +
         ",\"frames_lost\":" + std::to_string(e.frames_lost);
  }
  s += "}\n";
  return s;
}

namespace {
// A frame's (or a stub's) row, time and place in the global sequence; before it is counted.
void count_place(ManifestEntry& e, UnixNanos received_ns, std::uint64_t global_sequence) noexcept {
  if (e.frames + e.oversized_frames == 0) {
    e.first_received_ns = received_ns;
    e.first_global_sequence = global_sequence;
  }
  ++e.rows;
  e.last_received_ns = received_ns;
  e.last_global_sequence = global_sequence;
}
}  // namespace

void count_frame(ManifestEntry& e, UnixNanos received_ns, std::uint64_t global_sequence,
                 const polymarket::Classification& c) noexcept {
  count_place(e, received_ns, global_sequence);
  ++e.frames;
  ++e.frames_by_kind[static_cast<std::size_t>(c.kind)];
  for (std::size_t i = 0; i < c.events.size(); ++i) e.events_by_type[i] += c.events[i];
}

void count_data_record(ManifestEntry& e, UnixNanos at) noexcept {
  if (e.frames + e.records == 0) e.first_received_ns = at;
  e.last_received_ns = at;
  ++e.records;
  ++e.rows;
}

void count_other_row(ManifestEntry& e) noexcept { ++e.rows; }

void count_oversized(ManifestEntry& e, UnixNanos received_ns,
                     std::uint64_t global_sequence) noexcept {
  count_place(e, received_ns, global_sequence);
  ++e.oversized_frames;
}

void count_loss(ManifestEntry& e, std::uint64_t frames_lost) noexcept {
  ++e.rows;
  ++e.loss_records;
  e.frames_lost += frames_lost;
}

void merge_counts(ManifestEntry& f, const ManifestEntry& b) noexcept {
  if (b.frames + b.records + b.oversized_frames > 0) {
    if (f.frames + f.records + f.oversized_frames == 0) f.first_received_ns = b.first_received_ns;
    f.last_received_ns = b.last_received_ns;
  }
  if (b.frames + b.oversized_frames > 0) {
    if (f.frames + f.oversized_frames == 0) f.first_global_sequence = b.first_global_sequence;
    f.last_global_sequence = b.last_global_sequence;
  }
  f.rows += b.rows;
  f.frames += b.frames;
  f.records += b.records;
  f.oversized_frames += b.oversized_frames;
  f.loss_records += b.loss_records;
  f.frames_lost += b.frames_lost;
  for (std::size_t i = 0; i < f.events_by_type.size(); ++i) f.events_by_type[i] += b.events_by_type[i];
  for (std::size_t i = 0; i < f.frames_by_kind.size(); ++i) f.frames_by_kind[i] += b.frames_by_kind[i];
}

void clear_counts(ManifestEntry& e) noexcept {
  e.rows = e.frames = e.records = e.members = 0;
  e.first_received_ns = e.last_received_ns = 0;
  e.first_global_sequence = e.last_global_sequence = 0;
  e.events_by_type.fill(0);
  e.frames_by_kind.fill(0);
  e.oversized_frames = e.loss_records = e.frames_lost = 0;
}

std::string manifest_path_of(const std::filesystem::path& file, const std::filesystem::path& root) {
  return file.lexically_normal().lexically_relative(root.lexically_normal()).string();
}

SealOutcome seal_archive_file(int fd, const SealPaths& p, ManifestEntry& e,
                              const Sha256Digest& digest, std::uint64_t bytes,
                              UnixNanos closed_at, bool durable) {
  SealOutcome out;
  e.path = manifest_path_of(p.final_path, p.root);
  e.sha256.assign(kSha256HexChars, '\0');
  to_hex(digest.data(), digest.size(), e.sha256.data());
  e.bytes = bytes;
  e.closed_at = closed_at;
  out.error = append_line(p.manifest_file, render_manifest_entry(e), durable);
  if (!out.error.empty()) return out;  // no entry: the file keeps its ".open" name
  out.entry_written = true;
  out.error = finish_seal(fd, p, bytes, durable);
  out.sealed = out.error.empty();
  return out;
}

std::string finish_seal(int fd, const SealPaths& p, std::uint64_t bytes, bool durable) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return "stat " + p.open_path.string() + ": " + std::strerror(errno);
  if (static_cast<std::uint64_t>(st.st_size) > bytes) {
    // A torn tail: the entry describes the complete members only, so the file must end there.
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0)
      return "truncate " + p.open_path.string() + ": " + std::strerror(errno);
    if (durable && ::fdatasync(fd) != 0)
      return "fdatasync " + p.open_path.string() + ": " + std::strerror(errno);
  }
  if (::rename(p.open_path.c_str(), p.final_path.c_str()) != 0)
    return "rename " + p.open_path.string() + ": " + std::strerror(errno);
  if (durable) fsync_dir(p.open_path.parent_path());
  return {};
}

std::string append_line(const std::filesystem::path& file, const std::string& line, bool fsync) {
  try {
    make_private_dirs(file.parent_path());
  } catch (const std::exception& e) {
    return e.what();
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return "cannot open " + file.string() + ": " + std::strerror(errno);
  std::string err;
  const ssize_t n = ::write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    err = "cannot append to " + file.string() + ": " +
          (n < 0 ? std::strerror(errno) : "short write");
    // A short append would leave half a line; cut it back so the manifest stays line-clean.
    if (n > 0) {
      const off_t end = ::lseek(fd, 0, SEEK_END);
      if (end >= n && ::ftruncate(fd, end - n) != 0) err += " (and could not trim it)";
    }
  } else if (fsync && ::fsync(fd) != 0) {
    err = "cannot fsync " + file.string() + ": " + std::strerror(errno);
  }
  ::close(fd);
  return err;
}

}  // namespace booktape
