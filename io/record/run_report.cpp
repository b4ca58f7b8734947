#include "io/record/run_report.hpp"

#include "codecs/envelope.hpp"

namespace booktape {

Gate evaluate_gate(const RunFacts& f) {
  Gate g;
  std::size_t both = 0;
  for (const RunMarket& m : f.markets) both += !m.up_token.empty() && !m.down_token.empty();
  if (both == 0) {
    g.reasons.push_back(f.markets.empty()
                            ? "no discovered market was recorded (explicit token ids carry no "
                              "market metadata)"
                            : "no selected market had both outcome tokens");
  }
  if (f.connects == 0) {
    g.reasons.push_back("the websocket never connected (" + std::to_string(f.connect_failures) +
                        " failed attempts)");
  } else if (f.market_events == 0) {
    g.reasons.push_back("the websocket connected but no market message arrived");
  }
  if (!f.rest_enabled) {
    g.reasons.push_back("REST checkpoints were off");
  } else if (f.rest_rounds_ok < 2) {
    g.reasons.push_back("only " + std::to_string(f.rest_rounds_ok) +
                        " successful REST checkpoint(s); two are required");
  }
  if (f.files.empty()) {
    g.reasons.push_back("no archive file was closed");
  } else if (f.unreadable_files > 0) {
    g.reasons.push_back(std::to_string(f.unreadable_files) + " archive file(s) did not read back cleanly");
  }
  for (const ManifestEntry& e : f.files) {
    if (e.sha256.size() != 64) {
      g.reasons.push_back("a file has no checksum: " + e.path);
      break;
    }
  }
  if (f.frames_dropped > 0) {
    g.reasons.push_back(std::to_string(f.frames_dropped) + " frames could not be written");
  }
  if (f.recovery.alarm()) {
    g.reasons.push_back(std::to_string(f.recovery.corrupt + f.recovery.failed) +
                        " file(s) left open by an earlier run could not be recovered (left in "
                        "place; see the log)");
  }
  g.pass = g.reasons.empty();
  return g;
}

std::string run_manifest_json(const RunFacts& f, const Gate& g) {
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::string s = "{\"record\":\"run_manifest\",\"run_id\":";
  append_json_string(s, f.run_id);
  s += ",\"writer\":";
  append_json_string(s, f.writer_version);
  s += ",\"started_at_utc\":\"" + format_utc(f.started) + "\",\"ended_at_utc\":\"" +
       format_utc(f.ended) + "\",\"bounded\":" + (f.bounded ? "true" : "false") +
       ",\"gate\":\"" + g.name() + "\",\"gate_reasons\":[";
  for (std::size_t i = 0; i < g.reasons.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, g.reasons[i]);
  }
  s += "],\"markets\":[";
  for (std::size_t i = 0; i < f.markets.size(); ++i) {
    const RunMarket& m = f.markets[i];
    if (i) s += ',';
    s += "{\"slug\":";
    append_json_string(s, m.slug);
    s += ",\"condition_id\":";
    append_json_string(s, m.condition_id);
    s += ",\"up_token_id\":";
    append_json_string(s, m.up_token);
    s += ",\"down_token_id\":";
    append_json_string(s, m.down_token);
    s += ",\"end_time_utc\":";
    append_json_string(s, m.end_utc);
    s += '}';
  }
  s += "],\"tokens\":" + u(f.tokens) + ",\"websocket\":{\"connects\":" + u(f.connects) +
       ",\"disconnects\":" + u(f.disconnects) + ",\"connect_failures\":" + u(f.connect_failures) +
       ",\"frames\":" + u(f.frames) + ",\"market_events\":" + u(f.market_events) +
       ",\"parse_errors\":" + u(f.parse_errors) + ",\"unknown\":" + u(f.unknown) +
       ",\"checks\":" + u(f.checks) + ",\"divergences\":" + u(f.divergences) +
       ",\"ring_full_waits\":" + u(f.ring_full_waits) + ",\"ring_bytes\":" + u(f.ring_bytes) +
       ",\"ring_high_water\":" + u(f.ring_high_water) +
       ",\"read_to_book\":" + (f.read_to_book.empty() ? "null" : f.read_to_book) +
       ",\"read_to_archive\":" + (f.read_to_archive.empty() ? "null" : f.read_to_archive) +
       "},\"rest_checkpoints\":{\"enabled\":" + (f.rest_enabled ? "true" : "false") +
       ",\"rounds\":" + u(f.rest_rounds) + ",\"rounds_ok\":" + u(f.rest_rounds_ok) +
       ",\"requests\":" + u(f.rest_requests) + ",\"failures\":" + u(f.rest_failures) +
       ",\"agree\":" + u(f.checkpoint_agree) + ",\"diverge\":" + u(f.checkpoint_diverge) +
       "},\"files\":[";
  for (std::size_t i = 0; i < f.files.size(); ++i) {
    const ManifestEntry& e = f.files[i];
    if (i) s += ',';
    s += "{\"path\":";
    append_json_string(s, e.path);
    s += ",\"sha256\":\"" + e.sha256 + "\",\"bytes\":" + u(e.bytes) + ",\"rows\":" + u(e.rows) +
         ",\"frames\":" + u(e.frames) + ",\"records\":" + u(e.records) + '}';
  }
  const RecoveryResult& r = f.recovery;
  s += "],\"unreadable_files\":" + u(f.unreadable_files) +
       ",\"frames_dropped\":" + u(f.frames_dropped) + ",\"recovery\":{\"open_files\":" +
       u(r.open_files) + ",\"files_recovered\":" + u(r.files_recovered) +
       ",\"seals_completed\":" + u(r.seals_completed) + ",\"empty_removed\":" +
       u(r.empty_removed) + ",\"in_use\":" + u(r.in_use) + ",\"corrupt\":" + u(r.corrupt) +
       ",\"failed\":" + u(r.failed) + ",\"frames\":" + u(r.frames) + ",\"records\":" +
       u(r.records) + ",\"rows\":" + u(r.rows) + ",\"torn_tail_bytes\":" + u(r.torn_tail_bytes) +
       ",\"torn_tail_rows\":" + u(r.torn_tail_rows) + ",\"problems\":[";
  for (std::size_t i = 0; i < r.problems.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, r.problems[i]);
  }
  s += "]},\"config\":";
  append_json_string(s, f.config_yaml);
  s += "}\n";
  return s;
}

