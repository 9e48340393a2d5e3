#!/usr/bin/env bash
# grafana: the provisioning files hold no secret and name their settings
# by environment variable; the dashboard has unique panel ids, a grid
# within 24 columns without overlaps and only data sources that are
# provisioned; every panel's and variable's SQL, with Grafana's macros
# expanded for July 2022, runs on the real schema over the real log and
# returns rows, and the totals agree with the table.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DS_FILE=grafana/provisioning/datasources/adtally.yaml
DB_FILE=grafana/provisioning/dashboards/adtally.yaml
DASH=grafana/dashboards/adtally.json
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# --- provisioning files
for f in "$DS_FILE" "$DB_FILE" "$DASH"; do
    assert_eq "exists $f" "$(test -s "$f" && echo yes)" yes
done
assert_eq dashboard_is_json "$(jq -e . "$DASH" >/dev/null && echo ok)" ok
for key in url user database password; do
    line=$(grep -E "^ *$key:" "$DS_FILE" | head -n 1)
    assert_contains "datasource_${key}_from_env" "$line" \
        '${ADTALLY_GRAFANA_MYSQL_'
done
assert_eq datasource_password_is_secure \
    "$(grep -B1 -E '^ *password:' "$DS_FILE" | head -n 1 | tr -d ' ')" \
    "secureJsonData:"
assert_eq no_literal_secret "$(grep -ciE 'password: *[^$ ]' "$DS_FILE")" 0
assert_eq provider_loads_files "$(sed -n 's/^ *type: *//p' "$DB_FILE")" file
assert_contains provider_path "$(sed -n 's/^ *path: *//p' "$DB_FILE")" \
    /dashboards/adtally

# --- the dashboard's structure
assert_eq panel_ids_unique "$(jq '[.panels[].id] | length == (unique |
    length)' "$DASH")" true
assert_eq panels_have_sql "$(jq '[.panels[] | .targets[]? | .rawSql |
    select(type == "string" and length > 0)] | length' "$DASH")" \
    "$(jq '.panels | length' "$DASH")"
assert_eq grid_within_24_columns "$(jq '[.panels[].gridPos | select(.x < 0
    or .y < 0 or .w < 1 or .h < 1 or .x + .w > 24)] | length' "$DASH")" 0
assert_eq grid_without_overlaps "$(jq '[.panels[].gridPos] as $g
    | [range(0; $g | length) as $i | range($i + 1; $g | length) as $j
       | select($g[$i].x < $g[$j].x + $g[$j].w
                and $g[$j].x < $g[$i].x + $g[$i].w
                and $g[$i].y < $g[$j].y + $g[$j].h
                and $g[$j].y < $g[$i].y + $g[$i].h)
       | [$i, $j]] | length' "$DASH")" 0
UIDS=$(sed -n 's/^ *uid: *//p' "$DS_FILE" | tr -d '"' | sort -u)
TYPES=$(sed -n 's/^ *type: *//p' "$DS_FILE" | tr -d '"' | sort -u)
jq -r '.. | objects | select(has("datasource")) | .datasource
    | if type == "object" then "\(.uid) \(.type)" else "\(.) ?" end' \
    "$DASH" | sort -u >"$TMP/refs"
bad=0
while read -r uid type; do
    grep -qx "$uid" <<<"$UIDS" && grep -qx "$type" <<<"$TYPES" || {
        bad=1
        fail datasource_refs_exist "'$uid' ($type) is not provisioned"
    }
done <"$TMP/refs"
((bad)) || assert_eq datasource_refs_exist "$(wc -l <"$TMP/refs")" 1

# --- the real log in the real schema
use_names grafana
{ "$ADTALLY" schema apply --only mysql && "$ADTALLY" schema apply \
    --only kafka && "$ADTALLY" dims load data &&
    "$ADTALLY" import data/tracking.csv &&
    "$ADTALLY" process --drain --status-interval 0; } >"$TMP/load.log" 2>&1 ||
    fail load_real_log "$(tail -n 5 "$TMP/load.log")"

