#!/usr/bin/env bash
# collect: beacons and batches land exactly on the topic and the rejected
# topic; a 2xx means Kafka has the events, under concurrent load, across a
# SIGTERM and while Kafka is down; caps, slow clients, CORS and /metrics.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

# start_collect LOG ARGS...: a collector on a free port; sets CPID, PORT
# and URL.
start_collect() {
    local log=$1
    shift
    "$ADTALLY" collect --listen 127.0.0.1:0 --status-interval 0 "$@" \
        2>"$log" &
    CPID=$!
    PORT=
    for _ in $(seq 100); do
        PORT=$(grep -o '(port [0-9]*)' "$log" | tr -dc 0-9)
        [[ -n $PORT ]] && break
        sleep 0.1
    done
    URL=http://127.0.0.1:$PORT
    [[ -n $PORT ]]
}

# raw BYTES: sends raw bytes on one connection, prints the answer.
raw() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf '%b' "$1" >&3
    timeout 10 cat <&3
    exec 3<&-
}

# code ARGS...: the HTTP status curl got.
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }

# json_field NAME JSON: one field of a JSON object, as jq -c prints it.
json_field() { jq -c ".$1" <<<"$2"; }

now_ms() { date +%s%3N; }

setup() {
    use_names "$1"
    "$ADTALLY" schema apply --only kafka >/dev/null 2>&1
}

# ------------------------------------------------- beacons and batches
setup collect_basic || fail setup "schema apply --only kafka failed"
REJ=$ADTALLY_TOPIC.rejected
start_collect "$TMP/basic.log" --cors-origin https://jobs.example \
    --max-body 100000 --header-timeout-ms 1000 --body-timeout-ms 1000 ||
    fail start "collector did not start: $(tail -n 3 "$TMP/basic.log")"

out=$(curl -s -i -A 'TestAgent/1.0' "$URL/track?job_id=188&custom_track=click\
&bid=0.25&uid=u1&ts=2022-07-18%2007:05:11&create_time=\
f7346e40-0667-11ed-b05a-72ef16420234")
assert_contains track_answers_204 "$out" "HTTP/1.1 204 No Content"
got=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$ADTALLY_TOPIC" -e -q -f '%k %s\n')
assert_eq track_event_on_topic_keyed_by_job "$got" \
    '188 {"create_time":"f7346e40-0667-11ed-b05a-72ef16420234","ts":'\
'"2022-07-18 07:05:11.000","custom_track":"click","job_id":188,"bid":0.25,'\
'"uid":"u1","ua":"TestAgent/1.0"}'

out=$(curl -s -D "$TMP/h" -o "$TMP/gif" -H 'Accept: image/avif,image/*' \
    "$URL/track?uid=u2&ts=2022-07-18%2007:05:12")
assert_contains gif_when_an_image_is_asked "$(cat "$TMP/h")" \
    "Content-Type: image/gif"
assert_eq gif_is_43_bytes "$(head -c 6 "$TMP/gif")$(wc -c <"$TMP/gif")" \
    "GIF89a43"
assert_eq gif_path_too \
    "$(code "$URL/track.gif?uid=u3&ts=2022-07-18%2007:05:12")" 200

out=$(curl -s -w ' %{http_code}' "$URL/track?job_id=abc&ts=2022-07-18")
assert_eq bad_beacon_400_names_field "$(json_field 'errors[0].field' \
    "${out% *}") ${out##* }" '"job_id" 400'

CT=f7346e40-0667-11ed-b05a-72ef16420235
printf '%s\n' \
    '{"job_id":7,"ts":"2022-07-18 07:00:00","uid":"n1","create_time":"'$CT'"}' \
    '{"job_id":"x","ts":"2022-07-18 07:00:00"}' '' 'not json' \
    '{"uid":"n2","ts":"2022-07-18T07:00:01Z"}' \
    '{"uid":"n3","ts":"2022-07-18 07:00:02","bid":-1}' \
    '{"uid":"n4","ts":"2022-07-18 07:00:03"}' >"$TMP/batch.ndjson"
out=$(curl -s -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$TMP/batch.ndjson" "$URL/events")
assert_eq ndjson_counts "$(jq -c '[.accepted,.rejected,[.errors[].index],
    [.errors[].field]]' <<<"$out")" '[3,3,[1,2,4],["job_id","","bid"]]'

out=$(curl -s --data-binary '[{"uid":"a1","ts":"2022-07-18 07:00:04"}, 5,
 {"ts":"bad"} , {"uid":"a2","ts":"2022-07-18 07:00:05"}]' "$URL/events")
assert_eq array_counts "$(jq -c '[.accepted,.rejected,[.errors[].index]]' \
    <<<"$out")" '[2,2,[1,2]]'
out=$(curl -s -w ' %{http_code}' --data-binary '[{"uid":"a3"}' "$URL/events")
assert_eq broken_array_is_400 "$(jq -c '[.accepted,.rejected]' \
    <<<"${out% *}") ${out##* }" '[0,1] 400'

