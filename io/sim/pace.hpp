#pragma once
// When the simulator sends its next frame. `steady` (the default) sends `burst` frames back to
// back on a fixed tick, which keeps a fast pace cheap; `poisson` sends one frame per write at
// random times, the gaps drawn from an exponential distribution with the mean rate, which is how
// a live venue's frames arrive (many independent orders): what a recorder meets in production,
// where it cannot count on bursts to amortise its wake-ups (issue 21).
#include <cstdint>
#include <random>
#include <string_view>

namespace booktape {

enum class Pace : std::uint8_t { kSteady, kPoisson };
const char* to_string(Pace p) noexcept;
bool parse_pace(std::string_view text, Pace& out) noexcept;

// The due times of Poisson arrivals at `rate` frames/s: deterministic for a seed, so a run can be
// repeated and a test can compute when the n-th frame is due.
class PoissonClock {
 public:
  PoissonClock(double rate, std::uint64_t seed);

  // Nanoseconds since the start of generation at which the next frame is due.
  [[nodiscard]] std::int64_t due_ns() const noexcept { return due_ns_; }
  // The frame due now was sent: draws the gap to the next one.
  void advance() noexcept;

 private:
  std::mt19937_64 rng_;
  std::exponential_distribution<double> gap_s_;
  double due_s_ = 0;  // kept in seconds and rounded once per frame: no drift from rounding
  std::int64_t due_ns_ = 0;
};

}  // namespace booktape
