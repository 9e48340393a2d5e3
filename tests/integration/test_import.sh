#!/usr/bin/env bash
# import: the real log lands on the topic with every raw value kept; a
# second import of the same content is refused; a hostile file puts exactly
# its bad lines on the rejected topic with reasons and the original text.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
use_names import
"$ADTALLY" schema apply --only mysql >/dev/null 2>&1
"$ADTALLY" schema apply --only kafka >/dev/null 2>&1

"$ADTALLY" import data/tracking.csv 2>"$TMP/import.log"
assert_eq real_log_import_exits_0 "$?" 0
assert_contains summary_counts "$(cat "$TMP/import.log")" \
    "read 6662, accepted 6662, rejected 0"
assert_eq all_events_on_topic "$(topic_count "$ADTALLY_TOPIC")" 6662
assert_eq nothing_rejected "$(topic_count "$ADTALLY_TOPIC.rejected")" 0

# Every raw value kept: create_time, ts, bid, ed, tz, custom_track as the
# server itself reads them from the CSV.
topic_dump "$ADTALLY_TOPIC" | jq -r '[.create_time, .ts, (.bid // "" |
    tostring), (.ed // ""), (.tz // "" | tostring), (.custom_track // ""),
    (.uid // "")] | @tsv' | sort >"$TMP/topic.tsv"
sql "$(cat tests/integration/load_raw.sql)"
mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot --local-infile=1 \
    "$MYSQL_DB" -e "LOAD DATA LOCAL INFILE '$ROOT/data/tracking.csv'
    INTO TABLE raw CHARACTER SET utf8mb4 FIELDS TERMINATED BY ','
    OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' IGNORE 1 LINES"
# A row without ts gets the time of its version-1 create_time.
uuid_ts() {
    local h=${1//-/}
    local t=$((0x${h:13:3}${h:8:4}${h:0:8} - 122192928000000000))
    printf '%s.%03d' "$(date -u -d "@$((t / 10000000))" '+%F %T')" \
        $((t / 10000 % 1000))
}
sql "SELECT create_time, ts, bid, ed, tz,
     custom_track, uid FROM raw" |
    sort >"$TMP/csv.tsv"
for ct in $(awk -F'\t' '$2 == "" { print $1 }' "$TMP/csv.tsv"); do
    sed -i "s/^$ct\t\t/$ct\t$(uuid_ts "$ct")\t/" "$TMP/csv.tsv"
done
if diff "$TMP/csv.tsv" "$TMP/topic.tsv" >"$TMP/diff"; then
    pass raw_values_kept
else
    fail raw_values_kept "$(head -n 4 "$TMP/diff")"
fi
assert_eq keyed_by_job_from_ed \
    "$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$ADTALLY_TOPIC" -e -q \
        -f '%k %s\n' | grep -c '^188 .*"jobId\\":\\"188\\"')" \
    "$(grep -c 'jobId"":""188""' data/tracking.csv)"

"$ADTALLY" import data/tracking.csv 2>"$TMP/again.log"
assert_eq second_import_refused "$?" 1
assert_contains refusal_says_why "$(cat "$TMP/again.log")" \
    "imported before"
assert_eq refused_import_adds_nothing "$(topic_count "$ADTALLY_TOPIC")" 6662

# A hostile file: each bad line is rejected alone, with its reason.
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
{
    echo '{"ts":"2022-07-20 10:00:00","job_id":1}'
    echo 'not json at all'
    echo '[{"ts":"2022-07-20 10:00:00"}]'
    echo '{"ts":"2022-07-20 10:00:00","job_id":"abc"}'
    echo '{"ts":"2022-07-20 10:00:00","job_id":true}'
    echo '{"ts":"2022-07-20 10:00:00","bid":-1}'
    echo '{"ts":"2022-07-20 10:00:00","bid":1.23456}'
    echo '{"ts":"2022-02-30 10:00:00","job_id":1}'
    echo '{"ts":"2022-07-20 10:00:00","dl":"'"$big"'"}'
    printf '{"ts":"2022-07-20 10:00:00","uid":"\xff\xfe"}\n'
    echo '{"job_id":1}'
    echo '{"ts":"2022-07-20 10:00:00","job_id":1.0,"bid":"2.5"}'
    echo '{"ts":"2022-07-20 10:00:00","job_id":4294967296}'
} >"$TMP/hostile.ndjson"
use_names import_hostile
"$ADTALLY" schema apply --only mysql >/dev/null 2>&1
"$ADTALLY" schema apply --only kafka >/dev/null 2>&1
"$ADTALLY" import "$TMP/hostile.ndjson" 2>"$TMP/hostile.log"
assert_eq hostile_import_exits_0 "$?" 0
assert_eq good_lines_on_topic "$(topic_count "$ADTALLY_TOPIC")" 2
assert_eq bad_lines_rejected "$(topic_count "$ADTALLY_TOPIC.rejected")" 11
topic_dump "$ADTALLY_TOPIC.rejected" >"$TMP/rejected.ndjson"
assert_eq rejects_are_json_with_reason \
    "$(jq -r 'select(.reason != null and .field != null) | 1' \
        "$TMP/rejected.ndjson" | wc -l)" 11
for pair in "not json at all|" "job_id\":\"abc|job_id" \
    "job_id\":true|job_id" "bid\":-1|bid" "bid\":1.23456|bid" \
    "2022-02-30|ts" "job_id\":4294967296|job_id"; do
    raw=${pair%|*} field=${pair#*|}
    assert_eq "rejected_${field:-line}_${raw//[^a-z0-9]/}" \
        "$(jq -r --arg r "$raw" 'select(.raw != null and
            (.raw | contains($r))) | .field' "$TMP/rejected.ndjson")" \
        "$field"
done
assert_eq oversize_field_rejected \
    "$(jq -r 'select(.raw != null and (.raw | length) > 9000) | .field' \
        "$TMP/rejected.ndjson")" "dl"
assert_eq invalid_utf8_kept_as_base64 \
    "$(jq -r 'select(.raw_base64 != null) | .field' "$TMP/rejected.ndjson")" \
    "uid"
assert_eq array_rejected_whole \
    "$(jq -r 'select(.raw != null and (.raw | startswith("["))) | .field' \
        "$TMP/rejected.ndjson")" ""
assert_eq no_time_rejected \
    "$(jq -r 'select(.raw == "{\"job_id\":1}") | .field' \
        "$TMP/rejected.ndjson")" "ts"

t_done
