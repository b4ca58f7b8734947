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

// Pins the calling thread to `cpu` (nothing for cpu < 0) while it lives, then gives the thread
// back the cpus it had.
class ScopedPin {
 public:
  explicit ScopedPin(int cpu);
  ~ScopedPin();
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

 private:
  alignas(8) unsigned char saved_[128];  // a cpu_set_t (1024 cpus), kept opaque here
  bool active_ = false;
};

}  // namespace booktape
