#include "io/record/run_report.hpp"

#include <cstdio>

#include "codecs/envelope.hpp"

namespace booktape {

std::string accounting_text(const RunFacts& f) {
  std::string s = std::to_string(f.frames) + " frames received, " +
                  std::to_string(f.frames_sealed) + " in sealed websocket files";
  if (f.oversized_sealed > 0) s += " (+" + std::to_string(f.oversized_sealed) + " oversized stubs)";
  s += ", " + std::to_string(f.frames_lost) + " named lost";
  if (f.unaccounted() > 0) s += ", " + std::to_string(f.unaccounted()) + " unaccounted";
  return s;
}

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
    g.reasons.push_back("REST checkpoints were off (turn them on: rest_checkpoint_interval_seconds "
                        "> 0)");
  } else if (f.rest_rounds_ok < 2) {
    char how[160];
    std::snprintf(how, sizeof how,
                  "; to pass, run at least twice the REST interval (%g s here) or lower it "
                  "(--rest-checkpoint-interval-seconds)",
                  2 * f.rest_interval_seconds);
    g.reasons.push_back("only " + std::to_string(f.rest_rounds_ok) +
                        " successful REST checkpoint(s); two are required" + how);
  }
  // A REST file alone is not an archive of the stream.
  if (f.ws_files == 0) {
    g.reasons.push_back(f.files.empty() ? "no archive file was closed"
                                        : "no websocket archive file was closed");
  } else if (f.unreadable_files > 0) {
    g.reasons.push_back(std::to_string(f.unreadable_files) + " archive file(s) did not read back cleanly");
  }
  for (const ManifestEntry& e : f.files) {
    if (e.sha256.size() != 64) {
      g.reasons.push_back("a file has no checksum: " + e.path);
      break;
    }
  }
  // The honest part: what the network received against what the sealed files hold.
  if (f.unaccounted() > 0) {
    g.reasons.push_back(accounting_text(f) + ": " + std::to_string(f.unaccounted()) +
                        " frame(s) are in no sealed file and no loss record");
  }
  if (!f.losses.empty()) {
    std::uint64_t unread = 0;
    for (const LossRecord& l : f.losses) unread += l.unread_bytes.value_or(0);
    std::string r = std::to_string(f.losses.size()) + " loss record(s): " +
                    std::to_string(f.frames_lost) + " frame(s) lost";
    if (unread > 0) r += ", " + std::to_string(unread) + " bytes left unread in sockets at the stop";
    g.reasons.push_back(r);
  }
  if (f.unwritten_losses > 0) {
    g.reasons.push_back(std::to_string(f.unwritten_losses) +
                        " loss record(s) could not be written (the next start records the run as "
                        "crashed)");
  }
  if (f.write_errors > 0) {
    g.reasons.push_back(std::to_string(f.write_errors) + " archive write error(s)");
  }
  if (f.unsealed_files > 0) {
    g.reasons.push_back(std::to_string(f.unsealed_files) +
                        " file(s) of this run left unsealed (.open; the next start seals them)");
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
  s += "],\"tokens\":" + u(f.tokens) + ",\"unknown_tokens\":[";
  for (std::size_t i = 0; i < f.unknown_tokens.size(); ++i) {
    if (i) s += ',';
    append_json_string(s, f.unknown_tokens[i]);
  }
  s += "],\"websocket\":{\"connects\":" + u(f.connects) +
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
       ",\"frames_dropped\":" + u(f.frames_dropped) + ",\"accounting\":{\"frames_received\":" +
       u(f.frames) + ",\"frames_sealed\":" + u(f.frames_sealed) + ",\"oversized_sealed\":" +
       u(f.oversized_sealed) + ",\"oversized_received\":" + u(f.oversized_received) +
       ",\"frames_lost\":" + u(f.frames_lost) + ",\"unaccounted\":" + u(f.unaccounted()) +
       ",\"loss_records\":" + u(f.loss_records) + ",\"unwritten_losses\":" +
       u(f.unwritten_losses) + ",\"unsealed_files\":" + u(f.unsealed_files) +
       ",\"write_errors\":" + u(f.write_errors) + ",\"websocket_files\":" + u(f.ws_files) +
       ",\"clean\":" + (f.archive_clean() ? "true" : "false") + ",\"losses\":[";
  for (std::size_t i = 0; i < f.losses.size(); ++i) {
    std::string line = render_loss_record(f.losses[i]);
    line.pop_back();  // the newline
    s += (i ? "," : "") + line;
  }
  s += "],\"crashes\":[";
  for (std::size_t i = 0; i < f.crashes.size(); ++i) {
    std::string line = render_loss_record(f.crashes[i]);
    line.pop_back();
    s += (i ? "," : "") + line;
  }
  s += "]},\"recovery\":{\"open_files\":" +
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
  for (const std::string& t : f.unknown_tokens)
    s += "\n- token " + t + ": no book came, and the venue's REST /book does not know it (404)\n";
  s += "\n## Websocket\n\n";
  s += "- connections opened " + u(f.connects) + ", closed " + u(f.disconnects) +
       ", failed attempts " + u(f.connect_failures) + "\n";
  s += "- frames " + u(f.frames) + " (market events " + u(f.market_events) + ", malformed " +
       u(f.parse_errors) + ", unknown " + u(f.unknown) + ")\n";
  s += "- book checks against the venue's best bid/ask: " + u(f.checks) + ", divergences " +
       u(f.divergences) + "\n";
  s += "- ring full (network waited for the stages): " + u(f.ring_full_waits) + " times; most in use " +
       u(f.ring_high_water) + " of " + u(f.ring_bytes) + " bytes\n";
  s += "- latency read to book: " + f.read_to_book_text + "\n- latency read to archive: " +
       f.read_to_archive_text + "\n";
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
  s += "\n## Every frame accounted for\n\n- " + accounting_text(f) + "\n";
  s += "- loss records: " + u(f.loss_records) + " (not written: " + u(f.unwritten_losses) +
       "); files left unsealed: " + u(f.unsealed_files) + "; write errors: " +
       u(f.write_errors) + "; oversized frames skipped: " + u(f.oversized_received) + "\n";
  for (const LossRecord& l : f.losses) {
    s += "  - lost (" + std::string(to_string(l.reason)) + "): " +
         (l.frames ? u(*l.frames) + " frames" : std::string("frames unknown"));
    if (l.first_global_sequence) {
      s += ", global sequences " + u(*l.first_global_sequence) + ".." +
           (l.last_global_sequence ? u(*l.last_global_sequence) : std::string("?"));
    }
    if (l.unread_bytes) s += ", " + u(*l.unread_bytes) + " bytes unread";
    s += ": " + l.detail + "\n";
  }
  for (const LossRecord& c : f.crashes) {
    s += "  - earlier run " + c.run_id + " crashed: frames after global sequence " +
         u(c.first_global_sequence.value_or(1) - 1) + " unknown (" + c.detail + ")\n";
  }
  s += "\nEvery file read back cleanly: " + std::string(f.unreadable_files == 0 ? "yes" : "no") +
       ". Archive clean (every frame in a sealed file, nothing lost): " +
       (f.archive_clean() ? "yes" : "no") + ".\n";
  return s;
}

}  // namespace booktape
