/* `adtally lake`: shared state of its actions (count, dump, purge) and the
 * partition reader they use. */
#ifndef ADTALLY_ROLE_LAKE_CMD_H
#define ADTALLY_ROLE_LAKE_CMD_H

#include <stdint.h>

#include "client/cql.h"
#include "util/config.h"

#define LAKE_RANGE_HOURS 744 /* 31 days: the most one count reads */
#define LAKE_READ_HOURS 8    /* hours read at once: 64 partitions */

struct lake_opts {
    const char *from;
    const char *to;
    const char *before;
    long long days;
    long long page_size;
    int dry_run;
};

struct lake_cmd {
    struct config *cfg;
    struct lake_opts *o;
    struct cql_client *cl;
};

/* Called for each row of a partition read; returns 0 to go on, -1 to stop
 * the read. */
typedef int(lake_row_fn)(void *ctx, int64_t hour_ms, int bucket,
                         const struct cql_result *res, size_t row);

/* Prepares a statement of the lake (`what` names it in the log). Returns
 * it, or NULL after logging why. The caller frees it. */
struct cql_prepared *lake_prepare(struct lake_cmd *lk, const char *cql,
                                  const char *what);

/*
 * Reads the whole of every partition of `nhours` hours from hour_ms on
 * (1 to LAKE_READ_HOURS), (hour, bucket) for each bucket, with `ps` a
 * SELECT from lake_table_select_cql: the first pages all in flight at
 * once, then each partition's further pages in turn. Rows come hour by
 * hour, bucket by bucket, each partition in clustering order. Returns 0,
 * or -1 after logging why (the reader's failure) or when fn said stop.
 */
int lake_read_hours(struct lake_cmd *lk, struct cql_prepared *ps,
                    int64_t hour_ms, int nhours, lake_row_fn *fn, void *ctx);

/* lake_purge.c: `lake purge`; returns the exit status. */
int lake_purge(struct lake_cmd *lk);

#endif
