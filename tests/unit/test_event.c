/* Unit tests of the raw event: every validation rule, the three input
 * forms, the normalised JSON and the real log in data/tracking.csv. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event.h"
#include "core/json.h"
#include "core/uuid.h"
#include "test.h"

#define LEN(s) (sizeof(s) - 1)
#define TS "\"ts\":\"2022-07-18 07:05:11.130\""
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* One input and the value a field must take (NULL: absent). */
struct want_field {
    const char *in;
    enum ev_field f;
    const char *want;
};

/* One input and why it must be refused. */
struct want_error {
    const char *in;
    const char *field;
    const char *reason;
};

static int parse_json(struct event *ev, const char *s, struct ev_error *err)
{
    return event_parse_json(ev, s, strlen(s), err);
}

static void check_json_fields(const struct want_field *c, size_t n)
{
    struct event ev;
    struct ev_error err = {"", ""};

    event_init(&ev);
    for (size_t i = 0; i < n; i++) {
        int rc = parse_json(&ev, c[i].in, &err);
        if (rc != 0)
            printf("  input %s: %s: %s\n", c[i].in, err.field, err.reason);
        CHECK_INT(rc, 0);
        CHECK_STR(ev.text[c[i].f], c[i].want);
    }
    event_free(&ev);
}

static void check_json_errors(const struct want_error *c, size_t n)
{
    struct event ev;
    struct ev_error err;

    event_init(&ev);
    for (size_t i = 0; i < n; i++) {
        strcpy(err.field, "?");
        strcpy(err.reason, "?");
        CHECK_INT(parse_json(&ev, c[i].in, &err), -1);
        CHECK_STR(err.field, c[i].field);
        CHECK_STR(err.reason, c[i].reason);
        CHECK(ev.text[EV_TS] == NULL && ev.text[EV_CREATE_TIME] == NULL);
    }
    event_free(&ev);
}

static void field_tables_name_and_type_every_field(void)
{
    static const struct {
        const char *name;
        enum ev_kind kind;
    } want[EV_NFIELDS] = {
        {"create_time", EVK_UUID},
        {"ts", EVK_TS},
        {"custom_track", EVK_TEXT},
        {"job_id", EVK_ID},
        {"campaign_id", EVK_ID},
        {"group_id", EVK_ID},
        {"publisher_id", EVK_ID},
        {"bid", EVK_BID},
        {"ed", EVK_TEXT},
        {"ev", EVK_INT},
        {"v", EVK_INT},
        {"cd", EVK_INT},
        {"tz", EVK_INT},
        {"uid", EVK_TEXT},
        {"dl", EVK_TEXT},
        {"dt", EVK_TEXT},
        {"rl", EVK_TEXT},
        {"de", EVK_TEXT},
        {"ua", EVK_TEXT},
        {"bn", EVK_TEXT},
        {"md", EVK_TEXT},
        {"sr", EVK_TEXT},
        {"vp", EVK_TEXT},
        {"id", EVK_TEXT},
        {"utm_source", EVK_TEXT},
        {"utm_medium", EVK_TEXT},
        {"utm_campaign", EVK_TEXT},
        {"utm_content", EVK_TEXT},
        {"utm_term", EVK_TEXT},
    };

    for (int f = 0; f < EV_NFIELDS; f++) {
        CHECK_STR(ev_field_names[f], want[f].name);
        CHECK_INT(ev_field_kinds[f], want[f].kind);
        CHECK_INT(event_field_lookup(want[f].name, strlen(want[f].name)), f);
    }
    CHECK_INT(event_field_lookup("jobid", 5), -1);
    CHECK_INT(event_field_lookup("job_id", 3), -1);
    CHECK_INT(event_field_lookup("", 0), -1);
}

static void integers_accept_integral_numbers_and_strings(void)
{
    static const struct want_field c[] = {
        {"{" TS ",\"job_id\":48}", EV_JOB_ID, "48"},
        {"{" TS ",\"job_id\":48.0}", EV_JOB_ID, "48"},
        {"{" TS ",\"job_id\":\"48\"}", EV_JOB_ID, "48"},
        {"{" TS ",\"job_id\":\"48.0\"}", EV_JOB_ID, "48"},
        {"{" TS ",\"job_id\":4.8e1}", EV_JOB_ID, "48"},
        {"{" TS ",\"job_id\":\"1e3\"}", EV_JOB_ID, "1000"},
        {"{" TS ",\"job_id\":0}", EV_JOB_ID, "0"},
        {"{" TS ",\"job_id\":-0}", EV_JOB_ID, "0"},
        {"{" TS ",\"publisher_id\":2147483647}", EV_PUBLISHER_ID, "2147483647"},
        {"{" TS ",\"tz\":-420}", EV_TZ, "-420"},
        {"{" TS ",\"tz\":\"-420\"}", EV_TZ, "-420"},
        {"{" TS ",\"tz\":-2147483648}", EV_TZ, "-2147483648"},
        {"{" TS ",\"ev\":2,\"v\":1,\"cd\":24}", EV_CD, "24"},
    };
    struct event ev;
    struct ev_error err;

    check_json_fields(c, NCASES(c));
    event_init(&ev);
    CHECK_INT(parse_json(&ev, "{" TS ",\"job_id\":\"48.0\",\"tz\":-420}", &err),
              0);
    CHECK_INT(ev.num[EV_JOB_ID], 48);
    CHECK_INT(ev.num[EV_TZ], -420);
    event_free(&ev);
}

static void integers_refuse_booleans_junk_and_out_of_range(void)
{
    static const struct want_error c[] = {
        {"{" TS ",\"job_id\":true}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":false}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":\"abc\"}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":\" 48\"}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":\"48 \"}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":\"+48\"}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":\"048\"}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":\"0x30\"}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":48.5}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":[48]}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":{}}", "job_id", "not an integer"},
        {"{" TS ",\"job_id\":-1}", "job_id", "negative"},
        {"{" TS ",\"campaign_id\":\"-5\"}", "campaign_id", "negative"},
        {"{" TS ",\"group_id\":2147483648}", "group_id",
         "outside the 32-bit range"},
        {"{" TS ",\"tz\":-2147483649}", "tz", "outside the 32-bit range"},
        {"{" TS ",\"cd\":1e10}", "cd", "outside the 32-bit range"},
        {"{" TS ",\"cd\":1e400}", "cd", "outside the 32-bit range"},
        {"{" TS ",\"v\":\"1,0\"}", "v", "not an integer"},
    };

    check_json_errors(c, NCASES(c));
}

/* Exponent forms are refused for bids: no tracker writes them for the
 * values a bid can take, and a plain decimal is always exact. */
