// booktape: a raw-first Polymarket market-data recorder. One binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "apps/commands.hpp"
#include "core/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"booktape " BOOKTAPE_VERSION
               ": records Polymarket's CLOB market channel raw-first, keeps exact L2 books, and "
               "replays the archive.\nSee README.md and docs/ for the data contract."};
  app.set_version_flag("--version", "booktape " BOOKTAPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  const booktape::apps::Command demo = booktape::apps::add_demo_command(app);
  const booktape::apps::Command discover = booktape::apps::add_discover_command(app);
  const booktape::apps::Command record = booktape::apps::add_record_command(app);
  const booktape::apps::Command replay = booktape::apps::add_replay_command(app);
  const booktape::apps::Command sim = booktape::apps::add_sim_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (app.got_subcommand("demo")) return demo();
    if (app.got_subcommand("discover")) return discover();
    if (app.got_subcommand("record")) return record();
    if (app.got_subcommand("replay")) return replay();
    if (app.got_subcommand("sim")) return sim();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booktape: %s\n", e.what());
    return 1;
  }
  return 0;
}
