#!/bin/bash
# Applies this server's default-deny firewall, then runs the node exporter in the foreground.
set -euo pipefail
: "${FIREWALL_ROLE:?FIREWALL_ROLE must be set}"
: "${NET_PREFIX:?NET_PREFIX must be set}"
cat > /etc/faultline/firewall/defines.nft <<DEFS
define LB = ${NET_PREFIX}.10
define MONITOR = ${NET_PREFIX}.5
define APPS = { ${NET_PREFIX}.21, ${NET_PREFIX}.22, ${NET_PREFIX}.23 }
define PRIMARY = ${NET_PREFIX}.31
define REPLICA = ${NET_PREFIX}.32
define MGMT = ${NET_PREFIX}.1
define DB_LB = ${NET_PREFIX}.30
define GALERA_NODES = { ${NET_PREFIX}.31, ${NET_PREFIX}.32, ${NET_PREFIX}.33 }
DEFS
nft -f "/etc/faultline/firewall/${FIREWALL_ROLE}.nft"
touch /run/firewall-ready
exec prometheus-node-exporter --web.listen-address=:9100 --no-collector.hwmon --no-collector.thermal_zone "$@"
