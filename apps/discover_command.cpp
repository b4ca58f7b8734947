// booktape discover: which BTC up/down markets to record now, from Gamma (protocol note §4).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.hpp"
#include "io/record/polymarket_discovery.hpp"

namespace booktape::apps {

namespace {

struct DiscoverArgs {
  DiscoveryOptions options;
  int market_limit = 0;
  double lead_seconds = 120;
  std::string out = "data/discovery";
  bool json = false;
  std::string shard;  // "I/N" (io/record/market_shard.hpp); empty: every market
};

// "1234567...8901": 77-digit token ids are unreadable in a table; the files keep them whole.
std::string abbreviate(const std::string& id) {
  if (id.empty()) return "-";
  if (id.size() <= 14) return id;
  return id.substr(0, 7) + "..." + id.substr(id.size() - 4);
}

std::string short_utc(UnixNanos t) {
  if (t == 0) return "?";
  return format_utc(t).substr(0, 19) + "Z";  // seconds are enough for a window
}

int run_discover(DiscoverArgs& a) {
  if (a.lead_seconds < 0 || a.market_limit < 0) {
    std::fprintf(stderr, "booktape discover: --lead-seconds and --market-limit must be >= 0\n");
    return 2;
  }
  if (!a.shard.empty()) {
    const auto shard = parse_market_shard(a.shard);
    if (!shard) {
      std::fprintf(stderr, "booktape discover: --shard: expected %s, got '%s'\n", kMarketShardForm,
                   a.shard.c_str());
      return 2;
    }
    a.options.shard = *shard;
  }
  // Progress on a long listing (--all-active: hundreds of pages), about once a second.
  auto last = std::chrono::steady_clock::now();
  a.options.progress = [&last](const DiscoveryProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1)) return;
    last = now;
    std::fprintf(stderr, "booktape discover: %zu pages, %zu markets, %zu skipped so far\n",
                 p.pages, p.markets, p.skipped);
  };
  DiscoveryResult r = discover(a.options);
  for (const std::string& e : r.errors) std::fprintf(stderr, "booktape discover: %s\n", e.c_str());
  std::fprintf(stderr, "booktape discover: %zu pages (%zu requests, %zu answered 429), %zu markets\n",
               r.pages, r.requests, r.throttled, r.markets.size());
  if (r.shard.sharded()) {
    std::fprintf(stderr,
                 "booktape discover: shard %s: %zu markets of this shard, %zu of the others\n",
                 to_string(r.shard).c_str(), r.markets.size(), r.other_shards);
  }
  // Named, so a market that never shows up can be traced: all of them are in the manifest.
  if (const std::string why = skipped_summary(r); !why.empty())
    std::fprintf(stderr, "booktape discover: %s\n", why.c_str());
  const std::size_t listed = r.markets.size();
  const auto lead_ns = static_cast<std::int64_t>(a.lead_seconds * 1e9);
  // The files and the output hold the markets to record now (the seed's "currently active"
  // markets); the raw responses keep everything Gamma listed.
  r.markets = select_markets(r.markets, realtime_now(), lead_ns, a.market_limit,
                             /*require_up_down=*/!a.options.all_active);
  if (r.markets.empty()) {
    if (listed > 0) {
      std::fprintf(stderr,
                   "booktape discover: Gamma listed %zu markets but none is live or starts within "
                   "%g s (--lead-seconds); nothing written\n",
                   listed, a.lead_seconds);
    } else {
      std::fprintf(stderr,
                   "booktape discover: no markets found at %s (%zu requests, %zu errors); nothing "
                   "written.\n  Check the URL (--gamma-url), the network (DNS, proxy, firewall) "
                   "and the --series slugs.\n  For a first try without network: booktape demo\n",
                   a.options.gamma_url.c_str(), r.requests, r.errors.size());
    }
    return 1;
  }
  // A run that found nothing returned above: the latest file is never replaced by an empty list.
  const std::filesystem::path latest = write_discovery(r, a.options.gamma_url, a.out);

  if (a.json) {
    std::fputs(discovery_json(r, a.options.gamma_url).c_str(), stdout);
  } else {
    for (const auto& m : r.markets) {  // select_markets sorted them as the file is
      std::printf("%-44s %s .. %s  up %-14s  down %s\n", m.slug.c_str(), short_utc(m.start).c_str(),
                  short_utc(m.end).c_str(), abbreviate(m.up_token_id).c_str(),
                  abbreviate(m.down_token_id).c_str());
    }
    std::printf("markets    %zu selected of %zu listed (Gamma requests: %zu)\nwritten    %s\n",
                r.markets.size(), listed, r.requests, latest.c_str());
    std::printf("manifest   %s\nraw        %s\n",
                (latest.parent_path() / "polymarket_btc_markets_manifest.json").c_str(),
                (latest.parent_path() / "raw").c_str());
  }
  std::fprintf(stderr, "booktape discover: %zu markets written to %s\n", r.markets.size(),
               latest.c_str());
  return 0;
}

}  // namespace

Command add_discover_command(CLI::App& app) {
  auto a = std::make_shared<DiscoverArgs>();
  DiscoveryOptions& o = a->options;
  CLI::App* cmd = app.add_subcommand(
      "discover",
      "Find the BTC up/down markets to record now on Gamma (public endpoints, no keys) and write\n"
      "<out>/polymarket_btc_markets_latest.json, a manifest, and the raw responses (gzip JSONL).");
  cmd->add_option("--gamma-url", o.gamma_url, "Gamma base URL (e.g. `booktape sim`'s http_url)")
      ->capture_default_str();
  cmd->add_option("--ca-file", o.ca_file,
                  "Trust this CA (PEM) for https:// instead of the system's");
  cmd->add_option("--series", o.series, "Series slug to list (repeatable)")->capture_default_str();
  cmd->add_flag("--all-active", o.all_active,
                "List every active market instead (/markets/keyset, 100 a page, with progress;\n"
                "any outcome names)");
  cmd->add_option("--market-limit", a->market_limit,
                  "Keep at most N markets, soonest ending first (0: all)")
      ->capture_default_str();
  cmd->add_option("--lead-seconds", a->lead_seconds, "Include a window this long before it starts")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Directory for the discovery files")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print the discovery JSON on stdout instead of a table");
  cmd->add_option("--shard", a->shard,
                  "Only the markets shard I of N recorders records (as `record --shard I/N`)")
      ->type_name("I/N");
  return [a] { return run_discover(*a); };
}

}  // namespace booktape::apps
