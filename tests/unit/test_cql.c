/* Unit tests of the CQL client: frames byte for byte as the v4 spec lays
 * them out, values, decoders fed truncated and hostile bytes, and
 * connections against a scripted peer on a local socket. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/cql.h"
#include "test.h"

/* A string literal as (bytes, length), without its NUL. */
#define LIT(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static void hex_dump(const char *what, const void *p, size_t n)
{
    printf("  %s:", what);
    for (size_t i = 0; i < n; i++)
        printf(" %02x", ((const uint8_t *)p)[i]);
    printf("\n");
}

/* Checks that b holds exactly the n bytes of want, dumping both if not. */
#define CHECK_BYTES(b, want, n)                                                \
    do {                                                                       \
        size_t n_ = (n);                                                       \
        CHECK_INT((b)->len, n_);                                               \
        if ((b)->len != n_ || memcmp((b)->data, (want), n_) != 0) {            \
            CHECK_MEM((b)->data, (want), (b)->len < n_ ? (b)->len : n_);       \
            hex_dump("got ", (b)->data, (b)->len);                             \
            hex_dump("want", (want), n_);                                      \
        }                                                                      \
    } while (0)

/* ---- Request frames ---- */

static void startup_frame_bytes(void)
{
    static const char want[] = "\x04\x00\x00\x01\x01\x00\x00\x00\x16"
                               "\x00\x01"
                               "\x00\x0b"
                               "CQL_VERSION"
                               "\x00\x05"
                               "3.0.0";
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_startup(&b, 1), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void options_frame_bytes(void)
{
    static const char want[] = "\x04\x00\x7f\xff\x05\x00\x00\x00\x00";
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_options(&b, 32767), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void auth_response_is_sasl_plain(void)
{
    static const char want[] = "\x04\x00\x00\x02\x0f\x00\x00\x00\x18"
                               "\x00\x00\x00\x14"
                               "\x00"
                               "cassandra"
                               "\x00"
                               "cassandra";
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_auth_response(&b, 2, "cassandra", "cassandra"),
              CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void query_with_two_values(void)
{
    static const char want[] = "\x04\x00\x00\x03\x07\x00\x00\x00\x38"
                               "\x00\x00\x00\x21"
                               "SELECT a FROM t WHERE k=? AND v=?"
                               "\x00\x01" /* ONE */
                               "\x01"     /* values */
                               "\x00\x02"
                               "\x00\x00\x00\x04\x00\x00\x00\x07"
                               "\x00\x00\x00\x02"
                               "hi";
    struct cql_value v[2] = {cql_value_int(7), cql_value_text("hi", 2)};
    struct cql_params p = {.consistency = CQL_ONE, .values = v, .nvalues = 2};
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_query(&b, 3, "SELECT a FROM t WHERE k=? AND v=?", &p),
              CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void query_paging_serial_timestamp(void)
{
    static const char want[] = "\x04\x00\x00\x00\x07\x00\x00\x00\x23"
                               "\x00\x00\x00\x08"
                               "SELECT 1"
                               "\x00\x06" /* LOCAL_QUORUM */
                               "\x3e"     /* skip md, page, state, serial, ts */
                               "\x00\x00\x00\x64"
                               "\x00\x00\x00\x02\xab\xcd"
                               "\x00\x09" /* LOCAL_SERIAL */
                               "\x00\x00\x00\x00\x00\x00\x01\x00";
    static const uint8_t state[] = {0xab, 0xcd};
    struct cql_params p = {.consistency = CQL_LOCAL_QUORUM,
                           .page_size = 100,
                           .paging_state = state,
                           .paging_state_len = 2,
                           .serial = CQL_LOCAL_SERIAL,
                           .timestamp_us = 256,
                           .skip_metadata = 1};
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_query(&b, 0, "SELECT 1", &p), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void query_without_params_is_local_quorum(void)
{
    static const char want[] = "\x04\x00\x00\x00\x07\x00\x00\x00\x0b"
                               "\x00\x00\x00\x04"
                               "USE "
                               "\x00\x06"
                               "\x00";
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_query(&b, 0, "USE ", NULL), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void prepare_frame_bytes(void)
{
    static const char want[] = "\x04\x00\x00\x09\x09\x00\x00\x00\x0d"
                               "\x00\x00\x00\x09"
                               "SELECT ?;";
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_prepare(&b, 9, "SELECT ?;"), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void execute_with_null_and_unset(void)
{
    static const char want[] = "\x04\x00\x01\x00\x0a\x00\x00\x00\x17"
                               "\x00\x04\xde\xad\xbe\xef"
                               "\x00\x04" /* QUORUM */
                               "\x01"
                               "\x00\x03"
                               "\xff\xff\xff\xff"  /* null */
                               "\xff\xff\xff\xfe"  /* not set */
                               "\x00\x00\x00\x00"; /* empty text */
    static const uint8_t id[] = {0xde, 0xad, 0xbe, 0xef};
    struct cql_value v[3] = {cql_value_null(), cql_value_unset(),
                             cql_value_text("", 0)};
    struct cql_params p = {
        .consistency = CQL_QUORUM, .values = v, .nvalues = 3};
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_execute(&b, 256, id, sizeof(id), &p), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void batch_unlogged_prepared(void)
{
    static const char want[] = "\x04\x00\x00\x05\x0d\x00\x00\x00\x2c"
                               "\x01"     /* unlogged */
                               "\x00\x02" /* two statements */
                               "\x01\x00\x02\x0a\x0b"
                               "\x00\x01"
                               "\x00\x00\x00\x04\x00\x00\x00\x01"
                               "\x01\x00\x02\x0a\x0b"
                               "\x00\x01"
                               "\x00\x00\x00\x04\x00\x00\x00\x02"
                               "\x00\x01" /* ONE */
                               "\x20"     /* default timestamp */
                               "\x00\x00\x00\x00\x00\x00\x00\x05";
    static const uint8_t id[] = {0x0a, 0x0b};
    struct cql_value v1 = cql_value_int(1), v2 = cql_value_int(2);
    struct cql_batch_item items[2] = {{id, 2, NULL, &v1, 1},
                                      {id, 2, NULL, &v2, 1}};
    struct cql_params p = {.consistency = CQL_ONE, .timestamp_us = 5};
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_batch(&b, 5, CQL_BATCH_UNLOGGED, items, 2, &p),
              CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void batch_with_query_string(void)
{
    static const char want[] = "\x04\x00\x00\x00\x0d\x00\x00\x00\x11"
                               "\x00\x00\x01"
                               "\x00\x00\x00\x00\x04"
                               "X;Y;"
                               "\x00\x00"
                               "\x00\x06"
                               "\x00";
    struct cql_batch_item it = {NULL, 0, "X;Y;", NULL, 0};
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_encode_batch(&b, 0, CQL_BATCH_LOGGED, &it, 1, NULL), CQL_OK);
    CHECK_BYTES(&b, want, sizeof(want) - 1);
    buf_free(&b);
}

static void encoder_over_cap_leaves_buffer(void)
{
    static struct cql_value v[70000];
    struct buf b;
    struct cql_params p = {
        .consistency = CQL_ONE, .values = v, .nvalues = 70000};

    for (size_t i = 0; i < 70000; i++)
        v[i] = cql_value_null();
    buf_init(&b, 40);
    CHECK_INT(cql_encode_startup(&b, 0), CQL_OK);
    CHECK_INT(cql_encode_startup(&b, 1), CQL_ERR_LIMIT);
    CHECK_INT(b.len, 31);
    buf_free(&b);
    buf_init(&b, 0);
    /* More values than a [short] can count. */
    CHECK_INT(cql_encode_query(&b, 0, "Q", &p), CQL_ERR_LIMIT);
    CHECK_INT(b.len, 0);
    buf_free(&b);
}

/* ---- Values ---- */

static void check_value(struct cql_value v, const char *want, size_t n)
{
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(cql_value_encode(&b, &v), CQL_OK);
    CHECK_BYTES(&b, want, n);
    buf_free(&b);
}

#define CHECK_VALUE(v, s) check_value((v), (s), sizeof(s) - 1)

static void value_encodings(void)
{
    static const uint8_t uuid[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad,
                                     0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                     0x4f, 0xd4, 0x30, 0xc8};

    CHECK_VALUE(cql_value_int(-2), "\x00\x00\x00\x04\xff\xff\xff\xfe");
    CHECK_VALUE(cql_value_bigint(INT64_MIN),
                "\x00\x00\x00\x08\x80\x00\x00\x00\x00\x00\x00\x00");
    CHECK_VALUE(cql_value_smallint(7), "\x00\x00\x00\x02\x00\x07");
    CHECK_VALUE(cql_value_text("héllo", 6), "\x00\x00\x00\x06héllo");
    CHECK_VALUE(cql_value_blob("\x00\x01", 2), "\x00\x00\x00\x02\x00\x01");
    CHECK_VALUE(cql_value_bool(1), "\x00\x00\x00\x01\x01");
    CHECK_VALUE(cql_value_bool(0), "\x00\x00\x00\x01\x00");
    CHECK_VALUE(cql_value_null(), "\xff\xff\xff\xff");
    CHECK_VALUE(cql_value_unset(), "\xff\xff\xff\xfe");
    CHECK_VALUE(cql_value_uuid(uuid), "\x00\x00\x00\x10\x6b\xa7\xb8\x10"
                                      "\x9d\xad\x11\xd1\x80\xb4\x00\xc0"
                                      "\x4f\xd4\x30\xc8");
}

static void timestamp_encoding(void)
{
    /* 2022-07-01T00:00:00Z is 1656633600000 ms after the epoch. */
    CHECK_VALUE(cql_value_timestamp(1656633600000LL),
                "\x00\x00\x00\x08\x00\x00\x01\x81\xb7\x0e\xa8\x00");
    CHECK_VALUE(cql_value_timestamp(-1),
                "\x00\x00\x00\x08\xff\xff\xff\xff\xff\xff\xff\xff");
}

static void decimal_encodings(void)
{
    struct cql_decimal d;

    CHECK_INT(cql_decimal_parse("1.4", 3, &d), CQL_OK);
    CHECK_VALUE(cql_value_decimal(d.unscaled, d.scale),
                "\x00\x00\x00\x05\x00\x00\x00\x01\x0e");
    CHECK_INT(cql_decimal_parse("0.0001", 6, &d), CQL_OK);
    CHECK_VALUE(cql_value_decimal(d.unscaled, d.scale),
                "\x00\x00\x00\x05\x00\x00\x00\x04\x01");
    CHECK_INT(cql_decimal_parse("1000000000", 10, &d), CQL_OK);
    CHECK_VALUE(cql_value_decimal(d.unscaled, d.scale),
                "\x00\x00\x00\x08\x00\x00\x00\x00\x3b\x9a\xca\x00");
    /* 0.5 with a sign: -5 at scale 1; 128 needs a leading zero byte. */
    CHECK_VALUE(cql_value_decimal(-5, 1),
                "\x00\x00\x00\x05\x00\x00\x00\x01\xfb");
    CHECK_VALUE(cql_value_decimal(128, 0),
                "\x00\x00\x00\x06\x00\x00\x00\x00\x00\x80");
}

static void check_varint(int64_t v, const char *want, size_t n)
{
    uint8_t out[8];
    int64_t back = 0;
    size_t got = cql_varint_encode(v, out);

    CHECK_INT(got, n);
    if (got == n)
        CHECK_MEM(out, want, n);
    CHECK_INT(cql_varint_decode(out, got, &back), CQL_OK);
    CHECK_INT(back, v);
}

#define CHECK_VARINT(v, s) check_varint((v), (s), sizeof(s) - 1)

static void varint_edges(void)
{
    int64_t v = 0;

    CHECK_VARINT(0, "\x00");
    CHECK_VARINT(1, "\x01");
    CHECK_VARINT(127, "\x7f");
    CHECK_VARINT(128, "\x00\x80");
    CHECK_VARINT(129, "\x00\x81");
    CHECK_VARINT(-1, "\xff");
    CHECK_VARINT(-128, "\x80");
    CHECK_VARINT(-129, "\xff\x7f");
    CHECK_VARINT(256, "\x01\x00");
    CHECK_VARINT(-32768, "\x80\x00");
    CHECK_VARINT(INT64_MAX, "\x7f\xff\xff\xff\xff\xff\xff\xff");
    CHECK_VARINT(INT64_MIN, "\x80\x00\x00\x00\x00\x00\x00\x00");
    /* Redundant sign bytes are accepted; values past 64 bits are not. */
    CHECK_INT(
        cql_varint_decode(LIT("\x00\x00\x00\x00\x00\x00\x00\x00\x05"), &v),
        CQL_OK);
    CHECK_INT(v, 5);
    CHECK_INT(
        cql_varint_decode(LIT("\xff\xff\x80\x00\x00\x00\x00\x00\x00\x00"), &v),
        CQL_OK);
    CHECK_INT(v, INT64_MIN);
    CHECK_INT(
        cql_varint_decode(LIT("\x00\x80\x00\x00\x00\x00\x00\x00\x00"), &v),
        CQL_ERR_RANGE);
    CHECK_INT(
        cql_varint_decode(LIT("\x01\x00\x00\x00\x00\x00\x00\x00\x00"), &v),
        CQL_ERR_RANGE);
    CHECK_INT(cql_varint_decode((const uint8_t *)"", 0, &v), CQL_ERR_NULL);
}

static void check_decimal_text(const char *in, int64_t unscaled, int32_t scale,
                               const char *out)
{
    struct cql_decimal d = {0, 0};
    char text[64];

    CHECK_INT(cql_decimal_parse(in, strlen(in), &d), CQL_OK);
    CHECK_INT(d.unscaled, unscaled);
    CHECK_INT(d.scale, scale);
    CHECK_INT(cql_decimal_format(&d, text, sizeof(text)), CQL_OK);
    CHECK_STR(text, out);
}

static void decimal_text(void)
{
    struct cql_decimal d;
    char small[4];

    check_decimal_text("1.4", 14, 1, "1.4");
    check_decimal_text("0.0001", 1, 4, "0.0001");
    check_decimal_text("1000000000", 1000000000, 0, "1000000000");
    check_decimal_text("-12.3400", -123400, 4, "-12.3400");
    check_decimal_text("+.5", 5, 1, "0.5");
    check_decimal_text("7.", 7, 0, "7");
    check_decimal_text("-0.00", 0, 2, "0.00");
    check_decimal_text("999999999999999999", 999999999999999999LL, 0,
                       "999999999999999999");
    d = (struct cql_decimal){12, -3};
    CHECK_INT(cql_decimal_format(&d, small, sizeof(small)), CQL_ERR_LIMIT);
    d = (struct cql_decimal){INT64_MIN, 19};
    {
        char t[32];
        CHECK_INT(cql_decimal_format(&d, t, sizeof(t)), CQL_OK);
        CHECK_STR(t, "-0.9223372036854775808");
    }
    d = (struct cql_decimal){12, -3};
    {
        char t[8];
        CHECK_INT(cql_decimal_format(&d, t, sizeof(t)), CQL_OK);
        CHECK_STR(t, "12000");
    }
    CHECK_INT(cql_decimal_parse("", 0, &d), CQL_ERR_ARG);
    CHECK_INT(cql_decimal_parse("-", 1, &d), CQL_ERR_ARG);
    CHECK_INT(cql_decimal_parse(".", 1, &d), CQL_ERR_ARG);
    CHECK_INT(cql_decimal_parse("1.2.3", 5, &d), CQL_ERR_ARG);
    CHECK_INT(cql_decimal_parse("1e3", 3, &d), CQL_ERR_ARG);
    CHECK_INT(cql_decimal_parse("1234567890123456789", 19, &d), CQL_ERR_ARG);
}

/* ---- Decoders ---- */

static void header_decode(void)
{
    struct cql_header h;

    CHECK_INT(
        cql_header_decode(&h, LIT("\x84\x08\xff\xff\x0c\x00\x00\x01\x00"), 0),
        CQL_OK);
    CHECK_INT(h.version, 0x84);
    CHECK_INT(h.flags, CQL_FLAG_WARNING);
    CHECK_INT(h.stream, -1);
    CHECK_INT(h.opcode, CQL_OP_EVENT);
    CHECK_INT(h.length, 256);
    /* A request version, a compressed body, short input, over the cap. */
    CHECK_INT(
        cql_header_decode(&h, LIT("\x04\x00\x00\x00\x02\x00\x00\x00\x00"), 0),
        CQL_ERR_PROTO);
    CHECK_INT(
        cql_header_decode(&h, LIT("\x84\x01\x00\x00\x02\x00\x00\x00\x00"), 0),
        CQL_ERR_PROTO);
    CHECK_INT(cql_header_decode(&h, LIT("\x84\x00\x00\x00\x02\x00\x00\x00"), 0),
              CQL_ERR_PROTO);
    CHECK_INT(
        cql_header_decode(&h, LIT("\x84\x00\x00\x00\x08\x00\x00\x01\x01"), 256),
        CQL_ERR_LIMIT);
    CHECK_INT(
        cql_header_decode(&h, LIT("\x84\x00\x00\x00\x08\x10\x00\x00\x01"), 0),
        CQL_ERR_LIMIT);
}

static void frame_with_warning_and_tracing(void)
{
    static const char warned[] = "\x84\x08\x00\x05\x08\x00\x00\x00\x0e"
                                 "\x00\x01\x00\x06"
                                 "slow!!"
                                 "\x00\x00\x00\x01";
    static const char traced[] = "\x84\x02\x00\x05\x02\x00\x00\x00\x10"
                                 "0123456789abcdef";
    struct cql_frame f;

    CHECK_INT(cql_frame_decode(&f, LIT(warned), 0), CQL_OK);
    CHECK_INT(f.h.opcode, CQL_OP_RESULT);
    CHECK_INT(f.nwarnings, 1);
    CHECK_INT(f.warning.n, 6);
    CHECK(f.warning.p && memcmp(f.warning.p, "slow!!", 6) == 0);
    CHECK_INT(f.len, 4);
    CHECK_INT(cql_frame_decode(&f, LIT(traced), 0), CQL_OK);
    CHECK_INT(f.h.opcode, CQL_OP_READY);
    CHECK_INT(f.len, 0);
    /* A body one byte short, and one byte too long. */
    CHECK_INT(
        cql_frame_decode(&f, (const uint8_t *)warned, sizeof(warned) - 2, 0),
        CQL_ERR_PROTO);
    CHECK_INT(cql_frame_decode(&f, (const uint8_t *)warned, sizeof(warned), 0),
              CQL_ERR_PROTO);
}

static void error_invalid_with_message(void)
{
    static const char body[] = "\x00\x00\x22\x00"
                               "\x00\x19"
                               "unconfigured table nosuch";
    struct cql_error e;
    char text[128];

    CHECK_INT(cql_error_decode(&e, LIT(body)), CQL_OK);
    CHECK_INT(e.code, CQL_E_INVALID);
    CHECK_INT(e.message.n, 25);
    cql_error_format(&e, text, sizeof(text));
    CHECK_STR(text, "invalid query (0x2200): unconfigured table nosuch");
}

static void error_extra_fields(void)
{
    struct cql_error e;
    char text[160];

    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x10\x00\x00\x01x\x00\x06"
                                       "\x00\x00\x00\x02\x00\x00\x00\x01")),
              CQL_OK);
    CHECK_INT(e.consistency, CQL_LOCAL_QUORUM);
    CHECK_INT(e.required, 2);
    CHECK_INT(e.alive, 1);
    cql_error_format(&e, text, sizeof(text));
    CHECK_STR(text, "unavailable (0x1000): x [LOCAL_QUORUM: 1 of 2 replicas "
                    "alive]");
    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x11\x00\x00\x00\x00\x01"
                                       "\x00\x00\x00\x00\x00\x00\x00\x01"
                                       "\x00\x06SIMPLE")),
              CQL_OK);
    cql_error_format(&e, text, sizeof(text));
    CHECK_STR(text, "write timeout (0x1100):  [ONE: 0 of 1 acknowledged, "
                    "SIMPLE]");
    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x12\x00\x00\x00\x00\x04"
                                       "\x00\x00\x00\x01\x00\x00\x00\x02"
                                       "\x01")),
              CQL_OK);
    CHECK_INT(e.received, 1);
    CHECK_INT(e.blockfor, 2);
    CHECK_INT(e.data_present, 1);
    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x13\x00\x00\x00\x00\x01"
                                       "\x00\x00\x00\x00\x00\x00\x00\x01"
                                       "\x00\x00\x00\x03\x00")),
              CQL_OK);
    CHECK_INT(e.numfailures, 3);
    CHECK_INT(e.data_present, 0);
}

