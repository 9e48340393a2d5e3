/* CQL v4 frames: request encoders and the decoders of plain responses. */
#include "client/cql_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Query parameter flags. */
#define QP_VALUES 0x01
#define QP_SKIP_METADATA 0x02
#define QP_PAGE_SIZE 0x04
#define QP_PAGING_STATE 0x08
#define QP_SERIAL 0x10
#define QP_TIMESTAMP 0x20

static const struct cql_params default_params = {
    .consistency = CQL_LOCAL_QUORUM,
};

int cql_encode_startup(struct buf *out, int16_t stream)
{
    static const char key[] = "CQL_VERSION", val[] = "3.0.0";
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_STARTUP);
    cql_wr_u16(&w, 1);
    cql_wr_string(&w, key, sizeof(key) - 1);
    cql_wr_string(&w, val, sizeof(val) - 1);
    return cql_wr_end(&w);
}

int cql_encode_options(struct buf *out, int16_t stream)
{
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_OPTIONS);
    return cql_wr_end(&w);
}

int cql_encode_auth_response(struct buf *out, int16_t stream, const char *user,
                             const char *password)
{
    size_t ulen = strlen(user), plen = strlen(password);
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_AUTH_RESPONSE);
    if (ulen > INT32_MAX / 2 || plen > INT32_MAX / 2)
        w.bad = 1;
    cql_wr_i32(&w, (int32_t)(2 + ulen + plen));
    cql_wr_u8(&w, 0);
    cql_wr_mem(&w, user, ulen);
    cql_wr_u8(&w, 0);
    cql_wr_mem(&w, password, plen);
    return cql_wr_end(&w);
}

static uint8_t params_flags(const struct cql_params *p)
{
    uint8_t f = 0;

    if (p->nvalues > 0)
        f |= QP_VALUES;
    if (p->skip_metadata)
        f |= QP_SKIP_METADATA;
    if (p->page_size > 0)
        f |= QP_PAGE_SIZE;
    if (p->paging_state != NULL)
        f |= QP_PAGING_STATE;
    if (p->serial != 0)
        f |= QP_SERIAL;
    if (p->timestamp_us != 0)
        f |= QP_TIMESTAMP;
    return f;
}

static void wr_values(struct cql_wr *w, const struct cql_value *v, size_t n)
{
    if (n > UINT16_MAX) {
        w->bad = 1;
        return;
    }
    cql_wr_u16(w, (uint16_t)n);
    for (size_t i = 0; i < n && !w->bad; i++)
        cql_wr_value(w, &v[i]);
}

static void wr_params(struct cql_wr *w, const struct cql_params *p)
{
    uint8_t f = params_flags(p);

    cql_wr_u16(w, (uint16_t)p->consistency);
    cql_wr_u8(w, f);
    if (f & QP_VALUES)
        wr_values(w, p->values, p->nvalues);
    if (f & QP_PAGE_SIZE)
        cql_wr_i32(w, p->page_size);
    if (f & QP_PAGING_STATE) {
        if (p->paging_state_len > INT32_MAX)
            w->bad = 1;
        cql_wr_i32(w, (int32_t)p->paging_state_len);
        cql_wr_mem(w, p->paging_state, p->paging_state_len);
    }
    if (f & QP_SERIAL)
        cql_wr_u16(w, (uint16_t)p->serial);
    if (f & QP_TIMESTAMP)
        cql_wr_i64(w, p->timestamp_us);
}

int cql_encode_query(struct buf *out, int16_t stream, const char *cql,
                     const struct cql_params *params)
{
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_QUERY);
    cql_wr_long_string(&w, cql, strlen(cql));
    wr_params(&w, params ? params : &default_params);
    return cql_wr_end(&w);
}

int cql_encode_prepare(struct buf *out, int16_t stream, const char *cql)
{
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_PREPARE);
    cql_wr_long_string(&w, cql, strlen(cql));
    return cql_wr_end(&w);
}

int cql_encode_execute(struct buf *out, int16_t stream, const uint8_t *id,
                       size_t idlen, const struct cql_params *params)
{
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_EXECUTE);
    cql_wr_short_bytes(&w, id, idlen);
    wr_params(&w, params ? params : &default_params);
    return cql_wr_end(&w);
}

static void wr_batch_item(struct cql_wr *w, const struct cql_batch_item *it)
{
    if (it->id != NULL) {
        cql_wr_u8(w, 1);
        cql_wr_short_bytes(w, it->id, it->idlen);
    } else {
        cql_wr_u8(w, 0);
        cql_wr_long_string(w, it->query, strlen(it->query));
    }
    wr_values(w, it->values, it->nvalues);
}

