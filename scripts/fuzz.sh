#!/usr/bin/env bash
# Builds the `fuzz` preset and runs each libFuzzer target for SECONDS_PER_TARGET (default 60)
# on a copy of its committed corpus plus the shared fixtures, in a temp dir: the repo corpus
# never grows. Exits non-zero on any crash, leak, timeout or out-of-memory, and prints where
# the offending input was kept. docs/FUZZING.md says what each target checks.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail

seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2; exit 2; }
cd "$(dirname "$0")/.."
fixtures="${BOOKTAPE_SHARED_DIR:-../shared}/fixtures/polymarket"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

work="$(mktemp -d "${TMPDIR:-/tmp}/booktape-fuzz.XXXXXX")"
export TMPDIR="$work"  # the targets' own scratch files go here too

# Input size limits: frames in the decoder target are split at newlines and its decoder is
# built with a 16 KiB frame limit and a 512-byte parser, so growth and oversized frames are
# reached with 64 KiB inputs; multi-MB frames would only slow every mutation down. Archives need
# room for a few gzip members; configs are small.
declare -A max_len=([frame_decoder]=65536 [decoder_differential]=65536 [archive_reader]=262144
                   [recorder_config]=16384)

failed=()
for target in frame_decoder decoder_differential archive_reader recorder_config; do
  dir="$work/$target"
  mkdir -p "$dir/artifacts"
  cp -r "fuzz/corpus/$target" "$dir/corpus"
  # The real captured frames make better seeds than anything we write; one frame a line.
  if [ -d "$fixtures" ]; then
    case "$target" in
      frame_decoder|decoder_differential)
        for f in "$fixtures"/ws_*.json; do tr -d '\n' <"$f" >"$dir/corpus/fixture_$(basename "$f" .json)"; done ;;
      archive_reader)
        for f in "$fixtures"/ws_*.json; do tr -d '\n' <"$f"; echo; done >"$dir/corpus/fixture_plain_frames" ;;
    esac
  fi
  echo "fuzz: $target for ${seconds}s (log: $dir/log)"
  status=0
  "build/fuzz/fuzz/${target}_fuzzer" "$dir/corpus" \
    -max_total_time="$seconds" -max_len="${max_len[$target]}" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 >"$dir/log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$dir/log" | sed 's/^/  /' || true
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    echo "fuzz: $target FAILED (exit $status); last lines of $dir/log:" >&2
    tail -n 40 "$dir/log" >&2
    for a in "$dir"/artifacts/*; do
      [ -e "$a" ] && echo "fuzz: input kept at $a (reproduce: build/fuzz/fuzz/${target}_fuzzer $a)" >&2
    done
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (everything is kept in $work)" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz: all targets ran ${seconds}s with no crash"
