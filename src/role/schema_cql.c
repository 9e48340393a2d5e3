/* `adtally schema apply`, Cassandra part: the raw lake's keyspace, its
 * `tracking` table (DESIGN §5) and the versioned migrations that build it. */
#include "role/schema.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/cql.h"
#include "util/buf.h"
#include "util/log.h"

#define AGREE_WAIT_MS 30000 /* for every node to see a schema change */
#define AGREE_POLL_MS 200
#define VERSION_MAX 63 /* versions are bits of a uint64_t */

/* One migration: statements run in order, each safe to run again, where
 * {ks} stands for the quoted keyspace name. */
struct schema_migration {
    int version;
    const char *what;
    const char *const *stmts;
};

/* The raw lake. A partition is one hour of events (hour: the event time
 * truncated to the hour, UTC) in one of 8 buckets, bucket = a hash of
 * create_time mod 8, so that an hour is read with 8 partition reads and
 * its writes spread over the ring. A repeat of an event overwrites it. */
static const char *const v1_tracking[] = {
    "CREATE TABLE IF NOT EXISTS {ks}.tracking ("
    " hour timestamp, bucket smallint, create_time timeuuid,"
    " ts timestamp, custom_track text,"
    " job_id int, campaign_id int, group_id int, publisher_id int,"
    " bid decimal, ed text, ev int, v int, cd int, tz int,"
    " uid text, dl text, dt text, rl text, de text, ua text, bn text,"
    " md text, sr text, vp text, id text,"
    " utm_source text, utm_medium text, utm_campaign text,"
    " utm_content text, utm_term text,"
    " archived_at timestamp,"
    " PRIMARY KEY ((hour, bucket), create_time))"
    " WITH CLUSTERING ORDER BY (create_time ASC)"
    " AND default_time_to_live = 0"
    " AND comment = 'adtally raw events: 8 buckets per hour'",
    NULL,
};