static void bids_accept_up_to_4_decimals_exactly(void)
{
    static const struct {
        const char *in;
        const char *text;
        int64_t bid;
    } c[] = {
        {"1.4", "1.4", 14000},
        {"1.5", "1.5", 15000},
        {"\"2.5\"", "2.5", 25000},
        {"1.50", "1.5", 15000},
        {"\"1.0\"", "1", 10000},
        {"7", "7", 70000},
        {"0", "0", 0},
        {"0.0001", "0.0001", 1},
        {"1.23450", "1.2345", 12345},
        {"0.10000000", "0.1", 1000},
        {"1000000000", "1000000000", 10000000000000},
        {"1000000000.0000", "1000000000", 10000000000000},
        {"999999999.9999", "999999999.9999", 9999999999999},
    };
    struct event ev;
    struct ev_error err;
    char line[128];

    event_init(&ev);
    for (size_t i = 0; i < NCASES(c); i++) {
        snprintf(line, sizeof(line), "{" TS ",\"bid\":%s}", c[i].in);
        CHECK_INT(parse_json(&ev, line, &err), 0);
        CHECK_STR(ev.text[EV_BID], c[i].text);
        CHECK_INT(ev.bid, c[i].bid);
    }
    event_free(&ev);
}

static void bids_refuse_negative_overprecise_and_junk(void)
{
    static const struct want_error c[] = {
        {"{" TS ",\"bid\":-1}", "bid", "negative"},
        {"{" TS ",\"bid\":\"-0\"}", "bid", "negative"},
        {"{" TS ",\"bid\":1.23456}", "bid", "more than 4 decimals"},
        {"{" TS ",\"bid\":\"0.00001\"}", "bid", "more than 4 decimals"},
        {"{" TS ",\"bid\":\"NaN\"}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":\"abc\"}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":\"1.\"}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":\".5\"}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":\"1,5\"}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":true}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":[1]}", "bid", "not a decimal"},
        {"{" TS ",\"bid\":1e2}", "bid", "exponent not allowed"},
        {"{" TS ",\"bid\":\"1.5E0\"}", "bid", "exponent not allowed"},
        {"{" TS ",\"bid\":1000000000.0001}", "bid", "greater than 1e9"},
        {"{" TS ",\"bid\":10000000000}", "bid", "greater than 1e9"},
        {"{" TS ",\"bid\":123456789012345678901234}", "bid",
         "greater than 1e9"},
    };

    check_json_errors(c, NCASES(c));
}

static void ts_forms_give_canonical_utc(void)
{
    static const struct {
        const char *in;
        const char *want;
        int64_t ms;
    } c[] = {
        {"2022-07-18 07:05:11.130", "2022-07-18 07:05:11.130", 1658127911130},
        {"2022-07-18 07:05:11", "2022-07-18 07:05:11.000", 1658127911000},
        {"2022-07-18 07:05:11.1", "2022-07-18 07:05:11.100", 1658127911100},
        {"2022-07-18 07:05:11.13", "2022-07-18 07:05:11.130", 1658127911130},
        {"2022-07-18 07:05:11.130999", "2022-07-18 07:05:11.130",
         1658127911130},
        {"2022-07-18T07:05:11Z", "2022-07-18 07:05:11.000", 1658127911000},
        {"2022-07-18T07:05:11.130Z", "2022-07-18 07:05:11.130", 1658127911130},
        {"2022-07-18T14:05:11.130+07:00", "2022-07-18 07:05:11.130",
         1658127911130},
        {"2022-07-18T14:05:11.130+0700", "2022-07-18 07:05:11.130",
         1658127911130},
        {"2022-07-18T14:05:11.130+07", "2022-07-18 07:05:11.130",
         1658127911130},
        {"2022-07-18T03:05:11.5-04:00", "2022-07-18 07:05:11.500",
         1658127911500},
        {"2022-07-01T01:00:00+07:00", "2022-06-30 18:00:00.000", 1656612000000},
        {"2022-07-18T07:05:11.123456789Z", "2022-07-18 07:05:11.123",
         1658127911123},
        {"2024-02-29 12:00:00", "2024-02-29 12:00:00.000", 1709208000000},
        {"2000-02-29 00:00:00", "2000-02-29 00:00:00.000", 951782400000},
        {"2022-12-31 23:59:59.999", "2022-12-31 23:59:59.999", 1672531199999},
        {"1970-01-01 00:00:00", "1970-01-01 00:00:00.000", 0},
        {"9999-12-31 23:59:59.999", "9999-12-31 23:59:59.999", 253402300799999},
    };
    struct event ev;
    struct ev_error err;
    char line[128];

    event_init(&ev);
    for (size_t i = 0; i < NCASES(c); i++) {
        snprintf(line, sizeof(line),
                 "{\"ts\":\"%s\",\"create_time\":"
                 "\"f7346e40-0667-11ed-b05a-72ef16420234\"}",
                 c[i].in);
        CHECK_INT(parse_json(&ev, line, &err), 0);
        CHECK_STR(ev.text[EV_TS], c[i].want);
        CHECK_INT(ev.time_ms, c[i].ms);
    }
    event_free(&ev);
}

static void ts_refuses_unreal_dates_and_other_forms(void)
{
    static const struct want_error c[] = {
        {"{\"ts\":\"2022-02-30 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2023-02-29 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"1900-02-29 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-13-01 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-00-10 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-04-31 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-07-00 00:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-07-18 24:00:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-07-18 23:60:00\"}", "ts", "not a real date"},
        {"{\"ts\":\"2022-07-18 23:59:60\"}", "ts", "not a real date"},
        {"{\"ts\":\"1969-12-31 23:59:59\"}", "ts", "year outside 1970..9999"},
        {"{\"ts\":\"1970-01-01T00:30:00+01:00\"}", "ts",
         "year outside 1970..9999"},
        {"{\"ts\":\"9999-12-31T23:00:00-05:00\"}", "ts",
         "year outside 1970..9999"},
        {"{\"ts\":\"2022-07-18T07:05:11+24:00\"}", "ts",
         "bad time zone offset"},
        {"{\"ts\":\"2022-07-18T07:05:11+07:60\"}", "ts",
         "bad time zone offset"},
        {"{\"ts\":\"2022-07-18\"}", "ts", "not a time"},
        {"{\"ts\":\"2022/07/18 07:05:11\"}", "ts", "not a time"},
        {"{\"ts\":\"2022-7-18 07:05:11\"}", "ts", "not a time"},
        {"{\"ts\":\"2022-07-18 07:05:11.\"}", "ts", "not a time"},
        {"{\"ts\":\"2022-07-18 07:05:11.1234567890\"}", "ts", "not a time"},
        {"{\"ts\":\"2022-07-18 07:05:11 \"}", "ts", "not a time"},
        {"{\"ts\":\" 2022-07-18 07:05:11\"}", "ts", "not a time"},
        {"{\"ts\":\"2022-07-18T07:05:11+7\"}", "ts", "not a time"},
        {"{\"ts\":\"2022-07-18_07:05:11\"}", "ts", "not a time"},
        {"{\"ts\":1658127911130}", "ts", "not a time"},
        {"{\"ts\":true}", "ts", "not a time"},
    };

    check_json_errors(c, NCASES(c));
}

