#!/bin/bash
# Starts MariaDB as the primary or the replica. The init file is idempotent and runs on every boot, so a
# restarted replica reconnects with GTID (slave_pos) and a restarted primary keeps its users and schema.
set -euo pipefail
: "${DB_ROLE:?DB_ROLE must be primary or replica}"
: "${NET_PREFIX:?NET_PREFIX must be set}"
DB_PASSWORD="${DB_PASSWORD:-faultline}"
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db > /dev/null
fi
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql

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
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '${DB_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON faultline.* TO 'app'@'%';
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '${DB_PASSWORD}';
GRANT REPLICATION SLAVE, SLAVE MONITOR ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'faultline'@'%' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO 'faultline'@'%';
CREATE USER IF NOT EXISTS 'exporter'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'127.0.0.1';
SQL
}

init=/run/mysqld/init.sql
if [ "$DB_ROLE" = primary ]; then
  { common; } > "$init"
  exec mariadbd --user=mysql --server-id=1 --init-file="$init" "$@"
else
  {
    echo "SET sql_log_bin = 0;"
    common
    echo "SET sql_log_bin = 1;"
    echo "STOP SLAVE;"
    echo "CHANGE MASTER TO MASTER_HOST='${NET_PREFIX}.31', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='${DB_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;"
    echo "START SLAVE;"
  } > "$init"
  exec mariadbd --user=mysql --server-id=2 --read-only=1 --init-file="$init" "$@"
fi
