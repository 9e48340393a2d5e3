/* `adtally serve`: the JSON API — KPIs, the hourly series and the top
 * lists over `events`, with names from the dimension tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "role/serve.h"
#include "util/log.h"

#define SERVE_NO_STORE "Cache-Control: no-store\r\n"

/* The top lists: key column, name column and join of each dimension,
 * and the ORDER BY column of each `by`. Only these strings ever reach the
 * SQL text; every value from the request is bound. */
static const struct {
    const char *key, *name, *join;
} serve_dim_sql[] = {
    [SD_JOB] = {"e.job_id", "d.title", "job d ON d.id = e.job_id"},
    [SD_CAMPAIGN] = {"e.campaign_id", "d.campaign_name",
                     "campaign d ON d.id = e.campaign_id"},
    [SD_COMPANY] = {"e.company_id", "d.name",
                    "company d ON d.id = e.company_id"},
    [SD_PUBLISHER] = {"e.publisher_id", "d.publisher_name",
                      "publisher d ON d.id = e.publisher_id"},
};

static const char *const serve_order_sql[] = {
    [SB_SPEND] = "spend",
    [SB_CLICKS] = "clicks",
    [SB_IMPRESSIONS] = "impressions",
    [SB_CONVERSIONS] = "conversions",
};

static const char *const serve_filter_sql[SF_NFILTERS] = {
    [SF_CAMPAIGN] = " AND e.campaign_id = ?",
    [SF_COMPANY] = " AND e.company_id = ?",
    [SF_PUBLISHER] = " AND e.publisher_id = ?",
    [SF_JOB] = " AND e.job_id = ?",
};

static const char *const serve_filter_names[SF_NFILTERS] = {
    "campaign", "company", "publisher", "job"};

/* The WHERE clause of a query and its bound values. The dates are kept
 * here because the values point at them. */
struct serve_where {
    char sql[512];
    struct db_val v[6 + SF_NFILTERS + 1];
    int n;
    char from_date[11], to_date[11];
};

int64_t serve_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void serve_db_close(struct serve *sv)
{
    db_close(sv->db);
    sv->db = NULL;
}

/* Connects and bounds each statement's time on the server: MariaDB's
 * max_statement_time (seconds), else MySQL's max_execution_time (ms). */
static int serve_db_open(struct serve *sv, char *err, size_t errlen)
{
    int timeout_s = (int)(sv->o->query_timeout_ms / 1000) + 2;
    char sql[96];

    sv->db = db_connect(&sv->url, 1, timeout_s, err, errlen);
    if (sv->db == NULL)
        return -1;
    snprintf(sql, sizeof(sql), "SET SESSION max_statement_time = %.3f",
             (double)sv->o->query_timeout_ms / 1000);
    if (db_exec(sv->db, sql, err, errlen) == 0)
        return 0;
    snprintf(sql, sizeof(sql), "SET SESSION max_execution_time = %lld",
             sv->o->query_timeout_ms);
    if (db_exec(sv->db, sql, err, errlen) != 0)
        log_warn("serve",
                 "mysql: cannot cap statement time (%s); queries "
                 "are bounded by the read time-out of %d s only",
                 err, timeout_s);
    return 0;
}

/* Runs one statement, connecting first when needed; a lost connection
 * is opened again and the statement retried once. Returns what
 * db_query returns; -1 with err (and the connection dropped when it
 * broke). */
static long long serve_run(struct serve *sv, const char *sql,
                           const struct db_val *v, int n, db_row_fn *row,
                           void *ctx, char *err, size_t errlen)
{
    int64_t t0 = serve_now_ms();
    long long rc = -1;
    double ms;

    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        if (sv->db == NULL) {
            if (attempt > 0)
                sv->reconnects++;
            if (serve_db_open(sv, err, errlen) != 0)
                break;
        }
        rc = db_query(sv->db, sql, v, n, row, ctx, err, errlen);
        if (rc < 0 && !db_error_retryable(sv->db))
            break;
        if (rc < 0)
            serve_db_close(sv);
    }
    ms = (double)(serve_now_ms() - t0);
    sv->queries++;
    sv->query_ms_sum += ms;
    if (ms > sv->query_ms_max)
        sv->query_ms_max = ms;
    return rc;
}

