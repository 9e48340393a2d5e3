/* The HTTP/1.1 request-head parser (RFC 9112): a pure function over bytes. */
#include "client/http.h"

#include <string.h>
#include <strings.h>

static const char *const http_methods[] = {
    "GET",     "HEAD",  "POST",  "PUT",     "DELETE",
    "OPTIONS", "PATCH", "TRACE", "CONNECT", NULL,
};

const char *http_method_name(enum http_method m)
{
    return http_methods[m];
}

const char *http_status_text(int status)
{
    static const struct {
        int status;
        const char *text;
    } t[] = {
        {100, "Continue"},
        {200, "OK"},
        {202, "Accepted"},
        {204, "No Content"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {411, "Length Required"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {417, "Expectation Failed"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].status == status)
            return t[i].text;
    }
    return "Unknown";
}

/* A token character (RFC 9110 §5.6.2). */
static int http_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A character allowed in a field value: HTAB, SP, VCHAR, obs-text. */
static int http_vchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int http_fail(int *status, int code)
{
    *status = code;
    return HTTP_PARSE_ERROR;
}

static int http_method_parse(const char *s, size_t n, struct http_head *h,
                             int *status)
{
    if (n == 0)
        return http_fail(status, 400);
    for (size_t i = 0; i < n; i++) {
        if (!http_tchar((unsigned char)s[i]))
            return http_fail(status, 400);
    }
    if (n > HTTP_METHOD_MAX)
        return http_fail(status, 501);
    for (int m = 0; http_methods[m]; m++) {
        if (strlen(http_methods[m]) == n &&
            memcmp(http_methods[m], s, n) == 0) {
            h->method = (enum http_method)m;
            return 0;
        }
    }
    return http_fail(status, 501);
}

static int http_target_parse(const char *s, size_t n, struct http_head *h,
                             int *status)
{
    const char *q;

    if (n == 0)
        return http_fail(status, 400);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return http_fail(status, 400);
    }
    if (n == 1 && s[0] == '*') {
        if (h->method != HTTP_OPTIONS)
            return http_fail(status, 400);
    } else if (s[0] != '/') {
        return http_fail(status, 400); /* origin-form only: no proxying */
    }
    h->target = h->path = s;
    h->target_len = h->path_len = n;
    q = memchr(s, '?', n);
    if (q != NULL) {
        h->path_len = (size_t)(q - s);
        h->query = q + 1;
        h->query_len = n - h->path_len - 1;
    }
    return 0;
}

static int http_version_parse(const char *s, size_t n, struct http_head *h,
                              int *status)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' ||
        s[5] > '9' || s[7] < '0' || s[7] > '9')
        return http_fail(status, 400);
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return http_fail(status, 505);
    h->version = s[7] == '1' ? 11 : 10;
    return 0;
}

/* Parses "METHOD SP target SP HTTP/x.y CRLF"; on success *pos is where
 * the header fields start. */
static int http_request_line(const char *buf, size_t n,
                             const struct http_limits *lim, struct http_head *h,
                             size_t *pos, int *status)
{
    size_t start = 0, end;
    const char *nl, *sp1, *sp2;

    /* Empty lines before a request are ignored (RFC 9112 §2.2). */
    while (start + 1 < n && buf[start] == '\r' && buf[start + 1] == '\n')
        start += 2;
    nl = memchr(buf + start, '\n', n - start);
    if (nl == NULL)
        return n > lim->line_max ? http_fail(status, 414) : HTTP_PARSE_MORE;
    end = (size_t)(nl - buf);
    if (end == start || buf[end - 1] != '\r')
        return http_fail(status, 400);
    if (end - 1 > lim->line_max)
        return http_fail(status, 414);
    end--;
    sp1 = memchr(buf + start, ' ', end - start);
    if (sp1 == NULL)
        return http_fail(status, 400);
    sp2 = memchr(sp1 + 1, ' ', (size_t)(buf + end - sp1 - 1));
    if (sp2 == NULL)
        return http_fail(status, 400);
    if (http_method_parse(buf + start, (size_t)(sp1 - buf) - start, h,
                          status) != 0 ||
        http_target_parse(sp1 + 1, (size_t)(sp2 - sp1 - 1), h, status) != 0 ||
        http_version_parse(sp2 + 1, (size_t)(buf + end - sp2 - 1), h, status) !=
            0)
        return HTTP_PARSE_ERROR;
    *pos = end + 2;
    return HTTP_PARSE_DONE;
}

/* One "name: value" line without its CRLF. */
static int http_field_parse(const char *s, size_t n, struct http_head *h,
                            int *status)
{
    const char *colon = memchr(s, ':', n);
    struct http_field *f;
    size_t i, v, e;

    if (colon == NULL || colon == s)
        return http_fail(status, 400);
    for (i = 0; s + i < colon; i++) {
        if (!http_tchar((unsigned char)s[i]))
            return http_fail(status, 400); /* also obs-fold, SP before : */
    }
    for (v = i + 1; v < n; v++) {
        if (!http_vchar((unsigned char)s[v]))
            return http_fail(status, 400);
    }
    if (h->nfields == HTTP_FIELDS_MAX)
        return http_fail(status, 431);
    for (v = i + 1; v < n && (s[v] == ' ' || s[v] == '\t'); v++)
        ;
    for (e = n; e > v && (s[e - 1] == ' ' || s[e - 1] == '\t'); e--)
        ;
    f = &h->fields[h->nfields++];
    f->name = s;
    f->nlen = i;
    f->val = s + v;
    f->vlen = e - v;
    return 0;
}

