#include "apps/record_flags.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <string_view>

namespace booktape::apps {

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// 60 -> "60", 0.5 -> "0.5": a default as a user would write it.
std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// "net,book,archive" -> three cpu numbers; "none" -> unpinned (overrides a file that pins).
std::vector<int> parse_cpus(const std::string& text) {
  const std::string bad =
      "--cpus: expected three cpu numbers for the network, book and archive "
      "stages (e.g. 0,1,2) or none, got '" +
      text + "'";
  if (trim(text) == "none") return {};
  std::vector<int> cpus;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    int cpu = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), cpu);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      throw ConfigError(bad);
    if (cpu < 0 || cpu > 1023)
      throw ConfigError("--cpus: cpu " + std::string(item) + " is outside 0..1023");
    cpus.push_back(cpu);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (cpus.size() != 3) throw ConfigError(bad);
  return cpus;
}

}  // namespace

std::shared_ptr<RecordFlags> add_record_flags(CLI::App& cmd) {
  auto f = std::make_shared<RecordFlags>();
  const RecorderConfig d;  // the defaults quoted in the help texts

  // Each flag fills its optional only when given, so "not given" stays distinguishable from a
  // value that equals the default (a flag equal to the default still beats the file).
  const auto text = [&cmd, f](const std::string& name, std::optional<std::string> RecordFlags::*m,
                              const std::string& help) {
    return cmd.add_option_function<std::string>(
        name, [f, m](const std::string& v) { (*f).*m = v; }, help);
  };
  const auto path = [&cmd, f](const std::string& name,
                              std::optional<std::filesystem::path> RecordFlags::*m,
                              const std::string& help) {
    return cmd.add_option_function<std::string>(
        name, [f, m](const std::string& v) { (*f).*m = std::filesystem::path(v); }, help);
  };
  const auto integer = [&cmd, f](const std::string& name, std::optional<int> RecordFlags::*m,
                                 const std::string& help) {
    return cmd.add_option_function<int>(
        name, [f, m](const int& v) { (*f).*m = v; }, help);
  };
  const auto seconds = [&cmd, f](const std::string& name, std::optional<double> RecordFlags::*m,
                                 const std::string& help) {
    return cmd.add_option_function<double>(
        name, [f, m](const double& v) { (*f).*m = v; }, help);
  };
  const auto list = [&cmd, f](const std::string& name,
                              std::optional<std::vector<std::string>> RecordFlags::*m,
                              const std::string& help) {
    return cmd
        .add_option_function<std::vector<std::string>>(
            name, [f, m](const std::vector<std::string>& v) { (*f).*m = v; }, help)
        ->delimiter(',');
  };

  path("--config", &RecordFlags::config,
       "YAML settings (config/record.example.yaml lists every key); default: none")
      ->type_name("FILE");
  integer("--market-limit", &RecordFlags::market_limit,
          "Select at most N markets at each discovery, earliest end first (default 0: no limit)")
      ->type_name("N");
  seconds("--duration-seconds", &RecordFlags::duration_seconds,
          "Stop after S seconds (default 0: until SIGINT/SIGTERM)")
      ->type_name("S");
  seconds("--rest-checkpoint-interval-seconds", &RecordFlags::rest_checkpoint_interval_seconds,
          "POST /books checkpoints every S seconds, 0: off (default 30)")
      ->type_name("S");
  path("--out", &RecordFlags::out, "Archive root (default " + d.out.string() + ")")
      ->type_name("DIR");
  text("--ws-url", &RecordFlags::ws_url,
       "Market websocket, ws:// or wss:// (default " + d.ws_url + ")")
      ->type_name("URL");
  text("--rest-url", &RecordFlags::rest_url,
       "CLOB REST for /books checkpoints (default " + d.rest_url + ")")
      ->type_name("URL");
  text("--gamma-url", &RecordFlags::gamma_url, "Gamma for discovery (default " + d.gamma_url + ")")
      ->type_name("URL");
  path("--ca-file", &RecordFlags::ca_file,
       "Trust the CAs in this PEM bundle instead of the system store (default: the system store)")
      ->type_name("FILE");
  list("--asset", &RecordFlags::assets,
       "Record this token id; repeatable or comma-separated (default: discover by series)")
      ->type_name("ID");
  path("--assets-file", &RecordFlags::assets_file,
       "Record the token ids in FILE, one a line, '#' comments (default: none)")
      ->type_name("FILE");
  cmd.add_flag_callback(
      "--all-active", [f] { f->all_active = true; },
      "Record every active market on the venue (default: off)");
  list("--series", &RecordFlags::series,
       "Follow this Gamma series; repeatable or comma-separated (default " + join(d.series, ",") +
           ")")
      ->type_name("SLUG");
  text("--cpus", &RecordFlags::cpus,
       "Pin the network, book and archive stages to these cpus, or none (default: not pinned)")
      ->type_name("NET,BOOK,ARCHIVE");
  text("--wait", &RecordFlags::wait,
       std::string("How the book stage waits for frames: busy-spin or spin-then-park (default ") +
           to_string(d.wait) + ")")
      ->type_name("MODE");
  text("--envelope", &RecordFlags::envelope,
       std::string("Archive lines: compact (session records) or full (seed envelope) (default ") +
           to_string(d.envelope) + ")")
      ->type_name("MODE");
  text("--fsync", &RecordFlags::fsync,
       std::string("Durability: none, close, interval or block (default ") + to_string(d.fsync) +
           ")")
      ->type_name("POLICY");
  integer("--gzip-level", &RecordFlags::gzip_level,
          "libdeflate level 0..12 (default " + std::to_string(d.gzip_level) + ")")
      ->type_name("N");
  integer("--assets-per-connection", &RecordFlags::assets_per_connection,
          "Tokens per websocket connection, 1..500 (default " +
              std::to_string(d.assets_per_connection) + ")")
      ->type_name("N");
  text("--status", &RecordFlags::status,
       "Progress: auto (a line on a terminal, else log), line, log or off (default " + d.status +
           ")")
      ->type_name("MODE");
  text("--http", &RecordFlags::http,
       "Serve /metrics (Prometheus), /status (JSON), a status page, the book API (/books, "
       "/odds) and runtime subscriptions (/subscriptions) on HOST:PORT, e.g. 127.0.0.1:9464 "
       "(default: off)")
      ->type_name("HOST:PORT");
  cmd.add_flag_callback(
      "--http-public", [f] { f->http_public = true; },
      "Allow --http on an address other than loopback (it has no authentication)");

  // Live consumers (docs/CONSUMERS.md).
  text("--shm", &RecordFlags::shm,
       "Serve the books in the shared-memory table /dev/shm/NAME (read it with booktape books) "
       "(default: none)")
      ->type_name("NAME");
  text("--redis", &RecordFlags::redis_url,
       "Publish books and trades to Redis: redis://[[user]:password@]host[:port][/db] or "
       "unix:///path[?db=N]; the password may come from REDIS_PASSWORD (default: none)")
      ->type_name("URL");
  cmd.add_option_function<std::vector<std::string>>(
         "--alert", [f](const std::vector<std::string>& v) { f->alerts = v; },
         "Alert when a rule turns true; repeatable: bid>=0.70, ask<=0.30, mid>=X, displayed>=X, "
         "spread_bps>X, stale>10s, disconnects>=N (default: none)")
      ->type_name("RULE");
  text("--alert-webhook", &RecordFlags::alert_webhook,
       "POST each alert as JSON to this http(s) URL (default: none)")
      ->type_name("URL");
  text("--alert-command", &RecordFlags::alert_command,
       "Run this command with each alert's JSON on stdin; split at spaces, no shell (for "
       "arguments with spaces use alert_command in the config) (default: none)")
      ->type_name("CMD");
  cmd.add_flag_callback(
      "--books-only", [f] { f->books_only = true; },
      "No archive: live books and their consumers only (default: off)");
  text("--shard", &RecordFlags::shard,
       "Record only shard I of N recorders: the markets whose condition id hashes to I\n"
       "(docs/RECORD.md, \"Sharding across hosts\"; default 0/1: every market)")
      ->type_name("I/N");
  integer("--replica", &RecordFlags::replica,
          "This recorder is redundant copy R of its shard: a label in the run id and manifest\n"
          "(default 0)")
      ->type_name("R");
  seconds("--discovery-interval-seconds", &RecordFlags::discovery_interval_seconds,
          "Ask Gamma for the markets again every S seconds (default " +
              format_seconds(d.discovery_interval_seconds) + ")")
      ->type_name("S");
  seconds("--status-interval-seconds", &RecordFlags::status_interval_seconds,
          "A status line in the log every S seconds when not on a terminal (default " +
              format_seconds(d.status_interval_seconds) + ")")
      ->type_name("S");
  seconds("--stop-grace-seconds", &RecordFlags::stop_grace_seconds,
          "At a stop, read what the venue still sends for up to S seconds; bytes left unread "
          "then are named in a loss record (default " +
              format_seconds(d.stop_grace_seconds) + ")")
      ->type_name("S");
  return f;
}

