// booktape: a raw-first Polymarket market-data recorder. One binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "apps/commands.hpp"
#include "core/did_you_mean.hpp"
#include "core/version.hpp"

namespace {

// After "The following arguments were not expected: --outt x": the flag each unknown one was
// probably meant to be (as config keys do).
void suggest_flags(CLI::App& app) {
  // An unknown flag falls through to the top level: the candidates are the flags of the command
  // given and the top level's.
  std::vector<CLI::App*> apps = app.get_subcommands();
  apps.push_back(&app);
  std::vector<std::string> names;
  for (CLI::App* cmd : apps)
    for (const CLI::Option* o : cmd->get_options())
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  for (const std::string& given : app.remaining(true)) {
    if (!given.starts_with("--")) continue;
    const std::string flag = given.substr(0, given.find('='));
    const std::string best = booktape::closest_name(flag, names);
    if (!best.empty()) std::fprintf(stderr, "%s: did you mean %s?\n", flag.c_str(), best.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"booktape " BOOKTAPE_VERSION
               ": records Polymarket's CLOB market channel raw-first, keeps exact L2 books, and "
               "replays the archive.\nSee README.md and docs/ for the data contract."};
  app.set_version_flag("--version", "booktape " BOOKTAPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  const booktape::apps::Command books = booktape::apps::add_books_command(app);
  const booktape::apps::Command demo = booktape::apps::add_demo_command(app);
  const booktape::apps::Command discover = booktape::apps::add_discover_command(app);
  const booktape::apps::Command export_ = booktape::apps::add_export_command(app);
  const booktape::apps::Command merge = booktape::apps::add_merge_command(app);
  const booktape::apps::Command record = booktape::apps::add_record_command(app);
  const booktape::apps::Command replay = booktape::apps::add_replay_command(app);
  const booktape::apps::Command report = booktape::apps::add_report_command(app);
  const booktape::apps::Command sim = booktape::apps::add_sim_command(app);
  const booktape::apps::Command top = booktape::apps::add_top_command(app);
  const booktape::apps::Command upload = booktape::apps::add_upload_command(app);
  const booktape::apps::Command verify = booktape::apps::add_verify_command(app);

  const auto is_command = [&app](const char* word) {
    const auto named = [word](CLI::App* c) { return c->check_name(word); };
    return !app.get_subcommands(named).empty();
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::fprintf(stderr,
                 "booktape: unknown command '%s' (commands: books, demo, discover, export, "
                 "merge, record, replay, report, sim, top, upload, verify; see booktape --help)\n",
                 argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a bad argument: 2, as documented
    // (CLI11's own codes are 100 and up).
    const int code = app.exit(e) == 0 ? 0 : 2;
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) suggest_flags(app);
    return code;
  }
  try {
    if (app.got_subcommand("books")) return books();
    if (app.got_subcommand("demo")) return demo();
    if (app.got_subcommand("discover")) return discover();
    if (app.got_subcommand("export")) return export_();
    if (app.got_subcommand("merge")) return merge();
    if (app.got_subcommand("record")) return record();
    if (app.got_subcommand("replay")) return replay();
    if (app.got_subcommand("report")) return report();
    if (app.got_subcommand("sim")) return sim();
    if (app.got_subcommand("top")) return top();
    if (app.got_subcommand("upload")) return upload();
    if (app.got_subcommand("verify")) return verify();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booktape: %s\n", e.what());
    return 1;
  }
  return 0;
}
