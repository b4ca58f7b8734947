#!/usr/bin/env bash
# Configures and builds a preset (default: release), every target or the ones named (the
# Dockerfile builds only `booktape`). Usage: scripts/build.sh [preset [target...]]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
[ $# -eq 0 ] || shift
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --preset "$preset" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build --preset "$preset" -j "$jobs" "${targets[@]}"
