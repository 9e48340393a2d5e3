#!/usr/bin/env bash
# schema apply is versioned and idempotent; dims load puts the platform's
# dimensions in MySQL and reports bad rows by file and line.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
use_names dims

out=$("$ADTALLY" schema apply --only mysql 2>&1)
assert_contains schema_first_run_applies "$out" "applied migration 1"
out=$("$ADTALLY" schema apply --only mysql 2>&1)
assert_eq schema_second_run_exits_0 "$?" 0
if [[ $out == *"applied migration"* ]]; then
    fail schema_second_run_is_noop "$out"
else pass schema_second_run_is_noop; fi
assert_eq schema_tables \
    "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE
            table_schema = '$MYSQL_DB' AND table_name IN ('events', 'job',
            'campaign', 'company', 'job_group', 'publisher',
            'kafka_offsets', 'imports')")" 8
assert_eq events_unique_key_has_six_columns \
    "$(sql "SELECT COUNT(*) FROM information_schema.statistics WHERE
            table_schema = '$MYSQL_DB' AND table_name = 'events' AND
            index_name = 'events_key'")" 6

"$ADTALLY" schema apply --only kafka >/dev/null 2>&1
meta=$(kcat -L -b "$KAFKA_BOOTSTRAP" -t "$ADTALLY_TOPIC" 2>&1)
assert_contains topic_has_6_partitions "$meta" "with 6 partitions"
# Metadata reaches the broker's cache a moment after the creation.
wait_for 10 sh -c "kcat -L -b $KAFKA_BOOTSTRAP -t $ADTALLY_TOPIC.rejected |
    grep -q 'with 2 partitions'"
meta=$(kcat -L -b "$KAFKA_BOOTSTRAP" -t "$ADTALLY_TOPIC.rejected" 2>&1)
assert_contains rejected_topic_has_2_partitions "$meta" "with 2 partitions"

"$ADTALLY" dims load data 2>"$TMP/load.log"
assert_eq dims_load_exits_0 "$?" 0
assert_eq all_jobs_loaded "$(sql 'SELECT COUNT(*) FROM job')" 1868
assert_eq all_campaigns_loaded "$(sql 'SELECT COUNT(*) FROM campaign')" 193
assert_eq all_companies_loaded "$(sql 'SELECT COUNT(*) FROM company')" 105
assert_eq all_groups_loaded "$(sql 'SELECT COUNT(*) FROM job_group')" 43
assert_eq all_publishers_loaded "$(sql 'SELECT COUNT(*) FROM publisher')" 29

# The job relations, read straight from the CSV by the server itself.
sql "CREATE TABLE raw_job (id TEXT, company_id TEXT, campaign_id TEXT,
     group_id TEXT)"
mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot --local-infile=1 \
    "$MYSQL_DB" -e "LOAD DATA LOCAL INFILE '$ROOT/data/job.csv' INTO TABLE
    raw_job CHARACTER SET utf8mb4 FIELDS TERMINATED BY ','
    OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' IGNORE 1 LINES
    (id, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x, @x,
     @x, @x, @x, @x, @x, @x, @x, group_id, @x, campaign_id, company_id,
     @x, @x)"
assert_eq job_relations_match_csv \
    "$(sql "SELECT COUNT(*) FROM raw_job r JOIN job j ON j.id = r.id
            WHERE NOT (j.company_id <=> NULLIF(r.company_id, '')
              AND j.campaign_id <=> NULLIF(r.campaign_id, '')
              AND j.group_id <=> NULLIF(r.group_id, ''))")" 0
assert_eq csv_rows_all_joined "$(sql 'SELECT COUNT(*) FROM raw_job')" 1868

# Bad input: each file keeps its good rows; the exit status is 1.
use_names dims_bad
"$ADTALLY" schema apply --only mysql >/dev/null 2>&1
mkdir "$TMP/bad"
cp data/{company,group,master_publisher}.csv "$TMP/bad/"
sed '1s/budget_total/budget_totl/' data/campaign.csv >"$TMP/bad/campaign.csv"
{
    head -n 11 data/job.csv
    echo 'x12,admin,2022-06-19 14:14:00,,,1,Bad id,,,,,,,,,1,,,,,,,,,,,1,1,,'
    echo '13,admin,2022-06-19 14:14:00,,,1,Truncated'
    printf '14,admin,2022-06-19 14:14:00,,,1,Bad \xff\xfe text,,,,,,,,,1'
    printf ',,,,,,,,,,,1,1,,\n'
    tail -n +15 data/job.csv
} >"$TMP/bad/job.csv"
"$ADTALLY" dims load "$TMP/bad" 2>"$TMP/bad.log"
assert_eq bad_dims_exit_1 "$?" 1
log=$(cat "$TMP/bad.log")
assert_contains missing_column_named "$log" "campaign.csv:1: header has no column 'budget_total'"
assert_contains bad_id_named "$log" "job.csv:12: row rejected: id 'x12' is not an id"
assert_contains truncated_line_named "$log" "job.csv:13: row rejected: row has"
assert_contains invalid_utf8_named "$log" "job.csv:14: row rejected: invalid UTF-8"
# Lines 12 to 14 replaced three good rows of the 1,868.
assert_eq good_jobs_still_loaded "$(sql 'SELECT COUNT(*) FROM job')" 1865
assert_eq other_files_loaded "$(sql 'SELECT COUNT(*) FROM company')" 105

# A server that is down: a clear error naming it, and no hang (a hang
# would end in timeout's status 124, not the role's 1).
out=$(ADTALLY_MYSQL="mysql://root@127.0.0.1:1/x" timeout 120 "$ADTALLY" \
    dims load data 2>&1)
assert_eq mysql_down_exits_1 "$?" 1
assert_contains mysql_down_names_server "$out" "mysql 127.0.0.1:1"
out=$(timeout 120 "$ADTALLY" schema apply --only kafka --kafka 127.0.0.1:1 \
    2>&1)
assert_eq kafka_down_exits_1 "$?" 1
assert_contains kafka_down_names_server "$out" "kafka 127.0.0.1:1"

t_done
