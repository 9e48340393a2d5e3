/* CQL RESULT messages: rows and their metadata, prepared statements, schema
 * changes, and the row reader over a decoded result. */
#include "client/cql_wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Where one value of a row lies in the message. */
struct cql_cell {
    int32_t len;  /* -1 for null */
    uint32_t off; /* from res->base */
};

#define TBIT(t) (UINT32_C(1) << (t))

void cql_result_init(struct cql_result *res)
{
    memset(res, 0, sizeof(*res));
}

void cql_result_free(struct cql_result *res)
{
    if (res == NULL)
        return;
    free(res->meta.cols);
    free(res->bind.cols);
    free(res->cells);
    free(res->owned);
    cql_result_init(res);
}

static int type_is_native(uint16_t id)
{
    return id >= CQL_T_ASCII && id <= CQL_T_TINYINT && id != 0x0A;
}

static void rd_type(struct cql_rd *r, struct cql_coltype *t, int depth);

/* The fields of a UDT or the components of a tuple: checked, not kept. */
static void rd_type_members(struct cql_rd *r, int named, int depth)
{
    struct cql_coltype sub;
    struct cql_str s;
    size_t n = cql_rd_u16(r);

    for (size_t i = 0; i < n && !r->bad; i++) {
        if (named)
            cql_rd_string(r, &s);
        rd_type(r, &sub, depth + 1);
    }
}

/* Reads one [option] type, nested at most CQL_TYPE_DEPTH deep. */
static void rd_type(struct cql_rd *r, struct cql_coltype *t, int depth)
{
    struct cql_coltype a, b;
    struct cql_str s;

    memset(t, 0, sizeof(*t));
    t->id = cql_rd_u16(r);
    if (depth > CQL_TYPE_DEPTH || r->bad) {
        r->bad = 1;
        return;
    }
    switch (t->id) {
    case CQL_T_CUSTOM:
        cql_rd_string(r, &t->custom);
        break;
    case CQL_T_LIST:
    case CQL_T_SET:
        rd_type(r, &a, depth + 1);
        t->elem[0] = a.id;
        break;
    case CQL_T_MAP:
        rd_type(r, &a, depth + 1);
        rd_type(r, &b, depth + 1);
        t->elem[0] = a.id;
        t->elem[1] = b.id;
        break;
    case CQL_T_UDT:
        cql_rd_string(r, &s);
        cql_rd_string(r, &s);
        rd_type_members(r, 1, depth);
        break;
    case CQL_T_TUPLE:
        rd_type_members(r, 0, depth);
        break;
    default:
        if (!type_is_native(t->id))
            r->bad = 1;
    }
}

/* The column specs of a metadata block whose flags and count are read. */
static int rd_columns(struct cql_rd *r, struct cql_meta *m)
{
    struct cql_str ks = {NULL, 0}, table = {NULL, 0};
    int global = m->flags & CQL_META_GLOBAL;

    if (global) {
        cql_rd_string(r, &ks);
        cql_rd_string(r, &table);
    }
    /* Each spec takes at least 4 bytes: check before allocating. */
    if (r->bad || m->ncols > cql_rd_left(r) / 4)
        return CQL_ERR_PROTO;
    if (m->ncols == 0)
        return CQL_OK;
    m->cols = calloc(m->ncols, sizeof(*m->cols));
    if (m->cols == NULL)
        return CQL_ERR_NOMEM;
    for (size_t i = 0; i < m->ncols && !r->bad; i++) {
        struct cql_column *c = &m->cols[i];

        c->keyspace = ks;
        c->table = table;
        if (!global) {
            cql_rd_string(r, &c->keyspace);
            cql_rd_string(r, &c->table);
        }
        cql_rd_string(r, &c->name);
        rd_type(r, &c->type, 0);
    }
    return r->bad ? CQL_ERR_PROTO : CQL_OK;
}

/* <flags><columns_count>[<paging_state>][specs] of a rows result. */
static int rd_rows_meta(struct cql_rd *r, struct cql_meta *m)
{
    int32_t ncols;

    m->flags = cql_rd_i32(r);
    ncols = cql_rd_i32(r);
    if (m->flags & CQL_META_MORE_PAGES)
        cql_rd_bytes(r, &m->paging_state);
    if (r->bad || ncols < 0)
        return CQL_ERR_PROTO;
    m->ncols = (size_t)ncols;
    if (m->flags & CQL_META_NO_METADATA)
        return CQL_OK;
    return rd_columns(r, m);
}

