#!/bin/bash
# Writes the scrape configuration for this stack's addresses, then runs Prometheus (1 s scrape interval).
# Every web server is counted by its own monitoring client, which tells the client's requests from health checks and
# scrapes: nginx's exporter (stub_status, every request) with mtail in nginx's container on :3903 (the requests nginx
# logged as not the client's); caddy's own metrics (per handler); lighttpd's access log through mtail on :9113.
# SCRAPE_PROFILE=hardened: the hardened profile's servers (a database LB and three Galera nodes, each with a mysqld
# exporter, instead of a primary and a replica; web1 nginx, web2 lighttpd, web3 caddy).
set -euo pipefail
: "${NET_PREFIX:?NET_PREFIX must be set}"
P="$NET_PREFIX"
if [ "${SCRAPE_PROFILE:-baseline}" = hardened ]; then
  servers="lb:lb:$P.10 web1:web:$P.21 web2:web:$P.22 web3:web:$P.23 db-lb:db-lb:$P.30 galera1:db:$P.31 galera2:db:$P.32 galera3:db:$P.33"
  exporters="nginx:web1:web:$P.21:9113 mtail:web1:web:$P.21:3903 mtail:web2:web:$P.22:9113 caddy:web3:web:$P.23:9113 mysqld:galera1:db:$P.31:9104 mysqld:galera2:db:$P.32:9104 mysqld:galera3:db:$P.33:9104"
else
  servers="lb:lb:$P.10 web1:web:$P.21 web2:web:$P.22 web3:web:$P.23 db-primary:db-primary:$P.31 db-replica:db-replica:$P.32"
  exporters="nginx:web1:web:$P.21:9113 nginx:web2:web:$P.22:9113 nginx:web3:web:$P.23:9113 mtail:web1:web:$P.21:3903 mtail:web2:web:$P.22:3903 mtail:web3:web:$P.23:3903 mysqld:db-primary:db-primary:$P.31:9104 mysqld:db-replica:db-replica:$P.32:9104"
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
