#!/usr/bin/env bash
# process against server faults: MariaDB restarted, then Kafka restarted,
# while simulated traffic flows; then SIGTERM. Each time the tallies equal
# what the simulator says it sent (nothing lost, nothing counted twice),
# and a MySQL outage is in the log with its recovery.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

# Ten seconds of traffic over ten simulated hours, with late events,
# repeats and invalid lines.
SIM=(--start '2026-11-20 08:00:00' --speed 3600 --rate 400 --duration 10
    --late-share 0.03 --repeat-share 0.03 --invalid-share 0.03)

# committed: the offsets stored in MySQL have reached the topic's end.
committed() {
    local stored
    stored=$(sql "SELECT COALESCE(SUM(next_offset), 0) FROM kafka_offsets")
    [[ -n $stored && $stored == "$(topic_count "$ADTALLY_TOPIC")" ]]
}

# fault NAME SERVER SEED: traffic, a restart of SERVER three seconds in,
# then the checks.
fault() {
    local name=$1 server=$2 pid spid
    use_stack_names "$name" || fail "${name}_setup" "schema or dims failed"
    "$ADTALLY" process --commit-ms 50 --status-interval 1 \
        2>"$TMP/$name.log" &
    pid=$!
    "$ADTALLY" simulate --to kafka "${SIM[@]}" --seed "$3" \
        --expect-file "$TMP/$name.tsv" >"$TMP/$name.json" \
        2>"$TMP/$name.sim.log" &
    spid=$!
    sleep 3
    stack/stack.sh restart "$server" >"$TMP/stack.log" 2>&1 ||
        fail "${name}_${server}_restarts" "$(tail -n 3 "$TMP/stack.log")"
    wait "$spid"
    assert_eq "${name}_simulate_exits_0" "$?" 0
    wait_for 120 committed ||
        fail "${name}_caught_up" "$(tail -n 3 "$TMP/$name.log")"
    kill -TERM "$pid"
    wait "$pid"
    assert_eq "${name}_sigterm_exits_0" "$?" 0
    sql "$EVENTS_SQL" >"$TMP/got.tsv"
    if diff "$TMP/$name.tsv" "$TMP/got.tsv" >"$TMP/diff.txt"; then
        pass "${name}_tallies_match_what_was_sent"
    else
        fail "${name}_tallies_match_what_was_sent" "$(wc -l \
<"$TMP/$name.tsv") rows expected, $(wc -l <"$TMP/got.tsv") got: $(head \
            -n 6 "$TMP/diff.txt")"
    fi
}

fault process_mysql_restart mariadb 31
assert_contains mysql_outage_logged "$(cat "$TMP/process_mysql_restart.log")" \
    "mysql: commit failed"
assert_contains mysql_recovery_logged \
    "$(cat "$TMP/process_mysql_restart.log")" "commit succeeded after"

fault process_kafka_restart kafka 32

t_done
