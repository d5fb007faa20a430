#!/bin/bash
# A swarm server's supervisor (PID 1 of its task, under docker-init). It does what the compose stack's containers of one
# server do together: the host container's firewall and node exporter, then each component, started with the same
# entrypoint script and environment its compose container has, as processes sharing the task's network namespace.
#
# Any component exiting ends the task (every other one is stopped first), so Swarm's restart policy starts the whole
# server again on its node, as a machine whose service died would be restarted by its operator; a fault that kills a
# component is therefore healed by Swarm, not left down (docs/swarm.md).
#
# Passwords come from Docker secrets (/run/secrets, never in the service's environment) and each component gets
# only those it uses, as in the compose stack.
set -euo pipefail
: "${SERVER_KIND:?}" "${SERVER_NAME:?}" "${FIREWALL_ROLE:?}" "${NET_PREFIX:?}"
PEERS="lb web1 web2 web3 db-primary db-replica monitor"
# TEST-NET-1: never routed, so a peer not resolved yet is admitted from nowhere.
NOWHERE=192.0.2.1
secret() { cat "/run/secrets/$1"; }

# The firewall's addresses by name: Swarm gives each task its address, and a rescheduled task gets another.
address() {
  getent ahostsv4 "$1" 2> /dev/null | awk 'NR == 1 { print $1 }'
  return 0
}
defines() {
  local lb web1 web2 web3 primary replica monitor
  for p in lb web1 web2 web3 primary replica monitor; do
    local name="$p"
    [ "$p" = primary ] && name=db-primary
    [ "$p" = replica ] && name=db-replica
    local a
    a="$(address "$name")"
    printf -v "$p" '%s' "${a:-$NOWHERE}"
  done
  cat << DEFS
define LB = ${lb}
define MONITOR = ${monitor}
define APPS = { ${web1}, ${web2}, ${web3} }
define PRIMARY = ${primary}
define REPLICA = ${replica}
define MGMT = ${NET_PREFIX}.1
define DB_LB = ${NET_PREFIX}.30
define GALERA_NODES = { ${NET_PREFIX}.31, ${NET_PREFIX}.32, ${NET_PREFIX}.33 }
DEFS
}
apply_firewall() {
  printf '%s\n' "$1" > /etc/faultline/firewall/defines.nft
  nft -f "/etc/faultline/firewall/${FIREWALL_ROLE}.nft"
}
# The operator is faultline's vantage on the overlay (docs/swarm.md "The vantage"), by the alias it joins with: its
# addresses (none while no faultline looks) fill the set @operator, replaced in one transaction so that no other rule,
# a fault's included, is touched. A table a fault removed has no set: nothing to do then.
OPERATOR="${OPERATOR_ALIAS:-faultline-operator}"
operators() {
  getent ahostsv4 "$OPERATOR" 2> /dev/null | awk '{ print $1 }' | sort -u | paste -sd, -
  return 0
}
apply_operators() {
  { echo "flush set inet faultline operator"; [ -z "$1" ] || echo "add element inet faultline operator { $1 }"; } | nft -f - 2> /dev/null
}

# Wait (up to 30 s) for every peer's name, then apply the firewall: default deny from the start either way.
for _ in $(seq 30); do
  missing=""
  for p in $PEERS; do [ -n "$(address "$p")" ] || missing="$missing $p"; done
  [ -z "$missing" ] && break
  sleep 1
done
[ -z "$missing" ] || echo "swarm-supervisor: no address yet for$missing; admitting them from nowhere until they appear" >&2
current="$(defines)"
apply_firewall "$current"
operator="$(operators)"
apply_operators "$operator" || true
touch /run/firewall-ready

pids=()
names=()
# start NAME COMMAND...: a component in the background, its output prefixed with its name in the task's log.
start() {
  local name="$1"
  shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
  names+=("$name")
}

