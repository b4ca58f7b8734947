#include "core/thread_util.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>

namespace booktape {

std::string pin_current_thread(int cpu) {
  if (cpu < 0) return {};
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  return rc == 0 ? std::string() : "cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(rc);
}

void name_current_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

ScopedPin::ScopedPin(int cpu) {
  static_assert(sizeof(cpu_set_t) <= sizeof(saved_));
  if (cpu < 0) return;
  auto* saved = reinterpret_cast<cpu_set_t*>(saved_);
  if (pthread_getaffinity_np(pthread_self(), sizeof(cpu_set_t), saved) != 0) return;
  active_ = pin_current_thread(cpu).empty();
}

ScopedPin::~ScopedPin() {
  if (active_) {
    pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), reinterpret_cast<cpu_set_t*>(saved_));
  }
}

unsigned cpu_count() noexcept {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

}  // namespace booktape
