/* `adtally process`: MySQL side — dimension cache, stored offsets, and the
 * transaction that commits a batch with its offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "role/process.h"
#include "util/log.h"

static const int upsert_sizes[5] = {256, 64, 16, 4, 1};

#define ROW_PARAMS 14

int64_t proc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct db_stmt *proc_prepare_upsert(struct db *db, int rows)
{
    struct buf sql;
    struct db_stmt *st = NULL;
    char err[1024];
    int rc;

    buf_init(&sql, 1 << 20);
    rc = buf_puts(&sql,
                  "INSERT INTO events (job_id, dates, hours, publisher_id,"
                  " campaign_id, group_id, company_id, impressions, clicks,"
                  " conversion, qualified_application,"
                  " disqualified_application, spend_hour, bid_set, sources,"
                  " latest_update_time) VALUES ");
    for (int i = 0; i < rows; i++)
        rc |= buf_puts(&sql, i ? ", (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'kafka',"
                                 "UTC_TIMESTAMP(3))"
                               : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,'kafka',"
                                 "UTC_TIMESTAMP(3))");
    rc |= buf_puts(
        &sql, " ON DUPLICATE KEY UPDATE company_id = VALUES(company_id),"
              " impressions = impressions + VALUES(impressions),"
              " clicks = clicks + VALUES(clicks),"
              " conversion = conversion + VALUES(conversion),"
              " qualified_application = qualified_application"
              " + VALUES(qualified_application),"
              " disqualified_application = disqualified_application"
              " + VALUES(disqualified_application),"
              " spend_hour = spend_hour + VALUES(spend_hour),"
              " bid_set = IF(clicks > 0, ROUND(spend_hour / clicks, 4), NULL),"
              " sources = 'kafka', latest_update_time = UTC_TIMESTAMP(3)");
    if (rc == 0)
        st = db_prepare(db, sql.data, err, sizeof(err));
    if (st == NULL)
        log_error("process", "mysql: prepare upsert: %s", err);
    buf_free(&sql);
    return st;
}

int proc_db_open(struct proc *pr)
{
    char err[1024];

    pr->db = db_connect(&pr->url, 1, 5, err, sizeof(err));
    if (pr->db == NULL) {
        log_error("process", "%s", err);
        return -1;
    }
    for (int i = 0; i < 5; i++) {
        pr->upsert[i] = proc_prepare_upsert(pr->db, upsert_sizes[i]);
        if (pr->upsert[i] == NULL) {
            proc_db_close(pr);
            return -1;
        }
    }
    return 0;
}

void proc_db_close(struct proc *pr)
{
    db_close(pr->db);
    pr->db = NULL;
    memset(pr->upsert, 0, sizeof(pr->upsert));
}

struct jobs_load {
    struct proc_jobs j;
    size_t n;
    int failed;
};

static int proc_job_row(void *ctx, int ncols, char **v)
{
    struct jobs_load *l = ctx;
    int32_t id;
    size_t i;

    (void)ncols;
    if (v[0] == NULL)
        return 0;
    id = (int32_t)strtol(v[0], NULL, 10);
    i = ((uint32_t)id * 2654435761u) & (l->j.nslots - 1);
    while (l->j.ids[i])
        i = (i + 1) & (l->j.nslots - 1);
    l->j.ids[i] = id + 1;
    for (int c = 1; c <= 3; c++) {
        int32_t x = v[c] ? (int32_t)strtol(v[c], NULL, 10) : -1;
        if (c == 1)
            l->j.jobs[i].company_id = x;
        else if (c == 2)
            l->j.jobs[i].campaign_id = x;
        else
            l->j.jobs[i].group_id = x;
    }
    return 0;
}

static int proc_count_row(void *ctx, int ncols, char **v)
{
    (void)ncols;
    *(size_t *)ctx = v[0] ? (size_t)strtoull(v[0], NULL, 10) : 0;
    return 0;
}

int proc_jobs_load(struct proc *pr)
{
    struct jobs_load l = {0};
    size_t count = 0, n = 1024;
    char err[1024] = "cannot connect";

    pr->jobs.loaded_ms = proc_now_ms();
    if (pr->db == NULL && proc_db_open(pr) != 0)
        goto fail;
    if (db_query(pr->db, "SELECT COUNT(*) FROM job", NULL, 0, proc_count_row,
                 &count, err, sizeof(err)) < 0)
        goto fail;
    while (n < count * 2 + 16)
        n *= 2;
    l.j.nslots = n;
    l.j.ids = calloc(n, sizeof(*l.j.ids));
    l.j.jobs = calloc(n, sizeof(*l.j.jobs));
    if (l.j.ids == NULL || l.j.jobs == NULL) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    /* Ids beyond the counted rows cannot overflow: LIMIT holds them. */
    struct db_val lim = DB_INT((long long)(n / 2));
    if (db_query(pr->db,
                 "SELECT id, company_id, campaign_id, group_id FROM job"
                 " LIMIT ?",
                 &lim, 1, proc_job_row, &l, err, sizeof(err)) < 0)
        goto fail;
    free(pr->jobs.ids);
    free(pr->jobs.jobs);
    pr->jobs = l.j;
    pr->jobs.loaded_ms = proc_now_ms();
    log_debug("process", "job dimension loaded: %zu jobs", count);
    return 0;
