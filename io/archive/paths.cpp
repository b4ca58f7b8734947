#include "io/archive/paths.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <cstdio>

namespace booktape {

std::filesystem::path archive_stream_dir(const std::filesystem::path& root, std::string_view venue,
                                         std::string_view stream) {
  return root / "raw_orderbooks" / std::string(venue) / std::string(stream);
}

std::filesystem::path archive_hour_dir(const std::filesystem::path& root, std::string_view venue,
                                       std::string_view stream, UnixNanos hour_start) {
  const CivilTime c = to_civil(hour_start);
  char date[32], hour[16];
  std::snprintf(date, sizeof date, "date=%04d-%02d-%02d", c.year, c.month, c.day);
  std::snprintf(hour, sizeof hour, "hour=%02d", c.hour);
  return archive_stream_dir(root, venue, stream) / date / hour;
}

std::string archive_file_name(std::string_view venue, std::string_view stream,
                              UnixNanos hour_start, std::string_view run_id,
                              std::uint64_t sequence) {
  const CivilTime c = to_civil(hour_start);
  char stamp[32], seq[32];
  std::snprintf(stamp, sizeof stamp, "%04d%02d%02dT%02dZ", c.year, c.month, c.day, c.hour);
  std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(sequence));
  std::string name;
  name.append(venue).append("_").append(stream).append("_").append(stamp).append("_");
  name.append(run_id).append("_").append(seq).append(".jsonl.gz");
  return name;
}

std::optional<ArchiveName> parse_archive_file_name(std::string_view name) {
  constexpr std::string_view kExt = ".jsonl.gz";
  if (!name.ends_with(kExt)) return std::nullopt;
  name.remove_suffix(kExt.size());
  // <venue>_<stream>_<YYYYMMDDTHHZ>_<run_id>_<seq>: the run id has no '_', the stream may.
  const std::size_t s = name.rfind('_');
  if (s == std::string_view::npos || s == 0) return std::nullopt;
  const std::size_t r = name.rfind('_', s - 1);
  if (r == std::string_view::npos || r == 0) return std::nullopt;
  const std::size_t t = name.rfind('_', r - 1);
  if (t == std::string_view::npos || t == 0) return std::nullopt;
  const std::string_view seq = name.substr(s + 1), run = name.substr(r + 1, s - r - 1),
                         stamp = name.substr(t + 1, r - t - 1);
  if (seq.empty() || seq.size() > 19 || run.empty() || stamp.size() != 12 || stamp[8] != 'T' ||
      stamp[11] != 'Z')
    return std::nullopt;
  ArchiveName out;
  for (char c : seq) {
    if (c < '0' || c > '9') return std::nullopt;
    out.sequence = out.sequence * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out.venue_stream = std::string(name.substr(0, t));
  out.run_id = std::string(run);
  return out;
}

std::filesystem::path manifest_path(const std::filesystem::path& manifest_dir,
                                    std::string_view venue, std::string_view stream) {
  return manifest_dir / (std::string(venue) + "_" + std::string(stream) + ".manifest.jsonl");
}

std::string open_name(std::string_view closed_name) {
  std::string s;
  s.reserve(1 + closed_name.size() + kOpenSuffix.size());
  s.append(".").append(closed_name).append(kOpenSuffix);
  return s;
}

bool is_open_name(std::string_view n) noexcept {
  return n.size() > 1 + kOpenSuffix.size() && n.front() == '.' && n.ends_with(kOpenSuffix);
}

std::string closed_name_of(std::string_view n) {
  if (!is_open_name(n)) return std::string(n);
  return std::string(n.substr(1, n.size() - 1 - kOpenSuffix.size()));
}

void make_private_dirs(const std::filesystem::path& dir) {
  std::filesystem::path cur;
  for (const std::filesystem::path& part : dir) {
    cur /= part;
    if (cur.empty() || cur == cur.root_path()) continue;
    if (::mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST) {
      throw std::runtime_error("cannot create directory " + cur.string() + ": " +
                               std::strerror(errno));
    }
  }
}

std::string make_run_id(UnixNanos now) {
  const CivilTime c = to_civil(now);
  unsigned int r = 0;
  if (getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<unsigned int>(now ^ (now >> 32));  // no entropy: time still differs per run
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%08x", c.year, c.month, c.day, c.hour,
                c.minute, c.second, r);
  return buf;
}

namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(err));
}

}  // namespace

void fsync_dir(const std::filesystem::path& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_file_atomically(const std::filesystem::path& dir, const std::string& name,
                           std::string_view data, mode_t mode) {
  const std::filesystem::path final_path = dir / name;
  std::string tmp = (dir / ("." + name + ".XXXXXX")).string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) throw_errno(errno, "creating a temporary file in " + dir.string());
  const auto fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw_errno(err, what);
  };
  if (::fchmod(fd, mode) != 0) fail("chmod " + tmp);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("writing " + tmp);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync " + tmp);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_errno(err, "closing " + tmp);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_errno(err, "renaming " + tmp + " to " + final_path.string());
  }
}

}  // namespace booktape