int cql_encode_batch(struct buf *out, int16_t stream, enum cql_batch_type type,
                     const struct cql_batch_item *items, size_t nitems,
                     const struct cql_params *params)
{
    const struct cql_params *p = params ? params : &default_params;
    uint8_t f = params_flags(p) & (QP_SERIAL | QP_TIMESTAMP);
    struct cql_wr w;

    cql_wr_begin(&w, out, stream, CQL_OP_BATCH);
    cql_wr_u8(&w, (uint8_t)type);
    if (nitems > UINT16_MAX)
        w.bad = 1;
    cql_wr_u16(&w, (uint16_t)nitems);
    for (size_t i = 0; i < nitems && !w.bad; i++)
        wr_batch_item(&w, &items[i]);
    cql_wr_u16(&w, (uint16_t)p->consistency);
    cql_wr_u8(&w, f);
    if (f & QP_SERIAL)
        cql_wr_u16(&w, (uint16_t)p->serial);
    if (f & QP_TIMESTAMP)
        cql_wr_i64(&w, p->timestamp_us);
    return cql_wr_end(&w);
}

int cql_header_decode(struct cql_header *h, const uint8_t *p, size_t n,
                      size_t cap)
{
    if (cap == 0 || cap > CQL_BODY_CAP)
        cap = CQL_BODY_CAP;
    if (n < CQL_HEADER_LEN)
        return CQL_ERR_PROTO;
    h->version = p[0];
    h->flags = p[1];
    h->stream = (int16_t)(uint16_t)(p[2] << 8 | p[3]);
    h->opcode = p[4];
    h->length = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 |
                (uint32_t)p[7] << 8 | p[8];
    if (h->version != CQL_VERSION_RESP || (h->flags & CQL_FLAG_COMPRESSED))
        return CQL_ERR_PROTO;
    if (h->length > cap)
        return CQL_ERR_LIMIT;
    return CQL_OK;
}

/* Skips a [bytes map]: a [short] count of [string] keys and [bytes]. */
static void rd_skip_bytes_map(struct cql_rd *r)
{
    size_t n = cql_rd_u16(r);
    struct cql_str s;

    for (size_t i = 0; i < n && !r->bad; i++) {
        cql_rd_string(r, &s);
        cql_rd_bytes(r, &s);
    }
}

int cql_frame_locate(struct cql_frame *f, const uint8_t *body, size_t n)
{
    struct cql_rd r;

    cql_rd_init(&r, body, n);
    f->nwarnings = 0;
    f->warning.p = NULL;
    f->warning.n = 0;
    if (f->h.flags & CQL_FLAG_TRACING)
        cql_rd_take(&r, 16);
    if (f->h.flags & CQL_FLAG_WARNING)
        f->nwarnings = cql_rd_string_list(&r, &f->warning);
    if (f->h.flags & CQL_FLAG_PAYLOAD)
        rd_skip_bytes_map(&r);
    if (r.bad)
        return CQL_ERR_PROTO;
    f->msg = r.p + r.off;
    f->len = cql_rd_left(&r);
    return CQL_OK;
}

int cql_frame_decode(struct cql_frame *f, const uint8_t *p, size_t n,
                     size_t cap)
{
    int rc = cql_header_decode(&f->h, p, n, cap);

    if (rc != CQL_OK)
        return rc;
    if (n - CQL_HEADER_LEN != f->h.length)
        return CQL_ERR_PROTO;
    return cql_frame_locate(f, p + CQL_HEADER_LEN, f->h.length);
}

static void rd_error_counts(struct cql_rd *r, struct cql_error *e, int failures)
{
    e->consistency = cql_rd_u16(r);
    e->received = cql_rd_i32(r);
    e->blockfor = cql_rd_i32(r);
    if (failures)
        e->numfailures = cql_rd_i32(r);
}

/* Reads the fields that follow the message for the codes that have them. */
static void rd_error_extra(struct cql_rd *r, struct cql_error *e)
{
    switch (e->code) {
    case CQL_E_UNAVAILABLE:
        e->consistency = cql_rd_u16(r);
        e->required = cql_rd_i32(r);
        e->alive = cql_rd_i32(r);
        break;
    case CQL_E_WRITE_TIMEOUT:
    case CQL_E_WRITE_FAILURE:
        rd_error_counts(r, e, e->code == CQL_E_WRITE_FAILURE);
        cql_rd_string(r, &e->write_type);
        break;
    case CQL_E_READ_TIMEOUT:
    case CQL_E_READ_FAILURE:
        rd_error_counts(r, e, e->code == CQL_E_READ_FAILURE);
        e->data_present = cql_rd_u8(r) != 0;
        break;
    case CQL_E_FUNCTION_FAILURE:
        cql_rd_string(r, &e->keyspace);
        cql_rd_string(r, &e->table);
        cql_rd_string_list(r, NULL);
        break;
    case CQL_E_ALREADY_EXISTS:
        cql_rd_string(r, &e->keyspace);
        cql_rd_string(r, &e->table);
        break;
    case CQL_E_UNPREPARED:
        cql_rd_string(r, &e->id);
        break;
    }
}

int cql_error_decode(struct cql_error *e, const uint8_t *p, size_t n)
{
    struct cql_rd r;

    memset(e, 0, sizeof(*e));
    cql_rd_init(&r, p, n);
    e->code = cql_rd_i32(&r);
    cql_rd_string(&r, &e->message);
    rd_error_extra(&r, e);
    return r.bad ? CQL_ERR_PROTO : CQL_OK;
}

