/* `adtally archive`: Kafka to the raw lake in Cassandra, at least once. */
#include "role/archive.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "role/lake_table.h"
#include "role/role.h"
#include "util/log.h"

#define ROWS_SLACK 10000 /* rows beyond --batch-max taken while waiting */

volatile sig_atomic_t arch_stop_flag;

static const struct cfg_opt archive_table[] = {
    {"group", CFG_STR, "adtally-archive", 0, 0,
     offsetof(struct archive_opts, group), "Kafka consumer group"},
    {"batch-max", CFG_INT, "10000", 1, 1000000,
     offsetof(struct archive_opts, batch_max),
     "write and commit once this many events are pending"},
    {"flush-ms", CFG_INT, "500", 10, 60000,
     offsetof(struct archive_opts, flush_ms),
     "write and commit at least this often while events flow"},
    {"inflight", CFG_INT, "16", 1, ARCH_INFLIGHT_MAX,
     offsetof(struct archive_opts, inflight),
     "Cassandra requests in flight (64 suits --write-mode execute)"},
    {"write-mode", CFG_STR, "batch", 0, 0,
     offsetof(struct archive_opts, write_mode),
     "batch: an unlogged batch per lake partition; execute: an INSERT "
     "each"},
    {"batch-statements", CFG_INT, "30", 1, ARCH_BATCH_MAX,
     offsetof(struct archive_opts, batch_statements),
     "--write-mode batch: most INSERTs in one batch"},
    {"batch-bytes", CFG_INT, "16384", 1024, 49152,
     offsetof(struct archive_opts, batch_bytes),
     "--write-mode batch: most bytes of values in one batch"},
    {"ttl-days", CFG_INT, "0", 0, 3650, offsetof(struct archive_opts, ttl_days),
     "rows expire this many days after archiving (0: never)"},
    {"status-interval", CFG_INT, "10", 0, 3600,
     offsetof(struct archive_opts, status_s),
     "seconds between status lines (0: none)"},
    {"drain", CFG_BOOL, "false", 0, 0, offsetof(struct archive_opts, drain),
     "exit once written and committed up to the ends as of the start"},
    CFG_END,
};

static const struct cfg_role archive_role = {
    "archive", "[options]",
    "Reads <topic> as a member of a consumer group and writes every valid\n"
    "event, with all its fields, to the Cassandra table `tracking` (the raw\n"
    "lake, partitioned by event hour and bucket). Offsets are committed to\n"
    "Kafka only once Cassandra has acknowledged the writes before them; a\n"
    "repeat of an event overwrites itself. Events that fail validation are\n"
    "counted and skipped. SIGTERM writes what was read, commits, exits."};

int64_t arch_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void arch_on_signal(int sig)
{
    (void)sig;
    arch_stop_flag = 1;
}

/* The next free row, grown within the cap. NULL when out of rows. */
static struct arch_row *arch_row_next(struct arch *ar)
{
    struct arch_row *rows;
    size_t cap;

    if (ar->nrows < ar->rows_cap)
        return &ar->rows[ar->nrows];
    if (ar->rows_cap >= ar->rows_max)
        return NULL;
    cap = ar->rows_cap ? ar->rows_cap * 2 : 256;
    cap = cap > ar->rows_max ? ar->rows_max : cap;
    rows = realloc(ar->rows, cap * sizeof(*rows));
    if (rows == NULL)
        return NULL;
    /* Moving an event is safe: its texts point into its heap store. */
    ar->rows = rows;
    for (size_t i = ar->rows_cap; i < cap; i++)
        event_init(&ar->rows[i].ev);
    ar->rows_cap = cap;
    return &ar->rows[ar->nrows];
}

/* A partition's end: offsets up to it hold nothing more to read. */
static void arch_at_end(struct arch *ar, const rd_kafka_message_t *m)
{
    struct arch_part *pp;

    if (m->partition < 0 || m->partition >= ARCH_MAX_PARTS)
        return;
    pp = &ar->parts[m->partition];
    if (pp->owned && m->offset > pp->next)
        pp->next = m->offset;
}

