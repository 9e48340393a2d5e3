#!/usr/bin/env bash
# Collector figures: beacon GETs under wrk against nginx answering a static
# 204 with the same wrk settings; POST /events with 1 MiB batches; peak RSS
# of the collector under that load. Run by bench/run.sh (its environment).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ADTALLY=$ROOT/build/adtally
W=$ROOT/build/bench
PORT_NGINX=${BENCH_NGINX_PORT:-8097}
PORT_COLLECT=${BENCH_COLLECT_PORT:-8096}
WRK="-t2 -c32 -d10s"
mkdir -p "$W/nginx"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
reqs() { awk '/Requests\/sec/ { print $2 }' "$1"; }

cat >"$W/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/nginx;
    proxy_temp_path $W/nginx;
    fastcgi_temp_path $W/nginx;
    uwsgi_temp_path $W/nginx;
    scgi_temp_path $W/nginx;
    server {
        listen 127.0.0.1:$PORT_NGINX;
        location / { return 204; }
    }
}
NGINX
nginx -c "$W/nginx/nginx.conf" || { echo "bench: nginx did not start"; exit 1; }
trap 'kill $(cat "$W/nginx/nginx.pid") 2>/dev/null; kill $cpid 2>/dev/null' EXIT

"$ADTALLY" collect --listen "127.0.0.1:$PORT_COLLECT" ${BENCH_COLLECT_ARGS:-} \
    2>"$W/collect.log" &
cpid=$!
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT_COLLECT/healthz" >/dev/null && break
    sleep 0.1
done

path='/track?ts=2022-07-20%2010:00:00&job_id=188&custom_track=click&bid=1.5&uid=bench'
echo "== collect: beacon GETs, keep-alive, wrk $WRK, against nginx (static 204)"
wrk $WRK "http://127.0.0.1:$PORT_NGINX$path" >"$W/wrk_nginx.txt" 2>&1
wrk $WRK "http://127.0.0.1:$PORT_COLLECT$path" >"$W/wrk_collect.txt" 2>&1
echo "collect_beacons_per_s $(reqs "$W/wrk_collect.txt")"
echo "nginx_204_per_s $(reqs "$W/wrk_nginx.txt")"
echo "collect_vs_nginx_ratio $(ratio "$(reqs "$W/wrk_collect.txt")" \
    "$(reqs "$W/wrk_nginx.txt")") (goal >= 0.5)"

echo "== collect: POST /events with 1 MiB batches"
head -c 1000000 "$W/in.ndjson" | head -n -1 >"$W/batch.ndjson"
n=$(wc -l <"$W/batch.ndjson")
t0=$(date +%s.%N)
seq 16 | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$W/batch.ndjson" \
    "http://127.0.0.1:$PORT_COLLECT/events" >"$W/post_codes.txt"
secs=$(echo "$(date +%s.%N) - $t0" | bc)
ok=$(grep -c '^2' "$W/post_codes.txt")
echo "collect_post_events_per_s $(awk -v n=$((n * ok)) -v s="$secs" \
    'BEGIN { printf "%.0f", n / s }') ($ok of 16 batches of $n events acknowledged)"
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$cpid/status")
echo "collect_peak_rss_kib $rss (goal <= 65536)"
echo "collect_rss_vs_64mib_ratio $(ratio "$rss" 65536)"
