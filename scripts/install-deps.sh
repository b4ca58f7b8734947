#!/usr/bin/env bash
# Installs booktape's build and test dependencies from Debian 12 packages.
# Idempotent: packages already installed are left alone, and apt is not touched
# when nothing is missing. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev                                      # Asio, Beast, Lockfree (header-only)
  libssl-dev                                            # OpenSSL 3: TLS and SHA-256
  libsimdjson-dev                                       # JSON on-demand decoding
  libconcurrentqueue-dev libreaderwriterqueue-dev       # moodycamel queues (control path, comparison)
  libdeflate-dev zlib1g-dev                             # gzip members; zlib for foreign files and comparison
  libmimalloc-dev                                       # allocator for the release binary
  libbenchmark-dev libgtest-dev libgmock-dev            # Google Benchmark, GoogleTest
  libyaml-cpp-dev libcli11-dev                          # config and command line
  valgrind                                              # instruction counts for the latency gate
  clang libclang-rt-14-dev                              # libFuzzer targets (scripts/fuzz.sh; the runtime is in -rt-dev)
  rclone                                                # booktape upload runs it; its tests serve WebDAV with it
  python3-pandas                                        # the export test's independent reader
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
