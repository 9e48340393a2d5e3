#!/usr/bin/env bash
# Starts, stops and checks the local Kafka, Cassandra and MariaDB servers, with all their state under var/.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$ROOT/stack
CONF=$STACK/conf
LIB=$STACK/lib
VAR=${ADTALLY_STACK_VAR:-$ROOT/var}
RUN=$VAR/run
LOGS=$VAR/log
SERVICES=(kafka cassandra mariadb)

KAFKA_PORT=${ADTALLY_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${ADTALLY_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HEAP=${ADTALLY_KAFKA_HEAP:-768m}
CASSANDRA_PORT=${ADTALLY_CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${ADTALLY_CASSANDRA_STORAGE_PORT:-7000}
CASSANDRA_JMX_PORT=${ADTALLY_CASSANDRA_JMX_PORT:-7199}
CASSANDRA_HEAP=${ADTALLY_CASSANDRA_HEAP:-1g}
CASSANDRA_USER=${ADTALLY_CASSANDRA_USER:-cassandra}
CASSANDRA_PASSWORD=${ADTALLY_CASSANDRA_PASSWORD:-cassandra}
MYSQL_PORT=${ADTALLY_MYSQL_PORT:-3306}

# Seconds to wait for each server to answer in its own protocol.
declare -A WAIT=(
  [kafka]=${ADTALLY_KAFKA_WAIT:-90}
  [cassandra]=${ADTALLY_CASSANDRA_WAIT:-180}
  [mariadb]=${ADTALLY_MYSQL_WAIT:-60}
)
# Seconds to wait after SIGTERM before SIGKILL.
STOP_WAIT=${ADTALLY_STACK_STOP_WAIT:-60}

say() { printf 'stack: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
rel() { printf '%s' "${1#"$ROOT"/}"; }
now_ms() { date +%s%3N; }
secs_since() { # ms timestamp -> "12.3s"
  local d=$(($(now_ms) - $1))
  printf '%d.%ds' $((d / 1000)) $((d % 1000 / 100))
}

pid_file() { printf '%s/%s.pid' "$RUN" "$1"; }
log_file() { printf '%s/%s.log' "$LOGS" "$1"; }
data_dir() { printf '%s/%s/data' "$VAR" "$1"; }

port_of() {
  case $1 in
    kafka) echo "$KAFKA_PORT" ;;
    cassandra) echo "$CASSANDRA_PORT" ;;
    mariadb) echo "$MYSQL_PORT" ;;
  esac
}

# Every port the server will listen on (the client one first).
all_ports_of() {
  case $1 in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    cassandra) echo "$CASSANDRA_PORT $CASSANDRA_STORAGE_PORT ${CASSANDRA_JMX_PORT#0}" ;;
    mariadb) echo "$MYSQL_PORT" ;;
  esac
}

# Every server's command line names its generated config file under var/; that
# string tells our process apart from a stranger that got a recycled pid.
marker_of() {
  case $1 in
    kafka) echo "$VAR/kafka/server.properties" ;;
    cassandra) echo "$VAR/cassandra/cassandra.yaml" ;;
    mariadb) echo "$VAR/mariadb/my.cnf" ;;
  esac
}

is_ours() { # pid svc
  local pid=$1 cmd
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$(marker_of "$2")"* ]]
}

# Pid of the running server, from its pid file, or else found by its command
# line (a lost pid file is rewritten). Prints nothing when it is not running.
running_pid() {
  local svc=$1 pf pid='' p
  pf=$(pid_file "$svc")
  [[ -f $pf ]] && pid=$(<"$pf")
  if is_ours "$pid" "$svc"; then
    echo "$pid"
    return
  fi
  rm -f "$pf"
  # shellcheck disable=SC2013  # one pid per line, no spaces
  for p in $(grep -lsF -- "$(marker_of "$svc")" /proc/[0-9]*/cmdline | cut -d/ -f3); do
    [[ $p != "$$" && $p != "$BASHPID" ]] || continue
    case $(cat "/proc/$p/comm" 2>/dev/null) in java | mariadbd) ;; *) continue ;; esac
    if is_ours "$p" "$svc"; then
      mkdir -p "$RUN"
      echo "$p" >"$pf"
      echo "$p"
      return
    fi
  done
}

