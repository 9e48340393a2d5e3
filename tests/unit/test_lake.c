/* Unit tests of the raw lake's pure parts: hours and days as text, events
 * built from typed values, the mapping of an event to a row and back (over
 * the whole real log), its statements, and the latency histogram. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cql.h"
#include "core/event.h"
#include "core/event_build.h"
#include "core/lake.h"
#include "core/lake_time.h"
#include "role/lake_table.h"
#include "test.h"
#include "util/hist.h"

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Hours and days ---- */

static void hours_parse_in_both_forms(void)
{
    char out[LAKE_HOUR_TEXT];
    const char *why = NULL;
    int64_t ms = 0;

    CHECK_INT(lake_hour_parse("2022-07-18T07", &ms, &why), 0);
    CHECK_INT(ms, 1658127600000LL);
    CHECK_INT(lake_hour_parse("2022-07-18 07", &ms, &why), 0);
    CHECK_INT(ms, 1658127600000LL);
    lake_hour_format(ms, out);
    CHECK_STR(out, "2022-07-18T07");
    CHECK_INT(lake_hour_parse("1970-01-01T00", &ms, &why), 0);
    CHECK_INT(ms, 0);
    lake_hour_format(ms, out);
    CHECK_STR(out, "1970-01-01T00");
    CHECK_INT(lake_hour_parse("2024-02-29T23", &ms, &why), 0);
    lake_hour_format(ms, out);
    CHECK_STR(out, "2024-02-29T23");
}

static void hours_refused_with_reason(void)
{
    static const char *const bad[] = {
        "",
        "2022-07-18",
        "2022-07-18T7",
        "2022-07-18T24",
        "2022-02-30T01",
        "2022-07-18T07:00",
        "2022-07-18X07",
        "22-07-18T07",
        "2022-07-18T07Z",
        "1969-12-31T23",
    };

    for (size_t i = 0; i < NCASES(bad); i++) {
        const char *why = NULL;
        int64_t ms;

        if (lake_hour_parse(bad[i], &ms, &why) != -1)
            printf("  \"%s\" was taken\n", bad[i]);
        CHECK(lake_hour_parse(bad[i], &ms, &why) == -1);
        CHECK(why != NULL && why[0] != '\0');
    }
}

static void days_parse(void)
{
    const char *why = NULL;
    int64_t ms = 0;

    CHECK_INT(lake_day_parse("2022-08-01", &ms, &why), 0);
    CHECK_INT(ms, 1659312000000LL);
    CHECK_INT(lake_day_parse("2022-8-1", &ms, &why), -1);
    CHECK_INT(lake_day_parse("2022-08-01T00", &ms, &why), -1);
    CHECK_INT(lake_day_parse("2022-13-01", &ms, &why), -1);
    CHECK_STR(why, "not a real date");
}

/* ---- Events from typed values ---- */

static const uint8_t v1_uuid[16] = {0xf7, 0x34, 0x6e, 0x40, 0x06, 0x67,
                                    0x11, 0xed, 0xb0, 0x5a, 0x72, 0xef,
                                    0x16, 0x42, 0x02, 0x34};

/* The JSON of ev, into out. */
static const char *json_of(const struct event *ev, struct buf *out)
{
    buf_reset(out);
    if (event_to_json(ev, out) != 0)
        return "(too large)";
    return out->data;
}

static void event_built_from_typed_values(void)
{
    struct event ev;
    struct ev_error err;
    struct buf out;

    event_init(&ev);
    buf_init(&out, 0);
    event_build_begin(&ev);
    CHECK_INT(event_build_uuid(&ev, v1_uuid, &err), 0);
    CHECK_INT(event_build_ts(&ev, 1658127911130LL, &err), 0);
    CHECK_INT(event_build_text(&ev, EV_CUSTOM_TRACK, "click", 5, &err), 0);
    CHECK_INT(event_build_int(&ev, EV_JOB_ID, 188, &err), 0);
    CHECK_INT(event_build_bid(&ev, 15, 1, &err), 0);
    CHECK_INT(event_build_text(&ev, EV_ED, "{\"a\":1}", 7, &err), 0);
    CHECK_INT(event_build_int(&ev, EV_TZ, -420, &err), 0);
    CHECK_INT(event_build_text(&ev, EV_UID, "", 0, &err), 0); /* absent */
    CHECK_INT(event_build_end(&ev, &err), 0);
    CHECK_STR(json_of(&ev, &out),
              "{\"create_time\":\"f7346e40-0667-11ed-b05a-72ef16420234\","
              "\"ts\":\"2022-07-18 07:05:11.130\",\"custom_track\":\"click\","
              "\"job_id\":188,\"bid\":1.5,\"ed\":\"{\\\"a\\\":1}\","
              "\"tz\":-420}");
    CHECK_INT(ev.bid, 15000);
    CHECK_INT(ev.time_ms, 1658127911130LL);
    CHECK(ev.text[EV_UID] == NULL);
    event_free(&ev);
    buf_free(&out);
}

