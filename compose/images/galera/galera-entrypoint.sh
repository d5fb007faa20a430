#!/bin/bash
# Starts one Galera data node: bootstraps a new cluster only when there is none to join, otherwise joins
# (IST from a peer's gcache, or a full mariabackup SST when its datadir is empty or too far behind), so a
# node that was SIGKILLed and started again rejoins without an operator. Also serves the health check on 9200.
set -euo pipefail
: "${NET_PREFIX:?NET_PREFIX must be set}"
: "${GALERA_NODE_NAME:?GALERA_NODE_NAME must be set (e.g. galera1)}"
: "${GALERA_NODES:?GALERA_NODES must list every data node address, comma separated}"
for v in DB_APP_PASSWORD DB_ADMIN_PASSWORD; do
  # The passwords go into SQL unquoted-safe only: URL-safe base64, nothing else.
  if ! [[ "${!v:-}" =~ ^[A-Za-z0-9_-]{16,128}$ ]]; then echo "galera-entrypoint: $v must be 16-128 characters of A-Z a-z 0-9 _ -" >&2; exit 2; fi
done
log() { echo "galera-entrypoint[$GALERA_NODE_NAME]: $*" >&2; }

# This node's address is the one its server (the host container whose network namespace it shares) has on
# the cluster network: the address in GALERA_NODES that is bound here.
IFS=', ' read -r -a nodes <<< "$GALERA_NODES"
self=""
for n in "${nodes[@]}"; do
  if ip -4 -o addr show | grep -qw "inet ${n}"; then self="$n"; fi
done
[ -n "$self" ] || { log "none of GALERA_NODES ($GALERA_NODES) is an address of this server"; exit 2; }
peers=()
for n in "${nodes[@]}"; do [ "$n" = "$self" ] || peers+=("$n"); done

# TLS material is mounted read-only and owned by the host's user; mariadbd (user mysql) needs its own copy,
# the key readable by mysql only.
tls=/etc/faultline/tls
for f in ca.pem node.pem node-key.pem; do [ -s "$tls/$f" ] || { log "missing $tls/$f"; exit 2; }; done
install -o mysql -g mysql -m 644 "$tls/ca.pem" /etc/mysql/ssl/ca.pem
install -o mysql -g mysql -m 644 "$tls/node.pem" /etc/mysql/ssl/node.pem
install -o mysql -g mysql -m 600 "$tls/node-key.pem" /etc/mysql/ssl/node-key.pem
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql

# A peer answering on the group port means a cluster exists (or is forming): never bootstrap then, or the
# two halves would each be a Primary component with their own history.
# Whether a node accepts a connection on a port within 1 s.
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2> /dev/null; }
peer_up() {
  local p
  for p in "${peers[@]}"; do
    if answers "$p" 4567; then return 0; fi
  done
  return 1
}

grastate=/var/lib/mysql/grastate.dat
fresh=0
[ -d /var/lib/mysql/mysql ] || fresh=1
mode=join
if peer_up; then
  mode=join
elif [ "$fresh" = 1 ] && [ "${GALERA_BOOTSTRAP:-0}" = 1 ]; then
  # The designated first node with an empty datadir and nobody to join: the cluster does not exist yet.
  mode=new
elif [ -f "$grastate" ] && grep -q '^safe_to_bootstrap: *1' "$grastate"; then
  # The whole cluster was shut down cleanly and this node left last: it has every transaction.
  mode=restart
fi
# Otherwise join. After a crash of every node, pc.recovery (gvwstate.dat) lets them form the Primary component
# again once they all run, so such a node starts at once; bootstrapping from one of them could lose the others'
# tail. A node without that state (new, or after a clean shutdown it did not leave last) has nothing to offer
# until someone has the cluster: it waits for a peer rather than have mariadbd give up after pc.wait_prim_timeout.
#
# Nodes stopped at the same moment (docker stop of the whole tier, a host reboot) all leave with
# safe_to_bootstrap: 0, and each would wait for the others for ever. So while it waits, a node serves its saved
# state ("waiting <cluster uuid> <seqno>") on the IST port, 4568, which nothing else uses until mariadbd runs and
# which the firewall already opens between data nodes. When every node answers it is waiting, all of one
# cluster and each knowing its position, the one with the highest seqno (the first in GALERA_NODES on a tie)
# has every committed transaction: it bootstraps, and the others join it. A node that does not answer (stopped,
# or already starting) or does not know its position stops the election: waiting is safe, guessing is not.

