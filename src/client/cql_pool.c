/* The Cassandra client: a small pool of connections over the contact
 * points, reconnecting after failures, and the calls built on it. */
#include "client/cql_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define HOST_MAX 256
#define PAUSE_FIRST_MS 500
#define PAUSE_MAX_MS 30000
#define MANY_WINDOW (CQL_STREAMS / 2) /* leaves streams for re-prepares */

struct cql_host {
    char host[HOST_MAX];
    char port[8];
    struct cql_conn *conn;
    int64_t retry_at; /* monotonic ms before which it is not retried ... */
    int pause_ms;     /* ... while another node is up */
    unsigned failures;
    unsigned tried; /* the pick that last tried it */
};

struct cql_client {
    struct cql_settings s; /* its strings point to the copies below */
    char *user;
    char *password;
    char *keyspace;
    struct cql_host *hosts;
    size_t nhosts;
    size_t next;
    unsigned picks;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cql_prepared_free(struct cql_prepared *ps)
{
    if (ps == NULL)
        return;
    free(ps->query);
    free(ps->id);
    free(ps);
}

static int port_parse(const char *p, size_t n, char out[8])
{
    unsigned v = 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    snprintf(out, 8, "%u", v);
    return 0;
}

/* Fills h from "host", "host:port", "[v6]:port" or a bare IPv6 address. */
static int host_parse(struct cql_host *h, const char *s, size_t n)
{
    const char *hs = s, *port = NULL, *end = s + n;
    size_t hn = n;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);

        if (close == NULL || (close + 1 < end && close[1] != ':'))
            return -1;
        hs = s + 1;
        hn = (size_t)(close - hs);
        port = close + 1 < end ? close + 2 : NULL;
    } else {
        const char *c1 = memchr(s, ':', n), *c2 = memrchr(s, ':', n);

        if (c1 != NULL && c1 == c2) {
            hn = (size_t)(c1 - s);
            port = c1 + 1;
        }
    }
    if (hn == 0 || hn >= HOST_MAX)
        return -1;
    memcpy(h->host, hs, hn);
    h->host[hn] = '\0';
    if (port == NULL) {
        snprintf(h->port, sizeof(h->port), "%d", CQL_DEFAULT_PORT);
        return 0;
    }
    return port_parse(port, (size_t)(end - port), h->port);
}

static int client_parse_hosts(struct cql_client *cl, const char *list,
                              char *err, size_t errlen)
{
    size_t max = 1;
    const char *p = list;

    for (const char *q = list; *q; q++)
        max += *q == ',';
    cl->hosts = calloc(max, sizeof(*cl->hosts));
    if (cl->hosts == NULL)
        return cql_errf(err, errlen, CQL_ERR_NOMEM, "out of memory");
    while (*p) {
        size_t n = strcspn(p, ","), skip = n;

        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--, skip--;
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0 && host_parse(&cl->hosts[cl->nhosts++], p, n) != 0)
            return cql_errf(err, errlen, CQL_ERR_ARG,
                            "bad contact point '%.*s' (want host:port)", (int)n,
                            p);
        p += skip + (p[skip] == ',');
    }
    if (cl->nhosts == 0)
        return cql_errf(err, errlen, CQL_ERR_ARG, "no contact point in '%s'",
                        list);
    return CQL_OK;
}

static int dup_setting(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && *dst == NULL ? -1 : 0;
}

