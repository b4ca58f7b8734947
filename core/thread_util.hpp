#pragma once
// Pinning and naming threads (Linux). A name shows in top/perf ("bt-net", "bt-book", ...).
#include <string>
#include <thread>

namespace booktape {

// Pins the calling thread to `cpu` (no-op for cpu < 0). Returns "" or why it failed.
std::string pin_current_thread(int cpu);
// Names the calling thread (at most 15 characters are kept).
void name_current_thread(const std::string& name);
// Online CPUs.
unsigned cpu_count() noexcept;

}  // namespace booktape
