#!/bin/bash
# Starts one Galera data node so that the tier comes back by itself after any restart order (all stopped, some
# crashed, a datadir emptied) as long as its nodes are started, and never guesses: mariadbd starts only
#   - to join a running Primary component, one node at a time (IST, or a full mariabackup SST with an empty datadir);
#   - to bootstrap from this node's data when it left the cluster last (safe_to_bootstrap), or when every node
#     answered and this node holds the latest writes (the election below);
#   - to create a new cluster when every node answered with an empty datadir (the designated first node).
# Otherwise it waits, says why in its log and on port 9200 (the container's health output, which
# `faultline stack status` shows), and says what an operator can do. Also serves the health check on 9200.
set -euo pipefail
: "${NET_PREFIX:?NET_PREFIX must be set}"
: "${GALERA_NODE_NAME:?GALERA_NODE_NAME must be set (e.g. galera1)}"
: "${GALERA_NODES:?GALERA_NODES must list every data node address, comma separated}"
for v in DB_APP_PASSWORD DB_ADMIN_PASSWORD DB_EXPORTER_PASSWORD; do
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

# TLS material is mounted read-only and owned by the host's user; mariadbd (user mysql) needs its own copy,
# the key readable by mysql only.
tls=/etc/faultline/tls
for f in ca.pem node.pem node-key.pem; do [ -s "$tls/$f" ] || { log "missing $tls/$f"; exit 2; }; done
install -o mysql -g mysql -m 644 "$tls/ca.pem" /etc/mysql/ssl/ca.pem
install -o mysql -g mysql -m 644 "$tls/node.pem" /etc/mysql/ssl/node.pem
install -o mysql -g mysql -m 600 "$tls/node-key.pem" /etc/mysql/ssl/node-key.pem
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql

datadir=/var/lib/mysql
grastate=$datadir/grastate.dat
check_dir=/run/galera-check
mkdir -p "$check_dir"
# What this node is doing while mariadbd does not answer, for galera-check (port 9200 and the healthcheck).
set_phase() { printf '%s\n' "$*" > "$check_dir/phase.tmp" && mv -f "$check_dir/phase.tmp" "$check_dir/phase"; }
set_phase starting

# Port 9200 answers from the container's start, not only once mariadbd runs: the other nodes read this node's
# phase and position there (galera-check says what the answer holds); the firewall opens it between data nodes.
# The poller keeps the node's state in a file, socat answers each request with a short-lived galera-check that
# reads it (socat forks; tini reaps what outlives its parent). The poller is restarted should it ever end:
# without it every check would answer 503 (stale state).
(while true; do galera-check --poll; sleep 1; done) &
socat -T 3 TCP-LISTEN:9200,reuseaddr,fork,backlog=32 EXEC:/usr/local/bin/galera-check &

args=(--user=mysql
  "--wsrep-node-name=${GALERA_NODE_NAME}"
  "--wsrep-node-address=${self}"
  "--wsrep-sst-receive-address=${self}:4444"
  "--wsrep-cluster-address=gcomm://${GALERA_NODES// /}")
# Galera's own traffic (group messages and IST) over TLS with the node certificate; gcache big enough to
# let a node that was down for minutes of writes rejoin by IST instead of a full SST, and kept over a restart
# (gcache.recover) so that after the whole tier went down the others still rejoin the elected node by IST.
# GALERA_EVS carries the failure-detection timers (compose/docker-compose.hardened.yml says what they mean).
# A donor leaves the Synced state while it serves a transfer (even an IST), and the check then takes it out
# of the LB: when the writer donates, writes fail over. GALERA_DONORS names the nodes that are least likely
# to be the writer first (a trailing comma: any other node when those cannot).
# pc.recovery is off: it let a crashed node start at once and restore its old view on its own, which skipped
# the one-joiner-at-a-time rule and, with a peer left non-Primary, blocked every other node; the election
# below covers what it was for (every node crashed) with the positions the nodes recover from InnoDB.
[ -z "${GALERA_DONORS:-}" ] || args+=("--wsrep-sst-donor=${GALERA_DONORS}")
provider="socket.ssl=YES;socket.ssl_cert=/etc/mysql/ssl/node.pem;socket.ssl_key=/etc/mysql/ssl/node-key.pem;socket.ssl_ca=/etc/mysql/ssl/ca.pem"
provider+=";gcache.size=64M;gcache.recover=yes;pc.recovery=FALSE"
[ -z "${GALERA_EVS:-}" ] || provider+=";${GALERA_EVS}"
# The node's quorum weight (compose says why the nodes differ).
[ -z "${GALERA_PC_WEIGHT:-}" ] || provider+=";pc.weight=${GALERA_PC_WEIGHT}"
args+=("--wsrep-provider-options=${provider}")

