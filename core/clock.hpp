#pragma once
// Time as typed integer nanoseconds. Receive times are CLOCK_REALTIME (what the archive shows);
// latencies use CLOCK_MONOTONIC_RAW, which NTP cannot slew or step.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace booktape {

using UnixNanos = std::int64_t;  // ns since 1970-01-01T00:00:00Z, CLOCK_REALTIME
using MonoNanos = std::int64_t;  // ns on CLOCK_MONOTONIC_RAW; only differences mean anything

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNanosPerHour = 3'600 * kNanosPerSecond;

UnixNanos realtime_now() noexcept;
MonoNanos monotonic_now() noexcept;

struct CivilTime {
  int year, month, day, hour, minute, second;
  std::int32_t nanos;
};
CivilTime to_civil(UnixNanos t) noexcept;

// "2026-11-21T05:34:12.123456789Z": always 30 chars, nanosecond precision.
inline constexpr std::size_t kUtcTextLength = 30;
void format_utc(char* out, UnixNanos t) noexcept;
std::string format_utc(UnixNanos t);

// Accepts "YYYY-MM-DD[T| ]HH:MM:SS[.f{1,9}][Z|+00:00]" (always UTC: no zone means UTC), a date
// alone ("YYYY-MM-DD", midnight UTC), or an integer count of nanoseconds since the epoch.
// nullopt for anything else, including impossible dates (02-30) and leap seconds (:60).
std::optional<UnixNanos> parse_utc(std::string_view text) noexcept;

inline UnixNanos utc_hour_start(UnixNanos t) noexcept {
  const std::int64_t h = t >= 0 ? t / kNanosPerHour : (t - kNanosPerHour + 1) / kNanosPerHour;
  return h * kNanosPerHour;
}

}  // namespace booktape
