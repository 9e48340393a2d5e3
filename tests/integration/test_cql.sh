#!/usr/bin/env bash
# Integration: the CQL client against the local Cassandra (round trip,
# server error texts, `schema apply`), then a server restart it survives.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

HOSTS=${CASSANDRA_HOST:-127.0.0.1}:${CASSANDRA_PORT:-9042}
CUSER=${ADTALLY_CASSANDRA_USER:-cassandra}
CPASS=${ADTALLY_CASSANDRA_PASSWORD:-cassandra}
KS=adtally_cqltest
SCHEMA_KS=adtally_cqltest_schema
PROBE=build/integration/cql_probe
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"

# Built here, with ASan and UBSan, until the Makefile has a rule for it.
build_probe() {
  local src=(tests/integration/cql_probe.c src/client/cql_*.c src/util/log.c
             src/util/buf.c)
  if [[ -x $PROBE && -z $(find "${src[@]}" src/client/cql*.h \
        -newer "$PROBE") ]]; then
    return 0
  fi
  mkdir -p "${PROBE%/*}"
  ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
    -fsanitize=address,undefined -fno-omit-frame-pointer -Isrc \
    -o "$PROBE" "${src[@]}"
}

probe() { "$PROBE" -c "$HOSTS" -u "$CUSER" -p "$CPASS" "$@"; }

# cql STATEMENT: its rows, tab-separated, then "ok N" or "error RC: text".
cql() { probe shell <<<"$1" 2>/dev/null; }

if ! build_probe; then
  fail cql_probe_builds "the compiler refused tests/integration/cql_probe.c"
  t_done
fi

# The round trip prints its own PASS and FAIL lines.
out=$(probe roundtrip "$KS" 2>&1)
status=$?
grep -E '^(PASS|FAIL) ' <<<"$out"
((status == 0)) || fail roundtrip_exit_status \
  "exit $status: $(grep -v '^PASS ' <<<"$out" | tail -n 5)"

out=$(cql "SELECT * FROM $KS.no_such_table_xyz")
assert_contains bad_query_is_invalid "$out" "invalid query (0x2200)"
assert_contains bad_query_server_text "$out" "no_such_table_xyz"
out=$(cql "SELEC release_version FROM system.local")
assert_contains syntax_error_server_text "$out" \
  "syntax error (0x2000): line 1:0"

out=$("$PROBE" -c "$HOSTS" -u "$CUSER" -p not-the-password-42 shell \
  <<<"SELECT release_version FROM system.local" 2>&1)
assert_contains bad_login_server_text "$out" \
  "Provided username $CUSER and/or password are incorrect"
assert_contains bad_login_is_auth_error "$out" "authentication failed (0x0100)"
if [[ $out == *not-the-password-42* ]]; then
  fail bad_login_hides_password "the password appears in the output"
else
  pass bad_login_hides_password
fi

# schema apply: the lake table as DESIGN §5 has it, and a second run is a
# no-op.
cql "DROP KEYSPACE IF EXISTS $SCHEMA_KS" >/dev/null
assert_ok schema_apply_creates "$ADTALLY" schema apply --only cassandra \
  --keyspace "$SCHEMA_KS" --cassandra "$HOSTS"
out=$("$ADTALLY" schema apply --only cassandra --keyspace "$SCHEMA_KS" \
  --cassandra "$HOSTS" 2>&1)
assert_contains schema_apply_again_is_noop "$out" "is up to date (version 1)"
out=$(cql "SELECT version FROM $SCHEMA_KS.schema_version")
assert_eq schema_version_recorded "$out" $'1\nok 1'
out=$(cql "SELECT column_name, kind, type FROM system_schema.columns \
WHERE keyspace_name = '$SCHEMA_KS' AND table_name = 'tracking'")
assert_contains lake_hour_partition_key "$out" $'hour\tpartition_key\ttimestamp'
assert_contains lake_bucket_partition_key "$out" \
  $'bucket\tpartition_key\tsmallint'
assert_contains lake_create_time_clusters "$out" \
  $'create_time\tclustering\ttimeuuid'
assert_contains lake_bid_decimal "$out" $'bid\tregular\tdecimal'
assert_contains lake_archived_at "$out" $'archived_at\tregular\ttimestamp'
assert_eq lake_column_count "$(grep -c $'\t' <<<"$out")" 32
cql "DROP KEYSPACE IF EXISTS $SCHEMA_KS" >/dev/null
cql "DROP KEYSPACE IF EXISTS $KS" >/dev/null

# A server restart: the request on the dead connection fails cleanly, the
# next one reconnects. One probe process lives through the restart.
coproc PSHELL { probe shell 2>"$LOGDIR/cql_probe_restart.log"; }

# ask STATEMENT: sends it to the probe, prints its answer lines.
ask() {
  local line
  echo "$1" >&"${PSHELL[1]}"
  while IFS= read -r -t 120 line <&"${PSHELL[0]}"; do
    echo "$line"
    [[ $line == ok\ * || $line == error\ * ]] && return 0
  done
  echo "no answer from cql_probe"
}

q="SELECT release_version FROM system.local"
assert_contains query_before_restart "$(ask "$q")" "ok 1"
if stack/stack.sh restart cassandra >"$LOGDIR/cql_restart.log" 2>&1; then
  pass cassandra_restarted
else
  fail cassandra_restarted "$(tail -n 5 "$LOGDIR/cql_restart.log")"
fi
out=$(ask "$q")
assert_contains request_on_dead_connection_fails "$out" "connection lost"
assert_contains next_request_reconnects "$(ask "$q")" "ok 1"
fd=${PSHELL[1]}
exec {fd}>&-
wait "$PSHELL_PID"
log=$(cat "$LOGDIR/cql_probe_restart.log")
assert_contains restart_logs_lost "$log" "warn cql: lost connection to"
assert_eq restart_logs_two_connects "$(grep -c 'info cql: connected' <<<"$log")" 2

t_done
