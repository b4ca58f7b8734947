// booktape report ROOT: seed 002's soak report, markdown, JSON and SVG plots
// (docs/ARCHIVE_TOOLS.md).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "apps/commands.hpp"
#include "io/archive/verify.hpp"
#include "io/replay/soak_report.hpp"

namespace booktape::apps {

namespace {

struct ReportArgs {
  std::string root;
  std::string since;
  std::string out;
  bool json = false;
};

int run_report(const ReportArgs& a) {
  std::error_code ec;
  if (!std::filesystem::is_directory(a.root, ec) || !is_data_root(a.root)) {
    std::fprintf(stderr,
                 "booktape report: %s is not a data root (no raw_orderbooks/ or manifests/ in it; "
                 "give the --out of booktape record)\n",
                 a.root.c_str());
    return 2;
  }
  SoakReportOptions o;
  o.root = a.root;
  if (!a.since.empty()) {
    o.since = parse_utc(a.since);
    if (!o.since) {
      std::fprintf(stderr, "booktape report: --since '%s' is not a time; use e.g. "
                           "2026-11-21T00:00:00Z, a date, or ns since the epoch\n", a.since.c_str());
      return 2;
    }
  }
  if (isatty(STDERR_FILENO)) {
    o.progress = [](std::uint64_t frames, const std::filesystem::path& file) {
      std::fprintf(stderr, "\rreading: %llu frames (%s)\033[K",
                   static_cast<unsigned long long>(frames), file.filename().c_str());
    };
  }
  const SoakReport r = build_soak_report(o);
  if (o.progress) std::fprintf(stderr, "\r\033[K");
  const std::filesystem::path dir =
      a.out.empty() ? std::filesystem::path(a.root) / "reports" : std::filesystem::path(a.out);
  std::filesystem::path md;
  try {
    md = write_soak_report(r, dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booktape report: cannot write the report: %s\n", e.what());
    return 1;
  }
  if (a.json) {
    std::fputs(r.json().c_str(), stdout);
  } else {
    std::printf("report %s (and .json, 3 SVG plots)\n", md.c_str());
    for (const std::string& f : r.findings) std::printf("  - %s\n", f.c_str());
  }
  return 0;
}

}  // namespace

Command add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write the soak report of a data root (seed 002, checkpoint 8): uptime, markets, frames,\n"
      "reconnects and time missed, API errors and rate limits, file sizes, compression, upload\n"
      "status, restarts, disk use, data quality; markdown, JSON and SVG plots under reports/.");
  cmd->add_option("root", args->root, "The data root (the --out of booktape record)")->required();
  cmd->add_option("--since", args->since, "Count from this time on (ISO-8601 UTC, a date, or ns)");
  cmd->add_option("--out", args->out, "Write the report here instead of ROOT/reports");
  cmd->add_flag("--json", args->json, "Also print the JSON report");
  return [args] { return run_report(*args); };
}

}  // namespace booktape::apps
