#!/bin/bash
# Runs caddy as user caddy (not root) with only the capability to bind :443. The certificate directory is
# mounted read-only and its key may be root-only, so a private copy goes to tmpfs first, readable by caddy only.
# Any other command (e.g. `caddy version`, bash) runs as given.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  tls=/dev/shm/faultline-tls
  install -d -o caddy -g caddy -m 700 "$tls"
  install -o caddy -g caddy -m 644 /etc/faultline/tls/server.pem "$tls/server.pem"
  install -o caddy -g caddy -m 600 /etc/faultline/tls/server-key.pem "$tls/server-key.pem"
  export HOME=/var/lib/caddy XDG_CONFIG_HOME=/var/lib/caddy/.config XDG_DATA_HOME=/var/lib/caddy/.local/share
  exec setpriv --reuid=caddy --regid=caddy --init-groups --no-new-privs \
    --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service \
    caddy run --config /etc/caddy/Caddyfile --adapter caddyfile
fi
exec "$@"
