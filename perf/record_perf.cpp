// End-to-end recorder performance: the real `booktape record` against the real `booktape sim`,
// two processes on loopback (perf/record_scenario.hpp), reported as markdown, JSON and SVG
// plots (perf/perf_report.hpp).
//
//   booktape_perf_record --sweep [--rates R,R,...] [--transports ws,tls]
//                        [--waits spin-then-park,busy-spin] [--envelope compact|full]
//                        [--paced-rates 1000,10000,50000] [--memory-markets 2,25,100]
//                        [--seconds S] [--out DIR] [--binary BOOKTAPE]
//                        [--baseline BOOKTAPE] [--repeat N]
//       offered rate up to saturation (a configuration stops after two points it could not
//       sustain), for every transport x wait strategy; then the paced runs: the recorder with
//       default settings fed as fast as possible (the saturated cost) and at each paced rate
//       with the simulator's --pace poisson, CPU per frame in a steady window, plotted in
//       cpu.svg; then RSS against tracked tokens. --baseline runs each paced point a second time
//       with another build's recorder (e.g. main's), back to back; --repeat runs the paced
//       points N times (medians in the report). `--rates "" --memory-markets ""` leaves only
//       the paced points.
//   booktape_perf_record --consumers [--rates R,...|max] [--seconds S] [--out DIR]
//       the live consumers (perf/consumers_perf.hpp): archive, +Redis, +alerts, books-only,
//       books-only +Redis on the same stream: CPU per frame and consumer-side latencies.
//   booktape_perf_record [--only NAME,NAME,...] [--seconds S] [--out DIR]
//       the fixed scenarios of docs/PERFORMANCE.md: max and 200k frames/s (full and compact
//       envelope; max-full-l1: the full envelope at gzip level 1), lat50k (spin-then-park and
//       busy-spin, unpinned and pinned; with the operator listener read every second: -http),
//       idle100.
//
// Each run writes DIR/<kind>-<time>/{report.md,report.json,throughput.svg,latency.svg}.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "perf/consumers_perf.hpp"
#include "perf/perf_report.hpp"
#include "perf/record_scenario.hpp"

namespace fs = std::filesystem;
using booktape::perf::Point;
using booktape::perf::Report;
using booktape::perf::Scenario;