void serve_answer_error(struct serve *sv, struct http_req *req, int status,
                        const char *msg)
{
    struct buf *o = &sv->out;

    buf_reset(o);
    if (buf_puts(o, "{\"error\":") != 0 ||
        buf_json_str(o, msg, strlen(msg)) != 0 || buf_putc(o, '}') != 0) {
        http_req_respond(req, 500, NULL, NULL, NULL, 0);
        return;
    }
    http_req_respond(req, status, "application/json", SERVE_NO_STORE, o->data,
                     o->len);
}

/* Answers a query that failed: 503 when the database cannot be reached,
 * 500 otherwise. The server's message goes to the log, not the client. */
static void serve_answer_db_error(struct serve *sv, struct http_req *req,
                                  const char *what, const char *err)
{
    int gone = sv->db == NULL;

    log_error("serve", "mysql: %s: %s", what, err);
    serve_answer_error(sv, req, gone ? 503 : 500,
                       gone ? "database unavailable; see the server log"
                            : "query failed; see the server log");
}

static void serve_answer_json(struct serve *sv, struct http_req *req)
{
    http_req_respond(req, 200, "application/json", SERVE_NO_STORE, sv->out.data,
                     sv->out.len);
}

/* Appends a number that MySQL gave as text, or null. */
static int serve_json_num(struct buf *o, const char *v)
{
    size_t n = v ? strlen(v) : 0;

    if (n == 0 || n > 40 || strspn(v, "0123456789.-") != n)
        return buf_puts(o, "null");
    return buf_append(o, v, n);
}

static int serve_latest_row(void *ctx, int ncols, char **vals)
{
    char hour[16];

    if (ncols != 2 || vals[0] == NULL || vals[1] == NULL)
        return 0;
    snprintf(hour, sizeof(hour), "%sT%02d", vals[0], atoi(vals[1]));
    if (serve_hour_parse(hour, strlen(hour), ctx) != 0)
        return 0;
    return 1;
}

/* The newest hour in `events`, or the current UTC hour when it is empty.
 * Returns 0 or -1 with err. */
static int serve_latest_hour(struct serve *sv, int64_t *hour, char *err,
                             size_t errlen)
{
    *hour = (int64_t)time(NULL) / 3600;
    if (serve_run(sv,
                  "SELECT DATE_FORMAT(dates, '%Y-%m-%d'), hours FROM events"
                  " ORDER BY dates DESC, hours DESC LIMIT 1",
                  NULL, 0, serve_latest_row, hour, err, errlen) < 0)
        return -1;
    return 0;
}

/* Parses the request's parameters and settles its range. Returns 0, or
 * -1 after answering the request (400, 500 or 503). */
static int serve_request_query(struct serve *sv, struct http_req *req,
                               unsigned accept, struct serve_query *sq)
{
    const struct http_head *h = http_req_head(req);
    char err[512];
    int64_t latest = 0;

    if (serve_query_parse(h->query, h->query_len, accept, &sv->caps, sq, err,
                          sizeof(err)) != 0) {
        serve_answer_error(sv, req, 400, err);
        return -1;
    }
    if (!sq->has_from && !sq->has_to &&
        serve_latest_hour(sv, &latest, err, sizeof(err)) != 0) {
        serve_answer_db_error(sv, req, "latest hour", err);
        return -1;
    }
    if (serve_range_settle(sq, latest, sv->caps.max_hours, err, sizeof(err)) !=
        0) {
        serve_answer_error(sv, req, 400, err);
        return -1;
    }
    return 0;
}

/* The rows of [from, to] by hour (the dates range lets the index on
 * (dates, hours) narrow the scan) and the filters given. */
static void serve_where_build(const struct serve_query *sq,
                              struct serve_where *w)
{
    int fh, th;
    size_t len;

    serve_hour_split(sq->from_h, w->from_date, &fh);
    serve_hour_split(sq->to_h, w->to_date, &th);
    snprintf(w->sql, sizeof(w->sql),
             "e.dates BETWEEN ? AND ? AND (e.dates > ? OR e.hours >= ?)"
             " AND (e.dates < ? OR e.hours <= ?)");
    w->v[0] = DB_TEXT(w->from_date, 10);
    w->v[1] = DB_TEXT(w->to_date, 10);
    w->v[2] = DB_TEXT(w->from_date, 10);
    w->v[3] = DB_INT(fh);
    w->v[4] = DB_TEXT(w->to_date, 10);
    w->v[5] = DB_INT(th);
    w->n = 6;
    for (int f = 0; f < SF_NFILTERS; f++) {
        if (sq->filter[f] < 0)
            continue;
        len = strlen(w->sql);
        snprintf(w->sql + len, sizeof(w->sql) - len, "%s", serve_filter_sql[f]);
        w->v[w->n++] = DB_INT(sq->filter[f]);
    }
}

