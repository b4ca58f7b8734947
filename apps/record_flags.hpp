#pragma once
// The command line of `booktape record`: --config FILE, then flags that override single
// settings of it. The effective config is defaults < file < flags.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/record/recorder_config.hpp"

namespace CLI {
class App;
}

namespace booktape::apps {

// What the command line said; an empty optional is a flag not given. Enum-like and list values
// stay text until effective_config(), which reports bad ones as ConfigError.
struct RecordFlags {
  std::optional<std::filesystem::path> config;
  std::optional<int> market_limit;
  std::optional<double> duration_seconds;
  std::optional<double> rest_checkpoint_interval_seconds;
  std::optional<std::filesystem::path> out;
  std::optional<std::string> ws_url;
  std::optional<std::string> rest_url;
  std::optional<std::string> gamma_url;
  std::optional<std::filesystem::path> ca_file;
  std::optional<std::vector<std::string>> assets;
  std::optional<std::filesystem::path> assets_file;
  std::optional<bool> all_active;
  std::optional<std::vector<std::string>> series;
  std::optional<std::string> cpus;  // "net,book,archive" or "none"
  std::optional<std::string> wait;
  std::optional<std::string> envelope;
  std::optional<std::string> fsync;
  std::optional<int> gzip_level;
  std::optional<int> assets_per_connection;
  std::optional<std::string> status;
  std::optional<std::string> http;
  std::optional<bool> http_public;
  // Live consumers (docs/CONSUMERS.md).
  std::optional<std::string> shm;
  std::optional<std::string> redis_url;
  std::optional<std::vector<std::string>> alerts;
  std::optional<std::string> alert_webhook;
  std::optional<std::string> alert_command;  // split at spaces into argv (no shell)
  std::optional<bool> books_only;
  std::optional<std::string> shard;  // "I/N"
  std::optional<int> replica;
  std::optional<double> discovery_interval_seconds;
  std::optional<double> status_interval_seconds;
  std::optional<double> stop_grace_seconds;
};

// Registers --config and the override flags on `cmd`; the returned flags fill in as `cmd` parses.
std::shared_ptr<RecordFlags> add_record_flags(CLI::App& cmd);

// Defaults, then the --config file, then every flag given. Any of --asset, --assets-file,
// --all-active and --series replaces the file's whole choice of what to record (assets,
// assets_file, all_active, series), so a command line never mixes with the file's choice.
// Throws ConfigError for a bad flag value or file, and for a config that validate() rejects
// (every problem, one a line).
RecorderConfig effective_config(const RecordFlags& flags);

}  // namespace booktape::apps
