/* `adtally process`: Kafka to hourly tallies in MySQL, exactly once. */
#include "role/process.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/reject.h"
#include "role/role.h"
#include "util/log.h"

volatile sig_atomic_t proc_stop_flag;

static const struct cfg_opt process_table[] = {
    {"group", CFG_STR, "adtally-process", 0, 0,
     offsetof(struct process_opts, group), "Kafka consumer group"},
    {"commit-ms", CFG_INT, "500", 10, 60000,
     offsetof(struct process_opts, commit_ms),
     "commit a batch at least this often while events flow"},
    {"batch-max", CFG_INT, "20000", 1, 10000000,
     offsetof(struct process_opts, batch_max),
     "commit a batch once it holds this many messages"},
    {"dedup-window", CFG_INT, "3600", 0, 604800,
     offsetof(struct process_opts, dedup_window_s),
     "seconds of arrival time within which a repeated create_time counts "
     "once"},
    {"dedup-max", CFG_INT, "20000000", 1000, 1000000000,
     offsetof(struct process_opts, dedup_max),
     "most events held in one partition's window (~64 bytes each)"},
    {"dims-refresh", CFG_INT, "60", 1, 86400,
     offsetof(struct process_opts, dims_refresh_s),
     "seconds between reloads of the job dimension"},
    {"status-interval", CFG_INT, "10", 0, 3600,
     offsetof(struct process_opts, status_s),
     "seconds between status lines (0: none)"},
    {"drain", CFG_BOOL, "false", 0, 0, offsetof(struct process_opts, drain),
     "exit once caught up with every partition's end as of the start"},
    CFG_END,
};

static const struct cfg_role process_role = {
    "process", "[options]",
    "Reads <topic> as a member of a consumer group, validates and\n"
    "attributes each event, and adds it to its hour in the MySQL table\n"
    "`events`, storing the consumed offsets in the same transaction.\n"
    "Repeats of a create_time within the dedup window count once. Events\n"
    "that fail validation go to <topic>.rejected. SIGTERM finishes the\n"
    "current batch and exits."};

static void proc_on_signal(int sig)
{
    (void)sig;
    proc_stop_flag = 1;
}

static void proc_reject(struct proc *pr, const rd_kafka_message_t *m,
                        const struct ev_error *e)
{
    struct buf out;
    char err[512];

    pr->rejected++;
    buf_init(&out, 0);
    if (reject_to_json(&out, e, m->payload, m->len) != 0 ||
        kafka_producer_send(pr->rejects, pr->rejected_topic, NULL, 0, out.data,
                            out.len, NULL, 30000, err, sizeof(err)) != 0) {
        pr->reject_failures++;
        log_error("process", "kafka: cannot queue a rejected event: %s", err);
    }
    buf_free(&out);
}

static void proc_on_delivery(void *ctx, void *msg, int err, const char *errstr)
{
    struct proc *pr = ctx;

    (void)msg;
    if (err) {
        pr->reject_failures++;
        log_error("process", "kafka: a rejected event was not delivered: %s",
                  errstr);
    }
}

static int proc_note_arrival(struct proc *pr, int64_t arrival)
{
    if (pr->narrivals == pr->arrivals_cap) {
        size_t cap = pr->arrivals_cap ? pr->arrivals_cap * 2 : 4096;
        int64_t *a = realloc(pr->arrivals, cap * sizeof(*a));
        if (a == NULL)
            return -1;
        pr->arrivals = a;
        pr->arrivals_cap = cap;
    }
    pr->arrivals[pr->narrivals++] = arrival;
    return 0;
}

/* Handles one event of an owned partition. Returns 0, or -1 when out of
 * memory (the process must stop without committing). */
static int proc_event(struct proc *pr, const rd_kafka_message_t *m,
                      struct event *ev)
{
    struct proc_part *pp = &pr->parts[m->partition];
    int live = m->offset >= pp->replay_to, rep;
    int64_t arrival = rd_kafka_message_timestamp(m, NULL);
    struct tally_key key;
    struct tally_delta d;
    struct ev_error e;

