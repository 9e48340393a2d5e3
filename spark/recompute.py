#!/usr/bin/env python3
"""`recompute.py --from HOUR --to HOUR`: the batch path of adtally.

Reads the raw lake's hours (Cassandra table `tracking`, the 8 bucket
partitions of each hour, by partition key), tallies them with DESIGN §4's
rules in Spark, and makes those hours' rows of MySQL `events` equal to the
result: a row that matches is left alone, a row that differs is replaced
(sources = 'cassandra'), a missing row is added and a row that should not
exist is removed, one transaction per hour. Prints the corrections on
stdout, one line per hour corrected and a total line.

How it shares the table with the stream (`adtally process`) is told in
spark/README.md ("Two writers, one table").
"""

import datetime as dt
import glob
import os
import sys
import time
from decimal import Decimal

import common
from common import HOUR, UTC, log

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
METRICS = ["impressions", "clicks", "conversion", "qualified_application",
           "disqualified_application"]
KEY = ["job_id", "dates", "hours", "publisher_id", "campaign_id", "group_id"]
VALUES = ["company_id"] + METRICS + ["spend_hour", "bid_set"]
TRIM = "^[ \\t\\n\\x0B\\f\\r]+|[ \\t\\n\\x0B\\f\\r]+$"  # C isspace()

OWN = [
    ("from", None, "the first lake hour, like 2022-07-18T07 (UTC)"),
    ("to", None, "the last lake hour, included (UTC)"),
    ("dry-run", "false", "say what would be corrected, write nothing", bool),
    ("check", "false", "like --dry-run, and exit 1 when any hour's rows "
     "or totals differ from the lake (a data-quality check)", bool),
    ("archive-group", "adtally-archive",
     "Kafka consumer group of `adtally archive`, whose committed offsets "
     "tell how far the lake is complete"),
    ("fence-timeout", "120", "seconds to wait for the archiver to pass the "
     "stream's offsets before reading the lake", float),
    ("settle-timeout", "10", "seconds to wait for the stream to pass the "
     "archiver's offsets before writing", float),
    ("no-fence", "false", "read the lake without checking the archiver's "
     "and the stream's offsets (a lake without a live topic)", bool),
    ("retries", "3", "times an hour the stream wrote meanwhile is "
     "recomputed before it is left to a later run", int),
    ("chunk-hours", "168", "lake hours read by one Spark job", int),
    ("pause-before-write", "0", "seconds to wait between the lake read "
     "and the writes (tests of the race with the stream)", float),
    ("master", None, "Spark master when not run by spark-submit "
     "(default local[2])"),
    ("jars", os.path.join(ROOT, "stack", "lib", "spark"),
     "folder of the connector and JDBC jars (spark.jars)"),
    ("driver-memory", "1g", "spark.driver.memory in local mode"),
    ("java-options", "-XX:TieredStopAtLevel=1",
     "spark.driver.extraJavaOptions in local mode (the default JITs "
     "quickly: a short run starts in half the time; give '' for long "
     "runs)"),
    ("shuffle-partitions", "2", "spark.sql.shuffle.partitions", int),
]

EXIT_BUSY = 3  # hours left to a later run
EXIT_DIFFERS = 1  # --check found a difference
EXIT_FENCE = 4  # the archiver is behind the stream: nothing read


# ---- Spark: the lake hours to rows -----------------------------------

def spark_session(cfg):
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = SparkConf()
    if not conf.contains("spark.master"):
        conf.setMaster(cfg.master or "local[2]")
        conf.set("spark.driver.memory", cfg.driver_memory)
        if cfg.java_options:
            conf.set("spark.driver.extraJavaOptions", cfg.java_options)
    elif cfg.master:
        conf.setMaster(cfg.master)
    if not conf.contains("spark.jars"):
        jars = sorted(glob.glob(os.path.join(cfg.jars, "*.jar")))
        if not jars:
            raise SystemExit(f"recompute: no jars in {cfg.jars} "
                             "(run make deps, or give --jars)")
        conf.set("spark.jars", ",".join(jars))
    host_ports = [hp.rsplit(":", 1) for hp in cfg.cassandra.split(",")]
    conf.setAppName("adtally-recompute")
    for k, v in {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.cassandra.connection.host":
            ",".join(h for h, _ in host_ports),
        "spark.cassandra.connection.port":
            host_ports[0][1] if len(host_ports[0]) > 1 else "9042",
        "spark.cassandra.auth.username": cfg.cassandra_user,
        "spark.cassandra.auth.password": cfg.cassandra_password,
        # Read an hour's partitions as a distributed join on the keys
        # (hour, bucket): one partition read per key, spread over tasks.
        "spark.cassandra.sql.inClauseToJoinConversionThreshold": "1",
        "spark.cassandra.input.consistency.level": "LOCAL_QUORUM",
    }.items():
        if not conf.contains(k):
            conf.set(k, v)
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.addPyFile(os.path.join(HERE, "rules.py"))
    return spark


