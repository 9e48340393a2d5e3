/* `adtally lake purge`: retention by whole hour partitions, over a bounded
 * range of days, each partition read before it is deleted. */
#include <stdio.h>
#include <string.h>

#include "core/lake.h"
#include "core/lake_time.h"
#include "role/lake_cmd.h"
#include "role/lake_table.h"
#include "util/log.h"

/* Rows of each bucket of the hour being looked at. */
struct lake_hour_rows {
    long long n[LAKE_BUCKETS];
    long long total;
};

static int purge_count_row(void *ctx, int64_t hour_ms, int bucket,
                           const struct cql_result *res, size_t row)
{
    struct lake_hour_rows *hr = ctx;

    (void)hour_ms;
    (void)res;
    (void)row;
    hr->n[bucket]++;
    hr->total++;
    return 0;
}

/* Deletes the partitions of the hour that hold rows. */
static int purge_delete(struct lake_cmd *lk, struct cql_prepared *del,
                        int64_t hour_ms, const struct lake_hour_rows *hr)
{
    char err[1024], hour[LAKE_HOUR_TEXT];

    for (int b = 0; b < LAKE_BUCKETS; b++) {
        struct cql_value v[2] = {cql_value_timestamp(hour_ms),
                                 cql_value_smallint((int16_t)b)};
        struct cql_params p = {
            .consistency = CQL_LOCAL_QUORUM, .values = v, .nvalues = 2};

        if (hr->n[b] == 0)
            continue;
        if (cql_client_execute(lk->cl, del, &p, NULL, err, sizeof(err))) {
            lake_hour_format(hour_ms, hour);
            log_error("lake", "cassandra: deleting hour %s bucket %d: %s", hour,
                      b, err);
            return -1;
        }
    }
    return 0;
}

/* Reads --before and --days into the range of hours [*from, *to). */
static int purge_range(const struct lake_opts *o, int64_t *from, int64_t *to)
{
    const char *why;

    if (o->before == NULL) {
        log_error("lake", "purge needs --before DAY, like 2022-08-01");
        return -1;
    }
    if (lake_day_parse(o->before, to, &why) != 0) {
        log_error("lake", "--before '%s': %s", o->before, why);
        return -1;
    }
    *from = *to - o->days * LAKE_DAY_MS;
    if (*from < 0)
        *from = 0;
    return 0;
}

/* Looks at each hour of the range; deletes those with rows. */
static int purge_hours(struct lake_cmd *lk, struct cql_prepared *sel,
                       struct cql_prepared *del, int64_t from, int64_t to)
{
    long long events = 0, hours = 0;
    char hour[LAKE_HOUR_TEXT];

    for (int64_t h = from; h < to; h += LAKE_HOUR_MS) {
        struct lake_hour_rows hr;

        memset(&hr, 0, sizeof(hr));
        if (lake_read_hours(lk, sel, h, 1, purge_count_row, &hr) != 0)
            return -1;
        if (hr.total == 0)
            continue;
        if (!lk->o->dry_run && purge_delete(lk, del, h, &hr) != 0)
            return -1;
        lake_hour_format(h, hour);
        printf("%s\t%lld\n", hour, hr.total);
        events += hr.total;
        hours++;
    }
    printf("# %s %lld events in %lld hours before %s (%lld days looked at)\n",
           lk->o->dry_run ? "would purge" : "purged", events, hours,
           lk->o->before, lk->o->days);
    return 0;
}

int lake_purge(struct lake_cmd *lk)
{
    struct cql_prepared *sel = NULL, *del = NULL;
    int64_t from, to;
    struct buf q;
    int rc = 1;

    buf_init(&q, 4096);
    if (purge_range(lk->o, &from, &to) != 0) {
        rc = 2;
        goto out;
    }
    if (lake_table_select_cql(&q, lk->cfg->keyspace, "create_time") != 0 ||
        (sel = lake_prepare(lk, q.data, "partition read")) == NULL ||
        lake_table_delete_cql(&q, lk->cfg->keyspace) != 0 ||
        (del = lake_prepare(lk, q.data, "partition delete")) == NULL)
        goto out;
    printf("# hour\tevents%s\n", lk->o->dry_run ? " (dry run)" : "");
    if (purge_hours(lk, sel, del, from, to) == 0)
        rc = 0;
out:
    cql_prepared_free(sel);
    cql_prepared_free(del);
    buf_free(&q);
    return fflush(stdout) == 0 ? rc : 1;
}