# One line from a peer's port (with an optional request first), or nothing within 2 s.
ask() { timeout 2 bash -c 'exec 3<> "/dev/tcp/$1/$2" || exit 1; [ -z "$3" ] || printf "%b" "$3" >&3; head -n 1 <&3' _ "$1" "$2" "${3:-}" 2> /dev/null; }
saved_state() {
  local uuid="" seqno=""
  if [ -f "$grastate" ]; then
    uuid=$(sed -n 's/^uuid: *//p' "$grastate")
    seqno=$(sed -n 's/^seqno: *//p' "$grastate")
  fi
  [[ "$seqno" =~ ^-?[0-9]+$ ]] || seqno=-1
  echo "${uuid:--} ${seqno}"
}
elected() {
  local mine my_uuid my_seqno n line tag uuid seqno best="" best_seqno=-1
  mine=$(saved_state)
  read -r my_uuid my_seqno <<< "$mine"
  [ "$my_uuid" != - ] && [ "$my_seqno" -ge 0 ] || return 1
  for n in "${nodes[@]}"; do
    if [ "$n" = "$self" ]; then
      uuid=$my_uuid seqno=$my_seqno
    else
      line=$(ask "$n" 4568) || return 1
      read -r tag uuid seqno <<< "$line"
      [ "$tag" = waiting ] && [[ "$seqno" =~ ^-?[0-9]+$ ]] || return 1
      # A new node (no state) has nothing to offer and joins whoever bootstraps.
      [ "$uuid" = - ] && continue
      [ "$uuid" = "$my_uuid" ] || return 1
      [ "$seqno" -ge 0 ] || return 1
    fi
    if [ "$seqno" -gt "$best_seqno" ]; then best=$n best_seqno=$seqno; fi
  done
  [ "$best" = "$self" ]
}
# Two nodes joining at once can break one of them for good: each transfer carries the other's membership
# change, and Galera 4 then fails the IST with "IST didn't contain all write sets ... node restart required"
# while mariadbd keeps running, disconnected (measured after a restart of the whole tier). So a node joins
# when every node of the running cluster is Synced (none is joining or donating; their health check, 9200,
# says so) and no node before it in GALERA_NODES is still waiting: one transfer at a time, in list order.
may_join() {
  local n seen=0 before=1
  for n in "${nodes[@]}"; do
    if [ "$n" = "$self" ]; then
      before=0
    elif answers "$n" 4567; then
      seen=1
      [[ "$(ask "$n" 9200 'GET / HTTP/1.0\r\n\r\n')" == *" 200"* ]] || return 1
    elif [ "$before" = 1 ] && [[ "$(ask "$n" 4568)" == waiting* ]]; then
      return 1
    fi
  done
  [ "$seen" = 1 ]
}
if [ "$mode" = join ] && [ ! -f /var/lib/mysql/gvwstate.dat ] && ! may_join; then
  log "waiting for a cluster to join, one node at a time (up to ${GALERA_WAIT_PEER_S:-900} s); saved state $(saved_state) served on 4568"
  echo "waiting $(saved_state)" > /run/galera-wait-state
  socat -T 2 TCP-LISTEN:4568,reuseaddr,fork EXEC:"cat /run/galera-wait-state" &
  state_server=$!
  deadline=$((SECONDS + ${GALERA_WAIT_PEER_S:-900}))
  until may_join; do
    if ! peer_up && elected; then
      log "every node is waiting and none left the cluster last; this node's seqno is the highest ($(saved_state)): bootstrapping from its state"
      sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$grastate"
      mode=restart
      break
    fi
    sleep 2
    if [ "$SECONDS" -ge "$deadline" ]; then log "no cluster to join in ${GALERA_WAIT_PEER_S:-900} s"; exit 1; fi
  done
  # The IST port is mariadbd's from here on.
  kill "$state_server" 2> /dev/null || true
  wait "$state_server" 2> /dev/null || true
  [ "$mode" = restart ] || log "every node of the cluster is Synced and none before this one waits: joining"
fi

args=(--user=mysql
  "--wsrep-node-name=${GALERA_NODE_NAME}"
  "--wsrep-node-address=${self}"
  "--wsrep-sst-receive-address=${self}:4444"
  "--wsrep-cluster-address=gcomm://${GALERA_NODES// /}")

