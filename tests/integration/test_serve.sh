#!/usr/bin/env bash
# serve: the JSON API's numbers equal SQL written here over the real log;
# bad parameters get 400 with a message and the server stays up; static
# files keep inside --web-dir; a database that is down gets 503, not a
# crash.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

# The hour of a row, and a range condition written unlike the server's.
HOUR_TS="TIMESTAMP(dates) + INTERVAL hours HOUR"
in_range() {
    echo "$HOUR_TS BETWEEN '${1:0:10} ${1:11:2}:00:00'" \
        "AND '${2:0:10} ${2:11:2}:00:00'"
}

# norm: every field of every line as a number with 6 decimals, or null.
norm() {
    awk '{ for (i = 1; i <= NF; i++)
             $i = ($i == "null" || $i == "NULL") ? "null" : sprintf("%.6f", $i)
           print }'
}

# start_serve LOG ARGS...: starts serve on a free port; sets PORT, PID.
start_serve() {
    local log=$1
    shift
    "$ADTALLY" serve --listen 127.0.0.1:0 --status-interval 0 "$@" \
        2>"$log" &
    PID=$!
    wait_for 10 grep -q 'listening on' "$log"
    PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$log")
}

# get PATH [CURL ARGS...]: the body into $TMP/body; prints "CODE TYPE".
get() {
    local path=$1
    shift
    curl -s --path-as-is -o "$TMP/body" -w '%{http_code} %{content_type}' \
        "$@" "http://127.0.0.1:$PORT$path"
}

# --- the real log, loaded the way production does it
use_names serve
{ "$ADTALLY" schema apply --only mysql && "$ADTALLY" schema apply \
    --only kafka && "$ADTALLY" dims load data &&
    "$ADTALLY" import data/tracking.csv &&
    "$ADTALLY" process --drain --status-interval 0; } >"$TMP/load.log" 2>&1 ||
    fail load_real_log "$(tail -n 5 "$TMP/load.log")"
ROWS=$(sql "SELECT COUNT(*) FROM events")
assert_eq real_log_tallied "$((ROWS > 100))" 1

mkdir -p "$TMP/web/sub" "$TMP/web/empty"
echo '<!doctype html><title>t</title>' >"$TMP/web/index.html"
echo 'console.log(1)' >"$TMP/web/app.js"
echo 'body{}' >"$TMP/web/sub/x.css"
echo 'secret' >"$TMP/secret.txt"
ln -s ../secret.txt "$TMP/web/link.txt"
start_serve "$TMP/serve.log" --web-dir "$TMP/web" --max-range-days 31 \
    --max-limit 50

assert_eq healthz_ok "$(get /healthz) $(jq -r .status "$TMP/body")" \
    "200 application/json ok"

# --- KPIs: the default range is the 24 hours up to the newest hour
LATEST=$(sql "SELECT DATE_FORMAT(MAX($HOUR_TS), '%Y-%m-%dT%H') FROM events")
FIRST=$(sql "SELECT DATE_FORMAT(MAX($HOUR_TS) - INTERVAL 23 HOUR,
    '%Y-%m-%dT%H') FROM events")

# kpis_sql FROM TO [AND ...]: the ten KPIs, space-separated, normalised.
kpis_sql() {
    sql "SELECT COALESCE(SUM(impressions), 0), COALESCE(SUM(clicks), 0),
        ROUND(SUM(clicks) / NULLIF(SUM(impressions), 0), 6),
        COALESCE(SUM(spend_hour), 0),
        ROUND(SUM(spend_hour) / NULLIF(SUM(clicks), 0), 4),
        COALESCE(SUM(conversion), 0),
        ROUND(SUM(spend_hour) / NULLIF(SUM(conversion), 0), 4),
        COALESCE(SUM(qualified_application), 0),
        COALESCE(SUM(disqualified_application), 0),
        ROUND(SUM(qualified_application) / NULLIF(SUM(qualified_application)
            + SUM(disqualified_application), 0), 6)
        FROM events WHERE $(in_range "$1" "$2") ${3:-}" | tr '\t' ' ' | norm
}
kpis_api() {
    jq -r '.kpis | [.impressions, .clicks, .ctr, .spend, .avg_cpc,
        .conversions, .cost_per_conversion, .qualified, .disqualified,
        .qualified_rate] | map(tostring) | join(" ")' "$TMP/body" | norm
}