static void error_already_exists_and_unprepared(void)
{
    struct cql_error e;

    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x24\x00\x00\x02hi"
                                       "\x00\x02ks\x00\x00")),
              CQL_OK);
    CHECK_INT(e.code, CQL_E_ALREADY_EXISTS);
    CHECK(e.keyspace.n == 2 && memcmp(e.keyspace.p, "ks", 2) == 0);
    CHECK_INT(e.table.n, 0);
    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x25\x00\x00\x00"
                                       "\x00\x02\xab\xcd")),
              CQL_OK);
    CHECK_INT(e.code, CQL_E_UNPREPARED);
    CHECK(e.id.n == 2 && memcmp(e.id.p, "\xab\xcd", 2) == 0);
    /* A message longer than the body. */
    CHECK_INT(cql_error_decode(&e, LIT("\x00\x00\x22\x00\x00\x09short")),
              CQL_ERR_PROTO);
}

static void authenticate_and_tokens(void)
{
    static const char auth[] =
        "\x00\x2f"
        "org.apache.cassandra.auth.PasswordAuthenticator";
    struct cql_str s;

    CHECK_INT(cql_authenticate_decode(&s, LIT(auth)), CQL_OK);
    CHECK_INT(s.n, 47);
    CHECK_INT(cql_auth_token_decode(&s, LIT("\xff\xff\xff\xff")), CQL_OK);
    CHECK(s.p == NULL);
    CHECK_INT(cql_auth_token_decode(&s, LIT("\x00\x00\x00\x02ok")), CQL_OK);
    CHECK_INT(s.n, 2);
    CHECK_INT(cql_auth_token_decode(&s, LIT("\x00\x00\x00\x03ok")),
              CQL_ERR_PROTO);
}

