#!/usr/bin/env python3
"""`stream_check.py lag|rejected`: data-quality checks of the stream for
the scheduler. Each prints what it measured and exits 1, saying why, when
a bound is passed.

  lag       the stream (`adtally process`, its offsets stored in MySQL)
            against the end of each partition of <topic> (Kafka's high
            watermarks): at most --max-lag events behind, and the oldest
            event not yet tallied at most --max-age seconds old (its Kafka
            timestamp): the freshness of the tallies.
  rejected  the share of <topic>.rejected among all the messages that
            reached Kafka in the last --window seconds, at most
            --max-reject-share.
"""

import sys
import time

import common

OWN = [
    ("max-lag", "100000", "lag: most events the stream may be behind", int),
    ("max-age", "300", "lag: most seconds the oldest untallied event may "
     "have waited", float),
    ("max-reject-share", "0.05", "rejected: most share of rejects", float),
    ("window", "3600", "rejected: seconds of arrivals looked at", int),
    ("min-messages", "20", "rejected: fewer messages than this in the "
     "window pass whatever their share", int),
]


def oldest_waiting(cfg, behind):
    """The Kafka timestamp (ms) of the oldest message at a stored offset
    that the stream has not passed; None when none could be read."""
    from confluent_kafka import TopicPartition

    c = common.kafka_client(cfg.kafka, "adtally-stream-check")
    oldest = None
    try:
        c.assign([TopicPartition(cfg.topic, p, o) for p, o in behind.items()])
        end = time.monotonic() + 10
        seen = set()
        while len(seen) < len(behind) and time.monotonic() < end:
            m = c.poll(1.0)
            if m is None or m.error() or m.partition() in seen:
                continue
            seen.add(m.partition())
            ts = m.timestamp()[1]
            if ts > 0 and (oldest is None or ts < oldest):
                oldest = ts
    finally:
        c.close()
    return oldest


def check_lag(cfg):
    ends = common.kafka_high_watermarks(cfg.kafka, cfg.topic)
    db = common.mysql_connect(cfg.mysql, autocommit=True)
    with db.cursor() as cur:
        stored = common.stream_offsets(cur, cfg.topic)
    db.close()
    behind = {p: stored.get(p, 0) for p, end in ends.items()
              if end > stored.get(p, 0)}
    lag = sum(ends[p] - o for p, o in behind.items())
    age = 0.0
    if behind:
        ts = oldest_waiting(cfg, behind)
        age = time.time() - ts / 1000 if ts else float("inf")
    print(f"lag: the stream is {lag} events behind on {len(behind)} of "
          f"{len(ends)} partitions of {cfg.topic}; the oldest untallied "
          f"event waited {age:.0f} s")
    bad = []
    if lag > cfg.max_lag:
        bad.append(f"lag {lag} events is above --max-lag {cfg.max_lag}")
    if age > cfg.max_age:
        bad.append(f"the oldest untallied event waited {age:.0f} s, above "
                   f"--max-age {cfg.max_age:g} s: is `adtally process` "
                   "running?")
    return bad


def arrivals(cfg, topic, since_ms):
    """Messages that reached topic at or after since_ms, all partitions."""
    from confluent_kafka import TopicPartition

    c = common.kafka_client(cfg.kafka, "adtally-stream-check")
    try:
        parts = common.kafka_partitions(c, topic)
        n = 0
        got = c.offsets_for_times(
            [TopicPartition(topic, p, since_ms) for p in parts], timeout=10)
        for tp in got:
            end = c.get_watermark_offsets(TopicPartition(topic, tp.partition),
                                          timeout=10)[1]
            if tp.offset >= 0:  # -1: nothing that recent
                n += end - tp.offset
        return n
    finally:
        c.close()


def check_rejected(cfg):
    since = int((time.time() - cfg.window) * 1000)
    ok = arrivals(cfg, cfg.topic, since)
    rejected = arrivals(cfg, cfg.topic + ".rejected", since)
    total = ok + rejected
    share = rejected / total if total else 0.0
    print(f"rejected: {rejected} of {total} messages in the last "
          f"{cfg.window} s went to {cfg.topic}.rejected ({share:.2%})")
    if total >= cfg.min_messages and share > cfg.max_reject_share:
        return [f"the share of rejects {share:.2%} is above "
                f"--max-reject-share {cfg.max_reject_share:.2%}: see "
                f"{cfg.topic}.rejected for the reasons"]
    return []


def main():
    checks = {"lag": check_lag, "rejected": check_rejected}
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which not in checks:
        print("usage: stream_check.py lag|rejected [options] (--help)",
              file=sys.stderr)
        return 2
    del sys.argv[1]
    cfg = common.parse_settings("stream_check.py " + which, __doc__, OWN)
    bad = checks[which](cfg)
    for b in bad:
        common.log("error", "check", f"{which}: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
