#!/usr/bin/env bash
# The local stack is the real servers: Kafka carries a message, MariaDB
# keeps a row, and `make status` reports each server.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

use_names stack
"$ADTALLY" schema apply --only kafka >/dev/null 2>&1
msg="hello-$RANDOM"
printf '%s\n' "$msg" | kcat -P -b "$KAFKA_BOOTSTRAP" -t "$ADTALLY_TOPIC" -p 0
assert_eq kafka_round_trip \
    "$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$ADTALLY_TOPIC" -p 0 -o -1 -e -q)" \
    "$msg"

mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot \
    -e "CREATE DATABASE $MYSQL_DB; CREATE TABLE $MYSQL_DB.t (v TEXT);
        INSERT INTO $MYSQL_DB.t VALUES ('$msg')"
assert_eq mariadb_round_trip "$(sql 'SELECT v FROM t')" "$msg"
assert_contains mariadb_is_the_real_server \
    "$(sql 'SELECT VERSION()')" "MariaDB"

out=$(stack/stack.sh status 2>&1)
assert_eq status_exits_0_when_all_up "$?" 0
for s in kafka cassandra mariadb; do
    assert_contains "status_reports_$s" "$out" "$s"
done
assert_contains status_names_log_files "$out" "var/log/kafka.log"

t_done