/* <flags><columns_count><pk_count><pk_index>*[specs] of bind markers. */
static int rd_prepared_meta(struct cql_rd *r, struct cql_meta *m)
{
    int32_t ncols, npk;

    m->flags = cql_rd_i32(r);
    ncols = cql_rd_i32(r);
    npk = cql_rd_i32(r);
    if (r->bad || ncols < 0 || npk < 0)
        return CQL_ERR_PROTO;
    cql_rd_take(r, (size_t)npk * 2);
    if (r->bad)
        return CQL_ERR_PROTO;
    m->ncols = (size_t)ncols;
    m->npk = (size_t)npk;
    return rd_columns(r, m);
}

static int rd_rows(struct cql_rd *r, struct cql_result *res)
{
    size_t ncols, total;
    int32_t nrows;
    int rc = rd_rows_meta(r, &res->meta);

    if (rc != CQL_OK)
        return rc;
    nrows = cql_rd_i32(r);
    if (r->bad || nrows < 0)
        return CQL_ERR_PROTO;
    res->nrows = (size_t)nrows;
    ncols = res->meta.ncols;
    if (ncols == 0 || nrows == 0)
        return CQL_OK;
    /* Each value takes at least 4 bytes: check before allocating. */
    if ((size_t)nrows > cql_rd_left(r) / 4 / ncols)
        return CQL_ERR_PROTO;
    total = (size_t)nrows * ncols;
    res->cells = malloc(total * sizeof(*res->cells));
    if (res->cells == NULL)
        return CQL_ERR_NOMEM;
    for (size_t k = 0; k < total && !r->bad; k++) {
        int32_t len = cql_rd_i32(r);

        res->cells[k].len = len < 0 ? -1 : len;
        res->cells[k].off = (uint32_t)r->off;
        if (len > 0 && cql_rd_take(r, (size_t)len) == NULL)
            return CQL_ERR_PROTO;
    }
    return r->bad ? CQL_ERR_PROTO : CQL_OK;
}

static int str_is(const struct cql_str *s, const char *z)
{
    size_t n = strlen(z);

    return s->p != NULL && s->n == n && memcmp(s->p, z, n) == 0;
}

static int rd_schema_change(struct cql_rd *r, struct cql_result *res)
{
    cql_rd_string(r, &res->change);
    cql_rd_string(r, &res->target);
    cql_rd_string(r, &res->keyspace);
    if (!str_is(&res->target, "KEYSPACE"))
        cql_rd_string(r, &res->name);
    if (str_is(&res->target, "FUNCTION") || str_is(&res->target, "AGGREGATE"))
        cql_rd_string_list(r, NULL);
    return r->bad ? CQL_ERR_PROTO : CQL_OK;
}

static int rd_prepared(struct cql_rd *r, struct cql_result *res)
{
    int rc;

    cql_rd_string(r, &res->id);
    if (r->bad)
        return CQL_ERR_PROTO;
    rc = rd_prepared_meta(r, &res->bind);
    if (rc != CQL_OK)
        return rc;
    return rd_rows_meta(r, &res->meta);
}

int cql_result_decode(struct cql_result *res, const uint8_t *p, size_t n)
{
    struct cql_rd r;
    int32_t kind;
    int rc = CQL_ERR_PROTO;

    cql_result_init(res);
    if (n > UINT32_MAX)
        return CQL_ERR_LIMIT;
    cql_rd_init(&r, p, n);
    res->base = r.p;
    kind = cql_rd_i32(&r);
    if (kind == CQL_RESULT_VOID)
        rc = r.bad ? CQL_ERR_PROTO : CQL_OK;
    else if (kind == CQL_RESULT_ROWS)
        rc = rd_rows(&r, res);
    else if (kind == CQL_RESULT_SET_KEYSPACE) {
        cql_rd_string(&r, &res->keyspace);
        rc = r.bad ? CQL_ERR_PROTO : CQL_OK;
    } else if (kind == CQL_RESULT_PREPARED)
        rc = rd_prepared(&r, res);
    else if (kind == CQL_RESULT_SCHEMA_CHANGE)
        rc = rd_schema_change(&r, res);
    if (rc != CQL_OK) {
        cql_result_free(res);
        return rc;
    }
    res->kind = (enum cql_result_kind)kind;
    return CQL_OK;
}

int cql_result_has_more(const struct cql_result *res)
{
    return res->kind == CQL_RESULT_ROWS &&
           (res->meta.flags & CQL_META_MORE_PAGES) &&
           res->meta.paging_state.p != NULL;
}

int cql_result_column(const struct cql_result *res, const char *name)
{
    for (size_t i = 0; res->meta.cols && i < res->meta.ncols; i++) {
        if (str_is(&res->meta.cols[i].name, name))
            return (int)i;
    }
    return CQL_ERR_NOTFOUND;
}

/* Finds the value at (row, col) if its column is one of `types` (0: any)
 * and it has `size` bytes (0: any). */
