#!/bin/bash
# Writes the scrape configuration for this stack's addresses, then runs Prometheus (1 s scrape interval).
set -euo pipefail
: "${NET_PREFIX:?NET_PREFIX must be set}"
P="$NET_PREFIX"
# The hardened profile (SCRAPE_PROFILE=hardened) has other servers: a database LB and three Galera nodes.
if [ "${SCRAPE_PROFILE:-baseline}" = hardened ]; then
cat > /etc/prometheus/prometheus.yml <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:9090']
        labels: { server: monitor, role: monitor }
  - job_name: haproxy
    static_configs:
      - targets: ['${P}.10:8404']
        labels: { server: lb, role: lb }
  - job_name: node
    static_configs:
      - targets: ['${P}.10:9100']
        labels: { server: lb, role: lb }
      - targets: ['${P}.21:9100']
        labels: { server: web1, role: web }
      - targets: ['${P}.22:9100']
        labels: { server: web2, role: web }
      - targets: ['${P}.23:9100']
        labels: { server: web3, role: web }
      - targets: ['${P}.30:9100']
        labels: { server: db-lb, role: db-lb }
      - targets: ['${P}.31:9100']
        labels: { server: galera1, role: db }
      - targets: ['${P}.32:9100']
        labels: { server: galera2, role: db }
      - targets: ['${P}.33:9100']
        labels: { server: galera3, role: db }
      - targets: ['127.0.0.1:9100']
        labels: { server: monitor, role: monitor }
  # Each web server kind has its own exporter where Debian ships one: nginx's, caddy's built-in metrics;
  # lighttpd (web2) has none, so its requests are counted at the LB (haproxy job) only.
  - job_name: nginx
    static_configs:
      - targets: ['${P}.21:9113']
        labels: { server: web1, role: web }
  - job_name: caddy
    static_configs:
      - targets: ['${P}.23:9113']
        labels: { server: web3, role: web }
YML
else
cat > /etc/prometheus/prometheus.yml <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:9090']
        labels: { server: monitor, role: monitor }
  - job_name: haproxy
    static_configs:
      - targets: ['${P}.10:8404']
        labels: { server: lb, role: lb }
  - job_name: node
    static_configs:
      - targets: ['${P}.10:9100']
        labels: { server: lb, role: lb }
      - targets: ['${P}.21:9100']
        labels: { server: web1, role: web }
      - targets: ['${P}.22:9100']
        labels: { server: web2, role: web }
      - targets: ['${P}.23:9100']
        labels: { server: web3, role: web }
      - targets: ['${P}.31:9100']
        labels: { server: db-primary, role: db-primary }
      - targets: ['${P}.32:9100']
        labels: { server: db-replica, role: db-replica }
      - targets: ['127.0.0.1:9100']
        labels: { server: monitor, role: monitor }
  - job_name: nginx
    static_configs:
      - targets: ['${P}.21:9113']
        labels: { server: web1, role: web }
      - targets: ['${P}.22:9113']
        labels: { server: web2, role: web }
      - targets: ['${P}.23:9113']
        labels: { server: web3, role: web }
  - job_name: mysqld
    static_configs:
      - targets: ['${P}.31:9104']
        labels: { server: db-primary, role: db-primary }
      - targets: ['${P}.32:9104']
        labels: { server: db-replica, role: db-replica }
YML
fi
exec prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus \
  --storage.tsdb.retention.time=1d --web.listen-address=:9090 --web.enable-lifecycle "$@"
