/* `adtally archive`: the pending rows to Cassandra with many requests in
 * flight on one connection, and the flush that retries them, then commits
 * their offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/lake.h"
#include "role/archive.h"
#include "role/lake_table.h"
#include "util/log.h"

#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 5000
#define WAIT_SLICE_MS 100
#define STMT_OVERHEAD 5 /* a batch statement's kind, id and value count */

/* A request sent and not yet answered. */
struct arch_flight {
    int stream;
    size_t req;
    int64_t sent_us;
};

static int64_t arch_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Makes room for a write of n rows. Returns 0 or -1. */
static int arch_scratch(struct arch *ar, size_t n)
{
    struct cql_value *v;
    void *p;

    if (n <= ar->scratch_cap)
        return 0;
    v = realloc(ar->vals, n * LAKE_NVALUES * sizeof(*v));
    if (v == NULL)
        return -1;
    ar->vals = v;
    if ((p = realloc(ar->params, n * sizeof(*ar->params))) == NULL)
        return -1;
    ar->params = p;
    if ((p = realloc(ar->slots, n * sizeof(*ar->slots))) == NULL)
        return -1;
    ar->slots = p;
    if ((p = realloc(ar->reqs, n * sizeof(*ar->reqs))) == NULL)
        return -1;
    ar->reqs = p;
    ar->scratch_cap = n;
    return 0;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct arch_slot *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Binds every pending row; in batch mode the slots are sorted by lake
 * partition so that a partition's rows lie side by side. */
static void arch_bind(struct arch *ar, int64_t archived_at_ms)
{
    for (size_t i = 0; i < ar->nrows; i++) {
        const struct event *ev = &ar->rows[i].ev;
        struct cql_value *v = &ar->vals[i * LAKE_NVALUES];

        lake_table_values(ev, archived_at_ms, v);
        ar->params[i] = (struct cql_params){.consistency = CQL_LOCAL_QUORUM,
                                            .values = v,
                                            .nvalues = LAKE_NVALUES};
        ar->slots[i].key =
            lake_hour_ms(ev->time_ms) * LAKE_BUCKETS + lake_bucket(ev->uuid);
        ar->slots[i].row = i;
    }
    if (ar->batch_mode)
        qsort(ar->slots, ar->nrows, sizeof(*ar->slots), slot_cmp);
}

/* The bytes a row's statement takes in a batch. */
static size_t row_bytes(const struct arch *ar, size_t row)
{
    const struct cql_value *v = &ar->vals[row * LAKE_NVALUES];
    size_t n = STMT_OVERHEAD + ar->ins->idlen;

    for (int i = 0; i < LAKE_NVALUES; i++) {
        n += 4;
        if (v[i].kind == CQL_V_TEXT)
            n += v[i].u.bytes.n;
        else if (v[i].kind == CQL_V_UUID)
            n += 16;
        else if (v[i].kind != CQL_V_UNSET && v[i].kind != CQL_V_NULL)
            n += 12; /* the widest number: a decimal's scale and 8 bytes */
    }
    return n;
}

/* Cuts the slots into requests: one row each, or in batch mode runs of
 * one partition within the statement and byte limits. Returns the count. */
static size_t arch_plan(struct arch *ar)
{
    size_t nreq = 0, bytes = 0;

    for (size_t i = 0; i < ar->nrows; i++) {
        size_t b = ar->batch_mode ? row_bytes(ar, ar->slots[i].row) : 0;
        struct arch_req *last = nreq ? &ar->reqs[nreq - 1] : NULL;

        if (last && ar->batch_mode &&
            ar->slots[i - 1].key == ar->slots[i].key &&
            last->n < (size_t)ar->o->batch_statements &&
            bytes + b <= (size_t)ar->o->batch_bytes) {
            last->n++;
            bytes += b;
            continue;
        }
        ar->reqs[nreq++] = (struct arch_req){i, 1};
        bytes = b;
    }
    return nreq;
}

/* Sends one request. Returns its stream id or an error. */
static int arch_send(struct arch *ar, struct cql_conn *c,
                     const struct arch_req *rq, char *err, size_t errlen)
{
    struct cql_batch_item items[ARCH_BATCH_MAX];
    struct cql_params bp = {.consistency = CQL_LOCAL_QUORUM};

    if (!ar->batch_mode)
        return cql_conn_send_execute(
            c, ar->ins, &ar->params[ar->slots[rq->first].row], err, errlen);
    for (size_t k = 0; k < rq->n; k++) {
        const struct cql_params *p = &ar->params[ar->slots[rq->first + k].row];

        items[k] = (struct cql_batch_item){.id = ar->ins->id,
                                           .idlen = ar->ins->idlen,
                                           .values = p->values,
                                           .nvalues = p->nvalues};
    }
    return cql_conn_send_batch(c, CQL_BATCH_UNLOGGED, items, rq->n, &bp, err,
                               errlen);
}

/* Waits for one request's answer. A batch that met a node without the
 * statement is sent again once it is prepared there. */
static int arch_collect(struct arch *ar, struct cql_conn *c,
                        const struct arch_flight *fl, char *err, size_t errlen)
{
    struct cql_result res;
    int rc = cql_conn_wait(c, fl->stream, &res, err, errlen), s;
    int32_t code = res.error_code;

    cql_result_free(&res);
    if (rc == CQL_ERR_SERVER && code == CQL_E_UNPREPARED && ar->batch_mode) {
        rc = cql_conn_prepare(c, ar->ins, err, errlen);
        s = rc == CQL_OK ? arch_send(ar, c, &ar->reqs[fl->req], err, errlen)
                         : rc;
        rc = s < 0 ? s : cql_conn_wait(c, s, NULL, err, errlen);
    }
    if (rc == CQL_OK) {
        hist_add(&ar->lat, (uint64_t)(arch_now_us() - fl->sent_us));
        ar->requests++;
    }
    return rc;
}

/* Keeps the first error of many, with its text. */
static void note_error(int *first, int rc, const char *text, char *err,
                       size_t errlen)
{
    if (*first != CQL_OK || rc >= 0)
        return;
    *first = rc;
    snprintf(err, errlen, "%s", text);
}

/* Runs the requests with up to --inflight of them at once. After an error
 * nothing more is sent; the answers of what was sent are still collected. */
static int arch_pipeline(struct arch *ar, struct cql_conn *c, size_t nreq,
                         char *err, size_t errlen)
{
    struct arch_flight fl[ARCH_INFLIGHT_MAX];
    size_t sent = 0, done = 0, window = (size_t)ar->o->inflight;
    int first = CQL_OK, rc;
    char e[1024];

    while (done < nreq) {
        while (first == CQL_OK && sent < nreq && sent - done < window) {
            rc = arch_send(ar, c, &ar->reqs[sent], e, sizeof(e));
            note_error(&first, rc, e, err, errlen);
            if (rc < 0)
                break;
            fl[sent % window] = (struct arch_flight){rc, sent, arch_now_us()};
            sent++;
        }
        if (done == sent)
            break;
        rc = arch_collect(ar, c, &fl[done++ % window], e, sizeof(e));
        note_error(&first, rc, e, err, errlen);
    }
    return first;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int arch_write_rows(struct arch *ar, char *err, size_t errlen)
{
    struct cql_conn *c;
    int rc;

    if (ar->nrows == 0)
        return CQL_OK;
    if (ar->ins == NULL) {
        rc = cql_client_prepare(ar->cl, ar->insert_cql.data, &ar->ins, err,
                                errlen);
        if (rc != CQL_OK)
            return rc;
    }
    if (arch_scratch(ar, ar->nrows) != 0) {
        snprintf(err, errlen, "out of memory for %zu rows", ar->nrows);
        return CQL_ERR_NOMEM;
    }
    arch_bind(ar, wall_ms());
    c = cql_client_conn(ar->cl, err, errlen);
    if (c == NULL)
        return CQL_ERR_IO;
    return arch_pipeline(ar, c, arch_plan(ar), err, errlen);
}

/* Waits ms with the owned partitions paused, polling the consumer so that
 * it stays in its group and rebalances are served. */
static void arch_wait(struct arch *ar, int ms)
{
    int64_t end = arch_now_ms() + ms;
    unsigned paused_at = ar->assigns - 1;

    while (!arch_stop_flag && !ar->failed && ar->nrows > 0) {
        int64_t left = end - arch_now_ms();
        rd_kafka_message_t *m;

        if (left <= 0)
            break;
        if (paused_at != ar->assigns) { /* newly assigned ones too */
            arch_pause(ar, 1);
            paused_at = ar->assigns;
        }
        m = kafka_consumer_poll(ar->kc, left < WAIT_SLICE_MS ? (int)left
                                                             : WAIT_SLICE_MS);
        if (m != NULL) {
            arch_message(ar, m);
            rd_kafka_message_destroy(m);
        }
        arch_tick(ar);
    }
    arch_pause(ar, 0);
}

/* Says why a write failed: at first, then sparsely while it goes on. */
static void arch_log_retry(struct arch *ar, int attempt, int backoff_ms,
                           const char *err)
{
    if ((attempt & (attempt - 1)) != 0 && attempt % 12 != 0)
        return;
    log_warn("archive",
             "cassandra: writing %zu events failed (%s); retry %d in %d ms, "
             "nothing committed past them, lag %lld",
             ar->nrows, err, attempt, backoff_ms, arch_lag(ar));
}

/* The rows are written: count them and let them go. */
static void arch_written(struct arch *ar, int attempts)
{
    if (attempts > 1)
        log_info("archive",
                 "cassandra: %zu events written after %d attempts; "
                 "catching up",
                 ar->nrows, attempts);
    ar->archived += ar->nrows;
    ar->nrows = 0;
}

int arch_flush(struct arch *ar, int attempts)
{
    int backoff_ms = BACKOFF_FIRST_MS, rc = 0;
    char err[1024];

    ar->in_flush = 1;
    for (int attempt = 1; ar->nrows > 0 && !ar->failed; attempt++) {
        if (arch_write_rows(ar, err, sizeof(err)) == CQL_OK) {
            arch_written(ar, attempt);
            break;
        }
        ar->write_failures++;
        if (arch_stop_flag || (attempts > 0 && attempt >= attempts)) {
            log_error("archive",
                      "cassandra: %zu events not written (%s); their "
                      "offsets stay uncommitted and they will be read again",
                      ar->nrows, err);
            rc = -1;
            break;
        }
        arch_log_retry(ar, attempt, backoff_ms, err);
        arch_wait(ar, backoff_ms);
        backoff_ms =
            backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
    }
    ar->in_flush = 0;
    if (ar->failed)
        return -1;
    if (rc == 0 && ar->nrows == 0)
        arch_commit(ar);
    return rc;
}
