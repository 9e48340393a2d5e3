#!/usr/bin/env bash
# simulate: traffic through the collector (beacons and batches) lands on
# the topics as the simulator's summary says, and `process` tallies exactly
# the rows it expected; the same seed sends the same events; a collector
# restart in the middle of a run loses and doubles nothing.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

# Simulated time: 5 hours in 5 s, so that rows land in several hours.
SIM=(--start '2026-11-20 08:00:00' --speed 3600 --rate 300 --duration 5
    --late-share 0.03 --repeat-share 0.03 --invalid-share 0.03)

# start_collect LOG [PORT]: a collector; sets CPID, PORT and URL.
start_collect() {
    "$ADTALLY" collect --listen "127.0.0.1:${2:-0}" --status-interval 0 \
        2>"$1" &
    CPID=$!
    PORT=
    for _ in $(seq 100); do
        PORT=$(grep -o '(port [0-9]*)' "$1" | tr -dc 0-9)
        [[ -n $PORT ]] && break
        sleep 0.1
    done
    URL=http://127.0.0.1:$PORT
    [[ -n $PORT ]]
}

# s FIELD: a field of the simulator's last summary.
s() { jq -r ".$1" "$TMP/summary.json"; }

# check_summary NAME: what the summary says against the topics.
check_summary() {
    assert_eq "$1_nothing_failed" "$(s failed)" 0
    assert_eq "$1_acknowledged_is_events_and_repeats" "$(s acknowledged)" \
        "$(($(s events) + $(s repeats)))"
    assert_eq "$1_rejected_is_invalid" "$(s rejected)" "$(s invalid)"
    assert_eq "$1_topic_holds_acknowledged" \
        "$(topic_count "$ADTALLY_TOPIC")" "$(s acknowledged)"
    assert_eq "$1_rejected_topic_holds_invalid" \
        "$(topic_count "$ADTALLY_TOPIC.rejected")" "$(s invalid)"
    assert_eq "$1_has_late_repeats_invalid" \
        "$(($(s late) > 0 && $(s repeats) > 0 && $(s invalid) > 0))" 1
}

# check_tallies NAME: process the topic; events equals the expectation.
check_tallies() {
    "$ADTALLY" process --drain --status-interval 0 2>"$TMP/process.log"
    assert_eq "$1_process_exits_0" "$?" 0
    sql "$EVENTS_SQL" >"$TMP/got.tsv"
    if diff "$TMP/expect.tsv" "$TMP/got.tsv" >"$TMP/diff.txt"; then
        pass "$1_tallies_match_expectation"
    else
        fail "$1_tallies_match_expectation" "$(wc -l <"$TMP/expect.tsv") \
rows expected, $(wc -l <"$TMP/got.tsv") got: $(head -n 6 "$TMP/diff.txt")"
    fi
    assert_eq "$1_totals_match_summary" "$(sql "SELECT CONCAT_WS(' ',
        SUM(impressions), SUM(clicks), SUM(conversion),
        SUM(qualified_application), SUM(disqualified_application),
        SUM(spend_hour)) FROM events")" "$(s impressions) $(s clicks) \
$(s conversions) $(s qualified) $(s unqualified) $(s spend)"
    assert_eq "$1_rows_span_hours" "$(($(sql \
        "SELECT COUNT(DISTINCT dates, hours) FROM events") > 5))" 1
}

# ------------------------------------------------- beacons
use_stack_names sim_track || fail setup "schema or dims failed"
start_collect "$TMP/c.log" || fail start "collector did not start"
"$ADTALLY" simulate --to "$URL" "${SIM[@]}" --seed 11 --connections 8 \
    --expect-file "$TMP/expect.tsv" >"$TMP/summary.json" 2>"$TMP/sim.log"
assert_eq track_simulate_exits_0 "$?" 0
check_summary track
assert_eq track_clicks_per_view_plausible "$(jq '.clicks / .impressions |
    . > 0.04 and . < 0.16' "$TMP/summary.json")" true
assert_eq track_one_request_per_line "$(s requests)" "$(s lines)"
check_tallies track
kill -TERM "$CPID"
wait "$CPID"
DIMS_MYSQL=$ADTALLY_MYSQL

