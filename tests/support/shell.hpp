#pragma once
// Runs a shell command line for a test (a Debian tool: promtool, chromium, tmux) and takes its
// stdout and exit code; stderr goes to the test log unless the command redirects it.
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace booktape::testing {

struct ShellResult {
  int status = -1;  // the exit code; -1 if it could not run or died of a signal
  std::string out;
};

inline ShellResult shell(const std::string& command) {
  ShellResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// A tool the test needs, or a message saying which package brings it (the test then fails:
// scripts/install-deps.sh installs every one).
inline std::string missing_tool(const std::string& tool, const std::string& package) {
  if (shell("command -v " + tool + " >/dev/null 2>&1").status == 0) return "";
  return tool + " is not installed (Debian package " + package + "; scripts/install-deps.sh)";
}

}  // namespace booktape::testing
