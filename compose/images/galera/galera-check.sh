#!/bin/bash
# The node's health as HAProxy's httpchk sees it (Debian has no clustercheck): 200 only when this node is
# Synced (wsrep_local_state=4) in the Primary component and ready, 503 otherwise. A node that lost quorum
# still accepts logins and then fails every query with error 1047, so "the port answers" is not health.
#   galera-check --poll       the poller (started by the entrypoint): one long-lived client on the unix socket
#                             writes the node's values to a state file every 250 ms
#   galera-check              one HTTP answer (socat runs it per connection on 9200): request on stdin
#   galera-check --exit-code  the container healthcheck: the same test as an exit status, and one line saying
#                             why not (Docker keeps it: `faultline stack status` shows a waiting node's reason)
# Answering from the poller's file keeps a check to one bash with builtins only: spawning a mysql client
# per check took 0.3-1 s on two busy cores, past HAProxy's check timeout, and flapped the writer.
# The answer's body is one line of key=value words that the other nodes' entrypoints read (galera-entrypoint):
#   phase=running name=N state=S cluster=C ready=R uuid=U seqno=Q age_ms=A   mariadbd answers (the poller's values)
#   phase=waiting name=N uuid=U seqno=Q why=...   the entrypoint waits before starting mariadbd (its saved position)
#   phase=starting name=N                         mariadbd was started and does not answer yet (joining, SST)
# The entrypoint writes the last two to $dir/phase; port 9200 is served from the container's start.
set -uo pipefail
dir=/run/galera-check
state_file=$dir/state
phase_file=$dir/phase
# A state older than this means the poller is stuck (mariadbd hung): not healthy.
STALE_US=2000000

poll() {
  # No set -u here: bash unsets MDB the moment the client exits (e.g. while the server restarts for an SST),
  # and an unbound expansion would end the poller for good; a failed read or write only starts a new client.
  set +u
  mkdir -p "$dir"
  # A failed write to a client that died must return an error here, not kill the poller.
  trap '' PIPE
  local pause name value state cluster ready uuid seqno to from pid
  # read -t on a pipe that never delivers is a sleep without forking sleep(1) four times a second.
  exec {pause}<> <(:)
  while true; do
    # Root over the unix socket (unix_socket authentication): no password, and it works while
    # require_secure_transport refuses plain TCP. -n: answers are flushed statement by statement.
    coproc MDB { exec mariadb --protocol=socket -uroot -N -B -n 2> /dev/null; }
    from="${MDB[0]}" to="${MDB[1]}" pid="$MDB_PID"
    while true; do
      # The state UUID and last committed seqno: a node that lost the Primary component takes part in the
      # entrypoints' election with them (which node holds the latest writes).
      printf '%s\n' "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state','wsrep_cluster_status','wsrep_ready','wsrep_local_state_uuid','wsrep_last_committed');" >&"$to" 2> /dev/null || break
      state="" cluster="" ready="" uuid="" seqno=""
      for _ in 1 2 3 4 5; do
        IFS=$'\t' read -r -t 2 name value <&"$from" 2> /dev/null || break 2
        case "$name" in
          wsrep_local_state) state="$value" ;;
          wsrep_cluster_status) cluster="$value" ;;
          wsrep_ready) ready="$value" ;;
          wsrep_local_state_uuid) uuid="$value" ;;
          wsrep_last_committed) seqno="$value" ;;
        esac
      done
      # Written whole then renamed: a check never reads a half-written file.
      printf '%s %s %s %s %s %s\n' "${EPOCHREALTIME/./}" "${state:--}" "${cluster:--}" "${ready:--}" "${uuid:--}" "${seqno:--1}" > "$state_file.tmp" && mv -f "$state_file.tmp" "$state_file"
      read -r -t 0.25 -u "$pause" _
    done
    kill "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    # The server is not up yet (or went away): try again shortly.
    read -r -t 1 -u "$pause" _
  done
}

if [ "${1:-}" = --poll ]; then
  poll
  exit
fi

if [ "${1:-}" != --exit-code ]; then
  # Read the request up to its blank line (bounded): closing with unread data would send a reset, which
  # HAProxy may see before the answer.
  while IFS= read -r -t 1 line; do
    line="${line%$'\r'}"
    [ -n "$line" ] || break
  done
fi

ts=0 state="" cluster="" ready="" uuid="" seqno=""
[ -r "$state_file" ] && read -r ts state cluster ready uuid seqno < "$state_file"
age=$((${EPOCHREALTIME/./} - ${ts:-0}))
ok=0
# A planned switchover drains a node by touching $dir/drain (docker exec ... touch /run/galera-check/drain).
if [ "$age" -le "$STALE_US" ] && [ "$state" = 4 ] && [ "$cluster" = Primary ] && [ "$ready" = ON ] && [ ! -e "$dir/drain" ]; then ok=1; fi
name="${GALERA_NODE_NAME:-?}"
if [ "$age" -le "$STALE_US" ]; then
  body="phase=running name=$name state=${state:--} cluster=${cluster:--} ready=${ready:--} uuid=${uuid:--} seqno=${seqno:--1} age_ms=$((age / 1000))"
else
  # mariadbd does not answer (not started yet, or joining): what the entrypoint says it is doing.
  phase="" rest=""
  [ -r "$phase_file" ] && read -r phase rest < "$phase_file"
  case "$phase" in
    waiting) body="phase=waiting name=$name $rest" ;;
    *) body="phase=starting name=$name" ;;
  esac
fi

if [ "${1:-}" = --exit-code ]; then
  [ "$ok" = 1 ] && exit 0
  # One line for people (Docker keeps it as the check's output; `faultline stack status` shows it).
  case "$body" in
    phase=waiting*) echo "waiting: ${body#*why=}" ;;
    phase=starting*) echo "mariadbd starting (joining or bootstrapping)" ;;
    *) echo "wsrep_local_state=${state:-?} wsrep_cluster_status=${cluster:-?} wsrep_ready=${ready:-?}$([ -e "$dir/drain" ] && echo ' (drained)')" ;;
  esac
  exit 1
fi
body+=$'\n'
if [ "$ok" = 1 ]; then code="200 OK"; else code="503 Service Unavailable"; fi
printf 'HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$code" "${#body}" "$body"