int arch_message(struct arch *ar, const rd_kafka_message_t *m)
{
    struct arch_part *pp;
    struct arch_row *row;
    struct ev_error e;

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        arch_at_end(ar, m);
        return 0;
    }
    if (m->err) {
        log_warn("archive", "kafka: %s", rd_kafka_message_errstr(m));
        return 0;
    }
    if (m->partition < 0 || m->partition >= ARCH_MAX_PARTS)
        return 0;
    pp = &ar->parts[m->partition];
    if (!pp->owned || m->offset < pp->next)
        return 0;
    if ((row = arch_row_next(ar)) == NULL) {
        log_error("archive", "no room for more than %zu pending events",
                  ar->rows_cap);
        ar->failed = 1;
        return -1;
    }
    pp->next = m->offset + 1;
    ar->seen++;
    if (event_parse_json(&row->ev, m->payload ? m->payload : "", m->len, &e) !=
        0) {
        ar->invalid++; /* the processor rejects it; nothing to archive */
        log_debug("archive", "partition %d offset %lld skipped: %s: %s",
                  m->partition, (long long)m->offset, e.field, e.reason);
        return 0;
    }
    row->partition = m->partition;
    if (ar->nrows++ == 0)
        ar->first_row_ms = arch_now_ms();
    return 0;
}

/* The end offset of partition p: the watermark cached by fetches, or,
 * while the partitions are paused for a failing write (the cache then
 * stops moving), the broker's answer, which comes at once since no fetch
 * is in flight. Returns 0, or -1 when neither is known. */
static int arch_high_watermark(struct arch *ar, int p, int64_t *hi)
{
    int64_t lo;
    char err[256];

    if (ar->in_flush &&
        kafka_consumer_watermarks(ar->kc, ar->cfg->topic, p, &lo, hi, 500, err,
                                  sizeof(err)) == 0)
        return 0;
    if (rd_kafka_get_watermark_offsets(kafka_consumer_handle(ar->kc),
                                       ar->cfg->topic, p, &lo, hi) != 0)
        return -1;
    return 0;
}

long long arch_lag(struct arch *ar)
{
    long long lag = 0;
    int64_t hi;

    for (int p = 0; p < ar->nparts; p++) {
        if (ar->parts[p].owned && arch_high_watermark(ar, p, &hi) == 0 &&
            hi > ar->parts[p].next)
            lag += hi - ar->parts[p].next;
    }
    return lag;
}

static void arch_status(struct arch *ar, const char *what, const struct hist *h,
                        double secs, uint64_t archived_before)
{
    log_info(
        "archive",
        "%s: %.0f events/s, lag %lld, pending %zu, archived %llu, "
        "invalid %llu, "
        "write latency p50 %.1f ms p99 %.1f ms max %.1f ms (%llu "
        "requests), write failures %llu, commits %llu (%llu failed)",
        what, secs > 0 ? (double)(ar->archived - archived_before) / secs : 0.0,
        arch_lag(ar), ar->nrows, (unsigned long long)ar->archived,
        (unsigned long long)ar->invalid, (double)hist_quantile(h, 0.5) / 1000,
        (double)hist_quantile(h, 0.99) / 1000, (double)h->max / 1000,
        (unsigned long long)h->count, (unsigned long long)ar->write_failures,
        (unsigned long long)ar->commits,
        (unsigned long long)ar->commit_failures);
}

/* --drain: a partition another member owns counts as caught up once the
 * group's committed offset for it has reached its start target. Asked at
 * most every 200 ms. Returns 1 when all have, 0 when not (or on error). */
static int arch_others_drained(struct arch *ar, int64_t now)
{
    rd_kafka_topic_partition_list_t *l;
    int done = 1;

    if (now - ar->drain_checked_ms < 200)
        return 0;
    ar->drain_checked_ms = now;
    l = rd_kafka_topic_partition_list_new(ar->ntargets > 0 ? ar->ntargets : 1);
    for (int p = 0; p < ar->ntargets; p++)
        if (!ar->parts[p].owned && ar->parts[p].target > 0)
            rd_kafka_topic_partition_list_add(l, ar->cfg->topic, p);
    if (l->cnt > 0 &&
        rd_kafka_committed(kafka_consumer_handle(ar->kc), l, 5000) != 0)
        done = 0;
    for (int i = 0; done && i < l->cnt; i++)
        if (l->elems[i].err ||
            l->elems[i].offset < ar->parts[l->elems[i].partition].target)
            done = 0;
    rd_kafka_topic_partition_list_destroy(l);
    return done;
}