fail:
    free(l.j.ids);
    free(l.j.jobs);
    log_warn("process", "mysql: loading the job dimension: %s", err);
    return -1;
}

const struct tally_job *proc_job_lookup(void *ctx, int32_t job_id)
{
    struct proc_jobs *j = &((struct proc *)ctx)->jobs;
    size_t i;

    if (j->nslots == 0)
        return NULL;
    i = ((uint32_t)job_id * 2654435761u) & (j->nslots - 1);
    for (; j->ids[i]; i = (i + 1) & (j->nslots - 1)) {
        if (j->ids[i] == job_id + 1)
            return &j->jobs[i];
    }
    return NULL;
}

static int proc_offset_row(void *ctx, int ncols, char **v)
{
    (void)ncols;
    *(int64_t *)ctx = v[0] ? strtoll(v[0], NULL, 10) : -1;
    return 0;
}

/* Reads the stored next offset of one partition; -1 when none. With
 * `lock`, the row is locked for the current transaction. */
static int proc_offset_read(struct proc *pr, int32_t partition, int lock,
                            int64_t *off, char *err, size_t errlen)
{
    struct db_val v[3] = {
        DB_TEXT(pr->o->group, strlen(pr->o->group)),
        DB_TEXT(pr->cfg->topic, strlen(pr->cfg->topic)),
        DB_INT(partition),
    };

    *off = -1;
    return db_query(pr->db,
                    lock ? "SELECT next_offset FROM kafka_offsets WHERE"
                           " consumer_group = ? AND topic = ? AND"
                           " partition_id = ? FOR UPDATE"
                         : "SELECT next_offset FROM kafka_offsets WHERE"
                           " consumer_group = ? AND topic = ? AND"
                           " partition_id = ?",
                    v, 3, proc_offset_row, off, err, errlen) < 0
               ? -1
               : 0;
}

int proc_offset_stored(struct proc *pr, int32_t partition, int64_t *off)
{
    char err[1024];

    for (int attempt = 1;; attempt++) {
        if (pr->db == NULL && proc_db_open(pr) != 0)
            err[0] = '\0';
        else if (proc_offset_read(pr, partition, 0, off, err, sizeof(err)) == 0)
            return 0;
        else
            proc_db_close(pr);
        if (attempt == 10 || proc_stop_flag) {
            log_error("process",
                      "mysql: cannot read the stored offset of "
                      "partition %d: %s",
                      partition, err);
            return -1;
        }
        log_warn("process",
                 "mysql: reading offsets failed (%s); retry %d "
                 "in 1 s",
                 err, attempt);
        sleep(1);
    }
}

/* Binds the rows [from, from + k) of the batch and runs one upsert. */
static int proc_upsert_rows(struct proc *pr, struct db_stmt *st, size_t from,
                            int k, char *err, size_t errlen)
{
    struct db_val v[256 * ROW_PARAMS];
    char text[256][3][32];

    for (int r = 0; r < k; r++) {
        const struct tally_row *row = &pr->batch.rows[from + (size_t)r];
        const struct tally_key *key = &row->key;
        struct db_val *p = &v[r * ROW_PARAMS];
        int64_t bs = tally_bid_set(row->d.spend, row->d.n[TM_CLICKS]);

        snprintf(text[r][0], 32, "%04d-%02d-%02d", key->date / 10000,
                 key->date / 100 % 100, key->date % 100);
        tally_format_money(row->d.spend, text[r][1]);
        tally_format_money(bs, text[r][2]);
        p[0] = DB_INT(key->job_id);
        p[1] = DB_TEXT(text[r][0], strlen(text[r][0]));
        p[2] = DB_INT(key->hour);
        p[3] = DB_INT(key->publisher_id);
        p[4] = DB_INT(key->campaign_id);
        p[5] = DB_INT(key->group_id);
        p[6] = row->d.company_id >= 0 ? DB_INT(row->d.company_id) : DB_NULLV;
        for (int m = 0; m < TM_NMETRICS; m++)
            p[7 + m] = DB_INT(row->d.n[m]);
        p[12] = DB_TEXT(text[r][1], strlen(text[r][1]));
        p[13] = bs >= 0 ? DB_TEXT(text[r][2], strlen(text[r][2])) : DB_NULLV;
    }
    return db_stmt_run(st, v, k * ROW_PARAMS, NULL, NULL, err, errlen) < 0 ? -1
                                                                           : 0;
}

static int proc_write_rows(struct proc *pr, char *err, size_t errlen)
{
    size_t done = 0;

    while (done < pr->batch.nrows) {
        size_t left = pr->batch.nrows - done;
        int i = 0;

        while ((size_t)upsert_sizes[i] > left)
            i++;
        if (proc_upsert_rows(pr, pr->upsert[i], done, upsert_sizes[i], err,
                             errlen) != 0)
            return -1;
        done += (size_t)upsert_sizes[i];
    }
    return 0;
}