/* "range":{...},"filters":{...}, — the start of every answer's object. */
static int serve_json_head(struct buf *o, const struct serve_query *sq)
{
    char from[14], to[14];
    int rc;

    serve_hour_format(sq->from_h, from);
    serve_hour_format(sq->to_h, to);
    rc = buf_printf(o,
                    "{\"range\":{\"from\":\"%s\",\"to\":\"%s\","
                    "\"hours\":%lld},\"filters\":{",
                    from, to, (long long)(sq->to_h - sq->from_h + 1));
    for (int f = 0; f < SF_NFILTERS && rc == 0; f++) {
        if (sq->filter[f] < 0)
            rc = buf_printf(o, "%s\"%s\":null", f ? "," : "",
                            serve_filter_names[f]);
        else
            rc = buf_printf(o, "%s\"%s\":%lld", f ? "," : "",
                            serve_filter_names[f], sq->filter[f]);
    }
    return rc || buf_puts(o, "},");
}

/* ---- /api/kpis ---- */

#define KPI_COLS 12

static const char *const kpi_names[KPI_COLS] = {"impressions",
                                                "clicks",
                                                "ctr",
                                                "spend",
                                                "avg_cpc",
                                                "conversions",
                                                "cost_per_conversion",
                                                "qualified",
                                                "disqualified",
                                                "qualified_rate",
                                                "rows",
                                                "latest_update"};

struct kpi_row {
    char v[KPI_COLS][48];
    int null[KPI_COLS];
};

static int serve_kpi_row(void *ctx, int ncols, char **vals)
{
    struct kpi_row *k = ctx;

    for (int i = 0; i < KPI_COLS && i < ncols; i++) {
        k->null[i] = vals[i] == NULL;
        snprintf(k->v[i], sizeof(k->v[i]), "%s", vals[i] ? vals[i] : "");
    }
    return 0;
}

static int serve_kpis_json(struct buf *o, const struct serve_query *sq,
                           const struct kpi_row *k)
{
    int rc = serve_json_head(o, sq) || buf_puts(o, "\"kpis\":{");

    for (int i = 0; i < KPI_COLS - 2 && rc == 0; i++) {
        rc = buf_printf(o, "%s\"%s\":", i ? "," : "", kpi_names[i]) ||
             serve_json_num(o, k->null[i] ? NULL : k->v[i]);
    }
    rc = rc || buf_puts(o, "},\"rows\":") || serve_json_num(o, k->v[10]) ||
         buf_puts(o, ",\"latest_update\":");
    if (rc == 0 && k->null[11])
        rc = buf_puts(o, "null");
    else if (rc == 0)
        rc = buf_json_str(o, k->v[11], strlen(k->v[11]));
    return rc || buf_putc(o, '}');
}

void serve_api_kpis(struct serve *sv, struct http_req *req)
{
    struct serve_query sq;
    struct serve_where w;
    struct kpi_row k;
    char sql[2048], err[1024];

    if (serve_request_query(sv, req, SQ_RANGE, &sq) != 0)
        return;
    serve_where_build(&sq, &w);
    snprintf(
        sql, sizeof(sql),
        "SELECT COALESCE(SUM(e.impressions), 0),"
        " COALESCE(SUM(e.clicks), 0),"
        " ROUND(SUM(e.clicks) / NULLIF(SUM(e.impressions), 0), 6),"
        " COALESCE(SUM(e.spend_hour), 0),"
        " ROUND(SUM(e.spend_hour) / NULLIF(SUM(e.clicks), 0), 4),"
        " COALESCE(SUM(e.conversion), 0),"
        " ROUND(SUM(e.spend_hour) / NULLIF(SUM(e.conversion), 0), 4),"
        " COALESCE(SUM(e.qualified_application), 0),"
        " COALESCE(SUM(e.disqualified_application), 0),"
        " ROUND(SUM(e.qualified_application) /"
        "  NULLIF(SUM(e.qualified_application)"
        "  + SUM(e.disqualified_application), 0), 6),"
        " COUNT(*),"
        " DATE_FORMAT(MAX(e.latest_update_time), '%%Y-%%m-%%dT%%H:%%i:%%sZ')"
        " FROM events e WHERE %s",
        w.sql);
    memset(&k, 0, sizeof(k));
    if (serve_run(sv, sql, w.v, w.n, serve_kpi_row, &k, err, sizeof(err)) < 0) {
        serve_answer_db_error(sv, req, "kpis", err);
        return;
    }
    buf_reset(&sv->out);
    if (serve_kpis_json(&sv->out, &sq, &k) != 0) {
        serve_answer_error(sv, req, 500, "answer too large");
        return;
    }
    serve_answer_json(sv, req);
}

