/* CQL wire types: a bounded reader for received bytes, a frame writer. */
#include "client/cql_wire.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void cql_rd_init(struct cql_rd *r, const uint8_t *p, size_t n)
{
    static const uint8_t none[1];

    r->p = p ? p : none;
    r->n = p ? n : 0;
    r->off = 0;
    r->bad = 0;
}

size_t cql_rd_left(const struct cql_rd *r)
{
    return r->bad ? 0 : r->n - r->off;
}

const uint8_t *cql_rd_take(struct cql_rd *r, size_t k)
{
    const uint8_t *p;

    if (r->bad || k > r->n - r->off) {
        r->bad = 1;
        return NULL;
    }
    p = r->p + r->off;
    r->off += k;
    return p;
}

uint8_t cql_rd_u8(struct cql_rd *r)
{
    const uint8_t *p = cql_rd_take(r, 1);

    return p ? p[0] : 0;
}

uint16_t cql_rd_u16(struct cql_rd *r)
{
    const uint8_t *p = cql_rd_take(r, 2);

    return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

int32_t cql_rd_i32(struct cql_rd *r)
{
    const uint8_t *p = cql_rd_take(r, 4);
    uint32_t v;

    if (p == NULL)
        return 0;
    v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
        p[3];
    return (int32_t)v;
}

int64_t cql_rd_i64(struct cql_rd *r)
{
    const uint8_t *p = cql_rd_take(r, 8);
    uint64_t v = 0;

    if (p == NULL)
        return 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

void cql_rd_string(struct cql_rd *r, struct cql_str *s)
{
    size_t n = cql_rd_u16(r);

    s->p = (const char *)cql_rd_take(r, n);
    s->n = s->p ? n : 0;
}

void cql_rd_bytes(struct cql_rd *r, struct cql_str *s)
{
    int32_t n = cql_rd_i32(r);

    s->p = NULL;
    s->n = 0;
    if (r->bad || n < 0)
        return;
    s->p = (const char *)cql_rd_take(r, (size_t)n);
    s->n = s->p ? (size_t)n : 0;
}

size_t cql_rd_string_list(struct cql_rd *r, struct cql_str *first)
{
    size_t n = cql_rd_u16(r);
    struct cql_str s = {NULL, 0};

    if (first)
        *first = s;
    for (size_t i = 0; i < n && !r->bad; i++) {
        cql_rd_string(r, &s);
        if (i == 0 && first)
            *first = s;
    }
    return r->bad ? 0 : n;
}

void cql_wr_mem(struct cql_wr *w, const void *p, size_t n)
{
    if (!w->bad && buf_append(w->b, p, n) != 0)
        w->bad = 1;
}

void cql_wr_u8(struct cql_wr *w, uint8_t v)
{
    cql_wr_mem(w, &v, 1);
}

void cql_wr_u16(struct cql_wr *w, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    cql_wr_mem(w, p, 2);
}

void cql_wr_i32(struct cql_wr *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t p[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8),
                    (uint8_t)u};

    cql_wr_mem(w, p, 4);
}

void cql_wr_i64(struct cql_wr *w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t p[8];

    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (uint8_t)u;
    cql_wr_mem(w, p, 8);
}

void cql_wr_string(struct cql_wr *w, const char *s, size_t n)
{
    if (n > UINT16_MAX) {
        w->bad = 1;
        return;
    }
    cql_wr_u16(w, (uint16_t)n);
    cql_wr_mem(w, s, n);
}

void cql_wr_long_string(struct cql_wr *w, const char *s, size_t n)
{
    if (n > INT32_MAX) {
        w->bad = 1;
        return;
    }
    cql_wr_i32(w, (int32_t)n);
    cql_wr_mem(w, s, n);
}

void cql_wr_short_bytes(struct cql_wr *w, const void *p, size_t n)
{
    cql_wr_string(w, p, n);
}

void cql_wr_begin(struct cql_wr *w, struct buf *b, int16_t stream,
                  uint8_t opcode)
{
    uint16_t s = (uint16_t)stream;
    uint8_t h[CQL_HEADER_LEN] = {
        CQL_VERSION_REQ, 0, (uint8_t)(s >> 8), (uint8_t)s, opcode, 0, 0, 0, 0};

    w->b = b;
    w->start = b->len;
    w->bad = 0;
    cql_wr_mem(w, h, sizeof(h));
}

int cql_wr_end(struct cql_wr *w)
{
    uint8_t *h;
    size_t body = 0;

    if (!w->bad) {
        body = w->b->len - w->start - CQL_HEADER_LEN;
        if (body > CQL_BODY_CAP)
            w->bad = 1;
    }
    if (w->bad) {
        w->b->len = w->start;
        if (w->b->data)
            w->b->data[w->b->len] = '\0';
        return CQL_ERR_LIMIT;
    }
    h = (uint8_t *)w->b->data + w->start;
    h[5] = (uint8_t)(body >> 24);
    h[6] = (uint8_t)(body >> 16);
    h[7] = (uint8_t)(body >> 8);
    h[8] = (uint8_t)body;
    return CQL_OK;
}

int cql_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}
