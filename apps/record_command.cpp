// booktape record: the live recorder (docs/RECORD.md). Wiring only: flags and config in, the
// Recorder runs, signals ask it to stop.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <memory>

#include "apps/commands.hpp"
#include "apps/record_flags.hpp"
#include "io/record/recorder.hpp"

namespace booktape::apps {

namespace {

Recorder* g_recorder = nullptr;

extern "C" void on_stop_signal(int sig) {
  if (g_recorder != nullptr) g_recorder->request_stop();
  // A second Ctrl-C ends the process at once: open files stay ".open", and the next start seals
  // every complete block of them (io/archive/recovery.hpp).
  std::signal(sig, SIG_DFL);
}

int run_record(const RecordFlags& flags) {
  std::unique_ptr<Recorder> made;
  try {
    made = std::make_unique<Recorder>(effective_config(flags));
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "booktape record: %s\nSee config/record.example.yaml for every setting, "
                         "or try booktape demo first.\n", e.what());
    return 2;
  }
  Recorder& recorder = *made;
  g_recorder = &recorder;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  // A closed ssh session (or terminal) is a stop like any other, not a crash that leaves files
  // ".open" (docs/RECORD.md, "Stopping").
  std::signal(SIGHUP, on_stop_signal);
  // A peer gone mid-write is an error on that socket, never a signal that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  // A file size limit (ulimit -f, a service's LimitFSIZE) must be a write error the archive
  // retries and alarms on (EFBIG), not a signal that kills the recorder mid-block.
  std::signal(SIGXFSZ, SIG_IGN);
  const int code = recorder.run();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGHUP, SIG_DFL);
  g_recorder = nullptr;
  return code;
}

}  // namespace

Command add_record_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "record",
      "Record Polymarket's market channel raw-first: every websocket frame with its receive time "
      "into hourly gzip JSONL, live L2 books, REST /books checkpoints, manifests. By default the "
      "BTC up/down markets found through Gamma; --asset/--assets-file for given token ids; "
      "--all-active for every market. Runs until Ctrl-C, or --duration-seconds for a bounded "
      "run that also writes a report with the gate WS_RAW_SAMPLE_PASS or _NEEDS_REVIEW. "
      "SIGINT, SIGTERM and SIGHUP stop it cleanly. Exit code 0: ok (bounded: passed); 1: the "
      "gate needs review; 2: could not start (bad settings, the venue unreachable, another "
      "recorder on --out); 3: the archive is not clean (frames lost or unaccounted, files left "
      "open, write errors: see the log and the loss records).");
  const std::shared_ptr<RecordFlags> flags = add_record_flags(*cmd);
  return [flags] { return run_record(*flags); };
}

}  // namespace booktape::apps