start node-exporter prometheus-node-exporter --web.listen-address=:9100 --no-collector.hwmon --no-collector.thermal_zone
case "$SERVER_KIND" in
  lb)
    mkdir -p /etc/faultline/tls
    install -m 600 /run/secrets/site_pem /etc/faultline/tls/site.pem
    start haproxy /usr/local/bin/lb-entrypoint
    edge_pid="${pids[-1]}"
    ;;
  web)
    start nginx /usr/local/bin/web-entrypoint nginx -g 'daemon off;'
    edge_pid="${pids[-1]}"
    DB_APP_PASSWORD="$(secret db_app)" start app setpriv --reuid=nobody --regid=nogroup --clear-groups node /srv/app/server.js
    start nginx-exporter prometheus-nginx-exporter -nginx.scrape-uri=http://127.0.0.1:8080/stub_status -web.listen-address=:9113 -nginx.retries=60 -nginx.retry-interval=1s
    ;;
  db)
    DB_APP_PASSWORD="$(secret db_app)" DB_REPL_PASSWORD="$(secret db_repl)" DB_EXPORTER_PASSWORD="$(secret db_exporter)" DB_ADMIN_PASSWORD="$(secret db_admin)" \
      start mariadb /usr/local/bin/db-entrypoint
    DATA_SOURCE_NAME="exporter:$(secret db_exporter)@(127.0.0.1:3306)/" start mysqld-exporter prometheus-mysqld-exporter --web.listen-address=:9104
    ;;
  monitor)
    start prometheus /usr/local/bin/monitor-entrypoint
    ;;
  *)
    echo "swarm-supervisor: unknown SERVER_KIND '$SERVER_KIND'" >&2
    exit 2
    ;;
esac

# From here on a failing test must not end the supervisor: only a component's exit does.
set +e
stopping=0
stop_all() {
  stopping=1
  kill -TERM "${pids[@]}" 2> /dev/null || true
}
trap stop_all TERM INT
# A reload signal is what faultline's certificate faults send a compose edge's container (`docker kill --signal`: USR2
# for HAProxy, HUP for nginx); here it reaches this supervisor, whom it would end (and Swarm would restart the task with
# its original files), so it goes to the edge process instead.
forward() { [ -n "${edge_pid:-}" ] && kill "-$1" "$edge_pid" 2> /dev/null; }
trap 'forward USR2' USR2
trap 'forward HUP' HUP
trap 'forward USR1' USR1

# Peers' addresses change when Swarm reschedules them: the firewall follows every 5 s (a reload rebuilds the table, so
# it also drops rules a fault added; docs/swarm.md). The operator's set follows every second (a vantage waits for it),
# and is written again every 5 s, as a fault's revert may have restored an older copy of it.
(
  tick=0
  while sleep 1; do
    tick=$((tick + 1))
    if [ $((tick % 5)) = 0 ]; then
      next="$(defines)"
      if [ "$next" != "$current" ]; then
        echo "swarm-supervisor: a peer's address changed; reloading the firewall" >&2
        if apply_firewall "$next"; then current="$next"; fi
        apply_operators "$operator" || true
      fi
    fi
    next_operator="$(operators)"
    if [ "$next_operator" != "$operator" ] || [ $((tick % 5)) = 0 ]; then
      [ "$next_operator" = "$operator" ] || echo "swarm-supervisor: operator now ${next_operator:-nobody}" >&2
      apply_operators "$next_operator" && operator="$next_operator"
    fi
  done
) &
watcher=$!

status=0
exited=""
# A trapped signal ends the wait without a component having exited (exited stays empty): wait again, unless stopping.
while :; do
  status=0
  wait -n -p exited "${pids[@]}" || status=$?
  [ -n "${exited:-}" ] || [ "$stopping" = 1 ] && break
done
for i in "${!pids[@]}"; do [ "${pids[$i]}" = "${exited:-}" ] && name="${names[$i]}"; done
if [ "$stopping" = 0 ]; then
  echo "swarm-supervisor: ${name:-a component} exited ($status); stopping $SERVER_NAME so that Swarm restarts it" >&2
  # A component that ended cleanly still ends the server: the task fails rather than completes.
  [ "$status" = 0 ] && status=1
fi
kill "$watcher" 2> /dev/null || true
stop_all
# Ten seconds for the rest to stop (Swarm's own stop grace period is longer), then they are killed with the task.
for _ in $(seq 10); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2> /dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 1
done
exit "$status"
