#!/bin/bash
# Chooses nginx's site configuration, then runs the command. WEB_TLS unset (or 0): the baseline, plaintext :80
# (nginx.conf, already installed as conf.d/faultline.conf). WEB_TLS=1: the hardened profile, TLS on :443 only
# (nginx-tls.conf). Any other command (the exporter container's prometheus-nginx-exporter) runs untouched.
# Before nginx, mtail starts in the background (as nobody, metrics on :3903): it counts what nginx logs, the requests
# that were not the client's (mtail/nginx.mtail). It lives and dies with nginx's container, so its counters start
# again when nginx's do; nginx's master (PID 1) reaps it.
set -euo pipefail
if [ "${1:-}" = nginx ]; then
  case "${WEB_TLS:-0}" in
    0) install -m 644 /etc/faultline/nginx.conf /etc/nginx/conf.d/faultline.conf ;;
    1) install -m 644 /etc/faultline/nginx-tls.conf /etc/nginx/conf.d/faultline.conf ;;
    *) echo "web-entrypoint: WEB_TLS must be 0 or 1, not '${WEB_TLS}'" >&2; exit 2 ;;
  esac
  # glog: warnings and errors to stderr (the container's log), nothing to files.
  setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
    mtail --progs /etc/faultline/mtail --logs udp://127.0.0.1:5514 --port 3903 --logtostderr=false --alsologtostderr=false \
    --stderrthreshold=WARNING --log_dir=/tmp --emit_prog_label=false &
  # nginx's first log lines must find mtail listening (a datagram to a closed port is lost): wait up to 5 s.
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/3903) 2> /dev/null && break; sleep 0.1; done
fi
exec "$@"
