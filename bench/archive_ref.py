"""The reference for `adtally archive` in make bench: the same events written
to the same lake table by the Python cassandra-driver, with a prepared
INSERT and execute_concurrent_with_args. Prints `key value` lines.

usage: archive_ref.py write HOST PORT KEYSPACE USER PASSWORD EVENTS.ndjson
                            [CONCURRENCY]
       archive_ref.py drop HOST PORT KEYSPACE USER PASSWORD
"""

import calendar
import datetime
import decimal
import json
import sys
import time
import uuid

from cassandra import cluster as cass_cluster
from cassandra.auth import PlainTextAuthProvider
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import UNSET_VALUE

# The event fields in the order of src/core/event.h (the lake's columns).
FIELDS = [
    "create_time", "ts", "custom_track", "job_id", "campaign_id", "group_id",
    "publisher_id", "bid", "ed", "ev", "v", "cd", "tz", "uid", "dl", "dt",
    "rl", "de", "ua", "bn", "md", "sr", "vp", "id", "utm_source",
    "utm_medium", "utm_campaign", "utm_content", "utm_term",
]
INTS = {"job_id", "campaign_id", "group_id", "publisher_id", "ev", "v", "cd",
        "tz"}
HOUR_MS = 3600000
BUCKETS = 8


def bucket_of(u):
    """FNV-1a over the 16 bytes, as src/core/lake.c computes it."""
    x = 2166136261
    for b in u.bytes:
        x = ((x ^ b) * 16777619) & 0xFFFFFFFF
    return x % BUCKETS


def ts_ms(text):
    d = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
    return calendar.timegm(d.timetuple()) * 1000 + d.microsecond // 1000


def row_of(obj, now_ms):
    """The INSERT's values; absent fields unset, as the archiver does."""
    ct = uuid.UUID(obj["create_time"])
    ms = ts_ms(obj["ts"])
    vals = [ms - ms % HOUR_MS, bucket_of(ct), ct, ms]
    for f in FIELDS[2:]:
        v = obj.get(f)
        if v is None:
            vals.append(UNSET_VALUE)
        elif f in INTS:
            vals.append(int(v))
        elif f == "bid":
            vals.append(decimal.Decimal(str(v)))
        else:
            vals.append(v)
    vals.append(now_ms)
    return tuple(vals)


def connect(host, port, user, password):
    cl = cass_cluster.Cluster([host], port=int(port),
                              auth_provider=PlainTextAuthProvider(user,
                                                                  password))
    return cl, cl.connect()


def drop(host, port, ks, user, password):
    cl, session = connect(host, port, user, password)
    session.execute('DROP KEYSPACE IF EXISTS "%s"' % ks, timeout=120)
    cl.shutdown()
    return 0


def write(host, port, ks, user, password, path, conc="100"):
    now_ms = int(time.time() * 1000)
    with open(path, encoding="utf-8") as f:
        rows = [row_of(json.loads(line), now_ms) for line in f if line.strip()]
    cl, session = connect(host, port, user, password)
    cols = ["hour", "bucket"] + FIELDS + ["archived_at"]
    ps = session.prepare(
        'INSERT INTO "%s".tracking (%s) VALUES (%s)'
        % (ks, ", ".join(cols), ", ".join("?" * len(cols))))
    t0 = time.monotonic()
    results = execute_concurrent_with_args(session, ps, rows,
                                           concurrency=int(conc),
                                           raise_on_first_error=True)
    secs = time.monotonic() - t0
    failed = sum(1 for ok, _ in results if not ok)
    cl.shutdown()
    print("python_rows %d" % len(rows))
    print("python_failed %d" % failed)
    print("python_write_seconds %.3f" % secs)
    print("python_extensions %s" % ("yes" if cass_cluster.__file__.endswith(
        ".so") else "no"))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) >= 7 and sys.argv[1] in ("write", "drop"):
        sys.exit({"write": write, "drop": drop}[sys.argv[1]](*sys.argv[2:]))
    sys.exit(__doc__)
