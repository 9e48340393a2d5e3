#!/usr/bin/env bash
# make bench, archive: events/s of `adtally archive` from Kafka into the
# local Cassandra, as a ratio to the same events written by the Python
# cassandra-driver (prepared INSERT, execute_concurrent_with_args), and the
# write latency the archiver saw. Run by bench/run.sh, or alone once
# `make bench` has started the stack. Not a test: no number fails it.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ADTALLY=${ADTALLY:-$ROOT/build/adtally}
KAFKA=127.0.0.1:${ADTALLY_KAFKA_PORT:-9092}
MYSQL_PORT=${ADTALLY_MYSQL_PORT:-3306}
CPORT=${ADTALLY_CASSANDRA_PORT:-9042}
CUSER=${ADTALLY_CASSANDRA_USER:-cassandra}
CPASS=${ADTALLY_CASSANDRA_PASSWORD:-cassandra}
EVENTS=${BENCH_ARCHIVE_EVENTS:-${BENCH_EVENTS:-200000}}
W=$ROOT/build/bench
VENV=$ROOT/.venv-bench
KS=bench_archive
KS_PY=bench_archive_py
mkdir -p "$W"

say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
# Parenthesised: a bare `>` after printf is an output redirection in awk.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}
rate() {
    awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'
}
since() { awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.3f", t1 - t0 }'; }

export ADTALLY_TOPIC="bench_archive_$$" ADTALLY_LOG_LEVEL=warn
export ADTALLY_MYSQL=${ADTALLY_MYSQL:-mysql://root@127.0.0.1:$MYSQL_PORT/bench}

# The Python driver in its own venv: the wheel (with its C extensions), else
# built without them.
PY_MODE="with its C extensions"
if ! "$VENV/bin/python" -c 'import cassandra.cluster' 2>/dev/null; then
    say "installing cassandra-driver into .venv-bench"
    python3 -m venv "$VENV" &&
        "$VENV/bin/pip" install -q cassandra-driver >"$W/pip.log" 2>&1 ||
        CASS_DRIVER_NO_EXTENSIONS=1 "$VENV/bin/pip" install -q \
            --no-binary cassandra-driver cassandra-driver >>"$W/pip.log" 2>&1 ||
        { say "cannot install cassandra-driver (see $W/pip.log)"; exit 1; }
fi
"$VENV/bin/python" -c 'import cassandra.cluster as c
import sys; sys.exit(0 if c.__file__.endswith(".so") else 1)' ||
    PY_MODE="in pure-Python mode (CASS_DRIVER_NO_EXTENSIONS=1)"
pyref() { "$VENV/bin/python" bench/archive_ref.py "$@"; }

# fresh_lake KS: an empty keyspace of that name with the lake table.
fresh_lake() {
    pyref drop 127.0.0.1 "$CPORT" "$1" "$CUSER" "$CPASS" &&
        "$ADTALLY" schema apply --only cassandra --keyspace "$1" >/dev/null
}

# The input: the real log's events repeated to $EVENTS lines, each without
# create_time so that every one is a new event (bench/run.sh leaves them in
# $W/in.ndjson).
if [[ ! -f $W/in.ndjson ]] || (($(wc -l <"$W/in.ndjson") < EVENTS)); then
    "$ADTALLY" schema apply --only mysql >/dev/null 2>&1
    "$ADTALLY" schema apply --only kafka --topic "${ADTALLY_TOPIC}_seed" \
        >/dev/null 2>&1
    "$ADTALLY" import --force --topic "${ADTALLY_TOPIC}_seed" \
        data/tracking.csv >/dev/null 2>&1
    kcat -C -b "$KAFKA" -t "${ADTALLY_TOPIC}_seed" -e -q -f '%s\n' |
        sed 's/^{"create_time":"[^"]*",/{/' >"$W/archive_seed.ndjson"
    : >"$W/in.ndjson"
    while (($(wc -l <"$W/in.ndjson") < EVENTS)); do
        cat "$W/archive_seed.ndjson" >>"$W/in.ndjson"
    done
fi
"$ADTALLY" schema apply --only kafka >/dev/null 2>&1 || exit 1
head -n "$EVENTS" "$W/in.ndjson" | "$ADTALLY" import --force - 2>/dev/null
kcat -C -b "$KAFKA" -t "$ADTALLY_TOPIC" -e -q -f '%s\n' >"$W/archive_in.ndjson"
n=$(wc -l <"$W/archive_in.ndjson")
say "archive input: $n events on $ADTALLY_TOPIC"

# archive_run MODE INFLIGHT: archives the topic into $KS; prints its
# seconds and keeps its log in $W/archive_MODE.log.
archive_run() {
    local t0
    fresh_lake "$KS" || return 1
    t0=$(now)
    "$ADTALLY" archive --drain --group "bench-$1-$$" --write-mode "$1" \
        --inflight "$2" --keyspace "$KS" --status-interval 0 \
        --log-level info 2>"$W/archive_$1.log" ||
        say "archive --write-mode $1 failed"
    since "$t0"
}
# latency WHICH MODE: the p50 or p99 of the run's done line, in ms.
latency() {
    grep -o "write latency p50 [0-9.]* ms p99 [0-9.]* ms" "$W/archive_$2.log" |
        tail -n 1 | awk -v w="$1" '{ print w == "p50" ? $4 : $7 }'
}

echo "== archive: Kafka to the raw lake in Cassandra, against the Python" \
    "cassandra-driver writing the same events"
t_batch=$(archive_run batch 16)
t_exec=$(archive_run execute 64)
fresh_lake "$KS_PY" || exit 1
pyref write 127.0.0.1 "$CPORT" "$KS_PY" "$CUSER" "$CPASS" \
    "$W/archive_in.ndjson" 100 >"$W/archive_python.txt" \
    2>"$W/archive_python.log"
t_py=$(awk '/python_write_seconds/ { print $2 }' "$W/archive_python.txt")
echo "archive_events_per_s $(rate "$n" "$t_batch") (unlogged batches per" \
    "partition, 16 in flight; the whole run: start, group join, Kafka" \
    "reads, writes, commits)"
echo "archive_execute_events_per_s $(rate "$n" "$t_exec") (one prepared" \
    "INSERT per event, 64 in flight)"
echo "python_driver_events_per_s $(rate "$n" "${t_py:-0}")" \
    "(execute_concurrent, concurrency 100, $PY_MODE; writes only, JSON" \
    "parsing not timed)"
echo "archive_vs_python_ratio $(ratio "${t_py:-0}" "$t_batch") (goal >= 2)"
echo "archive_execute_vs_python_ratio $(ratio "${t_py:-0}" "$t_exec")"
echo "archive_write_latency_ms p50 $(latency p50 batch) p99 $(latency p99 \
    batch) (per batch request; execute mode: p50 $(latency p50 execute)" \
    "p99 $(latency p99 execute) per INSERT)"
pyref drop 127.0.0.1 "$CPORT" "$KS" "$CUSER" "$CPASS"
pyref drop 127.0.0.1 "$CPORT" "$KS_PY" "$CUSER" "$CPASS"
