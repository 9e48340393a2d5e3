/* Unit tests of the tally rules: attribution, metrics, hours, batches. */
#include "core/event.h"
#include "core/tally.h"
#include "test.h"

static const struct tally_job job188 = {7, 31, 4};

static const struct tally_job *lookup(void *ctx, int32_t job)
{
    (void)ctx;
    return job == 188 ? &job188 : NULL;
}

/* Parses `json` and tallies it; returns tally_event's answer. */
static int tally_json(const char *json, struct tally_key *k,
                      struct tally_delta *d)
{
    struct event ev;
    struct ev_error e;
    int rc = -1;

    event_init(&ev);
    if (event_parse_json(&ev, json, strlen(json), &e) == 0)
        rc = tally_event(&ev, lookup, NULL, 0, k, d);
    else
        printf("  parse failed: %s: %s\n", e.field, e.reason);
    event_free(&ev);
    return rc;
}

static void click_with_job_in_ed_as_string(void)
{
    struct tally_key k;
    struct tally_delta d;

    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:01:28.527\","
                         "\"custom_track\":\"click\",\"bid\":1.5,"
                         "\"ed\":\"{\\\"jobId\\\":\\\"188\\\","
                         "\\\"publisherId\\\":\\\"3\\\"}\"}",
                         &k, &d),
              1);
    CHECK_INT(k.job_id, 188);
    CHECK_INT(k.date, 20220712);
    CHECK_INT(k.hour, 3);
    CHECK_INT(k.publisher_id, 3);
    CHECK_INT(k.campaign_id, 31);
    CHECK_INT(k.group_id, 4);
    CHECK_INT(d.company_id, 7);
    CHECK_INT(d.n[TM_CLICKS], 1);
    CHECK_INT(d.spend, 15000);
}

static void event_ids_win_over_the_job(void)
{
    struct tally_key k;
    struct tally_delta d;

    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 23:59:59\",\"job_id\":188,"
                         "\"campaign_id\":2,\"group_id\":0,"
                         "\"publisher_id\":9}",
                         &k, &d),
              1);
    CHECK_INT(k.campaign_id, 2);
    CHECK_INT(k.group_id, 0);
    CHECK_INT(k.publisher_id, 9);
    CHECK_INT(k.hour, 23);
    CHECK_INT(d.n[TM_IMPRESSIONS], 1);
}

static void unknown_job_has_no_company(void)
{
    struct tally_key k;
    struct tally_delta d;

    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\",\"job_id\":5,"
                         "\"custom_track\":\" Conversion \"}",
                         &k, &d),
              1);
    CHECK_INT(d.company_id, -1);
    CHECK_INT(k.campaign_id, 0);
    CHECK_INT(k.group_id, 0);
    CHECK_INT(k.publisher_id, 0);
    CHECK_INT(d.n[TM_CONVERSION], 1);
}

static void no_job_or_other_track_is_not_tallied(void)
{
    struct tally_key k;
    struct tally_delta d;

    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\","
                         "\"custom_track\":\"conversion\"}",
                         &k, &d),
              0);
    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\",\"job_id\":188,"
                         "\"custom_track\":\"alive\"}",
                         &k, &d),
              0);
    /* ed.jobId 0 as a number is not positive; junk text is no job. */
    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\","
                         "\"ed\":\"{\\\"jobId\\\":0}\"}",
                         &k, &d),
              0);
    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\","
                         "\"ed\":\"{\\\"jobId\\\":\\\"52fe1ea5de\\\"}\"}",
                         &k, &d),
              0);
}

static void metrics_by_track(void)
{
    struct tally_key k;
    struct tally_delta d;

    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\",\"job_id\":1,"
                         "\"custom_track\":\"QUALIFIED\"}",
                         &k, &d),
              1);
    CHECK_INT(d.n[TM_QUALIFIED], 1);
    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\",\"job_id\":1,"
                         "\"custom_track\":\"unqualified\"}",
                         &k, &d),
              1);
    CHECK_INT(d.n[TM_DISQUALIFIED], 1);
    /* A bid on a page view is no spend. */
    CHECK_INT(tally_json("{\"ts\":\"2022-07-12 03:00:00\",\"job_id\":1,"
                         "\"bid\":2}",
                         &k, &d),
              1);
    CHECK_INT(d.spend, 0);
}

static void reporting_zone_moves_the_hour(void)
{
    struct event ev;
    struct ev_error e;
    struct tally_key k;
    struct tally_delta d;
    const char *j = "{\"ts\":\"2022-07-12 20:30:00\",\"job_id\":1}";

    event_init(&ev);
    CHECK_INT(event_parse_json(&ev, j, strlen(j), &e), 0);
    CHECK_INT(tally_event(&ev, lookup, NULL, 7 * 3600, &k, &d), 1);
    CHECK_INT(k.date, 20220713);
    CHECK_INT(k.hour, 3);
    event_free(&ev);
}

static void batch_sums_per_key(void)
{
    struct tally_batch b;
    struct tally_key k1 = {1, 20220712, 3, 0, 0, 0}, k2 = k1;
    struct tally_delta d = {5, {1, 1, 0, 0, 0}, 14000};

    k2.hour = 4;
    tally_batch_init(&b);
    for (int i = 0; i < 3000; i++) {
        k1.job_id = i % 1000;
        CHECK_INT(tally_batch_add(&b, &k1, &d), 0);
    }
    CHECK_INT(tally_batch_add(&b, &k2, &d), 0);
    CHECK_INT(b.nrows, 1001);
    CHECK_INT(b.rows[0].d.n[TM_CLICKS], 3);
    CHECK_INT(b.rows[0].d.spend, 42000);
    tally_batch_reset(&b);
    CHECK_INT(b.nrows, 0);
    tally_batch_free(&b);
}

static void bid_set_rounds_half_up(void)
{
    char s[32];

    CHECK_INT(tally_bid_set(0, 0), -1);
    CHECK_INT(tally_bid_set(10000, 3), 3333);
    CHECK_INT(tally_bid_set(20000, 3), 6667);
    CHECK_INT(tally_bid_set(5, 2), 3);
    tally_format_money(14000, s);
    CHECK_STR(s, "1.4000");
    tally_format_money(5, s);
    CHECK_STR(s, "0.0005");
}

int main(void)
{
    RUN(click_with_job_in_ed_as_string);
    RUN(event_ids_win_over_the_job);
    RUN(unknown_job_has_no_company);
    RUN(no_job_or_other_track_is_not_tallied);
    RUN(metrics_by_track);
    RUN(reporting_zone_moves_the_hour);
    RUN(batch_sums_per_key);
    RUN(bid_set_rounds_half_up);
    return TEST_DONE();
}
