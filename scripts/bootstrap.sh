#!/usr/bin/env bash
# Makes a Docker engine available, and does nothing when one already answers.
# On Debian as root: installs docker.io, docker-compose and debootstrap, starts dockerd in the background
# (these machines have no systemd) and waits until the socket answers. Anywhere else: says what to install.
set -euo pipefail

say() { printf 'bootstrap: %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  say "Docker engine is running"
  exit 0
fi

if [ ! -f /etc/debian_version ] || [ "$(id -u)" != 0 ]; then
  say "no Docker engine: install Docker Engine with compose (https://docs.docker.com/engine/install/), start it, and run again"
  exit 3
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: /var/log/faultline-dockerd.log)"
  # setsid: dockerd must outlive this script and the shell that ran it.
  setsid nohup dockerd >/var/log/faultline-dockerd.log 2>&1 < /dev/null &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    say "Docker engine is running"
    exit 0
  fi
  sleep 1
done
say "dockerd did not answer within 60 s; see /var/log/faultline-dockerd.log"
tail -5 /var/log/faultline-dockerd.log >&2 || true
exit 3