assert_eq events_on_topic "$(topic_count "$ADTALLY_TOPIC")" 8
assert_eq rejects_on_topic "$(topic_count "$REJ")" 7
assert_eq ndjson_event_normalised "$(topic_dump "$ADTALLY_TOPIC" | grep n1)" \
    '{"create_time":"'$CT'","ts":"2022-07-18 07:00:00.000","job_id":7,'\
'"uid":"n1"}'
assert_eq reject_keeps_raw_line "$(topic_dump "$REJ" |
    jq -c 'select(.raw == "not json") | [.field, (.reason | length > 0)]')" \
    '["",true]'
assert_eq reject_of_beacon_keeps_request "$(topic_dump "$REJ" |
    jq -r 'select(.field == "job_id" and (.raw | startswith("/track"))) |
    .raw')" '/track?job_id=abc&ts=2022-07-18'
assert_eq no_client_ip_on_topics "$( (topic_dump "$ADTALLY_TOPIC"
    topic_dump "$REJ") | grep -c '127\.0\.0\.1')" 0

# ------------------------------------------------- methods, CORS, health
assert_eq unknown_path_404 "$(code "$URL/nope")" 404
assert_eq wrong_method_405 "$(code -X PUT --data x "$URL/events")" 405
assert_eq get_events_405 "$(code "$URL/events")" 405
assert_eq unknown_method_501 "$(raw 'BREW / HTTP/1.1\r\nHost: x\r\n\r\n' |
    head -n 1 | tr -d '\r')" "HTTP/1.1 501 Not Implemented"
assert_eq healthz "$(curl -s "$URL/healthz")" '{"status":"ok","kafka":"up"}'
out=$(curl -s -i -X OPTIONS -H 'Origin: https://jobs.example' \
    -H 'Access-Control-Request-Method: POST' "$URL/events")
assert_contains cors_preflight_204 "$out" "HTTP/1.1 204"
assert_contains cors_preflight_origin "$out" \
    "Access-Control-Allow-Origin: https://jobs.example"
assert_contains cors_preflight_methods "$out" "Access-Control-Allow-Methods:"
out=$(curl -s -i -H 'Origin: https://evil.example' "$URL/healthz")
assert_eq cors_other_origin_refused \
    "$(grep -ci 'access-control-allow-origin' <<<"$out")" 0

# ------------------------------------------------- caps and slow clients
long=$(head -c 9000 /dev/zero | tr '\0' a)
assert_eq long_url_414 "$(code "$URL/track?uid=$long")" 414
assert_eq big_header_431 "$(code -H "X-Big: $long$long" "$URL/healthz")" 431
head -c 150000 /dev/zero | tr '\0' ' ' >"$TMP/big"
assert_eq big_body_413 "$(code --data-binary @"$TMP/big" "$URL/events")" 413
assert_eq chunked_body_411 "$(code -H 'Transfer-Encoding: chunked' \
    --data-binary @"$TMP/batch.ndjson" "$URL/events")" 411

t0=$(now_ms)
out=$(raw 'GET /track?uid=slow HTTP/1.1\r\nHost: x\r\n')
dt=$(($(now_ms) - t0))
assert_eq slow_head_gets_408 "$(head -n 1 <<<"$out" | tr -d '\r')" \
    "HTTP/1.1 408 Request Timeout"