static void create_time_must_be_version_1_and_is_lowercased(void)
{
    static const struct want_field good[] = {
        {"{" TS ",\"create_time\":\"F7346E40-0667-11ED-B05A-72EF16420234\"}",
         EV_CREATE_TIME, "f7346e40-0667-11ed-b05a-72ef16420234"},
    };
    static const struct want_error bad[] = {
        {"{" TS ",\"create_time\":\"f7346e40-0667-41ed-b05a-72ef16420234\"}",
         "create_time", "not a version-1 UUID"},
        {"{" TS ",\"create_time\":\"f7346e40-0667-11ed-705a-72ef16420234\"}",
         "create_time", "not an RFC 4122 UUID"},
        {"{" TS ",\"create_time\":\"f7346e40-0667-11ed-c05a-72ef16420234\"}",
         "create_time", "not an RFC 4122 UUID"},
        {"{" TS ",\"create_time\":\"f7346e4006671 1edb05a72ef16420234\"}",
         "create_time", "not a UUID"},
        {"{" TS ",\"create_time\":\"f7346e40-0667-11ed-b05a-72ef1642023\"}",
         "create_time", "not a UUID"},
        {"{" TS ",\"create_time\":\"g7346e40-0667-11ed-b05a-72ef16420234\"}",
         "create_time", "not a UUID"},
        {"{" TS ",\"create_time\":\"{f7346e40-0667-11ed-b05a-72ef1642023}\"}",
         "create_time", "not a UUID"},
        {"{" TS ",\"create_time\":12}", "create_time", "not a UUID"},
    };

    check_json_fields(good, NCASES(good));
    check_json_errors(bad, NCASES(bad));
}