static void supported_multimap(void)
{
    static const char body[] = "\x00\x02"
                               "\x00\x0b"
                               "CQL_VERSION"
                               "\x00\x01\x00\x05"
                               "3.4.7"
                               "\x00\x0b"
                               "COMPRESSION"
                               "\x00\x02\x00\x06snappy\x00\x03lz4";
    struct cql_str v;

    CHECK_INT(cql_supported_get(LIT(body), "COMPRESSION", 1, &v), CQL_OK);
    CHECK(v.n == 3 && memcmp(v.p, "lz4", 3) == 0);
    CHECK_INT(cql_supported_get(LIT(body), "CQL_VERSION", 0, &v), CQL_OK);
    CHECK(v.n == 5 && memcmp(v.p, "3.4.7", 5) == 0);
    CHECK_INT(cql_supported_get(LIT(body), "CQL_VERSION", 1, &v),
              CQL_ERR_NOTFOUND);
    CHECK_INT(cql_supported_get(LIT(body), "PROTOCOL_VERSIONS", 0, &v),
              CQL_ERR_NOTFOUND);
}

/* Two columns (int, varchar) of table ks.t, a paging state, two rows. */
static const char rows_two_cols[] = "\x00\x00\x00\x02"
                                    "\x00\x00\x00\x03"
                                    "\x00\x00\x00\x02"
                                    "\x00\x00\x00\x03pgs"
                                    "\x00\x02ks\x00\x01t"
                                    "\x00\x02id\x00\x09"
                                    "\x00\x04name\x00\x0d"
                                    "\x00\x00\x00\x02"
                                    "\x00\x00\x00\x04\x00\x00\x00\x01"
                                    "\x00\x00\x00\x01"
                                    "a"
                                    "\x00\x00\x00\x04\x00\x00\x00\x02"
                                    "\xff\xff\xff\xff";