/* --drain: every partition of the topic has committed up to its start
 * target, the owned ones by this member, the others by any member. */
static int arch_drained(struct arch *ar, int64_t now)
{
    if (ar->nrows > 0)
        return 0;
    for (int p = 0; p < ar->nparts; p++) {
        const struct arch_part *pp = &ar->parts[p];

        if (pp->owned && (pp->next < pp->target || pp->committed < pp->next))
            return 0;
    }
    return arch_others_drained(ar, now);
}

/* --drain: the end of every partition now is where draining stops. */
static int arch_set_targets(struct arch *ar)
{
    char err[512];
    int64_t lo, hi;
    int n = kafka_topic_partitions(kafka_consumer_handle(ar->kc),
                                   ar->cfg->topic, 10000, err, sizeof(err));

    if (n <= 0) {
        log_error("archive", "kafka: topic %s: %s", ar->cfg->topic,
                  n == 0 ? "does not exist (run adtally schema apply)" : err);
        return -1;
    }
    for (int p = 0; p < n && p < ARCH_MAX_PARTS; p++) {
        if (kafka_consumer_watermarks(ar->kc, ar->cfg->topic, p, &lo, &hi,
                                      10000, err, sizeof(err)) != 0) {
            log_error("archive", "kafka: %s", err);
            return -1;
        }
        ar->parts[p].target = hi;
    }
    ar->ntargets = n < ARCH_MAX_PARTS ? n : ARCH_MAX_PARTS;
    return 0;
}

/* Writes when the pending rows are many or old enough; with none pending,
 * commits offsets that only moved past skipped messages. Returns 0, or -1
 * when stopping with rows unwritten. */
static int arch_maybe_flush(struct arch *ar, int64_t now)
{
    if (ar->nrows >= (size_t)ar->o->batch_max ||
        (ar->nrows > 0 && now - ar->first_row_ms >= ar->o->flush_ms))
        return arch_flush(ar, 0);
    if (ar->nrows == 0 && now - ar->last_commit_ms >= ar->o->flush_ms)
        arch_commit(ar);
    return 0;
}

void arch_tick(struct arch *ar)
{
    int64_t now = arch_now_ms();

    if (ar->o->status_s == 0 ||
        now - ar->last_status_ms < ar->o->status_s * 1000)
        return;
    arch_status(ar, "status", &ar->lat,
                (double)(now - ar->last_status_ms) / 1000,
                ar->archived_at_status);
    hist_merge(&ar->lat_total, &ar->lat);
    hist_reset(&ar->lat);
    ar->archived_at_status = ar->archived;
    ar->last_status_ms = arch_now_ms(); /* the line itself may take a while */
}

static int arch_run(struct arch *ar)
{
    int rc = 0;

    ar->started_ms = ar->last_status_ms = arch_now_ms();
    while (!arch_stop_flag && rc == 0) {
        rd_kafka_message_t *m = kafka_consumer_poll(ar->kc, 50);

        if (kafka_consumer_failed(ar->kc) || ar->failed) {
            rc = -1;
            break;
        }
        if (m != NULL) {
            rc = arch_message(ar, m);
            rd_kafka_message_destroy(m);
        }
        if (rc == 0)
            rc = arch_maybe_flush(ar, arch_now_ms());
        arch_tick(ar);
        if (ar->o->drain && arch_drained(ar, arch_now_ms()))
            break;
    }
    if (rc == 0 && !ar->failed && arch_flush(ar, 0) != 0)
        rc = -1;
    if (ar->nrows > 0) /* stopping with rows unwritten: commit nothing more */
        ar->failed = 1;
    hist_merge(&ar->lat_total, &ar->lat);
    hist_reset(&ar->lat);
    arch_status(ar, "done", &ar->lat_total,
                (double)(arch_now_ms() - ar->started_ms) / 1000, 0);
    return rc == 0 && !ar->failed ? 0 : -1;
}

