#!/usr/bin/env bash
# Two writers, one table: a late event that the live stream tallies while
# the Spark job recomputes its hour (after the job read the lake, before it
# writes) is counted once in the end, not overwritten; and with the
# archiver stopped behind the stream the job refuses to read the lake and
# leaves the stream's rows alone. Slow: runs only with ADTALLY_SLOW=1.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [[ ${ADTALLY_SLOW:-} != 1 ]]; then
    echo "SKIP spark race tests: run make check-slow (ADTALLY_SLOW=1)"
    exit 0
fi

PY=$ROOT/.venv-spark/bin/python
PROBE=build/integration/cql_probe
HOUR=2022-07-26T03
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

[[ -x $PROBE ]] || make -s "$PROBE" >/dev/null 2>&1
cql() {
    "$PROBE" -c "${CASSANDRA_HOST:-127.0.0.1}:${CASSANDRA_PORT:-9042}" \
        -u cassandra -p cassandra shell <<<"$1" 2>/dev/null
}
recompute() { "$PY" spark/recompute.py "$@"; }
hour_clicks() {
    sql "SELECT COALESCE(SUM(clicks), 0) FROM events
         WHERE dates = '2022-07-26' AND hours = 3"
}
clicks_are() { [[ $(hour_clicks) == "$1" ]]; }
# late N: a click of job 3 in $HOUR, the Nth of this test.
late() {
    printf '{"ts":"2022-07-26 03:%02d:00","job_id":3,%s}\n' "$1" \
        '"custom_track":"click","bid":"1"' | "$ADTALLY" import - >/dev/null 2>&1
}

use_names spark_race
cql "DROP KEYSPACE IF EXISTS $ADTALLY_KEYSPACE" >/dev/null
"$ADTALLY" schema apply >/dev/null 2>&1 && "$ADTALLY" dims load data \
    >/dev/null 2>&1 || fail setup "schema or dims failed"
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
"$ADTALLY" process --drain --status-interval 0 2>/dev/null
"$ADTALLY" archive --drain --status-interval 0 2>/dev/null
c0=$(hour_clicks)

# --- both consumers live; a late event lands between read and write
"$ADTALLY" process --commit-ms 100 --status-interval 0 2>"$TMP/process.log" &
proc=$!
"$ADTALLY" archive --flush-ms 100 --status-interval 0 2>"$TMP/archive.log" &
arch=$!
wait_for 30 grep -q "resuming at offset" "$TMP/archive.log"
recompute --from "$HOUR" --to "$HOUR" --pause-before-write 8 \
    >"$TMP/race.out" 2>"$TMP/race.log" &
job=$!
wait_for 120 grep -q "pausing" "$TMP/race.log" ||
    fail job_paused "$(tail -n 3 "$TMP/race.log")"
late 41
wait_for 20 clicks_are "$((c0 + 1))" ||
    fail stream_tallied_late_event \
        "clicks $(hour_clicks), expected $((c0 + 1))"
wait "$job"
assert_eq racing_run_exits_0 "$?" 0
assert_contains job_saw_the_stream_write "$(cat "$TMP/race.log")" \
    "the stream wrote to 1 hours during the run"
assert_eq late_event_counted_once "$(hour_clicks)" "$((c0 + 1))"
out=$(recompute --check --from "$HOUR" --to "$HOUR" 2>/dev/null)
assert_eq hour_agrees_with_lake_after_race "$?" 0

# --- the archiver stopped behind the stream: the job reads nothing
kill -TERM "$arch"
wait "$arch"
late 42
wait_for 20 clicks_are "$((c0 + 2))" ||
    fail stream_tallied_second "clicks $(hour_clicks), expected $((c0 + 2))"
recompute --from "$HOUR" --to "$HOUR" --fence-timeout 3 >"$TMP/fence.out" \
    2>"$TMP/fence.log"
assert_eq fenced_run_exits_4 "$?" 4
assert_contains fenced_run_says_why "$(cat "$TMP/fence.log")" \
    "the archiver (adtally-archive) is behind the stream"
assert_eq stream_rows_left_alone "$(hour_clicks)" "$((c0 + 2))"
"$ADTALLY" archive --drain --status-interval 0 2>/dev/null
out=$(recompute --from "$HOUR" --to "$HOUR" 2>/dev/null)
assert_contains caught_up_run_corrects_nothing "$(grep '^# total' <<<"$out")" \
    "corrected 0 rows"
assert_eq both_late_events_counted_once "$(hour_clicks)" "$((c0 + 2))"
kill -TERM "$proc"
wait "$proc"

t_done
