#!/bin/bash
# Starts MariaDB as the primary or the replica. The init file is idempotent and runs on every boot, so a
# restarted replica reconnects with GTID (slave_pos) and a restarted primary keeps its users and schema.
set -euo pipefail
: "${DB_ROLE:?DB_ROLE must be primary or replica}"
: "${NET_PREFIX:?NET_PREFIX must be set}"
# One random password per account (faultline keeps them in the stack's 0700 state folder). They go into SQL
# unquoted-safe only: URL-safe base64, nothing else.
for v in DB_APP_PASSWORD DB_REPL_PASSWORD DB_EXPORTER_PASSWORD DB_ADMIN_PASSWORD; do
  if ! [[ "${!v:-}" =~ ^[A-Za-z0-9_-]{16,128}$ ]]; then echo "db-entrypoint: $v must be 16-128 characters of A-Z a-z 0-9 _ -" >&2; exit 2; fi
done
# The operator (faultline's probes) is the Docker host, the internal network's gateway.
OPERATOR="${NET_PREFIX}.1"
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db > /dev/null
fi
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql

# account USER@HOST PASSWORD GRANT...: creates the account or sets its password, and leaves it exactly the
# grants named (REVOKE ALL first), so a data volume from an older stack loses what it had beyond them.
account() {
  local who="$1" password="$2"
  shift 2
  echo "CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY '${password}';"
  echo "ALTER USER ${who} IDENTIFIED BY '${password}';"
  echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${who};"
  local g
  for g in "$@"; do echo "GRANT ${g} TO ${who};"; done
}

common() {
cat <<SQL
CREATE DATABASE IF NOT EXISTS faultline;
CREATE TABLE IF NOT EXISTS faultline.items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  item_key VARCHAR(128) NOT NULL,
  value VARCHAR(1024) NOT NULL DEFAULT '',
  server VARCHAR(32) NOT NULL DEFAULT '',
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY item_key (item_key)
) ENGINE=InnoDB;
SQL
}

# Accounts are each server's own (never binlogged): a primary's restart does not replay its REVOKE/GRANT
# on the replica, where it would briefly take the app's SELECT away.
accounts() {
echo "SET sql_log_bin = 0;"
# The app reads and inserts items, nothing else (no UPDATE, DELETE, DDL or GRANT).
account "'app'@'%'" "$DB_APP_PASSWORD" "SELECT, INSERT ON faultline.items"
# The replica's connection to the primary.
account "'repl'@'%'" "$DB_REPL_PASSWORD" "REPLICATION SLAVE, REPLICATION CLIENT ON *.*"
# mysqld_exporter's documented grants; on MariaDB >= 10.5 SHOW SLAVE STATUS needs SLAVE MONITOR, which
# REPLICATION CLIENT no longer includes (without it the replica's lag metrics are gone).
account "'exporter'@'127.0.0.1'" "$DB_EXPORTER_PASSWORD" "PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.*"
echo "ALTER USER 'exporter'@'127.0.0.1' WITH MAX_USER_CONNECTIONS 3;"
# The operator, from the Docker host only: what faultline's probes read (items, replication state, and the
# other accounts' grants, which SHOW GRANTS FOR reads from the mysql schema).
account "'faultline'@'${OPERATOR}'" "$DB_ADMIN_PASSWORD" "SELECT ON faultline.*" "SELECT ON mysql.*" "SLAVE MONITOR, BINLOG MONITOR ON *.*"
# Older stacks had one password for everyone and an ALL PRIVILEGES admin from anywhere.
echo "DROP USER IF EXISTS 'faultline'@'%';"
echo "SET sql_log_bin = 1;"
}

init=/run/mysqld/init.sql
# The init file holds the passwords: readable by mariadbd only.
umask 077
: > "$init"
chown mysql:mysql "$init"
if [ "$DB_ROLE" = primary ]; then
  { common; accounts; } > "$init"
  exec mariadbd --user=mysql --server-id=1 --init-file="$init" "$@"
else
  {
    echo "SET sql_log_bin = 0;"
    common
    accounts
    echo "SET sql_log_bin = 1;"
    echo "STOP SLAVE;"
    echo "CHANGE MASTER TO MASTER_HOST='${NET_PREFIX}.31', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='${DB_REPL_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;"
    echo "START SLAVE;"
  } > "$init"
  exec mariadbd --user=mysql --server-id=2 --read-only=1 --init-file="$init" "$@"
fi