# expand SQL CAMPAIGN COMPANY PUBLISHER JOB: Grafana's MySQL macros for the
# range [FROM, TO] (epoch seconds) and the variables, as Grafana does.
FROM=$(date -u -d '2022-07-01 00:00:00' +%s)
TO=$(date -u -d '2022-07-31 23:59:59' +%s)
expand() {
    F=$FROM T=$TO V_campaign=$2 V_company=$3 V_publisher=$4 V_job=$5 \
        perl -0pe '
        s{\$__timeFilter\(([^)]*)\)}
         {$1 BETWEEN FROM_UNIXTIME($ENV{F}) AND FROM_UNIXTIME($ENV{T})}g;
        s/\$__timeFrom\(\)/FROM_UNIXTIME($ENV{F})/g;
        s/\$__timeTo\(\)/FROM_UNIXTIME($ENV{T})/g;
        s/\$__unixEpochFrom\(\)/$ENV{F}/g;
        s/\$__unixEpochTo\(\)/$ENV{T}/g;
        s{\$__timeGroupAlias\(([^,]*),\s*'"'"'?(\d+)([smhd])'"'"'?\)}{
            my $s = $2 * {s => 1, m => 60, h => 3600, d => 86400}->{$3};
            "cast(cast(UNIX_TIMESTAMP($1)/($s) as signed)*$s as signed)"
                . " AS \"time\""
        }ge;
        s{\$\{(\w+)(?::\w+)?\}|\$(\w+)}{
            my $v = $ENV{"V_" . ($1 // $2)};
            defined $v ? $v : $&
        }ge;
    ' <<<"$1"
}

# run_panel NAME SQL: runs in Grafana's session zone; rows into $TMP/out.
run_panel() {
    if [[ $2 == *'$'* ]]; then
        fail "$1" "unexpanded: $(grep -o '\$[_a-zA-Z{]*' <<<"$2" | head -n 3 |
            tr '\n' ' ')"
        return 1
    fi
    if ! sql "SET time_zone = '+00:00'; $2" >"$TMP/out" 2>"$TMP/err"; then
        fail "$1" "$(head -c 400 "$TMP/err")"
        return 1
    fi
    if [[ ! -s $TMP/out ]]; then
        fail "$1" "no rows"
        return 1
    fi
    pass "$1"
}

read -r CAMP COMP PUB JOB <<<"$(sql "SELECT campaign_id, company_id,
    publisher_id, job_id FROM events WHERE company_id IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY SUM(spend_hour) DESC, 1, 2, 3, 4 LIMIT 1")"
n=$(jq '.panels | length' "$DASH")
for ((i = 0; i < n; i++)); do
    title=$(jq -r ".panels[$i].title" "$DASH" | tr ' ' '_')
    raw=$(jq -r ".panels[$i].targets[0].rawSql" "$DASH")
    run_panel "panel_${title}_all" "$(expand "$raw" -1 -1 -1 -1)"
    run_panel "panel_${title}_filtered" "$(expand "$raw" "$CAMP" "$COMP" \
        "$PUB" "$JOB")"
done
jq -r '.templating.list[] | "\(.name)\t\(.query)"' "$DASH" |
    while IFS=$'\t' read -r name query; do
        run_panel "variable_$name" "$(expand "$query" -1 -1 -1 -1)"
    done

# The panels' numbers are the table's.
MONTH_SUM=$(sql "SELECT SUM(clicks), SUM(spend_hour) FROM events
    WHERE dates BETWEEN '2022-07-01' AND '2022-07-31'")
raw=$(jq -r '.panels[] | select(.title == "Volume") | .targets[0].rawSql' \
    "$DASH")
run_panel volume_runs "$(expand "$raw" -1 -1 -1 -1)" >/dev/null
assert_eq volume_clicks_equal_table "$(cut -f2 "$TMP/out")" \
    "$(cut -f1 <<<"$MONTH_SUM")"
raw=$(jq -r '.panels[] | select(.title == "Per hour") | .targets[0].rawSql' \
    "$DASH")
run_panel per_hour_runs "$(expand "$raw" -1 -1 -1 -1)" >/dev/null
assert_eq per_hour_clicks_add_up "$(awk '{ s += $3 } END { print s }' \
    "$TMP/out")" "$(cut -f1 <<<"$MONTH_SUM")"
assert_eq per_hour_times_on_the_hour "$(awk '$1 % 3600 != 0' "$TMP/out" |
    wc -l)" 0
raw=$(jq -r '.panels[] | select(.title == "Budget pacing") |
    .targets[0].rawSql' "$DASH")
run_panel pacing_runs "$(expand "$raw" -1 -1 -1 -1)" >/dev/null
assert_eq pacing_spend_in_range_adds_up "$(awk -F'\t' '{ s += $3 }
    END { printf "%.4f", s }' "$TMP/out")" "$(cut -f2 <<<"$MONTH_SUM")"

t_done