# Not before --header-timeout-ms; that it came at all is the 408 above
# (raw gives up after 10 s).
assert_eq slow_head_cut_not_before_1s "$((dt >= 900))" 1
out=$(raw 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{')
assert_eq slow_body_gets_408 "$(head -n 1 <<<"$out" | tr -d '\r')" \
    "HTTP/1.1 408 Request Timeout"

# ------------------------------------------------- metrics
curl -s "$URL/metrics" >"$TMP/metrics"
name='[a-zA-Z_:][a-zA-Z0-9_:]*' label='[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
bad=$(grep -v '^#' "$TMP/metrics" |
    grep -cvE "^$name(\{($label,?)*\})? [0-9.eE+-]+\$")
assert_eq metrics_lines_parse "$bad" 0
assert_contains metrics_track_204 "$(cat "$TMP/metrics")" \
    'adtally_collect_requests_total{path="/track",status="204"} 1'
assert_contains metrics_rejected_by_field "$(cat "$TMP/metrics")" \
    'adtally_collect_events_rejected_total{field="job_id"} 2'
assert_contains metrics_slow_clients "$(cat "$TMP/metrics")" \
    'adtally_collect_slow_clients_total 2'
assert_contains metrics_histogram "$(cat "$TMP/metrics")" \
    'adtally_collect_request_duration_seconds_bucket{le="+Inf"}'
kill -TERM "$CPID"
wait "$CPID"
assert_eq sigterm_exits_0 "$?" 0
assert_eq one_line_per_event_log "$(grep -c 'info collect' "$TMP/basic.log")" 3

# ------------------------------------------------- load and SIGTERM
TS=2026-11-20T10:00:00Z

# load_worker ID N: N requests, alternating a beacon and a batch of two
# good lines and a bad one; prints "status events" for each. Stops once
# the collector is gone.
load_worker() {
    local id=$1 n=$2 i c
    for ((i = 0; i < n; i++)); do
        if ((i % 2)); then
            c=$(code "$URL/track?job_id=$((i % 40 + 1))&uid=w$id-$i&ts=$TS")
            echo "$c 1"
        else
            printf '%s\n' \
                "{\"job_id\":1,\"uid\":\"w$id-$i-a\",\"ts\":\"$TS\"}" \
                "{\"uid\":\"w$id-$i-b\",\"ts\":\"$TS\"}" '{"bad":' \
                >"$TMP/w$id.body"
            c=$(code --data-binary @"$TMP/w$id.body" "$URL/events")
            echo "$c 2"
        fi
        [[ $c != 000 ]] || break
    done
}

# acked FILES...: events in the 2xx answers recorded by load workers.
acked() { cat "$@" | awk '$1 ~ /^2/ { n += $2 } END { print n + 0 }'; }

setup collect_load
start_collect "$TMP/load.log" || fail start "collector did not start"
for w in $(seq 16); do load_worker "$w" 40 >"$TMP/lw.$w" & done
wait $(jobs -p | grep -v "^$CPID$")
assert_eq load_all_2xx "$(cat "$TMP"/lw.* | grep -vc '^2')" 0
assert_eq load_2xx_events_equal_topic "$(topic_count "$ADTALLY_TOPIC")" \
    "$(acked "$TMP"/lw.*)"
assert_eq load_rejects_on_topic "$(topic_count "$ADTALLY_TOPIC.rejected")" 320

for w in $(seq 16); do load_worker "$w" 1000 >"$TMP/tw.$w" & done
sleep 1.5
kill -TERM "$CPID"
wait "$CPID"
assert_eq sigterm_under_load_exits_0 "$?" 0
wait
total=$(($(acked "$TMP"/lw.*) + $(acked "$TMP"/tw.*)))
assert_eq sigterm_2xx_events_equal_topic "$(topic_count "$ADTALLY_TOPIC")" \
    "$total"
assert_eq sigterm_cut_the_load "$(($(cat "$TMP"/tw.* | grep -c '^000') > 0 &&
    $(acked "$TMP"/tw.*) > 0))" 1
assert_contains sigterm_logged "$(cat "$TMP/load.log")" "stopping:"

# ------------------------------------------------- Kafka down
# down_worker ID: beacons with unique uids until $TMP/stop; prints
# "status uid" for each.
down_worker() {
    local id=$1 i=0
    while [[ ! -e $TMP/stop ]]; do
        i=$((i + 1))
        echo "$(code "$URL/track?uid=d$id-$i&ts=2026-11-20%2011:00:00") d$id-$i"
        sleep 0.05
    done
}

setup collect_down
start_collect "$TMP/down.log" --ack-timeout-ms 1500 ||
    fail start "collector did not start"
for w in 1 2 3 4; do down_worker "$w" >"$TMP/dw.$w" & done
sleep 2
stack/stack.sh down kafka >"$TMP/stack.log" 2>&1
sleep 4
stack/stack.sh up kafka >>"$TMP/stack.log" 2>&1 ||
    fail kafka_restart "$(tail -n 3 "$TMP/stack.log")"
wait_for 60 grep -q 'deliveries succeed again' "$TMP/down.log"
sleep 2
touch "$TMP/stop"
wait $(jobs -p | grep -v "^$CPID$")
kill -TERM "$CPID"
wait "$CPID"
assert_eq down_exit_status_tells_loss "$(($? != 0))" 1
cat "$TMP"/dw.* >"$TMP/down.all"
assert_eq down_503_while_down "$(($(grep -c '^503 ' "$TMP/down.all") > 0))" 1
assert_eq down_only_204_or_503 "$(cut -d' ' -f1 "$TMP/down.all" | sort -u |
    tr '\n' ' ')" "204 503 "
# Each worker's last answer came after the restart: 204 again.
assert_eq down_recovers_after_restart "$(for w in 1 2 3 4; do
    tail -n 1 "$TMP/dw.$w" | cut -d' ' -f1; done | tr '\n' ' ')" \
    "204 204 204 204 "
awk '$1 == 204 { print $2 }' "$TMP/down.all" | sort >"$TMP/acked.uids"
topic_dump "$ADTALLY_TOPIC" | jq -r .uid | sort >"$TMP/topic.uids"
assert_eq down_every_acked_event_on_topic \
    "$(comm -23 "$TMP/acked.uids" "$TMP/topic.uids" | wc -l)" 0
assert_eq down_acked_some "$(($(wc -l <"$TMP/acked.uids") > 10))" 1
assert_contains down_logged "$(cat "$TMP/down.log")" "deliveries failing"

t_done
