// booktape demo: the whole pipeline with no network. A local Polymarket stand-in runs in this
// process; the real recorder records it raw-first (discovery, websocket, books, archive, REST
// checkpoints, gate), the archive is replayed, and the replayed books are checked against the
// simulator's ground truth.
#include <CLI/CLI.hpp>
#include <simdjson.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "apps/commands.hpp"
#include "codecs/book_json.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/record/recorder.hpp"
#include "io/replay/replayer.hpp"
#include "io/sim/server.hpp"

namespace booktape::apps {

namespace {

struct DemoArgs {
  std::string out = "booktape-demo";
  std::uint64_t frames = 20'000;
  double rate = 5'000;
  int markets = 2;
  std::uint64_t seed = 7;
  bool tls = false;
};

// One counter of the recorder's status JSON ("section.name"); 0 if absent.
std::uint64_t status_counter(const Recorder& r, const char* section, const char* name) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  std::uint64_t v = 0;
  if (p.parse(r.status_json()).get(e) || e[section][name].get_uint64().get(v)) return 0;
  return v;
}

// This run's websocket archive files: an --out used before holds earlier runs too.
std::vector<std::filesystem::path> files_of_run(const std::filesystem::path& root,
                                                const std::string& run_id) {
  std::vector<std::string> errors;
  std::vector<std::filesystem::path> mine;
  for (const auto& f : ArchiveReader::expand({archive_stream_dir(root, "polymarket", "ws_raw")}, errors)) {
    const auto name = parse_archive_file_name(closed_name_of(f.filename().string()));
    if (name && name->run_id == run_id) mine.push_back(f);
  }
  return mine;
}

int run_demo(const DemoArgs& a) {
  if (a.frames == 0 || a.markets < 1 || a.markets > 100 || !std::isfinite(a.rate) || a.rate < 0) {
    std::fprintf(stderr,
                 "booktape demo: --frames must be at least 1, --markets 1 to 100, --rate 0 (as "
                 "fast as possible) or more\n");
    return 2;
  }
  const std::filesystem::path root = a.out;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // in step with the recorder's log on stderr
  std::printf("booktape demo: a local Polymarket stand-in, recorded raw-first and replayed\n\n");

  SimServerOptions so;
  so.tls = a.tls;
  so.market.seed = a.seed;
  so.market.lanes = a.markets;
  so.rate = a.rate;
  so.max_frames = a.frames;
  if (a.tls) so.tls_dir = root / "tls";
  SimServer sim(so);
  sim.start();
  std::thread sim_thread([&sim] { sim.run(); });
  struct Stop {
    SimServer& s;
    std::thread& t;
    ~Stop() {
      s.stop();
      if (t.joinable()) t.join();
    }
  } stop_sim{sim, sim_thread};

  std::printf("  simulator   %s (REST and Gamma at %s), %d rolling up/down markets\n",
              sim.ws_url().c_str(), sim.http_url().c_str(), a.markets);

  // The real recorder, as `booktape record` runs it: Gamma discovery, websocket, book and
  // archive stages, REST checkpoints. Bounded (so it writes the run report and gate); the demo
  // stops it once the simulator's last frame is in.
  RecorderConfig rc;
  rc.ws_url = sim.ws_url();
  rc.rest_url = rc.gamma_url = sim.http_url();
  rc.ca_file = sim.ca_file();
  rc.all_active = true;  // every simulated market, whatever its series...
  rc.series.clear();
  rc.subscribe_lead_seconds = 3'600;  // ...including the windows listed ahead
  rc.out = root;
  rc.rest_checkpoint_interval_seconds = 0.5;
  rc.duration_seconds = 600;  // a bound; the demo ends the run sooner
  rc.status = "off";
  std::printf("  recording   %llu frames at %.0f frames/s into %s/ ...\n",
              static_cast<unsigned long long>(a.frames), a.rate, root.c_str());
  Recorder recorder(rc);
  int record_code = -1;
  std::atomic<bool> record_done{false};
  const MonoNanos t0 = monotonic_now();
  std::thread record_thread([&] {
    record_code = recorder.run();
    record_done = true;
  });
  // Done when the simulator has sent everything, the recorder has had it for a moment, and two
  // REST checkpoints are in (the gate asks for two).
  std::uint64_t last = ~0ull;
  for (int quiet = 0; quiet < 3 && !record_done;) {  // a recorder that gave up is done
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::uint64_t frames = status_counter(recorder, "network", "frames");
    const bool rest_ok = status_counter(recorder, "rest", "rounds_ok") >= 2;
    quiet = sim.frames_generated() >= a.frames && frames == last && rest_ok ? quiet + 1 : 0;
    last = frames;
    if (monotonic_now() - t0 > 120 * kNanosPerSecond) break;  // something is wrong: stop anyway
  }
  recorder.request_stop();
  record_thread.join();
  const double seconds = static_cast<double>(monotonic_now() - t0) / 1e9;
  const std::string truth_books = sim.books_json();
  std::printf("  recorded    %llu frames in %.1f s; gate %s (report %s)\n\n",
              static_cast<unsigned long long>(last), seconds, recorder.gate().c_str(),
              recorder.report_path().c_str());

  Replayer replay;
  const ReplaySummary& s = replay.run(files_of_run(root, recorder.run_id()));
  const auto& d = replay.decoder_stats();
  const KeeperTotals& k = replay.books().totals();
  std::printf("replay of the archive\n  frames      %llu (%.0f frames/s)\n  events     ",
              static_cast<unsigned long long>(s.frames),
              s.elapsed_seconds > 0 ? static_cast<double>(s.frames) / s.elapsed_seconds : 0.0);
  for (std::size_t i = 0; i < d.events_by_type.size(); ++i)
    if (d.events_by_type[i] != 0)
      std::printf(" %s=%llu", to_string(static_cast<polymarket::EventType>(i)),
                  static_cast<unsigned long long>(d.events_by_type[i]));
  std::printf("\n  validation  %llu checks against the venue's best bid/ask, %llu divergences\n",
              static_cast<unsigned long long>(k.checks),
              static_cast<unsigned long long>(k.divergences));
  std::printf("  sequences   %llu gaps\n",
              static_cast<unsigned long long>(s.global.gaps + s.per_session.gaps));

  // Every replayed book must equal the simulator's own.
  const auto truth = books_by_asset(truth_books);
  const auto ours = books_by_asset(books_json(replay.books()));
  std::size_t equal = 0, differ = 0;
  for (const auto& [id, line] : ours) {
    const auto it = truth.find(id);
    if (it != truth.end() && it->second == line) ++equal; else ++differ;
  }
  const bool ok = differ == 0 && equal > 0 && k.divergences == 0 && s.global.gaps == 0 &&
                  record_code == 0;
  std::printf("  books       %zu of %zu equal the simulator's ground truth%s\n\n", equal,
              ours.size(), differ == 0 ? "" : "  <-- MISMATCH");
  std::printf("%s\nnext: booktape replay %s --json    booktape replay %s --asset %s\n",
              ok ? "demo OK" : "demo FAILED", root.c_str(), root.c_str(),
              ours.empty() ? "ID" : ours.begin()->first.c_str());
  return ok ? 0 : 1;
}

}  // namespace

Command add_demo_command(CLI::App& app) {
  auto a = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "See the whole pipeline work with no network: starts a local Polymarket stand-in, runs the\n"
      "real recorder against it (discovery, websocket, books, archive, REST checkpoints, gate),\n"
      "replays the archive and checks the books against the simulator's ground truth.");
  cmd->add_option("--out", a->out, "Archive folder")->capture_default_str();
  cmd->add_option("--frames", a->frames, "Frames the simulator generates")->capture_default_str();
  cmd->add_option("--rate", a->rate, "Frames per second")->capture_default_str();
  cmd->add_option("--markets", a->markets, "Rolling up/down series")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Simulator seed")->capture_default_str();
  cmd->add_flag("--tls", a->tls, "Use wss:// with a generated CA");
  return [a] { return run_demo(*a); };
}

}  // namespace booktape::apps
