// Pinning and naming threads, on the real scheduler.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <thread>

#include "core/thread_util.hpp"

namespace booktape {
namespace {

cpu_set_t affinity() {
  cpu_set_t s;
  CPU_ZERO(&s);
  pthread_getaffinity_np(pthread_self(), sizeof s, &s);
  return s;
}

TEST(ThreadUtil, ScopedPinPinsThenGivesBackTheCpusTheThreadHad) {
  std::thread([] {
    const cpu_set_t before = affinity();
    {
      const ScopedPin pin(0);
      const cpu_set_t now = affinity();
      EXPECT_EQ(CPU_COUNT(&now), 1);
      EXPECT_TRUE(CPU_ISSET(0, &now));
    }
    const cpu_set_t after = affinity();
    EXPECT_TRUE(CPU_EQUAL(&before, &after));
  }).join();
}

TEST(ThreadUtil, NoCpuMeansNoPinning) {
  std::thread([] {
    const cpu_set_t before = affinity();
    { const ScopedPin pin(-1); }
    const cpu_set_t after = affinity();
    EXPECT_TRUE(CPU_EQUAL(&before, &after));
    EXPECT_EQ(pin_current_thread(-1), "");
  }).join();
}

TEST(ThreadUtil, AnImpossibleCpuIsAnErrorNotACrash) {
  std::thread([] {
    EXPECT_NE(pin_current_thread(1023), "");  // no machine here has 1024 cpus
    const ScopedPin pin(1023);                // and the scoped form just does nothing
  }).join();
}

}  // namespace
}  // namespace booktape
