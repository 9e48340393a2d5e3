#!/usr/bin/env bash
# The Spark job (spark/recompute.py) against process: on the real log the
# lake gives the same rows of `events` as the stream, row for row; tricky
# attribution and track cases give the same rows on both paths; a changed,
# a deleted and an added row are restored by one run that reports exactly
# them, and a second run corrects nothing; repeats beyond the dedup window,
# tallied twice by the stream, are corrected. Slow (a Spark JVM per run):
# runs only with ADTALLY_SLOW=1 (make check-slow).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [[ ${ADTALLY_SLOW:-} != 1 ]]; then
    echo "SKIP spark tests: run make check-slow (ADTALLY_SLOW=1)"
    exit 0
fi

PY=$ROOT/.venv-spark/bin/python
PROBE=build/integration/cql_probe
FROM=2022-07-04T00 # the real log's hours
TO=2022-07-28T23
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

[[ -x $PROBE ]] || make -s "$PROBE" >/dev/null 2>&1
cql() {
    "$PROBE" -c "${CASSANDRA_HOST:-127.0.0.1}:${CASSANDRA_PORT:-9042}" \
        -u cassandra -p cassandra shell <<<"$1" 2>/dev/null
}

# recompute ARGS...: the Spark job; its report on stdout, log in $TMP.
recompute() {
    "$PY" spark/recompute.py "$@" 2>>"$TMP/spark.log"
}

# setup NAME: private names, empty database and keyspace, schema, dims.
setup() {
    use_names "$1"
    cql "DROP KEYSPACE IF EXISTS $ADTALLY_KEYSPACE" >/dev/null
    "$ADTALLY" schema apply >"$TMP/schema.log" 2>&1 &&
        "$ADTALLY" dims load data >/dev/null 2>&1 ||
        fail "setup_$1" "$(tail -n 3 "$TMP/schema.log")"
}

# both_paths [PROCESS_ARGS...]: what is on the topic into events (process)
# and into the lake (archive).
both_paths() {
    "$ADTALLY" process --drain --status-interval 0 "$@" 2>"$TMP/process.log" ||
        fail process_drain "$(tail -n 3 "$TMP/process.log")"
    "$ADTALLY" archive --drain --status-interval 0 2>"$TMP/archive.log" ||
        fail archive_drain "$(tail -n 3 "$TMP/archive.log")"
}

# same_rows NAME EXPECTED_FILE: events equals the file, row for row.
same_rows() {
    sql "$EVENTS_SQL" >"$TMP/got.tsv"
    if diff "$2" "$TMP/got.tsv" >"$TMP/diff.txt"; then
        pass "$1"
    else
        fail "$1" "$(wc -l <"$2") rows expected, $(wc -l <"$TMP/got.tsv") \
got: $(head -n 6 "$TMP/diff.txt")"
    fi
}

total_line() { grep '^# total' <<<"$1"; }

# --- the real log on both paths; the batch alone rebuilds the stream's rows
setup spark
topic1=$ADTALLY_TOPIC
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
both_paths
sql "$EVENTS_SQL" >"$TMP/stream.tsv"
assert_eq stream_has_rows "$(($(wc -l <"$TMP/stream.tsv") > 100))" 1
t0=$SECONDS
out=$(recompute --check --from "$FROM" --to "$TO")
assert_eq check_finds_stream_equal_to_lake "$?" 0
assert_contains check_reports_nothing "$(total_line "$out")" \
    "would correct 0 rows in 0 hours"
assert_contains all_events_read "$(total_line "$out")" "6662 events read"
echo "recompute --check of the real log: $((SECONDS - t0)) s"
sql "DELETE FROM events"
t0=$SECONDS
out=$(recompute --from "$FROM" --to "$TO")
assert_eq rebuild_exits_0 "$?" 0
echo "recompute of the real log into an empty table: $((SECONDS - t0)) s"
same_rows batch_rows_equal_stream_rows "$TMP/stream.tsv"
assert_eq rebuilt_rows_marked_cassandra \
    "$(sql "SELECT COUNT(*) FROM events WHERE sources <> 'cassandra'")" 0
assert_contains rebuild_reports_every_row "$(total_line "$out")" \
    "corrected $(wc -l <"$TMP/stream.tsv") rows"
assert_contains lake_read_by_partition_key "$(cat "$TMP/spark.log")" \
    "lake read by partition key: 168 hours x 8 buckets as a join on the"

