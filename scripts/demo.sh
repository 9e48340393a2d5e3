#!/usr/bin/env bash
# make demo: the whole pipeline live on the local stack. Starts the servers,
# applies the schema, loads the platform's dimensions, starts the roles,
# imports the platform's real log, sends simulated traffic, and shows a live
# status line until Ctrl-C.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ADTALLY=$ROOT/build/adtally
LOGS=$ROOT/var/log/demo
RATE=${DEMO_RATE:-200}
mkdir -p "$LOGS"

say() { printf 'demo: %s\n' "$*" >&2; }
has_role() { "$ADTALLY" help | grep -q "^  $1 "; }

pids=()
stop_roles() {
    ((${#pids[@]})) || return 0
    say "stopping the roles (${#pids[@]} processes)"
    kill -TERM "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    pids=()
    say "the servers keep running; 'make down' stops them"
}
trap 'stop_roles; exit 0' INT TERM
trap stop_roles EXIT

# start NAME ARGS...: runs `adtally NAME ARGS` in the background.
start() {
    local name=$1
    shift
    "$ADTALLY" "$name" "$@" >>"$LOGS/$name.out" 2>"$LOGS/$name.log" &
    pids+=($!)
    say "started $name (pid $!, log var/log/demo/$name.log)"
}

stack/stack.sh up || exit 1
"$ADTALLY" schema apply || exit 1
"$ADTALLY" dims load data || exit 1

start process --status-interval 2
has_role archive && start archive
if has_role collect; then
    start collect --status-interval 2
    sleep 1
fi
has_role serve && start serve

if "$ADTALLY" import data/tracking.csv 2>"$LOGS/import.log"; then
    say "imported the platform's real log (data/tracking.csv)"
else
    say "the real log was imported before; see var/log/demo/import.log"
fi

if has_role simulate; then
    to=kafka
    has_role collect && to=http://127.0.0.1:8090
    start simulate --rate "$RATE" --duration 0 --to "$to"
fi
has_role serve && say "dashboard: http://127.0.0.1:8091/"
say "live tallies below; Ctrl-C stops the roles"

# field LOG PATTERN: the first capture of PATTERN on the newest status line
# of LOG (the roles log one every --status-interval seconds).
field() {
    grep ' status: \| status=' "$LOGS/$1.log" 2>/dev/null | tail -n 1 |
        sed -n "s/.*$2.*/\1/p"
}

while sleep 2; do
    line=$(mariadb -h 127.0.0.1 -P "${ADTALLY_MYSQL_PORT:-3306}" -uroot -N \
        adtally -e "SELECT CONCAT('rows ', COUNT(*), ', clicks ',
        COALESCE(SUM(clicks), 0), ', spend ', COALESCE(SUM(spend_hour), 0))
        FROM events" 2>/dev/null)
    rate=$(field process 'status: \([0-9.]*\) events\/s')
    lag=$(field process ', lag \([0-9]*\)')
    fresh=$(field process 'freshness p50 [0-9]* ms p95 \([0-9]*\) ms')
    rej=$(field collect 'rejected=\([0-9]*\)')
    printf '\rdemo: in %s ev/s, lag %s, freshness p95 %s ms, rejected %s | %s   ' \
        "${rate:--}" "${lag:--}" "${fresh:--}" "${rej:-0}" "${line:-mysql?}" >&2
done
