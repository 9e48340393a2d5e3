/* Unit tests of the JSON reader and the UTF-8 helpers (src/core). */
#include <stdint.h>
#include <string.h>

#include "core/json.h"
#include "core/utf8.h"
#include "test.h"

#define LEN(s) (sizeof(s) - 1)

/* A JSON text with an explicit length, so it may hold NUL bytes. */
struct text {
    const char *s;
    size_t n;
};

#define T(lit)                                                                 \
    {                                                                          \
        lit, LEN(lit)                                                          \
    }

static void validate_accepts_rfc8259_values(void)
{
    static const struct text good[] = {
        T("{}"),
        T("[]"),
        T(" 1 "),
        T("\t\r\n\"a\"\n"),
        T("true"),
        T("false"),
        T("null"),
        T("-0"),
        T("-0.5e+10"),
        T("1E-3"),
        T("12345678901234567890123"),
        T("{\"a\":[1,2,{\"b\":null}],\"c\":\"\"}"),
        T("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\""),
        T("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
        T("\"\\u0000\""),
        T("{\"a\":1,\"a\":2}"),
    };
    char why[80];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int rc = json_validate(good[i].s, good[i].n, why, sizeof(why));
        if (rc != 0)
            printf("  case %zu: %s: %s\n", i, good[i].s, why);
        CHECK_INT(rc, 0);
    }
}

static void validate_refuses_malformed_values(void)
{
    static const struct {
        struct text in;
        const char *why;
    } bad[] = {
        {T(""), "unexpected end at byte 0"},
        {T("   "), "unexpected end at byte 3"},
        {T("{"), "expected a string key at byte 1"},
        {T("{\"a\":1,}"), "expected a string key at byte 7"},
        {T("[1,]"), "expected a value at byte 3"},
        {T("{\"a\" 1}"), "expected ':' at byte 5"},
        {T("{1:2}"), "expected a string key at byte 1"},
        {T("{\"a\":1 \"b\":2}"), "expected ',' or '}' at byte 7"},
        {T("[1 2]"), "expected ',' or ']' at byte 3"},
        {T("01"), "trailing data at byte 1"},
        {T("1."), "expected a value at byte 0"},
        {T(".5"), "expected a value at byte 0"},
        {T("+1"), "expected a value at byte 0"},
        {T("1e"), "expected a value at byte 0"},
        {T("NaN"), "expected a value at byte 0"},
        {T("Infinity"), "expected a value at byte 0"},
        {T("'a'"), "expected a value at byte 0"},
        {T("tru"), "bad literal at byte 0"},
        {T("nul"), "bad literal at byte 0"},
        {T("1 2"), "trailing data at byte 2"},
        {T("{} x"), "trailing data at byte 3"},
        {T("\"abc"), "unterminated string at byte 4"},
        {T("\"a\x01\""), "control character in string at byte 2"},
        {T("\"a\nb\""), "control character in string at byte 2"},
        {T("\"\\x\""), "bad escape at byte 2"},
        {T("\"\\u12\""), "bad \\u escape at byte 3"},
        {T("\"\\ud800\""), "unpaired surrogate at byte 7"},
        {T("\"\\udc00\""), "unpaired surrogate at byte 7"},
        {T("\"\\ud800\\u0041\""), "unpaired surrogate at byte 13"},
        {T("\"\xc0\xaf\""), "invalid UTF-8 at byte 1"},
        {T("\"\xed\xa0\x80\""), "invalid UTF-8 at byte 1"},
        {T("\"\xf4\x90\x80\x80\""), "invalid UTF-8 at byte 1"},
        {T("\"\xe2\x82\""), "invalid UTF-8 at byte 1"},
        {T("\"\xff\""), "invalid UTF-8 at byte 1"},
        {T("\"a\0b\""), "control character in string at byte 2"},
    };
    char why[80];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(json_validate(bad[i].in.s, bad[i].in.n, why, sizeof(why)),
                  -1);
        CHECK_STR(why, bad[i].why);
    }
}

/* Builds `depth` nested arrays around 0 into out. */
static size_t nested(char *out, int depth)
{
    size_t n = 0;

    for (int i = 0; i < depth; i++)
        out[n++] = '[';
    out[n++] = '0';
    for (int i = 0; i < depth; i++)
        out[n++] = ']';
    return n;
}

