/* The raw lake's table: statements, and the mapping between an event and
 * its row. */
#include "role/lake_table.h"

#include <stdio.h>
#include <string.h>

#include "core/event_build.h"
#include "core/lake.h"

/* Appends the event fields' column names, comma-separated. */
static int put_field_columns(struct buf *out)
{
    for (int f = 0; f < EV_NFIELDS; f++) {
        if (buf_printf(out, "%s%s", f ? ", " : "", ev_field_names[f]) != 0)
            return -1;
    }
    return 0;
}

int lake_table_insert_cql(struct buf *out, const char *ks, long long ttl_s)
{
    buf_reset(out);
    if (buf_printf(out, "INSERT INTO \"%s\".tracking (hour, bucket, ", ks) ||
        put_field_columns(out) || buf_puts(out, ", archived_at) VALUES (?"))
        return -1;
    for (int i = 1; i < LAKE_NVALUES; i++) {
        if (buf_puts(out, ", ?") != 0)
            return -1;
    }
    if (buf_putc(out, ')') != 0)
        return -1;
    return ttl_s > 0 ? buf_printf(out, " USING TTL %lld", ttl_s) : 0;
}

int lake_table_select_cql(struct buf *out, const char *ks, const char *cols)
{
    buf_reset(out);
    if (buf_puts(out, "SELECT ") != 0 ||
        (cols ? buf_puts(out, cols) : put_field_columns(out)) != 0)
        return -1;
    return buf_printf(
        out, " FROM \"%s\".tracking WHERE hour = ? AND bucket = ?", ks);
}

int lake_table_delete_cql(struct buf *out, const char *ks)
{
    buf_reset(out);
    return buf_printf(out,
                      "DELETE FROM \"%s\".tracking WHERE hour = ? AND "
                      "bucket = ?",
                      ks);
}

/* The bound value of field f of ev. */
static struct cql_value field_value(const struct event *ev, enum ev_field f)
{
    struct cql_decimal d;

    if (ev->text[f] == NULL)
        return cql_value_unset();
    switch (ev_field_kinds[f]) {
    case EVK_INT:
    case EVK_ID:
        return cql_value_int(ev->num[f]);
    case EVK_BID:
        /* The canonical text keeps the scale as written: 1.5, not 1.5000 */
        if (cql_decimal_parse(ev->text[f], ev->len[f], &d) == CQL_OK)
            return cql_value_decimal(d.unscaled, d.scale);
        return cql_value_decimal(ev->bid, 4);
    case EVK_TS:
        return cql_value_timestamp(ev->time_ms);
    case EVK_UUID:
        return cql_value_uuid(ev->uuid);
    case EVK_TEXT:
        break;
    }
    return cql_value_text(ev->text[f], ev->len[f]);
}

void lake_table_values(const struct event *ev, int64_t archived_at_ms,
                       struct cql_value *vals)
{
    vals[LAKE_VAL_HOUR] = cql_value_timestamp(lake_hour_ms(ev->time_ms));
    vals[LAKE_VAL_BUCKET] = cql_value_smallint((int16_t)lake_bucket(ev->uuid));
    for (int f = 0; f < EV_NFIELDS; f++)
        vals[LAKE_VAL_FIELD(f)] = field_value(ev, (enum ev_field)f);
    vals[LAKE_VAL_ARCHIVED_AT] = cql_value_timestamp(archived_at_ms);
}

/* What a row reader's answer means: 0 read, 1 null, -1 refused. */
static int reader_rc(int rc, enum ev_field f, struct ev_error *err)
{
    if (rc == CQL_OK)
        return 0;
    if (rc == CQL_ERR_NULL)
        return 1;
    snprintf(err->reason, sizeof(err->reason),
             "column of an unexpected type or size (error %d)", rc);
    snprintf(err->field, sizeof(err->field), "%s", ev_field_names[f]);
    return -1;
}

/* Sets field f from column f of the row. Returns 0, 1 when the column is
 * null (the field stays absent), or -1 with err filled. */
static int row_field(const struct cql_result *res, size_t row, enum ev_field f,
                     struct event *ev, struct ev_error *err)
{
    struct cql_decimal d;
    struct cql_str s;
    uint8_t u[16];
    int32_t i;
    int64_t ms;
    int rc;

    switch (ev_field_kinds[f]) {
    case EVK_INT:
    case EVK_ID:
        rc = reader_rc(cql_result_int(res, row, (size_t)f, &i), f, err);
        return rc ? rc : event_build_int(ev, f, i, err);
    case EVK_BID:
        rc = reader_rc(cql_result_decimal(res, row, (size_t)f, &d), f, err);
        return rc ? rc : event_build_bid(ev, d.unscaled, d.scale, err);
    case EVK_TS:
        rc = reader_rc(cql_result_timestamp(res, row, (size_t)f, &ms), f, err);
        return rc ? rc : event_build_ts(ev, ms, err);
    case EVK_UUID:
        rc = reader_rc(cql_result_uuid(res, row, (size_t)f, u), f, err);
        return rc ? rc : event_build_uuid(ev, u, err);
    case EVK_TEXT:
        break;
    }
    rc = reader_rc(cql_result_text(res, row, (size_t)f, &s), f, err);
    return rc ? rc : event_build_text(ev, f, s.p, s.n, err);
}

int lake_table_row_event(const struct cql_result *res, size_t row,
                         struct event *ev, struct ev_error *err)
{
    event_build_begin(ev);
    if (res->meta.ncols != EV_NFIELDS) {
        snprintf(err->reason, sizeof(err->reason),
                 "the row has %zu columns, not %d", res->meta.ncols,
                 EV_NFIELDS);
        err->field[0] = '\0';
        return -1;
    }
    for (int f = 0; f < EV_NFIELDS; f++) {
        if (row_field(res, row, (enum ev_field)f, ev, err) < 0) {
            event_build_begin(ev);
            return -1;
        }
    }
    return event_build_end(ev, err);
}
