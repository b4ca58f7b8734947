#pragma once
// The live consumers end to end (docs/CONSUMERS.md, docs/PERFORMANCE.md "Consumers"): the same
// simulated stream recorded with and without the archive, with and without Redis publishing,
// with alerts to a webhook; whole-process CPU per frame for each, and frame -> subscriber /
// frame -> webhook latency measured where a consumer sees it (arrival time minus the
// message's received_at_utc, both CLOCK_REALTIME on this host).
#include <filesystem>
#include <string>
#include <vector>

namespace booktape::perf {

// Writes DIR/consumers-<time>/report.md and prints it; returns 0 (a harness measures, it does
// not judge) or 1 when a run failed.
int run_consumers(const std::filesystem::path& binary, const std::vector<std::string>& rates,
                  double seconds, const std::filesystem::path& out);

}  // namespace booktape::perf