port_open() { # port: something accepts TCP connections on 127.0.0.1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when process pid listens on TCP port (any local address): a ready
# answer on the port is then really from our server, not from a stranger.
owns_port() { # pid port
  local pid=$1 ino fds
  local -a inodes
  mapfile -t inodes < <(awk -v p="$(printf ':%04X' "$2")" \
    '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  ((${#inodes[@]})) || return 1
  fds=$(ls -l "/proc/$pid/fd" 2>/dev/null) || return 1
  for ino in "${inodes[@]}"; do
    [[ $fds == *"socket:[$ino]"* ]] && return 0
  done
  return 1
}

# Kafka 4.1 needs Java 17 or later and Cassandra 5.0 runs on 11 or 17 only,
# so Debian's OpenJDK 17 comes before whatever JAVA_HOME or PATH offer.
java_bin() {
  local home
  for home in "${ADTALLY_JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-* "${JAVA_HOME:-}"; do
    if [[ -n $home && -x $home/bin/java ]]; then
      echo "$home/bin/java"
      return
    fi
  done
  command -v java || die "no java found (install openjdk-17-jre-headless or set ADTALLY_JAVA_HOME)"
}

need_jars() {
  compgen -G "$LIB/$1/*.jar" >/dev/null || die "no jars in $(rel "$LIB/$1"); run stack/deps.sh first"
}

fill() { # template output NAME=value...: replace @NAME@ fields
  local tmpl=$1 out=$2 kv expr=()
  shift 2
  for kv in "$@"; do
    expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
  done
  sed "${expr[@]}" "$tmpl" >"$out.tmp"
  mv "$out.tmp" "$out"
}

# Starts a command detached from this shell (own session, stdin closed),
# appending its output to the service log; records and prints its pid.
launch() { # svc dir cmd...
  local svc=$1 dir=$2 log pid
  shift 2
  log=$(log_file "$svc")
  printf '\n===== stack: starting %s at %s =====\n' "$svc" "$(date -u '+%F %T UTC')" >>"$log"
  # fd 9 is the lock of this script: the server must not keep it.
  (cd "$dir" && exec setsid "$@" </dev/null >>"$log" 2>&1 9>&-) &
  pid=$!
  echo "$pid" >"$(pid_file "$svc")"
  echo "$pid"
}

# ---------------------------------------------------------------- readiness

# Kafka: the broker answers a metadata request and lists itself.
kafka_ready() {
  local out
  # kcat waits out its whole timeout on a closed port: check that first.
  port_open "$KAFKA_PORT" || { echo "port $KAFKA_PORT not accepting connections"; return 1; }
  out=$(timeout 10 kcat -b "127.0.0.1:$KAFKA_PORT" -L -t __adtally_ready_probe -m 3 2>&1) || {
    printf '%s' "$out" | tail -n 1
    return 1
  }
  [[ $out == *"1 brokers:"* ]] || { echo "metadata lists no broker"; return 1; }
}

# MariaDB: root logs in over TCP without a password and runs a query.
mariadb_ready() {
  local out
  out=$(mariadb --no-defaults --connect-timeout=3 -h127.0.0.1 -P"$MYSQL_PORT" -uroot \
    -N -B -e 'select 1' 2>&1) || {
    printf '%s' "$out" | tail -n 1
    return 1
  }
  [[ $out == 1 ]] || { echo "unexpected answer: $out"; return 1; }
}

# Cassandra: a CQL v4 session that logs in and reads system.local; see
# cql_probe below, run in a child so that a silent server cannot hang us.
cassandra_ready() {
  timeout 15 bash "$STACK/stack.sh" _cqlprobe 127.0.0.1 "$CASSANDRA_PORT" \
    "$CASSANDRA_USER" "$CASSANDRA_PASSWORD" 2>&1 || return 1
}

ready() { "$1_ready"; }

# ------------------------------------------------------ a tiny CQL v4 client

hex_of() { # string -> hex of its bytes
  local LC_ALL=C s=$1 i out=
  for ((i = 0; i < ${#s}; i++)); do
    printf -v out '%s%02x' "$out" "'${s:i:1}"
  done
  printf '%s' "$out"
}

cql_send() { # opcode body-hex: one frame on fd 3, stream 1
  local op=$1 body=$2 frame esc='' i
  printf -v frame '0400%04x%s%08x%s' 1 "$op" $((${#body} / 2)) "$body"
  for ((i = 0; i < ${#frame}; i += 2)); do esc+="\\x${frame:i:2}"; done
  # shellcheck disable=SC2059  # the format is the frame itself
  printf "$esc" >&3
}

cql_recv() { # -> sets OPCODE and BODY (hex) from one frame on fd 3
  local hdr len
  hdr=$(dd bs=1 count=9 <&3 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
  ((${#hdr} == 18)) || { echo "connection closed by server"; return 1; }
  OPCODE=${hdr:8:2}
  len=$((16#${hdr:10:8}))
  BODY=
  if ((len > 0)); then
    BODY=$(dd bs=1 count="$len" <&3 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
  fi
}

cql_error() { # BODY of an ERROR frame -> "code 0x..: message"
  local code=${BODY:0:8} n=$((16#${BODY:8:4})) msg=${BODY:12} i text=
  msg=${msg:0:n*2}
  for ((i = 0; i < ${#msg}; i += 2)); do text+="\\x${msg:i:2}"; done
  # shellcheck disable=SC2059
  printf 'server error 0x%s: %b' "$code" "$text"
}

cql_probe() { # host port user password
  local host=$1 port=$2 user=$3 pass=$4 query body
  { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || { echo "port $port not accepting connections"; return 1; }
  # STARTUP {CQL_VERSION: 3.0.0}
  body=0001$(printf '%04x' 11)$(hex_of CQL_VERSION)$(printf '%04x' 5)$(hex_of 3.0.0)
  cql_send 01 "$body"
  cql_recv || return 1
  case $OPCODE in
    02) ;; # READY: no authentication configured
    03)    # AUTHENTICATE: SASL PLAIN with user and password
      body=00$(hex_of "$user")00$(hex_of "$pass")
      cql_send 0f "$(printf '%08x' $((${#body} / 2)))$body"
      cql_recv || return 1
      case $OPCODE in
        10) ;;
        00) cql_error; echo " (login as $user)"; return 1 ;;
        *) echo "unexpected reply 0x$OPCODE to login"; return 1 ;;
      esac
      ;;
    00) cql_error; echo; return 1 ;;
    *) echo "unexpected reply 0x$OPCODE to STARTUP"; return 1 ;;
  esac
  query=$(hex_of "SELECT release_version FROM system.local")
  # QUERY: long string, consistency ONE, no flags
  cql_send 07 "$(printf '%08x' $((${#query} / 2)))${query}000100"
  cql_recv || return 1
  case $OPCODE in
    08) ;;
    00) cql_error; echo; return 1 ;;
    *) echo "unexpected reply 0x$OPCODE to QUERY"; return 1 ;;
  esac
  exec 3<&-
}

# ------------------------------------------------------------------- kafka

kafka_start() {
  local java dir data cid
  need_jars kafka
  command -v kcat >/dev/null || die "kcat not found; run stack/deps.sh"
  java=$(java_bin)
  dir=$VAR/kafka
  data=$(data_dir kafka)
  mkdir -p "$data"
  fill "$CONF/kafka.properties.in" "$dir/server.properties" \
    "PORT=$KAFKA_PORT" "CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" "DATA_DIR=$data"
  if [[ ! -f $data/meta.properties ]]; then
    # A random cluster id, base64url of 16 bytes; not starting with '-', which
    # the tool's argument parser would take for an option.
    cid=-
    while [[ $cid == -* ]]; do
      cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    say "kafka: formatting $(rel "$data") (cluster id $cid)"
    "$java" -Xmx256m -Dlog4j2.configurationFile="$CONF/kafka-tools-log4j2.properties" \
      -cp "$LIB/kafka/*" kafka.tools.StorageTool format -t "$cid" \
      -c "$dir/server.properties" >>"$(log_file kafka)" 2>&1 ||
      die "kafka: formatting the storage failed; see $(rel "$(log_file kafka)")"
  fi
  launch kafka "$dir" "$java" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF/kafka-log4j2.properties" \
    -Dkafka.logs.dir="$LOGS" \
    -cp "$LIB/kafka/*" kafka.Kafka "$dir/server.properties"
}

# --------------------------------------------------------------- cassandra

cassandra_start() {
  local java dir jamm
  need_jars cassandra
  java=$(java_bin)
  dir=$VAR/cassandra
  mkdir -p "$dir/data" "$dir/triggers"
  jamm=$(compgen -G "$LIB/cassandra/jamm-*.jar" | head -n 1) || die "no jamm jar in $(rel "$LIB/cassandra")"
  fill "$CONF/cassandra.yaml.in" "$dir/cassandra.yaml" \
    "DATA_DIR=$dir/data" "NATIVE_PORT=$CASSANDRA_PORT" "STORAGE_PORT=$CASSANDRA_STORAGE_PORT"
  local -a opts=(
    "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300
    -XX:InitiatingHeapOccupancyPercent=70
    -XX:+UseThreadPriorities -XX:+PerfDisableSharedMem -XX:+ExitOnOutOfMemoryError
    -ea -da:net.openhft...
    -Djava.net.preferIPv4Stack=true
    -Djdk.attach.allowAttachSelf=true
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    # The module openings Cassandra 5.0 needs on Java 17.
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    "-javaagent:$jamm"
    "-Dcassandra.config=file://$dir/cassandra.yaml"
    -Dcassandra-foreground=yes
    "-Dcassandra.storagedir=$dir/data"
    "-Dcassandra.logdir=$LOGS"
    "-Dcassandra.triggers_dir=$dir/triggers"
    "-Dlogback.configurationFile=$CONF/cassandra-logback.xml"
    # Fast start and stop of a lone node: no waiting for gossip or for a ring
    # to form, no pause to announce the shutdown to peers, the default
    # superuser made at once, cheap password hashes for tests, and no forced
    # flushes of the system tables.
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=100
    -Dcassandra.shutdown_announce_in_ms=0
    -Dcassandra.superuser_setup_delay_ms=0
    -Dcassandra.auth_bcrypt_gensalt_log2_rounds=4
    -Dcassandra.unsafesystem=true
  )
  if [[ -n $CASSANDRA_JMX_PORT && $CASSANDRA_JMX_PORT != 0 ]]; then
    opts+=("-Dcassandra.jmx.local.port=$CASSANDRA_JMX_PORT")
  fi
  launch cassandra "$dir" "$java" "${opts[@]}" \
    -cp "$LIB/cassandra/*" org.apache.cassandra.service.CassandraDaemon
}

# ----------------------------------------------------------------- mariadb

mariadb_start() {
  local dir data log
  command -v mariadbd >/dev/null || die "mariadbd not found; run stack/deps.sh"
  dir=$VAR/mariadb
  data=$(data_dir mariadb)
  log=$(log_file mariadb)
  mkdir -p "$dir/tmp"
  fill "$CONF/mariadb.cnf.in" "$dir/my.cnf" \
    "DATA_DIR=$data" "SOCKET=$RUN/mariadb.sock" "SERVER_PID_FILE=$dir/mariadbd.pid" \
    "TMP_DIR=$dir/tmp" "PORT=$MYSQL_PORT"
  if [[ ! -f $dir/installed ]]; then
    say "mariadb: creating the system tables in $(rel "$data")"
    rm -rf "$data"
    mkdir -p "$data"
    # 'normal' makes root@localhost, root@127.0.0.1 and root@::1 with no
    # password; mariadb_ready proves the TCP one works.
    mariadb-install-db --defaults-file="$dir/my.cnf" --user=root \
      --auth-root-authentication-method=normal --skip-test-db >>"$log" 2>&1 ||
      die "mariadb: mariadb-install-db failed; see $(rel "$log")"
    : >"$dir/installed"
  fi
  launch mariadb "$dir" mariadbd --defaults-file="$dir/my.cnf"
}

# ---------------------------------------------------------------- commands

# The end of the server's log since its latest start, indented, on stderr.
last_lines() {
  tac "$(log_file "$1")" | sed '/^===== stack: starting /q' | tac | tail -n 25 | sed 's/^/    /' >&2
}

# Brings one server up and waits until it answers; a no-op when it already is.
svc_up() {
  local svc=$1 t0 pid port log reason='' deadline p
  t0=$(now_ms)
  port=$(port_of "$svc")
  log=$(rel "$(log_file "$svc")")
  pid=$(running_pid "$svc")
  if [[ -n $pid ]]; then
    if reason=$(ready "$svc") && owns_port "$pid" "$port"; then
      say "$svc already up (pid $pid, port $port, log $log)"
      return 0
    fi
    say "$svc is running (pid $pid) but not ready yet; waiting"
  else
    # A server that was just killed may hold its ports for a moment.
    deadline=$((SECONDS + 5))
    for p in $(all_ports_of "$svc"); do
      while port_open "$p"; do
        if ((SECONDS >= deadline)); then
          say "error: $svc: port $p is already taken by another process; stop it or set other ports (stack.sh help)"
          return 1
        fi
        sleep 0.2
      done
    done
    pid=$("${svc}_start")
  fi
  deadline=$((SECONDS + WAIT[$svc]))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      pid=$(running_pid "$svc") # in case setsid forked
      if [[ -z $pid ]]; then
        say "error: $svc exited during startup; see $log. Its last lines:"
        last_lines "$svc"
        return 1
      fi
    fi
    if reason=$(ready "$svc"); then
      if owns_port "$pid" "$port"; then
        say "$svc up in $(secs_since "$t0") (pid $pid, port $port, log $log)"
        return 0
      fi
      reason="port $port answers but pid $pid does not listen on it"
    fi
    sleep 0.5
  done
  say "error: $svc not ready after ${WAIT[$svc]}s (pid $pid still running; last check: ${reason:-none}); see $log. Its last lines:"
  last_lines "$svc"
  return 1
}

svc_down() {
  local svc=$1 pid t0 deadline
  pid=$(running_pid "$svc")
  if [[ -z $pid ]]; then
    rm -f "$(pid_file "$svc")"
    say "$svc already down"
    return 0
  fi
  t0=$(now_ms)
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_WAIT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$svc (pid $pid) still running ${STOP_WAIT}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$(pid_file "$svc")"
  say "$svc down in $(secs_since "$t0") (was pid $pid)"
}

svc_status() {
  local svc=$1 pid port log reason
  port=$(port_of "$svc")
  log=$(rel "$(log_file "$svc")")
  pid=$(running_pid "$svc")
  if [[ -z $pid ]]; then
    printf '%-10s down     pid -       port %-6s log %s\n' "$svc" "$port" "$log"
    return 1
  fi
  if reason=$(ready "$svc"); then
    if owns_port "$pid" "$port"; then
      printf '%-10s up       pid %-7s port %-6s log %s\n' "$svc" "$pid" "$port" "$log"
      return 0
    fi
    reason="port $port answers but pid $pid does not listen on it"
  fi
  printf '%-10s starting pid %-7s port %-6s log %s (not ready: %s)\n' "$svc" "$pid" "$port" "$log" "$reason"
  return 1
}

# Runs `stack.sh _<fn> svc` for each service in parallel; fails when any
# failed. Each is its own bash process so that `set -e` holds inside it (bash
# ignores it in functions called from a condition).
each_parallel() { # fn svc...
  local fn=$1 svc rc=0
  shift
  local -A jobs=()
  for svc in "$@"; do
    bash "$STACK/stack.sh" "_$fn" "$svc" &
    jobs[$svc]=$!
  done
  for svc in "$@"; do
    wait "${jobs[$svc]}" || rc=1
  done
  return $rc
}

usage() {
  cat >&2 <<EOF
usage: stack/stack.sh up|down|status|restart [kafka|cassandra|mariadb ...]
  up       start the servers (all by default) and wait until each answers
  down     stop them (SIGTERM, then SIGKILL after ${STOP_WAIT}s)
  status   one line per server; exits non-zero when any is not up
  restart  down, then up
State: $(rel "$VAR")/<server>/data, logs $(rel "$LOGS")/<server>.log, pids $(rel "$RUN")/<server>.pid
Ports: ADTALLY_KAFKA_PORT ($KAFKA_PORT), ADTALLY_KAFKA_CONTROLLER_PORT ($KAFKA_CONTROLLER_PORT),
       ADTALLY_CASSANDRA_PORT ($CASSANDRA_PORT), ADTALLY_CASSANDRA_STORAGE_PORT ($CASSANDRA_STORAGE_PORT),
       ADTALLY_CASSANDRA_JMX_PORT ($CASSANDRA_JMX_PORT, 0 for none), ADTALLY_MYSQL_PORT ($MYSQL_PORT)
Also:  ADTALLY_KAFKA_HEAP ($KAFKA_HEAP), ADTALLY_CASSANDRA_HEAP ($CASSANDRA_HEAP),
       ADTALLY_KAFKA_WAIT, ADTALLY_CASSANDRA_WAIT, ADTALLY_MYSQL_WAIT (start timeouts, s),
       ADTALLY_STACK_STOP_WAIT, ADTALLY_STACK_VAR (state folder), ADTALLY_JAVA_HOME (a JDK 17)
EOF
}

main() {
  local cmd=${1:-} svc t0 rc=0
  shift || true
  case $cmd in
    _cqlprobe) cql_probe "$@"; return ;;
    _svc_up | _svc_down) "${cmd#_}" "$1"; return ;;
    up | down | restart | status) ;;
    -h | --help | help) usage; return ;;
    '') usage; exit 2 ;;
    *) usage; die "unknown command '$cmd'" ;;
  esac
  local -a svcs=("$@")
  ((${#svcs[@]})) || svcs=("${SERVICES[@]}")
  for svc in "${svcs[@]}"; do
    [[ " ${SERVICES[*]} " == *" $svc "* ]] || { usage; die "unknown server '$svc'"; }
  done
  mkdir -p "$RUN" "$LOGS"
  # One up/down/restart at a time per state folder (make -j, two terminals).
  if [[ $cmd == up || $cmd == down || $cmd == restart ]]; then
    exec 9>"$RUN/stack.lock"
    if ! flock -n 9; then
      say "waiting for another stack.sh to finish"
      flock -w 600 9 || die "another stack.sh held $(rel "$RUN")/stack.lock for 10 minutes"
    fi
  fi
  t0=$(now_ms)
  case $cmd in
    up)
      each_parallel svc_up "${svcs[@]}" || die "not all servers came up"
      say "ready in $(secs_since "$t0"): ${svcs[*]}"
      ;;
    down) each_parallel svc_down "${svcs[@]}" ;;
    restart)
      each_parallel svc_down "${svcs[@]}"
      each_parallel svc_up "${svcs[@]}" || die "not all servers came back"
      say "restarted in $(secs_since "$t0"): ${svcs[*]}"
      ;;
    status)
      for svc in "${svcs[@]}"; do svc_status "$svc" || rc=1; done
      return $rc
      ;;
  esac
}

main "$@"