static void validate_caps_nesting_at_32(void)
{
    char s[200], why[80];
    size_t n;

    n = nested(s, JSON_DEPTH_MAX);
    CHECK_INT(json_validate(s, n, why, sizeof(why)), 0);
    n = nested(s, JSON_DEPTH_MAX + 1);
    CHECK_INT(json_validate(s, n, why, sizeof(why)), -1);
    CHECK_STR(why, "nesting deeper than 32 at byte 32");
    n = nested(s, 90);
    CHECK_INT(json_validate(s, n, NULL, 0), -1);
}

static void object_get_finds_top_level_members(void)
{
    static const char obj[] = " {\"customEvent\":\"click\",\"jobId\":\"188\","
                              "\"publisherId\":1,\"x\":{\"deep\":7},"
                              "\"job\\u0049d2\":[1, 2],\"n\":null,"
                              "\"jobId\":9} ";
    enum json_type t = JSON_NULL;
    const char *v = NULL;
    size_t vlen = 0;

    CHECK_INT(json_object_get(obj, LEN(obj), "jobId", &t, &v, &vlen), 0);
    CHECK_INT(t, JSON_STRING);
    CHECK_INT(vlen, 5);
    CHECK_MEM(v, "\"188\"", 5);
    CHECK_INT(json_object_get(obj, LEN(obj), "publisherId", &t, &v, &vlen), 0);
    CHECK_INT(t, JSON_NUMBER);
    CHECK_INT(vlen, 1);
    CHECK_MEM(v, "1", 1);
    CHECK_INT(json_object_get(obj, LEN(obj), "x", &t, &v, &vlen), 0);
    CHECK_INT(t, JSON_OBJECT);
    CHECK_INT(vlen, 10);
    CHECK_INT(json_object_get(obj, LEN(obj), "jobId2", &t, &v, &vlen), 0);
    CHECK_INT(t, JSON_ARRAY);
    CHECK_MEM(v, "[1, 2]", 6);
    CHECK_INT(json_object_get(obj, LEN(obj), "n", &t, &v, &vlen), 0);
    CHECK_INT(t, JSON_NULL);
}

static void object_get_tells_absent_from_invalid(void)
{
    static const struct {
        struct text in;
        int rc;
    } cases[] = {
        {T("{\"x\":{\"deep\":7}}"), 1}, /* only top-level keys count */
        {T("{\"jobid\":1}"), 1},        /* keys are case-sensitive */
        {T("{}"), 1},
        {T("[\"deep\"]"), -1},
        {T("\"deep\""), -1},
        {T("{\"deep\":1"), -1},
        {T("{\"deep\":1} x"), -1},
        {T("{\"deep\":1,\"b\":\"\xff\"}"), -1},
        {T(""), -1},
    };
    enum json_type t = JSON_TRUE;
    const char *v = "untouched";
    size_t vlen = 9;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_INT(json_object_get(cases[i].in.s, cases[i].in.n, "deep", &t, &v,
                                  &vlen),
                  cases[i].rc);
    CHECK_INT(t, JSON_TRUE);
    CHECK_STR(v, "untouched");
}

static void iterator_walks_members_in_order(void)
{
    static const char obj[] = "{\"a\" : 1 , \"b\":\"x\",\"c\":[true]}\n";
    static const char *keys[] = {"\"a\"", "\"b\"", "\"c\""};
    static const char *vals[] = {"1", "\"x\"", "[true]"};
    static const enum json_type types[] = {JSON_NUMBER, JSON_STRING,
                                           JSON_ARRAY};
    struct json_iter it;
    struct json_member m;
    int k = 0, rc;

    json_iter_init(&it, obj, LEN(obj));
    while ((rc = json_iter_next(&it, &m)) == 1 && k < 3) {
        CHECK_INT(m.klen, strlen(keys[k]));
        CHECK_MEM(m.key, keys[k], m.klen);
        CHECK_INT(m.vlen, strlen(vals[k]));
        CHECK_MEM(m.val, vals[k], m.vlen);
        CHECK_INT(m.type, types[k]);
        k++;
    }
    CHECK_INT(rc, 0);
    CHECK_INT(k, 3);
    CHECK_INT(json_iter_next(&it, &m), 0);
}

