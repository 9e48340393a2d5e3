/* Unit tests of `adtally serve`'s request checks: parameters, hours,
 * ranges and static paths. */
#include <stdint.h>
#include <string.h>

#include "role/serve.h"
#include "test.h"

static const struct serve_caps caps = {31 * 24, 100};

static int parse(const char *q, unsigned accept, struct serve_query *sq,
                 char *err, size_t errlen)
{
    err[0] = '\0';
    return serve_query_parse(q, strlen(q), accept, &caps, sq, err, errlen);
}

static void hour_parse_accepts_real_hours_only(void)
{
    int64_t h = -1;
    char out[14];

    CHECK_INT(serve_hour_parse("1970-01-01T00", 13, &h), 0);
    CHECK_INT(h, 0);
    CHECK_INT(serve_hour_parse("2022-07-20T13", 13, &h), 0);
    serve_hour_format(h, out);
    CHECK_STR(out, "2022-07-20T13");
    CHECK_INT(serve_hour_parse("2024-02-29T23", 13, &h), 0);
    CHECK_INT(serve_hour_parse("2023-02-29T00", 13, &h), -1);
    CHECK_INT(serve_hour_parse("2022-02-30T00", 13, &h), -1);
    CHECK_INT(serve_hour_parse("2022-04-31T00", 13, &h), -1);
    CHECK_INT(serve_hour_parse("2022-13-01T00", 13, &h), -1);
    CHECK_INT(serve_hour_parse("2022-07-20T24", 13, &h), -1);
    CHECK_INT(serve_hour_parse("1969-12-31T23", 13, &h), -1);
    CHECK_INT(serve_hour_parse("2022-07-20 13", 13, &h), -1);
    CHECK_INT(serve_hour_parse("2022-07-20T1", 12, &h), -1);
    CHECK_INT(serve_hour_parse("2022-07-20T13:00", 16, &h), -1);
    CHECK_INT(serve_hour_parse("+022-07-20T13", 13, &h), -1);
}

static void query_defaults_and_values(void)
{
    struct serve_query sq;
    char err[256];

    CHECK_INT(serve_query_parse(NULL, 0, SQ_RANGE | SQ_TOP, &caps, &sq, err,
                                sizeof(err)),
              0);
    CHECK_INT(sq.has_from + sq.has_to, 0);
    CHECK_INT(sq.filter[SF_CAMPAIGN], -1);
    CHECK_INT(sq.limit, 10);
    CHECK_INT(sq.by, SB_SPEND);
    CHECK_INT(sq.dim, SD_JOB);
    CHECK_INT(parse("from=2022-07-20T00&to=2022-07-20T05&campaign=48"
                    "&company=&job=0&by=clicks&dim=publisher&limit=100",
                    SQ_RANGE | SQ_TOP, &sq, err, sizeof(err)),
              0);
    CHECK_STR(err, "");
    CHECK_INT(sq.to_h - sq.from_h, 5);
    CHECK_INT(sq.filter[SF_CAMPAIGN], 48);
    CHECK_INT(sq.filter[SF_COMPANY], -1);
    CHECK_INT(sq.filter[SF_JOB], 0);
    CHECK_INT(sq.by, SB_CLICKS);
    CHECK_INT(sq.dim, SD_PUBLISHER);
    CHECK_INT(sq.limit, 100);
    CHECK_INT(parse("from=2022-07-20T00&&", SQ_RANGE, &sq, err, sizeof(err)),
              0);
    CHECK_INT(parse("campaign=%34%38", SQ_RANGE, &sq, err, sizeof(err)), 0);
    CHECK_INT(sq.filter[SF_CAMPAIGN], 48);
}

