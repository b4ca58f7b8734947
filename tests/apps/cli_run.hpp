#pragma once
// Runs the real booktape binary (BOOKTAPE_BINARY) with shell words and takes its stdout and exit
// code; stderr goes to the test log.
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace booktape::testing {

struct CliResult {
  int status = -1;
  std::string out;
};

// Runs a shell command line, capturing stdout; stderr is kept in the test log.
inline CliResult run_shell(const std::string& cmd) {
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs the booktape binary with `args` (shell words), capturing stdout; stderr is kept in the
// test log.
inline CliResult booktape(const std::string& args) {
  return run_shell(std::string(BOOKTAPE_BINARY) + " " + args);
}

}  // namespace booktape::testing
