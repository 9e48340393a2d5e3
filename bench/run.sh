#!/usr/bin/env bash
# make bench: speed and memory figures of adtally, each printed as a ratio
# to a reference measured in the same run on this machine. Not a test:
# nothing here passes or fails on a number.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ADTALLY=$ROOT/build/adtally
KAFKA=127.0.0.1:${ADTALLY_KAFKA_PORT:-9092}
MYSQL_PORT=${ADTALLY_MYSQL_PORT:-3306}
EVENTS=${BENCH_EVENTS:-200000}
W=$ROOT/build/bench
mkdir -p "$W"

say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

export ADTALLY_TOPIC="bench_$$" ADTALLY_KEYSPACE=bench
export ADTALLY_MYSQL="mysql://root@127.0.0.1:$MYSQL_PORT/bench"
export ADTALLY_LOG_LEVEL=warn
mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -uroot -e 'DROP DATABASE IF EXISTS bench'
"$ADTALLY" schema apply --only mysql || exit 1
"$ADTALLY" schema apply --only kafka || exit 1
"$ADTALLY" dims load data || exit 1

# The input: the real log's events repeated to $EVENTS lines of NDJSON,
# each without create_time so that every line is a new event.
say "preparing $EVENTS events"
"$ADTALLY" import --topic "${ADTALLY_TOPIC}_seed" data/tracking.csv \
    >/dev/null 2>&1 || "$ADTALLY" schema apply --only kafka \
    --topic "${ADTALLY_TOPIC}_seed" >/dev/null 2>&1
"$ADTALLY" schema apply --only kafka --topic "${ADTALLY_TOPIC}_seed" \
    >/dev/null 2>&1
"$ADTALLY" import --force --topic "${ADTALLY_TOPIC}_seed" data/tracking.csv \
    >/dev/null 2>&1
kcat -C -b "$KAFKA" -t "${ADTALLY_TOPIC}_seed" -e -q -f '%s\n' |
    sed 's/^{"create_time":"[^"]*",/{/' >"$W/seed.ndjson"
n_seed=$(wc -l <"$W/seed.ndjson")
: >"$W/events.ndjson"
while (($(wc -l <"$W/events.ndjson") < EVENTS)); do
    cat "$W/seed.ndjson" >>"$W/events.ndjson"
done
head -n "$EVENTS" "$W/events.ndjson" >"$W/in.ndjson"
say "input: $EVENTS events from $n_seed distinct ones"

echo "== import: file to Kafka (acks=all), against kcat -P of the same lines"
"$ADTALLY" schema apply --only kafka --topic "${ADTALLY_TOPIC}_kcat" \
    >/dev/null 2>&1
t0=$(now)
kcat -P -b "$KAFKA" -t "${ADTALLY_TOPIC}_kcat" -X acks=all \
    -X enable.idempotence=true -X linger.ms=5 -X compression.type=lz4 \
    <"$W/in.ndjson"
t_kcat=$(echo "$(now) - $t0" | bc)
t0=$(now)
"$ADTALLY" import --force "$W/in.ndjson" 2>/dev/null
t_imp=$(echo "$(now) - $t0" | bc)
echo "import_events_per_s $(rate "$EVENTS" "$t_imp")"
echo "kcat_produce_events_per_s $(rate "$EVENTS" "$t_kcat")"
echo "import_vs_kcat_ratio $(ratio "$t_kcat" "$t_imp") (goal >= 0.7)"

echo "== process: Kafka to committed MySQL rows, against kcat -C to /dev/null"
t0=$(now)
kcat -C -b "$KAFKA" -t "$ADTALLY_TOPIC" -e -q -o beginning >/dev/null
t_kc=$(echo "$(now) - $t0" | bc)
t0=$(now)
"$ADTALLY" process --drain --status-interval 0 2>"$W/process.log"
t_proc=$(echo "$(now) - $t0" | bc)
echo "process_events_per_s $(rate "$EVENTS" "$t_proc")"
echo "kcat_consume_events_per_s $(rate "$EVENTS" "$t_kc")"
echo "process_vs_kcat_ratio $(ratio "$t_kc" "$t_proc") (goal >= 0.5)"

echo "== dedup window: one hour at 20,000 events/s, against the ids' bytes"
make -s build/bench/bench_dedup >/dev/null
build/bench/bench_dedup 20000 3600 | tee "$W/dedup.txt"
rss=$(awk '/dedup_peak_rss_bytes/ { print $2 }' "$W/dedup.txt")
echo "dedup_rss_vs_raw_ids_ratio $(ratio "$rss" $((20000 * 3600 * 16)))"

for extra in bench/bench_*.sh; do
    [[ -f $extra ]] && bash "$extra"
done
mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -uroot -e 'DROP DATABASE bench'
