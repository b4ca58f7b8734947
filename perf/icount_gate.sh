#!/usr/bin/env bash
# The latency-regression gate: instructions per unit of every hot path (perf/icount.cpp), counted
# by valgrind's callgrind, against the committed baseline perf/icount_baseline.txt. Fails when a
# path costs more than ICOUNT_TOLERANCE_PCT (default 5) percent over its baseline, or when a
# path and the baseline disagree on which paths exist. Instruction counts, unlike times, do not
# move with the load of a shared machine; they do move with the toolchain and library versions
# (Debian 12's g++ 12, simdjson, libdeflate, OpenSSL), which is why the baseline is per commit.
#
#   perf/icount_gate.sh              # build (release preset), count, compare
#   perf/icount_gate.sh --update     # count and write the baseline; commit it with the reason
#   perf/icount_gate.sh --prove      # build a deliberately slowed decoder in build/icount-slow
#                                    # (BOOKTAPE_SLOW_HOT_PATH) and check the gate rejects it
#   perf/icount_gate.sh --binary B [--subset]
#                                    # count this binary instead; --subset: compare only the
#                                    # paths it has (booktape_icount_core has no archive stage)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

baseline=perf/icount_baseline.txt
tolerance="${ICOUNT_TOLERANCE_PCT:-5}"
mode=check
binary=""
subset=0
while [ $# -gt 0 ]; do
  case "$1" in
    --update) mode=update ;;
    --prove) mode=prove ;;
    --binary) binary="${2:?--binary needs a path}"; shift ;;
    --subset) subset=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "icount_gate: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
command -v valgrind >/dev/null || { echo "icount_gate: valgrind is missing (scripts/install-deps.sh)" >&2; exit 2; }

if [ "$mode" = prove ]; then
  # The release flags plus the test-only slowdown, in a tree of its own; only core and codecs
  # are built (booktape_icount_core), so this takes about a minute.
  cmake -S . -B build/icount-slow -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBOOKTAPE_BUILD_TESTS=OFF -DBOOKTAPE_SLOW_HOT_PATH=ON >/dev/null
  cmake --build build/icount-slow --target booktape_icount_core >/dev/null
  status=0
  "$0" --binary build/icount-slow/perf/booktape_icount_core --subset >"build/icount-slow/gate.txt" 2>&1 || status=$?
  cat build/icount-slow/gate.txt
  if [ "$status" -ne 1 ] || ! grep -q '^decode_apply/.*REGRESSION$' build/icount-slow/gate.txt; then
    echo "icount_gate: FAILED to prove itself: the slowed decoder was not rejected as a regression" >&2
    exit 1
  fi
  echo "icount_gate: proved: the deliberately slowed decoder was rejected"
  exit 0
fi

if [ -z "$binary" ]; then
  scripts/build.sh release >/dev/null
  binary=build/release/perf/booktape_icount
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One callgrind dump per path ("desc: Trigger: Client Request: <path>", "summary: <Ir>");
# the program prints "<path> <units>".
valgrind --tool=callgrind --callgrind-out-file="$work/cg" --dump-instr=no --dump-line=no \
  --compress-strings=no --compress-pos=no "$binary" >"$work/units" 2>"$work/valgrind.log" || {
  cat "$work/valgrind.log" >&2
  echo "icount_gate: $binary failed under valgrind" >&2
  exit 2
}
for f in "$work"/cg.*; do
  awk '/^desc: Trigger: Client Request: /{name=$5} /^summary: /{ir=$2} END{if (name) print name, ir}' "$f"
done | sort >"$work/ir"
join <(sort "$work/units") "$work/ir" |
  awk '{printf "%s %.1f\n", $1, $3 / $2}' >"$work/now"
[ -s "$work/now" ] || { echo "icount_gate: no counts (is $binary built with valgrind/callgrind.h?)" >&2; exit 2; }

if [ "$mode" = update ]; then
  {
    echo "# Instructions per unit of each hot path (perf/icount.cpp), counted by callgrind."
    echo "# Written by perf/icount_gate.sh --update; commit changes with the reason."
    cat "$work/now"
  } >"$baseline"
  echo "icount_gate: wrote $baseline ($(wc -l <"$work/now") paths)"
  exit 0
fi

[ -f "$baseline" ] || { echo "icount_gate: no baseline $baseline (run --update)" >&2; exit 2; }
grep -v '^#' "$baseline" | sort >"$work/base"
join -a1 -a2 -e MISSING -o 0,1.2,2.2 "$work/base" <(sort "$work/now") |
  awk -v tol="$tolerance" -v subset="$subset" '
    BEGIN { printf "%-40s %12s %12s %8s\n", "path", "baseline", "now", "change"; bad = 0 }
    $2 == "MISSING" { printf "%-40s %12s %12s %8s  NOT IN BASELINE\n", $1, "-", $3, "-"; bad = 1; next }
    $3 == "MISSING" && subset { next }
    $3 == "MISSING" { printf "%-40s %12s %12s %8s  GONE\n", $1, $2, "-", "-"; bad = 1; next }
    {
      change = ($3 - $2) * 100 / $2
      flag = change > tol ? "  REGRESSION" : (change < -tol ? "  faster: update the baseline" : "")
      if (change > tol) bad = 1
      printf "%-40s %12.1f %12.1f %+7.2f%%%s\n", $1, $2, $3, change, flag
    }
    END { exit bad }' && status=0 || status=$?
if [ "$status" -ne 0 ]; then
  echo "icount_gate: FAIL: a hot path costs more than ${tolerance}% over $baseline, or the paths changed" >&2
  exit 1
fi
echo "icount_gate: pass (tolerance ${tolerance}%)"
