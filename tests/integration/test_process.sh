#!/usr/bin/env bash
# process: the real log tallied exactly as DESIGN §4 says (an SQL oracle
# over the raw CSV), also across kill -9, two members, shuffled and doubled
# input; late, unknown-job and job-less events.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# oracle: the expected rows for data/tracking.csv, into $1.
oracle() {
    sql "$(cat tests/integration/load_raw.sql)" &&
        mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot --local-infile=1 \
            "$MYSQL_DB" -e "LOAD DATA LOCAL INFILE '$ROOT/data/tracking.csv'
            INTO TABLE raw CHARACTER SET utf8mb4 FIELDS TERMINATED BY ','
            OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''
            LINES TERMINATED BY '\n' IGNORE 1 LINES" &&
        sql "$(cat tests/integration/oracle.sql)" >"$1"
}

# compare NAME EXPECTED_FILE: events equals the expectation, row for row.
compare() {
    sql "$EVENTS_SQL" >"$TMP/got.tsv"
    if diff "$2" "$TMP/got.tsv" >"$TMP/diff.txt"; then
        pass "$1"
    else
        fail "$1" "events differ from the oracle ($(wc -l <"$2") rows \
expected, $(wc -l <"$TMP/got.tsv") got): $(head -n 6 "$TMP/diff.txt")"
    fi
}

TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

# --- the real log, straight through
use_stack_names process_real || fail setup "schema or dims failed"
oracle "$TMP/expected.tsv"
assert_eq oracle_has_rows "$(($(wc -l <"$TMP/expected.tsv") > 100))" 1
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
"$ADTALLY" process --drain --status-interval 0 2>"$TMP/process.log"
assert_eq process_drain_exits_0 "$?" 0
compare real_log_tallies_match_oracle "$TMP/expected.tsv"
assert_eq rows_written_by_stream \
    "$(sql "SELECT COUNT(*) FROM events WHERE sources <> 'kafka'")" 0
assert_eq offsets_stored_for_each_partition \
    "$(sql "SELECT SUM(next_offset) FROM kafka_offsets")" 6662
"$ADTALLY" process --drain --status-interval 0 2>/dev/null
compare second_drain_adds_nothing "$TMP/expected.tsv"

# --- kill -9 at random points, then restart; several times
use_stack_names process_kill
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
for i in 1 2 3 4 5; do
    "$ADTALLY" process --batch-max 150 --commit-ms 20 --status-interval 0 \
        2>>"$TMP/kill.log" &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
"$ADTALLY" process --drain --status-interval 0 2>>"$TMP/kill.log"
compare kill_9_loses_and_doubles_nothing "$TMP/expected.tsv"

# --- two members of one group; one killed mid-run
use_stack_names process_two
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
"$ADTALLY" process --batch-max 100 --commit-ms 20 --status-interval 0 \
    --kafka.session.timeout.ms=6000 2>"$TMP/a.log" &
a=$!
"$ADTALLY" process --batch-max 100 --commit-ms 20 --status-interval 0 \
    --kafka.session.timeout.ms=6000 2>"$TMP/b.log" &
b=$!
sleep 1.5
kill -9 "$a" 2>/dev/null
wait "$a" 2>/dev/null
# The survivor takes over the dead member's partitions after its session
# times out; --drain waits for every partition to be caught up.
"$ADTALLY" process --drain --status-interval 0 \
    --kafka.session.timeout.ms=6000 2>"$TMP/c.log"
kill -TERM "$b" 2>/dev/null
wait "$b"
assert_eq survivor_exits_0_on_sigterm "$?" 0
compare two_members_one_killed_match_oracle "$TMP/expected.tsv"

# --- shuffled, and the same events twice within the dedup window
use_stack_names process_shuffle
{ head -n 1 data/tracking.csv; tail -n +2 data/tracking.csv | shuf; } \
    >"$TMP/shuffled.csv"
"$ADTALLY" import "$TMP/shuffled.csv" >/dev/null 2>&1
"$ADTALLY" import --force "$TMP/shuffled.csv" >/dev/null 2>&1
assert_eq doubled_input_on_topic "$(topic_count "$ADTALLY_TOPIC")" 13324
"$ADTALLY" process --drain --status-interval 0 2>"$TMP/shuffle.log"
compare shuffled_and_doubled_match_oracle "$TMP/expected.tsv"
assert_contains repeats_counted_in_status "$(cat "$TMP/shuffle.log")" \
    "repeats 6662,"

# --- late, unknown-job and job-less events
use_stack_names process_edges
late=$(date -u -d '10 days ago' '+%Y-%m-%d %H:%M:%S')
cat >"$TMP/edges.ndjson" <<NDJSON
{"ts":"$late","job_id":2,"custom_track":"click","bid":"1.5"}
{"ts":"2022-07-20 10:15:00","job_id":999999,"custom_track":"click","bid":2}
{"ts":"2022-07-20 10:20:00","custom_track":"conversion"}
{"ts":"2022-07-20 10:25:00","custom_track":"click","ed":{"jobId":"2"}}
NDJSON
"$ADTALLY" import "$TMP/edges.ndjson" >/dev/null 2>&1
"$ADTALLY" process --drain --status-interval 0 2>/dev/null
assert_eq late_event_lands_in_its_hour \
    "$(sql "SELECT CONCAT(dates, ' ', hours, ' ', clicks, ' ', spend_hour)
            FROM events WHERE job_id = 2 AND dates < CURDATE()
            AND dates > '2023-01-01'")" \
    "$(date -u -d "$late" '+%Y-%m-%d') $((10#$(date -u -d "$late" +%H))) 1 1.5000"
assert_eq unknown_job_tallied_without_company \
    "$(sql "SELECT CONCAT(clicks, ' ', COALESCE(company_id, 'NULL'))
            FROM events WHERE job_id = 999999")" "1 NULL"
assert_eq job_from_ed_has_job_dims \
    "$(sql "SELECT CONCAT(campaign_id, ' ', group_id, ' ', company_id)
            FROM events WHERE job_id = 2 AND dates = '2022-07-20'")" \
    "1 10 1"
assert_eq event_without_job_not_tallied \
    "$(sql "SELECT COUNT(*), SUM(conversion) FROM events")" "3	0"

t_done
