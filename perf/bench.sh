#!/usr/bin/env bash
# Runs the Google Benchmark suite with repetitions and prints the medians (the numbers in
# docs/PERFORMANCE.md). Full results go to perf/results/bench-<time>.json (not committed).
#   perf/bench.sh                 # everything (~3 minutes on 2 cores)
#   perf/bench.sh 'DecodeApply|SimdjsonDom'   # a filter (regex)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release >/dev/null
mkdir -p perf/results
out="perf/results/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
build/release/bench/booktape_bench \
  --benchmark_filter="${1:-.}" \
  --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true \
  --benchmark_display_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json 2>&1 | grep -E '^(Run on|CPU|BM_.*_median)'
echo "full results: $out"