static const struct {
    int32_t code;
    const char *name;
} error_names[] = {
    {CQL_E_SERVER, "server error"},
    {CQL_E_PROTOCOL, "protocol error"},
    {CQL_E_AUTH, "authentication failed"},
    {CQL_E_UNAVAILABLE, "unavailable"},
    {CQL_E_OVERLOADED, "overloaded"},
    {CQL_E_BOOTSTRAPPING, "bootstrapping"},
    {CQL_E_TRUNCATE, "truncate failed"},
    {CQL_E_WRITE_TIMEOUT, "write timeout"},
    {CQL_E_READ_TIMEOUT, "read timeout"},
    {CQL_E_READ_FAILURE, "read failure"},
    {CQL_E_FUNCTION_FAILURE, "function failure"},
    {CQL_E_WRITE_FAILURE, "write failure"},
    {CQL_E_SYNTAX, "syntax error"},
    {CQL_E_UNAUTHORIZED, "unauthorized"},
    {CQL_E_INVALID, "invalid query"},
    {CQL_E_CONFIG, "configuration error"},
    {CQL_E_ALREADY_EXISTS, "already exists"},
    {CQL_E_UNPREPARED, "unprepared"},
};

const char *cql_error_name(int32_t code)
{
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++) {
        if (error_names[i].code == code)
            return error_names[i].name;
    }
    return "unknown error";
}

static const char *const consistency_names[] = {
    "ANY",          "ONE",         "TWO",    "THREE",        "QUORUM",   "ALL",
    "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE"};

static const char *consistency_name(uint16_t c)
{
    return c < sizeof(consistency_names) / sizeof(consistency_names[0])
               ? consistency_names[c]
               : "?";
}

/* The details that follow the message, in brackets, or "". */
static void error_details(const struct cql_error *e, char *d, size_t n)
{
    const char *cl = consistency_name(e->consistency);
    const char *what = e->data_present ? "data present" : "no data";
    struct cql_str wt = e->write_type;
    int read = e->code == CQL_E_READ_TIMEOUT || e->code == CQL_E_READ_FAILURE;
    char failed[32] = "";

    d[0] = '\0';
    if (e->code == CQL_E_READ_FAILURE || e->code == CQL_E_WRITE_FAILURE)
        snprintf(failed, sizeof(failed), ", %d failed", e->numfailures);
    if (e->code == CQL_E_UNAVAILABLE)
        snprintf(d, n, " [%s: %d of %d replicas alive]", cl, e->alive,
                 e->required);
    else if (read)
        snprintf(d, n, " [%s: %d of %d answered%s, %s]", cl, e->received,
                 e->blockfor, failed, what);
    else if (e->code == CQL_E_WRITE_TIMEOUT || e->code == CQL_E_WRITE_FAILURE)
        snprintf(d, n, " [%s: %d of %d acknowledged%s, %.*s]", cl, e->received,
                 e->blockfor, failed, (int)wt.n, wt.p ? wt.p : "");
}

void cql_error_format(const struct cql_error *e, char *buf, size_t n)
{
    char details[160];

    if (n == 0)
        return;
    error_details(e, details, sizeof(details));
    snprintf(buf, n, "%s (0x%04x): %.*s%s", cql_error_name(e->code),
             (unsigned)e->code, (int)e->message.n,
             e->message.p ? e->message.p : "", details);
}

int cql_authenticate_decode(struct cql_str *cls, const uint8_t *p, size_t n)
{
    struct cql_rd r;

    cql_rd_init(&r, p, n);
    cql_rd_string(&r, cls);
    return r.bad ? CQL_ERR_PROTO : CQL_OK;
}

int cql_auth_token_decode(struct cql_str *token, const uint8_t *p, size_t n)
{
    struct cql_rd r;

    cql_rd_init(&r, p, n);
    cql_rd_bytes(&r, token);
    return r.bad ? CQL_ERR_PROTO : CQL_OK;
}

static int str_is(const struct cql_str *s, const char *z)
{
    size_t n = strlen(z);

    return s->p != NULL && s->n == n && memcmp(s->p, z, n) == 0;
}

int cql_supported_get(const uint8_t *p, size_t n, const char *key, size_t i,
                      struct cql_str *val)
{
    struct cql_rd r;
    struct cql_str k, v;
    size_t nkeys, nvals;

    cql_rd_init(&r, p, n);
    nkeys = cql_rd_u16(&r);
    for (size_t a = 0; a < nkeys && !r.bad; a++) {
        cql_rd_string(&r, &k);
        nvals = cql_rd_u16(&r);
        for (size_t b = 0; b < nvals && !r.bad; b++) {
            cql_rd_string(&r, &v);
            if (!r.bad && b == i && str_is(&k, key)) {
                *val = v;
                return CQL_OK;
            }
        }
    }
    return r.bad ? CQL_ERR_PROTO : CQL_ERR_NOTFOUND;
}