assert_eq kpis_default_status "$(get /api/kpis)" "200 application/json"
assert_eq kpis_default_range_is_latest_24h \
    "$(jq -r '.range | "\(.from) \(.to) \(.hours)"' "$TMP/body")" \
    "$FIRST $LATEST 24"
assert_eq kpis_default_equal_sql "$(kpis_api)" "$(kpis_sql "$FIRST" "$LATEST")"

MONTH="from=2022-07-01T00&to=2022-07-31T23"
get "/api/kpis?$MONTH" >/dev/null
assert_eq kpis_month_equal_sql "$(kpis_api)" \
    "$(kpis_sql 2022-07-01T00 2022-07-31T23)"
assert_eq kpis_month_has_every_click "$(jq .kpis.clicks "$TMP/body")" \
    "$(sql "SELECT SUM(clicks) FROM events")"

read -r CAMP PUB COMP JOB <<<"$(sql "SELECT campaign_id, publisher_id,
    company_id, job_id FROM events WHERE company_id IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY SUM(clicks) DESC, 1, 2, 3, 4 LIMIT 1")"
get "/api/kpis?$MONTH&campaign=$CAMP&publisher=$PUB" >/dev/null
assert_eq kpis_campaign_publisher_filter_equal_sql "$(kpis_api)" \
    "$(kpis_sql 2022-07-01T00 2022-07-31T23 \
        "AND campaign_id = $CAMP AND publisher_id = $PUB")"
get "/api/kpis?$MONTH&company=$COMP&job=$JOB" >/dev/null
assert_eq kpis_company_job_filter_equal_sql "$(kpis_api)" \
    "$(kpis_sql 2022-07-01T00 2022-07-31T23 \
        "AND company_id = $COMP AND job_id = $JOB")"
get "/api/kpis?$MONTH&campaign=&company=&publisher=&job=" >/dev/null
assert_eq empty_filters_mean_none "$(kpis_api)" \
    "$(kpis_sql 2022-07-01T00 2022-07-31T23)"
get "/api/kpis?from=2022-07-20T13&to=2022-07-20T13" >/dev/null
assert_eq kpis_one_hour_equal_sql "$(kpis_api)" \
    "$(kpis_sql 2022-07-20T13 2022-07-20T13)"

# --- the hourly series: every hour of the range, the busy ones as in SQL
R3="from=2022-07-25T00&to=2022-07-27T23"
assert_eq series_status "$(get "/api/series?$R3")" "200 application/json"
assert_eq series_has_every_hour "$(jq '.points | length' "$TMP/body")" 72
assert_eq series_hours_in_order "$(jq -r '.points[0].hour, .points[71].hour' \
    "$TMP/body" | tr '\n' ' ')" "2022-07-25T00 2022-07-27T23 "
jq -r '.points[] | select(.impressions + .clicks + .conversions + .qualified
    + .disqualified + .spend > 0) | [.hour, .impressions, .clicks, .spend,
    .conversions, .qualified, .disqualified] | map(tostring) | join(" ")' \
    "$TMP/body" | awk '{ $4 = sprintf("%.4f", $4); print }' >"$TMP/series.api"
sql "SELECT DATE_FORMAT($HOUR_TS, '%Y-%m-%dT%H'), SUM(impressions),
    SUM(clicks), SUM(spend_hour), SUM(conversion), SUM(qualified_application),
    SUM(disqualified_application) FROM events
    WHERE $(in_range 2022-07-25T00 2022-07-27T23)
    GROUP BY 1 HAVING SUM(impressions) + SUM(clicks) + SUM(conversion)
    + SUM(qualified_application) + SUM(disqualified_application)
    + SUM(spend_hour) > 0 ORDER BY 1" | tr '\t' ' ' >"$TMP/series.sql"
if diff "$TMP/series.sql" "$TMP/series.api" >"$TMP/series.diff" &&
    [[ -s $TMP/series.sql ]]; then
    pass series_equal_sql_hour_by_hour
else
    fail series_equal_sql_hour_by_hour "$(head -n 6 "$TMP/series.diff")"
fi

