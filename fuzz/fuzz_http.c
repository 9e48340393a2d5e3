/* libFuzzer target: bytes through the HTTP request-head parser, under the
 * default caps and tiny ones. A complete head must lie inside the input,
 * its spans too, its body within the cap, and each of its shorter
 * prefixes must be incomplete; a refusal must carry a known status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"

static void check_span(const char *b, size_t n, const char *p, size_t len)
{
    if (p == NULL)
        return;
    if (p < b || p + len > b + n)
        abort();
}

static void check_done(const char *b, size_t n, const struct http_head *h,
                       const struct http_limits *lim)
{
    struct http_head again;
    int status;

    if (h->len == 0 || h->len > n || h->content_length > lim->body_max)
        abort();
    check_span(b, h->len, h->target, h->target_len);
    check_span(b, h->len, h->path, h->path_len);
    check_span(b, h->len, h->query, h->query_len);
    for (int i = 0; i < h->nfields; i++) {
        check_span(b, h->len, h->fields[i].name, h->fields[i].nlen);
        check_span(b, h->len, h->fields[i].val, h->fields[i].vlen);
    }
    if (http_parse_head(b, h->len - 1, lim, &again, &status) != HTTP_PARSE_MORE)
        abort();
    if (http_parse_head(b, h->len, lim, &again, &status) != HTTP_PARSE_DONE ||
        again.len != h->len)
        abort();
}

static void check_one(const char *b, size_t n, const struct http_limits *lim)
{
    static const int known[] = {400, 411, 413, 414, 417, 431, 501, 505};
    struct http_head h;
    int status = 0, rc = http_parse_head(b, n, lim, &h, &status);

    if (rc == HTTP_PARSE_DONE) {
        check_done(b, n, &h, lim);
        return;
    }
    if (rc == HTTP_PARSE_MORE)
        return;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (status == known[i])
            return;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_limits def = {HTTP_LINE_MAX, HTTP_HEADER_MAX,
                                           HTTP_BODY_MAX};
    static const struct http_limits tiny = {24, 48, 8};
    char *copy = malloc(size ? size : 1);

    /* An exact-size copy, so that ASan sees any read past the end. */
    memcpy(copy, data, size);
    check_one(copy, size, &def);
    check_one(copy, size, &tiny);
    free(copy);
    return 0;
}
