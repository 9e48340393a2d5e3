# Helpers for the integration tests: assertions that print PASS or FAIL.
# Sourced by each test; ROOT, ADTALLY and the server settings are exported by
# tests/run.sh.
set -u

T_FAILED=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; T_FAILED=1; }

# assert_eq NAME GOT EXPECTED
assert_eq() {
    if [[ "$2" == "$3" ]]; then pass "$1"; else
        fail "$1" "got '$2', expected '$3'"; fi
}

# assert_ok NAME COMMAND...: the command exits 0.
assert_ok() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$name"; else
        fail "$name" "exit $?: $(tail -n 5 <<<"$out")"; fi
}

# assert_fails NAME COMMAND...: the command exits non-zero.
assert_fails() {
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then fail "$name" "exited 0"; else
        pass "$name"; fi
}

# assert_contains NAME HAYSTACK NEEDLE
assert_contains() {
    if [[ "$2" == *"$3"* ]]; then pass "$1"; else
        fail "$1" "'$3' not in: $(head -c 400 <<<"$2")"; fi
}

# Every row of `events` with the columns the tally rules decide, in key
# order: what tests compare against their expectations.
EVENTS_SQL="SELECT job_id, dates, hours, publisher_id, campaign_id, group_id,
  company_id, impressions, clicks, conversion, qualified_application,
  disqualified_application, spend_hour, bid_set FROM events
  ORDER BY 1, 2, 3, 4, 5, 6"

# sql QUERY: runs a query on the test database, tab-separated, no header.
sql() {
    mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot -N -B "$MYSQL_DB" -e "$1"
}

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
    local limit=$1; shift
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || return 1
        sleep 0.2
    done
}

t_done() { exit "$T_FAILED"; }

# use_names NAME: a private topic, database and keyspace for one test, the
# way two deployments share one set of servers. The database starts empty.
use_names() {
    export ADTALLY_TOPIC="it_$1_$$_$RANDOM"
    export MYSQL_DB="it_$1"
    export ADTALLY_MYSQL="mysql://root@$MYSQL_HOST:$MYSQL_PORT/$MYSQL_DB"
    export ADTALLY_KEYSPACE="it_$1"
    export ADTALLY_LOG_LEVEL=${ADTALLY_LOG_LEVEL:-info}
    mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot \
        -e "DROP DATABASE IF EXISTS \`$MYSQL_DB\`"
}

# use_stack_names NAME: private names as use_names does, with the MySQL
# tables, the topics and the platform's dimensions in place.
use_stack_names() {
    use_names "$1"
    "$ADTALLY" schema apply --only mysql >/dev/null 2>&1 &&
        "$ADTALLY" schema apply --only kafka >/dev/null 2>&1 &&
        "$ADTALLY" dims load data >/dev/null 2>&1
}

# topic_count TOPIC: messages on a topic, all partitions, from the start.
topic_count() {
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -f '%o\n' 2>/dev/null |
        wc -l
}

# topic_dump TOPIC: the message values, one a line.
topic_dump() {
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -f '%s\n' 2>/dev/null
}