    if (live) {
        pr->seen++;
        pp->dirty = 1;
        if (pr->batch_msgs++ == 0)
            pr->batch_started_ms = proc_now_ms();
    }
    if (event_parse_json(ev, m->payload, m->len, &e) != 0) {
        if (live)
            proc_reject(pr, m, &e);
        return 0;
    }
    if (arrival < 0)
        arrival = proc_now_ms();
    rep = dedup_check(&pp->dd, ev->uuid, arrival);
    if (rep < 0)
        return -1;
    if (!live)
        return 0;
    if (rep == 1) {
        pr->repeats++;
        return 0;
    }
    if (!tally_event(ev, proc_job_lookup, pr,
                     tally_zone_offset(pr->utc, ev->time_ms), &key, &d)) {
        pr->not_tallied++;
        return 0;
    }
    pr->tallied++;
    if (tally_batch_add(&pr->batch, &key, &d) != 0 ||
        proc_note_arrival(pr, arrival) != 0)
        return -1;
    return 0;
}

static int proc_message(struct proc *pr, const rd_kafka_message_t *m,
                        struct event *ev)
{
    struct proc_part *pp;

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return 0;
    if (m->err) {
        log_warn("process", "kafka: %s", rd_kafka_message_errstr(m));
        return 0;
    }
    if (m->partition < 0 || m->partition >= PROC_MAX_PARTS)
        return 0;
    pp = &pr->parts[m->partition];
    if (!pp->owned || m->offset < pp->next)
        return 0;
    pp->next = m->offset + 1;
    return proc_event(pr, m, ev);
}

/* The q-quantile of a freshness histogram in ms; -1 when it is empty. */
static int64_t proc_percentile(const uint32_t *hist, double q)
{
    uint64_t total = 0, seen = 0;

    for (int i = 0; i <= 10000; i++)
        total += hist[i];
    if (total == 0)
        return -1;
    for (int i = 0; i <= 10000; i++) {
        seen += hist[i];
        if ((double)seen >= q * (double)total)
            return i;
    }
    return 10000;
}

/* Moves the interval's freshness counts into the whole run's. */
static void proc_fresh_merge(struct proc *pr)
{
    for (int i = 0; i <= 10000; i++)
        pr->fresh_total[i] += pr->fresh_hist[i];
    memset(pr->fresh_hist, 0, sizeof(pr->fresh_hist));
}

/* Logs a status line: rates and freshness over the last `secs` (the
 * interval's histogram, then emptied), or over the whole run when
 * `final`. */
static void proc_status(struct proc *pr, double secs, uint64_t seen_before,
                        int final)
{
    int64_t lag = 0, lo, hi;
    size_t dd = 0, dd_bytes = 0;
    const uint32_t *fh = final ? pr->fresh_total : pr->fresh_hist;

    if (final)
        proc_fresh_merge(pr);

    for (int p = 0; p < pr->nparts; p++) {
        if (!pr->parts[p].owned)
            continue;
        if (rd_kafka_get_watermark_offsets(kafka_consumer_handle(pr->kc),
                                           pr->cfg->topic, p, &lo, &hi) == 0 &&
            hi > pr->parts[p].next)
            lag += hi - pr->parts[p].next;
        dd += dedup_count(&pr->parts[p].dd);
        dd_bytes += dedup_bytes(&pr->parts[p].dd);
    }
    log_info("process",
             "%s: %.0f events/s, lag %lld, tallied %llu, repeats %llu, "
             "not tallied %llu, rejected %llu, commits %llu (avg %.1f ms, "
             "max %.0f ms), freshness p50 %lld ms p95 %lld ms, dedup %zu "
             "events (%zu KiB)",
             final ? "done" : "status",
             secs > 0 ? (double)(pr->seen - seen_before) / secs : 0.0,
             (long long)lag, (unsigned long long)pr->tallied,
             (unsigned long long)pr->repeats,
             (unsigned long long)pr->not_tallied,
             (unsigned long long)pr->rejected, (unsigned long long)pr->commits,
             pr->commits ? pr->commit_ms_sum / (double)pr->commits : 0.0,
             pr->commit_ms_max, (long long)proc_percentile(fh, 0.5),
             (long long)proc_percentile(fh, 0.95), dd, dd_bytes / 1024);
    if (!final)
        proc_fresh_merge(pr);
}

