#!/bin/bash
# Installs the stack's certificate (mounted read-only) where HAProxy reads it and OpenSSL's pristine
# configuration (a certificate fault may have lowered its security level), then runs HAProxy in
# master-worker mode so that SIGUSR2 reloads the configuration without dropping established connections.
set -euo pipefail
install -m 600 /etc/faultline/tls/site.pem /etc/haproxy/certs/site.pem
install -m 644 /etc/faultline/openssl.cnf.orig /etc/ssl/openssl.cnf
cp "/etc/haproxy/${LB_CONFIG:-haproxy.cfg}" /etc/haproxy/haproxy.active.cfg
exec haproxy -W -db -f /etc/haproxy/haproxy.active.cfg
