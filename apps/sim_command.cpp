// booktape sim: a local Polymarket stand-in (docs/SIM.md).
#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "apps/commands.hpp"
#include "codecs/envelope.hpp"
#include "io/sim/server.hpp"

namespace booktape::apps {

namespace {

struct SimArgs {
  SimServerOptions server;
  std::string levels = "10:60";
  double window_seconds = 300;
  double duration_seconds = 0;
  double linger_seconds = 1;
  std::string speed = "asap";
  std::string pace = "steady";
  std::vector<std::string> faults;
  std::vector<std::string> replay;
  std::string truth, truth_books;
  bool print_ca = false;
  bool no_wait = false;
  bool no_digest = false;
};

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();  // a small file fails only here (a full disk)
  return static_cast<bool>(out);
}

// The numbers that would otherwise loop forever, never stop, or be cut silently.
const char* bad_numbers(const SimArgs& a) {
  const SimServerOptions& o = a.server;
  if (o.market.lanes < 1 || o.market.lanes > 1'000) return "--markets must be 1 to 1000";
  if (!std::isfinite(a.window_seconds) || a.window_seconds < 1 ||
      a.window_seconds != std::floor(a.window_seconds) || a.window_seconds > 86'400.0 * 366)
    return "--window-seconds must be a whole number of seconds, at least 1";
  if (!std::isfinite(a.duration_seconds) || a.duration_seconds < 0 || a.duration_seconds > 1e9)
    return "--duration-seconds must be 0 (no limit) or more";
  if (!std::isfinite(o.rate) || o.rate < 0) return "--rate must be 0 (as fast as possible) or more";
  if (!std::isfinite(a.linger_seconds) || a.linger_seconds < 0 || a.linger_seconds > 3'600)
    return "--linger-seconds must be 0 to 3600";
  if (o.gamma_markets > 1'000'000) return "--gamma-markets must be at most 1000000";
  if (o.market.tick_snapshot_percent < 0 || o.market.tick_snapshot_percent > 100)
    return "--tick-snapshots must be a percentage, 0 to 100";
  if (o.pace == Pace::kPoisson && (o.rate <= 0 || o.burst != 1 || !a.replay.empty()))
    return "--pace poisson needs --rate above 0, sends one frame at a time (no --burst), and "
           "is for generated frames (--speed paces a replay)";
  if (o.tls_cert.empty() != o.tls_key.empty()) return "--cert and --key go together";
  if (!o.tls_cert.empty() && !o.tls) return "--cert and --key need --tls";
  return nullptr;
}

int run_sim(SimArgs& a) {
  SimServerOptions& o = a.server;
  if (!parse_pace(a.pace, o.pace)) {
    std::fprintf(stderr, "booktape sim: --pace is steady or poisson\n");
    return 2;
  }
  if (const char* why = bad_numbers(a)) {
    std::fprintf(stderr, "booktape sim: %s\n", why);
    return 2;
  }
  unsigned lo = 0, hi = 0;
  char rest = 0;
  if (std::sscanf(a.levels.c_str(), "%u:%u%c", &lo, &hi, &rest) != 2 || lo == 0 || hi < lo ||
      hi > 500) {
    std::fprintf(stderr, "booktape sim: --levels wants MIN:MAX, e.g. 10:60\n");
    return 2;
  }
  o.market.min_levels = static_cast<int>(lo);
  o.market.max_levels = static_cast<int>(hi);
  o.market.window_scale_seconds = static_cast<std::int64_t>(a.window_seconds);
  o.duration_ns = static_cast<std::int64_t>(a.duration_seconds * 1e9);
  o.wait_for_subscriber = !a.no_wait;
  o.digest = !a.no_digest;
  for (const std::string& p : a.replay) o.replay.emplace_back(p);
  if (a.speed == "asap") {
    o.replay_speed = 0;
  } else if (a.speed == "recorded") {
    o.replay_speed = 1;
  } else {
    std::size_t used = 0;
    try {
      o.replay_speed = std::stod(a.speed, &used);
    } catch (...) {
      used = 0;
    }
    if (used != a.speed.size() || !std::isfinite(o.replay_speed) || o.replay_speed <= 0) {
      std::fprintf(stderr, "booktape sim: --speed is asap, recorded, or a multiple like 10\n");
      return 2;
    }
  }
  for (const std::string& f : a.faults) {
    ScheduledFault sf;
    std::string error;
    if (!parse_scheduled_fault(f, sf, error)) {
      std::fprintf(stderr, "booktape sim: --fault %s: %s\n", f.c_str(), error.c_str());
      return 2;
    }
    o.faults.push_back(sf);
  }
  std::sort(o.faults.begin(), o.faults.end(),
            [](const ScheduledFault& x, const ScheduledFault& y) { return x.after_ns < y.after_ns; });

  // SIGINT/SIGTERM are taken by a waiting thread that stops the simulator cleanly.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SimServer sim(o);
  sim.start();
  const bool exits = o.max_frames > 0 || o.duration_ns > 0 || !o.replay.empty();
  sim.on_generation_done = [&sim, &a, exits] {
    std::fprintf(stderr, "booktape sim: generation done (%llu frames)\n",
                 static_cast<unsigned long long>(sim.frames_generated()));
    if (!exits) return;
    std::thread([&sim, linger = a.linger_seconds] {
      std::this_thread::sleep_for(std::chrono::duration<double>(linger));
      sim.stop();
    }).detach();
  };
  std::string ready = "{\"ws_url\":";
  append_json_string(ready, sim.ws_url());
  ready += ",\"http_url\":";
  append_json_string(ready, sim.http_url());
  ready += ",\"port\":" + std::to_string(sim.port()) + ",\"ca_file\":";
  append_json_string(ready, sim.ca_file().string());
  ready += "}";
  std::printf("%s\n", ready.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "booktape sim: serving %s and %s%s%s\n", sim.ws_url().c_str(),
               sim.http_url().c_str(), sim.ca_file().empty() ? "" : "; trust the CA in ",
               sim.ca_file().c_str());
  if (a.print_ca && !sim.ca_file().empty()) {
    std::ifstream ca(sim.ca_file());
    std::fputs(std::string(std::istreambuf_iterator<char>(ca), {}).c_str(), stderr);
  }

  std::thread waiter([&sim, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != 0) sim.stop();
  });
  sim.run();
  // Wake the waiter if the simulator stopped by itself.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();

  int rc = 0;
  if (!a.truth.empty()) {
    if (!write_file(a.truth, sim.truth_json())) {
      std::fprintf(stderr, "booktape sim: cannot write %s\n", a.truth.c_str());
      rc = 1;
    }
  }
  if (!a.truth_books.empty() && !write_file(a.truth_books, sim.books_json())) {
    std::fprintf(stderr, "booktape sim: cannot write %s\n", a.truth_books.c_str());
    rc = 1;
  }
  std::fprintf(stderr, "booktape sim: stopped after %llu frames\n",
               static_cast<unsigned long long>(sim.frames_generated()));
  return rc;
}

}  // namespace

Command add_sim_command(CLI::App& app) {
  auto a = std::make_shared<SimArgs>();
  SimServerOptions& o = a->server;
  CLI::App* cmd = app.add_subcommand(
      "sim",
      "Run a local Polymarket stand-in on 127.0.0.1: the market websocket (/ws/market), CLOB REST\n"
      "(/book, /books) and Gamma (/markets, /events), fed by a seeded generator or by recorded\n"
      "frames, with faults on command. Prints one JSON line with its URLs when ready.");
  cmd->add_option("--bind", o.bind_address, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_flag("--tls", o.tls, "Serve wss:// and https:// with a generated certificate");
  cmd->add_option("--tls-dir", o.tls_dir, "Where the generated CA and certificate go");
  cmd->add_option("--cert", o.tls_cert, "Use this certificate chain (PEM) instead");
  cmd->add_option("--key", o.tls_key, "... and this private key (PEM)");
  cmd->add_flag("--print-ca", a->print_ca, "Print the CA certificate a client must trust");
  cmd->add_option("--seed", o.market.seed, "Generator seed")->capture_default_str();
  cmd->add_option("--markets", o.market.lanes,
                  "Rolling up/down series (each: the live window and the next one)")
      ->capture_default_str();
  cmd->add_option("--window-seconds", a->window_seconds,
                  "Length of a 5-minute series' window (15-minute series: 3x); shrink to see rolls")
      ->capture_default_str();
  cmd->add_option("--levels", a->levels, "Book depth a side, MIN:MAX")->capture_default_str();
  cmd->add_option("--tick-snapshots", o.market.tick_snapshot_percent,
                  "Percent of tick size changes followed by fresh books; the others move the\n"
                  "books by price changes alone, as the venue may (0: never a snapshot)")
      ->capture_default_str();
  cmd->add_option("--rate", o.rate, "Frames per second (0: as fast as possible)")
      ->capture_default_str();
  cmd->add_option("--burst", o.burst, "Frames sent back to back per tick")->capture_default_str();
  cmd->add_option("--pace", a->pace,
                  "steady: --burst frames per tick at --rate; poisson: one frame per write at\n"
                  "random (exponential) gaps averaging --rate, as a live venue sends them")
      ->capture_default_str();
  cmd->add_option("--frames", o.max_frames,
                  "Stop after this many frames (or a few more: a market step is not cut), then exit");
  cmd->add_option("--duration-seconds", a->duration_seconds, "Stop after this long, then exit");
  cmd->add_option("--pregenerate", o.pregenerate,
                  "Build this many frames first and send them with no per-frame work");
  cmd->add_flag("--no-wait", a->no_wait, "Generate even before anyone subscribed");
  cmd->add_option("--asset-limit", o.assets_per_connection,
                  "Assets served per connection (the venue's ~500)")
      ->capture_default_str();
  cmd->add_option("--rest-limit", o.rest_limit_per_10s, "REST requests per 10 s before 429s");
  cmd->add_option("--gamma-markets", o.gamma_markets,
                  "Also list this many markets on Gamma only (the venue's ~47,000 active), in its\n"
                  "2026 shapes: 1 in 10 Protocol V2, some hydrating or unusable (docs/SIM.md)");
  cmd->add_option("--gamma-limit", o.gamma_limit_per_10s, "Gamma requests per 10 s before 429s");
  cmd->add_flag("--no-digest", a->no_digest, "Skip the payload digests in the truth (faster)");
  cmd->add_option("--replay", a->replay, "Send these recorded frames (archives or .jsonl[.gz])");
  cmd->add_option("--speed", a->speed, "Replay pace: asap, recorded, or a multiple such as 10")
      ->capture_default_str();
  cmd->add_option("--fault", a->faults,
                  "Inject a fault: kind@seconds[:arg] after the first subscription, e.g. drop@5,\n"
                  "stall@3, oversized@2:20000000, rest_429@1:3 (docs/SIM.md lists the kinds)");
  cmd->add_option("--truth", a->truth, "Write the ground truth (JSON) here when stopping");
  cmd->add_option("--truth-books", a->truth_books,
                  "Write the final books here (`booktape replay --dump-books` shape)");
  cmd->add_option("--linger-seconds", a->linger_seconds,
                  "After the last frame, keep serving this long before exiting")
      ->capture_default_str();
  return [a] { return run_sim(*a); };
}

}  // namespace booktape::apps