# Galera's own traffic (group messages and IST) over TLS with the node certificate; gcache big enough to
# let a node that was down for minutes of writes rejoin by IST instead of a full SST. GALERA_EVS carries
# the failure-detection timers (compose/docker-compose.hardened.yml says what the values mean and why).
# A donor leaves the Synced state while it serves a transfer (even an IST), and the check then takes it out
# of the LB: when the writer donates, writes fail over. GALERA_DONORS names the nodes that are least likely
# to be the writer first (a trailing comma: any other node when those cannot).
[ -z "${GALERA_DONORS:-}" ] || args+=("--wsrep-sst-donor=${GALERA_DONORS}")
provider="socket.ssl=YES;socket.ssl_cert=/etc/mysql/ssl/node.pem;socket.ssl_key=/etc/mysql/ssl/node-key.pem;socket.ssl_ca=/etc/mysql/ssl/ca.pem"
provider+=";gcache.size=64M;pc.recovery=TRUE"
[ -z "${GALERA_EVS:-}" ] || provider+=";${GALERA_EVS}"
args+=("--wsrep-provider-options=${provider}")

case "$mode" in
  new)
    log "no cluster yet and an empty datadir: initialising and bootstrapping a new cluster"
    # wsrep off: install-db runs mariadbd --bootstrap with this config, and Galera refuses to load there.
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db --wsrep-on=OFF > /dev/null
    # The operator (faultline's probes, the Docker host) is the cluster network's gateway.
    operator="${NET_PREFIX}.1"
    init=/run/mysqld/init.sql
    umask 077
    cat > "$init" <<SQL
CREATE DATABASE IF NOT EXISTS faultline;
CREATE TABLE IF NOT EXISTS faultline.items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  item_key VARCHAR(128) NOT NULL,
  value VARCHAR(1024) NOT NULL DEFAULT '',
  server VARCHAR(32) NOT NULL DEFAULT '',
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY item_key (item_key)
) ENGINE=InnoDB;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '${DB_APP_PASSWORD}' REQUIRE SSL;
GRANT SELECT, INSERT ON faultline.items TO 'app'@'%';
CREATE USER IF NOT EXISTS 'faultline'@'${operator}' IDENTIFIED BY '${DB_ADMIN_PASSWORD}' REQUIRE SSL;
GRANT SELECT ON faultline.* TO 'faultline'@'${operator}';
GRANT SELECT ON mysql.* TO 'faultline'@'${operator}';
SQL
    umask 022
    chown mysql:mysql "$init"
    args+=(--wsrep-new-cluster "--init-file=${init}")
    ;;
  restart)
    log "the cluster is down and this node has every transaction (safe_to_bootstrap): bootstrapping from its state"
    args+=(--wsrep-new-cluster)
    ;;
  join)
    if [ "$fresh" = 1 ]; then log "empty datadir: joining by full state transfer (SST)"; else log "joining (IST when the peers' gcache still holds what this node missed)"; fi
    ;;
esac

# After a crash grastate.dat says seqno -1: without the position InnoDB actually reached, the node would ask
# for a full SST (tens of seconds, and the donor leaves the Synced state). --wsrep-recover reads it from InnoDB
# (what Debian's galera_recovery does for systemd); --wsrep-start-position hands it to Galera, which can
# then ask a peer for IST, only the transactions it missed.
if [ "$fresh" = 0 ] && [ "$mode" != new ] && { [ ! -f "$grastate" ] || grep -q '^seqno: *-1' "$grastate"; }; then
  recover_log=$(mktemp /tmp/wsrep-recover.XXXXXX)
  chown mysql:mysql "$recover_log"
  # The same options as the real start (the SST method refuses to load without the cluster address).
  if mariadbd "${args[@]}" --wsrep-recover --log-error="$recover_log" > /dev/null 2>&1; then
    pos=$(sed -n 's/.*WSREP: Recovered position: *//p' "$recover_log" | tail -n 1)
    if [ -n "$pos" ]; then
      log "recovered position $pos from InnoDB"
      args+=("--wsrep-start-position=${pos}")
    else
      log "no position recovered; the node will ask for a full SST"
    fi
  else
    log "position recovery failed; the node will ask for a full SST: $(tail -n 5 "$recover_log")"
  fi
  rm -f "$recover_log"
fi

# The check HAProxy asks: the poller keeps the node's state in a file, socat answers each request with a
# short-lived galera-check that reads it (socat forks; tini reaps what outlives its parent).
# The poller is restarted should it ever end: without it every check would answer 503 (stale state).
(while true; do galera-check --poll; sleep 1; done) &
socat -T 3 TCP-LISTEN:9200,reuseaddr,fork,backlog=32 EXEC:/usr/local/bin/galera-check &

exec mariadbd "${args[@]}" "$@"