static int http_fields(const char *buf, size_t n, size_t pos,
                       const struct http_limits *lim, struct http_head *h,
                       int *status)
{
    size_t hstart = pos, end;
    const char *nl;

    for (;;) {
        nl = memchr(buf + pos, '\n', n - pos);
        if (nl == NULL)
            return n - hstart > lim->header_max ? http_fail(status, 431)
                                                : HTTP_PARSE_MORE;
        end = (size_t)(nl - buf);
        if (end + 1 - hstart > lim->header_max)
            return http_fail(status, 431);
        if (end == pos || buf[end - 1] != '\r')
            return http_fail(status, 400);
        if (end - 1 == pos) {
            h->len = end + 1;
            return HTTP_PARSE_DONE;
        }
        if (http_field_parse(buf + pos, end - 1 - pos, h, status) != 0)
            return HTTP_PARSE_ERROR;
        pos = end + 1;
    }
}

const char *http_head_field(const struct http_head *h, const char *name,
                            size_t *vlen)
{
    size_t n = strlen(name);

    for (int i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        if (f->nlen == n && strncasecmp(f->name, name, n) == 0) {
            *vlen = f->vlen;
            return f->val;
        }
    }
    return NULL;
}

/* Digits only, at most 19 of them (no sign, no list). */
static int http_length_parse(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Notes the "close" and "keep-alive" options of a Connection field. */
static void http_connection_scan(const char *s, size_t n, int *close, int *keep)
{
    size_t i = 0;

    while (i < n) {
        size_t b, e;

        while (i < n && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
            i++;
        for (b = i; i < n && s[i] != ','; i++)
            ;
        for (e = i; e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'); e--)
            ;
        if (e - b == 5 && strncasecmp(s + b, "close", 5) == 0)
            *close = 1;
        if (e - b == 10 && strncasecmp(s + b, "keep-alive", 10) == 0)
            *keep = 1;
    }
}

/* Counts the fields called `name`, remembering the last one. */
static int http_field_count(const struct http_head *h, const char *name,
                            const struct http_field **last)
{
    size_t n = strlen(name);
    int count = 0;

    for (int i = 0; i < h->nfields; i++) {
        if (h->fields[i].nlen == n &&
            strncasecmp(h->fields[i].name, name, n) == 0) {
            *last = &h->fields[i];
            count++;
        }
    }
    return count;
}

/* Framing: Content-Length, Transfer-Encoding and Expect. */
static int http_framing(struct http_head *h, const struct http_limits *lim,
                        int *status)
{
    const struct http_field *cl = NULL, *te = NULL, *ex = NULL;
    int ncl = http_field_count(h, "content-length", &cl);
    int nte = http_field_count(h, "transfer-encoding", &te);

    if (ncl > 1 || (ncl && nte))
        return http_fail(status, 400);
    if (nte)
        return http_fail(status, 411); /* chunked bodies are refused */
    if (ncl && http_length_parse(cl->val, cl->vlen, &h->content_length))
        return http_fail(status, 400);
    if (h->content_length > lim->body_max)
        return http_fail(status, 413);
    if (http_field_count(h, "expect", &ex) > 0) {
        if (ex->vlen != 12 || strncasecmp(ex->val, "100-continue", 12))
            return http_fail(status, 417);
        h->expect_continue = h->version == 11;
    }
    return 0;
}

static int http_semantics(struct http_head *h, const struct http_limits *lim,
                          int *status)
{
    const struct http_field *f = NULL;
    int hosts = http_field_count(h, "host", &f);
    int close = 0, keep = 0;

    if (hosts > 1 || (h->version == 11 && hosts == 0))
        return http_fail(status, 400);
    if (http_framing(h, lim, status) != 0)
        return HTTP_PARSE_ERROR;
    for (int i = 0; i < h->nfields; i++) {
        f = &h->fields[i];
        if (f->nlen == 10 && strncasecmp(f->name, "connection", 10) == 0)
            http_connection_scan(f->val, f->vlen, &close, &keep);
    }
    h->keep_alive = h->version == 11 ? !close : keep && !close;
    return HTTP_PARSE_DONE;
}

int http_parse_head(const char *buf, size_t n, const struct http_limits *lim,
                    struct http_head *h, int *status)
{
    size_t pos = 0;
    int rc;

    memset(h, 0, offsetof(struct http_head, fields));
    h->nfields = 0;
    h->len = 0;
    *status = 0;
    rc = http_request_line(buf, n, lim, h, &pos, status);
    if (rc != HTTP_PARSE_DONE)
        return rc;
    rc = http_fields(buf, n, pos, lim, h, status);
    if (rc != HTTP_PARSE_DONE)
        return rc;
    return http_semantics(h, lim, status);
}