/* One decimal and the bid text it gives ("" when it is refused). */
struct bid_case {
    int64_t unscaled;
    int32_t scale;
    const char *want;
};

static void bid_scales_normalised(void)
{
    static const struct bid_case cases[] = {
        {15, 1, "1.5"},
        {150000, 5, "1.5"},
        {2, -3, "2000"},
        {0, 2000000000, "0"},
        {0, -2000000000, "0"},
        {12345, 4, "1.2345"},
        {1000000000, 0, "1000000000"},
        {1, 5, ""},
        {-1, 0, ""},
        {1000000001, 0, ""},
        {1, -30, ""},
        {INT64_MAX, -1, ""},
    };
    struct event ev;
    struct ev_error err;

    event_init(&ev);
    for (size_t i = 0; i < NCASES(cases); i++) {
        const struct bid_case *c = &cases[i];
        int rc;

        event_build_begin(&ev);
        rc = event_build_bid(&ev, c->unscaled, c->scale, &err);
        if (c->want[0] == '\0') {
            CHECK_INT(rc, -1);
            CHECK_STR(err.field, "bid");
            continue;
        }
        CHECK_INT(rc, 0);
        CHECK_STR(ev.text[EV_BID], c->want);
    }
    event_free(&ev);
}

static void typed_values_validated(void)
{
    static const uint8_t v4[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
                                   0x4d, 0xef, 0x81, 0x23, 0x45, 0x67,
                                   0x89, 0xab, 0xcd, 0xef};
    struct event ev;
    struct ev_error err;

    event_init(&ev);
    event_build_begin(&ev);
    CHECK_INT(event_build_int(&ev, EV_JOB_ID, -1, &err), -1);
    CHECK_STR(err.field, "job_id");
    CHECK_INT(event_build_int(&ev, EV_TZ, -1, &err), 0);
    CHECK_INT(event_build_text(&ev, EV_UA, "\xff\xfe", 2, &err), -1);
    CHECK_STR(err.reason, "invalid UTF-8");
    CHECK_INT(event_build_text(&ev, EV_UA, "a\0b", 3, &err), -1);
    CHECK_INT(event_build_ts(&ev, -1, &err), -1);
    CHECK_INT(event_build_ts(&ev, 253402300800000LL, &err), -1);
    CHECK_INT(event_build_uuid(&ev, v4, &err), -1);
    CHECK_STR(err.field, "create_time");
    CHECK_INT(event_build_end(&ev, &err), -1);
    CHECK_STR(err.field, "ts");
    CHECK(ev.text[EV_TZ] == NULL); /* a failed end empties the event */

    event_build_begin(&ev);
    CHECK_INT(event_build_uuid(&ev, v1_uuid, &err), 0);
    CHECK_INT(event_build_end(&ev, &err), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-18 07:05:11.716");
    event_free(&ev);
}

/* ---- Rows: an event to the INSERT's values, a result row back ---- */

static void put_u16(struct buf *b, unsigned v)
{
    char c[2] = {(char)(v >> 8), (char)v};

    buf_append(b, c, 2);
}

static void put_i32(struct buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    char c[4] = {(char)(u >> 24), (char)(u >> 16), (char)(u >> 8), (char)u};

    buf_append(b, c, 4);
}

static void put_string(struct buf *b, const char *s)
{
    put_u16(b, (unsigned)strlen(s));
    buf_puts(b, s);
}

/* The column type of field f in the lake table. */
static unsigned field_type(enum ev_field f)
{
    switch (ev_field_kinds[f]) {
    case EVK_INT:
    case EVK_ID:
        return CQL_T_INT;
    case EVK_BID:
        return CQL_T_DECIMAL;
    case EVK_TS:
        return CQL_T_TIMESTAMP;
    case EVK_UUID:
        return CQL_T_TIMEUUID;
    case EVK_TEXT:
        break;
    }
    return CQL_T_VARCHAR;
}

/* A RESULT body as Cassandra sends it for lake_table_select_cql(NULL): the
 * event columns with their types, one row whose cells are the INSERT's
 * values of the event fields (an unset value reads back as null). */
static void rows_body(struct buf *b, const struct cql_value *vals)
{
    buf_reset(b);
    put_i32(b, CQL_RESULT_ROWS);
    put_i32(b, CQL_META_GLOBAL);
    put_i32(b, EV_NFIELDS);
    put_string(b, "ks");
    put_string(b, "tracking");
    for (int f = 0; f < EV_NFIELDS; f++) {
        put_string(b, ev_field_names[f]);
        put_u16(b, field_type((enum ev_field)f));
    }
    put_i32(b, 1);
    for (int f = 0; f < EV_NFIELDS; f++) {
        struct cql_value v = vals[LAKE_VAL_FIELD(f)];

        if (v.kind == CQL_V_UNSET)
            v = cql_value_null();
        cql_value_encode(b, &v);
    }
}

/* Reads a whole file into out. Returns 0 or -1. */
static int read_file(const char *path, struct buf *out)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (fp == NULL)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(out, chunk, n);
    fclose(fp);
    return 0;
}

