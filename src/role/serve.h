/* `adtally serve`: what its parts share (settings, request parameters,
 * the JSON API over `events`, the static page). */
#ifndef ADTALLY_ROLE_SERVE_H
#define ADTALLY_ROLE_SERVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "client/http.h"
#include "client/mysql.h"
#include "util/buf.h"
#include "util/config.h"

#define SERVE_QUERY_MAX 2048            /* bytes of a query string */
#define SERVE_VALUE_MAX 64              /* bytes of one decoded name or value */
#define SERVE_PATH_MAX 256              /* bytes of a static file's URL path */
#define SERVE_OUT_MAX ((size_t)8 << 20) /* bytes of one JSON answer */

struct serve_opts {
    const char *listen;
    const char *web_dir;
    long long max_range_days;
    long long max_limit;
    long long query_timeout_ms;
    long long max_conns;
    long long static_max;
    long long status_s;
};

/* The filters, in the order of their parameter names. */
enum serve_filter {
    SF_CAMPAIGN,
    SF_COMPANY,
    SF_PUBLISHER,
    SF_JOB,
    SF_NFILTERS
};

enum serve_dim { SD_JOB, SD_CAMPAIGN, SD_COMPANY, SD_PUBLISHER };

enum serve_by { SB_SPEND, SB_CLICKS, SB_IMPRESSIONS, SB_CONVERSIONS };

/* Which parameters an endpoint takes. */
#define SQ_RANGE 1u /* from, to and the filters */
#define SQ_TOP 2u   /* by, dim, limit */

/* A request's parameters, validated. Hours count from 1970-01-01T00 in
 * the table's reporting zone; both ends of a range are included. */
struct serve_query {
    int has_from, has_to;
    int64_t from_h, to_h;
    long long filter[SF_NFILTERS]; /* -1: no filter */
    enum serve_by by;
    enum serve_dim dim;
    long long limit;
};

/* Caps the parser enforces. */
struct serve_caps {
    long long max_hours; /* the longest range, in hours */
    long long max_limit; /* the largest `limit` */
};

/* serve_query.c: pure functions, no I/O. */

/* Parses a query string (n bytes, percent-encoded, '&'-separated) that
 * may use the parameters in `accept`. An empty value counts as absent.
 * Fills *sq with defaults first (no range, no filters, by spend, dim job,
 * limit 10). Returns 0, or -1 with a message for the client in err
 * (unknown or repeated parameter, bad number or hour, over a cap). */
int serve_query_parse(const char *q, size_t n, unsigned accept,
                      const struct serve_caps *caps, struct serve_query *sq,
                      char *err, size_t errlen);

/* Parses "YYYY-MM-DDTHH" (exactly 13 bytes) into hours since the epoch.
 * Returns 0, or -1 when it is not that shape or not a real date. */
int serve_hour_parse(const char *s, size_t n, int64_t *hour);

/* Writes an hour as "YYYY-MM-DDTHH" (14 bytes with the NUL). */
void serve_hour_format(int64_t hour, char out[14]);

/* The date ("YYYY-MM-DD", 11 bytes with the NUL) and hour of the day of
 * an hour since the epoch. */
void serve_hour_split(int64_t hour, char date[11], int *hod);

/* Completes the range of *sq: without either end, `to` is `latest` (the
 * newest hour with data) and the range its 24 hours; with one end, the
 * other is 23 hours away. Returns 0, or -1 with a message when `from` is
 * after `to` or the range is longer than max_hours. */
int serve_range_settle(struct serve_query *sq, int64_t latest,
                       long long max_hours, char *err, size_t errlen);

/* Checks a static file's URL path (without its query): only letters,
 * digits and "._-/", no empty, "." or ".." segment, no segment starting
 * with a dot, at most SERVE_PATH_MAX bytes. Writes the relative file name
 * into out ("index.html" for "/" and for a path ending in '/'). Returns 0
 * or -1. */
int serve_path_check(const char *path, size_t n, char *out, size_t outlen);

/* The Content-Type for a file name, by its extension. */
const char *serve_content_type(const char *name);

/* The name used in URLs and answers. */
const char *serve_dim_name(enum serve_dim d);
const char *serve_by_name(enum serve_by b);

/* The role's state. */
struct serve {
    const struct config *cfg;
    const struct serve_opts *o;
    struct serve_caps caps;
    struct db_url url;
    struct db *db; /* NULL until needed, and after a lost connection */
    struct http_server *srv;
    struct buf out; /* the answer being built */
    int stopping;
    int64_t next_status;
    /* Counters for the status line. */
    uint64_t api_ok, api_4xx, api_5xx, files, reconnects, queries;
    double query_ms_sum, query_ms_max;
};

/* Set by SIGTERM or SIGINT; the tick stops the server. */
extern volatile sig_atomic_t serve_stop_flag;

int64_t serve_now_ms(void);

/* serve_api.c. Each answers `req` exactly once. */
void serve_api_kpis(struct serve *sv, struct http_req *req);
void serve_api_series(struct serve *sv, struct http_req *req);
void serve_api_top(struct serve *sv, struct http_req *req);
void serve_api_health(struct serve *sv, struct http_req *req);

/* Answers {"error": message} with `status`. */
void serve_answer_error(struct serve *sv, struct http_req *req, int status,
                        const char *msg);

/* Closes the database connection. NULL-safe on sv->db. */
void serve_db_close(struct serve *sv);

/* serve_static.c: answers a GET or HEAD for a file under --web-dir. */
void serve_static_file(struct serve *sv, struct http_req *req);

#endif
