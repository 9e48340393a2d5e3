/* Unit tests of the HTTP request-head parser (src/client/http_parse.c). */
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "util/buf.h"
#include "test.h"

static const struct http_limits lim = {HTTP_LINE_MAX, HTTP_HEADER_MAX,
                                       HTTP_BODY_MAX};

static int parse(const char *s, struct http_head *h, int *status)
{
    return http_parse_head(s, strlen(s), &lim, h, status);
}

/* The status a whole request string is refused with (0: not refused). */
static int refusal(const char *s)
{
    struct http_head h;
    int status = 0;

    if (parse(s, &h, &status) != HTTP_PARSE_ERROR)
        return 0;
    return status;
}

static void get_with_query_parses(void)
{
    static const char req[] = "GET /track?job_id=1&ts=x HTTP/1.1\r\n"
                              "Host: a\r\nUser-Agent:  curl/8 \r\n"
                              "Accept: */*\r\n\r\nleftover";
    struct http_head h;
    const char *v;
    size_t n = 0;
    int status;

    CHECK_INT(parse(req, &h, &status), HTTP_PARSE_DONE);
    CHECK_INT(h.method, HTTP_GET);
    CHECK_INT(h.version, 11);
    CHECK_INT(h.keep_alive, 1);
    CHECK_INT(h.len, strlen(req) - strlen("leftover"));
    CHECK_INT(h.path_len, 6);
    CHECK(memcmp(h.path, "/track", 6) == 0);
    CHECK_INT(h.query_len, strlen("job_id=1&ts=x"));
    CHECK(memcmp(h.query, "job_id=1&ts=x", h.query_len) == 0);
    CHECK_INT(h.nfields, 3);
    v = http_head_field(&h, "user-agent", &n);
    CHECK(v != NULL && n == 6 && memcmp(v, "curl/8", 6) == 0);
    CHECK(http_head_field(&h, "origin", &n) == NULL);
}

static void path_without_query_has_no_query(void)
{
    struct http_head h;
    int status;

    CHECK_INT(parse("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &h, &status),
              HTTP_PARSE_DONE);
    CHECK(h.query == NULL);
    CHECK_INT(h.path_len, 8);
    CHECK_INT(parse("GET /t? HTTP/1.1\r\nHost: a\r\n\r\n", &h, &status),
              HTTP_PARSE_DONE);
    CHECK(h.query != NULL);
    CHECK_INT(h.query_len, 0);
}

/* Every prefix of a request is incomplete; the whole is complete. */
static void split_reads_need_more_until_complete(void)
{
    static const char req[] = "\r\nPOST /events HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 5\r\n"
                              "Content-Type: application/x-ndjson\r\n\r\n";
    struct http_head h;
    int status, bad = 0;
    size_t n = strlen(req);

    for (size_t i = 0; i < n; i++) {
        /* A copy of exactly i bytes, so ASan sees any read past it. */
        char *p = malloc(i ? i : 1);
        memcpy(p, req, i);
        if (http_parse_head(p, i, &lim, &h, &status) != HTTP_PARSE_MORE) {
            printf("  prefix of %zu bytes: status %d\n", i, status);
            bad++;
        }
        free(p);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(http_parse_head(req, n, &lim, &h, &status), HTTP_PARSE_DONE);
    CHECK_INT(h.method, HTTP_POST);
    CHECK_INT(h.content_length, 5);
    CHECK_INT(h.len, n);
}

static void connection_options_decide_keep_alive(void)
{
    struct http_head h;
    int status;

    parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", &h,
          &status);
    CHECK_INT(h.keep_alive, 0);
    parse("GET / HTTP/1.0\r\n\r\n", &h, &status);
    CHECK_INT(h.keep_alive, 0);
    parse("GET / HTTP/1.0\r\nConnection: x, keep-alive\r\n\r\n", &h, &status);
    CHECK_INT(h.keep_alive, 1);
    CHECK_INT(h.version, 10);
    parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", &h,
          &status);
    CHECK_INT(h.keep_alive, 1);
}