def read_jobs(spark, cfg):
    """The job dimension, read by JDBC."""
    p = common.parse_mysql_url(cfg.mysql)
    return (spark.read.format("jdbc")
            # The mysql: scheme gives Spark's MySQL dialect (backquoted
            # names); MariaDB's driver takes it with permitMysqlScheme.
            .option("url", f"jdbc:mysql://{p['host']}:{p['port']}/"
                    f"{p['database']}?permitMysqlScheme")
            .option("driver", "org.mariadb.jdbc.Driver")
            .option("user", p["user"]).option("password", p["password"])
            .option("query", "SELECT id AS j_id, company_id AS j_company,"
                    " campaign_id AS j_campaign, group_id AS j_group"
                    " FROM job")
            .load())


def read_lake(spark, cfg, hours):
    """The events of the given lake hours: the partitions (hour, bucket)
    for bucket 0..7, pushed down as partition-key predicates."""
    from pyspark.sql import functions as F

    stamps = [F.lit(h.strftime("%Y-%m-%d %H:00:00")).cast("timestamp")
              for h in hours]
    return (spark.read.format("org.apache.spark.sql.cassandra")
            .options(keyspace=cfg.keyspace, table="tracking").load()
            .filter(F.col("hour").isin(*stamps)
                    & F.col("bucket").isin(*range(8)))
            .select("hour", "create_time", "ts", "custom_track", "job_id",
                    "campaign_id", "group_id", "publisher_id", "bid", "ed"))


def check_partition_reads(lake, nhours):
    """Refuses a plan that would scan the table: the read must go by
    partition key, as a join on the keys or as IN restrictions."""
    plan = lake._jdf.queryExecution().executedPlan().toString()
    if "CassandraInJoin" in plan:
        how = "a join on the partition keys"
    elif '"hour" IN' in plan and '"bucket" IN' in plan:
        how = "IN restrictions of the partition key"
    else:
        raise SystemExit("recompute: the lake read would not go by "
                         "partition key; refusing to scan the table")
    log("info", "recompute", f"lake read by partition key: {nhours} hours "
        f"x 8 buckets as {how}")


def uuid_time(col):
    """The time of a version-1 UUID (text): 100 ns ticks since 1582."""
    from pyspark.sql import functions as F

    ticks = F.conv(F.concat(F.substring(col, 16, 3), F.substring(col, 10, 4),
                            F.substring(col, 1, 8)), 16, 10)
    ms = F.floor((ticks.cast("decimal(20,0)")
                  - F.lit(122192928000000000)) / 10000)
    return F.timestamp_millis(ms.cast("long"))


