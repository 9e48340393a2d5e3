#!/usr/bin/env bash
# serve, end to end: the built page in headless Chromium against a running
# `adtally serve` over the real log (tests/e2e/dashboard.mjs): the numbers
# shown equal MySQL's, follow new events, and a screenshot is kept in
# build/test-artifacts/.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

[[ -x /usr/bin/chromium ]] ||
    fail chromium_installed "no /usr/bin/chromium (make deps)"
[[ -f web/dist/index.html && -d web/node_modules/playwright-core ]] ||
    fail web_built "no web/dist or web/node_modules (make web)"
((T_FAILED == 0)) || t_done

use_names serve_e2e
{ "$ADTALLY" schema apply --only mysql && "$ADTALLY" schema apply \
    --only kafka && "$ADTALLY" dims load data &&
    "$ADTALLY" import data/tracking.csv &&
    "$ADTALLY" process --drain --status-interval 0; } >"$TMP/load.log" 2>&1 ||
    fail load_real_log "$(tail -n 5 "$TMP/load.log")"

"$ADTALLY" serve --listen 127.0.0.1:0 --web-dir "$ROOT/web/dist" \
    --status-interval 0 2>"$TMP/serve.log" &
pid=$!
wait_for 10 grep -q 'listening on' "$TMP/serve.log" ||
    fail serve_starts "$(tail -n 3 "$TMP/serve.log")"
port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$TMP/serve.log")

BASE_URL=http://127.0.0.1:$port ARTIFACTS=$ROOT/build/test-artifacts \
    MYSQL_DB=$MYSQL_DB timeout 300 node tests/e2e/dashboard.mjs
assert_eq e2e_exits_0 "$?" 0
assert_eq screenshot_saved \
    "$(test -s build/test-artifacts/serve-dashboard.png && echo yes)" yes
assert_eq serve_survived "$(kill -0 "$pid" 2>&1 && echo up)" up
kill -TERM "$pid"
wait "$pid"
assert_eq serve_exits_0 "$?" 0

t_done
