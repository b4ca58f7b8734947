// booktape replay PATH...: rebuild books from archives, validate, summarise (docs/REPLAY.md).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <memory>

#include "apps/commands.hpp"
#include "codecs/book_json.hpp"
#include "codecs/polymarket_events.hpp"
#include "io/replay/replayer.hpp"

namespace booktape::apps {

namespace {

struct ReplayArgs {
  std::vector<std::string> paths;
  bool json = false;
  bool verify = false;
  std::string dump_books;
  std::string asset;
  std::string at;
  bool asset_given = false, at_given = false;
};

void print_human(const Replayer& r) {
  const ReplaySummary& s = r.summary();
  const auto& d = r.decoder_stats();
  const KeeperTotals& k = r.books().totals();
  std::array<std::uint64_t, kBookStateCount> by_state{};
  for (std::size_t i = 0; i < r.books().size(); ++i)
    ++by_state[static_cast<std::size_t>(r.books().book(static_cast<TokenIndex>(i)).state)];
  const auto count = [&](BookState st) {
    return static_cast<unsigned long long>(by_state[static_cast<std::size_t>(st)]);
  };
  std::printf("files      %zu read", s.files.size());
  for (const FileReport& f : s.files) {
    if (f.damaged()) {
      std::printf("\n  DAMAGED %s: %s", f.path.c_str(),
                  (f.manifest == ManifestCheck::kMismatch ? f.manifest_problem : f.error).c_str());
      for (const CorruptSpan& c : f.corrupt_spans)
        std::printf("\n    unreadable: %llu bytes at byte %llu%s", static_cast<unsigned long long>(c.bytes),
                    static_cast<unsigned long long>(c.offset),
                    c.rows > 0 ? (" (" + std::to_string(c.rows) + " rows)").c_str() : "");
    } else if (f.torn_tail_bytes > 0) {
      std::printf("\n  %s: %s (%llu bytes cut off)", f.path.c_str(), f.error.c_str(),
                  static_cast<unsigned long long>(f.torn_tail_bytes));
    }
  }
  std::printf("\nframes     %llu in %.2f s (%.0f frames/s)\n",
              static_cast<unsigned long long>(s.frames), s.elapsed_seconds,
              s.elapsed_seconds > 0 ? static_cast<double>(s.frames) / s.elapsed_seconds : 0.0);
  if (s.first_received != 0) {
    std::printf("received   %s .. %s\n", format_utc(s.first_received).c_str(),
                format_utc(s.last_received).c_str());
  }
  std::printf("events    ");
  for (std::size_t i = 0; i < d.events_by_type.size(); ++i) {
    if (d.events_by_type[i] != 0)
      std::printf(" %s=%llu", to_string(static_cast<polymarket::EventType>(i)),
                  static_cast<unsigned long long>(d.events_by_type[i]));
  }
  std::printf("\nkinds     ");
  for (std::size_t i = 0; i < d.frames_by_kind.size(); ++i) {
    if (d.frames_by_kind[i] != 0)
      std::printf(" %s=%llu", to_string(static_cast<polymarket::FrameKind>(i)),
                  static_cast<unsigned long long>(d.frames_by_kind[i]));
  }
  std::printf("\ntokens     %zu (%llu live, %llu unconfirmed, %llu stale)\n", r.books().size(),
              count(BookState::kLive), count(BookState::kUnconfirmed), count(BookState::kStale));
  std::printf("ticks      %llu tick size changes; books kept across them: %llu confirmed, %llu "
              "disagreed (stale)\n",
              static_cast<unsigned long long>(k.tick_size_changes),
              static_cast<unsigned long long>(k.confirmations),
              static_cast<unsigned long long>(k.disagreements));
  std::printf("checks     %llu against the venue's best bid/ask, %llu divergences\n",
              static_cast<unsigned long long>(k.checks),
              static_cast<unsigned long long>(k.divergences));
  std::printf("suppressed %llu changes before a snapshot; %llu bad updates\n",
              static_cast<unsigned long long>(k.changes_suppressed),
              static_cast<unsigned long long>(k.bad_updates));
  std::printf("sequences  %llu gaps (%llu frames missing), %llu backwards\n",
              static_cast<unsigned long long>(s.global.gaps + s.per_session.gaps),
              static_cast<unsigned long long>(s.global.missing),
              static_cast<unsigned long long>(s.global.backwards + s.per_session.backwards));
  if (s.losses.records > 0 || s.oversized_frames > 0) {
    std::printf("lost       %llu frames named in %llu loss record(s), %llu unknown tail(s) "
                "(crashes), %llu bytes unread at stops; %llu oversized frames skipped as stubs\n",
                static_cast<unsigned long long>(s.losses.frames_lost),
                static_cast<unsigned long long>(s.losses.records),
                static_cast<unsigned long long>(s.losses.unknown_tails),
                static_cast<unsigned long long>(s.losses.unread_bytes),
                static_cast<unsigned long long>(s.oversized_frames));
  }
  for (const std::string& e : s.errors) std::printf("error      %s\n", e.c_str());
}

int run_replay(const ReplayArgs& a) {
  ReplayOptions opt;
  opt.verify_sha256 = a.verify;
  if (a.asset_given && a.asset.empty()) {
    std::fprintf(stderr, "booktape replay: --asset needs a token id\n");
    return 2;
  }
  if (a.at_given && a.at.empty()) {
    std::fprintf(stderr, "booktape replay: --at needs a time, e.g. 2026-11-21T05:34:12.5Z\n");
    return 2;
  }
  if (!a.at.empty()) {
    opt.stop_after = parse_utc(a.at);
    if (!opt.stop_after) {
      std::fprintf(stderr,
                   "booktape replay: --at '%s' is not a time; use e.g. "
                   "2026-11-21T05:34:12.5Z or nanoseconds since the epoch\n",
                   a.at.c_str());
      return 2;
    }
  }
  if (isatty(STDERR_FILENO)) {
    opt.progress = [](std::uint64_t frames, const std::filesystem::path& file) {
      std::fprintf(stderr, "\rreplaying: %llu frames (%s)\033[K",
                   static_cast<unsigned long long>(frames), file.filename().c_str());
    };
  }
  auto replayer = std::make_unique<Replayer>(opt);
  const std::vector<std::filesystem::path> inputs(a.paths.begin(), a.paths.end());
  const ReplaySummary& s = replayer->run(inputs);
  if (opt.progress) std::fprintf(stderr, "\r\033[K");

  if (opt.stop_after && s.frames_without_envelope > 0) {
    std::fprintf(stderr,
                 "booktape replay: --at needs receive times, but %llu frames came from plain "
                 "frame files, which have none\n",
                 static_cast<unsigned long long>(s.frames_without_envelope));
    return 2;
  }
  if (!a.dump_books.empty()) {
    std::ofstream out(a.dump_books, std::ios::binary | std::ios::trunc);
    out << books_json(replayer->books());
    out.close();  // a small dump fails only here (a full disk, /dev/full)
    if (!out) {
      std::fprintf(stderr, "booktape replay: cannot write %s\n", a.dump_books.c_str());
      return 1;
    }
  }
  if (!a.asset.empty()) {
    const TokenIndex t = replayer->books().find(a.asset);
    if (t == kNoToken) {
      std::fprintf(stderr, "booktape replay: no frame for asset %s%s\n", a.asset.c_str(),
                   a.at.empty() ? "" : " at or before that time");
      return 1;
    }
    std::printf("%s\n", book_view_json(replayer->books(), t).c_str());
  } else if (a.json) {
    std::fputs(replayer->summary_json().c_str(), stdout);
  } else {
    print_human(*replayer);
  }
  if (s.files.empty()) {
    std::fprintf(stderr, "booktape replay: no archive files found in the given paths\n");
    return 1;
  }
  const auto damaged = std::count_if(s.files.begin(), s.files.end(),
                                     [](const FileReport& f) { return f.damaged(); });
  if (damaged > 0) {
    std::fprintf(stderr,
                 "booktape replay: %lld damaged archive file(s): frames are missing (booktape "
                 "verify checks the whole archive)\n",
                 static_cast<long long>(damaged));
  }
  return s.errors.empty() && !damaged ? 0 : 1;
}

}  // namespace

Command add_replay_command(CLI::App& app) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Rebuild every book from archives in receive order and report what was seen.\n"
      "Reads booktape archives (directories or files, including .open files left by a crash) "
      "and plain frame files (.jsonl/.jsonl.gz, one websocket frame per line).");
  cmd->add_option("paths", args->paths, "Archive files or directories")->required();
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object (docs/REPLAY.md)");
  cmd->add_option("--dump-books", args->dump_books,
                  "Write the final books as JSON to FILE (best level first)");
  auto* asset = cmd->add_option("--asset", args->asset,
                                "Print this token's book (with --at: as of that time)");
  auto* at = cmd->add_option("--at", args->at,
                             "Stop at this receive time (ISO-8601 UTC or ns since the epoch)")
                 ->needs(asset);

  cmd->add_flag("--verify", args->verify, "Recompute every payload's sha256 against the archive");
  return [args, asset, at] {
    args->asset_given = asset->count() > 0;  // given, even if empty
    args->at_given = at->count() > 0;
    return run_replay(*args);
  };
}

}  // namespace booktape::apps