static void rows_with_paging_state(void)
{
    struct cql_result res;
    struct cql_str s;
    int32_t i;
    int64_t big;

    CHECK_INT(cql_result_decode(&res, LIT(rows_two_cols)), CQL_OK);
    CHECK_INT(res.kind, CQL_RESULT_ROWS);
    CHECK_INT(res.meta.ncols, 2);
    CHECK_INT(res.nrows, 2);
    CHECK_INT(cql_result_has_more(&res), 1);
    CHECK(res.meta.paging_state.n == 3 &&
          memcmp(res.meta.paging_state.p, "pgs", 3) == 0);
    CHECK(memcmp(res.meta.cols[1].keyspace.p, "ks", 2) == 0);
    CHECK_INT(res.meta.cols[1].type.id, CQL_T_VARCHAR);
    CHECK_INT(cql_result_column(&res, "name"), 1);
    CHECK_INT(cql_result_column(&res, "nam"), CQL_ERR_NOTFOUND);
    CHECK_INT(cql_result_int(&res, 0, 0, &i), CQL_OK);
    CHECK_INT(i, 1);
    CHECK_INT(cql_result_text(&res, 0, 1, &s), CQL_OK);
    CHECK(s.n == 1 && s.p[0] == 'a');
    CHECK_INT(cql_result_int(&res, 1, 0, &i), CQL_OK);
    CHECK_INT(i, 2);
    CHECK_INT(cql_result_text(&res, 1, 1, &s), CQL_ERR_NULL);
    CHECK_INT(cql_result_is_null(&res, 1, 1), 1);
    CHECK_INT(cql_result_is_null(&res, 1, 0), 0);
    CHECK_INT(cql_result_bigint(&res, 0, 0, &big), CQL_ERR_TYPE);
    CHECK_INT(cql_result_int(&res, 2, 0, &i), CQL_ERR_RANGE);
    CHECK_INT(cql_result_int(&res, 0, 2, &i), CQL_ERR_RANGE);
    cql_result_free(&res);
    cql_result_free(&res);
    cql_result_free(NULL);
}

/* One row of eleven columns in one global table, many types. */
static const char rows_types[] =
    "\x00\x00\x00\x02"
    "\x00\x00\x00\x01"
    "\x00\x00\x00\x0b"
    "\x00\x01k\x00\x01t"
    "\x00\x01"
    "a\x00\x02"
    "\x00\x01"
    "b\x00\x06"
    "\x00\x01"
    "c\x00\x0b"
    "\x00\x01"
    "d\x00\x0c"
    "\x00\x01"
    "e\x00\x0f"
    "\x00\x01"
    "f\x00\x04"
    "\x00\x01"
    "g\x00\x13"
    "\x00\x01"
    "h\x00\x20\x00\x09"
    "\x00\x01"
    "i\x00\x21\x00\x0d\x00\x09"
    "\x00\x01"
    "j\x00\x00\x00\x03"
    "a.B"
    "\x00\x01"
    "k\x00\x31\x00\x02\x00\x09\x00\x0d"
    "\x00\x00\x00\x01"
    "\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x2a"
    "\x00\x00\x00\x05\x00\x00\x00\x01\x0e"
    "\x00\x00\x00\x08\x00\x00\x01\x81\xb7\x0e\xa8\x00"
    "\x00\x00\x00\x10"
    "0123456789abcdef"
    "\x00\x00\x00\x10"
    "fedcba9876543210"
    "\x00\x00\x00\x01\x01"
    "\x00\x00\x00\x02\xff\xfe"
    "\x00\x00\x00\x0c\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07"
    "\xff\xff\xff\xff"
    "\x00\x00\x00\x00"
    "\xff\xff\xff\xff";