# --- top lists: each dimension by each measure, with names
declare -A KEY=([job]=e.job_id [campaign]=e.campaign_id
    [company]=e.company_id [publisher]=e.publisher_id)
declare -A NAME=([job]="job d ON d.id = e.job_id|d.title"
    [campaign]="campaign d ON d.id = e.campaign_id|d.campaign_name"
    [company]="company d ON d.id = e.company_id|d.name"
    [publisher]="publisher d ON d.id = e.publisher_id|d.publisher_name")
declare -A COL=([spend]=spend_hour [clicks]=clicks)
for dim in job campaign company publisher; do
    for by in spend clicks; do
        code=$(get "/api/top?$MONTH&dim=$dim&by=$by&limit=5")
        jq -r --arg by "$by" '.rows[] | "\(.id)\t\(.name)\t\(.[$by])"' \
            "$TMP/body" | awk -F'\t' -v OFS='\t' \
            '{ $3 = sprintf("%.4f", $3); print }' >"$TMP/top.api"
        sql "SELECT COALESCE(${KEY[$dim]}, 'null'),
            COALESCE(MAX(${NAME[$dim]#*|}), 'null'),
            ROUND(SUM(e.${COL[$by]}), 4) AS v
            FROM events e LEFT JOIN ${NAME[$dim]%|*}
            WHERE $(in_range 2022-07-01T00 2022-07-31T23 | sed 's/dates/e.&/;
                s/ hours/ e.hours/')
            GROUP BY ${KEY[$dim]}
            ORDER BY v DESC, ${KEY[$dim]} IS NULL, ${KEY[$dim]}
            LIMIT 5" >"$TMP/top.sql"
        if [[ $code == "200 application/json" && -s $TMP/top.sql ]] &&
            diff "$TMP/top.sql" "$TMP/top.api" >"$TMP/top.diff"; then
            pass "top_${dim}_by_${by}_equal_sql"
        else
            fail "top_${dim}_by_${by}_equal_sql" \
                "$code $(head -n 6 "$TMP/top.diff")"
        fi
    done
done
get "/api/top?$MONTH&dim=campaign&limit=3" >/dev/null
assert_eq top_names_campaigns "$(jq -r '[.rows[].name] | map(type) | unique |
    join(",")' "$TMP/body")" "string"
assert_eq top_limit_is_kept "$(jq '.rows | length' "$TMP/body")" 3
get "/api/top?$MONTH&dim=job&campaign=$CAMP&limit=50" >/dev/null
assert_eq top_filtered_jobs_belong_to_campaign \
    "$(jq '.rows | length' "$TMP/body")" \
    "$(sql "SELECT COUNT(DISTINCT job_id) FROM events
        WHERE campaign_id = $CAMP AND $(in_range 2022-07-01T00 \
        2022-07-31T23)" | awk '{ print ($1 > 50) ? 50 : $1 }')"

# --- bad parameters: 400, a JSON message, and the server goes on
LONG=$(printf 'x%.0s' {1..100})
HUGE="from=2022-07-01T00$(printf '&%.0s' {1..2100})"
NOT_ID="an id, a whole number from 0 to 2147483647"
bad=(
    "/api/kpis?foo=1|unknown parameter 'foo'"
    "/api/kpis?from=2022-07-20T10&to=2022-07-20T09|from is after to"
    "/api/kpis?from=2022-01-01T00&to=2022-07-20T00|the range spans 4801 hours;\
 at most 744 are allowed (--max-range-days)"
    "/api/series?from=2021-07-01T00&to=2022-07-31T23|"
    "/api/kpis?campaign=abc|campaign: $NOT_ID"
    "/api/kpis?campaign=1%20OR%201%3D1|campaign: $NOT_ID"
    "/api/kpis?campaign=1;DROP%20TABLE%20events|campaign: $NOT_ID"
    "/api/kpis?job=1'--|job: $NOT_ID"
    "/api/kpis?publisher=-1|"
    "/api/kpis?job=99999999999|"
    "/api/kpis?company=1.0|"
    "/api/top?by=spend%20DESC;%20DROP%20TABLE%20events|by: one of spend,\
 clicks, impressions, conversions"
    "/api/top?by=name|"
    "/api/top?dim=events|dim: one of job, campaign, company, publisher"
    "/api/top?dim=job%60;|"
    "/api/top?limit=51|limit: an integer from 1 to 50"
    "/api/top?limit=0|"
    "/api/top?limit=-1|"
    "/api/top?limit=1e3|"
    "/api/series?from=2022-02-30T00|from: an hour YYYY-MM-DDTHH (a real date,\
 1970 or later)"
    "/api/series?from=2022-07-20|"
    "/api/series?to=2022-07-20%2013:00|"
    "/api/kpis?campaign=1&campaign=2|parameter 'campaign' given twice"
    "/api/kpis?limit=5|unknown parameter 'limit'"
    "/api/kpis?from=%ZZ|from: bad percent-encoding"
    "/api/kpis?from=$LONG|from: value longer than 63 bytes"
    "/api/kpis?$HUGE|query string longer than 2048 bytes"
    "/api/kpis?%27%20OR%201=1--=1|unknown parameter"
)
for case in "${bad[@]}"; do
    url=${case%%|*}
    want=${case#*|}
    got=$(get "$url")
    msg=$(jq -r '.error // empty' "$TMP/body" 2>/dev/null)
    name="refuses ${url:0:60}"
    if [[ $got != "400 application/json" || -z $msg ]]; then
        fail "$name" "got '$got' body $(head -c 200 "$TMP/body")"
    elif [[ -n $want && $msg != "$want" ]]; then
        fail "$name" "message '$msg', expected '$want'"
    else
        pass "$name"
    fi
done
assert_eq alive_after_bad_parameters "$(get /healthz)" "200 application/json"
assert_eq events_untouched "$(sql "SELECT COUNT(*) FROM events")" "$ROWS"

assert_eq unknown_endpoint_404_json \
    "$(get /api/nope) $(jq -r '.error | length > 0' "$TMP/body")" \
    "404 application/json true"
assert_eq post_is_405_json \
    "$(get /api/kpis -X POST -d x) $(jq -r '.error | length > 0' \
        "$TMP/body")" "405 application/json true"
assert_eq head_has_no_body "$(get "/api/kpis?$MONTH" -I | cut -c1-3)" 200

# --- static files stay inside --web-dir
assert_eq index_served "$(get /) $(cat "$TMP/body")" \
    "200 text/html; charset=utf-8 <!doctype html><title>t</title>"
assert_eq js_type "$(get /app.js)" "200 text/javascript; charset=utf-8"
assert_eq css_type "$(get /sub/x.css)" "200 text/css; charset=utf-8"
assert_eq missing_file_404_json "$(get /nope.js)" "404 application/json"
assert_eq dir_without_index_404 "$(get /sub/)" "404 application/json"
assert_contains no_sniffing "$(curl -s -D - -o /dev/null \
    "http://127.0.0.1:$PORT/app.js")" "X-Content-Type-Options: nosniff"
for p in /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt \
    /..%2fsecret.txt /.hidden /sub//x.css '/a%00.js'; do
    assert_eq "traversal_refused ${p}" "$(get "$p")" "400 application/json"
done
assert_eq symlink_not_followed "$(get /link.txt)" "404 application/json"
assert_eq secret_never_sent "$(grep -c secret "$TMP/body")" 0

# --- stays up, stops cleanly
assert_eq alive_at_the_end "$(kill -0 "$PID" 2>&1 && echo up)" up
kill -TERM "$PID"
wait "$PID"
assert_eq sigterm_exits_0 "$?" 0

# --- a database that is down: 503 with a message, the server stays up
ADTALLY_MYSQL="mysql://root@127.0.0.1:1/nowhere" start_serve \
    "$TMP/down.log" --web-dir "$TMP/web"
assert_eq healthz_503_when_db_down "$(get /healthz) $(jq -r .mysql \
    "$TMP/body")" "503 application/json down"
assert_eq api_503_when_db_down "$(get /api/kpis) $(jq -r '.error | length > 0' \
    "$TMP/body")" "503 application/json true"
assert_eq explicit_range_503_when_db_down "$(get "/api/top?$MONTH")" \
    "503 application/json"
assert_eq page_served_when_db_down "$(get /)" \
    "200 text/html; charset=utf-8"
kill -TERM "$PID"
wait "$PID"

t_done
