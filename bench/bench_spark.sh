#!/usr/bin/env bash
# The Spark job's speed over one simulated day read from the lake, against
# `process` recomputing the same day by replaying Kafka (a fresh group,
# --drain, into an empty database), as events per second and a ratio.
# BENCH_RATE events per real second for BENCH_SECONDS seconds make the
# day (the simulator's clock runs 86400 / BENCH_SECONDS times faster).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ADTALLY=$ROOT/build/adtally
PY=$ROOT/.venv-spark/bin/python
RATE=${BENCH_RATE:-10000}
SECONDS_REAL=${BENCH_SECONDS:-30}
DAY=${BENCH_DAY:-2022-08-01}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

export ADTALLY_TOPIC=bench_spark_$$
export ADTALLY_KEYSPACE=bench_spark
MYSQL_URL=mysql://root@127.0.0.1:${ADTALLY_MYSQL_PORT:-3306}
export ADTALLY_MYSQL=$MYSQL_URL/bench_spark
export ADTALLY_LOG_LEVEL=warn
mysql_db() {
    mariadb -h 127.0.0.1 -P "${ADTALLY_MYSQL_PORT:-3306}" -uroot -N -B "$@"
}
say() { printf 'bench_spark: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }

# --- the day: simulated into Kafka, archived into the lake
for db in bench_spark bench_spark_replay; do
    mysql_db -e "DROP DATABASE IF EXISTS $db"
done
[[ -x build/integration/cql_probe ]] ||
    make -s build/integration/cql_probe >/dev/null 2>&1
build/integration/cql_probe -c 127.0.0.1:${ADTALLY_CASSANDRA_PORT:-9042} \
    -u cassandra -p cassandra shell <<<"DROP KEYSPACE IF EXISTS bench_spark" \
    >/dev/null 2>&1
"$ADTALLY" schema apply >/dev/null 2>&1 || die "schema apply failed"
"$ADTALLY" dims load data >/dev/null 2>&1 || die "dims load failed"
say "simulating $DAY: $RATE events/s for $SECONDS_REAL s"
"$ADTALLY" simulate --to kafka --seed 1 --start "$DAY 00:00:00" \
    --speed $((86400 / SECONDS_REAL)) --rate "$RATE" \
    --duration "$SECONDS_REAL" >"$TMP/sim.json" 2>"$TMP/sim.log" ||
    die "simulate: $(tail -n 2 "$TMP/sim.log")"
t0=$(now)
"$ADTALLY" archive --drain --status-interval 0 2>"$TMP/archive.log" ||
    die "archive: $(tail -n 2 "$TMP/archive.log")"
say "archived in $(awk -v a="$t0" -v b="$(now)" \
    'BEGIN { printf "%.1f", b - a }') s"

# --- the Spark job over the day's 24 hours (an empty events table, so
# every row is written: the whole of a recompute)
t0=$(now)
"$PY" spark/recompute.py --from "${DAY}T00" --to "${DAY}T23" --no-fence \
    --java-options '' --log-level info >"$TMP/spark.out" 2>"$TMP/spark.log" ||
    die "recompute: $(grep -v '^\s*at ' "$TMP/spark.log" | tail -n 3)"
t_spark=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
n_spark=$(grep -o '[0-9]* events read,' "$TMP/spark.out" | cut -d' ' -f1)
t_read=$(grep -o 'events read in [0-9.]* s' "$TMP/spark.log" |
    awk '{ s += $4 } END { print s }')

# --- process replaying the topic into another database
export ADTALLY_MYSQL=$MYSQL_URL/bench_spark_replay
"$ADTALLY" schema apply --only mysql >/dev/null 2>&1 || die "schema apply"
"$ADTALLY" dims load data >/dev/null 2>&1 || die "dims load failed"
t0=$(now)
"$ADTALLY" process --drain --group "bench-replay-$$" --status-interval 0 \
    2>"$TMP/process.log" || die "process: $(tail -n 2 "$TMP/process.log")"
t_proc=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
n_proc=$(mysql_db bench_spark_replay -e \
    "SELECT SUM(next_offset) FROM kafka_offsets")

same=$(diff <(mysql_db bench_spark -e "SELECT job_id, dates, hours,
    publisher_id, campaign_id, group_id, impressions, clicks, spend_hour
    FROM events WHERE dates = '$DAY' ORDER BY 1, 2, 3, 4, 5, 6") \
    <(mysql_db bench_spark_replay -e "SELECT job_id, dates, hours,
    publisher_id, campaign_id, group_id, impressions, clicks, spend_hour
    FROM events WHERE dates = '$DAY' ORDER BY 1, 2, 3, 4, 5, 6") |
    grep -c '^[<>]')

r_spark=$(rate "$n_spark" "$t_spark")
r_proc=$(rate "$n_proc" "$t_proc")
printf '%-44s %s\n' "day simulated ($DAY)" "$(jq -c \
    '{lines, events, repeats, late, invalid}' "$TMP/sim.json")"
printf '%-44s %8s events in %6.1f s = %7s events/s\n' \
    "spark recompute (lake, whole run)" "$n_spark" "$t_spark" "$r_spark"
printf '%-44s %8s events in %6.1f s = %7s events/s\n' \
    "spark recompute (lake read + tally only)" "$n_spark" "$t_read" \
    "$(rate "$n_spark" "$t_read")"
printf '%-44s %8s events in %6.1f s = %7s events/s\n' \
    "process --drain (Kafka replay)" "$n_proc" "$t_proc" "$r_proc"
printf '%-44s %s\n' "ratio spark / process (whole runs)" \
    "$(awk -v a="$r_spark" -v b="$r_proc" 'BEGIN { printf "%.2f", a / b }')"
printf '%-44s %s\n' "rows of the day that differ (late, repeats)" "$same"