static void rows_every_reader(void)
{
    struct cql_result res;
    struct cql_decimal d;
    struct cql_str s;
    uint8_t u[16];
    int64_t v;
    int16_t sm;
    int b;

    CHECK_INT(cql_result_decode(&res, LIT(rows_types)), CQL_OK);
    CHECK_INT(cql_result_has_more(&res), 0);
    CHECK_INT(cql_result_bigint(&res, 0, 0, &v), CQL_OK);
    CHECK_INT(v, 42);
    CHECK_INT(cql_result_decimal(&res, 0, 1, &d), CQL_OK);
    CHECK_INT(d.unscaled, 14);
    CHECK_INT(d.scale, 1);
    CHECK_INT(cql_result_timestamp(&res, 0, 2, &v), CQL_OK);
    CHECK_INT(v, 1656633600000LL);
    CHECK_INT(cql_result_uuid(&res, 0, 3, u), CQL_OK);
    CHECK_MEM(u, "0123456789abcdef", 16);
    CHECK_INT(cql_result_uuid(&res, 0, 4, u), CQL_OK);
    CHECK_MEM(u, "fedcba9876543210", 16);
    CHECK_INT(cql_result_bool(&res, 0, 5, &b), CQL_OK);
    CHECK_INT(b, 1);
    CHECK_INT(cql_result_smallint(&res, 0, 6, &sm), CQL_OK);
    CHECK_INT(sm, -2);
    CHECK_INT(res.meta.cols[7].type.id, CQL_T_LIST);
    CHECK_INT(res.meta.cols[7].type.elem[0], CQL_T_INT);
    CHECK_INT(cql_result_bytes(&res, 0, 7, &s), CQL_OK);
    CHECK_INT(s.n, 12);
    CHECK_INT(res.meta.cols[8].type.elem[0], CQL_T_VARCHAR);
    CHECK_INT(res.meta.cols[8].type.elem[1], CQL_T_INT);
    CHECK_INT(cql_result_is_null(&res, 0, 8), 1);
    CHECK(res.meta.cols[9].type.custom.n == 3);
    CHECK_INT(cql_result_bytes(&res, 0, 9, &s), CQL_OK);
    CHECK_INT(s.n, 0);
    CHECK_INT(res.meta.cols[10].type.id, CQL_T_TUPLE);
    CHECK_INT(cql_result_text(&res, 0, 0, &s), CQL_ERR_TYPE);
    CHECK_INT(cql_result_int(&res, 0, 7, (int32_t *)&b), CQL_ERR_TYPE);
    cql_result_free(&res);
}

static void rows_without_metadata(void)
{
    static const char body[] = "\x00\x00\x00\x02"
                               "\x00\x00\x00\x04"
                               "\x00\x00\x00\x01"
                               "\x00\x00\x00\x01"
                               "\x00\x00\x00\x04\x00\x00\x00\x09";
    struct cql_result res;
    int32_t i;
    int64_t v;

    CHECK_INT(cql_result_decode(&res, LIT(body)), CQL_OK);
    CHECK(res.meta.cols == NULL);
    CHECK_INT(cql_result_int(&res, 0, 0, &i), CQL_OK);
    CHECK_INT(i, 9);
    CHECK_INT(cql_result_bigint(&res, 0, 0, &v), CQL_ERR_TYPE);
    cql_result_free(&res);
}

static const char prepared_body[] = "\x00\x00\x00\x04"
                                    "\x00\x04\xde\xad\xbe\xef"
                                    "\x00\x00\x00\x01"
                                    "\x00\x00\x00\x02"
                                    "\x00\x00\x00\x01\x00\x00"
                                    "\x00\x01k\x00\x01t"
                                    "\x00\x01"
                                    "a\x00\x09"
                                    "\x00\x01"
                                    "b\x00\x0d"
                                    "\x00\x00\x00\x04"
                                    "\x00\x00\x00\x00";

static void prepared_result(void)
{
    struct cql_result res;

    CHECK_INT(cql_result_decode(&res, LIT(prepared_body)), CQL_OK);
    CHECK_INT(res.kind, CQL_RESULT_PREPARED);
    CHECK(res.id.n == 4 && memcmp(res.id.p, "\xde\xad\xbe\xef", 4) == 0);
    CHECK_INT(res.bind.ncols, 2);
    CHECK_INT(res.bind.npk, 1);
    CHECK_INT(res.bind.cols[1].type.id, CQL_T_VARCHAR);
    CHECK_INT(res.meta.ncols, 0);
    CHECK_INT(res.meta.flags, CQL_META_NO_METADATA);
    cql_result_free(&res);
}

static const char schema_change_body[] = "\x00\x00\x00\x05"
                                         "\x00\x07"
                                         "CREATED"
                                         "\x00\x05"
                                         "TABLE"
                                         "\x00\x02ks"
                                         "\x00\x08tracking";

static void void_keyspace_and_schema_change(void)
{
    struct cql_result res;

    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x01")), CQL_OK);
    CHECK_INT(res.kind, CQL_RESULT_VOID);
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x03\x00\x02ks")),
              CQL_OK);
    CHECK_INT(res.kind, CQL_RESULT_SET_KEYSPACE);
    CHECK(res.keyspace.n == 2 && memcmp(res.keyspace.p, "ks", 2) == 0);
    CHECK_INT(cql_result_decode(&res, LIT(schema_change_body)), CQL_OK);
    CHECK_INT(res.kind, CQL_RESULT_SCHEMA_CHANGE);
    CHECK(res.name.n == 8 && memcmp(res.name.p, "tracking", 8) == 0);
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x05\x00\x07"
                                          "DROPPED\x00\x08KEYSPACE\x00\x01k")),
              CQL_OK);
    CHECK_INT(res.name.n, 0);
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x06")), CQL_ERR_PROTO);
}

/* Every proper prefix of a valid message must be refused; each is copied
 * to a buffer of its exact size so that ASan catches any read past it. */
static void check_prefixes(const char *name, const uint8_t *msg, size_t n,
                           int is_error)
{
    for (size_t k = 0; k <= n; k++) {
        uint8_t *p = malloc(k ? k : 1);
        struct cql_result res;
        struct cql_error e;
        int rc;

        memcpy(p, msg, k);
        rc = is_error ? cql_error_decode(&e, p, k)
                      : cql_result_decode(&res, p, k);
        if (!is_error)
            cql_result_free(&res);
        if ((k == n) != (rc == CQL_OK)) {
            printf("  %s: prefix of %zu of %zu bytes gave %d\n", name, k, n,
                   rc);
            test_failed_checks++;
        }
        free(p);
    }
}

static void truncated_messages_refused(void)
{
    check_prefixes("rows", LIT(rows_two_cols), 0);
    check_prefixes("types", LIT(rows_types), 0);
    check_prefixes("prepared", LIT(prepared_body), 0);
    check_prefixes("schema", LIT(schema_change_body), 0);
    check_prefixes("unavailable",
                   LIT("\x00\x00\x10\x00\x00\x01x\x00\x06"
                       "\x00\x00\x00\x02\x00\x00\x00\x01"),
                   1);
    check_prefixes("unprepared",
                   LIT("\x00\x00\x25\x00\x00\x00\x00\x02\xab\xcd"), 1);
}

static void hostile_counts_refused(void)
{
    struct cql_result res;

    /* 2^31-1 rows of one column in a body of a few bytes. */
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x02\x00\x00\x00\x04"
                                          "\x00\x00\x00\x01"
                                          "\x7f\xff\xff\xff"
                                          "\x00\x00\x00\x00")),
              CQL_ERR_PROTO);
    /* 2^31-1 column specs. */
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x02\x00\x00\x00\x01"
                                          "\x7f\xff\xff\xff"
                                          "\x00\x00\x00\x00")),
              CQL_ERR_PROTO);
    /* Negative counts and lengths. */
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x02\x00\x00\x00\x04"
                                          "\xff\xff\xff\xff"
                                          "\x00\x00\x00\x00")),
              CQL_ERR_PROTO);
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x02\x00\x00\x00\x04"
                                          "\x00\x00\x00\x01"
                                          "\xff\xff\xff\xfe")),
              CQL_ERR_PROTO);
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x04\x00\x00"
                                          "\x00\x00\x00\x00"
                                          "\x00\x00\x00\x00"
                                          "\x40\x00\x00\x00")),
              CQL_ERR_PROTO);
    /* An unknown type id. */
    CHECK_INT(cql_result_decode(&res, LIT("\x00\x00\x00\x02\x00\x00\x00\x01"
                                          "\x00\x00\x00\x01\x00\x00\x00\x00"
                                          "\x00\x01"
                                          "a\x00\x0a"
                                          "\x00\x00\x00\x00")),
              CQL_ERR_PROTO);
}