struct cql_client *cql_client_create(const struct cql_settings *s, char *err,
                                     size_t errlen)
{
    struct cql_client *cl = calloc(1, sizeof(*cl));
    const char *list =
        s->contact_points ? s->contact_points : CQL_DEFAULT_CONTACT;

    if (cl == NULL || dup_setting(&cl->user, s->user) ||
        dup_setting(&cl->password, s->password) ||
        dup_setting(&cl->keyspace, s->keyspace)) {
        cql_errf(err, errlen, CQL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    cl->s = *s;
    cl->s.contact_points = NULL;
    cl->s.user = cl->user;
    cl->s.password = cl->password;
    cl->s.keyspace = cl->keyspace;
    if (cl->keyspace && !cql_name_valid(cl->keyspace)) {
        cql_errf(err, errlen, CQL_ERR_ARG, "bad keyspace name '%s'",
                 cl->keyspace);
        goto fail;
    }
    if (client_parse_hosts(cl, list, err, errlen) != CQL_OK)
        goto fail;
    return cl;
fail:
    cql_client_destroy(cl);
    return NULL;
}

void cql_client_destroy(struct cql_client *cl)
{
    if (cl == NULL)
        return;
    for (size_t i = 0; i < cl->nhosts; i++)
        cql_conn_close(cl->hosts[i].conn);
    free(cl->hosts);
    if (cl->password)
        explicit_bzero(cl->password, strlen(cl->password));
    free(cl->password);
    free(cl->user);
    free(cl->keyspace);
    free(cl);
}

/* Opens h's connection; after a failure it is left alone for a growing
 * pause, unless no other node is up. Logs the first failures only. */
static int host_open(struct cql_client *cl, struct cql_host *h, char *err,
                     size_t errlen)
{
    unsigned f;
    int rc;

    h->tried = cl->picks;
    rc = cql_conn_open(&h->conn, h->host, h->port, &cl->s, err, errlen);
    if (rc == CQL_OK) {
        h->pause_ms = 0;
        h->failures = 0;
        h->retry_at = 0;
        return CQL_OK;
    }
    h->pause_ms = h->pause_ms ? h->pause_ms * 2 : PAUSE_FIRST_MS;
    if (h->pause_ms > PAUSE_MAX_MS)
        h->pause_ms = PAUSE_MAX_MS;
    h->retry_at = now_ms() + h->pause_ms;
    f = ++h->failures;
    if ((f & (f - 1)) == 0) /* 1, 2, 4, 8, ...: a line, not a flood */
        log_warn("cql", "cannot connect (attempt %u): %s; retrying", f, err);
    return rc;
}

static void host_drop_broken(struct cql_host *h)
{
    if (h->conn != NULL && !cql_conn_alive(h->conn)) {
        cql_conn_close(h->conn);
        h->conn = NULL;
        h->retry_at = 0;
    }
}

/* Picks a live connection, taking turns; see cql_client_conn. */
static int client_pick(struct cql_client *cl, struct cql_conn **out, char *err,
                       size_t errlen)
{
    int64_t now = now_ms();
    int rc = CQL_ERR_IO;

    cl->picks++;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < cl->nhosts; k++) {
            size_t i = (cl->next + k) % cl->nhosts;
            struct cql_host *h = &cl->hosts[i];

            host_drop_broken(h);
            /* First pass: nodes due a retry; second: all not yet tried. */
            if (h->conn == NULL &&
                (pass == 0 ? now >= h->retry_at : h->tried != cl->picks))
                rc = host_open(cl, h, err, errlen);
            if (h->conn != NULL) {
                cl->next = (i + 1) % cl->nhosts;
                *out = h->conn;
                return CQL_OK;
            }
        }
    }
    *out = NULL;
    return rc;
}

struct cql_conn *cql_client_conn(struct cql_client *cl, char *err,
                                 size_t errlen)
{
    struct cql_conn *c;

    return client_pick(cl, &c, err, errlen) == CQL_OK ? c : NULL;
}

int cql_client_query(struct cql_client *cl, const char *cql,
                     const struct cql_params *params, struct cql_result *res,
                     char *err, size_t errlen)
{
    struct cql_conn *c;
    int s;

    if (res != NULL)
        cql_result_init(res);
    s = client_pick(cl, &c, err, errlen);
    if (s == CQL_OK)
        s = cql_conn_send_query(c, cql, params, err, errlen);
    return s < 0 ? s : cql_conn_wait(c, s, res, err, errlen);
}

int cql_client_prepare(struct cql_client *cl, const char *cql,
                       struct cql_prepared **out, char *err, size_t errlen)
{
    struct cql_prepared *ps = calloc(1, sizeof(*ps));
    struct cql_conn *c;
    int rc;

    *out = NULL;
    if (ps == NULL || (ps->query = strdup(cql)) == NULL) {
        cql_prepared_free(ps);
        return cql_errf(err, errlen, CQL_ERR_NOMEM, "out of memory");
    }
    rc = client_pick(cl, &c, err, errlen);
    if (rc == CQL_OK)
        rc = cql_conn_prepare(c, ps, err, errlen);
    if (rc != CQL_OK) {
        cql_prepared_free(ps);
        return rc;
    }
    *out = ps; /* now owned by the caller */
    return CQL_OK;
}

