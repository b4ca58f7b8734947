#include "io/archive/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace booktape {

namespace {

struct Pipe {
  int r = -1, w = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    r = fds[0];
    w = fds[1];
    return true;
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

}  // namespace

ChildOutcome run_child(const std::vector<std::string>& argv,
                       const std::function<void(std::string_view)>& on_stderr_line) {
  ChildOutcome o;
  if (argv.empty()) {
    o.error = "no program";
    return o;
  }
  Pipe out, err;
  if (!out.open() || !err.open()) {
    o.error = std::string("pipe: ") + std::strerror(errno);
    return o;
  }
  // The program's path is resolved before fork: the child only dup2s, sets its death signal
  // and execs (async-signal-safe calls only, as a fork of a threaded process requires).
  std::string program = argv[0];
  if (program.find('/') == std::string::npos) {
    const char* path_env = std::getenv("PATH");
    std::string_view dirs = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
    std::string found;
    while (found.empty()) {
      const std::size_t colon = dirs.find(':');
      const std::string dir(dirs.substr(0, colon));
      const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) found = candidate;
      if (colon == std::string_view::npos) break;
      dirs.remove_prefix(colon + 1);
    }
    if (found.empty()) {
      o.not_found = true;
      o.error = program + ": not found on PATH";
      return o;
    }
    program = found;
  } else if (::access(program.c_str(), X_OK) != 0) {
    o.not_found = true;
    o.error = program + ": " + std::strerror(errno);
    return o;
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    o.error = std::string("fork: ") + std::strerror(errno);
    return o;
  }
  if (pid == 0) {
    // If we die (killed mid-upload), the tool goes too rather than running on unwatched.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out.w, STDOUT_FILENO);
    ::dup2(err.w, STDERR_FILENO);
    ::execv(program.c_str(), args.data());
    ::_exit(127);
  }
  o.started = true;
  ::close(out.w);
  out.w = -1;
  ::close(err.w);
  err.w = -1;

  std::string err_buf;
  auto flush_lines = [&](bool all) {
    for (std::size_t nl; (nl = err_buf.find('\n')) != std::string::npos;) {
      if (on_stderr_line) on_stderr_line(std::string_view(err_buf).substr(0, nl));
      err_buf.erase(0, nl + 1);
    }
    if (all && !err_buf.empty()) {
      if (on_stderr_line) on_stderr_line(err_buf);
      err_buf.clear();
    }
  };
  pollfd fds[2] = {{out.r, POLLIN, 0}, {err.r, POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;  // poll ignores negative descriptors; the Pipe closes it
        --open_fds;
        continue;
      }
      if (i == 0) {
        o.out.append(buf, static_cast<std::size_t>(n));
      } else {
        err_buf.append(buf, static_cast<std::size_t>(n));
        flush_lines(false);
      }
    }
  }
  flush_lines(true);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  o.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return o;
}

}  // namespace booktape