# --- corrupt: a row changed, a row deleted, a row added; one run restores
day_from=2022-07-26T00
day_to=2022-07-26T23
read -r id1 c1 s1 < <(sql "SELECT id, clicks, spend_hour FROM events
    WHERE dates = '2022-07-26' AND hours = 3 AND clicks > 1
    ORDER BY id LIMIT 1")
read -r id2 c2 s2 < <(sql "SELECT id, clicks, spend_hour FROM events
    WHERE dates = '2022-07-26' AND hours = 6 AND clicks > 0
    ORDER BY id LIMIT 1")
sql "UPDATE events SET clicks = clicks + 3, spend_hour = spend_hour + 1.5,
    sources = 'kafka' WHERE id = $id1;
  DELETE FROM events WHERE id = $id2;
  INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id,
    group_id, impressions, clicks, spend_hour, bid_set, sources,
    latest_update_time) VALUES (1, '2022-07-26', 20, 0, 0, 0, 4, 2, 0.5,
    0.25, 'kafka', UTC_TIMESTAMP(3))"
out=$(recompute --from "$day_from" --to "$day_to")
assert_eq corrective_run_exits_0 "$?" 0
same_rows corrupted_rows_restored "$TMP/stream.tsv"
dc=$((c2 - 3 - 2))
ds=$(awk -v a="$s2" 'BEGIN { printf "%+.4f", a - 1.5 - 0.5 }')
[[ $ds == +0.0000 || $ds == -0.0000 ]] && ds=0.0000
[[ $dc -gt 0 ]] && dc=+$dc
assert_contains corrections_reported_exactly "$(total_line "$out")" \
    "corrected 3 rows in 3 hours (added 1, changed 1, removed 1): clicks $dc, spend $ds"
assert_eq one_line_per_corrected_hour \
    "$(grep -c '^2022-07-26T' <<<"$out")" 3
assert_contains changed_hour_line "$(grep '^2022-07-26T03' <<<"$out")" \
    "2022-07-26T03	0	1	0	0	-3	0	0	0	-1.5000"
out=$(recompute --from "$day_from" --to "$day_to")
assert_contains second_run_corrects_nothing "$(total_line "$out")" \
    "corrected 0 rows in 0 hours"
same_rows second_run_leaves_rows "$TMP/stream.tsv"

# --- attribution and tracks: tricky events give the same rows both ways
setup spark_rules
deep_ok=$(printf '[%.0s' {1..31})1$(printf ']%.0s' {1..31})
deep_bad=$(printf '[%.0s' {1..32})1$(printf ']%.0s' {1..32})
cat >"$TMP/rules.ndjson" <<NDJSON
{"ts":"2022-07-20 10:01:00","custom_track":"click","bid":"1.25","ed":{"jobId":2}}
{"ts":"2022-07-20 10:02:00","custom_track":"click","ed":"{\"jobId\":\"2\"}"}
{"ts":"2022-07-20 10:03:00","custom_track":"click","bid":"0.0001","ed":{"jobId":2.0}}
{"ts":"2022-07-20 10:04:00","custom_track":"click","bid":"0","ed":{"jobId":2e0}}
{"ts":"2022-07-20 10:05:00","custom_track":"","ed":{"jobId":"2.0"}}
{"ts":"2022-07-20 10:06:00","ed":{"jobId":0}}
{"ts":"2022-07-20 10:07:00","ed":{"jobId":"0"}}
{"ts":"2022-07-20 10:08:00","ed":{"jobId":"007"}}
{"ts":"2022-07-20 10:09:00","ed":{"jobId":-3}}
{"ts":"2022-07-20 10:10:00","ed":{"jobId":" 2"}}
{"ts":"2022-07-20 10:11:00","ed":"{\"jobId\":\"\\\\u0032\"}"}
{"ts":"2022-07-20 10:12:00","ed":"{\"jobId\":\"3\",\"jobId\":\"2\"}"}
{"ts":"2022-07-20 10:13:00","ed":"{\"jobId\":\"2\", }"}
{"ts":"2022-07-20 10:14:00","ed":"{\"job\\\\u0049d\":\"5\"}"}
{"ts":"2022-07-20 10:15:00","ed":{"jobId":true}}
{"ts":"2022-07-20 10:16:00","ed":{"jobId":"99999999999"}}
{"ts":"2022-07-20 10:17:00","ed":{"jobId":"2147483648"}}
{"ts":"2022-07-20 10:18:00","ed":{"jobId":2147483647}}
{"ts":"2022-07-20 10:19:00","ed":"{\"a\":$deep_ok,\"jobId\":\"2\"}"}
{"ts":"2022-07-20 10:20:00","ed":"{\"a\":$deep_bad,\"jobId\":\"2\"}"}
{"ts":"2022-07-20 10:21:00","ed":"hello"}
{"ts":"2022-07-20 10:22:00","job_id":3,"ed":{"publisherId":"12"}}
{"ts":"2022-07-20 10:23:00","job_id":3,"ed":{"publisherId":1.0}}
{"ts":"2022-07-20 10:24:00","job_id":3,"ed":{"publisherId":-1}}
{"ts":"2022-07-20 10:25:00","job_id":3,"publisher_id":5,"ed":{"publisherId":7}}
{"ts":"2022-07-20 11:00:00","job_id":3,"custom_track":" Click ","bid":"0.3333"}
{"ts":"2022-07-20 11:01:00","job_id":3,"custom_track":"CLICK","bid":"0.3333"}
{"ts":"2022-07-20 11:02:00","job_id":3,"custom_track":"click\u000b","bid":"0.3333"}
{"ts":"2022-07-20 11:03:00","job_id":3,"custom_track":"\tqualified\n"}
{"ts":"2022-07-20 11:04:00","job_id":3,"custom_track":"Unqualified"}
{"ts":"2022-07-20 11:05:00","job_id":3,"custom_track":"conversion"}
{"ts":"2022-07-20 11:06:00","job_id":3,"custom_track":"alive"}
{"ts":"2022-07-20 11:07:00","job_id":3,"custom_track":"cl\u0131ck"}
{"ts":"2022-07-20 11:08:00","job_id":3,"custom_track":"clic\u212a"}
{"ts":"2022-07-20 11:09:00","job_id":3,"custom_track":"click"}
{"ts":"2022-07-20 11:10:00","job_id":3,"campaign_id":9,"group_id":8,"custom_track":"click","bid":"2"}
{"ts":"2022-07-20 11:11:00","job_id":999999,"custom_track":"click","bid":"2"}
{"ts":"2022-07-20T13:30:00+02:00","job_id":0,"custom_track":"click","bid":"0.0001"}
{"create_time":"4e0c0000-0818-11ed-9234-56789abcdef0","job_id":3}
NDJSON
"$ADTALLY" import "$TMP/rules.ndjson" >"$TMP/rules_import.log" 2>&1
assert_contains rules_input_accepted "$(cat "$TMP/rules_import.log")" \
    "accepted 39, rejected 0"
both_paths
sql "$EVENTS_SQL" >"$TMP/rules_stream.tsv"
out=$(recompute --check --from 2022-07-20T10 --to 2022-07-20T11)
assert_eq rules_same_on_both_paths "$?" 0
assert_contains rules_nothing_to_correct "$(total_line "$out")" \
    "would correct 0 rows in 0 hours"
assert_contains rules_events_read "$(total_line "$out")" "39 events read"
sql "DELETE FROM events"
recompute --from 2022-07-20T10 --to 2022-07-20T11 >/dev/null
same_rows rules_rebuilt_by_batch_alone "$TMP/rules_stream.tsv"

# --- repeats beyond the dedup window: doubled by the stream, then fixed
setup spark_dedup
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
"$ADTALLY" import --force data/tracking.csv >/dev/null 2>&1
both_paths --dedup-window 0
clicks=$(awk -F'\t' '{ n += $9 } END { print n }' "$TMP/stream.tsv")
assert_eq stream_counts_repeats_twice \
    "$(sql "SELECT SUM(clicks) FROM events")" "$((2 * clicks))"
out=$(recompute --from "$FROM" --to "$TO")
assert_eq dedup_run_exits_0 "$?" 0
same_rows repeats_corrected_by_batch "$TMP/stream.tsv"
assert_contains repeats_correction_reported "$(total_line "$out")" \
    "changed $(wc -l <"$TMP/stream.tsv"), removed 0): clicks -$clicks,"

# --- other reporting zones (DST; half an hour): the paths agree on the
# rows of every reporting hour inside the range, which holds them all
export ADTALLY_TOPIC=$topic1 ADTALLY_KEYSPACE=it_spark
for zone in Europe/Berlin Asia/Kolkata; do
    name=tz_${zone##*/}
    export MYSQL_DB=it_spark_$name
    export ADTALLY_MYSQL="mysql://root@$MYSQL_HOST:$MYSQL_PORT/$MYSQL_DB"
    mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot \
        -e "DROP DATABASE IF EXISTS \`$MYSQL_DB\`"
    "$ADTALLY" schema apply --only mysql >/dev/null 2>&1
    "$ADTALLY" dims load data >/dev/null 2>&1
    "$ADTALLY" process --drain --tz "$zone" --status-interval 0 2>/dev/null
    out=$(recompute --check --tz "$zone" --from 2022-07-03T12 \
        --to 2022-07-29T12)
    assert_eq "paths_agree_in_$name" "$?" 0
    assert_contains "every_row_compared_in_$name" "$(total_line "$out")" \
        "into $(sql "SELECT COUNT(*) FROM events") rows of"
done

t_done