# This node's position: uuid and seqno from grastate.dat; after a crash grastate.dat says seqno -1, and
# --wsrep-recover reads the position InnoDB actually reached (what Debian's galera_recovery does for systemd).
# --wsrep-start-position hands it to Galera, which can then ask a peer for IST, only the transactions it
# missed, or bootstrap from it. A node that cannot tell its position (-1) never bootstraps by itself.
read_position() {
  fresh=0
  [ -d "$datadir/mysql" ] || fresh=1
  my_uuid=- my_seqno=-1 safe=0 start_pos=""
  if [ "$fresh" = 0 ] && [ -f "$grastate" ]; then
    my_uuid=$(sed -n 's/^uuid: *//p' "$grastate")
    my_seqno=$(sed -n 's/^seqno: *//p' "$grastate")
    if grep -q '^safe_to_bootstrap: *1' "$grastate"; then safe=1; fi
  fi
  [[ "$my_uuid" =~ ^[0-9a-f-]{36}$ ]] || my_uuid=-
  [[ "$my_seqno" =~ ^-?[0-9]+$ ]] || my_seqno=-1
  if [ "$fresh" = 0 ] && [ "$my_seqno" -lt 0 ]; then
    local recover_log pos
    recover_log=$(mktemp /tmp/wsrep-recover.XXXXXX)
    chown mysql:mysql "$recover_log"
    # The same options as the real start (the SST method refuses to load without the cluster address).
    if mariadbd "${args[@]}" --wsrep-recover --log-error="$recover_log" > /dev/null 2>&1; then
      pos=$(sed -n 's/.*WSREP: Recovered position: *//p' "$recover_log" | tail -n 1)
      if [[ "$pos" =~ ^([0-9a-f-]{36}):([0-9]+)$ ]]; then
        log "recovered position $pos from InnoDB"
        my_uuid=${BASH_REMATCH[1]} my_seqno=${BASH_REMATCH[2]} start_pos=$pos
      else
        log "no position recovered from InnoDB (${pos:-none}): this node does not know its position; it can join by SST, never bootstrap"
      fi
    else
      log "position recovery failed: this node does not know its position; it can join by SST, never bootstrap: $(tail -n 5 "$recover_log")"
    fi
    rm -f "$recover_log"
  fi
  # Data whose cluster is not known either (no grastate.dat, and the recovery failed) is not an empty datadir: "?"
  # tells the others (decide) that this node holds data whose position nobody knows.
  [ "$fresh" = 1 ] || [ "$my_uuid" != - ] || my_uuid="?"
  # Crashed nodes leave their last view here; pc.recovery is off, and a stale view has no use.
  rm -f "$datadir/gvwstate.dat"
}

# One node's state as its port 9200 tells it: "phase name uuid seqno cluster state" (phase none: no answer
# within 2 s, the node is stopped, removed or not started yet).
look() {
  local answer body w phase=none name=? uuid=- seqno=-1 cluster=- state=-
  answer=$(timeout 2 bash -c 'exec 3<> "/dev/tcp/$1/9200" || exit 1; printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3' _ "$1" 2> /dev/null) || true
  body=$(printf '%s\n' "$answer" | tail -n 1)
  for w in $body; do
    case "$w" in
      phase=*) phase=${w#*=} ;;
      name=*) name=${w#*=} ;;
      uuid=*) uuid=${w#*=} ;;
      seqno=*) seqno=${w#*=} ;;
      cluster=*) cluster=${w#*=} ;;
      state=*) state=${w#*=} ;;
      why=*) break ;;
    esac
  done
  [[ "$seqno" =~ ^-?[0-9]+$ ]] || seqno=-1
  echo "$phase $name $uuid $seqno $cluster $state"
}

