#!/bin/bash
# Chooses nginx's site configuration, then runs the command. WEB_TLS unset (or 0): the baseline, plaintext :80
# (nginx.conf, already installed as conf.d/faultline.conf). WEB_TLS=1: the hardened profile, TLS on :443 only
# (nginx-tls.conf). Any other command (the exporter container's prometheus-nginx-exporter) runs untouched.
set -euo pipefail
if [ "${1:-}" = nginx ]; then
  case "${WEB_TLS:-0}" in
    0) install -m 644 /etc/faultline/nginx.conf /etc/nginx/conf.d/faultline.conf ;;
    1) install -m 644 /etc/faultline/nginx-tls.conf /etc/nginx/conf.d/faultline.conf ;;
    *) echo "web-entrypoint: WEB_TLS must be 0 or 1, not '${WEB_TLS}'" >&2; exit 2 ;;
  esac
fi
exec "$@"
