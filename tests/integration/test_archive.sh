#!/usr/bin/env bash
# archive and lake: the real log lands in the raw lake with every field
# (each hour's dump is the topic's JSON of its events, byte for byte, and
# imports again); counts per hour and custom_track match an SQL oracle over
# the CSV; repeats, kill -9 and a Cassandra outage neither lose nor add an
# event; TTL, purge and the bounded range.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

HOSTS=${CASSANDRA_HOST:-127.0.0.1}:${CASSANDRA_PORT:-9042}
CUSER=${ADTALLY_CASSANDRA_USER:-cassandra}
CPASS=${ADTALLY_CASSANDRA_PASSWORD:-cassandra}
PROBE=build/integration/cql_probe
FROM=2022-07-04T00 # the log's events, the one without ts included
TO=2022-07-28T23
LOGDIR=build/test-logs/archive # the roles' own logs, kept for a look
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; stack/stack.sh up cassandra \
    >/dev/null 2>&1; mkdir -p "$LOGDIR"; cp "$TMP"/*.log "$LOGDIR"/; \
    rm -rf "$TMP"' EXIT

[[ -x $PROBE ]] || make -s "$PROBE" >/dev/null 2>&1
cql() {
    "$PROBE" -c "$HOSTS" -u "$CUSER" -p "$CPASS" shell <<<"$1" 2>/dev/null
}

# fresh_keyspace NAME: an empty lake under that name.
fresh_keyspace() {
    export ADTALLY_KEYSPACE=$1
    cql "DROP KEYSPACE IF EXISTS $1" >/dev/null
    "$ADTALLY" schema apply --only cassandra >/dev/null 2>&1
}

# counts FILE: lake count over the log's range, without comment lines.
counts() {
    "$ADTALLY" lake count --from "$FROM" --to "$TO" 2>>"$TMP/lake.log" |
        grep -v '^#' >"$1"
}

# same_counts NAME: the lake's counts equal the oracle's, line for line.
same_counts() {
    counts "$TMP/got.tsv"
    if diff "$TMP/expected.tsv" "$TMP/got.tsv" >"$TMP/diff.txt"; then
        pass "$1"
    else
        fail "$1" "$(wc -l <"$TMP/expected.tsv") lines expected, \
$(wc -l <"$TMP/got.tsv") got: $(head -n 6 "$TMP/diff.txt")"
    fi
}

# --- setup: schema, the oracle from the CSV, the log on the topic
use_names archive
cql "DROP KEYSPACE IF EXISTS $ADTALLY_KEYSPACE" >/dev/null
"$ADTALLY" schema apply >"$TMP/schema.log" 2>&1 ||
    fail schema_apply "$(tail -n 3 "$TMP/schema.log")"
sql "$(cat tests/integration/load_raw.sql)"
mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot --local-infile=1 \
    "$MYSQL_DB" -e "LOAD DATA LOCAL INFILE '$ROOT/data/tracking.csv'
    INTO TABLE raw CHARACTER SET utf8mb4 FIELDS TERMINATED BY ','
    OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' IGNORE 1 LINES"
# The event hour is ts's, else that of create_time's version-1 time: 100 ns
# ticks since 1582-10-15 in time_hi, time_mid, time_low.
sql "SET time_zone = '+00:00';
    SELECT REPLACE(LEFT(t, 13), ' ', 'T'), custom_track, COUNT(*) FROM (
      SELECT IF(ts <> '', ts, FROM_UNIXTIME((CAST(CONV(CONCAT(
        SUBSTR(create_time, 16, 3), SUBSTR(create_time, 10, 4),
        SUBSTR(create_time, 1, 8)), 16, 10) AS UNSIGNED)
        - 122192928000000000) DIV 10000000)) AS t, custom_track FROM raw) r
    GROUP BY 1, BINARY custom_track ORDER BY 1, BINARY custom_track" \
    >"$TMP/expected.tsv"
assert_eq oracle_counts_all_events \
    "$(awk -F'\t' '{ n += $3 } END { print n }' "$TMP/expected.tsv")" 6662
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
assert_eq log_on_topic "$(topic_count "$ADTALLY_TOPIC")" 6662

# --- the log into the lake: counts per hour and custom_track
t0=$SECONDS
"$ADTALLY" archive --drain --status-interval 0 2>"$TMP/archive.log"
assert_eq archive_drain_exits_0 "$?" 0
echo "archive --drain of 6662 events: $((SECONDS - t0)) s"
assert_contains archive_counts_in_done_line "$(cat "$TMP/archive.log")" \
    "archived 6662, invalid 0"
same_counts lake_counts_match_oracle
assert_contains count_total_line \
    "$("$ADTALLY" lake count --from "$FROM" --to "$TO" 2>/dev/null)" \
    "# total 6662 events in"

# --- every hour's dump: its events exactly, as on the topic
topic_dump "$ADTALLY_TOPIC" | sort >"$TMP/topic.ndjson"
: >"$TMP/dumps.ndjson"
wrong_hour=0
for h in $(cut -f1 "$TMP/expected.tsv" | uniq); do
    "$ADTALLY" lake dump "$h" 2>>"$TMP/lake.log" >"$TMP/hour.ndjson"
    wrong_hour=$((wrong_hour + $(grep -vc "\"ts\":\"${h/T/ }:" \
        "$TMP/hour.ndjson")))
    cat "$TMP/hour.ndjson" >>"$TMP/dumps.ndjson"
done
assert_eq dumps_hold_only_their_hour "$wrong_hour" 0
sort "$TMP/dumps.ndjson" >"$TMP/dumps.sorted"
if cmp -s "$TMP/topic.ndjson" "$TMP/dumps.sorted"; then
    pass dumps_are_topic_json_byte_for_byte
else
    fail dumps_are_topic_json_byte_for_byte \
        "$(diff "$TMP/topic.ndjson" "$TMP/dumps.sorted" | head -n 4)"
fi
jq -cS . "$TMP/topic.ndjson" | sort >"$TMP/a.json"
jq -cS . "$TMP/dumps.sorted" | sort >"$TMP/b.json"
assert_eq dumps_equal_topic_as_json "$(cmp -s "$TMP/a.json" "$TMP/b.json" &&
    wc -l <"$TMP/b.json")" 6662
busiest=$(awk -F'\t' '{ n[$1] += $3 } END { for (h in n) print n[h], h }' \
    "$TMP/expected.tsv" | sort -rn | head -n 1 | cut -d' ' -f2)
"$ADTALLY" schema apply --only kafka --topic "$ADTALLY_TOPIC.again" \
    >/dev/null 2>&1
"$ADTALLY" lake dump "$busiest" 2>/dev/null |
    "$ADTALLY" import --topic "$ADTALLY_TOPIC.again" - 2>"$TMP/again.log"
assert_eq dump_imports_again "$?" 0
assert_contains dump_import_accepts_all "$(cat "$TMP/again.log")" \
    "accepted $(grep -c "\"ts\":\"${busiest/T/ }:" "$TMP/dumps.sorted"), \
rejected 0"

# --- repeats: the same create_times again overwrite themselves
"$ADTALLY" import --force data/tracking.csv >/dev/null 2>&1
"$ADTALLY" archive --drain --status-interval 0 2>"$TMP/repeat.log"
assert_eq repeat_drain_exits_0 "$?" 0
assert_contains repeats_archived "$(cat "$TMP/repeat.log")" "archived 6662,"
same_counts repeats_leave_counts_unchanged

# --- kill -9 mid-run, twice, into an empty lake: nothing missing. Each
# run is killed a moment after it took its partitions (a new member waits
# for the killed one's session to time out first).
"$ADTALLY" import --force data/tracking.csv >/dev/null 2>&1
fresh_keyspace it_archive_kill
KILL_OPTS=(--group it-archive-kill --kafka.session.timeout.ms=6000)
for i in 1 2; do
    "$ADTALLY" archive "${KILL_OPTS[@]}" --write-mode execute --inflight 2 \
        --batch-max 200 --flush-ms 20 --status-interval 0 \
        2>"$TMP/kill$i.log" &
    pid=$!
    wait_for 30 grep -q "resuming at offset" "$TMP/kill$i.log"
    sleep "0.$((RANDOM % 7 + 3))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    cat "$TMP/kill$i.log" >>"$TMP/kill.log"
done
resumed=$(grep -c 'resuming at offset [1-9]' "$TMP/kill2.log")
assert_eq second_run_resumes_past_commits "$((resumed > 0))" 1
"$ADTALLY" archive --drain "${KILL_OPTS[@]}" --status-interval 0 \
    2>>"$TMP/kill.log"
assert_eq drain_after_kills_exits_0 "$?" 0
same_counts kill_9_loses_nothing

# --- TTL: rows expire the given days after they are archived
"$ADTALLY" archive --drain --group it-archive-ttl --ttl-days 2 \
    --status-interval 0 --keyspace it_archive_kill 2>"$TMP/ttl.log"
out=$(cql "SELECT TTL(archived_at) FROM it_archive_kill.tracking \
WHERE hour = '${busiest/T/ }:00:00+0000' AND bucket IN (0,1,2,3,4,5,6,7) \
LIMIT 1")
ttl=${out%%$'\n'*}
assert_eq ttl_days_applied "$((ttl > 172000 && ttl <= 172800))" 1

# --- Cassandra down for ~30 s while events arrive: the archiver waits,
# says so, lets the lag grow, commits nothing, and catches up.
export ADTALLY_TOPIC="${ADTALLY_TOPIC}_down"
"$ADTALLY" schema apply --only kafka >/dev/null 2>&1
fresh_keyspace it_archive_down
"$ADTALLY" archive --group it-archive-down --batch-max 1000 \
    --status-interval 2 2>"$TMP/down.log" &
arch=$!
wait_for 30 grep -q "resuming at offset" "$TMP/down.log"
t0=$SECONDS
stack/stack.sh down cassandra >"$TMP/stack.log" 2>&1
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
sleep $((30 - (SECONDS - t0) > 5 ? 30 - (SECONDS - t0) : 5))
assert_eq archiver_waits_while_down \
    "$(kill -0 "$arch" 2>/dev/null && echo up)" up
failed_re='warn archive: cassandra: writing [0-9]+ events failed .*; retry 1 in'
assert_eq outage_logged "$(grep -Ec "$failed_re" "$TMP/down.log")" 1
lag=$(grep -o 'status: [0-9]* events/s, lag [0-9]*' "$TMP/down.log" |
    tail -n 1 | awk '{ print $NF }')
assert_eq lag_grows_while_down "$((${lag:-0} >= 5000))" 1
stack/stack.sh up cassandra >>"$TMP/stack.log" 2>&1 ||
    fail cassandra_back "$(tail -n 3 "$TMP/stack.log")"
echo "cassandra down for $((SECONDS - t0)) s (stop, wait, start)"
wait_for 120 grep -q "lag 0, pending 0, archived 6662" "$TMP/down.log" ||
    fail caught_up "$(tail -n 3 "$TMP/down.log")"
kill -TERM "$arch"
wait "$arch"
assert_eq sigterm_after_outage_exits_0 "$?" 0
assert_contains outage_recovery_logged "$(cat "$TMP/down.log")" \
    "events written after"
same_counts outage_loses_nothing

# --- purge: whole hours before a day, dry run first
export ADTALLY_KEYSPACE=it_archive
early=$(awk -F'\t' '$1 < "2022-07-10" { n += $3 } END { print n }' \
    "$TMP/expected.tsv")
out=$("$ADTALLY" lake purge --before 2022-07-10 --dry-run 2>/dev/null)
assert_contains purge_dry_run_says "$out" "would purge $early events"
same_counts dry_run_deletes_nothing
"$ADTALLY" lake purge --before 2022-07-10 >/dev/null 2>&1
assert_eq purge_exits_0 "$?" 0
awk -F'\t' '$1 >= "2022-07-10"' "$TMP/expected.tsv" >"$TMP/late.tsv"
mv "$TMP/late.tsv" "$TMP/expected.tsv"
same_counts purge_removes_only_earlier_hours

# --- ranges are bounded; hours are checked
out=$("$ADTALLY" lake count --from 2022-07-01T00 --to 2022-08-01T00 2>&1)
assert_eq long_range_refused "$?" 2
assert_contains long_range_says_why "$out" "at most 744"
out=$("$ADTALLY" lake dump 2022-07-32T00 2>&1)
assert_eq bad_hour_refused "$?" 2

t_done
