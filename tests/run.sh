#!/usr/bin/env bash
# Runs every test: unit tests (ASan+UBSan), fuzz corpus replay, then the
# integration tests against the local stack. Ends with "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

export ROOT ADTALLY="$ROOT/build/adtally"
export MYSQL_HOST=127.0.0.1 MYSQL_PORT=${ADTALLY_MYSQL_PORT:-3306}
export KAFKA_BOOTSTRAP=127.0.0.1:${ADTALLY_KAFKA_PORT:-9092}
export CASSANDRA_HOST=127.0.0.1 CASSANDRA_PORT=${ADTALLY_CASSANDRA_PORT:-9042}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LOGDIR="$ROOT/build/test-logs"
mkdir -p "$LOGDIR"

passed=0
failed=0
failures=()

# count NAME LOGFILE STATUS: tallies PASS/FAIL lines of one test program.
count() {
    local name=$1 log=$2 status=$3 p f
    p=$(grep -c '^PASS ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    if ((status != 0 && f == 0)); then
        f=1
        echo "FAIL $name: exit status $status" >>"$log"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if ((f > 0)); then
        failures+=("$name")
        grep -v '^PASS ' "$log" | tail -n 40
    fi
    printf '%-40s %3d passed, %d failed\n' "$name" "$p" "$f"
}

only=${1:-}
if [[ -z $only || style == *"$only"* ]]; then
    log="$LOGDIR/style.log"
    if clang-format --dry-run -Werror $(find src tests fuzz bench \
        -name '*.[ch]') >"$log" 2>&1; then
        echo "PASS clang_format_clean" >>"$log"
    else
        echo "FAIL clang_format_clean: run make format" >>"$log"
    fi
    count style/clang-format "$log" 0
fi

for t in build/tests/test_*; do
    [[ -x $t ]] || continue
    name=unit/${t##*/}
    [[ -z $only || $name == *"$only"* ]] || continue
    "$t" >"$LOGDIR/unit_${t##*/}.log" 2>&1
    count "$name" "$LOGDIR/unit_${t##*/}.log" $?
done

for f in build/fuzz/fuzz_*; do
    [[ -x $f ]] || continue
    n=${f##*/fuzz_}
    name=fuzz/$n
    [[ -z $only || $name == *"$only"* ]] || continue
    log="$LOGDIR/fuzz_$n.log"
    if "$f" -runs=0 -artifact_prefix="$LOGDIR/fuzz_$n-" fuzz/corpus/"$n" \
        >"$log" 2>&1; then
        echo "PASS fuzz_replay_$n" >>"$log"
    else
        echo "FAIL fuzz_replay_$n: a corpus input crashed" >>"$log"
    fi
    count "$name" "$log" 0
done

for t in tests/integration/test_*.sh; do
    name=integration/$(basename "$t" .sh)
    [[ -z $only || $name == *"$only"* ]] || continue
    log="$LOGDIR/integration_$(basename "$t" .sh).log"
    timeout 900 bash "$t" >"$log" 2>&1
    count "$name" "$log" $?
done

echo
if ((${#failures[@]})); then
    echo "failed: ${failures[*]} (logs in build/test-logs/)"
fi
echo "$passed passed, $failed failed"
((failed == 0))
