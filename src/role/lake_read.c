/* `adtally lake`: reading whole partitions of one hour, paged, the hour's
 * buckets in flight together. Never a scan of the table. */
#include <assert.h>
#include <stdio.h>

#include "core/lake.h"
#include "core/lake_time.h"
#include "role/lake_cmd.h"
#include "util/log.h"

struct cql_prepared *lake_prepare(struct lake_cmd *lk, const char *cql,
                                  const char *what)
{
    struct cql_prepared *ps = NULL;
    char err[1024];

    if (cql_client_prepare(lk->cl, cql, &ps, err, sizeof(err)) != CQL_OK)
        log_error("lake", "cassandra: preparing the %s: %s", what, err);
    return ps;
}

/* Sends the read of (hour, bucket) from `paging` on (NULL: its start). */
static int lake_send(struct lake_cmd *lk, struct cql_conn *c,
                     struct cql_prepared *ps, int64_t hour_ms, int bucket,
                     const struct cql_str *paging, char *err, size_t errlen)
{
    struct cql_value v[2] = {cql_value_timestamp(hour_ms),
                             cql_value_smallint((int16_t)bucket)};
    struct cql_params p = {.consistency = CQL_LOCAL_QUORUM,
                           .values = v,
                           .nvalues = 2,
                           .page_size = (int32_t)lk->o->page_size};

    if (paging != NULL) {
        p.paging_state = paging->p;
        p.paging_state_len = paging->n;
    }
    return cql_conn_send_execute(c, ps, &p, err, errlen);
}

/* A read of some hours: where rows go and the first failure. */
struct lake_read {
    struct lake_cmd *lk;
    struct cql_conn *c;
    struct cql_prepared *ps;
    lake_row_fn *fn;
    void *ctx;
    int rc; /* CQL_OK; a reader error; 1 when fn said stop */
    char err[1024];
};

/* Keeps the first failure and its text. */
static void lake_note(struct lake_read *rd, int rc, const char *err)
{
    if (rd->rc != CQL_OK || rc == CQL_OK)
        return;
    rd->rc = rc;
    snprintf(rd->err, sizeof(rd->err), "%s", err);
}

/* Hands the rows of res to fn, unless the read already failed. */
static void lake_rows(struct lake_read *rd, int64_t hour_ms, int bucket,
                      const struct cql_result *res)
{
    for (size_t i = 0; i < res->nrows && rd->rc == CQL_OK; i++) {
        if (rd->fn(rd->ctx, hour_ms, bucket, res, i) != 0)
            lake_note(rd, 1, "stopped");
    }
}

/* Collects the answer on `stream`, then the partition's further pages. */
static void lake_drain(struct lake_read *rd, int64_t hour_ms, int bucket,
                       int stream)
{
    struct cql_result res;
    char err[1024];
    int rc;

    while (stream >= 0) {
        rc = cql_conn_wait(rd->c, stream, &res, err, sizeof(err));
        lake_note(rd, rc, err);
        if (rc == CQL_OK)
            lake_rows(rd, hour_ms, bucket, &res);
        stream = -1;
        /* The paging state lives in res: send before freeing it. */
        if (rd->rc == CQL_OK && cql_result_has_more(&res)) {
            stream = lake_send(rd->lk, rd->c, rd->ps, hour_ms, bucket,
                               &res.meta.paging_state, err, sizeof(err));
            lake_note(rd, stream < 0 ? stream : CQL_OK, err);
        }
        cql_result_free(&res);
    }
}

int lake_read_hours(struct lake_cmd *lk, struct cql_prepared *ps,
                    int64_t hour_ms, int nhours, lake_row_fn *fn, void *ctx)
{
    struct lake_read rd = {lk, NULL, ps, fn, ctx, CQL_OK, ""};
    int streams[LAKE_READ_HOURS * LAKE_BUCKETS], n = nhours * LAKE_BUCKETS;
    char hour[LAKE_HOUR_TEXT], err[1024];

    assert(nhours >= 1 && nhours <= LAKE_READ_HOURS);
    rd.c = cql_client_conn(lk->cl, err, sizeof(err));
    if (rd.c == NULL) {
        log_error("lake", "cassandra: %s", err);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        streams[i] = -1;
        if (rd.rc == CQL_OK)
            streams[i] = lake_send(lk, rd.c, ps,
                                   hour_ms + i / LAKE_BUCKETS * LAKE_HOUR_MS,
                                   i % LAKE_BUCKETS, NULL, err, sizeof(err));
        lake_note(&rd, streams[i] < 0 ? streams[i] : CQL_OK, err);
    }
    for (int i = 0; i < n; i++)
        lake_drain(&rd, hour_ms + i / LAKE_BUCKETS * LAKE_HOUR_MS,
                   i % LAKE_BUCKETS, streams[i]);
    if (rd.rc < 0) {
        lake_hour_format(hour_ms, hour);
        log_error("lake", "cassandra: reading %d hours from %s: %s", nhours,
                  hour, rd.err);
    }
    return rd.rc == CQL_OK ? 0 : -1;
}