/* ---- /api/series ---- */

#define SERIES_COLS 6

static const char *const series_names[SERIES_COLS] = {
    "impressions", "clicks",    "spend",
    "conversions", "qualified", "disqualified"};

struct series_point {
    char v[SERIES_COLS][40];
};

struct series {
    int64_t from_h;
    long long n;
    struct series_point *pts;
};

static int serve_series_row(void *ctx, int ncols, char **vals)
{
    struct series *s = ctx;
    char hour[16];
    int64_t h;

    if (ncols != 2 + SERIES_COLS || vals[0] == NULL || vals[1] == NULL)
        return 0;
    snprintf(hour, sizeof(hour), "%sT%02d", vals[0], atoi(vals[1]));
    if (serve_hour_parse(hour, strlen(hour), &h) != 0 || h < s->from_h ||
        h - s->from_h >= s->n)
        return 0;
    for (int i = 0; i < SERIES_COLS; i++)
        snprintf(s->pts[h - s->from_h].v[i], sizeof(s->pts[0].v[i]), "%s",
                 vals[2 + i] ? vals[2 + i] : "0");
    return 0;
}

static int serve_series_json(struct buf *o, const struct serve_query *sq,
                             const struct series *s)
{
    int rc = serve_json_head(o, sq) || buf_puts(o, "\"points\":[");

    for (long long p = 0; p < s->n && rc == 0; p++) {
        char hour[14];

        serve_hour_format(s->from_h + p, hour);
        rc = buf_printf(o, "%s{\"hour\":\"%s\"", p ? "," : "", hour);
        for (int i = 0; i < SERIES_COLS && rc == 0; i++)
            rc = buf_printf(o, ",\"%s\":", series_names[i]) ||
                 serve_json_num(o, s->pts[p].v[i]);
        rc = rc || buf_putc(o, '}');
    }
    return rc || buf_puts(o, "]}");
}

void serve_api_series(struct serve *sv, struct http_req *req)
{
    struct serve_query sq;
    struct serve_where w;
    struct series s = {0};
    char sql[2048], err[1024];

    if (serve_request_query(sv, req, SQ_RANGE, &sq) != 0)
        return;
    s.from_h = sq.from_h;
    s.n = (long long)(sq.to_h - sq.from_h) + 1;
    /* The range was capped at max_hours before this allocation. */
    s.pts = malloc((size_t)s.n * sizeof(*s.pts));
    if (s.pts == NULL) {
        serve_answer_error(sv, req, 500, "out of memory");
        return;
    }
    for (long long p = 0; p < s.n; p++)
        for (int i = 0; i < SERIES_COLS; i++)
            strcpy(s.pts[p].v[i], "0");
    serve_where_build(&sq, &w);
    snprintf(sql, sizeof(sql),
             "SELECT DATE_FORMAT(e.dates, '%%Y-%%m-%%d'), e.hours,"
             " SUM(e.impressions), SUM(e.clicks), SUM(e.spend_hour),"
             " SUM(e.conversion), SUM(e.qualified_application),"
             " SUM(e.disqualified_application)"
             " FROM events e WHERE %s GROUP BY e.dates, e.hours"
             " ORDER BY e.dates, e.hours",
             w.sql);
    if (serve_run(sv, sql, w.v, w.n, serve_series_row, &s, err, sizeof(err)) <
        0) {
        serve_answer_db_error(sv, req, "series", err);
        goto out;
    }
    buf_reset(&sv->out);
    if (serve_series_json(&sv->out, &sq, &s) != 0) {
        serve_answer_error(sv, req, 500, "answer too large");
        goto out;
    }
    serve_answer_json(sv, req);
out:
    free(s.pts);
}