/* --drain: a partition another member owns counts as caught up once the
 * offset stored for it in MySQL has reached its start target. Read at most
 * every 200 ms. Returns 1 when all have, 0 when not (or on a read error). */
static int proc_others_drained(struct proc *pr, int64_t now)
{
    int64_t off;

    if (now - pr->drain_checked_ms < 200)
        return 0;
    pr->drain_checked_ms = now;
    for (int p = 0; p < pr->ntargets; p++) {
        const struct proc_part *pp = &pr->parts[p];
        if (pp->owned || pp->target == 0)
            continue;
        if (proc_offset_stored(pr, p, &off) != 0 || off < pp->target)
            return 0;
    }
    return 1;
}

/* --drain: every partition of the topic has committed up to its start
 * target, the owned ones by this member, the others by any member. */
static int proc_drained(struct proc *pr, int64_t now)
{
    if (pr->batch_msgs)
        return 0;
    for (int p = 0; p < pr->nparts; p++) {
        const struct proc_part *pp = &pr->parts[p];
        if (pp->owned && (pp->next < pp->target || pp->next < pp->replay_to))
            return 0;
    }
    return proc_others_drained(pr, now);
}

/* --drain: the end of every partition now is where draining stops. */
static int proc_set_targets(struct proc *pr)
{
    char err[512];
    int64_t lo, hi;
    int n = kafka_topic_partitions(kafka_consumer_handle(pr->kc),
                                   pr->cfg->topic, 10000, err, sizeof(err));

    if (n <= 0) {
        log_error("process", "kafka: topic %s: %s", pr->cfg->topic,
                  n == 0 ? "does not exist (run adtally schema apply)" : err);
        return -1;
    }
    for (int p = 0; p < n && p < PROC_MAX_PARTS; p++) {
        if (kafka_consumer_watermarks(pr->kc, pr->cfg->topic, p, &lo, &hi,
                                      10000, err, sizeof(err)) != 0) {
            log_error("process", "kafka: %s", err);
            return -1;
        }
        pr->parts[p].target = hi;
    }
    pr->ntargets = n < PROC_MAX_PARTS ? n : PROC_MAX_PARTS;
    return 0;
}

static int proc_setup(struct proc *pr)
{
    char err[1024];

    if (db_url_parse(pr->cfg->mysql, &pr->url, err, sizeof(err)) != 0) {
        log_error("process", "--mysql: %s", err);
        return -1;
    }
    if (proc_db_open(pr) != 0 || proc_jobs_load(pr) != 0)
        return -1;
    config_rejected_topic(pr->cfg, pr->rejected_topic,
                          sizeof(pr->rejected_topic));
    pr->rejects = kafka_producer_create(pr->cfg->kafka, pr->cfg->kafka_props,
                                        pr->cfg->n_kafka_props,
                                        proc_on_delivery, pr, err, sizeof(err));
    if (pr->rejects == NULL) {
        log_error("process", "kafka: %s", err);
        return -1;
    }
    pr->kc = kafka_consumer_create(pr->cfg->kafka, pr->o->group,
                                   pr->cfg->kafka_props, pr->cfg->n_kafka_props,
                                   proc_on_rebalance, pr, err, sizeof(err));
    if (pr->kc == NULL) {
        log_error("process", "kafka: %s", err);
        return -1;
    }
    if ((pr->o->drain && proc_set_targets(pr) != 0) ||
        kafka_consumer_subscribe(pr->kc, pr->cfg->topic, err, sizeof(err)) !=
            0) {
        if (!pr->o->drain)
            log_error("process", "kafka: %s", err);
        return -1;
    }
    return 0;
}

/* Commits when the batch is old or large enough; a fenced commit makes
 * every owned partition start again from its stored offset. */
