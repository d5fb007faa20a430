#!/bin/bash
# Writes the scrape configuration for this stack's addresses, then runs Prometheus (1 s scrape interval).
# SCRAPE_PROFILE=hardened: the hardened profile's servers (a database LB and three Galera nodes instead of a primary
# and a replica; each web server kind has its own exporter where Debian ships one: nginx's on web1, caddy's own
# metrics on web3; lighttpd on web2 has none, so its requests are counted at the LB only).
set -euo pipefail
: "${NET_PREFIX:?NET_PREFIX must be set}"
P="$NET_PREFIX"
if [ "${SCRAPE_PROFILE:-baseline}" = hardened ]; then
  servers="lb:lb:$P.10 web1:web:$P.21 web2:web:$P.22 web3:web:$P.23 db-lb:db-lb:$P.30 galera1:db:$P.31 galera2:db:$P.32 galera3:db:$P.33"
  exporters="nginx:web1:web:$P.21:9113 caddy:web3:web:$P.23:9113"
else
  servers="lb:lb:$P.10 web1:web:$P.21 web2:web:$P.22 web3:web:$P.23 db-primary:db-primary:$P.31 db-replica:db-replica:$P.32"
  exporters="nginx:web1:web:$P.21:9113 nginx:web2:web:$P.22:9113 nginx:web3:web:$P.23:9113 mysqld:db-primary:db-primary:$P.31:9104 mysqld:db-replica:db-replica:$P.32:9104"
fi

# One static target with its server and role labels.
target() { printf "      - targets: ['%s']\n        labels: { server: %s, role: %s }\n" "$3" "$1" "$2"; }

{
  cat <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
YML
  target monitor monitor 127.0.0.1:9090
  printf '  - job_name: haproxy\n    static_configs:\n'
  target lb lb "$P.10:8404"
  printf '  - job_name: node\n    static_configs:\n'
  for s in $servers; do
    IFS=: read -r server role addr <<< "$s"
    target "$server" "$role" "$addr:9100"
  done
  target monitor monitor 127.0.0.1:9100
  job=""
  for e in $exporters; do
    IFS=: read -r name server role addr port <<< "$e"
    [ "$name" = "$job" ] || printf '  - job_name: %s\n    static_configs:\n' "$name"
    job="$name"
    target "$server" "$role" "$addr:$port"
  done
} > /etc/prometheus/prometheus.yml
# The remote-write receiver takes `--out prometheus` of a run: its per-second figures, pushed once each second is final.
exec prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus \
  --storage.tsdb.retention.time=1d --web.listen-address=:9090 --web.enable-lifecycle --web.enable-remote-write-receiver "$@"
