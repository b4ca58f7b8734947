#pragma once
// One end-to-end measurement: the real `booktape sim` (child process, lowest priority) feeds the
// real `booktape record` (child process) on loopback at a set rate, plain ws or TLS; the harness
// waits until the recorder holds every frame the simulator sent, samples the recorder's threads
// and memory from /proc, stops it with SIGINT and reads its run manifest and the simulator's
// truth.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace booktape::perf {

struct Scenario {
  std::string name;
  double rate = 0;            // frames/s from the simulator (0: as fast as it can)
  std::uint32_t burst = 1;    // frames back to back per tick
  bool pregenerate = false;   // no per-frame generation on the simulator side
  std::string wait = "spin-then-park";
  std::string envelope = "full";
  double seconds = 10;        // generation time
  std::string cpus;           // --cpus net,book,archive; the simulator then runs on cpu 0
  unsigned min_cpus = 1;      // skipped on a machine with fewer
  unsigned spin_max_us = 0;   // the book thread's longest spin (0: the recorder's default)
  bool tls = false;           // wss:// with the simulator's generated CA as --ca-file
  int markets = 2;            // simulator series (each: the live window and the next: 4 tokens)
  int gzip_level = -1;        // the archive's gzip level (-1: the recorder's default)
  bool http = false;          // the operator listener on, /metrics and /status read every second
  // Live consumers (docs/CONSUMERS.md).
  bool books_only = false;           // --books-only: no archive stage (and no run manifest)
  std::string redis_url = {};        // publish books and trades here ("": no Redis)
  std::vector<std::string> alerts = {};  // alert rules ...
  std::string alert_webhook = {};    // ... POSTed here
  std::string pace = "steady";  // the simulator's --pace: steady ticks of `burst`, or poisson
  // Another booktape build for the recorder only (empty: the harness's own); the simulator stays
  // the harness's, so both builds get the same feed.
  std::string recorder = {};
};

// A latency summary as the recorder reports it (ns; count 0: none).
struct Latency {
  std::uint64_t count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
  std::string json;  // as reported
};

struct Result {
  bool ok = false;                 // both processes ran and reported
  std::string error;
  std::uint64_t sent = 0;          // the simulator's truth
  std::uint64_t archived = 0;      // frames in the sealed ws_raw files
  std::uint64_t ring_full_waits = 0, ring_high_water = 0, ring_bytes = 0;
  std::uint64_t tokens = 0;
  double gen_seconds = 0, drained_seconds = 0, cpu_seconds = 0, wall_seconds = 0;
  std::map<std::string, std::int64_t> cpu_ns_by_thread;  // at the moment everything was read
  std::uint64_t rss_bytes = 0, rss_peak_bytes = 0;       // VmRSS / VmHWM at that moment
  Latency read_to_book, read_to_archive;
  int exit_code = -1;
  // A window of steady generation, from a second after the recorder's first summary that counts
  // frames to 1.5 s before the generation time counted from it (that summary may come up to a
  // second after generation starts): the recorder's CPU per frame at that rate, without
  // start-up, draining and stop (runs shorter than 4 s have none).
  double window_seconds = 0;
  std::uint64_t window_frames = 0;
  std::map<std::string, std::int64_t> window_cpu_ns_by_thread;
  // What else ran: the 1-minute load average at the window's start, and the share of all cpus
  // busy during the window (every process, this recorder and the simulator included).
  double load_1m = 0;
  double machine_busy = 0;

  [[nodiscard]] long long loss() const noexcept {
    return static_cast<long long>(sent) - static_cast<long long>(archived);
  }
  // Frames per second the recorder kept up with: everything sent, over the generation time or
  // the time until the recorder held it all, whichever is longer (less start-up and the
  // harness's 0.1 s summaries).
  [[nodiscard]] double frames_per_second() const noexcept;
  [[nodiscard]] double cpu_ns_per_frame() const noexcept;
  // CPU ns per frame in the window (all threads, or those named `thread`; 0 without a window).
  [[nodiscard]] double window_cpu_ns_per_frame(const std::string& thread = "") const noexcept;
};

Result run_scenario(const Scenario& s, const std::filesystem::path& binary,
                    const std::filesystem::path& dir);

// The pieces run_scenario() is made of, shared with the soak (perf/soak.cpp).

// Writes DIR/record.yaml: every simulated token, archive under DIR/data, status to the log every
// 0.1 s, the scenario's envelope/wait/spin, the simulator's CA when `ca` is not empty.
std::filesystem::path write_record_config(const Scenario& s, const std::filesystem::path& dir,
                                          const std::string& ws_url, const std::string& http_url,
                                          const std::filesystem::path& ca);
// Polls the simulator's /control/status until it has sent everything; returns the frame count.
std::uint64_t wait_until_sent(const std::string& http_url, const std::filesystem::path& ca,
                              const std::string& name);
// The frame count of the recorder's last periodic summary in its log ("... | frames N").
std::uint64_t logged_frames(const std::filesystem::path& log);

}  // namespace booktape::perf
