#!/bin/bash
# A swarm server's health: its firewall is applied and each of its serving components answers, checked with bash
# builtins as the compose stack's checks are (a check runs in every task every interval; a node would cost more).
set -uo pipefail
tcp() { exec 3<>"/dev/tcp/127.0.0.1/$1" && exec 3>&-; }
test -f /run/firewall-ready || exit 1
case "${SERVER_KIND:-}" in
  lb) tcp 443 ;;
  web)
    tcp 80 || exit 1
    exec 3<>/dev/tcp/127.0.0.1/3000 && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && read -r -t 2 status <&3 && [[ $status == *' 200 '* ]]
    ;;
  db) mariadb-admin --protocol=socket ping --silent ;;
  monitor) tcp 9090 ;;
  *) exit 1 ;;
esac