int cql_client_execute(struct cql_client *cl, struct cql_prepared *ps,
                       const struct cql_params *params, struct cql_result *res,
                       char *err, size_t errlen)
{
    struct cql_conn *c;
    int s;

    if (res != NULL)
        cql_result_init(res);
    s = client_pick(cl, &c, err, errlen);
    if (s == CQL_OK)
        s = cql_conn_send_execute(c, ps, params, err, errlen);
    return s < 0 ? s : cql_conn_wait(c, s, res, err, errlen);
}

/* Keeps the first error of many, with its text. */
static void many_note(int *first, int rc, const char *text, char *err,
                      size_t errlen)
{
    if (*first != CQL_OK || rc == CQL_OK)
        return;
    *first = rc;
    cql_errf(err, errlen, rc, "%s", text);
}

int cql_client_execute_many(struct cql_client *cl, struct cql_prepared *ps,
                            const struct cql_params *params, size_t n,
                            char *err, size_t errlen)
{
    int streams[MANY_WINDOW], first = CQL_OK, rc;
    size_t sent = 0, done = 0;
    struct cql_conn *c;
    char e[1024];

    rc = client_pick(cl, &c, err, errlen);
    if (rc != CQL_OK)
        return rc;
    while (done < n) {
        while (first == CQL_OK && sent < n && sent - done < MANY_WINDOW) {
            rc = cql_conn_send_execute(c, ps, &params[sent], e, sizeof(e));
            many_note(&first, rc < 0 ? rc : CQL_OK, e, err, errlen);
            if (rc < 0)
                break;
            streams[sent++ % MANY_WINDOW] = rc;
        }
        if (done == sent)
            break;
        rc =
            cql_conn_wait(c, streams[done++ % MANY_WINDOW], NULL, e, sizeof(e));
        many_note(&first, rc, e, err, errlen);
    }
    return first;
}

static int batch_run(struct cql_conn *c, enum cql_batch_type type,
                     const struct cql_batch_entry *entries,
                     struct cql_batch_item *items, size_t n,
                     const struct cql_params *params, int32_t *code, char *err,
                     size_t errlen)
{
    struct cql_result res;
    int rc, s;

    for (size_t i = 0; i < n; i++) {
        const struct cql_prepared *ps = entries[i].ps;

        items[i].id = ps ? ps->id : NULL;
        items[i].idlen = ps ? ps->idlen : 0;
        items[i].query = entries[i].query;
        items[i].values = entries[i].values;
        items[i].nvalues = entries[i].nvalues;
    }
    s = cql_conn_send_batch(c, type, items, n, params, err, errlen);
    if (s < 0)
        return s;
    rc = cql_conn_wait(c, s, &res, err, errlen);
    *code = res.error_code;
    cql_result_free(&res);
    return rc;
}

/* Prepares the batch's statements again on c; a statement repeated in a
 * row is prepared once. */
static int batch_reprepare(struct cql_conn *c,
                           const struct cql_batch_entry *entries, size_t n,
                           char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        struct cql_prepared *ps = entries[i].ps;
        int rc;

        if (ps == NULL || (i > 0 && entries[i - 1].ps == ps))
            continue;
        rc = cql_conn_prepare(c, ps, err, errlen);
        if (rc != CQL_OK)
            return rc;
    }
    return CQL_OK;
}

int cql_client_batch(struct cql_client *cl, enum cql_batch_type type,
                     const struct cql_batch_entry *entries, size_t n,
                     const struct cql_params *params, char *err, size_t errlen)
{
    struct cql_batch_item *items;
    struct cql_conn *c;
    int32_t code = 0;
    int rc;

    if (n > UINT16_MAX)
        return cql_errf(err, errlen, CQL_ERR_LIMIT,
                        "a batch holds at most %d statements", UINT16_MAX);
    items = calloc(n ? n : 1, sizeof(*items));
    if (items == NULL)
        return cql_errf(err, errlen, CQL_ERR_NOMEM, "out of memory");
    rc = client_pick(cl, &c, err, errlen);
    if (rc == CQL_OK)
        rc = batch_run(c, type, entries, items, n, params, &code, err, errlen);
    if (rc == CQL_ERR_SERVER && code == CQL_E_UNPREPARED) {
        rc = batch_reprepare(c, entries, n, err, errlen);
        if (rc == CQL_OK)
            rc = batch_run(c, type, entries, items, n, params, &code, err,
                           errlen);
    }
    free(items);
    return rc;
}