static void nested_types_depth_capped(void)
{
    /* list<list<...<int>>> nested 8 deep is fine; 9 deep is refused. */
    char body[128];
    struct cql_result res;

    for (int depth = 8; depth <= 9; depth++) {
        size_t n = 0;

        memcpy(body + n,
               "\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x01"
               "\x00\x00\x00\x00\x00\x01"
               "a",
               19);
        n += 19;
        for (int i = 0; i < depth; i++, n += 2)
            memcpy(body + n, "\x00\x20", 2);
        memcpy(body + n, "\x00\x09\x00\x00\x00\x00", 6);
        n += 6;
        CHECK_INT(cql_result_decode(&res, (const uint8_t *)body, n),
                  depth == 8 ? CQL_OK : CQL_ERR_PROTO);
        cql_result_free(&res);
    }
}

/* ---- Contact points ---- */

static void contact_points_parsed(void)
{
    static const char *const good[] = {"127.0.0.1:9042",
                                       " 10.0.0.1 , 10.0.0.2:9043 ,",
                                       "[::1]:9042", "::1", "cass-1"};
    static const char *const bad[] = {"",    " , ",  "h:0",    "h:65536",
                                      "h:x", "[::1", "[::1]x", "h:"};
    char err[256];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct cql_settings st = {.contact_points = good[i]};
        struct cql_client *cl = cql_client_create(&st, err, sizeof(err));

        if (cl == NULL)
            printf("  '%s' refused: %s\n", good[i], err);
        CHECK(cl != NULL);
        cql_client_destroy(cl);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cql_settings st = {.contact_points = bad[i]};
        struct cql_client *cl = cql_client_create(&st, err, sizeof(err));

        if (cl != NULL)
            printf("  '%s' accepted\n", bad[i]);
        CHECK(cl == NULL);
        cql_client_destroy(cl);
    }
    {
        struct cql_settings st = {.keyspace = "bad\"name"};
        CHECK(cql_client_create(&st, err, sizeof(err)) == NULL);
        CHECK(strstr(err, "keyspace") != NULL);
    }
    cql_client_destroy(NULL);
    cql_conn_close(NULL);
    cql_prepared_free(NULL);
}

/* ---- Connections, against a scripted peer in a child process ---- */

struct peer {
    int lfd;
    char port[8];
    pid_t pid;
};

/* Reads one request: returns its opcode and fills stream and body (a
 * malloc'd copy, *n bytes), or -1 at end of input. */
static int peer_read(int fd, int *stream, uint8_t **body, size_t *n)
{
    uint8_t h[9];
    size_t got = 0, len;

    while (got < 9) {
        ssize_t k = read(fd, h + got, 9 - got);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    len = (size_t)h[5] << 24 | (size_t)h[6] << 16 | (size_t)h[7] << 8 | h[8];
    *body = malloc(len + 1);
    for (got = 0; got < len;) {
        ssize_t k = read(fd, *body + got, len - got);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    *stream = (int16_t)(h[2] << 8 | h[3]);
    *n = len;
    return h[0] == 0x04 ? h[4] : -1;
}

static void peer_send(int fd, int stream, uint8_t op, const void *body,
                      size_t n)
{
    uint8_t h[9] = {0x84,
                    0,
                    (uint8_t)(stream >> 8),
                    (uint8_t)stream,
                    op,
                    (uint8_t)(n >> 24),
                    (uint8_t)(n >> 16),
                    (uint8_t)(n >> 8),
                    (uint8_t)n};

    if (write(fd, h, 9) != 9 || (n && write(fd, body, n) != (ssize_t)n))
        _exit(90);
}

/* Takes the next request, which must have opcode op. */
static int peer_expect(int fd, uint8_t op, uint8_t **body, size_t *n)
{
    int stream, got = peer_read(fd, &stream, body, n);

    if (got != op) {
        fprintf(stderr, "peer: wanted opcode %d, got %d\n", op, got);
        _exit(91);
    }
    return stream;
}

/* Accepts a connection and answers its STARTUP with READY. */
static int peer_accept_ready(struct peer *p)
{
    int fd = accept(p->lfd, NULL, NULL), s;
    uint8_t *body;
    size_t n;

    if (fd < 0)
        _exit(92);
    s = peer_expect(fd, CQL_OP_STARTUP, &body, &n);
    free(body);
    peer_send(fd, s, CQL_OP_READY, NULL, 0);
    return fd;
}

static void peer_start(struct peer *p, int (*script)(struct peer *))
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(p->lfd, 4) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &len) != 0)
        abort();
    snprintf(p->port, sizeof(p->port), "%u", ntohs(a.sin_port));
    fflush(stdout);
    p->pid = fork();
    if (p->pid == 0) {
        alarm(20);
        _exit(script(p));
    }
    close(p->lfd);
}

/* The script's exit status: 0 when the peer saw what it expected. */
static int peer_finish(struct peer *p)
{
    int status = 0;

    waitpid(p->pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const struct cql_settings fast = {.connect_timeout_ms = 2000,
                                         .request_timeout_ms = 3000};

/* A rows body without metadata: one int column, one row holding v. */
static void rows_of_int(uint8_t out[24], int32_t v)
{
    memcpy(out,
           "\x00\x00\x00\x02\x00\x00\x00\x04\x00\x00\x00\x01"
           "\x00\x00\x00\x01\x00\x00\x00\x04",
           20);
    out[20] = (uint8_t)(v >> 24);
    out[21] = (uint8_t)(v >> 16);
    out[22] = (uint8_t)(v >> 8);
    out[23] = (uint8_t)v;
}

static int script_reverse_order(struct peer *p)
{
    int fd = peer_accept_ready(p), s[3];
    uint8_t *body, rows[24];
    size_t n;

    for (int i = 0; i < 3; i++) {
        s[i] = peer_expect(fd, CQL_OP_QUERY, &body, &n);
        free(body);
    }
    for (int i = 2; i >= 0; i--) {
        rows_of_int(rows, s[i]);
        peer_send(fd, s[i], CQL_OP_RESULT, rows, sizeof(rows));
    }
    return 0;
}

static void answers_matched_by_stream(void)
{
    struct peer p;
    struct cql_conn *c = NULL;
    struct cql_result res;
    char err[256];
    int s[3];
    int32_t v = -1;

    peer_start(&p, script_reverse_order);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &fast, err, sizeof(err)),
              CQL_OK);
    for (int i = 0; i < 3 && c; i++) {
        s[i] = cql_conn_send_query(c, "SELECT 1", NULL, err, sizeof(err));
        CHECK(s[i] >= 0);
    }
    for (int i = 0; i < 3 && c; i++) {
        CHECK_INT(cql_conn_wait(c, s[i], &res, err, sizeof(err)), CQL_OK);
        CHECK_INT(cql_result_int(&res, 0, 0, &v), CQL_OK);
        CHECK_INT(v, s[i]);
        cql_result_free(&res);
    }
    cql_conn_close(c);
    CHECK_INT(peer_finish(&p), 0);
}