static const struct schema_migration migrations[] = {
    {1, "tracking table", v1_tracking},
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* Writes tmpl into out with each {ks} replaced by "ks". */
static int schema_cql_expand(const char *tmpl, const char *ks, struct buf *out)
{
    const char *p = tmpl, *hit;

    buf_reset(out);
    while ((hit = strstr(p, "{ks}")) != NULL) {
        if (buf_append(out, p, (size_t)(hit - p)) ||
            buf_printf(out, "\"%s\"", ks))
            return -1;
        p = hit + 4;
    }
    return buf_puts(out, p);
}

/* Runs one statement of no values for keyspace ks. */
static int schema_cql_run(struct cql_client *cl, const char *tmpl,
                          const char *ks, char *err, size_t errlen)
{
    struct buf q;
    int rc = -1;

    buf_init(&q, 1 << 16);
    if (schema_cql_expand(tmpl, ks, &q) != 0) {
        snprintf(err, errlen, "statement too long");
        goto out;
    }
    if (cql_client_query(cl, q.data, NULL, NULL, err, errlen) == CQL_OK)
        rc = 0;
out:
    buf_free(&q);
    return rc;
}

static int uuid_eq(const struct cql_result *a, const struct cql_result *b,
                   size_t row)
{
    uint8_t x[16], y[16];

    if (cql_result_uuid(b, row, 0, y) == CQL_ERR_NULL)
        return 1; /* a peer that has not said yet */
    return cql_result_uuid(a, 0, 0, x) == CQL_OK &&
           cql_result_uuid(b, row, 0, y) == CQL_OK && memcmp(x, y, 16) == 0;
}

/* Asks one node for its schema version and its peers'; *same is 1 when
 * they all match. */
static int schema_cql_versions(struct cql_client *cl, int *same, char *err,
                               size_t errlen)
{
    struct cql_result local, peers;
    struct cql_conn *c = cql_client_conn(cl, err, errlen);
    int s1, s2, rc = -1;

    cql_result_init(&local);
    cql_result_init(&peers);
    if (c == NULL)
        return -1;
    s1 = cql_conn_send_query(
        c, "SELECT schema_version FROM system.local WHERE key = 'local'", NULL,
        err, errlen);
    if (s1 < 0 || cql_conn_wait(c, s1, &local, err, errlen) != CQL_OK)
        goto out;
    s2 = cql_conn_send_query(c, "SELECT schema_version FROM system.peers", NULL,
                             err, errlen);
    if (s2 < 0 || cql_conn_wait(c, s2, &peers, err, errlen) != CQL_OK)
        goto out;
    *same = local.nrows == 1;
    for (size_t i = 0; i < peers.nrows && *same; i++)
        *same = uuid_eq(&local, &peers, i);
    rc = 0;
out:
    cql_result_free(&local);
    cql_result_free(&peers);
    return rc;
}

static int64_t schema_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits, with a bound, until every node has the same schema. */
static int schema_cql_agree(struct cql_client *cl, char *err, size_t errlen)
{
    int64_t end = schema_now_ms() + AGREE_WAIT_MS;
    int same = 0;

    for (;;) {
        if (schema_cql_versions(cl, &same, err, errlen) != 0)
            return -1;
        if (same)
            return 0;
        if (schema_now_ms() >= end)
            break;
        poll(NULL, 0, AGREE_POLL_MS);
    }
    snprintf(err, errlen, "nodes still disagree on the schema after %d s",
             AGREE_WAIT_MS / 1000);
    return -1;
}

/* The versions recorded in {ks}.schema_version, as bits. */
static int schema_cql_applied(struct cql_client *cl, const char *ks,
                              uint64_t *applied, char *err, size_t errlen)
{
    struct cql_result res;
    struct buf q;
    int32_t v;
    int rc = -1;

    *applied = 0;
    cql_result_init(&res);
    buf_init(&q, 1024);
    if (schema_cql_expand("SELECT version FROM {ks}.schema_version", ks, &q) !=
            0 ||
        cql_client_query(cl, q.data, NULL, &res, err, errlen) != CQL_OK)
        goto out;
    for (size_t i = 0; i < res.nrows; i++) {
        if (cql_result_int(&res, i, 0, &v) == CQL_OK && v > 0 &&
            v <= VERSION_MAX)
            *applied |= UINT64_C(1) << v;
    }
    rc = 0;
out:
    cql_result_free(&res);
    buf_free(&q);
    return rc;
}

static int schema_cql_record(struct cql_client *cl, const char *ks,
                             const struct schema_migration *m, char *err,
                             size_t errlen)
{
    struct cql_value v[2] = {cql_value_int(m->version),
                             cql_value_text(m->what, strlen(m->what))};
    struct cql_params p = {
        .consistency = CQL_LOCAL_QUORUM, .values = v, .nvalues = 2};
    struct buf q;
    int rc = -1;

    buf_init(&q, 1024);
    if (schema_cql_expand("INSERT INTO {ks}.schema_version"
                          " (version, what, applied_at)"
                          " VALUES (?, ?, toTimestamp(now()))",
                          ks, &q) == 0 &&
        cql_client_query(cl, q.data, &p, NULL, err, errlen) == CQL_OK)
        rc = 0;
    buf_free(&q);
    return rc;
}

/* Runs one migration, waits for the nodes to agree, then records it. */
static int schema_cql_migrate(struct cql_client *cl, const char *ks,
                              const struct schema_migration *m, char *err,
                              size_t errlen)
{
    for (const char *const *s = m->stmts; *s; s++) {
        if (schema_cql_run(cl, *s, ks, err, errlen) != 0)
            return -1;
    }
    if (schema_cql_agree(cl, err, errlen) != 0 ||
        schema_cql_record(cl, ks, m, err, errlen) != 0)
        return -1;
    log_info("schema", "cassandra: keyspace %s: migration %d (%s) applied", ks,
             m->version, m->what);
    return 0;
}

/* The keyspace and the table of applied versions, both if missing. */
static int schema_cql_base(struct cql_client *cl, const char *ks, int rf,
                           char *err, size_t errlen)
{
    char q[256];

    snprintf(q, sizeof(q),
             "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': %d}",
             rf);
    if (schema_cql_run(cl, q, ks, err, errlen) != 0 ||
        schema_cql_run(cl,
                       "CREATE TABLE IF NOT EXISTS {ks}.schema_version ("
                       " version int PRIMARY KEY, what text,"
                       " applied_at timestamp)",
                       ks, err, errlen) != 0)
        return -1;
    return schema_cql_agree(cl, err, errlen);
}

int schema_cql_apply(const struct config *cfg, char *err, size_t errlen)
{
    struct cql_settings st = {.contact_points = cfg->cassandra};
    struct cql_client *cl = NULL;
    uint64_t applied = 0;
    int rc = -1, ran = 0;

    st.user = cfg->cassandra_user;
    st.password = cfg->cassandra_password;
    if (!cql_name_valid(cfg->keyspace)) {
        snprintf(err, errlen,
                 "keyspace '%s': use 1 to 48 letters, digits "
                 "or underscores",
                 cfg->keyspace);
        return -1;
    }
    cl = cql_client_create(&st, err, errlen);
    if (cl == NULL ||
        schema_cql_base(cl, cfg->keyspace, (int)cfg->lake_replication, err,
                        errlen) != 0 ||
        schema_cql_applied(cl, cfg->keyspace, &applied, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < NMIGRATIONS; i++) {
        const struct schema_migration *m = &migrations[i];

        if (applied & (UINT64_C(1) << m->version))
            continue;
        if (schema_cql_migrate(cl, cfg->keyspace, m, err, errlen) != 0)
            goto out;
        ran++;
    }
    if (ran == 0)
        log_info("schema", "cassandra: keyspace %s is up to date (version %d)",
                 cfg->keyspace, migrations[NMIGRATIONS - 1].version);
    rc = 0;
out:
    cql_client_destroy(cl);
    return rc;
}