/* ev to values to a result row to an event: equal, and the same JSON. */
static int row_round_trip(const struct event *ev, struct buf *body,
                          struct buf *j1, struct buf *j2)
{
    struct cql_value vals[LAKE_NVALUES];
    struct cql_result res;
    struct ev_error err;
    struct event back;
    int ok;

    lake_table_values(ev, 1700000000000LL, vals);
    ok = vals[LAKE_VAL_HOUR].u.i == lake_hour_ms(ev->time_ms) &&
         vals[LAKE_VAL_BUCKET].u.i == lake_bucket(ev->uuid) &&
         vals[LAKE_VAL_ARCHIVED_AT].u.i == 1700000000000LL;
    rows_body(body, vals);
    event_init(&back);
    ok = ok &&
         cql_result_decode(&res, (const uint8_t *)body->data, body->len) ==
             CQL_OK &&
         lake_table_row_event(&res, 0, &back, &err) == 0 &&
         event_equal(ev, &back) &&
         strcmp(json_of(ev, j1), json_of(&back, j2)) == 0;
    cql_result_free(&res);
    event_free(&back);
    return ok;
}

static void whole_log_round_trips_through_rows(void)
{
    struct buf file, body, j1, j2;
    struct csv_header h;
    struct event ev;
    struct ev_error err;
    size_t pos, len, hlen;
    int events = 0, trips = 0;

    buf_init(&file, 0);
    buf_init(&body, 0);
    buf_init(&j1, 0);
    buf_init(&j2, 0);
    event_init(&ev);
    CHECK_INT(read_file("data/tracking.csv", &file), 0);
    hlen = file.len ? csv_record_len(file.data, file.len) : 0;
    CHECK_INT(csv_header_parse(&h, file.data, hlen, &err), 0);
    for (pos = hlen; pos < file.len; pos += len) {
        len = csv_record_len(file.data + pos, file.len - pos);
        if (len == 0)
            len = file.len - pos;
        if (event_parse_csv(&ev, &h, file.data + pos, len, &err) != 0)
            continue;
        events++;
        trips += row_round_trip(&ev, &body, &j1, &j2);
    }
    CHECK_INT(events, 6662);
    CHECK_INT(trips, 6662);
    event_free(&ev);
    buf_free(&file);
    buf_free(&body);
    buf_free(&j1);
    buf_free(&j2);
}

static void absent_fields_left_unset(void)
{
    static const char in[] = "{\"ts\":\"2022-07-18 07:05:11.130\","
                             "\"bid\":\"2.50\",\"job_id\":\"7\"}";
    struct cql_value vals[LAKE_NVALUES];
    struct ev_error err;
    struct event ev;

    event_init(&ev);
    CHECK_INT(event_parse_json(&ev, in, sizeof(in) - 1, &err), 0);
    lake_table_values(&ev, 1, vals);
    CHECK_INT(vals[LAKE_VAL_FIELD(EV_UID)].kind, CQL_V_UNSET);
    CHECK_INT(vals[LAKE_VAL_FIELD(EV_CUSTOM_TRACK)].kind, CQL_V_UNSET);
    CHECK_INT(vals[LAKE_VAL_FIELD(EV_JOB_ID)].kind, CQL_V_INT);
    CHECK_INT(vals[LAKE_VAL_FIELD(EV_BID)].kind, CQL_V_DECIMAL);
    CHECK_INT(vals[LAKE_VAL_FIELD(EV_BID)].u.dec.unscaled, 25);
    CHECK_INT(vals[LAKE_VAL_FIELD(EV_BID)].u.dec.scale, 1);
    CHECK_INT(vals[LAKE_VAL_BUCKET].kind, CQL_V_SMALLINT);
    CHECK_INT(vals[LAKE_VAL_HOUR].u.i, 1658127600000LL);
    event_free(&ev);
}