static int proc_maybe_commit(struct proc *pr, int64_t now)
{
    int rc;

    if (pr->batch_msgs == 0 || (now - pr->batch_started_ms < pr->o->commit_ms &&
                                pr->batch_msgs < pr->o->batch_max))
        return 0;
    rc = proc_commit(pr);
    if (rc == 1)
        return proc_reset_owned(pr);
    return rc;
}

static int proc_run(struct proc *pr)
{
    struct event ev;
    int64_t started = proc_now_ms(), last_status = started;
    uint64_t seen_before = 0;
    int rc = 0;

    event_init(&ev);
    while (!proc_stop_flag && rc == 0) {
        rd_kafka_message_t *m = kafka_consumer_poll(pr->kc, 50);
        int64_t now;

        if (kafka_consumer_failed(pr->kc)) {
            rc = -1;
            break;
        }
        if (m != NULL) {
            rc = proc_message(pr, m, &ev);
            rd_kafka_message_destroy(m);
        }
        now = proc_now_ms();
        if (rc == 0)
            rc = proc_maybe_commit(pr, now);
        if (now - pr->jobs.loaded_ms >= pr->o->dims_refresh_s * 1000)
            proc_jobs_load(pr);
        if (pr->o->status_s && now - last_status >= pr->o->status_s * 1000) {
            proc_status(pr, (double)(now - last_status) / 1000, seen_before, 0);
            seen_before = pr->seen;
            last_status = now;
        }
        if (pr->o->drain && proc_drained(pr, now))
            break;
    }
    event_free(&ev);
    if (rc == 0 && proc_commit(pr) != 0)
        rc = -1;
    proc_status(pr, (double)(proc_now_ms() - started) / 1000, 0, 1);
    return rc;
}

/* Makes the reporting zone the process's local time; UTC needs nothing. */
static int proc_set_zone(struct proc *pr)
{
    char path[512];

    pr->utc = strcmp(pr->cfg->tz, "UTC") == 0;
    if (pr->utc)
        return 0;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", pr->cfg->tz);
    if (strstr(pr->cfg->tz, "..") || access(path, R_OK) != 0) {
        log_error("process", "--tz: unknown time zone '%s'", pr->cfg->tz);
        return -1;
    }
    setenv("TZ", pr->cfg->tz, 1);
    tzset();
    return 0;
}

static void proc_destroy(struct proc *pr)
{
    kafka_consumer_destroy(pr->kc);
    if (pr->rejects && kafka_producer_flush(pr->rejects, 30000) != 0)
        log_error("process", "kafka: rejected events left undelivered");
    kafka_producer_destroy(pr->rejects);
    proc_db_close(pr);
    for (int p = 0; p < PROC_MAX_PARTS; p++)
        dedup_free(&pr->parts[p].dd);
    tally_batch_free(&pr->batch);
    free(pr->jobs.ids);
    free(pr->jobs.jobs);
    free(pr->arrivals);
}

int role_process_main(int argc, char **argv)
{
    static struct proc pr; /* large: keep it off the stack */
    struct process_opts o = {0};
    struct config cfg;
    int rc = 2, lrc;

    memset(&pr, 0, sizeof(pr));
    lrc = config_load(&cfg, &process_role, process_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    pr.cfg = &cfg;
    pr.o = &o;
    tally_batch_init(&pr.batch);
    if (proc_set_zone(&pr) != 0)
        goto out;
    signal(SIGTERM, proc_on_signal);
    signal(SIGINT, proc_on_signal);
    rc = 1;
    if (proc_setup(&pr) != 0)
        goto out;
    log_info("process",
             "started: topic %s, group %s, commit every %lld ms, "
             "dedup window %lld s",
             cfg.topic, o.group, o.commit_ms, o.dedup_window_s);
    rc = proc_run(&pr) == 0 && pr.reject_failures == 0 ? 0 : 1;
    log_info("process", "stopped: exit %d", rc);
out:
    proc_destroy(&pr);
    config_free(&cfg);
    return rc;
}