static void iterator_names_the_key_of_a_bad_value(void)
{
    static const char obj[] = "{\"a\":1,\"uid\":\"\\ud800\",\"z\":2}";
    struct json_iter it;
    struct json_member m;

    json_iter_init(&it, obj, LEN(obj));
    CHECK_INT(json_iter_next(&it, &m), 1);
    CHECK_INT(json_iter_next(&it, &m), -1);
    CHECK(m.key != NULL && m.klen == 5 && memcmp(m.key, "\"uid\"", 5) == 0);
    CHECK_STR(it.why, "unpaired surrogate");
    CHECK_INT(it.at, 20);
    CHECK_INT(json_iter_next(&it, &m), -1);

    json_iter_init(&it, "{\"a\":1} [", 9);
    CHECK_INT(json_iter_next(&it, &m), 1);
    CHECK_INT(json_iter_next(&it, &m), -1);
    CHECK(m.key == NULL);
    CHECK_STR(it.why, "trailing data");

    json_iter_init(&it, "[1]", 3);
    CHECK_INT(json_iter_next(&it, &m), -1);
    CHECK_STR(it.why, "not a JSON object");
}

static void string_decode_resolves_escapes(void)
{
    static const struct {
        struct text raw;
        struct text want;
    } cases[] = {
        {T("\"\""), T("")},
        {T("\"plain\""), T("plain")},
        {T("\"a\\\"b\\\\c\\/d\""), T("a\"b\\c/d")},
        {T("\"\\b\\f\\n\\r\\t\""), T("\b\f\n\r\t")},
        {T("\"\\u00e9\\u20AC\""), T("\xc3\xa9\xe2\x82\xac")},
        {T("\"\\ud83d\\ude00\""), T("\xf0\x9f\x98\x80")},
        {T("\"x\\u0000y\""), T("x\0y")},
        {T("\"caf\xc3\xa9\""), T("caf\xc3\xa9")},
        {T("\"{\\\"jobId\\\":\\\"188\\\"}\""), T("{\"jobId\":\"188\"}")},
    };
    struct buf out;

    buf_init(&out, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&out);
        buf_puts(&out, ">");
        CHECK_INT(json_string_decode(cases[i].raw.s, cases[i].raw.n, &out), 0);
        CHECK_INT(out.len, cases[i].want.n + 1);
        CHECK_MEM(out.data + 1, cases[i].want.s, cases[i].want.n);
    }
    buf_free(&out);
}

static void string_decode_refuses_bad_literals(void)
{
    static const struct text bad[] = {
        T("plain"),       T("\"open"),       T("\"a\"b\""), T("\"\\q\""),
        T("\"\\udc00\""), T("\"\xc3\x28\""), T("\""),       T("\"a\tb\""),
    };
    struct buf out;

    buf_init(&out, 0);
    buf_puts(&out, "keep");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(json_string_decode(bad[i].s, bad[i].n, &out), -1);
        CHECK_STR(out.data, "keep");
    }
    buf_free(&out);

    buf_init(&out, 4);
    CHECK_INT(json_string_decode("\"abcdef\"", 8, &out), -1);
    CHECK_INT(out.len, 0);
    buf_free(&out);
}

static void key_decode_fits_or_fails(void)
{
    char out[8];

    CHECK_INT(json_key_decode("\"job_id\"", 8, out, sizeof(out)), 6);
    CHECK_STR(out, "job_id");
    CHECK_INT(json_key_decode("\"j\\u006fb\"", 10, out, sizeof(out)), 3);
    CHECK_STR(out, "job");
    CHECK_INT(json_key_decode("\"1234567\"", 9, out, sizeof(out)), 7);
    CHECK_INT(json_key_decode("\"12345678\"", 10, out, sizeof(out)), -1);
    CHECK_INT(json_key_decode("\"ab\" ", 5, out, sizeof(out)), -1);
    CHECK_INT(json_key_decode("ab", 2, out, sizeof(out)), -1);
}