/* ---- /api/top ---- */

struct top_rows {
    struct buf *o;
    int n;
    int failed;
};

/* id, name, impressions, clicks, spend, conversions, ctr, avg_cpc */
static int serve_top_row(void *ctx, int ncols, char **vals)
{
    static const char *const names[] = {"impressions", "clicks", "spend",
                                        "conversions", "ctr",    "avg_cpc"};
    struct top_rows *t = ctx;
    struct buf *o = t->o;
    int rc;

    if (ncols != 8)
        return 1;
    rc = buf_puts(o, t->n++ ? ",{\"id\":" : "{\"id\":") ||
         serve_json_num(o, vals[0]) || buf_puts(o, ",\"name\":");
    if (rc == 0 && vals[1] == NULL)
        rc = buf_puts(o, "null");
    else if (rc == 0)
        rc = buf_json_str(o, vals[1], strlen(vals[1]));
    for (int i = 0; i < 6 && rc == 0; i++)
        rc = buf_printf(o, ",\"%s\":", names[i]) ||
             serve_json_num(o, vals[2 + i]);
    rc = rc || buf_putc(o, '}');
    t->failed = rc != 0;
    return rc;
}

void serve_api_top(struct serve *sv, struct http_req *req)
{
    struct serve_query sq;
    struct serve_where w;
    struct top_rows t = {&sv->out, 0, 0};
    char sql[2048], err[1024];
    const char *key;

    if (serve_request_query(sv, req, SQ_RANGE | SQ_TOP, &sq) != 0)
        return;
    serve_where_build(&sq, &w);
    w.v[w.n++] = DB_INT(sq.limit);
    key = serve_dim_sql[sq.dim].key;
    snprintf(sql, sizeof(sql),
             "SELECT %s, MAX(%s), SUM(e.impressions) AS impressions,"
             " SUM(e.clicks) AS clicks, SUM(e.spend_hour) AS spend,"
             " SUM(e.conversion) AS conversions,"
             " ROUND(SUM(e.clicks) / NULLIF(SUM(e.impressions), 0), 6),"
             " ROUND(SUM(e.spend_hour) / NULLIF(SUM(e.clicks), 0), 4)"
             " FROM events e LEFT JOIN %s WHERE %s GROUP BY %s"
             " ORDER BY %s DESC, %s IS NULL, %s LIMIT ?",
             key, serve_dim_sql[sq.dim].name, serve_dim_sql[sq.dim].join, w.sql,
             key, serve_order_sql[sq.by], key, key);
    buf_reset(&sv->out);
    if (serve_json_head(&sv->out, &sq) != 0 ||
        buf_printf(&sv->out,
                   "\"dim\":\"%s\",\"by\":\"%s\",\"limit\":%lld,"
                   "\"rows\":[",
                   serve_dim_name(sq.dim), serve_by_name(sq.by),
                   sq.limit) != 0) {
        serve_answer_error(sv, req, 500, "answer too large");
        return;
    }
    if (serve_run(sv, sql, w.v, w.n, serve_top_row, &t, err, sizeof(err)) < 0 &&
        !t.failed) {
        serve_answer_db_error(sv, req, "top", err);
        return;
    }
    if (t.failed || buf_puts(&sv->out, "]}") != 0) {
        serve_answer_error(sv, req, 500, "answer too large");
        return;
    }
    serve_answer_json(sv, req);
}

/* ---- /healthz ---- */

void serve_api_health(struct serve *sv, struct http_req *req)
{
    static const char ok[] = "{\"status\":\"ok\",\"mysql\":\"up\"}";
    static const char down[] = "{\"error\":\"mysql is unreachable; see the "
                               "server log\",\"status\":\"unavailable\","
                               "\"mysql\":\"down\"}";
    char err[1024];

    if (serve_run(sv, "SELECT 1", NULL, 0, NULL, NULL, err, sizeof(err)) < 0) {
        log_warn("serve", "healthz: mysql: %s", err);
        http_req_respond(req, 503, "application/json", SERVE_NO_STORE, down,
                         sizeof(down) - 1);
        return;
    }
    http_req_respond(req, 200, "application/json", SERVE_NO_STORE, ok,
                     sizeof(ok) - 1);
}
