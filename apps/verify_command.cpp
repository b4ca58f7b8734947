// booktape verify DIR...: check data roots against their manifests (docs/ARCHIVE_TOOLS.md).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "apps/commands.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/verify.hpp"

namespace booktape::apps {

namespace {

struct VerifyArgs {
  std::vector<std::string> roots;
  bool json = false;
  std::string report;
  bool no_label = false;
  bool fast = false;
};

void print_human(const VerifyResult& r) {
  for (const RootVerification& root : r.roots) {
    std::printf("%s\n", root.root.c_str());
    for (const std::string& e : root.errors) std::printf("  ERROR %s\n", e.c_str());
    std::uint64_t ok = 0;
    for (const VerifiedFile& f : root.files) {
      if (f.verdict == FileVerdict::kOk) {
        ++ok;
        continue;
      }
      std::printf("  %-18s %s\n", to_string(f.verdict), f.path.c_str());
      for (const std::string& p : f.problems) std::printf("      %s\n", p.c_str());
      if (!f.label_written.empty())
        std::printf("      labelled %s in its manifest\n", f.label_written.c_str());
    }
    std::printf("  %llu file(s) match their manifest entries\n",
                static_cast<unsigned long long>(ok));
    for (const RunSummary& run : root.runs) {
      std::printf("  run %s: %llu file(s), sequences %llu..%llu, %llu lost (recorded), %llu "
                  "missing (unexplained), %llu loss record(s)\n",
                  run.run_id.c_str(), static_cast<unsigned long long>(run.files),
                  static_cast<unsigned long long>(run.first_sequence),
                  static_cast<unsigned long long>(run.last_sequence),
                  static_cast<unsigned long long>(run.lost_recorded),
                  static_cast<unsigned long long>(run.missing_unexplained),
                  static_cast<unsigned long long>(run.loss_records));
    }
    for (const SequenceGap& g : root.gaps) {
      std::printf("  gap %s %llu..%llu (%llu frames) %s: %s\n", g.run_id.c_str(),
                  static_cast<unsigned long long>(g.first), static_cast<unsigned long long>(g.last),
                  static_cast<unsigned long long>(g.last - g.first + 1), g.where.c_str(),
                  g.recorded_loss ? ("lost (recorded: " + g.loss_reason + ")").c_str()
                  : g.in_damaged_file ? "in a damaged or missing file"
                                      : "UNEXPLAINED");
    }
  }
  std::printf("%s\n", r.ok() ? "verify: OK" : "verify: FAILED");
}

int run_verify(const VerifyArgs& a) {
  std::vector<std::filesystem::path> roots;
  for (const std::string& d : a.roots) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec)) {
      std::fprintf(stderr, "booktape verify: %s is not a directory (give a data root, the --out "
                           "of booktape record)\n", d.c_str());
      return 2;
    }
    if (!is_data_root(d)) {
      std::fprintf(stderr,
                   "booktape verify: %s is not a data root: it has neither raw_orderbooks/ nor "
                   "manifests/ (give the --out of booktape record)\n",
                   d.c_str());
      return 2;
    }
    roots.emplace_back(d);
  }
  VerifyOptions o;
  o.label = !a.no_label;
  o.verify_payloads = !a.fast;
  if (isatty(STDERR_FILENO)) {
    o.progress = [](std::uint64_t files, std::uint64_t frames, const std::string& file) {
      std::fprintf(stderr, "\rverifying: %llu files, %llu frames (%s)\033[K",
                   static_cast<unsigned long long>(files), static_cast<unsigned long long>(frames),
                   file.c_str());
    };
  }
  const VerifyResult r = verify_archive(roots, o);
  if (o.progress) std::fprintf(stderr, "\r\033[K");
  const std::string json = r.json();
  if (!a.report.empty()) {
    const std::filesystem::path p(a.report);
    try {
      write_file_atomically(p.parent_path().empty() ? "." : p.parent_path(),
                            p.filename().string(), json);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "booktape verify: cannot write the report: %s\n", e.what());
      return 1;
    }
  }
  if (a.json) {
    std::fputs(json.c_str(), stdout);
  } else {
    print_human(r);
  }
  return r.ok() ? 0 : 1;
}

}  // namespace

Command add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check data roots against their manifests: files (sha256, bytes, rows, members), gzip\n"
      "CRCs, payload sha256s, sequence continuity (loss records explain gaps), .open and\n"
      "unlisted files. Failing files are labelled invalid in their manifest. Exit 1 on a failure.");
  cmd->add_option("roots", args->roots, "Data roots (the --out of booktape record)")->required();
  cmd->add_flag("--json", args->json, "Print the report as JSON (docs/ARCHIVE_TOOLS.md)");
  cmd->add_option("--report", args->report, "Also write the JSON report to FILE");
  cmd->add_flag("--no-label", args->no_label,
                "Do not append labels to the manifests (a read-only check, e.g. of a mounted copy)");
  cmd->add_flag("--fast", args->fast,
                "Skip recomputing each payload's sha256 (files' sha256 and CRCs are still checked)");
  return [args] { return run_verify(*args); };
}

}  // namespace booktape::apps
