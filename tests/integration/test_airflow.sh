#!/usr/bin/env bash
# The DAGs in dags/: they import without errors, and `airflow dags test`
# runs each end to end against the local stack: the hourly run restores a
# corrupted closed hour and its checks pass, its totals check fails when
# tallies and lake disagree, the backfill restores a given range, the
# retention purges the lake's old days. Slow: runs only with ADTALLY_SLOW=1.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [[ ${ADTALLY_SLOW:-} != 1 ]]; then
    echo "SKIP airflow tests: run make check-slow (ADTALLY_SLOW=1)"
    exit 0
fi

PROBE=build/integration/cql_probe
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT
export AIRFLOW_HOME=$TMP/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$ROOT/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export ADTALLY_HOME=$ROOT
AIRFLOW=$ROOT/.venv-airflow/bin/airflow

[[ -x $PROBE ]] || make -s "$PROBE" >/dev/null 2>&1
cql() {
    "$PROBE" -c "${CASSANDRA_HOST:-127.0.0.1}:${CASSANDRA_PORT:-9042}" \
        -u cassandra -p cassandra shell <<<"$1" 2>/dev/null
}
same_rows() {
    sql "$EVENTS_SQL" >"$TMP/got.tsv"
    if diff "$TMP/stream.tsv" "$TMP/got.tsv" >"$TMP/diff.txt"; then
        pass "$1"
    else
        fail "$1" "$(head -n 6 "$TMP/diff.txt")"
    fi
}
# corrupt DATE HOUR: one row of that hour gets 7 more clicks.
corrupt() {
    sql "UPDATE events SET clicks = clicks + 7 WHERE dates = '$1'
         AND hours = $2 ORDER BY id LIMIT 1"
}

# --- the stack's data under private names; the DAGs' settings by env
use_names airflow
cql "DROP KEYSPACE IF EXISTS $ADTALLY_KEYSPACE" >/dev/null
"$ADTALLY" schema apply >/dev/null 2>&1 && "$ADTALLY" dims load data \
    >/dev/null 2>&1 || fail setup "schema or dims failed"
"$ADTALLY" import data/tracking.csv >/dev/null 2>&1
"$ADTALLY" process --drain --status-interval 0 2>/dev/null
"$ADTALLY" archive --drain --status-interval 0 2>/dev/null
sql "$EVENTS_SQL" >"$TMP/stream.tsv"

t0=$SECONDS
"$AIRFLOW" db migrate >"$TMP/migrate.log" 2>&1 ||
    fail airflow_db_migrate "$(tail -n 3 "$TMP/migrate.log")"
errors=$("$AIRFLOW" dags list-import-errors -o json 2>/dev/null | tail -n 1)
assert_eq no_import_errors "$errors" "[]"
dags=$("$AIRFLOW" dags list -o plain 2>/dev/null | awk '{ print $1 }' |
    grep '^adtally' | sort | tr '\n' ' ')
assert_eq three_dags_listed "$dags" \
    "adtally_backfill adtally_hourly adtally_retention "
echo "airflow db migrate and listing: $((SECONDS - t0)) s"

# --- hourly: its run at 2022-07-26 10:00 recomputes 03..08 and checks
corrupt 2022-07-26 6
t0=$SECONDS
"$AIRFLOW" dags test adtally_hourly 2022-07-26T10:00:00+00:00 \
    >"$TMP/hourly.log" 2>&1
assert_eq hourly_dag_test_exits_0 "$?" 0
echo "dags test adtally_hourly: $((SECONDS - t0)) s"
for task in recompute check_totals check_lag check_rejected; do
    assert_contains "hourly_${task}_succeeded" "$(cat "$TMP/hourly.log")" \
        "Marking task as SUCCESS. dag_id=adtally_hourly, task_id=$task,"
done
assert_eq hourly_no_task_failed "$(grep -c 'Marking task as FAILED' \
    "$TMP/hourly.log")" 0
assert_contains hourly_corrected_the_hour "$(cat "$TMP/hourly.log")" \
    "corrected 1 rows in 1 hours (added 0, changed 1, removed 0): clicks -7"
same_rows hourly_restored_rows

# --- the totals check fails when tallies and lake disagree
corrupt 2022-07-26 7
out=$("$AIRFLOW" tasks test adtally_hourly check_totals \
    2022-07-26T11:00:00+00:00 2>&1)
assert_eq check_totals_fails_on_disagreement "$?" 1
assert_contains check_totals_failure_is_the_command "$out" \
    "Bash command failed. The command returned a non-zero exit code 1."
assert_contains check_totals_says_which_hour "$out" \
    "# 2022-07-26T07 tallies impressions"

# --- backfill: the range from the params, corrected then checked
corrupt 2022-07-25 16
t0=$SECONDS
"$AIRFLOW" dags test adtally_backfill 2022-07-29T00:00:00+00:00 \
    -c '{"from": "2022-07-25T00", "to": "2022-07-26T23"}' \
    >"$TMP/backfill.log" 2>&1
assert_eq backfill_dag_test_exits_0 "$?" 0
echo "dags test adtally_backfill: $((SECONDS - t0)) s"
assert_contains backfill_read_the_range "$(cat "$TMP/backfill.log")" \
    "2022-07-25T00 to 2022-07-26T23"
same_rows backfill_restored_rows

# --- retention: with 20 days, the run of 2022-08-10 purges before 07-21
export AIRFLOW_VAR_ADTALLY_LAKE_RETENTION_DAYS=20
"$AIRFLOW" dags test adtally_retention 2022-08-10T00:00:00+00:00 \
    >"$TMP/retention.log" 2>&1
assert_eq retention_dag_test_exits_0 "$?" 0
counts=$("$ADTALLY" lake count --from 2022-07-04T00 --to 2022-07-28T23 \
    2>/dev/null | grep -v '^#' | cut -f1 | sort -u)
assert_eq purged_days_before_cutoff "$(grep -c '^2022-07-[01]\|^2022-07-20' \
    <<<"$counts")" 0
assert_eq kept_days_from_cutoff "$(($(grep -c '^2022-07-2[1-8]' \
    <<<"$counts") > 0))" 1

t_done