def tally(lake, jobs, tz):
    """DESIGN §4 over lake rows: one row per key of `events` with its
    values, plus `events` (events tallied) and `read` (events read)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    import rules

    ids = T.StructType([T.StructField("job", T.IntegerType()),
                        T.StructField("pub", T.IntegerType())])

    @F.udf(returnType=ids)
    def ed_ids(ed, need_job, need_pub):
        if ed is None:
            return None
        return (rules.ed_id(ed, "jobId", 1) if need_job else None,
                rules.ed_id(ed, "publisherId", 0) if need_pub else None)

    track = F.regexp_replace(F.coalesce(F.col("custom_track"), F.lit("")),
                             TRIM, "")
    metric = F.when(track.rlike("^[\\x00-\\x7F]*$"), F.lower(track))
    metric = F.when(metric.isin(*rules.TRACKS), metric)
    need_job = F.col("job_id").isNull()
    need_pub = F.col("publisher_id").isNull()
    ed = F.when(metric.isNotNull() & (need_job | need_pub), F.col("ed"))
    t = F.coalesce(F.col("ts"), uuid_time(F.col("create_time")))
    local = t if tz == "UTC" else F.from_utc_timestamp(t, tz)
    ev = (lake.select(metric.alias("m"), local.alias("t"), "job_id",
                      "publisher_id", "campaign_id", "group_id", "bid",
                      ed_ids(ed, need_job, need_pub).alias("x"))
          .select("*", F.coalesce("job_id", "x.job").alias("j")))
    tallied = F.col("m").isNotNull() & F.col("j").isNotNull()
    ev = ev.join(F.broadcast(jobs), ev["j"] == jobs["j_id"], "left")
    from_job = (lambda c: F.when(F.col(c) >= 0, F.col(c)))
    key = [
        F.when(tallied, F.col("j")).alias("job_id"),
        F.to_date("t").alias("dates"),
        F.hour("t").alias("hours"),
        F.when(tallied, F.coalesce("publisher_id", "x.pub", F.lit(0)))
        .alias("publisher_id"),
        F.when(tallied, F.coalesce("campaign_id", from_job("j_campaign"),
                                   F.lit(0))).alias("campaign_id"),
        F.when(tallied, F.coalesce("group_id", from_job("j_group"),
                                   F.lit(0))).alias("group_id"),
    ]
    is_ = (lambda name: F.when(tallied & (F.col("m") == name), 1)
           .otherwise(0))
    sums = [F.sum(is_(name)).alias(rules.TRACKS[name])
            for name in rules.TRACKS]
    spend = F.sum(F.when(tallied & (F.col("m") == "click"),
                         F.coalesce("bid", F.lit(0))).otherwise(0))
    return (ev.groupBy(*key)
            .agg(F.max(F.when(tallied, from_job("j_company")))
                 .alias("company_id"),
                 *sums, spend.cast("decimal(38,4)").alias("spend_hour"),
                 F.sum(F.when(tallied, 1).otherwise(0)).alias("events"),
                 F.count(F.lit(1)).alias("read")))


class Computed:
    """The rows the lake gives, per reporting hour (dates, hours)."""

    def __init__(self):
        self.rows = {}  # (date, hour) -> {key tuple: values tuple}
        self.read = 0
        self.tallied = {}  # (date, hour) -> events tallied

    def add(self, r):
        import rules

        self.read += r["read"]
        if r["job_id"] is None:
            return
        rh = (r["dates"], r["hours"])
        key = tuple(r[k] for k in KEY)
        spend = Decimal(r["spend_hour"])
        vals = (r["company_id"],) + tuple(int(r[m]) for m in METRICS) + (
            spend, rules.bid_set(spend, r["clicks"]))
        self.rows.setdefault(rh, {})[key] = vals
        self.tallied[rh] = self.tallied.get(rh, 0) + r["events"]


def compute(spark, cfg, lake_hours):
    """Tallies the lake hours, cfg.chunk_hours at a time."""
    jobs = read_jobs(spark, cfg).cache()
    out = Computed()
    for i in range(0, len(lake_hours), cfg.chunk_hours):
        chunk = lake_hours[i:i + cfg.chunk_hours]
        t0 = time.monotonic()
        n0 = out.read
        lake = read_lake(spark, cfg, chunk)
        check_partition_reads(lake, len(chunk))
        for r in tally(lake, jobs, cfg.tz).toLocalIterator():
            out.add(r.asDict())
        log("info", "recompute",
            f"lake {common.fmt_hour(chunk[0])}..{common.fmt_hour(chunk[-1])}"
            f": {out.read - n0} events read in "
            f"{time.monotonic() - t0:.1f} s")
    jobs.unpersist()
    return out


# ---- reporting hours -------------------------------------------------

def reporting_hours(cfg, first, last):
    """The reporting hours (date, hour) that the lake hours first..last
    cover, and the lake hours to read to compute them whole. In UTC they
    are the same hours. Elsewhere a reporting hour is rewritten only when
    it lies wholly inside first..last+1h (so a half-hour zone loses its
    edge hours) and the lake hours around it are read too."""
    lake = common.hour_range(first, last)
    if cfg.tz == "UTC":
        return [(h.date(), h.hour) for h in lake], lake
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(cfg.tz)
    step = dt.timedelta(minutes=15)  # every zone's offsets are 15-min steps
    seen = {}
    t = first - 2 * HOUR
    while t < last + 3 * HOUR:
        loc = t.astimezone(zone)
        seen.setdefault((loc.date(), loc.hour), []).append(t)
        t += step
    inside = [rh for rh, ts in seen.items()
              if ts[0] >= first and ts[-1] < last + HOUR]
    return sorted(inside), common.hour_range(first - 2 * HOUR,
                                             last + 2 * HOUR)


# ---- MySQL: the fence and the per-hour transaction -------------------

class Fence:
    """What the stream had committed when the lake was about to be read:
    its offsets, locked while read, and the MySQL time just after."""

    def __init__(self, offsets, t0):
        self.offsets = offsets
        self.t0 = t0


def take_fence(db, cfg):
    """Reads the stream's offsets under a shared lock (a stream commit in
    flight finishes first), notes the time, then waits until the archiver
    has committed at least as far on every partition: from then on every
    event the stream has tallied is in the lake."""
    with db.cursor() as cur:
        db.begin()
        offsets = common.stream_offsets(cur, cfg.topic, lock=True)
        cur.execute("SELECT UTC_TIMESTAMP(3)")
        t0 = cur.fetchone()[0]
        db.commit()
    fence = Fence(offsets, t0)
    if cfg.no_fence or not offsets:
        return fence

    def probe():
        arch = common.kafka_committed(cfg.kafka, cfg.archive_group,
                                      cfg.topic)
        behind = {p: o - arch.get(p, -1) for p, o in offsets.items()
                  if arch.get(p, -1) < o}
        return not behind, behind

    ok, behind = common.wait_until("the archiver", cfg.fence_timeout, probe)
    if not ok:
        log("error", "recompute",
            f"the archiver ({cfg.archive_group}) is behind the stream on "
            f"partitions {sorted(behind)} by {sum(behind.values())} events "
            f"after {cfg.fence_timeout:g} s: the lake is not complete; "
            "nothing was written")
        raise SystemExit(EXIT_FENCE)
    log("info", "recompute", f"fence at {fence.t0.isoformat()}: the lake "
        f"holds the {sum(offsets.values())} events the stream has passed")
    return fence


def settle(db, cfg):
    """Waits, up to --settle-timeout, until the stream has tallied what the
    archiver has committed, so that events the lake read holds are in the
    stream's rows before they are compared."""
    if cfg.no_fence:
        return True
    arch = common.kafka_committed(cfg.kafka, cfg.archive_group, cfg.topic)

    def probe():
        with db.cursor() as cur:
            db.commit()  # a fresh snapshot
            s = common.stream_offsets(cur, cfg.topic)
        behind = {p: o - s.get(p, 0) for p, o in arch.items()
                  if s and o > s.get(p, 0)}
        return not behind, behind

    ok, behind = common.wait_until("the stream", cfg.settle_timeout, probe)
    if not ok:
        log("warn", "recompute", f"the stream is {sum(behind.values())} "
            f"events behind the archiver after {cfg.settle_timeout:g} s; "
            "hours it writes meanwhile are recomputed again")
    return ok


