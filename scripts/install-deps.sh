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
  libsystemd-dev                                        # sd_notify: Type=notify, watchdog (deploy/systemd)
  prometheus-cpp-dev                                    # /metrics text format (io/net/metrics_exposition)
  prometheus                                            # tests: promtool check metrics, a real scraping server
  chromium tmux                                         # tests: the status page headless, booktape top in a pane
  libhiredis-dev redis-server redis-tools               # Redis fan-out; a real server and redis-cli for its tests
  python3                                               # runs docs/CONSUMERS.md's Python reader in a test
  valgrind                                              # instruction counts for the latency gate
  clang libclang-rt-14-dev                              # libFuzzer targets (scripts/fuzz.sh; the runtime is in -rt-dev)
  systemd strace                                        # systemd-analyze, -sysusers, -tmpfiles; the units' syscall filter (tests/deploy)
  nodejs                                                # deploy/check: Kubernetes and Dockerfile checks
  rclone                                                # booktape upload runs it; its tests serve WebDAV with it
  python3-pandas                                        # the export test's independent reader
)
# npm for deploy/check, unless a node install already brings one (NodeSource's nodejs ships
# npm inside and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, pinned by their lockfile: deploy/check (Kubernetes schemas and types, the
# Dockerfile linter). Reinstalled only when the lockfile changed.
check="$(dirname "$0")/../deploy/check"
if [ -f "$check/package-lock.json" ] && ! cmp -s "$check/package-lock.json" "$check/node_modules/.booktape-lock" 2>/dev/null; then
  echo "install-deps: npm ci in deploy/check"
  (cd "$check" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$check/package-lock.json" "$check/node_modules/.booktape-lock"
fi
