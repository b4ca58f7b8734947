#include "perf/record_scenario.hpp"

#include <simdjson.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "io/net/http_client.hpp"
#include "perf/perf_process.hpp"

namespace fs = std::filesystem;

namespace booktape::perf {
namespace {

// What an operator's tools do to a recorder with its listener on: Prometheus scraping /metrics
// and a page or `booktape top` reading /status, each once a second, until `stop`.
void scrape_until(std::uint16_t port, const std::atomic<bool>& stop) {
  HttpClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.timeout = std::chrono::seconds(2);
  HttpClient client(o);
  while (!stop.load()) {
    for (const char* target : {"/metrics", "/status?tokens=1000"}) {
      try {
        (void)client.get(target);
      } catch (const HttpError&) {
        // not up yet, or going: the next second tries again
      }
    }
    for (int i = 0; i < 10 && !stop.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Latency latency_of(simdjson::dom::element e) {
  Latency l;
  l.json = std::string(simdjson::minify(e));
  auto get = [&](const char* k) {
    std::uint64_t v = 0;
    return e[k].get_uint64().get(v) == simdjson::SUCCESS ? v : 0;
  };
  l.count = get("count");
  l.p50 = get("p50_ns");
  l.p90 = get("p90_ns");
  l.p99 = get("p99_ns");
  l.p999 = get("p999_ns");
  l.p9999 = get("p9999_ns");
  l.max = get("max_ns");
  return l;
}

}  // namespace

std::uint64_t logged_frames(const fs::path& log) {
  // Polled several times a second while an hour-long soak's log grows: read its last 64 KiB
  // (a summary line is ~200 bytes), and all of it only if no summary is there.
  constexpr std::streamoff kTail = 64 * 1024;
  const auto last_count = [&](std::streamoff from) -> std::optional<std::uint64_t> {
    std::ifstream in(log);
    in.seekg(from);
    std::string line, last;
    while (std::getline(in, line))
      if (line.find("| frames ") != std::string::npos) last = line;
    const std::size_t at = last.rfind("| frames ");
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(last.substr(at + 9));
  };
  std::error_code ec;
  const auto size = static_cast<std::streamoff>(fs::file_size(log, ec));
  if (ec) return 0;
  if (size > kTail) {
    if (const auto n = last_count(size - kTail)) return *n;
  }
  return last_count(0).value_or(0);
}

std::uint64_t wait_until_sent(const std::string& http, const fs::path& ca, const std::string& name) {
  HttpClientOptions ho;
  ho.base_url = http;
  if (!ca.empty()) ho.ca_file = ca;
  HttpClient client(ho);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    simdjson::dom::parser sp;
    simdjson::dom::element st;
    HttpResponse resp;
    try {
      resp = client.get("/control/status");
    } catch (const HttpError& e) {
      std::fprintf(stderr, "%s: simulator status: %s (retrying)\n", name.c_str(), e.what());
      continue;
    }
    if (sp.parse(resp.body).get(st)) continue;
    if (!bool(st["done"])) continue;
    std::uint64_t sent = 0;
    for (simdjson::dom::element c : simdjson::dom::array(st["connections"]))
      sent += std::uint64_t(c["frames"]);
    return sent;
  }
}

fs::path write_record_config(const Scenario& s, const fs::path& dir, const std::string& ws,
                             const std::string& http, const fs::path& ca) {
  // Every simulated token, so every frame the simulator generates is sent and recorded.
  const fs::path cfg = dir / "record.yaml";
  std::ofstream c(cfg);
  c << "ws_url: \"" << ws << "\"\nrest_url: \"" << http << "\"\ngamma_url: \"" << http
    << "\"\nall_active: true\nseries: []\nsubscribe_lead_seconds: 3600\n"
    << "out: \"" << (dir / "data").string() << "\"\nenvelope: \"" << s.envelope << "\"\n"
    << "rest_checkpoint_interval_seconds: 5\nstatus: \"log\"\n"
    << "status_interval_seconds: 0.1\nwait: \"" << s.wait << "\"\n"
    << "duration_seconds: 864000\n";  // a bounded run (gate, manifest), stopped early
  if (s.spin_max_us != 0) c << "spin_max_us: " << s.spin_max_us << "\n";
  if (s.gzip_level >= 0) c << "gzip_level: " << s.gzip_level << "\n";
  if (!ca.empty()) c << "ca_file: \"" << ca.string() << "\"\n";
  if (s.books_only) c << "books_only: true\n";
  if (!s.redis_url.empty()) c << "redis_url: \"" << s.redis_url << "\"\n";
  if (!s.alerts.empty()) {
    c << "alerts:\n";
    for (const std::string& a : s.alerts) c << "  - \"" << a << "\"\n";
    c << "alert_cooldown_seconds: 0\nalert_webhook: \"" << s.alert_webhook << "\"\n";
  }
  return cfg;
}

double Result::frames_per_second() const noexcept {
  return static_cast<double>(sent) / std::max(gen_seconds, drained_seconds - 0.3);
}

double Result::cpu_ns_per_frame() const noexcept {
  return sent ? cpu_seconds * 1e9 / static_cast<double>(sent) : 0;
}

double Result::window_cpu_ns_per_frame(const std::string& thread) const noexcept {
  if (window_frames == 0) return 0;
  std::int64_t ns = 0;
  for (const auto& [name, cpu] : window_cpu_ns_by_thread)
    if (thread.empty() || name == thread) ns += cpu;
  return static_cast<double>(ns) / static_cast<double>(window_frames);
}

namespace {

// The recorder's CPU by thread and frames read (its last periodic summary), at one moment.
struct Sample {
  MonoNanos at = 0;
  std::uint64_t frames = 0;
  std::map<std::string, std::int64_t> cpu;
  MachineCpu machine;
};

Sample sample(pid_t pid, const fs::path& log) {
  Sample s;
  s.cpu = cpu_by_thread(pid);
  s.frames = logged_frames(log);
  s.machine = machine_cpu();
  s.at = monotonic_now();
  return s;
}

void sleep_until(MonoNanos t) {
  const MonoNanos now = monotonic_now();
  if (t > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now));
}

// Fills the result's window (see Result): generation starts at the recorder's subscription; its
// first summary that counts frames may come up to a second later (seen at 1 k frames/s), so the
// window ends 1.5 s before the generation time counted from that summary, inside generation.
void measure_window(const Scenario& s, pid_t pid, const fs::path& log, Result& r) {
  const MonoNanos give_up = monotonic_now() + 30 * kNanosPerSecond;
  while (logged_frames(log) == 0 && monotonic_now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (s.seconds < 4 || logged_frames(log) == 0) return;
  const MonoNanos first = monotonic_now();
  sleep_until(first + kNanosPerSecond);
  r.load_1m = load_average_1m();
  const Sample a = sample(pid, log);
  sleep_until(first + static_cast<MonoNanos>((s.seconds - 1.5) * 1e9));
  const Sample b = sample(pid, log);
  r.window_seconds = static_cast<double>(b.at - a.at) / 1e9;
  r.window_frames = b.frames - a.frames;
  if (b.machine.total > a.machine.total)
    r.machine_busy = static_cast<double>(b.machine.busy - a.machine.busy) /
                     static_cast<double>(b.machine.total - a.machine.total);
  for (const auto& [name, ns] : b.cpu) {
    const auto before = a.cpu.find(name);
    r.window_cpu_ns_by_thread[name] = ns - (before == a.cpu.end() ? 0 : before->second);
  }
}

}  // namespace

Result run_scenario(const Scenario& s, const fs::path& binary, const fs::path& dir) {
  Result r;
  r.gen_seconds = s.seconds;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path truth = dir / "truth.json";
  std::vector<std::string> sim_args = {
      binary.string(), "sim", "--port", "0", "--markets", std::to_string(s.markets), "--rate",
      std::to_string(s.rate), "--burst", std::to_string(s.burst), "--duration-seconds",
      std::to_string(s.seconds), "--linger-seconds", "30", "--truth", truth.string()};
  if (s.pregenerate) sim_args.insert(sim_args.end(), {"--pregenerate", "50000", "--no-digest"});
  if (s.pace != "steady") sim_args.insert(sim_args.end(), {"--pace", s.pace});
  if (s.tls) sim_args.insert(sim_args.end(), {"--tls", "--tls-dir", (dir / "tls").string()});
  // The simulator stands in for a remote venue: it must not compete with the recorder as an
  // equal, so it runs at the lowest priority (and, for pinned runs, on cpu 0 only).
  sim_args.insert(sim_args.begin(), {"/usr/bin/nice", "-n", "19"});
  if (!s.cpus.empty()) sim_args.insert(sim_args.begin(), {"/usr/bin/taskset", "-c", "0"});
  Proc sim(sim_args, dir / "sim.log", true);
  simdjson::dom::parser p;
  simdjson::dom::element ready;
  const std::string line = sim.line(15'000);
  if (p.parse(line).get(ready)) {
    r.error = "the simulator did not start (" + line + "), see " + (dir / "sim.log").string();
    return r;
  }
  const std::string http{std::string_view(ready["http_url"])};
  const std::string ws{std::string_view(ready["ws_url"])};
  const fs::path ca{std::string(std::string_view(ready["ca_file"]))};
  const fs::path cfg = write_record_config(s, dir, ws, http, s.tls ? ca : fs::path());
  std::vector<std::string> rec_args = {s.recorder.empty() ? binary.string() : s.recorder, "record",
                                       "--config", cfg.string()};
  if (!s.cpus.empty()) rec_args.insert(rec_args.end(), {"--cpus", s.cpus});
  const std::uint16_t http_port = s.http ? free_port() : 0;
  if (s.http) rec_args.insert(rec_args.end(), {"--http", "127.0.0.1:" + std::to_string(http_port)});
  const MonoNanos t0 = monotonic_now();
  Proc rec(rec_args, dir / "record.log", false);
  std::atomic<bool> scraping_done{false};
  std::thread scraper;
  if (s.http) scraper = std::thread([&] { scrape_until(http_port, scraping_done); });
  measure_window(s, rec.pid(), dir / "record.log", r);
  // Wait for the simulator to finish generating, then for the recorder to hold every frame it
  // sent (its periodic summary says how many it read), then stop it like a user would.
  const std::uint64_t sent = wait_until_sent(http, s.tls ? ca : fs::path(), s.name);
  const MonoNanos deadline = monotonic_now() + 120 * kNanosPerSecond;
  while (logged_frames(dir / "record.log") < sent && monotonic_now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  r.drained_seconds = static_cast<double>(monotonic_now() - t0) / 1e9;
  r.cpu_ns_by_thread = cpu_by_thread(rec.pid());
  r.rss_bytes = proc_status_bytes(rec.pid(), "VmRSS");
  r.rss_peak_bytes = proc_status_bytes(rec.pid(), "VmHWM");
  scraping_done.store(true);
  if (scraper.joinable()) scraper.join();
  rec.signal(SIGINT);
  std::int64_t cpu = 0;
  r.exit_code = rec.wait(cpu);
  r.wall_seconds = static_cast<double>(monotonic_now() - t0) / 1e9;
  r.cpu_seconds = static_cast<double>(cpu) / 1e9;
  sim.signal(SIGTERM);
  std::int64_t sim_cpu = 0;
  sim.wait(sim_cpu);

  simdjson::dom::element t, m;
  if (p.load(truth.string()).get(t) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : simdjson::dom::array(t["connections"]))
      r.sent += std::uint64_t(c["frames"]);
  }
  if (s.books_only) {  // no archive, no manifest: what it read is in its last summary line
    r.archived = logged_frames(dir / "record.log");
    r.ok = r.exit_code >= 0;
    if (!r.ok) r.error = "the recorder did not exit cleanly, see " + (dir / "record.log").string();
    return r;
  }
  simdjson::dom::parser p2;
  const fs::path manifest = dir / "data" / "manifests" / "checkpoint_010b_ws_raw_sample.json";
  if (p2.load(manifest.string()).get(m) != simdjson::SUCCESS) {
    r.error = "no run manifest at " + manifest.string() + ", see " + (dir / "record.log").string();
    return r;
  }
  const simdjson::dom::element w = m["websocket"];
  r.ring_full_waits = w["ring_full_waits"];
  if (w["ring_high_water"].get_uint64().get(r.ring_high_water)) r.ring_high_water = 0;
  if (w["ring_bytes"].get_uint64().get(r.ring_bytes)) r.ring_bytes = 0;
  r.tokens = m["tokens"];
  r.read_to_book = latency_of(w["read_to_book"]);
  r.read_to_archive = latency_of(w["read_to_archive"]);
  for (simdjson::dom::element f : simdjson::dom::array(m["files"])) {
    const std::string_view path = f["path"];
    if (path.find("/ws_raw/") != std::string_view::npos) r.archived += std::uint64_t(f["frames"]);
  }
  r.ok = r.exit_code >= 0;
  if (!r.ok) r.error = "the recorder did not exit cleanly, see " + (dir / "record.log").string();
  return r;
}

}  // namespace booktape::perf
