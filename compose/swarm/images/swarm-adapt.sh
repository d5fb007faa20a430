#!/bin/bash
# Build time: points the compose stack's configurations at the swarm's names instead of its fixed addresses. A swarm
# task's address is given by Swarm (stack files have no ipv4_address) and changes when the task is rescheduled, so
# every peer is named (web1, db-primary, …: the stack's service names, which Docker's DNS answers on its networks).
# Each edit is checked: when the compose stack's file changes under it, the build fails here instead of the stack
# quietly using an address nobody has.
set -euo pipefail
kind="${1:?kind}"
edit() { # file sed-expression expected-text-after
  sed -i "$2" "$1"
  grep -qF -- "$3" "$1" || { echo "swarm-adapt: $1 no longer matches ($3 missing after the edit)" >&2; exit 1; }
}
need() { # file expected-text: what the swarm form relies on without editing it
  grep -qF -- "$2" "$1" || { echo "swarm-adapt: $1 no longer has '$2', which the swarm form relies on" >&2; exit 1; }
}
# The operator: on a compose stack the Docker host (<net-prefix>.1 on the bridge); an overlay gives no host an address,
# so here it is faultline's vantage (docs/swarm.md "The vantage"), whose address swarm-supervisor keeps in the set
# @operator (updated in place: a full reload would drop the rules a firewall fault added).
fw=/etc/faultline/firewall
edit "$fw/base.nft" 's|^    chain role {|    set operator {\n        type ipv4_addr\n    }\n    chain role {|' 'set operator {'
for f in db-primary db-replica galera monitor; do edit "$fw/$f.nft" 's|ip saddr \$MGMT |ip saddr @operator |' 'ip saddr @operator '; done
edit "$fw/galera-lb.nft" 's|ip saddr { \$APPS, \$MGMT }|ip saddr { $APPS } tcp dport 3306 accept comment "database clients"\nadd rule inet faultline role ip saddr @operator|' 'ip saddr @operator'
if grep -l 'saddr.*\$MGMT' "$fw"/*.nft; then echo "swarm-adapt: a rule still admits \$MGMT (an address nobody has on an overlay)" >&2; exit 1; fi
case "$kind" in
  lb)
    # HAProxy finds each web server through Docker's DNS, at start and again whenever it changes (a rescheduled task).
    for n in 1 2 3; do
      edit /etc/haproxy/haproxy.cfg "s|server web$n \"\${NET_PREFIX}.2$n:80\"|server web$n web$n:80 resolvers docker init-addr last,libc,none|" \
        "server web$n web$n:80 resolvers docker"
    done
    cat >> /etc/haproxy/haproxy.cfg <<'CFG'

# Swarm form: Docker's embedded DNS names each server's task (its address changes when Swarm reschedules it).
resolvers docker
    nameserver dns 127.0.0.11:53
    resolve_retries 3
    timeout resolve 1s
    timeout retry 1s
    hold valid 2s
    hold nx 2s
    hold obsolete 2s
    accepted_payload_size 8192
CFG
    ;;
  db)
    # The replica follows the primary by name (MariaDB resolves it again on each reconnect).
    edit /usr/local/bin/db-entrypoint "s|MASTER_HOST='\${NET_PREFIX}.31'|MASTER_HOST='\${DB_PRIMARY_HOST:?}'|" "MASTER_HOST='\${DB_PRIMARY_HOST:?}'"
    # The operator's login comes from the vantage, whose address Swarm gives: any address of the internal network, and
    # the firewall (3306 from @operator, the apps and the replica only) with the password, which no app task holds, decide.
    edit /usr/local/bin/db-entrypoint 's|^OPERATOR="\${NET_PREFIX}.1"|OPERATOR="${NET_PREFIX}.%"|' 'OPERATOR="${NET_PREFIX}.%"'
    ;;
  monitor)
    # Prometheus resolves each target's name at every scrape.
    edit /usr/local/bin/monitor-entrypoint 's|\$P\.10|lb|g; s|\$P\.21|web1|g; s|\$P\.22|web2|g; s|\$P\.23|web3|g; s|\$P\.31|db-primary|g; s|\$P\.32|db-replica|g' \
      'db-primary:db-primary:db-primary'
    # Each web task's mtail (its requests that are not the client's), which the swarm description's web_per_server
    # subtracts from nginx's count: scraped by name like every other target.
    for n in 1 2 3; do need /usr/local/bin/monitor-entrypoint "mtail:web$n:web:web$n:3903"; done
    ;;
  web)
    # mtail beside nginx, as in the compose web container: web-entrypoint starts it before nginx, with nginx.mtail.
    need /usr/local/bin/web-entrypoint 'mtail --progs /etc/faultline/mtail'
    need /etc/faultline/mtail/nginx.mtail 'counter nginx_lb_checks_total'
    command -v mtail > /dev/null || { echo "swarm-adapt: the web image has no mtail" >&2; exit 1; }
    ;;
  *) echo "swarm-adapt: unknown kind '$kind'" >&2; exit 2 ;;
esac
