/* CQL values: constructors, their [value] encoding, varint and decimal. */
#include "client/cql_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct cql_value cql_value_null(void)
{
    return (struct cql_value){.kind = CQL_V_NULL};
}

struct cql_value cql_value_unset(void)
{
    return (struct cql_value){.kind = CQL_V_UNSET};
}

struct cql_value cql_value_int(int32_t v)
{
    return (struct cql_value){.kind = CQL_V_INT, .u.i = v};
}

struct cql_value cql_value_bigint(int64_t v)
{
    return (struct cql_value){.kind = CQL_V_BIGINT, .u.i = v};
}

struct cql_value cql_value_smallint(int16_t v)
{
    return (struct cql_value){.kind = CQL_V_SMALLINT, .u.i = v};
}

struct cql_value cql_value_decimal(int64_t unscaled, int32_t scale)
{
    return (struct cql_value){.kind = CQL_V_DECIMAL,
                              .u.dec = {unscaled, scale}};
}

struct cql_value cql_value_text(const char *s, size_t n)
{
    return (struct cql_value){.kind = CQL_V_TEXT, .u.bytes = {s, n}};
}

struct cql_value cql_value_blob(const void *p, size_t n)
{
    return (struct cql_value){.kind = CQL_V_BLOB, .u.bytes = {p, n}};
}

struct cql_value cql_value_timestamp(int64_t ms)
{
    return (struct cql_value){.kind = CQL_V_TIMESTAMP, .u.i = ms};
}

struct cql_value cql_value_uuid(const uint8_t uuid[16])
{
    struct cql_value v = {.kind = CQL_V_UUID};

    memcpy(v.u.uuid, uuid, 16);
    return v;
}

struct cql_value cql_value_bool(int b)
{
    return (struct cql_value){.kind = CQL_V_BOOL, .u.i = b != 0};
}

size_t cql_varint_encode(int64_t v, uint8_t out[8])
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    size_t i = 0;

    for (int k = 7; k >= 0; k--, u >>= 8)
        b[k] = (uint8_t)u;
    /* Drop leading bytes that only repeat the sign of the next one. */
    while (i < 7 && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) ||
                     (b[i] == 0xFF && (b[i + 1] & 0x80))))
        i++;
    memcpy(out, b + i, 8 - i);
    return 8 - i;
}

int cql_varint_decode(const uint8_t *p, size_t n, int64_t *out)
{
    uint64_t u;

    if (n == 0)
        return CQL_ERR_NULL;
    while (n > 8 && ((p[0] == 0x00 && !(p[1] & 0x80)) ||
                     (p[0] == 0xFF && (p[1] & 0x80)))) {
        p++;
        n--;
    }
    if (n > 8)
        return CQL_ERR_RANGE;
    u = (p[0] & 0x80) ? UINT64_MAX : 0;
    for (size_t i = 0; i < n; i++)
        u = u << 8 | p[i];
    *out = (int64_t)u;
    return CQL_OK;
}

static void wr_sized(struct cql_wr *w, const void *p, size_t n)
{
    if (n > INT32_MAX) {
        w->bad = 1;
        return;
    }
    cql_wr_i32(w, (int32_t)n);
    cql_wr_mem(w, p, n);
}

static void wr_decimal(struct cql_wr *w, const struct cql_decimal *d)
{
    uint8_t v[8];
    size_t n = cql_varint_encode(d->unscaled, v);

    cql_wr_i32(w, (int32_t)(4 + n));
    cql_wr_i32(w, d->scale);
    cql_wr_mem(w, v, n);
}

void cql_wr_value(struct cql_wr *w, const struct cql_value *v)
{
    switch (v->kind) {
    case CQL_V_NULL:
        cql_wr_i32(w, -1);
        break;
    case CQL_V_UNSET:
        cql_wr_i32(w, -2);
        break;
    case CQL_V_INT:
        cql_wr_i32(w, 4);
        cql_wr_i32(w, (int32_t)v->u.i);
        break;
    case CQL_V_SMALLINT:
        cql_wr_i32(w, 2);
        cql_wr_u16(w, (uint16_t)v->u.i);
        break;
    case CQL_V_BIGINT:
    case CQL_V_TIMESTAMP:
        cql_wr_i32(w, 8);
        cql_wr_i64(w, v->u.i);
        break;
    case CQL_V_DECIMAL:
        wr_decimal(w, &v->u.dec);
        break;
    case CQL_V_TEXT:
    case CQL_V_BLOB:
        wr_sized(w, v->u.bytes.p, v->u.bytes.n);
        break;
    case CQL_V_UUID:
        wr_sized(w, v->u.uuid, 16);
        break;
    case CQL_V_BOOL:
        cql_wr_i32(w, 1);
        cql_wr_u8(w, v->u.i ? 1 : 0);
        break;
    default:
        w->bad = 1;
    }
}

int cql_value_encode(struct buf *out, const struct cql_value *v)
{
    struct cql_wr w = {out, out->len, 0};

    cql_wr_value(&w, v);
    if (!w.bad)
        return CQL_OK;
    out->len = w.start;
    if (out->data)
        out->data[out->len] = '\0';
    return CQL_ERR_LIMIT;
}

#define DECIMAL_TEXT_MAX 64
#define DECIMAL_DIGITS_MAX 18

int cql_decimal_parse(const char *s, size_t n, struct cql_decimal *d)
{
    size_t i = 0, digits = 0;
    int neg = 0, point = 0, any = 0;
    int32_t scale = 0;
    uint64_t u = 0;

    if (n == 0 || n > DECIMAL_TEXT_MAX)
        return CQL_ERR_ARG;
    if (s[0] == '-' || s[0] == '+')
        neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] == '.' && !point) {
            point = 1;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return CQL_ERR_ARG;
        any = 1;
        if (u > 0 || s[i] != '0')
            digits++;
        if (digits > DECIMAL_DIGITS_MAX)
            return CQL_ERR_ARG;
        u = u * 10 + (uint64_t)(s[i] - '0');
        scale += point;
    }
    if (!any)
        return CQL_ERR_ARG;
    d->unscaled = neg ? -(int64_t)u : (int64_t)u;
    d->scale = scale;
    return CQL_OK;
}

int cql_decimal_format(const struct cql_decimal *d, char *out, size_t n)
{
    char digits[24];
    uint64_t u =
        d->unscaled < 0 ? 0 - (uint64_t)d->unscaled : (uint64_t)d->unscaled;
    size_t len =
        (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)u);
    size_t scale = d->scale > 0 ? (size_t)d->scale : 0;
    size_t zeros = d->scale < 0 && u ? (size_t) - (int64_t)d->scale : 0;
    size_t lead = scale >= len ? scale - len + 1 : 0; /* zeros before */
    size_t need = (d->unscaled < 0) + lead + len + (scale > 0) + zeros + 1;
    size_t j = 0;

    if (need > n)
        return CQL_ERR_LIMIT;
    if (d->unscaled < 0)
        out[j++] = '-';
    memset(out + j, '0', lead);
    memcpy(out + j + lead, digits, len);
    len += lead;
    if (scale > 0) {
        memmove(out + j + len - scale + 1, out + j + len - scale, scale);
        out[j + len - scale] = '.';
        len++;
    }
    memset(out + j + len, '0', zeros);
    out[j + len + zeros] = '\0';
    return CQL_OK;
}