static int script_unprepared(struct peer *p)
{
    static const char prepared[] = "\x00\x00\x00\x04\x00\x04new!"
                                   "\x00\x00\x00\x00\x00\x00\x00\x00"
                                   "\x00\x00\x00\x00"
                                   "\x00\x00\x00\x04\x00\x00\x00\x00";
    int fd = peer_accept_ready(p), s1, s2, s3;
    uint8_t *b1, *b2, *b3;
    size_t n1, n2, n3;

    s1 = peer_expect(fd, CQL_OP_EXECUTE, &b1, &n1);
    if (n1 < 4 || memcmp(b1, "\x00\x02ol", 4) != 0)
        return 1;
    peer_send(fd, s1, CQL_OP_ERROR, "\x00\x00\x25\x00\x00\x04gone\x00\x02ol",
              14);
    s2 = peer_expect(fd, CQL_OP_PREPARE, &b2, &n2);
    if (n2 != 12 || memcmp(b2 + 4, "INSERT x", 8) != 0)
        return 2;
    peer_send(fd, s2, CQL_OP_RESULT, prepared, sizeof(prepared) - 1);
    s3 = peer_expect(fd, CQL_OP_EXECUTE, &b3, &n3);
    /* Same stream, the new id, the same values after it. */
    if (s3 != s1 || n3 != n1 + 2 || memcmp(b3, "\x00\x04new!", 6) != 0 ||
        memcmp(b3 + 6, b1 + 4, n1 - 4) != 0)
        return 3;
    peer_send(fd, s3, CQL_OP_RESULT, "\x00\x00\x00\x01", 4);
    free(b1);
    free(b2);
    free(b3);
    return 0;
}

static void execute_reprepares_when_unprepared(void)
{
    struct peer p;
    struct cql_conn *c = NULL;
    struct cql_prepared *ps = calloc(1, sizeof(*ps));
    struct cql_value v = cql_value_int(77);
    struct cql_params prm = {
        .consistency = CQL_ONE, .values = &v, .nvalues = 1};
    char err[256];
    int s;

    ps->query = strdup("INSERT x");
    ps->id = (uint8_t *)strdup("ol");
    ps->idlen = 2;
    peer_start(&p, script_unprepared);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &fast, err, sizeof(err)),
              CQL_OK);
    s = c ? cql_conn_send_execute(c, ps, &prm, err, sizeof(err)) : -1;
    CHECK(s >= 0);
    if (s >= 0)
        CHECK_INT(cql_conn_wait(c, s, NULL, err, sizeof(err)), CQL_OK);
    CHECK_INT(ps->idlen, 4);
    CHECK_MEM(ps->id, "new!", 4);
    cql_conn_close(c);
    cql_prepared_free(ps);
    CHECK_INT(peer_finish(&p), 0);
}

static int script_bad_login(struct peer *p)
{
    static const char refused[] =
        "\x00\x00\x01\x00\x00\x39"
        "Provided username cassandra and/or password are incorrect";
    static const char auth[] =
        "\x00\x2f"
        "org.apache.cassandra.auth.PasswordAuthenticator";
    int fd = accept(p->lfd, NULL, NULL), s;
    uint8_t *body;
    size_t n;

    s = peer_expect(fd, CQL_OP_STARTUP, &body, &n);
    free(body);
    peer_send(fd, s, CQL_OP_AUTHENTICATE, auth, sizeof(auth) - 1);
    s = peer_expect(fd, CQL_OP_AUTH_RESPONSE, &body, &n);
    if (n != 4 + 18 || memcmp(body,
                              "\x00\x00\x00\x12\x00"
                              "cassandra\x00wrong!!",
                              22) != 0)
        return 1;
    free(body);
    peer_send(fd, s, CQL_OP_ERROR, refused, sizeof(refused) - 1);
    return 0;
}

static void bad_login_reports_server_text(void)
{
    struct cql_settings st = fast;
    struct cql_conn *c = NULL;
    struct peer p;
    char err[256];

    st.user = "cassandra";
    st.password = "wrong!!";
    peer_start(&p, script_bad_login);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &st, err, sizeof(err)),
              CQL_ERR_SERVER);
    CHECK(c == NULL);
    CHECK(strstr(err, "Provided username cassandra and/or password are "
                      "incorrect") != NULL);
    CHECK(strstr(err, "0x0100") != NULL);
    CHECK(strstr(err, "wrong!!") == NULL);
    CHECK_INT(peer_finish(&p), 0);
}

static int script_late_answer(struct peer *p)
{
    int fd = peer_accept_ready(p), s1, s2;
    uint8_t *body, rows[24];
    size_t n;

    s1 = peer_expect(fd, CQL_OP_QUERY, &body, &n);
    free(body);
    /* Answers nothing until the client, having given up, asks again. */
    s2 = peer_expect(fd, CQL_OP_QUERY, &body, &n);
    free(body);
    if (s1 == s2)
        return 1;
    rows_of_int(rows, 1);
    peer_send(fd, s1, CQL_OP_RESULT, rows, sizeof(rows));
    rows_of_int(rows, 2);
    peer_send(fd, s2, CQL_OP_RESULT, rows, sizeof(rows));
    return 0;
}

static void timeout_then_late_answer_dropped(void)
{
    struct cql_settings st = fast;
    struct cql_conn *c = NULL;
    struct cql_result res;
    struct peer p;
    char err[256];
    int32_t v = 0;
    int s;

    st.request_timeout_ms = 200;
    peer_start(&p, script_late_answer);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &st, err, sizeof(err)),
              CQL_OK);
    s = cql_conn_send_query(c, "Q1", NULL, err, sizeof(err));
    CHECK_INT(cql_conn_wait(c, s, NULL, err, sizeof(err)), CQL_ERR_TIMEOUT);
    CHECK(strstr(err, "no answer within 200 ms") != NULL);
    s = cql_conn_send_query(c, "Q2", NULL, err, sizeof(err));
    CHECK_INT(cql_conn_wait(c, s, &res, err, sizeof(err)), CQL_OK);
    CHECK_INT(cql_result_int(&res, 0, 0, &v), CQL_OK);
    CHECK_INT(v, 2);
    CHECK_INT(cql_conn_alive(c), 1);
    cql_result_free(&res);
    cql_conn_close(c);
    CHECK_INT(peer_finish(&p), 0);
}

/* Takes requests and answers none of them until the client goes away. */
static int script_silent(struct peer *p)
{
    int fd = peer_accept_ready(p), stream;
    uint8_t *body = NULL;
    size_t n;

    while (peer_read(fd, &stream, &body, &n) >= 0) {
        free(body);
        body = NULL;
    }
    free(body);
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Requests sent together time out together: each one's time runs from
 * its send, so waiting for a pipeline of them takes one time-out, not
 * one per request. */
static void pipelined_timeouts_run_from_send(void)
{
    struct cql_settings st = fast;
    struct cql_conn *c = NULL;
    struct peer p;
    char err[256];
    int s[6];
    long long t0, took;

    st.request_timeout_ms = 300;
    peer_start(&p, script_silent);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &st, err, sizeof(err)),
              CQL_OK);
    for (int i = 0; i < 6 && c; i++)
        s[i] = cql_conn_send_query(c, "Q", NULL, err, sizeof(err));
    t0 = mono_ms();
    for (int i = 0; i < 6 && c; i++)
        CHECK_INT(cql_conn_wait(c, s[i], NULL, err, sizeof(err)),
                  CQL_ERR_TIMEOUT);
    took = mono_ms() - t0;
    if (took >= 600)
        printf("  six waits took %lld ms, one time-out is 300 ms\n", took);
    CHECK(took < 600);
    cql_conn_close(c);
    CHECK_INT(peer_finish(&p), 0);
}

