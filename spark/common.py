"""What the batch job and the stream checks share with the C roles: the
settings (flag > environment > config file), the MySQL URL, UTC lake
hours, logging, and the Kafka and MySQL positions of the two consumers."""

import argparse
import datetime as dt
import os
import re
import sys
import time
from urllib.parse import unquote

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
RANGE_HOURS_MAX = 744  # 31 days, as `adtally lake count`

# name, default, help: the common settings of every adtally role.
COMMON = [
    ("kafka", "127.0.0.1:9092", "Kafka bootstrap servers"),
    ("topic", "tracking", "event topic; rejects go to <topic>.rejected"),
    ("mysql", "mysql://root@127.0.0.1:3306/adtally",
     "MySQL/MariaDB URL mysql://user[:pass]@host:port/db"),
    ("cassandra", "127.0.0.1:9042",
     "Cassandra contact points host:port[,host:port]"),
    ("keyspace", "adtally", "Cassandra keyspace of the raw lake"),
    ("cassandra-user", "cassandra", "Cassandra user"),
    ("cassandra-password", "cassandra", "Cassandra password (never logged)"),
    ("tz", "UTC", "reporting time zone of dates/hours (IANA name)"),
    ("log-level", "info", "debug, info, warn or error"),
]
LEVELS = {"debug": 0, "info": 1, "warn": 2, "error": 3}
_level = 1


def env_name(name):
    return "ADTALLY_" + re.sub(r"[-.]", "_", name).upper()


def read_config_file(path):
    """The `name = value` lines of an adtally config file."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if "=" not in s:
                raise SystemExit(f"{path}:{n}: expected 'name = value'")
            k, v = s.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def parse_settings(prog, about, own):
    """Parses argv with the common settings plus `own` (name, default,
    help, kind) where kind is str, int, float or bool. A flag wins over
    ADTALLY_<NAME>, which wins over the config file. Returns a namespace
    with attribute names using underscores."""
    spec = COMMON + [o[:3] for o in own]
    kinds = {o[0]: (o[3] if len(o) > 3 else str) for o in own}
    ap = argparse.ArgumentParser(prog=prog, description=about)
    ap.add_argument("--config", help="config file of `name = value` lines "
                    "(env ADTALLY_CONFIG)")
    for name, default, text in spec:
        kind = kinds.get(name, str)
        shown = "" if "password" in name else f", default {default}"
        if kind is bool:
            ap.add_argument(f"--{name}", action="store_const", const="true",
                            help=f"{text} (env {env_name(name)})")
        else:
            ap.add_argument(f"--{name}",
                            help=f"{text} (env {env_name(name)}{shown})")
    args = ap.parse_args()
    path = args.config or os.environ.get("ADTALLY_CONFIG")
    from_file = read_config_file(path) if path else {}
    out = argparse.Namespace()
    for name, default, _ in spec:
        v = getattr(args, name.replace("-", "_"))
        if v is None:
            v = os.environ.get(env_name(name), from_file.get(name, default))
        kind = kinds.get(name, str)
        try:
            if kind is bool:
                v = str(v).lower() in ("1", "true", "yes", "on")
            elif v is not None and kind is not str:
                v = kind(v)
        except ValueError:
            raise SystemExit(f"{prog}: --{name} '{v}': not a {kind.__name__}")
        setattr(out, name.replace("-", "_"), v)
    global _level
    if out.log_level not in LEVELS:
        raise SystemExit(f"{prog}: --log-level '{out.log_level}': say "
                         "debug, info, warn or error")
    _level = LEVELS[out.log_level]
    return out


def log(level, component, message):
    """One line on stderr: time level component: message."""
    if LEVELS[level] < _level:
        return
    now = dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    print(f"{now} {level} {component}: {message}", file=sys.stderr,
          flush=True)


def parse_mysql_url(url):
    """mysql://user[:password]@host[:port]/database as a dict for PyMySQL."""
    m = re.fullmatch(r"mysql://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/@]+)"
                     r"(?::(\d+))?/(\w+)", url or "")
    if not m:
        raise SystemExit("bad mysql URL (expected "
                         "mysql://user[:password]@host[:port]/database)")
    user, password, host, port, db = m.groups()
    return {"user": unquote(user) if user else "root",
            "password": unquote(password) if password else "",
            "host": host, "port": int(port or 3306), "database": db}


def mysql_connect(url, autocommit=False):
    import pymysql

    p = parse_mysql_url(url)
    return pymysql.connect(host=p["host"], port=p["port"], user=p["user"],
                           password=p["password"], database=p["database"],
                           autocommit=autocommit, connect_timeout=10,
                           charset="utf8mb4")


def parse_hour(text, what):
    """"YYYY-MM-DDTHH" or "YYYY-MM-DD HH" (UTC) as an aware datetime."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d)", text or "")
    try:
        if not m:
            raise ValueError("use YYYY-MM-DDTHH")
        return dt.datetime(*map(int, m.groups()), tzinfo=UTC)
    except ValueError as e:
        raise SystemExit(f"{what} '{text}': {e}")


def fmt_hour(h):
    return h.astimezone(UTC).strftime("%Y-%m-%dT%H")


def hour_range(first, last):
    out = []
    h = first
    while h <= last:
        out.append(h)
        h += HOUR
    return out


def kafka_client(bootstrap, group):
    """A consumer that never joins its group: it only asks for offsets."""
    from confluent_kafka import Consumer

    return Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "enable.auto.commit": False, "log_level": 3})


def kafka_partitions(client, topic, timeout=10):
    md = client.list_topics(topic, timeout=timeout)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        raise RuntimeError(f"kafka: topic {topic}: "
                           f"{t.error if t else 'not found'}")
    return sorted(t.partitions)


def kafka_committed(bootstrap, group, topic, timeout=10):
    """The offsets `group` committed on each partition of topic (-1: none)."""
    from confluent_kafka import TopicPartition

    c = kafka_client(bootstrap, group)
    try:
        parts = kafka_partitions(c, topic, timeout)
        got = c.committed([TopicPartition(topic, p) for p in parts],
                          timeout=timeout)
        return {tp.partition: (tp.offset if tp.offset >= 0 else -1)
                for tp in got}
    finally:
        c.close()


def kafka_high_watermarks(bootstrap, topic, timeout=10):
    """The end offset of each partition of topic."""
    from confluent_kafka import TopicPartition

    c = kafka_client(bootstrap, "adtally-offsets-probe")
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p),
                                           timeout=timeout)[1]
                for p in kafka_partitions(c, topic, timeout)}
    finally:
        c.close()


def stream_offsets(cur, topic, lock=False):
    """The next offsets the stream (`process`) stored with its tallies, per
    partition of topic: the most advanced of its consumer groups. With
    `lock`, a shared lock on them until the transaction ends, so that a
    stream commit in flight is waited for and none starts meanwhile."""
    cur.execute("SELECT partition_id, MAX(next_offset) FROM kafka_offsets"
                " WHERE topic = %s GROUP BY partition_id"
                + (" LOCK IN SHARE MODE" if lock else ""), (topic,))
    return {int(p): int(o) for p, o in cur.fetchall()}


def wait_until(what, timeout_s, probe):
    """Polls probe() -> (done, detail) every 0.5 s for up to timeout_s.
    Returns (done, detail)."""
    end = time.monotonic() + timeout_s
    while True:
        done, detail = probe()
        if done or time.monotonic() >= end:
            return done, detail
        log("debug", "fence", f"waiting for {what}: {detail}")
        time.sleep(0.5)