static void number_integral_is_exact(void)
{
    static const struct {
        const char *in;
        int rc;
        int64_t want;
    } cases[] = {
        {"48", 0, 48},
        {"48.0", 0, 48},
        {"48.000000000000000000000", 0, 48},
        {"-3", 0, -3},
        {"4.8e1", 0, 48},
        {"480e-1", 0, 48},
        {"0.48E2", 0, 48},
        {"0", 0, 0},
        {"-0", 0, 0},
        {"0.0e-999999999", 0, 0},
        {"1e0", 0, 1},
        {"1.5e1", 0, 15},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"922337203685477580.7e1", 0, INT64_MAX},
        {"48.5", -1, 0},
        {"48.0000000000000000001", -1, 0},
        {"12e-1", -1, 0},
        {"1e-1", -1, 0},
        {"9223372036854775808", -2, 0},
        {"-9223372036854775809", -2, 0},
        {"1e19", -2, 0},
        {"1e999999999999", -2, 0},
        {"abc", -1, 0},
        {"", -1, 0},
        {" 48", -1, 0},
        {"48 ", -1, 0},
        {"+48", -1, 0},
        {"048", -1, 0},
        {"true", -1, 0},
        {"\"48\"", -1, 0},
        {"0x30", -1, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 0;
        const char *s = cases[i].in;
        int rc = json_number_int64(s, strlen(s), &v);
        if (rc != cases[i].rc)
            printf("  case \"%s\"\n", s);
        CHECK_INT(rc, cases[i].rc);
        if (rc == 0)
            CHECK_INT(v, cases[i].want);
        CHECK_INT(json_number_integral(s, strlen(s), &v),
                  cases[i].rc == 0 ? 0 : -1);
    }
}

static void utf8_refuses_overlongs_surrogates_and_beyond(void)
{
    static const struct {
        struct text in;
        int valid;
    } cases[] = {
        {T("ascii"), 1},
        {T("\xc2\x80"), 1},
        {T("\xdf\xbf"), 1},
        {T("\xe0\xa0\x80"), 1},
        {T("\xed\x9f\xbf"), 1},
        {T("\xee\x80\x80"), 1},
        {T("\xf0\x90\x80\x80"), 1},
        {T("\xf4\x8f\xbf\xbf"), 1},
        {T("\xc0\x80"), 0},
        {T("\xc1\xbf"), 0},
        {T("\xe0\x9f\xbf"), 0},
        {T("\xf0\x8f\xbf\xbf"), 0},
        {T("\xed\xa0\x80"), 0},
        {T("\xed\xbf\xbf"), 0},
        {T("\xf4\x90\x80\x80"), 0},
        {T("\xf8\x88\x80\x80\x80"), 0},
        {T("\x80"), 0},
        {T("\xc3"), 0},
        {T("\xe2\x82"), 0},
        {T("a\xc3(b"), 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_INT(utf8_valid(cases[i].in.s, cases[i].in.n), cases[i].valid);
}

static void utf8_encode_and_decode_agree(void)
{
    static const uint32_t cps[] = {0,      0x7f,   0x80,   0x7ff,   0x800,
                                   0xd7ff, 0xe000, 0xfffd, 0x10000, 0x10ffff};
    char out[4];

    for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
        uint32_t back = 0xffffffff;
        size_t len = utf8_encode(cps[i], out);
        CHECK_INT(utf8_decode(out, len, &back), len);
        CHECK_INT(back, cps[i]);
        CHECK_INT(utf8_decode(out, len - 1, &back), 0);
    }
}

int main(void)
{
    RUN(validate_accepts_rfc8259_values);
    RUN(validate_refuses_malformed_values);
    RUN(validate_caps_nesting_at_32);
    RUN(object_get_finds_top_level_members);
    RUN(object_get_tells_absent_from_invalid);
    RUN(iterator_walks_members_in_order);
    RUN(iterator_names_the_key_of_a_bad_value);
    RUN(string_decode_resolves_escapes);
    RUN(string_decode_refuses_bad_literals);
    RUN(key_decode_fits_or_fails);
    RUN(number_integral_is_exact);
    RUN(utf8_refuses_overlongs_surrogates_and_beyond);
    RUN(utf8_encode_and_decode_agree);
    return TEST_DONE();
}