static void row_of_wrong_type_refused(void)
{
    struct cql_value vals[LAKE_NVALUES];
    struct cql_result res;
    struct ev_error err;
    struct event ev;
    struct buf body;

    event_init(&ev);
    buf_init(&body, 0);
    for (int i = 0; i < LAKE_NVALUES; i++)
        vals[i] = cql_value_unset();
    vals[LAKE_VAL_FIELD(EV_CREATE_TIME)] = cql_value_uuid(v1_uuid);
    vals[LAKE_VAL_FIELD(EV_JOB_ID)] = cql_value_bigint(5); /* 8 bytes */
    rows_body(&body, vals);
    CHECK_INT(cql_result_decode(&res, (const uint8_t *)body.data, body.len),
              CQL_OK);
    CHECK_INT(lake_table_row_event(&res, 0, &ev, &err), -1);
    CHECK_STR(err.field, "job_id");
    CHECK(ev.text[EV_CREATE_TIME] == NULL);
    cql_result_free(&res);
    event_free(&ev);
    buf_free(&body);
}

static void statements_name_every_column(void)
{
    struct buf q;
    int marks = 0;

    buf_init(&q, 0);
    CHECK_INT(lake_table_insert_cql(&q, "ks", 86400), 0);
    CHECK(strncmp(q.data,
                  "INSERT INTO \"ks\".tracking (hour, bucket, create_time, "
                  "ts, custom_track, job_id,",
                  70) == 0);
    CHECK(strstr(q.data, "utm_term, archived_at) VALUES (?, ?") != NULL);
    for (const char *p = q.data; *p; p++)
        marks += *p == '?';
    CHECK_INT(marks, LAKE_NVALUES);
    CHECK(strstr(q.data, ") USING TTL 86400") != NULL);
    CHECK_INT(lake_table_insert_cql(&q, "ks", 0), 0);
    CHECK(strstr(q.data, "TTL") == NULL);
    CHECK_INT(lake_table_select_cql(&q, "ks", "custom_track"), 0);
    CHECK_STR(q.data, "SELECT custom_track FROM \"ks\".tracking WHERE hour = "
                      "? AND bucket = ?");
    CHECK_INT(lake_table_delete_cql(&q, "ks"), 0);
    CHECK_STR(q.data,
              "DELETE FROM \"ks\".tracking WHERE hour = ? AND bucket = ?");
    buf_free(&q);
}

/* ---- Latency histogram ---- */

static void histogram_quantiles_bounded(void)
{
    static struct hist h;
    uint64_t p50, p99;

    hist_reset(&h);
    CHECK_INT(hist_quantile(&h, 0.5), 0);
    for (uint64_t v = 1; v <= 10000; v++)
        hist_add(&h, v);
    p50 = hist_quantile(&h, 0.5);
    p99 = hist_quantile(&h, 0.99);
    if (p50 < 5000 || p50 > 5300 || p99 < 9900 || p99 > 10000)
        printf("  p50 %llu, p99 %llu\n", (unsigned long long)p50,
               (unsigned long long)p99);
    CHECK(p50 >= 5000 && p50 <= 5300);
    CHECK(p99 >= 9900 && p99 <= 10000);
    CHECK_INT(hist_quantile(&h, 1.0), 10000);
    hist_reset(&h);
    hist_add(&h, 7);
    CHECK_INT(hist_quantile(&h, 0.99), 7);
    hist_add(&h, UINT64_MAX);
    CHECK_INT(hist_quantile(&h, 1.0), UINT64_MAX);
}

int main(void)
{
    RUN(hours_parse_in_both_forms);
    RUN(hours_refused_with_reason);
    RUN(days_parse);
    RUN(event_built_from_typed_values);
    RUN(bid_scales_normalised);
    RUN(typed_values_validated);
    RUN(whole_log_round_trips_through_rows);
    RUN(absent_fields_left_unset);
    RUN(row_of_wrong_type_refused);
    RUN(statements_name_every_column);
    RUN(histogram_quantiles_bounded);
    return TEST_DONE();
}