class HourResult:
    def __init__(self, rh):
        self.rh = rh
        self.added = self.changed = self.removed = 0
        self.d_clicks = 0
        self.d_spend = Decimal("0.0000")
        self.d_metrics = {m: 0 for m in METRICS}
        self.tally_totals = {}
        self.written_at = None
        self.busy = False
        self.rows = 0  # rows the lake gives for the hour

    @property
    def corrected(self):
        return self.added + self.changed + self.removed


SELECT_HOUR = ("SELECT id, " + ", ".join(KEY) + ", " + ", ".join(VALUES)
               + ", sources, latest_update_time FROM events"
               " WHERE dates = %s AND hours = %s")


def stored_rows(cur, rh, lock):
    cur.execute(SELECT_HOUR + (" FOR UPDATE" if lock else ""), rh)
    out = {}
    for r in cur.fetchall():
        key = (r[1], r[2], r[3], r[4], r[5], r[6])
        vals = (r[7],) + tuple(int(x) for x in r[8:13]) + (r[13], r[14])
        out[key] = (r[0], vals, r[15], r[16])
    return out


def diff_hour(res, want, have):
    """Fills res with the differences; returns (add, change, remove)."""
    add, change, remove = [], [], []
    for key, vals in want.items():
        if key not in have:
            add.append((key, vals))
        elif have[key][1] != vals:
            change.append((have[key][0], have[key][1], vals))
    for key, (rid, vals, _, _) in have.items():
        if key not in want:
            remove.append((rid, vals))
    res.added, res.changed, res.removed = len(add), len(change), len(remove)
    old = [v for _, v in remove] + [o for _, o, _ in change]
    new = [v for _, v in add] + [n for _, _, n in change]
    for i, m in enumerate(METRICS, 1):
        res.d_metrics[m] = sum(v[i] for v in new) - sum(v[i] for v in old)
    res.d_clicks = res.d_metrics["clicks"]
    res.d_spend = sum((v[6] for v in new), Decimal("0.0000")) - sum(
        (v[6] for v in old), Decimal("0.0000"))
    res.tally_totals = {m: sum(v[1][i] for v in have.values())
                        for i, m in enumerate(METRICS, 1)}
    return add, change, remove


