// booktape merge A B ... --out M: redundant recorders' archives merged into one
// (docs/ARCHIVE_TOOLS.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "apps/commands.hpp"
#include "core/clock.hpp"
#include "io/archive/merge.hpp"
#include "io/archive/paths.hpp"

namespace booktape::apps {

namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string out;
  bool json = false;
};

int run_merge(const MergeArgs& a) {
  MergeOptions o;
  for (const std::string& in : a.inputs) o.inputs.emplace_back(in);
  o.out = a.out;
  o.log = [](std::string_view line) {
    std::fprintf(stderr, "%s booktape merge: %.*s\n", format_utc(realtime_now()).c_str(),
                 static_cast<int>(line.size()), line.data());
  };
  const MergeResult r = merge_archives(o);
  if (r.exit_code == 2) {
    std::fprintf(stderr, "booktape merge: %s\n", r.error.c_str());
    return 2;
  }
  const std::string json = r.json();
  try {
    const std::filesystem::path reports = o.out / "reports";
    make_private_dirs(reports);
    write_file_atomically(reports, "merge_report.json", json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booktape merge: cannot write the report: %s\n", e.what());
    return 1;
  }
  if (a.json) {
    std::fputs(json.c_str(), stdout);
    return r.exit_code;
  }
  std::printf("merged %llu frames into run %s (%llu duplicates dropped, %llu order conflicts)\n",
              static_cast<unsigned long long>(r.frames), r.run_id.c_str(),
              static_cast<unsigned long long>(r.duplicates),
              static_cast<unsigned long long>(r.order_conflicts));
  for (std::size_t i = 0; i < r.sources.size(); ++i) {
    const MergeSource& s = r.sources[i];
    std::printf("  recorder %zu %s: %llu frames read, first to receive %llu, only one to have "
                "%llu, %llu heartbeat answers left out%s\n",
                i, s.input.c_str(), static_cast<unsigned long long>(s.frames),
                static_cast<unsigned long long>(s.primary),
                static_cast<unsigned long long>(s.only_here),
                static_cast<unsigned long long>(s.control_frames),
                s.damaged_files > 0 ? (", " + std::to_string(s.damaged_files) + " DAMAGED file(s)").c_str() : "");
  }
  if (r.uncovered.empty()) {
    std::printf("  every moment from the first connection to the last was covered by a recorder\n");
  }
  for (const TimeInterval& u : r.uncovered) {
    std::printf("  UNCOVERED %s .. %s (%.3f s): no recorder had a connection\n",
                format_utc(u.from).c_str(), format_utc(u.to).c_str(),
                static_cast<double>(u.to - u.from) / 1e9);
  }
  std::printf("report %s\n", (o.out / "reports" / "merge_report.json").c_str());
  return r.exit_code;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Merge the archives of recorders that recorded the same markets at the same time into one\n"
      "archive holding every venue frame once: aligned by content, each recorder's gaps filled\n"
      "from the others, first receive time kept, times no recorder covered reported.");
  cmd->add_option("inputs", args->inputs, "Data roots, first one preferred")->required()->expected(2, -1);
  cmd->add_option("--out", args->out, "The merged data root (new or empty)")->required();
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  return [args] { return run_merge(*args); };
}

}  // namespace booktape::apps