std::string run_report_markdown(const RunFacts& f, const Gate& g) {
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::string s = "# booktape websocket raw sample: " + std::string(g.name()) + "\n\n";
  s += "- run `" + f.run_id + "` (" + f.writer_version + "), " + format_utc(f.started) + " to " +
       format_utc(f.ended) + "\n";
  s += "- gate: **" + std::string(g.name()) + "**\n";
  for (const std::string& r : g.reasons) s += "  - needs review: " + r + "\n";
  s += "\n## Markets\n\n| slug | condition id | up token | down token | ends |\n|---|---|---|---|---|\n";
  for (const RunMarket& m : f.markets) {
    s += "| " + m.slug + " | " + m.condition_id + " | " + m.up_token + " | " + m.down_token +
         " | " + m.end_utc + " |\n";
  }
  if (f.markets.empty()) s += "| (explicit token ids: " + u(f.tokens) + ") | | | | |\n";
  s += "\n## Websocket\n\n";
  s += "- connections opened " + u(f.connects) + ", closed " + u(f.disconnects) +
       ", failed attempts " + u(f.connect_failures) + "\n";
  s += "- frames " + u(f.frames) + " (market events " + u(f.market_events) + ", malformed " +
       u(f.parse_errors) + ", unknown " + u(f.unknown) + ")\n";
  s += "- book checks against the venue's best bid/ask: " + u(f.checks) + ", divergences " +
       u(f.divergences) + "\n";
  s += "- ring full (network waited for the stages): " + u(f.ring_full_waits) + " times; most in use " +
       u(f.ring_high_water) + " of " + u(f.ring_bytes) + " bytes\n";
  s += "- latency read to book " + f.read_to_book + "; read to archive " + f.read_to_archive + "\n";
  s += "\n## REST checkpoints\n\n";
  if (!f.rest_enabled) {
    s += "- off\n";
  } else {
    s += "- rounds " + u(f.rest_rounds) + ", successful " + u(f.rest_rounds_ok) + ", requests " +
         u(f.rest_requests) + ", failed requests " + u(f.rest_failures) + "\n";
    s += "- books compared with the live book: agree " + u(f.checkpoint_agree) + ", diverge " +
         u(f.checkpoint_diverge) + "\n";
  }
  s += "\n## Files\n\n| file | bytes | rows | sha256 |\n|---|---:|---:|---|\n";
  for (const ManifestEntry& e : f.files) {
    s += "| " + e.path + " | " + u(e.bytes) + " | " + u(e.rows) + " | `" + e.sha256 + "` |\n";
  }
  const RecoveryResult& r = f.recovery;
  s += "\n## Crash recovery at start\n\n";
  if (r.open_files == 0) {
    s += "- no file was left open by an earlier run\n";
  } else {
    s += "- files left open by an earlier run: " + u(r.open_files) + "; sealed as recovered " +
         u(r.files_recovered) + " (frames " + u(r.frames) + ", REST records " + u(r.records) +
         ", rows " + u(r.rows) + "), seals completed " + u(r.seals_completed) +
         ", empty removed " + u(r.empty_removed) + ", in use by another recorder " + u(r.in_use) +
         "\n- torn tails cut: " + u(r.torn_tail_bytes) + " bytes, " + u(r.torn_tail_rows) +
         " rows\n- damaged (left in place) " + u(r.corrupt) + ", failed " + u(r.failed) + "\n";
    for (const std::string& p : r.problems) s += "  - " + p + "\n";
  }
  s += "\nEvery file read back cleanly: " + std::string(f.unreadable_files == 0 ? "yes" : "no") +
       ". Frames that could not be written: " + u(f.frames_dropped) + ".\n";
  return s;
}

}  // namespace booktape
