// End-to-end recorder performance (issue 4): the real `booktape record` against the real
// `booktape sim`, two processes on loopback (plain ws), with the full or compact envelope. For
// each scenario it reports what the simulator sent, what the archive holds (zero loss means
// equal), the recorder process's CPU per frame (getrusage of the child), and the latencies the
// recorder measured itself: read completed -> book updated, and -> frame in a written block.
//
//   booktape_perf_record [--only NAME] [--seconds S] [--out DIR]
//
// Scenarios: max (as fast as the simulator sends) and 200k frames/s, each with the full and the
// compact envelope; lat50k (spin-then-park and busy-spin, each unpinned and pinned);
// idle100 (CPU at 100 frames/s). Results also go to DIR/record-perf-<time>.json.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "io/http_client.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace {

// A child process; stdout readable line by line when asked, else to a log file.
struct Proc {
  pid_t pid = -1;
  int out = -1;
  std::string buf;

  Proc(const std::vector<std::string>& argv, const fs::path& log, bool pipe_stdout) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int fds[2] = {-1, -1};
    if (pipe_stdout && ::pipe2(fds, O_CLOEXEC) == 0) {
      posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (fds[1] >= 0) ::close(fds[1]);
    out = fds[0];
  }
  ~Proc() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out >= 0) ::close(out);
  }
  std::string line(int timeout_ms) {
    for (;;) {
      const std::size_t nl = buf.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return l;
      }
      pollfd p{out, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return {};
      char tmp[4096];
      const ssize_t n = ::read(out, tmp, sizeof tmp);
      if (n <= 0) return {};
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
  // Waits; returns the exit status and the child's CPU time in ns.
  int wait(std::int64_t& cpu_ns) {
    int status = 0;
    rusage ru{};
    ::wait4(pid, &status, 0, &ru);
    pid = -1;
    cpu_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1'000'000'000LL +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1'000LL;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

struct Scenario {
  std::string name;
  double rate = 0;          // frames/s from the simulator (0: as fast as it can)
  std::uint32_t burst = 1;
  bool pregenerate = false; // no per-frame generation on the simulator side
  std::string wait = "spin-then-park";
  std::string envelope = "full";
  double seconds = 10;
  std::string cpus;         // --cpus net,book,archive; the simulator then runs on cpu 0
  unsigned min_cpus = 1;    // skipped on a machine with fewer
  unsigned spin_max_us = 0; // the book thread's longest spin (0: the recorder's default)
};

struct Result {
  double drained_seconds = 0;  // recorder start -> it held every frame sent
  std::uint64_t sent = 0, archived = 0, recorder_frames = 0, ring_full_waits = 0;
  double gen_seconds = 0, cpu_seconds = 0, wall_seconds = 0;
  std::string read_to_book, read_to_archive;
  int exit_code = -1;
};

// The frame count of the recorder's last periodic summary ("... | frames N").
std::uint64_t logged_frames(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find("| frames ") != std::string::npos) last = line;
  const std::size_t at = last.rfind("| frames ");
  return at == std::string::npos ? 0 : std::stoull(last.substr(at + 9));
}

std::string json_field(const simdjson::dom::element& e, const char* k) {
  return std::string(simdjson::minify(e[k]));
}

Result run(const Scenario& s, const fs::path& binary, const fs::path& dir) {
  Result r;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path truth = dir / "truth.json";
  std::vector<std::string> sim_args = {binary.string(), "sim", "--port", "0", "--markets", "2",
                                       "--rate", std::to_string(s.rate), "--burst",
                                       std::to_string(s.burst), "--duration-seconds",
                                       std::to_string(s.seconds), "--linger-seconds", "30",
                                       "--truth", truth.string()};
  if (s.pregenerate) sim_args.insert(sim_args.end(), {"--pregenerate", "50000", "--no-digest"});
  // The simulator stands in for a remote venue: it must not compete with the recorder as an
  // equal, so it runs at the lowest priority (and, for pinned runs, on cpu 0 only).
  sim_args.insert(sim_args.begin(), {"/usr/bin/nice", "-n", "19"});
  if (!s.cpus.empty()) sim_args.insert(sim_args.begin(), {"/usr/bin/taskset", "-c", "0"});
  Proc sim(sim_args, dir / "sim.log", true);
  simdjson::dom::parser p;
  simdjson::dom::element ready;
  const std::string line = sim.line(15'000);
  if (p.parse(line).get(ready)) {
    std::fprintf(stderr, "%s: the simulator did not start (%s)\n", s.name.c_str(), line.c_str());
    return r;
  }
  const std::string http{std::string_view(ready["http_url"])};
  const std::string ws{std::string_view(ready["ws_url"])};
  // Every simulated token, so every frame the simulator generates is sent and recorded.
  const fs::path cfg = dir / "record.yaml";
  std::ofstream(cfg) << "ws_url: \"" << ws << "\"\nrest_url: \"" << http << "\"\ngamma_url: \""
                     << http << "\"\nall_active: true\nseries: []\nsubscribe_lead_seconds: 3600\n"
                     << "out: \"" << (dir / "data").string() << "\"\nenvelope: \"" << s.envelope << "\"\n"
                     << "rest_checkpoint_interval_seconds: 5\nstatus: \"log\"\n"
                     << "status_interval_seconds: 0.1\nwait: \"" << s.wait
                     << "\"\nduration_seconds: 3600\n";  // a bounded run (gate, manifest), stopped early
  if (s.spin_max_us != 0) std::ofstream(cfg, std::ios::app) << "spin_max_us: " << s.spin_max_us << "\n";
  std::vector<std::string> rec_args = {binary.string(), "record", "--config", cfg.string()};
  if (!s.cpus.empty()) rec_args.insert(rec_args.end(), {"--cpus", s.cpus});
  const booktape::MonoNanos t0 = booktape::monotonic_now();
  Proc rec(rec_args, dir / "record.log", false);
  // Wait for the simulator to finish generating, then for the recorder to hold every frame it
  // sent (its periodic summary says how many it read), then stop it like a user would.
  booktape::HttpClientOptions ho;
  ho.base_url = http;
  booktape::HttpClient client(ho);
  std::uint64_t sent = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    simdjson::dom::parser sp;
    simdjson::dom::element st;
    booktape::HttpResponse resp;
    try {
      resp = client.get("/control/status");
    } catch (const booktape::HttpError& e) {
      std::fprintf(stderr, "%s: simulator status: %s (retrying)\n", s.name.c_str(), e.what());
      continue;
    }
    if (sp.parse(resp.body).get(st)) continue;
    if (!bool(st["done"])) continue;
    sent = 0;
    for (simdjson::dom::element c : simdjson::dom::array(st["connections"])) sent += std::uint64_t(c["frames"]);
    break;
  }
  const booktape::MonoNanos deadline = booktape::monotonic_now() + 120 * booktape::kNanosPerSecond;
  while (logged_frames(dir / "record.log") < sent && booktape::monotonic_now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  r.drained_seconds = static_cast<double>(booktape::monotonic_now() - t0) / 1e9;
  ::kill(rec.pid, SIGINT);
  std::int64_t cpu = 0;
  r.exit_code = rec.wait(cpu);
  r.wall_seconds = static_cast<double>(booktape::monotonic_now() - t0) / 1e9;
  r.cpu_seconds = static_cast<double>(cpu) / 1e9;
  ::kill(sim.pid, SIGTERM);
  std::int64_t sim_cpu = 0;
  sim.wait(sim_cpu);

  simdjson::dom::element t, m;
  if (p.load(truth.string()).get(t) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : simdjson::dom::array(t["connections"])) r.sent += std::uint64_t(c["frames"]);
  }
  simdjson::dom::parser p2;
  if (p2.load((dir / "data" / "manifests" / "checkpoint_010b_ws_raw_sample.json").string()).get(m) ==
      simdjson::SUCCESS) {
    r.recorder_frames = m["websocket"]["frames"];
    r.ring_full_waits = m["websocket"]["ring_full_waits"];
    r.read_to_book = json_field(m["websocket"], "read_to_book");
    r.read_to_archive = json_field(m["websocket"], "read_to_archive");
    for (simdjson::dom::element f : simdjson::dom::array(m["files"])) {
      const std::string_view path = f["path"];
      if (path.find("/ws_raw/") != std::string_view::npos) r.archived += std::uint64_t(f["frames"]);
    }
  }
  r.gen_seconds = s.seconds;
  return r;
}

std::string pct(const std::string& summary, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  std::uint64_t v = 0;
  if (p.parse(summary).get(e) || e[key].get_uint64().get(v)) return "-";
  char b[32];
  if (v < 1'000'000) std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(v) / 1e3);
  else std::snprintf(b, sizeof b, "%.1f ms", static_cast<double>(v) / 1e6);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  double seconds = 10;
  fs::path out = "perf/results";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else {
      std::fprintf(stderr, "usage: booktape_perf_record [--only NAME] [--seconds S] [--out DIR]\n");
      return 2;
    }
  }
  const fs::path binary = fs::path(BOOKTAPE_BINARY);
  std::vector<Scenario> all = {
      {"max-full", 0, 64, true, "spin-then-park", "full", seconds, ""},
      {"max-compact", 0, 64, true, "spin-then-park", "compact", seconds, ""},
      {"200k-full", 200'000, 20, true, "spin-then-park", "full", seconds, ""},
      {"200k-compact", 200'000, 20, true, "spin-then-park", "compact", seconds, ""},
      {"lat50k", 50'000, 1, false, "spin-then-park", "full", seconds, ""},
      // The book thread busy-spins (only the book stage spins: the archive sleeps between
      // batches): it holds a core for good, so it needs a second one for everything else.
      {"lat50k-busy", 50'000, 1, false, "busy-spin", "full", seconds, "", 2},
      {"lat50k-busy-pinned", 50'000, 1, false, "busy-spin", "full", seconds, "0,1,0", 2},
      // The book thread alone on cpu 1, so it may spin through the gaps of a 50 k frames/s feed.
      {"lat50k-pinned", 50'000, 1, false, "spin-then-park", "full", seconds, "0,1,0", 1, 2000},
      {"idle100", 100, 1, false, "spin-then-park", "full", std::max(seconds, 20.0), ""},
  };
  fs::create_directories(out);
  const std::string stamp = booktape::format_utc(booktape::realtime_now()).substr(0, 19);
  std::string json = "[";
  std::printf("%-12s %10s %10s %6s %12s %10s %8s %11s %11s %11s %11s %11s\n", "scenario", "sent",
              "archived", "loss", "frames/s", "cpu ns/fr", "cpu %", "book p50", "book p99",
              "book p99.9", "arch p50", "arch p99");
  for (const Scenario& s : all) {
    if (!only.empty() && s.name != only) continue;
    if (std::thread::hardware_concurrency() < s.min_cpus) {
      std::printf("%-12s skipped: needs %u cpus, this machine has %u\n", s.name.c_str(), s.min_cpus,
                  std::thread::hardware_concurrency());
      continue;
    }
    const Result r = run(s, binary, fs::temp_directory_path() / ("booktape-perf-" + s.name));
    // Sustained: every frame was in the recorder within a moment of the simulator's last one.
    const double fps = static_cast<double>(r.sent) / std::max(r.gen_seconds, r.drained_seconds - 0.3);  // start-up and the 0.1 s summaries
    const double ns_per_frame = r.sent ? r.cpu_seconds * 1e9 / static_cast<double>(r.sent) : 0;
    const double cpu_pct = 100.0 * r.cpu_seconds / r.wall_seconds;
    const long long loss = static_cast<long long>(r.sent) - static_cast<long long>(r.archived);
    std::printf("%-12s %10llu %10llu %6lld %12.0f %10.0f %7.2f%% %11s %11s %11s %11s %11s%s\n",
                s.name.c_str(), static_cast<unsigned long long>(r.sent),
                static_cast<unsigned long long>(r.archived), loss, fps, ns_per_frame, cpu_pct,
                pct(r.read_to_book, "p50_ns").c_str(), pct(r.read_to_book, "p99_ns").c_str(),
                pct(r.read_to_book, "p999_ns").c_str(), pct(r.read_to_archive, "p50_ns").c_str(),
                pct(r.read_to_archive, "p99_ns").c_str(),
                r.ring_full_waits ? "  (ring full waits)" : "");
    std::fflush(stdout);
    char b[512];
    std::snprintf(b, sizeof b,
                  "%s{\"scenario\":\"%s\",\"rate\":%.0f,\"wait\":\"%s\",\"spin_max_us\":%u,\"cpus\":\"%s\",\"envelope\":\"%s\",\"seconds\":%.1f,\"sent\":%llu,"
                  "\"archived\":%llu,\"frames_per_s\":%.0f,\"cpu_seconds\":%.3f,\"wall_seconds\":%.3f,"
                  "\"cpu_ns_per_frame\":%.0f,\"ring_full_waits\":%llu,\"exit_code\":%d,",
                  json.size() > 1 ? "," : "", s.name.c_str(), s.rate, s.wait.c_str(), s.spin_max_us, s.cpus.c_str(), s.envelope.c_str(), s.seconds,
                  static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.archived),
                  fps, r.cpu_seconds, r.wall_seconds, ns_per_frame,
                  static_cast<unsigned long long>(r.ring_full_waits), r.exit_code);
    json += b;
    json += "\"read_to_book\":" + (r.read_to_book.empty() ? "null" : r.read_to_book) +
            ",\"read_to_archive\":" + (r.read_to_archive.empty() ? "null" : r.read_to_archive) + "}";
  }
  json += "]\n";
  const fs::path file = out / ("record-perf-" + stamp + ".json");
  std::ofstream(file) << json;
  std::printf("results: %s\n", file.c_str());
  return 0;
}
