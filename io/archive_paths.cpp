#include "io/archive_paths.hpp"

#include <sys/random.h>
#include <sys/stat.h>

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

}  // namespace booktape