# What this node should do now, from every node's state: sets `decision` (join, bootstrap, new or wait) and
# `why`. my_phase is "waiting" in the entrypoint and "running" in a running node that lost the Primary component
# (watch_primary). Rules, in order:
#   1. A Primary component runs: join it when no node is joining or donating (every running member is Synced,
#      none is starting) and no node before this one in GALERA_NODES waits; one transfer at a time, because
#      two joiners at once can break one for good ("IST didn't contain all write sets ... node restart
#      required", measured after a restart of the whole tier). A node running outside the Primary component is
#      not waited for: it merges by itself.
#   2. No Primary component and a node is starting: it is bootstrapping or joining; wait for it.
#   3. No other node answers: never bootstrap alone over a cluster this node's volume says it belonged to (its
#      peers may come back, stopped or removed with their volumes kept, or hold later writes); say what an
#      operator can do. Otherwise, when this node left the cluster last (safe_to_bootstrap: 1 after a clean
#      stop), it has every transaction: it bootstraps.
#   4. The election: every node must answer (a silent one may hold the latest writes: waiting is safe, guessing
#      is not), all of one cluster, and each node with data must know its position. The one with the highest
#      seqno (on a tie a running node, then the first in GALERA_NODES) bootstraps: a waiting one with
#      --wsrep-new-cluster, a running one with pc.bootstrap. A node with an empty datadir has nothing to offer:
#      it joins whoever bootstraps, by SST. When no node has data, the designated first node
#      (GALERA_BOOTSTRAP=1) creates the cluster.
decide() {
  local i n line phase name uuid seqno cluster state before=1 primary=0
  local -a busy=() waiting_before=() silent=() unknown=() others=()
  local cluster_uuid="" best="" best_name="" best_seqno=-1 best_running=0 running have_data=0 best_self=0
  decision=wait why=""
  for i in "${!nodes[@]}"; do
    n=${nodes[$i]}
    if [ "$n" = "$self" ]; then
      before=0
      phase=$my_phase name=$GALERA_NODE_NAME uuid=$my_uuid seqno=$my_seqno cluster=non-Primary state=-
    else
      line=$(look "$n")
      read -r phase name uuid seqno cluster state <<< "$line"
      [ "$name" != "?" ] || name=$n
    fi
    case "$phase" in
      none)
        silent+=("$name")
        continue
        ;;
      starting) busy+=("$name (starting)") ;;
      running)
        if [ "$cluster" = Primary ]; then
          primary=1
          [ "$state" = 4 ] || busy+=("$name (state $state)")
        fi
        ;;
      waiting) [ "$before" = 0 ] || waiting_before+=("$name") ;;
    esac
    [ "$phase" = running ] && [ "$cluster" = Primary ] && continue
    [ "$phase" = starting ] && continue
    # A candidate for the election (waiting, or running outside the Primary component).
    [ "$uuid" != - ] || continue
    have_data=1
    if [ "$uuid" = "?" ]; then
      unknown+=("$name")
      continue
    fi
    if [ -z "$cluster_uuid" ]; then cluster_uuid=$uuid; elif [ "$uuid" != "$cluster_uuid" ]; then others+=("$name ($uuid)"); fi
    if [ "$seqno" -lt 0 ]; then
      unknown+=("$name")
      continue
    fi
    running=0
    [ "$phase" = running ] && running=1
    if [ "$seqno" -gt "$best_seqno" ] || { [ "$seqno" = "$best_seqno" ] && [ "$running" -gt "$best_running" ]; }; then
      best=$n best_name=$name best_seqno=$seqno best_running=$running
    fi
  done
  [ "$best" != "$self" ] || best_self=1
  if [ "$primary" = 1 ]; then
    if [ "$my_phase" = running ]; then
      why="a Primary component runs elsewhere; this node merges with it by itself"
    elif [ "${#busy[@]}" -gt 0 ]; then
      why="a cluster runs; waiting until no node is joining or donating: ${busy[*]}"
    elif [ "${#waiting_before[@]}" -gt 0 ]; then
      why="a cluster runs; ${waiting_before[*]} (before this node) joins first"
    else
      decision=join why="every node of the cluster is Synced and none before this one waits: joining"
    fi
    return 0
  fi
  if [ "${#busy[@]}" -gt 0 ]; then
    why="no Primary component; waiting for ${busy[*]}"
    return 0
  fi
  if [ "$my_uuid" != - ] && [ "${#silent[@]}" = $((${#nodes[@]} - 1)) ]; then
    local last=""
    [ "$safe" = 0 ] || last=", which it left last"
    local belonged="it belonged to cluster $my_uuid at seqno $my_seqno$last"
    [ "$my_uuid" != "?" ] || belonged="it holds data of a cluster it cannot name (no grastate.dat, no position recovered)"
    why="no other node answers (${silent[*]}). This node's volume says $belonged, and it will not bootstrap alone over a cluster whose other members may come back (or hold later writes). Start the other nodes; if they are gone for good and this node's data is to be the cluster's, run: docker exec <this container> touch /run/galera-bootstrap"
    return 0
  fi
  if [ "$my_phase" = waiting ] && [ "$safe" = 1 ]; then
    decision=bootstrap why="the cluster is down and this node left it last (safe_to_bootstrap): bootstrapping from its state"
    return 0
  fi
  if [ "${#silent[@]}" -gt 0 ]; then
    why="waiting for ${silent[*]} to answer: the cluster is down and a node that does not answer may hold the latest writes"
    return 0
  fi
  if [ "${#others[@]}" -gt 0 ]; then
    why="the nodes hold different clusters ($cluster_uuid and ${others[*]}): an operator must choose; remove the data of the nodes to discard (they then join by SST), or run docker exec <container> touch /run/galera-bootstrap on the one to keep"
    return 0
  fi
  if [ "${#unknown[@]}" -gt 0 ]; then
    if [ -z "$best" ]; then
      why="no node knows its position (${unknown[*]}): the latest writes cannot be told; an operator must pick the node to bootstrap from and run docker exec <its container> touch /run/galera-bootstrap"
    else
      why="${unknown[*]} does not know its position, so the latest writes cannot be told; an operator must pick the node to bootstrap from (${best_name} has seqno ${best_seqno}) and run docker exec <its container> touch /run/galera-bootstrap"
    fi
    return 0
  fi
  if [ "$have_data" = 0 ]; then
    if [ "${GALERA_BOOTSTRAP:-0}" = 1 ] && [ "$fresh" = 1 ]; then
      decision=new why="every node answered with an empty datadir: creating the cluster"
    else
      why="every node has an empty datadir; the designated first node creates the cluster"
    fi
    return 0
  fi
  if [ "$best_self" = 1 ]; then
    decision=bootstrap why="every node answered and none is in a Primary component; this node's seqno ($my_seqno) is the highest: bootstrapping from its state"
  else
    why="every node answered; ${best_name} has the highest seqno ($best_seqno) and bootstraps; this node joins it"
  fi
}

# The database exporter's own account (prometheus-mysqld-exporter runs beside this node, in its network namespace,
# and logs in over TLS to 127.0.0.1): mysqld-exporter's documented grants and no more, PROCESS (processlist, InnoDB
# tables of information_schema), REPLICATION CLIENT and SELECT on performance_schema; nothing of the app's data. Made
# by every node once it is Synced in the Primary component, at each start of mariadbd, because the init SQL runs
# only when a cluster is created: a tier whose volumes are older than this account gets it too. Idempotent; Galera
# replicates it to the others (TOI), which make it as well.
ensure_exporter() {
  mariadb --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS 'exporter'@'127.0.0.1' IDENTIFIED BY '${DB_EXPORTER_PASSWORD}' REQUIRE SSL WITH MAX_USER_CONNECTIONS 3;
ALTER USER 'exporter'@'127.0.0.1' IDENTIFIED BY '${DB_EXPORTER_PASSWORD}' REQUIRE SSL WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'exporter'@'127.0.0.1';
GRANT SELECT ON performance_schema.* TO 'exporter'@'127.0.0.1';
SQL
}

# A running node that lost the Primary component (its peers crashed, then came back) takes part in the election
# with the position it reached: elected, it takes the Primary component back with pc.bootstrap, and the others
# then join it one at a time. Two rounds in a row must agree, so a passing view change is never acted on.
watch_primary() {
  set +e
  local ts state cluster ready uuid seqno age out hits=0 said=""
  my_phase=running
  while sleep 3; do
    ts=0 cluster=""
    [ -r "$check_dir/state" ] && read -r ts state cluster ready uuid seqno < "$check_dir/state"
    age=$((${EPOCHREALTIME/./} - ${ts:-0}))
    if [ "$age" -le 2000000 ] && [ "$cluster" = Primary ] && [ "$state" = 4 ] && [ "$ready" = ON ] && [ ! -e "$check_dir/exporter-account" ]; then
      if out=$(ensure_exporter 2>&1); then
        touch "$check_dir/exporter-account"
        log "exporter account ready ('exporter'@'127.0.0.1')"
      else
        log "exporter account not made yet (tried again in 3 s): $out"
      fi
    fi
    if [ "$age" -gt 2000000 ] || [ "$cluster" = Primary ] || [ "$cluster" = - ]; then
      hits=0
      continue
    fi
    my_uuid=$uuid my_seqno=$seqno safe=0
    [[ "$my_uuid" =~ ^[0-9a-f-]{36}$ ]] || my_uuid=-
    decide
    if [ "$decision" = bootstrap ]; then
      hits=$((hits + 1))
      if [ "$hits" -ge 2 ]; then
        log "outside the Primary component and $why (pc.bootstrap)"
        mariadb --protocol=socket -uroot -e "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'" || log "pc.bootstrap failed"
        hits=0
      fi
    else
      hits=0
      if [ "$why" != "$said" ]; then log "outside the Primary component: $why"; fi
      said=$why
    fi
  done
}

# Waits until decide says what to do, the same twice in a row (2 s apart): a peer started at the same moment may
# not answer yet on its first round, and a survivor may still show a Primary view its dead peers left a second ago.
wait_turn() {
  local said="" said_at=0 previous=""
  my_phase=waiting
  while true; do
    decide
    if [ -e /run/galera-bootstrap ] && [ "$decision" != join ]; then
      # Acted on once: /run is the container's own layer and outlives a restart, and a flag left there would make
      # this node bootstrap at every later start, over peers that may then hold later writes.
      rm -f /run/galera-bootstrap
      if [ "$fresh" = 1 ]; then decision=new; else decision=bootstrap; fi
      previous=$decision
      why="an operator asked this node to bootstrap (/run/galera-bootstrap)"
    fi
    if [ "$decision" != wait ] && [ "$decision" = "$previous" ]; then break; fi
    previous=$decision
    if [ "$decision" = wait ]; then
      # The reason, in the log when it changes (and every 5 minutes) and on 9200 all along.
      set_phase "waiting uuid=$my_uuid seqno=$my_seqno why=$why"
      if [ "$why" != "$said" ] || [ $((SECONDS - said_at)) -ge 300 ]; then
        log "waiting: $why (position ${my_uuid}:${my_seqno})"
        said=$why said_at=$SECONDS
      fi
    fi
    sleep 2
    [ "$term" = 0 ] || exit 143
  done
  log "$why"
  set_phase starting
}

# mariadbd runs as this script's child rather than in its place: when it ends by itself (a joiner whose cluster
# went away gives up after pc.wait_prim_timeout, a transfer failed), the node decides again instead of leaving
# its container exited, which nothing would start again. docker stop's SIGTERM is passed on to it.
term=0 mpid=""
fresh=0 my_uuid=- my_seqno=-1 safe=0 start_pos="" my_phase=waiting
trap 'term=1; [ -z "$mpid" ] || kill -TERM "$mpid" 2> /dev/null' TERM INT
(watch_primary) &
while true; do
  read_position
  set_phase "waiting uuid=$my_uuid seqno=$my_seqno why=deciding"
  wait_turn
  run=("${args[@]}")
  case "$decision" in
    new)
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
      run+=(--wsrep-new-cluster "--init-file=${init}")
      ;;
    bootstrap)
      # Galera refuses --wsrep-new-cluster unless grastate.dat allows it; the election (or the operator) did.
      [ ! -f "$grastate" ] || sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$grastate"
      run+=(--wsrep-new-cluster)
      ;;
    join)
      if [ "$fresh" = 1 ]; then log "empty datadir: joining by full state transfer (SST)"; else log "joining (IST when the peers' gcache still holds what this node missed)"; fi
      ;;
  esac
  [ -z "$start_pos" ] || run+=("--wsrep-start-position=${start_pos}")

  # This run of mariadbd makes the exporter's account once Synced (watch_primary).
  rm -f "$check_dir/exporter-account"
  mariadbd "${run[@]}" "$@" &
  mpid=$!
  rc=0
  wait "$mpid" || rc=$?
  # A trapped signal ends `wait` early: wait again until mariadbd itself has ended.
  while kill -0 "$mpid" 2> /dev/null; do
    rc=0
    wait "$mpid" || rc=$?
  done
  mpid=""
  [ "$term" = 0 ] || exit "$rc"
  log "mariadbd ended by itself (exit $rc): deciding again"
  sleep 5
done
