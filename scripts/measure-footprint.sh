#!/usr/bin/env bash
# Measures what a recorder costs at a given rate, for disk sizing and resource requests
# (docs/DEPLOY.md, "Sizing"): the real `booktape record` records the real `booktape sim` on
# loopback for a while, then this prints one JSON object: frames, archive bytes (websocket
# frames and REST checkpoints apart), compressed bytes per frame, CPU (user + system, all
# threads) as a share of one core, and the peak resident size.
#
#   scripts/measure-footprint.sh [--rate R] [--markets M] [--seconds S] [--config FILE]
#                                [--binary PATH]
#
#   --rate R      frames per second the simulator sends (default 100)
#   --markets M   simulator lanes; each lists its live and next window, 2 tokens each, and the
#                 recorder takes every market (--all-active) (default 4)
#   --seconds S   how long to record (default 120)
#   --config FILE the recorder's settings (default config/record.vps.yaml; its out: is
#                 replaced by a temporary directory)
#   --binary PATH the booktape binary (default build/release/apps/booktape)
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "measure-footprint: $*" >&2
  exit 2
}
rate=100
markets=4
seconds=120
config=config/record.vps.yaml
binary=build/release/apps/booktape
while [ $# -gt 0 ]; do
  case "$1" in
    --rate | --markets | --seconds | --config | --binary)
      [ $# -ge 2 ] || die "$1 needs a value"
      v="$2"
      case "$1" in
        --rate) rate="$v" ;; --markets) markets="$v" ;; --seconds) seconds="$v" ;;
        --config) config="$v" ;; --binary) binary="$v" ;;
      esac
      shift 2
      ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (expected --rate, --markets, --seconds, --config, --binary; see --help)" ;;
  esac
done
for n in "$rate" "$markets" "$seconds"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "--rate, --markets and --seconds take whole numbers (got '$n')"
done
[ -x "$binary" ] || die "no executable booktape at '$binary' (scripts/build.sh first)"
[ -f "$config" ] || die "no config at '$config'"

work="$(mktemp -d)"
sim_pid=
rec_pid=
cleanup() {
  [ -z "$rec_pid" ] || kill "$rec_pid" 2>/dev/null || true
  [ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" sim --port 0 --markets "$markets" --rate "$rate" --seed 1 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do
  [ -s "$work/sim.out" ] && break
  sleep 0.1
done
url="$(sed -n 's/.*"http_url":"\([^"]*\)".*/\1/p' "$work/sim.out" | head -1)"
ws="$(sed -n 's/.*"ws_url":"\([^"]*\)".*/\1/p' "$work/sim.out" | head -1)"
[ -n "$url" ] || die "the simulator did not start: $(cat "$work/sim.err")"

# The settings as given, with the archive in the work directory.
grep -v '^out:' "$config" >"$work/record.yaml"
echo "out: \"$work/data\"" >>"$work/record.yaml"
"$binary" record --config "$work/record.yaml" --ws-url "$ws" --rest-url "$url" --gamma-url "$url" \
  --all-active --duration-seconds "$seconds" --status off 2>"$work/record.err" &
rec_pid=$!
peak_kib=0
while kill -0 "$rec_pid" 2>/dev/null; do
  hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$rec_pid/status" 2>/dev/null || true)"
  [ -z "$hwm" ] || [ "$hwm" -le "$peak_kib" ] || peak_kib="$hwm"
  sleep 0.5
done
code=0
wait "$rec_pid" || code=$?
rec_pid=
# The shell's children so far: the recorder alone (the simulator is still running). `times`
# must run in this shell, not in a pipeline's subshell.
times >"$work/times"
cpu="$(tail -1 "$work/times" | awk '{
  split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')"
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null || true
sim_pid=
[ "$code" -le 1 ] || die "the recorder failed ($code): $(tail -5 "$work/record.err")"

sum() { # FIELD FILE: the sum of a numeric field over a manifest's lines
  [ -f "$2" ] || { echo 0; return; }
  sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | awk '{ s += $1 } END { print s + 0 }'
}
m="$work/data/manifests"
frames="$(sum frames "$m/polymarket_ws_raw.manifest.jsonl")"
ws_bytes="$(sum bytes "$m/polymarket_ws_raw.manifest.jsonl")"
rest_bytes="$(sum bytes "$m/polymarket_rest_checkpoints.manifest.jsonl")"
tokens="$(grep -o 'recording [0-9]* market(s), [0-9]* tokens' "$work/record.err" | awk '{ print $4 }' | head -1)"
awk -v rate="$rate" -v markets="$markets" -v seconds="$seconds" -v frames="$frames" \
  -v ws="$ws_bytes" -v rest="$rest_bytes" -v cpu="$cpu" -v peak="$peak_kib" -v tokens="${tokens:-0}" \
  -v config="$config" 'BEGIN {
  bpf = frames > 0 ? ws / frames : 0
  printf "{\"config\":\"%s\",\"rate\":%d,\"markets\":%d,\"tokens\":%d,\"seconds\":%d,", config, rate, markets, tokens, seconds
  printf "\"frames\":%d,\"frames_per_second\":%.1f,\"ws_raw_bytes\":%d,\"rest_checkpoint_bytes\":%d,", frames, frames / seconds, ws, rest
  printf "\"bytes_per_frame\":%.1f,\"ws_raw_bytes_per_hour\":%.0f,\"rest_bytes_per_token_hour\":%.0f,", bpf, ws / seconds * 3600, (tokens > 0 ? rest / seconds * 3600 / tokens : 0)
  printf "\"cpu_seconds\":%.2f,\"cpu_share_of_a_core\":%.4f,\"peak_rss_mib\":%.1f}\n", cpu, cpu / seconds, peak / 1024
}'
