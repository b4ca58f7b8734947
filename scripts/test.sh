#!/usr/bin/env bash
# Builds and runs the whole test suite: the release build, the instruction-count gate and a
# short run of every fuzzer, then the same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh [--release-only]
#   scripts/test.sh --tsan    # only: ThreadSanitizer on the lock-free rings, the wait strategies,
#                             # the stage plumbing (the recorder tests) and the live consumers
#                             # (the book table's seqlock, the feed, their threads), ~12 minutes
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/fixtures/polymarket ]; then
  echo "test: ../shared/fixtures/polymarket is missing: the tests read the real captured" >&2
  echo "      Polymarket messages from the shared/ folder beside this checkout." >&2
  exit 1
fi

run_preset() {
  local preset="$1"
  echo "== $preset: build"
  scripts/build.sh "$preset"
  echo "== $preset: test"
  ctest --preset "$preset"
}

if [ "${1:-}" = "--tsan" ]; then
  echo "== tsan: build"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan --target core_tests record_tests consumers_tests
  echo "== tsan: rings, wait strategies, stages, consumers"
  ctest --preset tsan -R '^(FrameRing|SpscQueue|Doorbell|IdleStrategy|SleepStrategy|LatencyHistogram|Recorder|HourRollover|BookTable|ConsumerFeed|RedisPublisher|LiveConsumers)\.'
  exit 0
fi

run_preset release
echo "== release: instruction-count gate (docs/PERFORMANCE.md)"
perf/icount_gate.sh --binary build/release/perf/booktape_icount
perf/icount_gate.sh --prove >/dev/null
echo "== fuzz: every target for 20 s (docs/FUZZING.md)"
scripts/fuzz.sh 20
if [ "${1:-}" != "--release-only" ]; then
  run_preset asan
fi
echo "== all tests passed"