static void time_comes_from_create_time_when_ts_is_absent(void)
{
    static const char line[] =
        "{\"create_time\":\"f7346e40-0667-11ed-b05a-72ef16420234\"}";
    struct event ev;
    struct ev_error err;

    event_init(&ev);
    CHECK_INT(event_parse_json(&ev, line, LEN(line), &err), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-18 07:05:11.716");
    CHECK_INT(ev.time_ms, 1658127911716);
    CHECK_INT(event_uuid_time_ms(ev.uuid), 1658127911716);
    CHECK_INT(parse_json(&ev,
                         "{\"create_time\":\"00000000-0000-1000-8000-"
                         "000000000000\"}",
                         &err),
              -1);
    CHECK_STR(err.field, "create_time");
    CHECK_STR(err.reason, "time before 1970");
    event_free(&ev);
}

static void event_without_ts_or_create_time_is_refused(void)
{
    static const struct want_error c[] = {
        {"{}", "ts", "no ts and no create_time"},
        {"{\"job_id\":1,\"custom_track\":\"click\"}", "ts",
         "no ts and no create_time"},
        {"{\"ts\":null,\"create_time\":\"\"}", "ts",
         "no ts and no create_time"},
    };

    check_json_errors(c, NCASES(c));
}

static void missing_create_time_gets_a_version_1_uuid_of_the_event_time(void)
{
    struct event a, b;
    struct ev_error err;
    char text[37];

    event_init(&a);
    event_init(&b);
    CHECK_INT(parse_json(&a, "{" TS "}", &err), 0);
    CHECK_INT(parse_json(&b, "{" TS "}", &err), 0);
    CHECK(a.text[EV_CREATE_TIME] != NULL);
    CHECK_INT(a.len[EV_CREATE_TIME], 36);
    CHECK_INT(a.uuid[6] >> 4, 1);       /* version 1 */
    CHECK_INT(a.uuid[8] & 0xc0, 0x80);  /* RFC 4122 variant */
    CHECK_INT(a.uuid[10] & 0x01, 0x01); /* multicast: not a MAC */
    CHECK_INT(event_uuid_time_ms(a.uuid), 1658127911130);
    event_format_uuid(a.uuid, text);
    CHECK_STR(a.text[EV_CREATE_TIME], text);
    CHECK(strcmp(a.text[EV_CREATE_TIME], b.text[EV_CREATE_TIME]) != 0);
    CHECK_INT(event_uuid_time_ms(b.uuid), 1658127911130);

    CHECK_INT(parse_json(&a, "{\"ts\":\"9999-01-01 00:00:00\"}", &err), -1);
    CHECK_STR(err.field, "ts");
    CHECK_STR(err.reason, "too late for a version-1 UUID");
    event_free(&a);
    event_free(&b);
}

static void text_must_be_utf8_without_nul_and_at_most_8192_bytes(void)
{
    static const struct want_error c[] = {
        {"{" TS ",\"uid\":\"\\u0000\"}", "uid", "contains a NUL byte"},
        {"{" TS ",\"dl\":\"a\\u0000b\"}", "dl", "contains a NUL byte"},
        {"{" TS ",\"uid\":\"\xc0\xaf\"}", "uid", "invalid UTF-8"},
        {"{" TS ",\"uid\":\"\xed\xa0\x80\"}", "uid", "invalid UTF-8"},
        {"{" TS ",\"uid\":\"\xf4\x90\x80\x80\"}", "uid", "invalid UTF-8"},
        {"{" TS ",\"dt\":\"\\udc00\"}", "dt", "unpaired surrogate"},
        {"{" TS ",\"uid\":{\"a\":1}}", "uid", "an object or array is not text"},
        {"{" TS ",\"sr\":[1920,1080]}", "sr", "an object or array is not text"},
        {"{" TS ",\"ed\":{\"a\":\"\xff\"}}", "ed", "invalid UTF-8"},
    };
    struct event ev;
    struct ev_error err;
    struct buf line;

    check_json_errors(c, NCASES(c));
    event_init(&ev);
    buf_init(&line, 0);
    buf_puts(&line, "{" TS ",\"dt\":\"");
    for (int i = 0; i < EV_TEXT_MAX; i++)
        buf_putc(&line, i % 2 ? 'a' : 'b');
    buf_puts(&line, "\"}");
    CHECK_INT(event_parse_json(&ev, line.data, line.len, &err), 0);
    CHECK_INT(ev.len[EV_DT], EV_TEXT_MAX);
    buf_reset(&line);
    buf_puts(&line, "{" TS ",\"dt\":\"");
    for (int i = 0; i < EV_TEXT_MAX; i++)
        buf_putc(&line, 'a');
    buf_puts(&line, "\\u00e9\"}");
    CHECK_INT(event_parse_json(&ev, line.data, line.len, &err), -1);
    CHECK_STR(err.field, "dt");
    CHECK_STR(err.reason, "longer than 8192 bytes");
    buf_free(&line);
    event_free(&ev);
}

static void text_keeps_literals_and_ed_json_as_written(void)
{
    static const struct want_field c[] = {
        {"{" TS ",\"uid\":123}", EV_UID, "123"},
        {"{" TS ",\"uid\":1.50e3}", EV_UID, "1.50e3"},
        {"{" TS ",\"md\":true}", EV_MD, "true"},
        {"{" TS ",\"md\":false}", EV_MD, "false"},
        {"{" TS ",\"dt\":\"caf\\u00e9 \\\"x\\\"\"}", EV_DT,
         "caf\xc3\xa9 \"x\""},
        {"{" TS ",\"dt\":\" \"}", EV_DT, " "},
        {"{" TS ",\"ed\":{ \"jobId\" : 188, \"a\":[1,{}] }}", EV_ED,
         "{ \"jobId\" : 188, \"a\":[1,{}] }"},
        {"{" TS ",\"ed\":[1,2]}", EV_ED, "[1,2]"},
        {"{" TS ",\"ed\":\"{\\\"jobId\\\":\\\"188\\\"}\"}", EV_ED,
         "{\"jobId\":\"188\"}"},
        {"{" TS ",\"ed\":\"not json\"}", EV_ED, "not json"},
        {"{" TS ",\"ed\":42}", EV_ED, "42"},
    };

    check_json_fields(c, NCASES(c));
}

static void missing_null_and_empty_values_are_absent(void)
{
    static const struct want_field c[] = {
        {"{" TS "}", EV_JOB_ID, NULL},
        {"{" TS ",\"job_id\":null}", EV_JOB_ID, NULL},
        {"{" TS ",\"job_id\":\"\"}", EV_JOB_ID, NULL},
        {"{" TS ",\"bid\":\"\"}", EV_BID, NULL},
        {"{" TS ",\"uid\":\"\"}", EV_UID, NULL},
        {"{" TS ",\"ed\":null}", EV_ED, NULL},
        {"{" TS ",\"create_time\":null}", EV_TS, "2022-07-18 07:05:11.130"},
        {"{\"ts\":\"\",\"create_time\":\"f7346e40-0667-11ed-b05a-"
         "72ef16420234\"}",
         EV_TS, "2022-07-18 07:05:11.716"},
    };

    check_json_fields(c, NCASES(c));
}

static void unknown_keys_are_ignored_and_repeated_fields_refused(void)
{
    static const struct want_field good[] = {
        {"{" TS ",\"_\":123,\"job_id\":5,\"extra\":{\"job_id\":\"x\"}}",
         EV_JOB_ID, "5"},
        {"{" TS ",\"x\":1,\"x\":2,\"job_id\":6}", EV_JOB_ID, "6"},
        {"{" TS ",\"Job_Id\":\"junk\",\"job_id\":7}", EV_JOB_ID, "7"},
        {"{" TS ",\"a_key_that_is_longer_than_any_field_name\":1}", EV_JOB_ID,
         NULL},
    };
    static const struct want_error bad[] = {
        {"{" TS ",\"job_id\":1,\"job_id\":1}", "job_id", "duplicate field"},
        {"{" TS ",\"job_id\":null,\"job_id\":1}", "job_id", "duplicate field"},
        {"{" TS ",\"job_id\":1,\"job\\u005fid\":2}", "job_id",
         "duplicate field"},
        {"{" TS "," TS "}", "ts", "duplicate field"},
    };

    check_json_fields(good, NCASES(good));
    check_json_errors(bad, NCASES(bad));
}

static void lines_that_are_not_one_json_object_are_refused_whole(void)
{
    static const struct want_error c[] = {
        {"", "", "not a JSON object"},
        {"   ", "", "not a JSON object"},
        {"[]", "", "not a JSON object"},
        {"[{" TS "}]", "", "not a JSON object"},
        {"42", "", "not a JSON object"},
        {"\"x\"", "", "not a JSON object"},
        {"null", "", "not a JSON object"},
        {"garbage", "", "not a JSON object"},
        {"{" TS "} x", "", "invalid JSON: trailing data at byte 33"},
        {"{" TS "}{}", "", "invalid JSON: trailing data at byte 32"},
        {"{" TS ",}", "", "invalid JSON: expected a string key at byte 32"},
        {"{" TS, "", "invalid JSON: expected ',' or '}' at byte 31"},
        {"{\"ts\":\"2022-07-18 07:05:11\" \"a\":1}", "",
         "invalid JSON: expected ',' or '}' at byte 28"},
        {"{'ts':1}", "", "invalid JSON: expected a string key at byte 1"},
        {"{" TS ",\"job_id\":01}", "",
         "invalid JSON: expected ',' or '}' at "
         "byte 42"},
        {"{" TS ",\"x\":\"\\ud800\"}", "",
         "invalid JSON: unpaired surrogate at byte 43"},
    };

    check_json_errors(c, NCASES(c));
}

static void overlong_inputs_are_refused_before_parsing(void)
{
    size_t n = EV_LINE_MAX + 1;
    char *big = malloc(n);
    struct event ev;
    struct ev_error err;
    struct csv_header h = {1, {EV_UID}};

    memset(big, 'x', n);
    big[0] = '{';
    event_init(&ev);
    CHECK_INT(event_parse_json(&ev, big, n, &err), -1);
    CHECK_STR(err.field, "");
    CHECK_STR(err.reason, "line longer than 262144 bytes");
    CHECK_INT(event_parse_query(&ev, big, n, &err), -1);
    CHECK_STR(err.reason, "query longer than 262144 bytes");
    CHECK_INT(event_parse_csv(&ev, &h, big, n, &err), -1);
    CHECK_STR(err.reason, "record longer than 262144 bytes");
    CHECK_INT(csv_header_parse(&h, big, n, &err), -1);
    CHECK_STR(err.reason, "header longer than 262144 bytes");
    event_free(&ev);
    free(big);
}

static void query_strings_are_percent_decoded(void)
{
    static const char qs[] =
        "ts=2022-07-18+07%3A05%3A11.130&job_id=48&bid=1.4&_=1658127911"
        "&dl=http%3A%2F%2Fx.io%2Fjob%2F188%3FjobId%3D188%26p%3D1"
        "&dt=Caf%C3%a9+Portal&ed=%7B%22jobId%22%3A%22188%22%7D&uid=&&md";
    struct event ev;
    struct ev_error err;

    event_init(&ev);
    CHECK_INT(event_parse_query(&ev, qs, LEN(qs), &err), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-18 07:05:11.130");
    CHECK_STR(ev.text[EV_JOB_ID], "48");
    CHECK_INT(ev.bid, 14000);
    CHECK_STR(ev.text[EV_DL], "http://x.io/job/188?jobId=188&p=1");
    CHECK_STR(ev.text[EV_DT], "Caf\xc3\xa9 Portal");
    CHECK_STR(ev.text[EV_ED], "{\"jobId\":\"188\"}");
    CHECK(ev.text[EV_UID] == NULL);
    CHECK(ev.text[EV_MD] == NULL);
    CHECK(ev.text[EV_CREATE_TIME] != NULL);
    CHECK_INT(parse_json(&ev, "{}", &err), -1);
    CHECK_INT(
        event_parse_query(&ev, "ts=2022-07-18%2007:05:11&job%5fid=9", 35, &err),
        0);
    CHECK_STR(ev.text[EV_JOB_ID], "9");
    event_free(&ev);
}

static void query_strings_refuse_bad_escapes_and_repeats(void)
{
    static const struct want_error c[] = {
        {"ts=2022-07-18+07:05:11&dl=%zz", "dl", "invalid %-escape"},
        {"ts=2022-07-18+07:05:11&dl=abc%4", "dl", "invalid %-escape"},
        {"ts=2022-07-18+07:05:11&dl=abc%", "dl", "invalid %-escape"},
        {"ts=2022-07-18+07:05:11&d%l=x", "",
         "invalid %-escape in a parameter "
         "name"},
        {"ts=2022-07-18+07:05:11&uid=%C0%AF", "uid", "invalid UTF-8"},
        {"ts=2022-07-18+07:05:11&uid=%ED%A0%80", "uid", "invalid UTF-8"},
        {"ts=2022-07-18+07:05:11&uid=%F4%90%80%80", "uid", "invalid UTF-8"},
        {"ts=2022-07-18+07:05:11&uid=a%00b", "uid", "contains a NUL byte"},
        {"ts=2022-07-18+07:05:11&job_id=1&job_id=2", "job_id",
         "duplicate field"},
        {"ts=2022-07-18+07:05:11&job_id=true", "job_id", "not an integer"},
        {"ts=2022-07-18+07:05:11&bid=1.23456", "bid", "more than 4 decimals"},
        {"ts=2022-07-18+07:05:11&ts=2022-07-18+07:05:12", "ts",
         "duplicate field"},
        {"ts=2022-02-30+07:05:11", "ts", "not a real date"},
        {"job_id=1", "ts", "no ts and no create_time"},
        {"", "ts", "no ts and no create_time"},
    };
    struct event ev;
    struct ev_error err;

    event_init(&ev);
    for (size_t i = 0; i < NCASES(c); i++) {
        CHECK_INT(event_parse_query(&ev, c[i].in, strlen(c[i].in), &err), -1);
        CHECK_STR(err.field, c[i].field);
        CHECK_STR(err.reason, c[i].reason);
    }
    event_free(&ev);
}

static const char tracking_header[] =
    "create_time,bid,bn,campaign_id,cd,custom_track,de,dl,dt,ed,ev,group_id,"
    "id,job_id,md,publisher_id,rl,sr,ts,tz,ua,uid,utm_campaign,utm_content,"
    "utm_medium,utm_source,utm_term,v,vp\n";

static void csv_header_maps_columns_and_refuses_unknown_or_repeated(void)
{
    static const struct {
        const char *in;
        const char *reason;
    } bad[] = {
        {"ts,job_id,colour\n", "unknown column \"colour\""},
        {"ts,,job_id\n", "unknown column \"\""},
        {"ts,job_id,ts\r\n", "duplicate column \"ts\""},
        {"ts,\"job\"id\n", "header: text after a closing quote"},
        {"TS\n", "unknown column \"TS\""},
    };
    static const char bom[] = "\xef\xbb\xbfts,\"job_id\"\r\n";
    struct csv_header h;
    struct ev_error err;

    CHECK_INT(csv_header_parse(&h, tracking_header, LEN(tracking_header), &err),
              0);
    CHECK_INT(h.ncols, 29);
    CHECK_INT(h.field[0], EV_CREATE_TIME);
    CHECK_INT(h.field[18], EV_TS);
    CHECK_INT(h.field[28], EV_VP);
    CHECK_INT(csv_header_parse(&h, bom, LEN(bom), &err), 0);
    CHECK_INT(h.ncols, 2);
    CHECK_INT(h.field[1], EV_JOB_ID);
    for (size_t i = 0; i < NCASES(bad); i++) {
        CHECK_INT(csv_header_parse(&h, bad[i].in, strlen(bad[i].in), &err), -1);
        CHECK_STR(err.field, "");
        CHECK_STR(err.reason, bad[i].reason);
    }
}

static void csv_record_len_finds_the_end_of_one_record(void)
{
    static const struct {
        const char *in;
        size_t want;
    } c[] = {
        {"a,b\nc,d\n", 4},
        {"a,b\r\nc,d\r\n", 5},
        {"a,\"x\ny\",b\nnext", 10},
        {"a,\"say \"\"hi\"\"\nthere\"\n", 21},
        {"a,\"open\nstill open", 0},
        {"no line end", 0},
        {"\n", 1},
        {"", 0},
    };

    for (size_t i = 0; i < NCASES(c); i++)
        CHECK_INT(csv_record_len(c[i].in, strlen(c[i].in)), c[i].want);
}

static void csv_records_follow_rfc4180(void)
{
    static const char rec[] = "\"2022-07-18 07:05:11\",\"a,b\",\"say "
                              "\"\"hi\"\"\nthere\",,\"\",1.4\r\n";
    struct csv_header h;
    struct event ev;
    struct ev_error err;

    CHECK_INT(csv_header_parse(&h, "ts,dl,dt,uid,job_id,bid\n", 24, &err), 0);
    event_init(&ev);
    CHECK_INT(event_parse_csv(&ev, &h, rec, LEN(rec), &err), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-18 07:05:11.000");
    CHECK_STR(ev.text[EV_DL], "a,b");
    CHECK_STR(ev.text[EV_DT], "say \"hi\"\nthere");
    CHECK(ev.text[EV_UID] == NULL);
    CHECK(ev.text[EV_JOB_ID] == NULL);
    CHECK_STR(ev.text[EV_BID], "1.4");
    CHECK_INT(event_parse_csv(&ev, &h, "2022-07-18 07:05:11,,,,,", 24, &err),
              0);
    event_free(&ev);
}

static void csv_rows_that_do_not_fit_the_header_are_refused(void)
{
    static const struct want_error c[] = {
        {"2022-07-18 07:05:11,x,y\n", "", "row has 3 cells, header has 2"},
        {"2022-07-18 07:05:11\n", "", "row has 1 cells, header has 2"},
        {"\n", "", "row has 1 cells, header has 2"},
        {"2022-07-18 07:05:11,\"a\n", "dl", "unterminated quote"},
        {"2022-07-18 07:05:11,\"a\"b\n", "dl", "text after a closing quote"},
        {"2022-07-18 07:05:11,a\"b\n", "dl", "quote inside an unquoted cell"},
        {"2022-07-18 07:05:11,\xff\n", "dl", "invalid UTF-8"},
        {"2022-02-29 07:05:11,x\n", "ts", "not a real date"},
    };
    struct csv_header h;
    struct event ev;
    struct ev_error err;

    CHECK_INT(csv_header_parse(&h, "ts,dl", 5, &err), 0);
    event_init(&ev);
    for (size_t i = 0; i < NCASES(c); i++) {
        CHECK_INT(event_parse_csv(&ev, &h, c[i].in, strlen(c[i].in), &err), -1);
        CHECK_STR(err.field, c[i].field);
        CHECK_STR(err.reason, c[i].reason);
    }
    event_free(&ev);
}

static void set_text_validates_like_input(void)
{
    static const char ua[] = "Mozilla/5.0 (X11; Linux x86_64) Caf\xc3\xa9";
    static char big[EV_TEXT_MAX];
    struct event ev;
    struct ev_error err;
    char ts[24];

    event_init(&ev);
    CHECK_INT(parse_json(&ev, "{" TS ",\"uid\":\"u1\",\"ua\":\"old\"}", &err),
              0);
    CHECK_INT(event_set_text(&ev, EV_UA, ua, LEN(ua), &err), 0);
    CHECK_STR(ev.text[EV_UA], ua);
    CHECK_STR(ev.text[EV_UID], "u1");
    CHECK_INT(event_set_text(&ev, EV_UA, "bad\xc0\xaf", 5, &err), -1);
    CHECK_STR(err.field, "ua");
    CHECK_STR(err.reason, "invalid UTF-8");
    CHECK_STR(ev.text[EV_UA], ua);
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\xff'; /* refused after the store has grown */
    CHECK_INT(event_set_text(&ev, EV_DL, big, sizeof(big), &err), -1);
    CHECK_STR(err.reason, "invalid UTF-8");
    CHECK_STR(ev.text[EV_UID], "u1");
    CHECK(ev.text[EV_DL] == NULL);
    CHECK_INT(event_set_text(&ev, EV_JOB_ID, "48.0", 4, &err), 0);
    CHECK_INT(ev.num[EV_JOB_ID], 48);
    CHECK_INT(event_set_text(&ev, EV_JOB_ID, "-2", 2, &err), -1);
    CHECK_INT(ev.num[EV_JOB_ID], 48);
    CHECK_INT(event_set_text(&ev, EV_UA, "", 0, &err), 0);
    CHECK(ev.text[EV_UA] == NULL);
    CHECK_INT(event_set_text(&ev, EV_TS, "", 0, &err), 0);
    event_format_ts(event_uuid_time_ms(ev.uuid), ts);
    CHECK_STR(ev.text[EV_TS], ts);
    event_free(&ev);
}

static void to_json_writes_fields_in_order_with_typed_numbers(void)
{
    static const char in[] =
        "{\"vp\":\"1366x625\",\"tz\":\"-420\",\"ed\":{\"jobId\":\"188\"},"
        "\"bid\":\"1.50\",\"job_id\":188.0,\"md\":true,\"dt\":\"a\\\"b\\n\","
        "\"ts\":\"2022-07-18T14:05:11.130+07:00\",\"create_time\":"
        "\"F7346E40-0667-11ED-B05A-72EF16420234\"}";
    static const char want[] =
        "{\"create_time\":\"f7346e40-0667-11ed-b05a-72ef16420234\","
        "\"ts\":\"2022-07-18 07:05:11.130\",\"job_id\":188,\"bid\":1.5,"
        "\"ed\":\"{\\\"jobId\\\":\\\"188\\\"}\",\"tz\":-420,"
        "\"dt\":\"a\\\"b\\n\",\"md\":\"true\",\"vp\":\"1366x625\"}";
    struct event ev;
    struct ev_error err;
    struct buf out;

    event_init(&ev);
    buf_init(&out, 0);
    CHECK_INT(event_parse_json(&ev, in, LEN(in), &err), 0);
    CHECK_INT(event_to_json(&ev, &out), 0);
    CHECK_STR(out.data, want);
    buf_free(&out);
    buf_init(&out, 40);
    CHECK_INT(event_to_json(&ev, &out), -1);
    buf_free(&out);
    event_free(&ev);
}

/* Parses line, writes its JSON, parses that and compares. */
static int round_trips(const char *line, size_t n)
{
    struct event a, b;
    struct ev_error err;
    struct buf out;
    int ok;

    event_init(&a);
    event_init(&b);
    buf_init(&out, 0);
    ok = event_parse_json(&a, line, n, &err) == 0 &&
         event_to_json(&a, &out) == 0 &&
         event_parse_json(&b, out.data, out.len, &err) == 0 &&
         event_equal(&a, &b);
    buf_free(&out);
    event_free(&a);
    event_free(&b);
    return ok;
}

static void to_json_output_parses_back_equal(void)
{
    static const char *lines[] = {
        "{" TS "}",
        "{\"create_time\":\"f7346e40-0667-11ed-b05a-72ef16420234\"}",
        "{" TS ",\"bid\":0.0001,\"tz\":-2147483648,\"job_id\":2147483647}",
        "{" TS ",\"ed\":{\"a\":[1,2,{\"b\":\"\\u00e9\\n\"}]},\"uid\":1e400}",
        "{" TS ",\"dl\":\"\\u0001\\u001f\\t\\\\\\\"/\\ud83d\\ude00\"}",
        "{" TS ",\"md\":false,\"ed\":\"\\\"quoted\\\"\",\"de\":\" \"}",
    };
    struct event a, b;
    struct ev_error err;

    for (size_t i = 0; i < NCASES(lines); i++) {
        int ok = round_trips(lines[i], strlen(lines[i]));
        if (!ok)
            printf("  no round trip: %s\n", lines[i]);
        CHECK(ok);
    }
    event_init(&a);
    event_init(&b);
    CHECK_INT(parse_json(&a, "{" TS ",\"job_id\":1}", &err), 0);
    CHECK_INT(parse_json(&b, "{" TS ",\"job_id\":2}", &err), 0);
    memcpy(b.uuid, a.uuid, sizeof(a.uuid));
    CHECK_INT(event_equal(&a, &b), 0);
    event_free(&a);
    event_free(&b);
}

/* Real rows of data/tracking.csv, under tracking_header. */
static const char row_click_job_number[] =
    "f7346e40-0667-11ed-b05a-72ef16420234,,Chrome 103,,24,click,UTF-8,"
    "http://129.213.68.90/candidate-portal/,CandidatePortal,"
    "\"{\"\"customEvent\"\":\"\"click\"\",\"\"jobId\"\":10,"
    "\"\"publisherId\"\":0,\"\"userId\"\":78}\",2,,,,true,,,1920x1080,"
    "2022-07-18 07:05:11.130,-420,\"Mozilla/5.0 (Macintosh; Intel Mac OS X "
    "10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.0.0 "
    "Safari/537.36\",1-d605eqrr-l5m5ugxa,,,,,,1,1920x887\n";
static const char row_click_job_string[] =
    "eccd3a50-018e-11ed-a3a2-5bc13a21fb20,,Chrome 103,,24,click,UTF-8,"
    "http://localhost:4200/candidate-portal/job/191,CandidatePortal,"
    "\"{\"\"customEvent\"\":\"\"click\"\",\"\"jobId\"\":\"\"191\"\","
    "\"\"publisherId\"\":0,\"\"userId\"\":123}\",2,,,,true,,"
    "http://localhost:4200/candidate-portal/job,1920x1080,"
    "2022-07-12 03:01:28.527,-420,\"Mozilla/5.0 (Windows NT 10.0; Win64; "
    "x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.0.0 "
    "Safari/537.36\",1-rrc3k5vd-l4o0b4yy,,,,,,1,1367x929\n";
static const char row_conversion[] =
    "ed12af90-0382-11ed-8f91-ba30dffd5393,,Chrome 96,,24,conversion,UTF-8,"
    "http://150.136.2.86/candidate-portal/,CandidatePortal,"
    "\"{\"\"customEvent\"\":\"\"conversion\"\",\"\"publisherId\"\":0,"
    "\"\"userId\"\":276}\",2,,,,true,,http://150.136.2.86/candidate-portal/,"
    "1920x1080,2022-07-14 14:40:37.496,-420,\"Mozilla/5.0 (X11; Linux "
    "x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 "
    "Safari/537.36\",1-o23lt45w-l516d965,,,,,,1,1920x919\n";
static const char row_bid_2_5[] =
    "d323fe80-fda7-11ec-81ae-ed63d9ddcf77,2.5,Chrome 103,48,24,,UTF-8,"
    "http://150.230.186.232/candidate-portal/job/"
    "52fe1ea5de8f95daf32f506315eaf022fec89350?r=&param1=187&param2=1,"
    "CandidatePortal,,1,,,187,true,1,,1920x1080,2022-07-07 03:49:35.899,"
    "-420,\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/103.0.0.0 Safari/537.36\","
    "1-bekm4s4w-l5aghjrk,,,,,,1,1103x929\n";
static const char row_late[] =
    "36877190-0434-11ed-8ca4-009d906a6678,,chrome 103,,24,,utf-8,"
    "http://localhost:4400/,candidateportal,,1,,,,true,,,1536x864,"
    "2022-07-05 03:58:47.194,-420,\"mozilla/5.0 (windows nt 10.0; win64; "
    "x64) applewebkit/537.36 (khtml, like gecko) chrome/103.0.0.0 "
    "safari/537.36\",1-go8olnux-l4pv9epe,,,,,,1,1536x722\n";
static const char row_no_ts[] =
    "6b1ee7e0-02e4-11ed-ac69-8a07912bc5c8,,,,,superpixel,,,,,,,,,,,,,,,"
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:101.0) "
    "Gecko/20100101 Firefox/101.0,,,,,,,,\n";
static const char *const rows_same_second[] = {
    "a1b7eb90-0bfd-11ed-82b6-8e9248b06165,,Chrome 103,,24,alive,UTF-8,"
    "http://fe.dev.gotoro.io/candidate-portal/job/188?jobId=188&"
    "publisherId=1,CandidatePortal,\"{\"\"customEvent\"\":\"\"alive\"\","
    "\"\"jobId\"\":\"\"188\"\",\"\"publisherId\"\":\"\"1\"\","
    "\"\"stayed_alive\"\":10}\",2,,,,true,,,1366x768,"
    "2022-07-25 09:39:08.003,-420,ua,1-yh82s4al-l60jlqwa,,,,,,1,1366x568\n",
    "a1c6b8a0-0bfd-11ed-a0fd-7d994eb5c2f6,,Chrome 103,,24,alive,UTF-8,"
    "http://fe.dev.gotoro.io/candidate-portal/job/188?jobId=188&"
    "publisherId=1,CandidatePortal,\"{\"\"customEvent\"\":\"\"alive\"\","
    "\"\"jobId\"\":\"\"188\"\",\"\"publisherId\"\":\"\"1\"\","
    "\"\"stayed_alive\"\":10}\",2,,,,true,,,1366x768,"
    "2022-07-25 09:39:08.924,-420,ua,1-yh82s4al-l60jlqwa,,,,,,1,1366x568\n",
    "a1fa99e0-0bfd-11ed-946a-24282d39dce1,1,Chrome 103,48,24,click,UTF-8,"
    "http://fe.dev.gotoro.io/candidate-portal/job/"
    "3235a2389bed6cdd59ad37ff23c1b6b4fb2d1668?param1=188&param2=1,"
    "CandidatePortal,\"{\"\"customEvent\"\":\"\"click\"\",\"\"jobId\"\":"
    "\"\"188\"\",\"\"publisherId\"\":\"\"1\"\"}\",2,34,,188,true,1,,"
    "1366x768,2022-07-25 09:39:08.968,-420,ua,1-yh82s4al-l60jlqwa,,,,,,1,"
    "1366x568\n",
};

static int parse_row(struct event *ev, const char *row)
{
    struct csv_header h;
    struct ev_error err;

    if (csv_header_parse(&h, tracking_header, LEN(tracking_header), &err))
        return -1;
    if (event_parse_csv(ev, &h, row, strlen(row), &err) == 0)
        return 0;
    printf("  refused: %s: %s\n", err.field, err.reason);
    return -1;
}

static void log_ts_is_utc_and_tz_is_the_browser_offset(void)
{
    struct event ev;

    event_init(&ev);
    CHECK_INT(parse_row(&ev, row_click_job_number), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-18 07:05:11.130");
    CHECK_INT(ev.time_ms, 1658127911130);
    CHECK_STR(ev.text[EV_TZ], "-420");
    CHECK_INT(ev.num[EV_TZ], -420);
    CHECK_STR(ev.text[EV_MD], "true");
    CHECK_STR(ev.text[EV_CREATE_TIME], "f7346e40-0667-11ed-b05a-72ef16420234");
    event_free(&ev);
}

/* Reads ed.jobId the way the tally does: a number, or a string of
 * digits. */
static int64_t ed_job(const struct event *ev)
{
    enum json_type t;
    const char *v;
    size_t n;
    int64_t job = -1;

    if (json_object_get(ev->text[EV_ED], ev->len[EV_ED], "jobId", &t, &v, &n) !=
        0)
        return -1;
    if (t == JSON_STRING && n >= 2)
        json_number_integral(v + 1, n - 2, &job);
    else if (t == JSON_NUMBER)
        json_number_integral(v, n, &job);
    return job;
}

static void log_clicks_carry_the_job_only_in_ed_kept_byte_exact(void)
{
    struct event ev;

    event_init(&ev);
    CHECK_INT(parse_row(&ev, row_click_job_number), 0);
    CHECK(ev.text[EV_JOB_ID] == NULL);
    CHECK_STR(ev.text[EV_ED], "{\"customEvent\":\"click\",\"jobId\":10,"
                              "\"publisherId\":0,\"userId\":78}");
    CHECK_INT(ed_job(&ev), 10);
    CHECK_INT(parse_row(&ev, row_click_job_string), 0);
    CHECK(ev.text[EV_JOB_ID] == NULL);
    CHECK_STR(ev.text[EV_ED], "{\"customEvent\":\"click\",\"jobId\":\"191\","
                              "\"publisherId\":0,\"userId\":123}");
    CHECK_INT(ed_job(&ev), 191);
    event_free(&ev);
}

static void log_conversions_mostly_carry_no_job(void)
{
    struct event ev;

    event_init(&ev);
    CHECK_INT(parse_row(&ev, row_conversion), 0);
    CHECK_STR(ev.text[EV_CUSTOM_TRACK], "conversion");
    CHECK(ev.text[EV_JOB_ID] == NULL);
    CHECK_INT(ed_job(&ev), -1);
    event_free(&ev);
}

static void log_fractional_bids_are_exact(void)
{
    static const char *const bids[] = {"1.4", "1.5", "2.5"};
    static const int64_t want[] = {14000, 15000, 25000};
    struct event ev;
    char row[sizeof(row_bid_2_5)];

    event_init(&ev);
    for (size_t i = 0; i < NCASES(bids); i++) {
        /* the row with its bid cell ("2.5", at byte 37) replaced */
        memcpy(row, row_bid_2_5, sizeof(row));
        memcpy(row + 37, bids[i], 3);
        CHECK_INT(parse_row(&ev, row), 0);
        CHECK_STR(ev.text[EV_BID], bids[i]);
        CHECK_INT(ev.bid, want[i]);
        CHECK_STR(ev.text[EV_JOB_ID], "187");
        CHECK_STR(ev.text[EV_CAMPAIGN_ID], "48");
        CHECK_STR(ev.text[EV_PUBLISHER_ID], "1");
    }
    event_free(&ev);
}

static void log_late_event_keeps_its_own_ts(void)
{
    struct event ev;

    event_init(&ev);
    CHECK_INT(parse_row(&ev, row_late), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-05 03:58:47.194");
    CHECK_INT(event_uuid_time_ms(ev.uuid), 1657885781801); /* 10 days on */
    CHECK(event_uuid_time_ms(ev.uuid) - ev.time_ms > 10LL * 86400000);
    CHECK_INT(parse_row(&ev, row_no_ts), 0);
    CHECK_STR(ev.text[EV_TS], "2022-07-13 19:45:59.134");
    CHECK_STR(ev.text[EV_CUSTOM_TRACK], "superpixel");
    event_free(&ev);
}

static void log_same_second_events_stay_distinct(void)
{
    struct event ev[3];

    for (int i = 0; i < 3; i++) {
        event_init(&ev[i]);
        CHECK_INT(parse_row(&ev[i], rows_same_second[i]), 0);
        CHECK_INT(ev[i].time_ms / 1000, 1658741948);
    }
    CHECK(strcmp(ev[0].text[EV_CREATE_TIME], ev[1].text[EV_CREATE_TIME]));
    CHECK(strcmp(ev[1].text[EV_CREATE_TIME], ev[2].text[EV_CREATE_TIME]));
    CHECK(strcmp(ev[0].text[EV_CREATE_TIME], ev[2].text[EV_CREATE_TIME]));
    CHECK(!event_equal(&ev[0], &ev[1]));
    CHECK_STR(ev[2].text[EV_CUSTOM_TRACK], "click");
    CHECK_INT(ev[2].bid, 10000);
    for (int i = 0; i < 3; i++)
        event_free(&ev[i]);
}

/* Reads a whole file into out. Returns 0 or -1. */
static int read_file(const char *path, struct buf *out)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = 0;

    if (fp == NULL)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_append(out, chunk, n) != 0)
            rc = -1;
    if (ferror(fp))
        rc = -1;
    fclose(fp);
    return rc;
}

/* Writes ev as JSON, parses that back and compares. */
static int reparses_equal(const struct event *ev, struct buf *tmp)
{
    struct event back;
    struct ev_error err;
    int ok;

    event_init(&back);
    buf_reset(tmp);
    ok = event_to_json(ev, tmp) == 0 &&
         event_parse_json(&back, tmp->data, tmp->len, &err) == 0 &&
         event_equal(ev, &back);
    event_free(&back);
    return ok;
}

static void whole_tracking_log_is_accepted_and_round_trips(void)
{
    struct buf file, tmp;
    struct csv_header h;
    struct event ev;
    struct ev_error err;
    size_t pos, len, hlen;
    int accepted = 0, rejected = 0, trips = 0;

    buf_init(&file, 0);
    buf_init(&tmp, 0);
    event_init(&ev);
    CHECK_INT(read_file("data/tracking.csv", &file), 0);
    hlen = csv_record_len(file.data, file.len);
    CHECK_INT(csv_header_parse(&h, file.data, hlen, &err), 0);
    for (pos = hlen; pos < file.len; pos += len) {
        len = csv_record_len(file.data + pos, file.len - pos);
        if (len == 0)
            len = file.len - pos; /* a last record without a line end */
        if (event_parse_csv(&ev, &h, file.data + pos, len, &err) != 0) {
            printf("  byte %zu refused: %s: %s\n", pos, err.field, err.reason);
            rejected++;
            continue;
        }
        accepted++;
        trips += reparses_equal(&ev, &tmp);
    }
    printf("  tracking.csv: %d accepted, %d rejected, %d round trips\n",
           accepted, rejected, trips);
    CHECK_INT(accepted, 6662);
    CHECK_INT(rejected, 0);
    CHECK_INT(trips, 6662);
    event_free(&ev);
    buf_free(&tmp);
    buf_free(&file);
}

static int uuid_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Many ids of one millisecond, then a forked child's next id: all
 * distinct, so the buffered randomness is never handed out twice. */
static void generated_uuids_are_distinct_across_a_fork(void)
{
    enum { N = 5000 };
    static uint8_t ids[N + 1][16];
    int fds[2], status = -1;
    pid_t pid;

    for (int i = 0; i < N; i++)
        CHECK_INT(uuid_make_v1(1658127911130, ids[i]), 0);
    CHECK_INT(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        uint8_t u[16];
        int ok =
            uuid_make_v1(1658127911130, u) == 0 && write(fds[1], u, 16) == 16;
        _exit(ok ? 0 : 1);
    }
    CHECK_INT(uuid_make_v1(1658127911130, ids[N - 1]), 0); /* parent's */
    CHECK_INT(read(fds[0], ids[N], 16), 16);               /* child's */
    waitpid(pid, &status, 0);
    CHECK_INT(status, 0);
    close(fds[0]);
    close(fds[1]);
    qsort(ids, N + 1, 16, uuid_cmp);
    for (int i = 1; i <= N; i++)
        if (memcmp(ids[i - 1], ids[i], 16) == 0) {
            CHECK(!"two generated ids are equal");
            break;
        }
}

int main(void)
{
    RUN(field_tables_name_and_type_every_field);
    RUN(generated_uuids_are_distinct_across_a_fork);
    RUN(integers_accept_integral_numbers_and_strings);
    RUN(integers_refuse_booleans_junk_and_out_of_range);
    RUN(bids_accept_up_to_4_decimals_exactly);
    RUN(bids_refuse_negative_overprecise_and_junk);
    RUN(ts_forms_give_canonical_utc);
    RUN(ts_refuses_unreal_dates_and_other_forms);
    RUN(create_time_must_be_version_1_and_is_lowercased);
    RUN(time_comes_from_create_time_when_ts_is_absent);
    RUN(event_without_ts_or_create_time_is_refused);
    RUN(missing_create_time_gets_a_version_1_uuid_of_the_event_time);
    RUN(text_must_be_utf8_without_nul_and_at_most_8192_bytes);
    RUN(text_keeps_literals_and_ed_json_as_written);
    RUN(missing_null_and_empty_values_are_absent);
    RUN(unknown_keys_are_ignored_and_repeated_fields_refused);
    RUN(lines_that_are_not_one_json_object_are_refused_whole);
    RUN(overlong_inputs_are_refused_before_parsing);
    RUN(query_strings_are_percent_decoded);
    RUN(query_strings_refuse_bad_escapes_and_repeats);
    RUN(csv_header_maps_columns_and_refuses_unknown_or_repeated);
    RUN(csv_record_len_finds_the_end_of_one_record);
    RUN(csv_records_follow_rfc4180);
    RUN(csv_rows_that_do_not_fit_the_header_are_refused);
    RUN(set_text_validates_like_input);
    RUN(to_json_writes_fields_in_order_with_typed_numbers);
    RUN(to_json_output_parses_back_equal);
    RUN(log_ts_is_utc_and_tz_is_the_browser_offset);
    RUN(log_clicks_carry_the_job_only_in_ed_kept_byte_exact);
    RUN(log_conversions_mostly_carry_no_job);
    RUN(log_fractional_bids_are_exact);
    RUN(log_late_event_keeps_its_own_ts);
    RUN(log_same_second_events_stay_distinct);
    RUN(whole_tracking_log_is_accepted_and_round_trips);
    return TEST_DONE();
}
