#!/usr/bin/env bash
# Installs booktape as systemd services: the binary, the settings, the units, the system user
# and the archive directory (docs/DEPLOY.md). Idempotent: a file already as it should be is left
# alone, and the settings an operator edited are never overwritten.
#
#   scripts/install-service.sh [--binary PATH] [--prefix DIR] [--root DIR] [--enable]
#
#   --binary PATH  the booktape binary to install (default: build/release/apps/booktape)
#   --prefix DIR   where the binary and the docs go (default: /usr/local); the units' paths
#                  follow it
#   --root DIR     install into DIR as if it were / (a test, an image being built): no user is
#                  made on the host and systemctl is not called
#   --enable       also `systemctl enable --now` the recorder and the upload timer
#
# It installs:
#   PREFIX/bin/booktape
#   PREFIX/share/doc/booktape/DEPLOY.md
#   /etc/booktape/record.yaml         from config/record.vps.yaml, only if absent
#   /etc/booktape/upload.env          the upload's remote (a template), only if absent
#   /etc/systemd/system/booktape-record.service, booktape-upload.service, booktape-upload.timer
#   /etc/sysusers.d/booktape.conf     the booktape system user (systemd-sysusers)
#   /etc/tmpfiles.d/booktape.conf     /var/lib/booktape and /var/cache/booktape (systemd-tmpfiles)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "install-service: $*" >&2
  exit 2
}

binary=build/release/apps/booktape
prefix=/usr/local
root=
enable=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="$2"; shift 2 ;;
    --enable) enable=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (expected --binary PATH, --prefix DIR, --root DIR, --enable; see --help)" ;;
  esac
done
case "$prefix" in
  /*) ;;
  *) die "--prefix must be an absolute path (got '$prefix')" ;;
esac
prefix="${prefix%/}"
[ -n "$prefix" ] || die "--prefix / is not supported: use /usr or /usr/local"
[ -x "$binary" ] || die "no executable booktape at '$binary': build it first (scripts/build.sh) or pass --binary"
if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root '$root' is not a directory"
  root="$(cd "$root" && pwd)"
  [ "$root" != / ] || root=
fi
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  die "installing into / needs root (or use --root DIR)"
fi
[ "$enable" -eq 0 ] || [ -z "$root" ] || die "--enable cannot be used with --root"

changed=0
# put SRC DEST MODE: installs SRC at ROOT/DEST unless it is already there, byte for byte.
put() {
  local src="$1" dest="$root$2" mode="$3"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    echo "  unchanged  $2"
    return
  fi
  install -D -m "$mode" "$src" "$dest"
  echo "  installed  $2"
  changed=1
}
# keep SRC DEST MODE: installs SRC at DEST only if DEST does not exist (the operator's file).
keep() {
  local src="$1" dest="$root$2" mode="$3"
  if [ -e "$dest" ]; then
    if cmp -s "$src" "$dest"; then
      echo "  unchanged  $2"
    else
      echo "  kept       $2 (edited here; the shipped version is $(realpath --relative-to=. "$src"))"
    fi
    return
  fi
  install -D -m "$mode" "$src" "$dest"
  echo "  installed  $2"
  changed=1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "install-service: booktape $("$binary" --version | sed 's/^booktape //') into ${root:-/} (prefix $prefix)"
put "$binary" "$prefix/bin/booktape" 0755
put docs/DEPLOY.md "$prefix/share/doc/booktape/DEPLOY.md" 0644

keep config/record.vps.yaml /etc/booktape/record.yaml 0644
cat >"$tmp/upload.env" <<'EOF'
# booktape-upload.service: where closed archive files go (an rclone remote:path), and extra
# `booktape upload` flags. rclone's own settings, secrets included, are in
# /etc/booktape/rclone.conf (make it with `rclone config --config /etc/booktape/rclone.conf`,
# then chgrp booktape and chmod 0640 it).
BOOKTAPE_REMOTE=
BOOKTAPE_UPLOAD_FLAGS=
EOF
keep "$tmp/upload.env" /etc/booktape/upload.env 0640

for unit in booktape-record.service booktape-upload.service booktape-upload.timer; do
  sed "s#/usr/local/#$prefix/#g" "deploy/systemd/$unit" >"$tmp/$unit"
  put "$tmp/$unit" "/etc/systemd/system/$unit" 0644
done
put deploy/systemd/booktape.sysusers /etc/sysusers.d/booktape.conf 0644
put deploy/systemd/booktape.tmpfiles /etc/tmpfiles.d/booktape.conf 0644

# The user and the directories, from the files just installed (both tools take --root).
systemd-sysusers --root="${root:-/}" "$root/etc/sysusers.d/booktape.conf"
systemd-tmpfiles --create --root="${root:-/}" "$root/etc/tmpfiles.d/booktape.conf"
# upload.env may name a remote: readable by the service's group, not by everyone.
group_of_booktape="$(awk -F: '$1 == "booktape" { print $3 }' "$root/etc/group")"
[ -n "$group_of_booktape" ] || die "systemd-sysusers made no booktape group in $root/etc/group"
chgrp "$group_of_booktape" "$root/etc/booktape/upload.env"

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  [ "$changed" -eq 0 ] || systemctl daemon-reload
  if [ "$enable" -eq 1 ]; then
    systemctl enable --now booktape-record.service booktape-upload.timer
  fi
fi
if [ "$changed" -eq 0 ]; then
  echo "install-service: nothing to change"
else
  echo "install-service: done. Next: edit /etc/booktape/record.yaml and /etc/booktape/upload.env,"
  echo "  then: systemctl enable --now booktape-record.service booktape-upload.timer"
  echo "  (docs/DEPLOY.md: logs, status, upgrades)"
fi
