#pragma once
// For the deployment tests: the source tree they check, and shell commands with their exit code
// and everything they printed (stdout and stderr together), bounded by coreutils' timeout so a
// hung tool cannot hang CTest.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/support/fixture_files.hpp"  // read_file

namespace booktape::testing {

inline const std::filesystem::path kSourceDir = BOOKTAPE_SOURCE_DIR;

struct CommandResult {
  int code = -1;  // the exit code; 124 when the time ran out
  std::string output;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The default bound is far above what any of them takes on an idle machine (seconds): the
// machine running the tests may be very busy.
inline CommandResult run_command(const std::string& command, int timeout_seconds = 300) {
  CommandResult r;
  const std::string full =
      "timeout " + std::to_string(timeout_seconds) + " sh -c " + shell_quote(command) + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

}  // namespace booktape::testing