static void query_refuses_bad_parameters(void)
{
    static const struct {
        const char *q;
        const char *msg;
    } cases[] = {
        {"foo=1", "unknown parameter 'foo'"},
        {"limit=5", "unknown parameter 'limit'"}, /* not for /api/kpis */
        {"campaign=1&campaign=2", "parameter 'campaign' given twice"},
        {"campaign=1%20OR%201=1",
         "campaign: an id, a whole number from 0 to 2147483647"},
        {"campaign=1;DROP%20TABLE%20events",
         "campaign: an id, a whole number from 0 to 2147483647"},
        {"job=-1", "job: an id, a whole number from 0 to 2147483647"},
        {"job=2147483648", "job: an id, a whole number from 0 to 2147483647"},
        {"job=1.5", "job: an id, a whole number from 0 to 2147483647"},
        {"from=2022-07-20", "from: an hour YYYY-MM-DDTHH (a real date, 1970 "
                            "or later)"},
        {"to=2022-07-20T13'--", "to: an hour YYYY-MM-DDTHH (a real date, "
                                "1970 or later)"},
        {"from=%zz", "from: bad percent-encoding"},
        {"from=2022%00", "from: bad percent-encoding"},
        {"x%27%20OR%201=1=2", "unknown parameter"},
    };
    struct serve_query sq;
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(parse(cases[i].q, SQ_RANGE, &sq, err, sizeof(err)), -1);
        CHECK_STR(err, cases[i].msg);
    }
    CHECK_INT(parse("limit=0", SQ_TOP, &sq, err, sizeof(err)), -1);
    CHECK_STR(err, "limit: an integer from 1 to 100");
    CHECK_INT(parse("limit=101", SQ_TOP, &sq, err, sizeof(err)), -1);
    CHECK_INT(parse("by=spend%20DESC", SQ_TOP, &sq, err, sizeof(err)), -1);
    CHECK_STR(err, "by: one of spend, clicks, impressions, conversions");
    CHECK_INT(parse("dim=events", SQ_TOP, &sq, err, sizeof(err)), -1);
    CHECK_INT(parse("from=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaa",
                    SQ_RANGE, &sq, err, sizeof(err)),
              -1);
    CHECK_STR(err, "from: value longer than 63 bytes");
}

static void range_defaults_and_caps(void)
{
    struct serve_query sq;
    char err[256];
    int64_t latest;

    serve_hour_parse("2022-07-27T04", 13, &latest);
    parse("", SQ_RANGE, &sq, err, sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              0);
    CHECK_INT(sq.to_h, latest);
    CHECK_INT(sq.to_h - sq.from_h + 1, 24);
    parse("from=2022-07-20T00", SQ_RANGE, &sq, err, sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              0);
    CHECK_INT(sq.to_h - sq.from_h, 23);
    parse("from=2022-07-20T01&to=2022-07-20T00", SQ_RANGE, &sq, err,
          sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              -1);
    CHECK_STR(err, "from is after to");
    parse("from=2022-07-01T00&to=2022-07-31T23", SQ_RANGE, &sq, err,
          sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              0);
    parse("from=2022-07-01T00&to=2022-08-01T00", SQ_RANGE, &sq, err,
          sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              -1);
    CHECK_STR(err, "the range spans 745 hours; at most 744 are allowed "
                   "(--max-range-days)");
    parse("from=9999-12-31T20", SQ_RANGE, &sq, err, sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              -1);
    CHECK_STR(err, "to is after 9999-12-31T23");
    parse("to=9999-12-31T23", SQ_RANGE, &sq, err, sizeof(err));
    CHECK_INT(serve_range_settle(&sq, latest, caps.max_hours, err, sizeof(err)),
              0);
}

static void static_paths_stay_inside(void)
{
    static const char *const bad[] = {
        "",          "x",          "/..",          "/../etc/passwd",
        "/a/../b",   "/./a",       "/.git/config", "/a//b",
        "/%2e%2e/x", "/a\\b",      "/a b",         "/app.js?x",
        "/.",        "/a/.hidden",
    };
    char out[SERVE_PATH_MAX + 16];

    CHECK_INT(serve_path_check("/", 1, out, sizeof(out)), 0);
    CHECK_STR(out, "index.html");
    CHECK_INT(serve_path_check("/app.js", 7, out, sizeof(out)), 0);
    CHECK_STR(out, "app.js");
    CHECK_INT(serve_path_check("/assets/", 8, out, sizeof(out)), 0);
    CHECK_STR(out, "assets/index.html");
    CHECK_INT(serve_path_check("/a/b-c_d.min.css", 16, out, sizeof(out)), 0);
    CHECK_STR(out, "a/b-c_d.min.css");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (serve_path_check(bad[i], strlen(bad[i]), out, sizeof(out)) != -1) {
            printf("  accepted bad path \"%s\"\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK_STR(serve_content_type("index.html"), "text/html; charset=utf-8");
    CHECK_STR(serve_content_type("a/app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(serve_content_type("app.css"), "text/css; charset=utf-8");
    CHECK_STR(serve_content_type("noext"), "application/octet-stream");
}

int main(void)
{
    RUN(hour_parse_accepts_real_hours_only);
    RUN(query_defaults_and_values);
    RUN(query_refuses_bad_parameters);
    RUN(range_defaults_and_caps);
    RUN(static_paths_stay_inside);
    return TEST_DONE();
}
