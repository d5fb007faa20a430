#!/usr/bin/env bash
# Starts the node's own Docker engine; faultline joins it to the swarm through `docker exec` once it answers.
set -euo pipefail
# iptables-legacy: the nft backend inside a container on this kernel cannot always load its tables.
update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
exec dockerd --host=unix:///var/run/docker.sock --storage-driver=overlay2 "$@"
