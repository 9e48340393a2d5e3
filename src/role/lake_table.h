/* The raw lake's table `tracking` (DESIGN §5) as `archive` writes it and
 * `lake` reads it: its statements, and an event to a row and back. */
#ifndef ADTALLY_ROLE_LAKE_TABLE_H
#define ADTALLY_ROLE_LAKE_TABLE_H

#include <stdint.h>

#include "client/cql.h"
#include "core/event.h"
#include "util/buf.h"

/* Bound values of the INSERT: hour, bucket, one per event field in enum
 * order (the columns are named as the fields), then archived_at. */
#define LAKE_NVALUES (EV_NFIELDS + 3)
#define LAKE_VAL_HOUR 0
#define LAKE_VAL_BUCKET 1
#define LAKE_VAL_FIELD(f) (2 + (f))
#define LAKE_VAL_ARCHIVED_AT (EV_NFIELDS + 2)

/* Each writes one statement into `out` (emptied first) for keyspace ks,
 * which must pass cql_name_valid. Returns 0, or -1 when out's cap is
 * reached. */

/* INSERT of one event: LAKE_NVALUES bind markers; with ttl_s > 0 the row
 * expires that many seconds after it is written. */
int lake_table_insert_cql(struct buf *out, const char *ks, long long ttl_s);

/* SELECT of one partition, bound by (hour, bucket). `cols` NULL: every
 * event field in enum order, for lake_table_row_event; else the columns
 * as given. */
int lake_table_select_cql(struct buf *out, const char *ks, const char *cols);

/* DELETE of one partition, bound by (hour, bucket). */
int lake_table_delete_cql(struct buf *out, const char *ks);

/* The row of `ev` for the INSERT, into vals[LAKE_NVALUES]: hour and
 * bucket from core/lake.h, absent fields left unset (no tombstones).
 * Texts point into ev, which must outlive the values. */
void lake_table_values(const struct event *ev, int64_t archived_at_ms,
                       struct cql_value *vals);

/* Rebuilds the event of row `row` of a result of lake_table_select_cql
 * (cols NULL), validated as an input would be. Returns 0, or -1 with err
 * naming the field and why. */
int lake_table_row_event(const struct cql_result *res, size_t row,
                         struct event *ev, struct ev_error *err);

#endif
