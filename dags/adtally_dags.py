"""adtally's schedules: the hourly recompute of closed hours with its
data-quality checks, a backfill of any range, and the lake's retention.

Every task runs a command of the project (build/adtally, the Spark job
spark/recompute.py, spark/stream_check.py). Settings and credentials come
from the environment the scheduler runs in (ADTALLY_MYSQL,
ADTALLY_CASSANDRA, ADTALLY_CASSANDRA_USER/PASSWORD, ADTALLY_KEYSPACE,
ADTALLY_TOPIC, ADTALLY_KAFKA, ADTALLY_TZ, ...: the same as the C roles);
the tasks inherit it. ADTALLY_HOME is the project folder (default: the
parent of this folder). Bounds are Airflow Variables, each with a default:

  adtally_lookback_hours      closed hours the hourly run recomputes (6)
  adtally_grace_minutes       an hour is closed this long after its end (15)
  adtally_max_lag             stream lag bound, events (100000)
  adtally_max_age_s           oldest untallied event bound, seconds (300)
  adtally_max_reject_share    rejects among arrivals bound (0.05)
  adtally_lake_retention_days days of raw events the lake keeps (90)
"""

import datetime as dt
import os

from airflow import DAG
from airflow.models.param import Param
from airflow.operators.bash import BashOperator

HOME = os.environ.get(
    "ADTALLY_HOME",
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADTALLY = f"{HOME}/build/adtally"
PY = f"{HOME}/.venv-spark/bin/python"
RECOMPUTE = f"{PY} {HOME}/spark/recompute.py"
STREAM_CHECK = f"{PY} {HOME}/spark/stream_check.py"
HOUR_FMT = "%Y-%m-%dT%H"
RANGE_HOURS = 744  # the most one run of the Spark job reads

DEFAULTS = {
    "owner": "adtally",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "execution_timeout": dt.timedelta(minutes=30),
}


def closed_hours(end, lookback, grace_minutes):
    """The lookback lake hours ("FROM TO", UTC) that had closed, plus the
    grace, by `end` (the run's data_interval_end)."""
    ready = end.astimezone(dt.timezone.utc) - dt.timedelta(
        minutes=int(grace_minutes))
    last = ready.replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        hours=1)
    first = last - dt.timedelta(hours=int(lookback) - 1)
    return f"--from {first.strftime(HOUR_FMT)} --to {last.strftime(HOUR_FMT)}"


def hour_slices(first, last):
    """--from/--to pairs covering first..last (texts YYYY-MM-DDTHH), at
    most RANGE_HOURS each: the backfill of a long range, one run each."""
    a = dt.datetime.strptime(first, HOUR_FMT)
    b = dt.datetime.strptime(last, HOUR_FMT)
    if b < a:
        raise ValueError(f"backfill: to {last} is before from {first}")
    out = []
    while a <= b:
        z = min(b, a + dt.timedelta(hours=RANGE_HOURS - 1))
        out.append(f"--from {a.strftime(HOUR_FMT)}"
                   f" --to {z.strftime(HOUR_FMT)}")
        a = z + dt.timedelta(hours=1)
    return out


def purge_day(end, days):
    """The day before which the lake's hours go: `days` before `end`."""
    day = end.astimezone(dt.timezone.utc).date() - dt.timedelta(days=int(days))
    return day.isoformat()


MACROS = {"closed_hours": closed_hours, "hour_slices": hour_slices,
          "purge_day": purge_day}
HOURS = ("{{ closed_hours(data_interval_end,"
         " var.value.get('adtally_lookback_hours', 6),"
         " var.value.get('adtally_grace_minutes', 15)) }}")

with DAG(
    dag_id="adtally_hourly",
    description="recompute the last closed hours from the lake, then "
                "check the tallies and the stream",
    schedule="@hourly",
    start_date=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    user_defined_macros=MACROS,
    tags=["adtally"],
) as hourly:
    recompute = BashOperator(
        task_id="recompute",
        bash_command=f"{RECOMPUTE} {HOURS}",
        execution_timeout=dt.timedelta(minutes=45),
    )
    check_totals = BashOperator(
        task_id="check_totals",
        bash_command=f"{RECOMPUTE} --check {HOURS}",
        retries=0,
    )
    check_lag = BashOperator(
        task_id="check_lag",
        bash_command=f"{STREAM_CHECK} lag"
        " --max-lag {{ var.value.get('adtally_max_lag', 100000) }}"
        " --max-age {{ var.value.get('adtally_max_age_s', 300) }}",
        execution_timeout=dt.timedelta(minutes=5),
    )
    check_rejected = BashOperator(
        task_id="check_rejected",
        bash_command=f"{STREAM_CHECK} rejected --max-reject-share"
        " {{ var.value.get('adtally_max_reject_share', 0.05) }}",
        execution_timeout=dt.timedelta(minutes=5),
    )
    recompute >> check_totals

with DAG(
    dag_id="adtally_backfill",
    description="recompute a given range of lake hours, then check it",
    schedule=None,
    start_date=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    default_args=DEFAULTS,
    user_defined_macros=MACROS,
    params={
        "from": Param("2022-07-04T00", type="string",
                      pattern=r"^\d{4}-\d\d-\d\dT\d\d$",
                      description="first lake hour, UTC"),
        "to": Param("2022-07-28T23", type="string",
                    pattern=r"^\d{4}-\d\d-\d\dT\d\d$",
                    description="last lake hour, UTC, included"),
    },
    tags=["adtally"],
) as backfill:
    SLICES = "{% for s in hour_slices(params['from'], params['to']) %}"
    recompute_range = BashOperator(
        task_id="recompute",
        bash_command="set -e; " + SLICES + f"{RECOMPUTE} {{{{ s }}}}; "
        "{% endfor %}",
        execution_timeout=dt.timedelta(hours=6),
    )
    check_range = BashOperator(
        task_id="check_totals",
        bash_command="set -e; " + SLICES + f"{RECOMPUTE} --check {{{{ s }}}}; "
        "{% endfor %}",
        retries=0,
        execution_timeout=dt.timedelta(hours=2),
    )
    recompute_range >> check_range

with DAG(
    dag_id="adtally_retention",
    description="purge the raw lake's hours older than the retention",
    schedule="@daily",
    start_date=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    default_args=DEFAULTS,
    user_defined_macros=MACROS,
    tags=["adtally"],
) as retention:
    BashOperator(
        task_id="purge",
        bash_command=f"{ADTALLY} lake purge --before "
        "{{ purge_day(data_interval_end,"
        " var.value.get('adtally_lake_retention_days', 90)) }}",
    )