static void oversize_request_line_is_414(void)
{
    size_t n = HTTP_LINE_MAX + 64;
    char *req = malloc(n + 64);
    struct http_head h;
    int status = 0;

    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', n - 5);
    /* Incomplete: refused as soon as the cap is passed. */
    CHECK_INT(http_parse_head(req, HTTP_LINE_MAX, &lim, &h, &status),
              HTTP_PARSE_MORE);
    CHECK_INT(http_parse_head(req, HTTP_LINE_MAX + 1, &lim, &h, &status),
              HTTP_PARSE_ERROR);
    CHECK_INT(status, 414);
    /* Complete: a line of exactly the cap passes, one more byte fails. */
    strcpy(req + HTTP_LINE_MAX - 9, " HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_INT(parse(req, &h, &status), HTTP_PARSE_DONE);
    strcpy(req + HTTP_LINE_MAX - 8, " HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_INT(refusal(req), 414);
    free(req);
}

static void oversize_header_is_431(void)
{
    size_t n = HTTP_HEADER_MAX + 100;
    char *req = malloc(n + 100);
    struct http_head h;
    int status = 0;
    size_t start;

    strcpy(req, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    start = strlen(req);
    memset(req + start, 'b', n);
    req[start + n] = '\0';
    CHECK_INT(refusal(req), 431); /* still incomplete */
    CHECK_INT(http_parse_head(req, start + 100, &lim, &h, &status),
              HTTP_PARSE_MORE);
    strcpy(req + start + 100, "\r\n\r\n");
    CHECK_INT(parse(req, &h, &status), HTTP_PARSE_DONE);
    free(req);
}

static void too_many_fields_is_431(void)
{
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < HTTP_FIELDS_MAX; i++)
        buf_printf(&b, "X-%d: %d\r\n", i, i);
    buf_puts(&b, "\r\n");
    CHECK_INT(refusal(b.data), 431);
    buf_free(&b);
}

static void body_caps_and_framing(void)
{
    static const struct {
        const char *cl;
        int status;
    } t[] = {
        {"Content-Length: 1048577\r\n", 413},
        {"Content-Length: 99999999999999999999\r\n", 400},
        {"Content-Length: 9999999999999999999\r\n", 413},
        {"Content-Length: -1\r\n", 400},
        {"Content-Length: +1\r\n", 400},
        {"Content-Length: 1,1\r\n", 400},
        {"Content-Length: 0x10\r\n", 400},
        {"Content-Length: \r\n", 400},
        {"Content-Length: 1\r\nContent-Length: 1\r\n", 400},
        {"Transfer-Encoding: chunked\r\n", 411},
        {"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400},
        {"Expect: 100-continue\r\nContent-Length: 3\r\n", 0},
        {"Expect: something\r\n", 417},
        {"Content-Length: 1048576\r\n", 0},
        {"Content-Length:   12  \r\n", 0},
    };
    char req[256];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        snprintf(req, sizeof(req),
                 "POST /events HTTP/1.1\r\nHost: a\r\n%s"
                 "\r\n",
                 t[i].cl);
        int got = refusal(req);
        if (got != t[i].status)
            printf("  case %zu: %s", i, t[i].cl);
        CHECK_INT(got, t[i].status);
    }
}

static void expect_continue_is_noted(void)
{
    struct http_head h;
    int status;

    parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
          "Expect: 100-Continue\r\n\r\n",
          &h, &status);
    CHECK_INT(h.expect_continue, 1);
    CHECK_INT(h.content_length, 3);
}

static void bad_methods_are_refused(void)
{
    CHECK_INT(refusal("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    CHECK_INT(refusal("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    CHECK_INT(refusal("GETTTTTTTTTTTTTTTTTTTTTT / HTTP/1.1\r\nHost: a\r\n\r\n"),
              501);
    CHECK_INT(refusal("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("\x01GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
    CHECK_INT(refusal("DELETE /events HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
}

static void bad_request_lines_are_refused(void)
{
    CHECK_INT(refusal("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    CHECK_INT(refusal("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
    CHECK_INT(refusal("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET /\r\nHost: a\r\n\r\n"), 400);
}

static void bad_fields_are_refused(void)
{
    CHECK_INT(refusal("GET / HTTP/1.1\r\n\r\n"), 400); /* no Host */
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400);
    CHECK_INT(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"),
              0);
    CHECK_INT(refusal("GET / HTTP/1.0\r\n\r\n"), 0); /* 1.0 needs no Host */
}

/* A NUL byte in the request line or a field is refused, not read past. */
static void nul_bytes_are_refused(void)
{
    static const char a[] = "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char b[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    struct http_head h;
    int status = 0;

    CHECK_INT(http_parse_head(a, sizeof(a) - 1, &lim, &h, &status),
              HTTP_PARSE_ERROR);
    CHECK_INT(status, 400);
    CHECK_INT(http_parse_head(b, sizeof(b) - 1, &lim, &h, &status),
              HTTP_PARSE_ERROR);
    CHECK_INT(status, 400);
}

static void small_limits_apply(void)
{
    const struct http_limits small = {32, 40, 10};
    struct http_head h;
    int status = 0;
    const char *ok =
        "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
    const char *big = "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n"
                      "\r\n";

    CHECK_INT(http_parse_head(ok, strlen(ok), &small, &h, &status),
              HTTP_PARSE_DONE);
    CHECK_INT(http_parse_head(big, strlen(big), &small, &h, &status),
              HTTP_PARSE_ERROR);
    CHECK_INT(status, 413);
}

static void status_texts_are_known(void)
{
    CHECK_STR(http_status_text(431), "Request Header Fields Too Large");
    CHECK_STR(http_status_text(204), "No Content");
    CHECK_STR(http_status_text(299), "Unknown");
    CHECK_STR(http_method_name(HTTP_OPTIONS), "OPTIONS");
}

int main(void)
{
    RUN(get_with_query_parses);
    RUN(path_without_query_has_no_query);
    RUN(split_reads_need_more_until_complete);
    RUN(connection_options_decide_keep_alive);
    RUN(oversize_request_line_is_414);
    RUN(oversize_header_is_431);
    RUN(too_many_fields_is_431);
    RUN(body_caps_and_framing);
    RUN(expect_continue_is_noted);
    RUN(bad_methods_are_refused);
    RUN(bad_request_lines_are_refused);
    RUN(bad_fields_are_refused);
    RUN(nul_bytes_are_refused);
    RUN(small_limits_apply);
    RUN(status_texts_are_known);
    return TEST_DONE();
}
