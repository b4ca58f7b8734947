// booktape export DIR... --out OUT: normalized datasets in Tardis.dev's CSV layouts
// (docs/ORDERBOOK_SCHEMA.md, docs/ARCHIVE_TOOLS.md).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "apps/commands.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"
#include "io/replay/export_dataset.hpp"

namespace booktape::apps {

namespace {

struct ExportArgs {
  std::vector<std::string> inputs;
  std::string out;
  std::string kinds = "incremental_book_L2,book_snapshot,trades,quotes";
  std::string interval = "1s";
  int depth = 25;
  std::string from, to;
  std::vector<std::string> assets;
};

// "1s", "500ms", "100us", "2m", "0" (every change), or plain nanoseconds.
std::optional<std::int64_t> parse_interval(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < digits; ++i) n = n * 10 + (s[i] - '0');
  const std::string_view unit = s.substr(digits);
  if (unit.empty() || unit == "ns") return n;
  if (unit == "us") return n * 1'000;
  if (unit == "ms") return n * 1'000'000;
  if (unit == "s") return n * kNanosPerSecond;
  if (unit == "m") return n * 60 * kNanosPerSecond;
  if (unit == "h") return n * 3'600 * kNanosPerSecond;
  return std::nullopt;
}

int bad(const std::string& what) {
  std::fprintf(stderr, "booktape export: %s\n", what.c_str());
  return 2;
}

int run_export_command(const ExportArgs& a) {
  ExportOptions o;
  o.out = a.out;
  o.kinds.clear();
  for (std::size_t pos = 0; pos <= a.kinds.size();) {
    std::size_t comma = a.kinds.find(',', pos);
    if (comma == std::string::npos) comma = a.kinds.size();
    const std::string k = a.kinds.substr(pos, comma - pos);
    ExportKind kind{};
    if (!parse_export_kind(k, kind))
      return bad("--kinds: '" + k + "' is not a dataset; use incremental_book_L2, book_snapshot, "
                 "trades, quotes (comma-separated)");
    if (std::find(o.kinds.begin(), o.kinds.end(), kind) == o.kinds.end()) o.kinds.push_back(kind);
    pos = comma + 1;
  }
  const std::optional<std::int64_t> interval = parse_interval(a.interval);
  if (!interval) return bad("--interval '" + a.interval + "' is not a duration; use e.g. 1s, 500ms, 1m, or 0 (every change)");
  o.interval_ns = *interval;
  if (a.depth < 1 || a.depth > 1000) return bad("--depth must be 1..1000 levels per side");
  o.depth = a.depth;
  for (const auto& [text, slot] : {std::pair{&a.from, &o.from}, std::pair{&a.to, &o.to}}) {
    if (text->empty()) continue;
    *slot = parse_utc(*text);
    if (!*slot) return bad("'" + *text + "' is not a time; use e.g. 2026-11-21T05:00:00Z, a date, or ns since the epoch");
  }
  if (o.from && o.to && *o.to < *o.from) return bad("--to is before --from");
  for (const std::string& id : a.assets)
    if (id.empty()) return bad("--asset needs a token id");
  o.assets = a.assets;
  for (const std::string& in : a.inputs) o.inputs.emplace_back(in);
  // Receive times are the datasets' clock: plain frame files, which have none, are refused.
  std::vector<std::string> errors;
  const std::vector<std::filesystem::path> files = ArchiveReader::expand(o.inputs, errors);
  if (!errors.empty()) return bad(errors.front());
  for (const auto& f : files) {
    if (!parse_archive_file_name(closed_name_of(f.filename().string())))
      return bad(f.string() + " is not a booktape archive file: export needs receive times, which "
                              "plain frame files do not have");
  }
  if (isatty(STDERR_FILENO)) {
    o.progress = [](std::uint64_t frames, const std::filesystem::path& file) {
      std::fprintf(stderr, "\rexporting: %llu frames (%s)\033[K",
                   static_cast<unsigned long long>(frames), file.filename().c_str());
    };
  }
  const ExportResult r = run_export(o);
  if (o.progress) std::fprintf(stderr, "\r\033[K");
  std::uint64_t rows = 0;
  for (const ExportedFile& f : r.files) {
    rows += f.rows;
    std::printf("%-40s %10llu rows %12llu bytes\n", f.name.c_str(),
                static_cast<unsigned long long>(f.rows), static_cast<unsigned long long>(f.bytes));
  }
  std::printf("%llu frames replayed (%llu in range) in %.2f s (%.0f frames/s); %llu rows in %zu "
              "files; manifest %s\n",
              static_cast<unsigned long long>(r.frames),
              static_cast<unsigned long long>(r.frames_in_range), r.elapsed_seconds,
              r.elapsed_seconds > 0 ? static_cast<double>(r.frames) / r.elapsed_seconds : 0.0,
              static_cast<unsigned long long>(rows), r.files.size(),
              (o.out / std::string(kExportManifestName)).c_str());
  if (!r.note.empty()) std::printf("note: %s\n", r.note.c_str());
  if (r.damaged_files > 0)
    std::fprintf(stderr, "booktape export: %llu damaged input file(s): their missing frames are "
                         "missing here too (booktape verify says which)\n",
                 static_cast<unsigned long long>(r.damaged_files));
  for (const std::string& e : r.input_errors) std::fprintf(stderr, "booktape export: %s\n", e.c_str());
  return r.input_errors.empty() && r.damaged_files == 0 ? 0 : 1;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Derive normalized datasets from the raw archive as gzip CSV in Tardis.dev's layouts\n"
      "(incremental_book_L2, book_snapshot_N, trades, quotes; docs/ORDERBOOK_SCHEMA.md), one\n"
      "file per kind per UTC day, and export_manifest.json. The raw archive stays the truth.");
  cmd->add_option("inputs", args->inputs, "Data roots or archive files")->required();
  cmd->add_option("--out", args->out, "Output folder")->required();
  cmd->add_option("--kinds", args->kinds, "Datasets, comma-separated")->capture_default_str();
  cmd->add_option("--interval", args->interval,
                  "book_snapshot sampling interval (receive time): 1s, 500ms, 1m; 0 = every change")
      ->capture_default_str();
  cmd->add_option("--depth", args->depth, "book_snapshot levels per side")->capture_default_str();
  cmd->add_option("--from", args->from, "First receive time (ISO-8601 UTC, a date, or ns)");
  cmd->add_option("--to", args->to, "Last receive time (inclusive)");
  cmd->add_option("--asset", args->assets, "Only this token id (repeat for more)");
  return [args] { return run_export_command(*args); };
}

}  // namespace booktape::apps