/* The Cassandra client and its INSERT, prepared now when the node is up
 * (else on the first write). */
static int arch_setup_cql(struct arch *ar)
{
    struct cql_settings st = {.contact_points = ar->cfg->cassandra,
                              .user = ar->cfg->cassandra_user,
                              .password = ar->cfg->cassandra_password};
    char err[1024];

    buf_init(&ar->insert_cql, 1 << 16);
    if (!cql_name_valid(ar->cfg->keyspace)) {
        log_error("archive",
                  "--keyspace '%s': use 1 to 48 letters, digits "
                  "or underscores",
                  ar->cfg->keyspace);
        return -1;
    }
    if (lake_table_insert_cql(&ar->insert_cql, ar->cfg->keyspace,
                              ar->o->ttl_days * 86400) != 0)
        return -1;
    ar->cl = cql_client_create(&st, err, sizeof(err));
    if (ar->cl == NULL) {
        log_error("archive", "--cassandra: %s", err);
        return -1;
    }
    if (cql_client_prepare(ar->cl, ar->insert_cql.data, &ar->ins, err,
                           sizeof(err)) != CQL_OK)
        log_warn("archive",
                 "cassandra: cannot prepare the INSERT yet (%s); "
                 "retrying with the first write",
                 err);
    return 0;
}

static int arch_setup(struct arch *ar)
{
    char err[1024];

    ar->rows_max = (size_t)ar->o->batch_max + ROWS_SLACK;
    if (arch_setup_cql(ar) != 0)
        return -1;
    ar->kc = kafka_consumer_create(ar->cfg->kafka, ar->o->group,
                                   ar->cfg->kafka_props, ar->cfg->n_kafka_props,
                                   arch_on_rebalance, ar, err, sizeof(err));
    if (ar->kc == NULL) {
        log_error("archive", "kafka: %s", err);
        return -1;
    }
    if (ar->o->drain && arch_set_targets(ar) != 0)
        return -1;
    if (kafka_consumer_subscribe(ar->kc, ar->cfg->topic, err, sizeof(err))) {
        log_error("archive", "kafka: %s", err);
        return -1;
    }
    return 0;
}

static void arch_destroy(struct arch *ar)
{
    kafka_consumer_destroy(ar->kc);
    cql_prepared_free(ar->ins);
    cql_client_destroy(ar->cl);
    buf_free(&ar->insert_cql);
    for (size_t i = 0; i < ar->rows_cap; i++)
        event_free(&ar->rows[i].ev);
    free(ar->rows);
    free(ar->vals);
    free(ar->params);
    free(ar->slots);
    free(ar->reqs);
}

int role_archive_main(int argc, char **argv)
{
    static struct arch ar; /* large: keep it off the stack */
    struct archive_opts o = {0};
    struct config cfg;
    int rc = 2, lrc;

    memset(&ar, 0, sizeof(ar));
    lrc = config_load(&cfg, &archive_role, archive_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    ar.cfg = &cfg;
    ar.o = &o;
    ar.batch_mode = strcmp(o.write_mode, "batch") == 0;
    if (!ar.batch_mode && strcmp(o.write_mode, "execute") != 0) {
        log_error("archive", "--write-mode: '%s' is not execute or batch",
                  o.write_mode);
        goto out;
    }
    signal(SIGTERM, arch_on_signal);
    signal(SIGINT, arch_on_signal);
    rc = 1;
    if (arch_setup(&ar) != 0)
        goto out;
    log_info("archive",
             "started: topic %s, group %s, keyspace %s, %s writes, %lld in "
             "flight, ttl %lld days",
             cfg.topic, o.group, cfg.keyspace, o.write_mode, o.inflight,
             o.ttl_days);
    rc = arch_run(&ar) == 0 ? 0 : 1;
    log_info("archive", "stopped: exit %d", rc);
out:
    arch_destroy(&ar);
    config_free(&cfg);
    return rc;
}
