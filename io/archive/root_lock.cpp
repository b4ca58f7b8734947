#include "io/archive/root_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "codecs/envelope.hpp"

namespace booktape {

namespace fs = std::filesystem;

namespace {

// The file's fixed size: one JSON line padded with spaces, rewritten in place.
constexpr std::size_t kStateBytes = 512;

RootHolder parse_state(const std::string& text) {
  RootHolder h;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  const std::size_t end = text.find('\n');
  const std::string line = text.substr(0, end);
  if (line.find_first_not_of(' ') == std::string::npos) return h;
  if (p.parse(line).get(e) != simdjson::SUCCESS) return h;
  std::int64_t pid = 0;
  std::string_view v;
  if (e["pid"].get_int64().get(pid) == simdjson::SUCCESS) h.pid = static_cast<long>(pid);
  if (e["run_id"].get_string().get(v) == simdjson::SUCCESS) h.run_id.assign(v);
  if (e["started_at_utc"].get_string().get(v) == simdjson::SUCCESS) h.started_at_utc.assign(v);
  if (e["state"].get_string().get(v) == simdjson::SUCCESS) h.state.assign(v);
  return h;
}

std::string read_all(int fd) {
  std::string out(kStateBytes * 2, '\0');
  const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

}  // namespace

std::unique_ptr<RootLock> RootLock::acquire(const fs::path& root, RootHolder& holder,
                                            std::string& error) {
  const fs::path path = root / kFileName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "cannot open the lock file " + path.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      holder = parse_state(read_all(fd));
    } else {
      error = "cannot lock " + path.string() + ": " + std::strerror(err);
    }
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<RootLock> lock(new RootLock(fd, path));
  lock->previous_ = parse_state(read_all(fd));
  return lock;
}

RootLock::~RootLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string RootLock::mark(std::string_view run_id, UnixNanos started, std::string_view state) {
  std::string line = "{\"pid\":" + std::to_string(::getpid()) + ",\"run_id\":";
  append_json_string(line, run_id);
  line += ",\"started_at_utc\":\"" + format_utc(started) + "\",\"state\":";
  append_json_string(line, state);
  line += '}';
  if (line.size() >= kStateBytes) line.resize(kStateBytes - 1);  // never: ids are short
  line.resize(kStateBytes - 1, ' ');
  line += '\n';
  // In place, same size: on a full disk this needs no new block once the file has its size.
  const ssize_t n = ::pwrite(fd_, line.data(), line.size(), 0);
  if (n != static_cast<ssize_t>(line.size())) {
    return "cannot write " + path_.string() + ": " +
           (n < 0 ? std::strerror(errno) : std::string("short write"));
  }
  if (::fdatasync(fd_) != 0) return "cannot sync " + path_.string() + ": " + std::strerror(errno);
  return {};
}

LossRecord crash_record(const fs::path& ws_manifest, const RootHolder& crashed,
                        std::string_view written_by, UnixNanos now) {
  std::uint64_t last = 0;
  std::uint64_t files = 0;
  std::ifstream in(ws_manifest);
  simdjson::dom::parser p;
  for (std::string line; std::getline(in, line);) {
    if (line.find(crashed.run_id) == std::string::npos) continue;
    simdjson::dom::element e;
    std::string_view run;
    if (p.parse(line).get(e) != simdjson::SUCCESS ||
        e["run_id"].get_string().get(run) != simdjson::SUCCESS || run != crashed.run_id) {
      continue;
    }
    ++files;
    std::uint64_t seq = 0;
    if (e["last_global_message_sequence"].get_uint64().get(seq) == simdjson::SUCCESS)
      last = std::max(last, seq);
  }
  LossRecord r;
  r.run_id = crashed.run_id;
  r.written_by_run_id = std::string(written_by);
  r.reason = LossReason::kCrash;
  r.at = now;
  r.first_global_sequence = last + 1;  // the rest stay null: unknown
  r.detail = "run " + crashed.run_id + " (pid " + std::to_string(crashed.pid) + ", started " +
             crashed.started_at_utc + ") ended without a clean stop (killed, crashed, its host " +
             "went down, or it could not write what it lost); its " + std::to_string(files) +
             " sealed websocket file(s) end at global sequence " + std::to_string(last) +
             "; whether frames came after that, and how many, is unknown";
  return r;
}

}  // namespace booktape
