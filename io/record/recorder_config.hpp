#pragma once
// Everything `booktape record` can be told, with the defaults a user gets when a setting is
// absent (docs/RECORD.md). Loaded from YAML (config/record.example.yaml lists every key), then
// flags override single settings.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "codecs/envelope.hpp"
#include "codecs/polymarket_gamma.hpp"
#include "core/wait_strategy.hpp"
#include "io/archive/writer.hpp"
#include "io/record/market_shard.hpp"

namespace booktape {

struct RecorderConfig {
  // --- where the venue is -------------------------------------------------------------------
  std::string ws_url = "wss://ws-subscriptions-clob.polymarket.com/ws/market";
  std::string rest_url = "https://clob.polymarket.com";
  std::string gamma_url = "https://gamma-api.polymarket.com";
  std::filesystem::path ca_file;  // trust these CAs (PEM) instead of the system store (empty: the system store)

  // --- what to record -----------------------------------------------------------------------
  std::vector<std::string> assets;         // explicit token ids: no discovery
  std::filesystem::path assets_file;       // one token id per line ('#' comments)
  bool all_active = false;                 // every active market on the venue
  std::vector<std::string> series = polymarket::default_btc_series();
  int market_limit = 0;                    // markets each discovery selects (0: no limit)
  double discovery_interval_seconds = 60;  // Gamma is asked again this often
  double subscribe_lead_seconds = 120;     // subscribe a market this long before its window
  double drop_after_end_seconds = 180;     // unsubscribe this long after its end (trading goes on)

  // --- connections --------------------------------------------------------------------------
  int assets_per_connection = 200;         // the venue's reported ceiling is ~500
  double connect_stagger_seconds = 0.25;   // between opening connections
  double ping_interval_seconds = 10;       // text PING
  double pong_timeout_seconds = 30;        // no PONG for this long: reconnect
  double stale_connection_seconds = 30;    // subscribed but no market frame for this long: reconnect
  double token_silent_seconds = 300;       // one token silent while its connection flows: resubscribe
  double initial_book_timeout_seconds = 30;  // no first book for a token: resubscribe it
  double backoff_initial_seconds = 1;      // reconnect backoff: doubling from this...
  double backoff_max_seconds = 60;         // ...up to this, with +-20% jitter...
  double backoff_reset_after_seconds = 60; // ...back to the start after this long healthy
  std::size_t max_frame_bytes = std::size_t{16} << 20;  // larger frames end the connection

  // --- REST checkpoints ---------------------------------------------------------------------
  double rest_checkpoint_interval_seconds = 30;  // 0: off
  int rest_batch = 500;                    // token ids per POST /books (the venue's limit)

  // --- archive ------------------------------------------------------------------------------
  std::filesystem::path out = "data";      // archive root
  std::filesystem::path manifest_dir;      // empty: <out>/manifests; must be under out
  EnvelopeMode envelope = EnvelopeMode::kCompact;
  int gzip_level = 3;
  std::size_t block_bytes = std::size_t{256} << 10;
  double block_max_age_seconds = 0.2;
  std::uint64_t max_file_bytes = std::uint64_t{1} << 30;
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  double fsync_interval_seconds = 1;

  // --- threads ------------------------------------------------------------------------------
  std::vector<int> cpus;                   // network, book, archive; empty: not pinned
  WaitMode wait = WaitMode::kSpinThenPark;
  // spin-then-park: the book thread's longest spin before it sleeps. Longer catches a sparser
  // stream without a wake-up, but the thread then spins through every gap shorter than this.
  std::uint32_t spin_max_us = 200;
  // The frame ring between the stages; it must hold 4 frames of max_frame_bytes (FrameRing's
  // max_payload() is capacity / 4 minus a header), so 64 MiB could not carry a 16 MiB frame.
  std::size_t ring_bytes = std::size_t{128} << 20;

  // --- the run ------------------------------------------------------------------------------
  double duration_seconds = 0;             // 0: until SIGINT/SIGTERM (the long-running recorder)
  std::string status = "auto";             // auto (a status line on a terminal), line, log, off
  double status_interval_seconds = 10;     // the periodic summary when not on a terminal

  // --- the operator listener (docs/OPERATIONS.md) -------------------------------------------
  std::string http_listen;                 // HOST:PORT serving /metrics, /status and / ("": off)
  bool http_public = false;                // allow an http_listen address other than loopback
  // --- live consumers (docs/CONSUMERS.md) -----------------------------------------------------
  std::string shm;                         // the book table /dev/shm/<shm>; empty: none
  std::string redis_url;                   // redis://... or unix://... (REDIS_PASSWORD); empty: off
  double redis_ttl_seconds = 5;            // of the orderbook:polymarket:<asset_id> keys
  std::uint32_t consumer_depth = 20;       // levels per side in the table and the Redis books
  std::uint32_t consumer_slots = 131072;   // tokens the consumers serve (the table's slots)
  std::vector<std::string> alerts;         // rules: bid>=0.70, stale>10s, disconnects>=3, ...
  std::string alert_webhook;               // POST each alert here (http/https); empty: none
  std::vector<std::string> alert_command;  // run this argv with each alert on stdin; empty: none
  double alert_cooldown_seconds = 60;      // a rule fires again for a token after this at least
  double alert_timeout_seconds = 5;        // per delivery attempt (webhook or command)
  bool books_only = false;                 // no archive: books and their consumers only
  // --- sharding across hosts (docs/RECORD.md) ---------------------------------------------------
  MarketShard shard;                       // "I/N": record only the markets of shard I of N
  int replica = 0;                         // which redundant copy (a label in the run id/manifest)
  // --- nothing lost silently (docs/RECORD.md, "Losses") --------------------------------------
  std::uint64_t reserve_bytes = std::uint64_t{64} << 20;  // kept free for the end of a run (0: none)
  std::size_t max_pending_bytes = std::size_t{512} << 20;  // unwritten blocks held while the disk refuses
  double stop_grace_seconds = 5;           // a stop reads what the sockets still hold this long
  double disk_warn_free_percent = 10;      // alarm when the archive's disk has less free than this...
  std::uint64_t disk_warn_free_bytes = std::uint64_t{2} << 30;  // ...or than this (0: never)
};

// Whether the config asks for any live consumer (shm, redis_url, alerts or the book API).
[[nodiscard]] inline bool wants_consumers(const RecorderConfig& c) noexcept {
  return !c.shm.empty() || !c.redis_url.empty() || !c.alerts.empty() ||
         !c.http_listen.empty();  // the book API reads the book table
}

// A problem in a config file or a value; what() names the file, the line and the key.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a YAML file into `out` (starting from its current values, so defaults stay for absent
// keys). Unknown keys, wrong types and out-of-range values are errors.
void load_recorder_config(const std::filesystem::path& file, RecorderConfig& out);

// Every problem with a complete config (empty = usable). Also checks cross-field rules (e.g.
// ws_url must be ws:// or wss://; assets and all_active exclude each other).
std::vector<std::string> validate(const RecorderConfig& c);

// The config with redact_url() applied to its URLs: what logs, messages and manifests show.
RecorderConfig with_urls_redacted(RecorderConfig c);

// The effective config as YAML, for logs and the run report (nothing secret is in it).
std::string to_yaml(const RecorderConfig& c);

// The token ids of an assets_file: one a line, whitespace trimmed, blank lines and '#' comments
// skipped, repeats dropped (first order kept). A line that is not all decimal digits (Polymarket
// token ids are decimal) or an unreadable file is a ConfigError naming the file and the line.
std::vector<std::string> read_assets_file(const std::filesystem::path& file);

}  // namespace booktape
