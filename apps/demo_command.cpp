// booktape demo: the whole pipeline with no network. A local Polymarket stand-in runs in this
// process; its stream is recorded raw-first into a real archive, replayed, and the replayed
// books are checked against the simulator's ground truth.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "apps/commands.hpp"
#include "codecs/book_json.hpp"
#include "codecs/polymarket_classifier.hpp"
#include "io/archive_paths.hpp"
#include "io/archive_writer.hpp"
#include "io/replayer.hpp"
#include "io/sim_server.hpp"
#include "io/ws_client.hpp"

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

// One book per line in the shared dump shape: asset id -> line.
std::map<std::string, std::string> books_by_asset(const std::string& json) {
  std::map<std::string, std::string> out;
  std::istringstream in(json);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 1 && line.back() == ',') line.pop_back();
    const std::size_t at = line.find("{\"asset_id\":\"");
    if (at != 0) continue;
    const std::size_t end = line.find('"', 13);
    out[line.substr(13, end - 13)] = line;
  }
  return out;
}

int run_demo(const DemoArgs& a) {
  const std::filesystem::path root = a.out;
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

  // Discover what to subscribe to the way a client would: from the markets the venue lists.
  // (The recorder reads Gamma over HTTP; here the in-process simulator is asked directly.)
  std::vector<std::string> assets;
  {
    const std::string books = sim.books_json();
    for (const auto& [id, line] : books_by_asset(books)) assets.push_back(id);
  }
  std::printf("  simulator   %s, %d rolling up/down markets, %zu tokens\n", sim.ws_url().c_str(),
              a.markets, assets.size());

  WsClientOptions co;
  co.url = sim.ws_url();
  co.ca_file = sim.ca_file();
  WsClient client(co);
  client.connect();
  std::string sub = "{\"assets_ids\":[";
  for (std::size_t i = 0; i < assets.size(); ++i) sub += (i ? ",\"" : "\"") + assets[i] + "\"";
  sub += "],\"type\":\"market\",\"initial_dump\":true,\"custom_feature_enabled\":true}";
  client.send_text(sub);

  ArchiveWriterOptions wo;
  wo.root = root;
  ArchiveWriter writer(wo);
  SessionInfo session;
  session.run_id = writer.run_id();
  session.session_id = writer.run_id() + "-c1";
  session.connection_sequence = 1;
  session.url = co.url;
  session.assets_ids = assets;
  writer.open_session(session, realtime_now());
  polymarket::Classifier classifier;

  std::printf("  recording   %llu frames at %.0f frames/s into %s/ ...\n",
              static_cast<unsigned long long>(a.frames), a.rate, root.c_str());
  const MonoNanos t0 = monotonic_now();
  std::uint64_t seq = 0;
  WsMessage m;
  // Read until the stream has been quiet for a moment after the simulator's last frame.
  int quiet = 0;
  while (quiet < 5) {
    if (!client.read(m, std::chrono::milliseconds(200))) {
      if (sim.frames_generated() >= a.frames) ++quiet;
      continue;
    }
    quiet = 0;
    ++seq;
    FrameMeta meta;
    meta.received_ns = m.received_ns;
    meta.monotonic_ns = m.monotonic_ns;
    meta.session_id = session.session_id;
    meta.connection_sequence = 1;
    meta.message_sequence = seq;
    meta.global_sequence = seq;
    meta.opcode = m.binary ? Opcode::kBinary : Opcode::kText;
    writer.append(meta, m.data,
                  m.binary ? polymarket::Classifier::binary() : classifier.classify(m.data));
    writer.poll(monotonic_now(), realtime_now());
  }
  const double seconds = static_cast<double>(monotonic_now() - t0) / 1e9;
  client.close();
  writer.close_session(session.session_id, realtime_now(), "demo finished");
  writer.close();
  const std::string truth_books = sim.books_json();

  std::uint64_t bytes = 0;
  for (const ManifestEntry& e : writer.closed_files()) bytes += e.bytes;
  std::printf("  recorded    %llu frames in %.1f s: %zu file(s), %.1f KB gzip, manifest with "
              "sha256 in %s/manifests/\n\n",
              static_cast<unsigned long long>(seq), seconds, writer.closed_files().size(),
              static_cast<double>(bytes) / 1024.0, root.c_str());

  Replayer replay;
  const ReplaySummary& s = replay.run({root / "raw_orderbooks"});
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
  const bool ok = differ == 0 && equal > 0 && k.divergences == 0 && s.global.gaps == 0;
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
      "See the whole pipeline work with no network: starts a local Polymarket stand-in, records\n"
      "its stream into a raw-first archive, replays it and checks the books against the\n"
      "simulator's ground truth.");
  cmd->add_option("--out", a->out, "Archive folder")->capture_default_str();
  cmd->add_option("--frames", a->frames, "Frames to record")->capture_default_str();
  cmd->add_option("--rate", a->rate, "Frames per second")->capture_default_str();
  cmd->add_option("--markets", a->markets, "Rolling up/down series")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Simulator seed")->capture_default_str();
  cmd->add_flag("--tls", a->tls, "Use wss:// with a generated CA");
  return [a] { return run_demo(*a); };
}

}  // namespace booktape::apps
