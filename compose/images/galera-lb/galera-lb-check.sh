#!/bin/bash
# The database LB's container healthcheck: healthy only when it listens on 3306 AND every Galera node is UP
# in it (status exactly "UP": not "DOWN 1/3", still rising, nor "UP 1/2", going down). Then the tier can fail
# over: `stack up` (which waits for every container to be healthy) reports the stack up only from then on.
# Before, a node Synced a moment earlier could still be rising here (rise x inter), or be the donor of a
# rejoining node, and a writer kill right after `stack up` then had nowhere to go.
set -uo pipefail
exec 3<> /dev/tcp/127.0.0.1/3306 || { echo "not listening on 3306"; exit 1; }
exec 3>&-
stat=$(echo 'show stat' | socat -t 2 stdio UNIX-CONNECT:/run/haproxy/admin.sock) || { echo "admin socket did not answer"; exit 1; }
# show stat CSV: pxname, svname, ..., status is field 18.
awk -F, '$1 == "galera" && $2 != "FRONTEND" && $2 != "BACKEND" { n++; if ($18 == "UP") up++; else down = down " " $2 "=" $18 }
  END { if (n > 0 && up == n) exit 0; print "not every node is UP:" down; exit 1 }' <<< "$stat"
