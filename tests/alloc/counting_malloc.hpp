#pragma once
// Counts every heap allocation the process makes while counting is on, by replacing malloc and
// friends for this executable (glibc lets a program interpose them). operator new, simdjson,
// libdeflate and OpenSSL all allocate through these.
#include <cstddef>

namespace booktape::testing {

void set_counting(bool on) noexcept;
long allocations() noexcept;

// Counts allocations made during `fn()`.
template <typename F>
long count_allocations(F&& fn) {
  const long before = allocations();
  set_counting(true);
  fn();
  set_counting(false);
  return allocations() - before;
}

}  // namespace booktape::testing
