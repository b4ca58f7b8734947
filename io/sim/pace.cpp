#include "io/sim/pace.hpp"

#include <cmath>

namespace booktape {

const char* to_string(Pace p) noexcept { return p == Pace::kPoisson ? "poisson" : "steady"; }

bool parse_pace(std::string_view text, Pace& out) noexcept {
  if (text == "steady") {
    out = Pace::kSteady;
  } else if (text == "poisson") {
    out = Pace::kPoisson;
  } else {
    return false;
  }
  return true;
}

PoissonClock::PoissonClock(double rate, std::uint64_t seed) : rng_(seed), gap_s_(rate) {
  advance();  // the first frame comes one gap after the start, like every other
}

void PoissonClock::advance() noexcept {
  due_s_ += gap_s_(rng_);
  due_ns_ = std::llround(due_s_ * 1e9);
}

}  // namespace booktape
