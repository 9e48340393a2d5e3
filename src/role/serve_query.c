/* `adtally serve`: request parameters, hours and static paths checked
 * without I/O. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "role/serve.h"
#include "util/hex.h"

enum serve_param {
    SP_FROM,
    SP_TO,
    SP_CAMPAIGN,
    SP_COMPANY,
    SP_PUBLISHER,
    SP_JOB,
    SP_BY,
    SP_DIM,
    SP_LIMIT,
    SP_NPARAMS
};

static const struct {
    const char *name;
    unsigned group;
} serve_params[SP_NPARAMS] = {
    {"from", SQ_RANGE},    {"to", SQ_RANGE},        {"campaign", SQ_RANGE},
    {"company", SQ_RANGE}, {"publisher", SQ_RANGE}, {"job", SQ_RANGE},
    {"by", SQ_TOP},        {"dim", SQ_TOP},         {"limit", SQ_TOP},
};

/* 9999-12-31T23, the last hour a DATE column holds. */
#define SERVE_HOUR_LAST 70389527

static const char *const serve_dims[] = {"job", "campaign", "company",
                                         "publisher"};
static const char *const serve_bys[] = {"spend", "clicks", "impressions",
                                        "conversions"};

#define SERVE_NDIMS ((int)(sizeof(serve_dims) / sizeof(serve_dims[0])))
#define SERVE_NBYS ((int)(sizeof(serve_bys) / sizeof(serve_bys[0])))

const char *serve_dim_name(enum serve_dim d)
{
    assert((int)d >= 0 && (int)d < SERVE_NDIMS);
    return serve_dims[d];
}

const char *serve_by_name(enum serve_by b)
{
    assert((int)b >= 0 && (int)b < SERVE_NBYS);
    return serve_bys[b];
}

/* Percent-decodes s[0..n) into out (NUL-terminated, at most cap - 1
 * bytes); '+' is a space. Returns the length, -1 for a bad escape or a
 * NUL byte, -2 when too long. */
static long sq_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n)
                return -1;
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        if (o + 1 >= cap)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (long)o;
}

/* Non-zero when s is short and plain enough to quote back in a message. */
static int sq_quotable(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 32 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* A decimal id: 1 to 10 digits, at most 2^31 - 1. */
static int sq_int(const char *s, long long max, long long *out)
{
    size_t n = strlen(s);
    long long v = 0;

    if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
        return -1;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static int sq_word(const char *s, const char *const *words, int nwords)
{
    for (int i = 0; i < nwords; i++) {
        if (strcmp(s, words[i]) == 0)
            return i;
    }
    return -1;
}

int serve_hour_parse(const char *s, size_t n, int64_t *hour)
{
    static const char shape[] = "dddd-dd-ddTdd";
    struct tm tm = {0}, back;
    time_t t;

    if (n != sizeof(shape) - 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return -1;
    }
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
    tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
    tm.tm_hour = (s[11] - '0') * 10 + (s[12] - '0');
    if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_hour > 23)
        return -1;
    back = tm;
    t = timegm(&back);
    /* timegm normalises 02-30 into March: a real date stays as given. */
    if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon)
        return -1;
    *hour = (int64_t)t / 3600;
    return 0;
}

void serve_hour_split(int64_t hour, char date[11], int *hod)
{
    time_t t = (time_t)(hour * 3600);
    struct tm tm;

    assert(hour >= 0 && hour <= SERVE_HOUR_LAST);
    gmtime_r(&t, &tm);
    strftime(date, 11, "%Y-%m-%d", &tm);
    *hod = tm.tm_hour;
}

void serve_hour_format(int64_t hour, char out[14])
{
    char date[11];
    int hod;

    serve_hour_split(hour, date, &hod);
    snprintf(out, 14, "%sT%02d", date, hod);
}

/* Applies one decoded parameter. Returns 0 or -1 with err. */
static int sq_apply(enum serve_param p, const char *v,
                    const struct serve_caps *caps, struct serve_query *sq,
                    char *err, size_t errlen)
{
    int w;

    switch (p) {
    case SP_FROM:
    case SP_TO:
        if (serve_hour_parse(v, strlen(v),
                             p == SP_FROM ? &sq->from_h : &sq->to_h) != 0)
            goto bad_hour;
        *(p == SP_FROM ? &sq->has_from : &sq->has_to) = 1;
        return 0;
    case SP_BY:
        if ((w = sq_word(v, serve_bys, SERVE_NBYS)) < 0)
            goto bad_word;
        sq->by = (enum serve_by)w;
        return 0;
    case SP_DIM:
        if ((w = sq_word(v, serve_dims, SERVE_NDIMS)) < 0)
            goto bad_word;
        sq->dim = (enum serve_dim)w;
        return 0;
    case SP_LIMIT:
        if (sq_int(v, caps->max_limit, &sq->limit) != 0 || sq->limit < 1) {
            snprintf(err, errlen, "limit: an integer from 1 to %lld",
                     caps->max_limit);
            return -1;
        }
        return 0;
    default:
        if (sq_int(v, 2147483647, &sq->filter[p - SP_CAMPAIGN]) != 0) {
            snprintf(err, errlen,
                     "%s: an id, a whole number from 0 to "
                     "2147483647",
                     serve_params[p].name);
            return -1;
        }
        return 0;
    }
bad_hour:
    snprintf(err, errlen,
             "%s: an hour YYYY-MM-DDTHH (a real date, "
             "1970 or later)",
             serve_params[p].name);
    return -1;
bad_word:
    snprintf(err, errlen, "%s: one of %s", serve_params[p].name,
             p == SP_BY ? "spend, clicks, impressions, conversions"
                        : "job, campaign, company, publisher");
    return -1;
}