static int script_restart(struct peer *p)
{
    int fd = peer_accept_ready(p), s;
    uint8_t *body;
    size_t n;

    s = peer_expect(fd, CQL_OP_QUERY, &body, &n);
    free(body);
    peer_send(fd, s, CQL_OP_RESULT, "\x00\x00\x00\x01", 4);
    close(fd);                 /* the server goes away ... */
    fd = peer_accept_ready(p); /* ... and comes back */
    s = peer_expect(fd, CQL_OP_QUERY, &body, &n);
    free(body);
    peer_send(fd, s, CQL_OP_RESULT, "\x00\x00\x00\x01", 4);
    close(fd);
    return 0;
}

static void client_reconnects_after_loss(void)
{
    struct cql_settings st = fast;
    struct cql_client *cl;
    struct peer p;
    char hosts[64], err[256];

    peer_start(&p, script_restart);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s", p.port);
    st.contact_points = hosts;
    cl = cql_client_create(&st, err, sizeof(err));
    CHECK(cl != NULL);
    CHECK_INT(cql_client_query(cl, "Q", NULL, NULL, err, sizeof(err)), CQL_OK);
    CHECK_INT(cql_client_query(cl, "Q", NULL, NULL, err, sizeof(err)),
              CQL_ERR_IO);
    CHECK(strstr(err, "connection lost") != NULL);
    CHECK_INT(cql_client_query(cl, "Q", NULL, NULL, err, sizeof(err)), CQL_OK);
    cql_client_destroy(cl);
    CHECK_INT(peer_finish(&p), 0);
}

static int script_oversize(struct peer *p)
{
    int fd = peer_accept_ready(p), s;
    uint8_t *body, head[13];
    size_t n;

    s = peer_expect(fd, CQL_OP_QUERY, &body, &n);
    free(body);
    /* A header announcing 2048 bytes, and the first few of them. */
    memcpy(head, "\x84\x00\x00\x00\x08\x00\x00\x08\x00\x00\x00\x00\x01", 13);
    head[2] = (uint8_t)(s >> 8);
    head[3] = (uint8_t)s;
    if (write(fd, head, sizeof(head)) != (ssize_t)sizeof(head))
        return 1;
    return 0;
}

static void oversize_answer_refused(void)
{
    struct cql_settings st = fast;
    struct cql_conn *c = NULL;
    struct peer p;
    char err[256];
    int s;

    st.body_cap = 1024;
    peer_start(&p, script_oversize);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &st, err, sizeof(err)),
              CQL_OK);
    s = cql_conn_send_query(c, "Q", NULL, err, sizeof(err));
    CHECK_INT(cql_conn_wait(c, s, NULL, err, sizeof(err)), CQL_ERR_IO);
    CHECK(strstr(err, "over the 1024-byte cap") != NULL);
    CHECK_INT(cql_conn_alive(c), 0);
    cql_conn_close(c);
    CHECK_INT(peer_finish(&p), 0);
}

static int script_one_query(struct peer *p)
{
    int fd = peer_accept_ready(p), s;
    uint8_t *body;
    size_t n;

    s = peer_expect(fd, CQL_OP_QUERY, &body, &n);
    free(body);
    peer_send(fd, s, CQL_OP_RESULT, "\x00\x00\x00\x01", 4);
    return 0;
}

static int script_v3_server(struct peer *p)
{
    static const uint8_t v3_error[] = {0x83, 0, 0, 0, 0, 0, 0, 0, 0};
    int fd = accept(p->lfd, NULL, NULL);
    uint8_t *body;
    size_t n;

    peer_expect(fd, CQL_OP_STARTUP, &body, &n);
    free(body);
    if (write(fd, v3_error, sizeof(v3_error)) != (ssize_t)sizeof(v3_error))
        return 1;
    return 0;
}

static void older_protocol_server_named(void)
{
    struct cql_conn *c = NULL;
    struct peer p;
    char err[256];

    peer_start(&p, script_v3_server);
    CHECK_INT(cql_conn_open(&c, "127.0.0.1", p.port, &fast, err, sizeof(err)),
              CQL_ERR_IO);
    CHECK_STR(strstr(err, "speaks protocol v3, not v4") ? "found" : err,
              "found");
    CHECK_INT(peer_finish(&p), 0);
}

/* A port nobody listens on: bound, then closed. */
static void dead_port(char out[8])
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        abort();
    snprintf(out, 8, "%u", ntohs(a.sin_port));
    close(fd);
}

static void pool_skips_dead_contact_point(void)
{
    struct cql_settings st = fast;
    struct cql_client *cl;
    struct peer p;
    char dead[8], hosts[64], err[256];

    dead_port(dead);
    peer_start(&p, script_one_query);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s,127.0.0.1:%s", dead, p.port);
    st.contact_points = hosts;
    cl = cql_client_create(&st, err, sizeof(err));
    CHECK_INT(cql_client_query(cl, "Q", NULL, NULL, err, sizeof(err)), CQL_OK);
    cql_client_destroy(cl);
    CHECK_INT(peer_finish(&p), 0);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s", dead);
    cl = cql_client_create(&st, err, sizeof(err));
    CHECK_INT(cql_client_query(cl, "Q", NULL, NULL, err, sizeof(err)),
              CQL_ERR_IO);
    CHECK(strstr(err, "Connection refused") != NULL);
    cql_client_destroy(cl);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(startup_frame_bytes);
    RUN(options_frame_bytes);
    RUN(auth_response_is_sasl_plain);
    RUN(query_with_two_values);
    RUN(query_paging_serial_timestamp);
    RUN(query_without_params_is_local_quorum);
    RUN(prepare_frame_bytes);
    RUN(execute_with_null_and_unset);
    RUN(batch_unlogged_prepared);
    RUN(batch_with_query_string);
    RUN(encoder_over_cap_leaves_buffer);
    RUN(value_encodings);
    RUN(timestamp_encoding);
    RUN(decimal_encodings);
    RUN(varint_edges);
    RUN(decimal_text);
    RUN(header_decode);
    RUN(frame_with_warning_and_tracing);
    RUN(error_invalid_with_message);
    RUN(error_extra_fields);
    RUN(error_already_exists_and_unprepared);
    RUN(authenticate_and_tokens);
    RUN(supported_multimap);
    RUN(rows_with_paging_state);
    RUN(rows_every_reader);
    RUN(rows_without_metadata);
    RUN(prepared_result);
    RUN(void_keyspace_and_schema_change);
    RUN(truncated_messages_refused);
    RUN(hostile_counts_refused);
    RUN(nested_types_depth_capped);
    RUN(contact_points_parsed);
    RUN(answers_matched_by_stream);
    RUN(execute_reprepares_when_unprepared);
    RUN(bad_login_reports_server_text);
    RUN(timeout_then_late_answer_dropped);
    RUN(pipelined_timeouts_run_from_send);
    RUN(client_reconnects_after_loss);
    RUN(oversize_answer_refused);
    RUN(older_protocol_server_named);
    RUN(pool_skips_dead_contact_point);
    return TEST_DONE();
}
