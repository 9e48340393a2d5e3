#!/usr/bin/env bash
# Installs what the local stack and the build need: Debian packages, then the Kafka and Cassandra jars into stack/lib/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$ROOT/stack
LIB=$STACK/lib
M2=$ROOT/.cache/m2
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

# Debian packages: build and test tools for the C code, plus the servers and
# clients the stack runs (MariaDB, kcat, a JRE and Maven for Kafka/Cassandra).
PACKAGES=(
  librdkafka-dev libmariadb-dev libssl-dev
  mariadb-server mariadb-client kcat
  clang clang-format libclang-rt-14-dev libfuzzer-14-dev
  wrk nginx-light jq curl
  openjdk-17-jre-headless maven
  chromium
)
# The dashboard page is built with npm (make web); Debian ships npm apart
# from nodejs, while a NodeSource nodejs carries its own and conflicts.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

say() { printf 'deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

missing_packages() {
  local name status
  # Unknown packages make dpkg-query exit non-zero; they count as missing.
  declare -A state=()
  while read -r name status; do
    state[${name%%:*}]=$status
  done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  for name in "${PACKAGES[@]}"; do
    [[ ${state[$name]:-} == installed ]] || printf '%s\n' "$name"
  done
}

install_packages() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    say "Debian packages: all ${#PACKAGES[@]} installed"
    return
  fi
  say "Debian packages missing: ${missing[*]}"
  # The stack runs its own servers; keep apt from starting mariadb or nginx
  # as system services while installing them.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    say "creating /usr/sbin/policy-rc.d (exit 101) so apt starts no services"
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
    die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) || die "still not installed after apt-get: ${missing[*]}"
  say "Debian packages: installed"
}

# One Maven profile's dependencies into stack/lib/<profile>, replaced whole so
# that jars dropped from the pom do not linger.
copy_jars() {
  local profile=$1 dest=$LIB/$1 tmp=$LIB/.$1.new
  rm -rf "$tmp"
  say "Maven: fetching the $profile jars into stack/lib/$profile"
  # Debian's Maven 3.8 prints colour resets even in batch mode: strip them.
  if ! mvn -q -B -Dstyle.color=never -f "$STACK/pom.xml" -Dmaven.repo.local="$M2" -P"$profile" \
       "$DEP_PLUGIN:copy-dependencies" -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 |
       sed -u 's/\x1b\[[0-9;]*m//g' >&2; then
    rm -rf "$tmp"
    die "mvn failed for profile $profile"
  fi
  compgen -G "$tmp/*.jar" >/dev/null || die "mvn produced no jars for profile $profile"
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

install_jars() {
  command -v mvn >/dev/null 2>&1 || die "mvn not found"
  local hash stamp
  hash=$(sha256sum "$STACK/pom.xml" | cut -c1-16)
  stamp=$LIB/.stamp-$hash
  if [[ -e $stamp ]] && compgen -G "$LIB/kafka/*.jar" >/dev/null &&
     compgen -G "$LIB/cassandra/*.jar" >/dev/null; then
    say "jars: stack/lib is up to date with pom.xml ($hash)"
    return
  fi
  mkdir -p "$LIB" "$M2"
  copy_jars kafka
  copy_jars cassandra
  rm -f "$LIB"/.stamp-*
  : >"$stamp"
  say "jars: $(find "$LIB/kafka" -name "*.jar" | wc -l) in stack/lib/kafka, $(find "$LIB/cassandra" -name "*.jar" | wc -l) in stack/lib/cassandra"
}


# ---- The batch job and the scheduler (spark/, dags/) ----------------------
# Two Python virtual environments from PyPI, each pinned whole by its
# requirements file: .venv-spark (PySpark, PyMySQL, confluent-kafka) and
# .venv-airflow (Airflow 2.10). Downloads are cached in .cache/pip; a venv
# whose requirements and Python are unchanged is left as it is. The Spark
# job's jars (profile `spark` of stack/pom.xml) go to stack/lib/spark.
PIP_CACHE=$ROOT/.cache/pip

# Python 3 with its venv module (Debian ships that apart).
ensure_python_venv() {
  if command -v python3 >/dev/null 2>&1 &&
     python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    return
  fi
  say "installing python3 and python3-venv"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
    die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    python3 python3-venv || die "apt-get install python3-venv failed"
}

# make_venv DIR REQUIREMENTS: DIR holds exactly REQUIREMENTS.
make_venv() {
  local dir=$1 req=$2 want have="" py
  py=$(python3 -c 'import sys; print(sys.version.split()[0])')
  want="$(sha256sum "$req" | cut -c1-16) $py"
  [[ -r $dir/.adtally-stamp ]] && have=$(<"$dir/.adtally-stamp")
  if [[ $have == "$want" && -x $dir/bin/python ]]; then
    say "venv: ${dir#"$ROOT"/} is up to date with ${req#"$ROOT"/}"
    return
  fi
  say "venv: building ${dir#"$ROOT"/} from ${req#"$ROOT"/}"
  rm -rf "$dir"
  python3 -m venv "$dir" || die "python3 -m venv $dir failed"
  mkdir -p "$PIP_CACHE"
  if ! "$dir/bin/pip" install -q --disable-pip-version-check \
       --cache-dir "$PIP_CACHE" -r "$req" >&2; then
    rm -rf "$dir"
    die "pip install -r $req failed"
  fi
  printf '%s\n' "$want" >"$dir/.adtally-stamp"
}

install_spark_jars() {
  local stamp
  stamp=$LIB/spark/.pom-$(sha256sum "$STACK/pom.xml" | cut -c1-16)
  if [[ -e $stamp ]] && compgen -G "$LIB/spark/*.jar" >/dev/null; then
    say "jars: stack/lib/spark is up to date with pom.xml"
    return
  fi
  mkdir -p "$LIB" "$M2"
  copy_jars spark
  : >"$stamp"
  say "jars: $(find "$LIB/spark" -name "*.jar" | wc -l) in stack/lib/spark"
}

install_batch_tools() {
  install_spark_jars
  ensure_python_venv
  make_venv "$ROOT/.venv-spark" "$ROOT/spark/requirements.txt"
  make_venv "$ROOT/.venv-airflow" "$ROOT/dags/requirements.txt"
}
# ---- end of the batch job and the scheduler -------------------------------

main() {
  local t0=$SECONDS
  install_packages
  install_jars
  install_batch_tools
  say "done in $((SECONDS - t0))s"
}

main "$@"