# ------------------------------------------------- batches
use_stack_names sim_batch
start_collect "$TMP/c.log" || fail start "collector did not start"
"$ADTALLY" simulate --to "$URL" "${SIM[@]}" --seed 12 --batch 25 \
    --expect-file "$TMP/expect.tsv" >"$TMP/summary.json" 2>"$TMP/sim.log"
assert_eq batch_simulate_exits_0 "$?" 0
check_summary batch
assert_eq batch_fewer_requests "$(($(s requests) * 5 < $(s lines)))" 1
check_tallies batch
kill -TERM "$CPID"
wait "$CPID"

# ------------------------------------------------- seeds, straight to Kafka
# seeded NAME SEED: a run to Kafka on a new topic; its events, sorted.
seeded() {
    export ADTALLY_TOPIC="it_sim_seed_$1_$$_$RANDOM"
    "$ADTALLY" schema apply --only kafka >/dev/null 2>&1
    "$ADTALLY" simulate --to kafka "${SIM[@]}" --count 600 --seed "$2" \
        >"$TMP/summary.json" 2>>"$TMP/sim.log"
    { topic_dump "$ADTALLY_TOPIC"; topic_dump "$ADTALLY_TOPIC.rejected"; } |
        sort >"$TMP/$1.txt"
}

export ADTALLY_MYSQL=$DIMS_MYSQL
seeded a 5
check_summary kafka
assert_eq kafka_lines_counted "$(s lines)" 600
seeded b 5
seeded c 6
assert_eq same_seed_same_events "$(cmp -s "$TMP/a.txt" "$TMP/b.txt" &&
    echo same)" same
assert_eq other_seed_other_events "$(cmp -s "$TMP/a.txt" "$TMP/c.txt" ||
    echo differ)" differ
assert_eq create_time_is_version_1 "$(grep -m 1 '"ts"' "$TMP/a.txt" |
    jq -r '.create_time[14:15]')" 1
# The real publishers' table has test rows with bid ranges in the
# thousands; bids stay at or below --max-bid (10 by default).
maxbid() { jq -rs 'map(select(.bid != null) | .bid | tonumber) | max' "$1"; }
assert_eq bids_within_default_cap "$(maxbid "$TMP/a.txt" | awk '{ print ($1 > 0 && $1 <= 10) }')" 1
export ADTALLY_TOPIC="it_sim_cap_$$_$RANDOM"
"$ADTALLY" schema apply --only kafka >/dev/null 2>&1
"$ADTALLY" simulate --to kafka "${SIM[@]}" --count 600 --seed 5 \
    --invalid-share 0 --max-bid 0.5 >/dev/null 2>>"$TMP/sim.log"
topic_dump "$ADTALLY_TOPIC" >"$TMP/cap.txt"
assert_eq bids_within_given_cap "$(maxbid "$TMP/cap.txt" | awk '{ print ($1 > 0 && $1 <= 0.5) }')" 1

"$ADTALLY" simulate --to kafka --duration 0 --rate 200 \
    >"$TMP/summary.json" 2>>"$TMP/sim.log" &
spid=$!
sleep 2
kill -TERM "$spid"
wait "$spid"
assert_eq sigterm_ends_simulation_0 "$?" 0
assert_eq sigterm_prints_summary "$(($(s lines) > 100))" 1

# ------------------------------------------------- a collector restart
use_stack_names sim_restart
start_collect "$TMP/c1.log" || fail start "collector did not start"
"$ADTALLY" simulate --to "$URL" "${SIM[@]}" --seed 13 --connections 8 \
    --expect-file "$TMP/expect.tsv" >"$TMP/summary.json" 2>"$TMP/sim.log" &
spid=$!
sleep 2
kill -TERM "$CPID"
wait "$CPID"
assert_eq restart_first_collector_exits_0 "$?" 0
sleep 0.5
start_collect "$TMP/c2.log" "$PORT" || fail start "collector did not restart"
wait "$spid"
assert_eq restart_simulate_exits_0 "$?" 0
assert_eq restart_made_clients_retry "$(($(s retries) > 0))" 1
check_summary restart
check_tallies restart
kill -TERM "$CPID"
wait "$CPID"

t_done