def write_hour(db, rh, want, fence, dry):
    """One reporting hour in one transaction: its rows locked (a stream
    commit touching the hour waits), compared, corrected. Leaves the hour
    alone and marks it busy when the stream wrote to it after the fence.
    With `dry`, nothing is locked or written: the hour is only compared
    (and busy the same way, so that a check does not take a late event
    the read missed for a difference)."""
    res = HourResult(rh)
    res.rows = len(want)
    with db.cursor() as cur:
        db.begin()
        try:
            have = stored_rows(cur, rh, lock=not dry)
            if any(src == "kafka" and at >= fence.t0
                   for _, _, src, at in have.values()):
                res.busy = True
                db.rollback()
                return res
            add, change, remove = diff_hour(res, want, have)
            if dry or not (add or change or remove):
                db.rollback()
                return res
            apply_diff(cur, add, change, remove)
            cur.execute("SELECT UTC_TIMESTAMP(3)")
            res.written_at = cur.fetchone()[0]
            db.commit()
        except Exception:
            db.rollback()
            raise
    return res


def apply_diff(cur, add, change, remove):
    stamp = ", sources = 'cassandra', latest_update_time = UTC_TIMESTAMP(3)"
    if remove:
        cur.executemany("DELETE FROM events WHERE id = %s",
                        [(rid,) for rid, _ in remove])
    if change:
        cur.executemany("UPDATE events SET " + ", ".join(
            f"{c} = %s" for c in VALUES) + stamp + " WHERE id = %s",
            [vals + (rid,) for rid, _, vals in change])
    if add:
        cur.executemany("INSERT INTO events (" + ", ".join(KEY + VALUES)
                        + ", sources, latest_update_time) VALUES ("
                        + ", ".join(["%s"] * (len(KEY) + len(VALUES)))
                        + ", 'cassandra', UTC_TIMESTAMP(3))",
                        [key + vals for key, vals in add])


def touched_since(db, rh, since):
    with db.cursor() as cur:
        db.commit()
        cur.execute("SELECT COUNT(*) FROM events WHERE dates = %s AND"
                    " hours = %s AND sources = 'kafka' AND"
                    " latest_update_time >= %s", rh + (since,))
        return cur.fetchone()[0] > 0


# ---- the run ---------------------------------------------------------

def fmt_rh(rh):
    return f"{rh[0].isoformat()}T{rh[1]:02d}"


def signed(x):
    return f"+{x}" if x > 0 else str(x)


def run_once(spark, db, cfg, lake_hours, wanted, dry):
    """Fence, read, settle, write: returns the results per hour."""
    fence = take_fence(db, cfg)
    computed = compute(spark, cfg, lake_hours)
    if cfg.pause_before_write > 0:
        log("info", "recompute", f"lake read; pausing "
            f"{cfg.pause_before_write:g} s before writing")
        time.sleep(cfg.pause_before_write)
        cfg.pause_before_write = 0  # the first attempt only
    settle(db, cfg)
    results = [write_hour(db, rh, computed.rows.get(rh, {}), fence, dry)
               for rh in wanted]
    return results, computed


def merge(into, r):
    """Adds the corrections of a later attempt at an hour to the first."""
    have = into.get(r.rh)
    if have is None:
        into[r.rh] = r
        return
    have.added += r.added
    have.changed += r.changed
    have.removed += r.removed
    have.d_clicks += r.d_clicks
    have.d_spend += r.d_spend
    for m in METRICS:
        have.d_metrics[m] += r.d_metrics[m]
    have.busy = r.busy
    have.rows = r.rows
    have.tally_totals = r.tally_totals