/* Parses one "name=value" pair. Returns 0 or -1 with err. */
static int sq_pair(const char *s, size_t n, unsigned accept,
                   const struct serve_caps *caps, unsigned *seen,
                   struct serve_query *sq, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', n);
    size_t nlen = eq ? (size_t)(eq - s) : n;
    char name[SERVE_VALUE_MAX], val[SERVE_VALUE_MAX];
    int p;

    if (sq_decode(s, nlen, name, sizeof(name)) < 0) {
        snprintf(err, errlen, "unknown parameter");
        return -1;
    }
    for (p = 0; p < SP_NPARAMS; p++) {
        if (strcmp(name, serve_params[p].name) == 0)
            break;
    }
    if (p == SP_NPARAMS || !(serve_params[p].group & accept)) {
        if (sq_quotable(name))
            snprintf(err, errlen, "unknown parameter '%s'", name);
        else
            snprintf(err, errlen, "unknown parameter");
        return -1;
    }
    if (*seen & (1u << p)) {
        snprintf(err, errlen, "parameter '%s' given twice", name);
        return -1;
    }
    *seen |= 1u << p;
    if (eq == NULL)
        return 0;
    switch (sq_decode(eq + 1, n - nlen - 1, val, sizeof(val))) {
    case -1:
        snprintf(err, errlen, "%s: bad percent-encoding", name);
        return -1;
    case -2:
        snprintf(err, errlen, "%s: value longer than %d bytes", name,
                 SERVE_VALUE_MAX - 1);
        return -1;
    case 0:
        return 0; /* empty: as if absent */
    default:
        return sq_apply((enum serve_param)p, val, caps, sq, err, errlen);
    }
}

int serve_query_parse(const char *q, size_t n, unsigned accept,
                      const struct serve_caps *caps, struct serve_query *sq,
                      char *err, size_t errlen)
{
    unsigned seen = 0;
    size_t i = 0;

    memset(sq, 0, sizeof(*sq));
    for (int f = 0; f < SF_NFILTERS; f++)
        sq->filter[f] = -1;
    sq->by = SB_SPEND;
    sq->dim = SD_JOB;
    sq->limit = 10 < caps->max_limit ? 10 : caps->max_limit;
    if (q == NULL)
        return 0;
    if (n > SERVE_QUERY_MAX) {
        snprintf(err, errlen, "query string longer than %d bytes",
                 SERVE_QUERY_MAX);
        return -1;
    }
    while (i < n) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - q) : n;

        if (end > i &&
            sq_pair(q + i, end - i, accept, caps, &seen, sq, err, errlen) != 0)
            return -1;
        i = end + 1;
    }
    return 0;
}

int serve_range_settle(struct serve_query *sq, int64_t latest,
                       long long max_hours, char *err, size_t errlen)
{
    long long hours;

    if (!sq->has_from && !sq->has_to) {
        sq->to_h = latest;
        sq->from_h = latest - 23;
    } else if (!sq->has_from) {
        sq->from_h = sq->to_h - 23;
    } else if (!sq->has_to) {
        sq->to_h = sq->from_h + 23;
    }
    if (sq->from_h < 0)
        sq->from_h = 0;
    if (sq->to_h > SERVE_HOUR_LAST) {
        snprintf(err, errlen, "to is after 9999-12-31T23");
        return -1;
    }
    if (sq->from_h > sq->to_h) {
        snprintf(err, errlen, "from is after to");
        return -1;
    }
    hours = (long long)(sq->to_h - sq->from_h) + 1;
    if (hours > max_hours) {
        snprintf(err, errlen,
                 "the range spans %lld hours; at most %lld "
                 "are allowed (--max-range-days)",
                 hours, max_hours);
        return -1;
    }
    return 0;
}

static int serve_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '/';
}

int serve_path_check(const char *path, size_t n, char *out, size_t outlen)
{
    size_t seg = 1, o = 0;

    if (n == 0 || n > SERVE_PATH_MAX || path[0] != '/' || outlen == 0)
        return -1;
    /* path[0..n) is a span of the request, not a C string. */
    for (size_t i = 0; i < n; i++) {
        if (!serve_path_char(path[i]))
            return -1;
    }
    /* Every segment: not empty (except after the last '/'), no leading
     * dot, which also rules out "." and "..". */
    for (size_t i = 1; i <= n; i++) {
        if (i < n && path[i] != '/')
            continue;
        if (i == seg && i < n)
            return -1;
        if (i > seg && path[seg] == '.')
            return -1;
        seg = i + 1;
    }
    if (n - 1 + sizeof("index.html") > outlen)
        return -1;
    memcpy(out, path + 1, n - 1);
    o = n - 1;
    if (o == 0 || out[o - 1] == '/') {
        memcpy(out + o, "index.html", sizeof("index.html"));
        return 0;
    }
    out[o] = '\0';
    return 0;
}

const char *serve_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');

    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}
