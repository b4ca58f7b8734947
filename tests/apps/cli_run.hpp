#pragma once
// Runs the real booktape binary (BOOKTAPE_BINARY) with shell words and takes its stdout and exit
// code; stderr goes to the test log.
#include <string>

#include "tests/support/shell.hpp"

namespace booktape::testing {

using CliResult = ShellResult;

// Runs the booktape binary with `args` (shell words), capturing stdout; stderr is kept in the
// test log.
inline CliResult booktape(const std::string& args) {
  return shell(std::string(BOOKTAPE_BINARY) + " " + args);
}

}  // namespace booktape::testing
