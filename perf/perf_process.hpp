#pragma once
// Child processes for the end-to-end harness, and what /proc says about them: CPU time per
// thread (the recorder names its threads bt-net, bt-book, bt-archive, ...) and resident memory.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace booktape::perf {

// A child process; stdout readable line by line when asked, else to the log file.
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const std::filesystem::path& log, bool pipe_stdout) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int fds[2] = {-1, -1};
    if (pipe_stdout && ::pipe2(fds, O_CLOEXEC) == 0) {
      posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (fds[1] >= 0) ::close(fds[1]);
    out_ = fds[0];
  }
  ~Proc() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  void signal(int sig) const noexcept {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // The next stdout line, or "" after timeout_ms without one.
  std::string line(int timeout_ms) {
    for (;;) {
      const std::size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return {};
      char tmp[4096];
      const ssize_t n = ::read(out_, tmp, sizeof tmp);
      if (n <= 0) return {};
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  // Waits for the exit; returns the exit code (-1: killed) and the child's CPU time in ns.
  int wait(std::int64_t& cpu_ns) {
    int status = 0;
    rusage ru{};
    ::wait4(pid_, &status, 0, &ru);
    pid_ = -1;
    cpu_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1'000'000'000LL +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1'000LL;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

// CPU ns used so far by each thread of `pid`, summed by thread name ("bt-net-0" and "bt-net-1"
// count as "bt-net": a trailing -N is dropped). From schedstat (the scheduler's nanoseconds on a
// cpu) when the kernel has it; proc(5)'s utime + stime count 10 ms ticks, too coarse for a few
// seconds of a thread that wakes up for microseconds.
inline std::map<std::string, std::int64_t> cpu_by_thread(pid_t pid) {
  std::map<std::string, std::int64_t> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  const long tick = ::sysconf(_SC_CLK_TCK);
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(t.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string name = stat.substr(open + 1, close - open - 1);
    const std::size_t dash = name.find_last_of('-');
    if (dash != std::string::npos && dash + 1 < name.size() &&
        name.find_first_not_of("0123456789", dash + 1) == std::string::npos)
      name.erase(dash);
    // Fields after the name: state is field 3, utime 14 and stime 15 (proc(5)).
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    std::int64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    std::ifstream sched(t.path() / "schedstat");
    std::int64_t ns = 0;
    if (sched >> ns) {
      out[name] += ns;
    } else {
      out[name] += (utime + stime) * (1'000'000'000 / tick);
    }
  }
  return out;
}

// The machine's 1-minute load average (/proc/loadavg): other sessions' work, this run's included.
inline double load_average_1m() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  in >> load;
  return load;
}

// Every cpu's time so far in USER_HZ ticks (/proc/stat's "cpu" line): busy is all but idle and
// iowait. Two of them bracket a window: busy / total is how loaded the whole machine was.
struct MachineCpu {
  std::uint64_t busy = 0, total = 0;
};
inline MachineCpu machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  MachineCpu m;
  std::uint64_t v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {  // user nice system idle iowait irq softirq steal
    m.total += v;
    if (i != 3 && i != 4) m.busy += v;
  }
  return m;
}

// A loopback port free right now (bound by the kernel's choice, then released; 0 if none).
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// A "Vm...: N kB" value of /proc/<pid>/status in bytes (VmRSS now, VmHWM the peak); 0 if absent.
inline std::uint64_t proc_status_bytes(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

}  // namespace booktape::perf
