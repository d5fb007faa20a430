#!/usr/bin/env bash
# Starts the node's own Docker engine; faultline joins it to the swarm once it answers.
set -euo pipefail
# iptables-legacy: the nft backend inside a container on this kernel cannot always load its tables.
update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
# The engine also answers on a socket in /run/faultline-node, a folder of faultline's state on the machine running the
# node: faultline reaches each node's tasks through that node's own engine, with no network port and no TLS to set up.
mkdir -p /run/faultline-node
exec dockerd --host=unix:///var/run/docker.sock --host=unix:///run/faultline-node/docker.sock --storage-driver=overlay2 "$@"
