#pragma once
// Subcommands of the `booktape` binary. Each registers its options on the CLI and returns the
// function to run when chosen (exit code).
#include <functional>

namespace CLI {
class App;
}

namespace booktape::apps {

using Command = std::function<int()>;

Command add_books_command(CLI::App& app);
Command add_demo_command(CLI::App& app);
Command add_discover_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
Command add_record_command(CLI::App& app);
Command add_replay_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_sim_command(CLI::App& app);
Command add_top_command(CLI::App& app);
Command add_upload_command(CLI::App& app);
Command add_verify_command(CLI::App& app);

}  // namespace booktape::apps