def main():
    cfg = common.parse_settings(
        "recompute.py", "Recompute hours of `events` from the raw lake.", OWN)
    if cfg.check:
        cfg.dry_run = True
    first = common.parse_hour(cfg.__dict__["from"], "--from")
    last = common.parse_hour(cfg.to, "--to")
    n = int((last - first) / HOUR) + 1
    if n < 1 or n > common.RANGE_HOURS_MAX:
        raise SystemExit(f"recompute: {n} hours from --from to --to: give "
                         f"1 to {common.RANGE_HOURS_MAX}")
    if cfg.tz != "UTC" and not os.path.exists(f"/usr/share/zoneinfo/{cfg.tz}"):
        raise SystemExit(f"recompute: --tz: unknown time zone '{cfg.tz}'")
    t0 = time.monotonic()
    db = common.mysql_connect(cfg.mysql)
    spark = spark_session(cfg)
    log("info", "recompute", f"spark {spark.version} ready in "
        f"{time.monotonic() - t0:.1f} s, master {spark.sparkContext.master}")
    wanted, lake_hours = reporting_hours(cfg, first, last)
    results, read, tallied = {}, 0, 0
    for attempt in range(cfg.retries + 1):
        got, computed = run_once(spark, db, cfg, lake_hours, wanted,
                                 cfg.dry_run)
        read += computed.read
        tallied += sum(computed.tallied.values())
        for r in got:
            merge(results, r)
        written = [r for r in got if r.written_at is not None]
        if written:
            settle(db, cfg)
        for r in written:
            if touched_since(db, r.rh, r.written_at):
                results[r.rh].busy = True
        busy = sorted(rh for rh, r in results.items() if r.busy)
        if not busy:
            break
        log("warn", "recompute", f"attempt {attempt + 1}: the stream wrote "
            f"to {len(busy)} hours during the run "
            f"({', '.join(fmt_rh(rh) for rh in busy[:6])}); "
            + ("recomputing them" if attempt < cfg.retries else "giving up"))
        wanted = busy
        if cfg.tz == "UTC":
            lake_hours = [dt.datetime(d.year, d.month, d.day, h, tzinfo=UTC)
                          for d, h in busy]
    spark.stop()
    db.close()
    done = [results[rh] for rh in sorted(results)]
    report(cfg, first, last, done, read, tallied, time.monotonic() - t0)
    if any(r.busy for r in done):
        return EXIT_BUSY
    if cfg.check and any(r.corrected for r in done):
        return EXIT_DIFFERS
    return 0


def report(cfg, first, last, done, read, tallied, took):
    verb = "would correct" if cfg.dry_run else "corrected"
    fixed = [r for r in done if r.corrected]
    busy = [r for r in done if r.busy]
    if fixed:
        print("# hour\tadded\tchanged\tremoved\t" + "\t".join(
            ["impressions", "clicks", "conversion", "qualified",
             "disqualified", "spend"]))
    for r in fixed:
        print(f"{fmt_rh(r.rh)}\t{r.added}\t{r.changed}\t{r.removed}\t"
              + "\t".join(signed(r.d_metrics[m]) for m in METRICS)
              + f"\t{signed(r.d_spend)}")
        if cfg.check:
            print(f"# {fmt_rh(r.rh)} tallies " + ", ".join(
                f"{m} {r.tally_totals[m]}" for m in METRICS)
                + "; lake " + ", ".join(
                f"{m} {r.tally_totals[m] + r.d_metrics[m]}"
                for m in METRICS), )
    rows = sum(r.corrected for r in fixed)
    clicks = sum(r.d_clicks for r in fixed)
    spend = sum((r.d_spend for r in fixed), Decimal("0.0000"))
    print(f"# total {verb} {rows} rows in {len(fixed)} hours "
          f"(added {sum(r.added for r in fixed)}, changed "
          f"{sum(r.changed for r in fixed)}, removed "
          f"{sum(r.removed for r in fixed)}): clicks {signed(clicks)}, "
          f"spend {signed(spend)}; {common.fmt_hour(first)} to "
          f"{common.fmt_hour(last)}, {read} events read, {tallied} tallied "
          f"into {sum(r.rows for r in done)} rows of {len(done)} hours, "
          f"{took:.1f} s")
    if busy:
        print(f"# busy {len(busy)} hours the stream kept writing to, left "
              "to a later run: " + " ".join(fmt_rh(r.rh) for r in busy))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
