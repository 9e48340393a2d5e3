#!/usr/bin/env bash
# Freshness of the tallies: the simulator writes to Kafka at a steady
# 20,000 events/s while `process` runs; its status line gives the time from
# each event's arrival at Kafka to its committed tally (the line at exit
# covers the whole run). Run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ADTALLY=$ROOT/build/adtally
W=$ROOT/build/bench
RATE=${BENCH_RATE:-20000}
SECS=${BENCH_SECS:-30}

echo "== process: freshness at a steady $RATE events/s for $SECS s"
"$ADTALLY" schema apply --only kafka --topic "${ADTALLY_TOPIC}_fresh" \
    >/dev/null 2>&1
"$ADTALLY" process --topic "${ADTALLY_TOPIC}_fresh" --group bench-fresh \
    --status-interval 5 --log-level info 2>"$W/fresh.log" &
ppid=$!
sleep 3
"$ADTALLY" simulate --to kafka --topic "${ADTALLY_TOPIC}_fresh" \
    --rate "$RATE" --duration "$SECS" --curve=false \
    >"$W/fresh_sim.json" 2>"$W/fresh_sim.log"
sleep 3
kill -TERM "$ppid"
wait "$ppid"
line=$(grep 'process: done:' "$W/fresh.log" | tail -n 1)
echo "process_run ${line#*done: }"
p50=$(sed -n 's/.*freshness p50 \([0-9-]*\) ms.*/\1/p' <<<"$line")
p95=$(sed -n 's/.*p95 \([0-9-]*\) ms.*/\1/p' <<<"$line")
echo "freshness_p50_ms $p50"
echo "freshness_p95_ms $p95 (goal <= 1000)"
echo "freshness_p95_vs_1s_ratio $(awk -v a="$p95" \
    'BEGIN { printf "%.2f", a / 1000 }')"
rss=$(grep -o 'dedup [0-9]* events ([0-9]* KiB)' "$W/fresh.log" | tail -n 1)
echo "process_dedup_after_run $rss"