static int cell_get(const struct cql_result *res, size_t row, size_t col,
                    uint32_t types, size_t size, struct cql_str *out)
{
    const struct cql_cell *c;

    if (res->kind != CQL_RESULT_ROWS || row >= res->nrows ||
        col >= res->meta.ncols)
        return CQL_ERR_RANGE;
    if (types != 0 && res->meta.cols != NULL) {
        uint16_t id = res->meta.cols[col].type.id;

        if (id >= 32 || !(types & TBIT(id)))
            return CQL_ERR_TYPE;
    }
    c = &res->cells[row * res->meta.ncols + col];
    if (c->len < 0 || (c->len == 0 && size != 0))
        return CQL_ERR_NULL;
    if (size != 0 && (size_t)c->len != size)
        return CQL_ERR_TYPE;
    out->p = (const char *)res->base + c->off;
    out->n = (size_t)c->len;
    return CQL_OK;
}

static uint64_t be_read(const char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

int cql_result_is_null(const struct cql_result *res, size_t row, size_t col)
{
    struct cql_str s;
    int rc = cell_get(res, row, col, 0, 0, &s);

    if (rc == CQL_ERR_NULL)
        return 1;
    return rc == CQL_OK ? 0 : rc;
}

int cql_result_int(const struct cql_result *res, size_t row, size_t col,
                   int32_t *out)
{
    struct cql_str s;
    int rc = cell_get(res, row, col, TBIT(CQL_T_INT), 4, &s);

    if (rc == CQL_OK)
        *out = (int32_t)(uint32_t)be_read(s.p, 4);
    return rc;
}

int cql_result_smallint(const struct cql_result *res, size_t row, size_t col,
                        int16_t *out)
{
    struct cql_str s;
    int rc = cell_get(res, row, col, TBIT(CQL_T_SMALLINT), 2, &s);

    if (rc == CQL_OK)
        *out = (int16_t)(uint16_t)be_read(s.p, 2);
    return rc;
}

int cql_result_bigint(const struct cql_result *res, size_t row, size_t col,
                      int64_t *out)
{
    struct cql_str s;
    uint32_t types = TBIT(CQL_T_BIGINT) | TBIT(CQL_T_COUNTER);
    int rc = cell_get(res, row, col, types, 8, &s);

    if (rc == CQL_OK)
        *out = (int64_t)be_read(s.p, 8);
    return rc;
}

int cql_result_timestamp(const struct cql_result *res, size_t row, size_t col,
                         int64_t *ms)
{
    struct cql_str s;
    int rc = cell_get(res, row, col, TBIT(CQL_T_TIMESTAMP), 8, &s);

    if (rc == CQL_OK)
        *ms = (int64_t)be_read(s.p, 8);
    return rc;
}

int cql_result_text(const struct cql_result *res, size_t row, size_t col,
                    struct cql_str *out)
{
    uint32_t types = TBIT(CQL_T_VARCHAR) | TBIT(CQL_T_ASCII);

    return cell_get(res, row, col, types, 0, out);
}

int cql_result_bytes(const struct cql_result *res, size_t row, size_t col,
                     struct cql_str *out)
{
    return cell_get(res, row, col, 0, 0, out);
}

int cql_result_uuid(const struct cql_result *res, size_t row, size_t col,
                    uint8_t out[16])
{
    struct cql_str s;
    uint32_t types = TBIT(CQL_T_UUID) | TBIT(CQL_T_TIMEUUID);
    int rc = cell_get(res, row, col, types, 16, &s);

    if (rc == CQL_OK)
        memcpy(out, s.p, 16);
    return rc;
}

int cql_result_bool(const struct cql_result *res, size_t row, size_t col,
                    int *out)
{
    struct cql_str s;
    int rc = cell_get(res, row, col, TBIT(CQL_T_BOOLEAN), 1, &s);

    if (rc == CQL_OK)
        *out = s.p[0] != 0;
    return rc;
}

int cql_result_decimal(const struct cql_result *res, size_t row, size_t col,
                       struct cql_decimal *out)
{
    struct cql_str s;
    int64_t v;
    int rc = cell_get(res, row, col, TBIT(CQL_T_DECIMAL), 0, &s);

    if (rc != CQL_OK)
        return rc;
    if (s.n == 0)
        return CQL_ERR_NULL;
    if (s.n < 5)
        return CQL_ERR_TYPE;
    rc = cql_varint_decode((const uint8_t *)s.p + 4, s.n - 4, &v);
    if (rc != CQL_OK)
        return rc;
    out->scale = (int32_t)(uint32_t)be_read(s.p, 4);
    out->unscaled = v;
    return CQL_OK;
}