RecorderConfig effective_config(const RecordFlags& flags) {
  RecorderConfig c;
  if (flags.config) load_recorder_config(*flags.config, c);

  if (flags.market_limit) c.market_limit = *flags.market_limit;
  if (flags.duration_seconds) c.duration_seconds = *flags.duration_seconds;
  if (flags.rest_checkpoint_interval_seconds)
    c.rest_checkpoint_interval_seconds = *flags.rest_checkpoint_interval_seconds;
  if (flags.out) c.out = *flags.out;
  if (flags.ws_url) c.ws_url = *flags.ws_url;
  if (flags.rest_url) c.rest_url = *flags.rest_url;
  if (flags.gamma_url) c.gamma_url = *flags.gamma_url;
  if (flags.ca_file) c.ca_file = *flags.ca_file;

  // Otherwise `--asset X` on top of a file with all_active: true would be an error, and
  // `--series S` on top of a file with assets would silently record the file's assets.
  if (flags.assets || flags.assets_file || flags.all_active || flags.series) {
    c.assets.clear();
    c.assets_file.clear();
    c.all_active = false;
    c.series.clear();
    if (flags.assets) c.assets = *flags.assets;
    if (flags.assets_file) c.assets_file = *flags.assets_file;
    if (flags.all_active) c.all_active = *flags.all_active;
    if (flags.series) c.series = *flags.series;
  }

  if (flags.cpus) c.cpus = parse_cpus(*flags.cpus);
  if (flags.wait && !parse_wait_mode(*flags.wait, c.wait))
    throw ConfigError("--wait: expected busy-spin or spin-then-park, got '" + *flags.wait + "'");
  if (flags.envelope) {
    if (*flags.envelope == "compact")
      c.envelope = EnvelopeMode::kCompact;
    else if (*flags.envelope == "full")
      c.envelope = EnvelopeMode::kFull;
    else
      throw ConfigError("--envelope: expected compact or full, got '" + *flags.envelope + "'");
  }
  if (flags.fsync && !parse_fsync_policy(*flags.fsync, c.fsync)) {
    throw ConfigError("--fsync: expected none, close, interval or block, got '" + *flags.fsync +
                      "'");
  }
  if (flags.status) {
    const std::string& s = *flags.status;
    if (s != "auto" && s != "line" && s != "log" && s != "off")
      throw ConfigError("--status: expected auto, line, log or off, got '" + s + "'");
    c.status = s;
  }
  if (flags.gzip_level) c.gzip_level = *flags.gzip_level;
  if (flags.assets_per_connection) c.assets_per_connection = *flags.assets_per_connection;
  if (flags.http) c.http_listen = *flags.http;
  if (flags.http_public) c.http_public = *flags.http_public;

  if (flags.shm) c.shm = *flags.shm;
  if (flags.redis_url) c.redis_url = *flags.redis_url;
  if (flags.alerts) c.alerts = *flags.alerts;  // the command line's rules replace the file's
  if (flags.alert_webhook) c.alert_webhook = *flags.alert_webhook;
  if (flags.alert_command) {
    c.alert_command.clear();
    std::string_view rest = *flags.alert_command;
    for (std::string_view w = trim(rest); !w.empty(); w = trim(rest)) {
      const std::size_t end = std::min(w.find_first_of(" \t"), w.size());
      c.alert_command.emplace_back(w.substr(0, end));
      rest = w.substr(end);
    }
    if (c.alert_command.empty()) throw ConfigError("--alert-command: expected a command, got nothing");
  }
  if (flags.books_only) c.books_only = *flags.books_only;
  if (flags.shard) {
    const auto shard = parse_market_shard(*flags.shard);
    if (!shard)
      throw ConfigError(std::string("--shard: expected ") + kMarketShardForm + ", got '" +
                        *flags.shard + "'");
    c.shard = *shard;
  }
  if (flags.replica) c.replica = *flags.replica;
  if (flags.discovery_interval_seconds)
    c.discovery_interval_seconds = *flags.discovery_interval_seconds;
  if (flags.status_interval_seconds) c.status_interval_seconds = *flags.status_interval_seconds;
  if (flags.stop_grace_seconds) c.stop_grace_seconds = *flags.stop_grace_seconds;

  const std::vector<std::string> problems = validate(c);
  if (!problems.empty()) {
    std::string where = "defaults";
    if (flags.config) where += ", " + flags.config->string();
    where += " and flags";
    std::string message = "the settings (" + where + ") are not usable:";
    for (const std::string& p : problems) message += "\n  " + p;
    throw ConfigError(message);
  }
  return c;
}

}  // namespace booktape::apps