namespace {

constexpr const char* kUsage =
    "usage: booktape_perf_record --sweep [--rates R,R,...] [--transports ws,tls]\n"
    "                            [--waits spin-then-park,busy-spin] [--envelope compact|full]\n"
    "                            [--paced-rates R,R,...] [--memory-markets M,M,...]\n"
    "                            [--seconds S] [--out DIR] [--binary BOOKTAPE]\n"
    "                            [--baseline BOOKTAPE] [--repeat N]\n"
    "       booktape_perf_record --consumers [--rates R,R,...] [--seconds S] [--out DIR]\n"
    "       booktape_perf_record [--only NAME,NAME,...] [--seconds S] [--out DIR]\n"
    "Starts booktape sim and booktape record on loopback and measures sustained frames/s with\n"
    "zero loss, CPU per frame by thread, read->book and read->archive latency, ring high-water\n"
    "and RSS; --sweep also measures CPU per frame at paced rates (Poisson arrivals, one frame\n"
    "per write) against the saturated cost (--baseline: also with another build's recorder,\n"
    "alternating; --repeat N: N rounds, medians); writes report.md, report.json and SVG plots to\n"
    "DIR (default perf/results).\n";

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string fmt_latency(std::uint64_t ns) {
  char b[32];
  if (ns < 1'000'000) std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
  else std::snprintf(b, sizeof b, "%.1f ms", static_cast<double>(ns) / 1e6);
  return b;
}

// Runs one point, prints a progress line, and returns it.
Point measure(const std::string& config, const Scenario& s, const fs::path& binary) {
  std::printf("%-32s %-14s offered %8.0f ... ", config.c_str(), s.name.c_str(), s.rate);
  std::fflush(stdout);
  Point p{config, s, booktape::perf::run_scenario(s, binary,
                                                  fs::temp_directory_path() / "booktape-perf")};
  const auto& r = p.result;
  if (!r.ok) {
    std::printf("FAILED: %s\n", r.error.c_str());
  } else {
    std::printf("%8.0f frames/s, loss %lld, %5.1f us CPU/frame (%5.2f in the steady window), "
                "book p99 %s, archive p99 %s%s\n",
                r.frames_per_second(), r.loss(), r.cpu_ns_per_frame() / 1e3,
                r.window_cpu_ns_per_frame() / 1e3,
                fmt_latency(r.read_to_book.p99).c_str(), fmt_latency(r.read_to_archive.p99).c_str(),
                p.sustained() ? "" : "  (not sustained)");
  }
  std::fflush(stdout);
  return p;
}

bool enough_cpus(const Scenario& s) {
  if (std::thread::hardware_concurrency() >= s.min_cpus) return true;
  std::printf("%-14s skipped: needs %u cpus, this machine has %u\n", s.name.c_str(), s.min_cpus,
              std::thread::hardware_concurrency());
  return false;
}

std::vector<Scenario> fixed_scenarios(double seconds) {
  return {
      {"max-full", 0, 64, true, "spin-then-park", "full", seconds, ""},
      {"max-compact", 0, 64, true, "spin-then-park", "compact", seconds, ""},
      // The full envelope with the fastest gzip level: how far a cheaper archive gets it.
      {"max-full-l1", 0, 64, true, "spin-then-park", "full", seconds, "", 1, 0, false, 2, 1},
      {"200k-full", 200'000, 20, true, "spin-then-park", "full", seconds, ""},
      {"200k-compact", 200'000, 20, true, "spin-then-park", "compact", seconds, ""},
      {"lat50k", 50'000, 1, false, "spin-then-park", "full", seconds, ""},
      // The same with the operator listener on and read every second (/metrics and /status):
      // what the operator surfaces cost the recorder. And 100 markets (400 tokens, compact
      // envelope: the full one repeats every token in every line) at 5 k frames/s, off and on.
      {"lat50k-http", 50'000, 1, false, "spin-then-park", "full", seconds, "", 1, 0, false, 2, -1,
       true},
      {"5k-m100", 5'000, 1, false, "spin-then-park", "compact", seconds, "", 1, 0, false, 100},
      {"5k-m100-http", 5'000, 1, false, "spin-then-park", "compact", seconds, "", 1, 0, false, 100,
       -1, true},
      // The book thread busy-spins (only the book stage spins: the archive sleeps between
      // batches): it holds a core for good, so it needs a second one for everything else.
      {"lat50k-busy", 50'000, 1, false, "busy-spin", "full", seconds, "", 2},
      {"lat50k-busy-pinned", 50'000, 1, false, "busy-spin", "full", seconds, "0,1,0", 2},
      // The book thread alone on cpu 1, so it may spin through the gaps of a 50 k frames/s feed.
      {"lat50k-pinned", 50'000, 1, false, "spin-then-park", "full", seconds, "0,1,0", 1, 2000},
      {"idle100", 100, 1, false, "spin-then-park", "full", std::max(seconds, 20.0), ""},
  };
}

}  // namespace

int main(int argc, char** argv) {
  bool sweep = false, consumers = false, rates_given = false;
  std::string only;
  double seconds = 10;
  fs::path out = "perf/results";
  std::vector<std::string> rates = {"10000",  "25000",  "50000",  "100000", "150000",
                                    "200000", "250000", "300000", "400000"};
  std::vector<std::string> transports = {"ws", "tls"};
  std::vector<std::string> waits = {"spin-then-park", "busy-spin"};
  std::vector<std::string> memory_markets = {"2", "25", "100"};
  std::vector<std::string> paced_rates = {"1000", "10000", "50000"};
  std::string envelope = "compact";
  std::string command = "build/release/perf/booktape_perf_record";
  fs::path binary = BOOKTAPE_BINARY;  // --binary: another build, to compare two in one session
  std::string baseline;  // --baseline: another build's recorder beside each paced point
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    command += " " + a;
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      command += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--sweep") sweep = true;
    else if (a == "--consumers") consumers = true;
    else if (a == "--only") only = value();
    else if (a == "--seconds") seconds = std::stod(value());
    else if (a == "--out") out = value();
    else if (a == "--rates") {
      rates = split(value());
      rates_given = true;
    }
    else if (a == "--transports") transports = split(value());
    else if (a == "--waits") waits = split(value());
    else if (a == "--envelope") envelope = value();
    else if (a == "--memory-markets") memory_markets = split(value());
    else if (a == "--paced-rates") paced_rates = split(value());
    else if (a == "--binary") binary = value();
    else if (a == "--baseline")
      baseline = value();
    else if (a == "--repeat") {
      const std::string v = value();
      repeat = std::atoi(v.c_str());
      if (repeat < 1 || v.find_first_not_of("0123456789") != std::string::npos) {
        std::fprintf(stderr, "--repeat needs a count of rounds, 1 or more (got %s)\n%s", v.c_str(),
                     kUsage);
        return 2;
      }
    } else {
      std::fprintf(stderr, "%s", kUsage);
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (consumers) {
    return booktape::perf::run_consumers(
        binary, rates_given ? rates : std::vector<std::string>{"20000", "max"}, seconds, out);
  }

  if (!baseline.empty() && ::access(baseline.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "--baseline needs an executable booktape binary (got %s)\n%s",
                 baseline.c_str(), kUsage);
    return 2;
  }

  const std::string stamp = booktape::format_utc(booktape::realtime_now()).substr(0, 19);
  Report report;
  report.command = command;

  if (sweep) {
    report.title = "booktape record: rate sweep (" + envelope + " envelope)";
    for (const std::string& transport : transports) {
      for (const std::string& wait : waits) {
        const std::string config = transport + ", " + wait;
        int misses = 0;
        for (const std::string& rate_text : rates) {
          Scenario s;
          s.rate = std::stod(rate_text);
          s.name = rate_text;
          // Bursts keep the simulator's pace cheap at high rates (a tick every 100 us at most):
          // at nice 19 beside the recorder it must not be what limits the sweep.
          s.burst = static_cast<std::uint32_t>(std::max(1.0, s.rate / 10'000));
          s.pregenerate = true;
          s.wait = wait;
          s.envelope = envelope;
          s.seconds = seconds;
          s.tls = transport == "tls";
          s.min_cpus = wait == "busy-spin" ? 2 : 1;
          if (!enough_cpus(s)) break;
          report.points.push_back(measure(config, s, binary));
          misses = report.points.back().sustained() ? 0 : misses + 1;
          if (misses == 2) break;  // saturated
        }
      }
    }
    // Real traffic: frames one per write at random times (issue 21). The recorder with default
    // settings (plain ws, spin-then-park), first fed as fast as the simulator sends (the
    // saturated per-frame cost, the goal's reference), then at each paced rate.
    if (!paced_rates.empty()) {
      Scenario sat;
      sat.name = "max";
      sat.rate = 0;
      sat.burst = 64;
      sat.pregenerate = true;
      sat.envelope = envelope;
      sat.seconds = seconds;
      std::vector<std::pair<std::string, Scenario>> paced = {
          {"ws, spin-then-park, saturated", sat}};
      for (const std::string& rate_text : paced_rates) {
        Scenario s = sat;
        s.name = rate_text + "-poisson";
        s.rate = std::stod(rate_text);
        s.burst = 1;
        s.pace = "poisson";
        paced.emplace_back("ws, spin-then-park, poisson", s);
      }
      // With a baseline, each point runs both builds back to back, the baseline first in every
      // other round, so that a change in the machine's load weighs on both alike.
      report.baseline = baseline;
      for (int round = 0; round < repeat; ++round) {
        for (const auto& [config, s] : paced) {
          const bool baseline_first = round % 2 == 1;
          for (int k = 0; k < (baseline.empty() ? 1 : 2); ++k) {
            const bool is_baseline = !baseline.empty() && (k == 0) == baseline_first;
            Scenario x = s;
            if (is_baseline) x.recorder = baseline;
            report.points.push_back(
                measure((is_baseline ? std::string(booktape::perf::kBaselinePrefix) : "") + config,
                        x, binary));
          }
        }
      }
    }
    for (const std::string& m : memory_markets) {
      Scenario s;
      s.name = m + "-markets";
      s.rate = 5'000;
      s.burst = 1;
      s.pregenerate = true;
      s.envelope = envelope;
      s.seconds = std::min(seconds, 5.0);
      s.markets = std::stoi(m);
      report.memory.push_back(measure("memory", s, binary));
    }
  } else {
    report.title = "booktape record: fixed scenarios";
    for (const Scenario& s : fixed_scenarios(seconds)) {
      const std::vector<std::string> names = split(only);
      const bool chosen = names.empty() || std::find(names.begin(), names.end(), s.name) != names.end();
      if (!chosen || !enough_cpus(s)) continue;
      report.points.push_back(measure(s.name, s, binary));
    }
  }
  const fs::path dir = out / ((sweep ? "sweep-" : "scenarios-") + stamp);
  booktape::perf::write_report(report, dir);
  std::printf("report: %s/report.md (also report.json, throughput.svg, latency.svg, cpu.svg)\n",
              dir.c_str());
  return 0;
}
