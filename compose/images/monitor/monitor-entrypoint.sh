#!/bin/bash
# Writes the scrape configuration for this stack's addresses, then runs Prometheus (1 s scrape interval).
set -euo pipefail
: "${NET_PREFIX:?NET_PREFIX must be set}"
P="$NET_PREFIX"
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
exec prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus \
  --storage.tsdb.retention.time=1d --web.listen-address=:9090 --web.enable-lifecycle "$@"
