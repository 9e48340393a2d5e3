/* Writing an HTTP answer: status line, framing, Date and CORS fields. */
#include <string.h>
#include <time.h>

#include "client/http_priv.h"

/* The Date field's text, formatted at most once a second. */
static const char *http_reply_date(struct http_server *s)
{
    time_t now = time(NULL);
    struct tm tm;

    if (now != s->date_sec) {
        gmtime_r(&now, &tm);
        strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        s->date_sec = now;
    }
    return s->date;
}

/* Returns 1 when `origin` is one of the comma-separated `list`. */
static int http_origin_listed(const char *list, const char *origin, size_t olen)
{
    const char *p = list;

    while (*p) {
        size_t b, e;

        while (*p == ',' || *p == ' ')
            p++;
        for (b = 0; p[b] && p[b] != ','; b++)
            ;
        for (e = b; e > 0 && p[e - 1] == ' '; e--)
            ;
        if (e > 0 && e == olen && memcmp(p, origin, olen) == 0)
            return 1;
        p += b;
    }
    return 0;
}

static int http_reply_cors(const struct http_req *c, int status, struct buf *o)
{
    const struct http_server_opts *so = &c->srv->o;
    const char *origin;
    size_t olen, n;
    int rc, any;

    if (so->cors_origin == NULL || !c->have_head)
        return 0;
    any = strcmp(so->cors_origin, "*") == 0;
    origin = http_head_field(&c->head, "origin", &olen);
    if (origin == NULL ||
        (!any && !http_origin_listed(so->cors_origin, origin, olen)))
        return any ? 0 : buf_puts(o, "Vary: Origin\r\n");
    if (any)
        rc = buf_puts(o, "Access-Control-Allow-Origin: *\r\n");
    else
        rc = buf_printf(o,
                        "Access-Control-Allow-Origin: %.*s\r\n"
                        "Vary: Origin\r\n",
                        (int)olen, origin);
    if (rc == 0 && c->head.method == HTTP_OPTIONS && status / 100 == 2 &&
        http_head_field(&c->head, "access-control-request-method", &n))
        rc = buf_printf(o,
                        "Access-Control-Allow-Methods: %s\r\n"
                        "Access-Control-Allow-Headers: %s\r\n"
                        "Access-Control-Max-Age: %d\r\n",
                        so->cors_methods, so->cors_headers, so->cors_max_age);
    return rc;
}

int http_reply_build(struct http_req *c, int status, const char *ctype,
                     const char *headers, const void *body, size_t n)
{
    struct buf *o = &c->out;
    int bodyless = status < 200 || status == 204 || status == 304;
    int head_only = c->have_head && c->head.method == HTTP_HEAD;
    int rc;

    buf_reset(o);
    c->out_off = 0;
    rc = buf_printf(o, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                    http_status_text(status), http_reply_date(c->srv));
    if (rc == 0 && !bodyless)
        rc = buf_printf(o, "Content-Length: %zu\r\n", n);
    if (rc == 0 && !bodyless && ctype)
        rc = buf_printf(o, "Content-Type: %s\r\n", ctype);
    if (rc == 0 && !c->keep_alive)
        rc = buf_puts(o, "Connection: close\r\n");
    else if (rc == 0 && c->head.version == 10)
        rc = buf_puts(o, "Connection: keep-alive\r\n");
    if (rc == 0)
        rc = http_reply_cors(c, status, o);
    if (rc == 0 && headers)
        rc = buf_puts(o, headers);
    if (rc == 0)
        rc = buf_puts(o, "\r\n");
    if (rc == 0 && !bodyless && !head_only && n > 0)
        rc = buf_append(o, body, n);
    return rc;
}
