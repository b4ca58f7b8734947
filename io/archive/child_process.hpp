#pragma once
// Runs a tool (rclone) as a child process with an explicit argv, never through a shell: no word
// splitting, no quoting, no injection through a path or a remote name. Its stdout is collected,
// its stderr handed over line by line as it comes, so progress and errors can be shown while it
// runs. The environment is inherited (RCLONE_CONFIG and the like stay the user's). The child
// gets SIGTERM if this process dies, so a killed upload leaves no rclone running on its own.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace booktape {

struct ChildOutcome {
  bool started = false;    // false: the program could not be run (`error` says why, e.g. ENOENT)
  bool not_found = false;  // the program is not on PATH (or not executable)
  int exit_code = -1;      // its exit status, or 128 + signal
  std::string out;         // everything it wrote to stdout
  std::string error;
};

// `argv[0]` is looked up on PATH. `on_stderr_line` gets each stderr line without its newline.
ChildOutcome run_child(const std::vector<std::string>& argv,
                       const std::function<void(std::string_view)>& on_stderr_line);

}  // namespace booktape