/* Checks that no one moved our partitions' offsets, then stores ours.
 * Returns 0, 1 when fenced, -1 on error. */
static int proc_write_offsets(struct proc *pr, char *err, size_t errlen)
{
    for (int p = 0; p < pr->nparts; p++) {
        struct proc_part *pp = &pr->parts[p];
        int64_t have;

        if (!pp->dirty)
            continue;
        if (proc_offset_read(pr, p, 1, &have, err, errlen) != 0)
            return -1;
        if (have != pp->committed) {
            snprintf(err, errlen,
                     "partition %d: stored offset is %lld, "
                     "expected %lld",
                     p, (long long)have, (long long)pp->committed);
            return 1;
        }
        struct db_val v[4] = {
            DB_TEXT(pr->o->group, strlen(pr->o->group)),
            DB_TEXT(pr->cfg->topic, strlen(pr->cfg->topic)),
            DB_INT(p),
            DB_INT(pp->next),
        };
        if (db_query(pr->db,
                     "INSERT INTO kafka_offsets (consumer_group, topic,"
                     " partition_id, next_offset, updated_at) VALUES"
                     " (?, ?, ?, ?, UTC_TIMESTAMP(3)) ON DUPLICATE KEY"
                     " UPDATE next_offset = VALUES(next_offset),"
                     " updated_at = VALUES(updated_at)",
                     v, 4, NULL, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int proc_commit_once(struct proc *pr, char *err, size_t errlen)
{
    int rc;

    if (pr->db == NULL && proc_db_open(pr) != 0) {
        snprintf(err, errlen, "cannot connect");
        return -1;
    }
    if (db_begin(pr->db, err, errlen) != 0)
        return -1;
    rc = proc_write_offsets(pr, err, errlen);
    if (rc == 0)
        rc = proc_write_rows(pr, err, errlen);
    if (rc == 0)
        rc = db_commit(pr->db, err, errlen);
    if (rc != 0)
        db_rollback(pr->db);
    return rc;
}

/* After a commit: offsets are stored, the batch is empty, and each tallied
 * event's arrival-to-commit time goes into the freshness histogram. */
static void proc_committed(struct proc *pr, double took_ms)
{
    int64_t now = proc_now_ms();

    for (int p = 0; p < pr->nparts; p++) {
        if (pr->parts[p].dirty)
            pr->parts[p].committed = pr->parts[p].next;
        pr->parts[p].dirty = 0;
    }
    for (size_t i = 0; i < pr->narrivals; i++) {
        int64_t lag = now - pr->arrivals[i];
        pr->fresh_hist[lag < 0 ? 0 : lag > 10000 ? 10000 : lag]++;
    }
    pr->narrivals = 0;
    tally_batch_reset(&pr->batch);
    pr->batch_msgs = 0;
    pr->commits++;
    pr->commit_ms_sum += took_ms;
    if (took_ms > pr->commit_ms_max)
        pr->commit_ms_max = took_ms;
}

/* Forgets the uncommitted batch: its events are read again. */
static void proc_discard(struct proc *pr)
{
    for (int p = 0; p < pr->nparts; p++)
        pr->parts[p].dirty = 0;
    pr->narrivals = 0;
    tally_batch_reset(&pr->batch);
    pr->batch_msgs = 0;
}

int proc_commit(struct proc *pr)
{
    char err[1024];
    int backoff_ms = 200;

    if (pr->batch_msgs == 0)
        return 0;
    /* Rejects must be in Kafka before the offsets that pass them by. */
    if (pr->rejects && kafka_producer_flush(pr->rejects, 30000) != 0)
        log_warn("process", "kafka: rejected events still queued after "
                            "30 s; committing on");
    for (int attempt = 1;; attempt++) {
        int64_t t0 = proc_now_ms();
        int rc = proc_commit_once(pr, err, sizeof(err));

        if (rc == 0) {
            proc_committed(pr, (double)(proc_now_ms() - t0));
            if (attempt > 1)
                log_info("process",
                         "mysql: commit succeeded after %d "
                         "attempts",
                         attempt);
            return 0;
        }
        if (rc == 1) {
            log_warn("process",
                     "commit fenced: %s; re-reading from the "
                     "stored offsets",
                     err);
            proc_discard(pr);
            return 1;
        }
        if (pr->db && !db_error_retryable(pr->db))
            log_error("process", "mysql: commit failed: %s", err);
        proc_db_close(pr);
        if (proc_stop_flag) {
            log_error("process",
                      "stopping with an uncommitted batch of "
                      "%ld messages; they will be read again",
                      pr->batch_msgs);
            proc_discard(pr);
            return -1;
        }
        log_warn("process", "mysql: commit failed (%s); retry %d in %d ms", err,
                 attempt, backoff_ms);
        usleep((useconds_t)backoff_ms * 1000);
        backoff_ms = backoff_ms >= 5000 ? 5000 : backoff_ms * 2;
    }
}
