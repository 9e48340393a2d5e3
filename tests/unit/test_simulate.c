/* Unit tests of the simulator's generator (src/role/simulate_gen.c) over
 * small dimension tables: repeatable, valid where meant, consistent. */
#include <stdlib.h>
#include <string.h>

#include "role/simulate.h"
#include "test.h"

#define N 3000

static struct sim_job jobs[] = {
    {7, {1, 10, 100}, 100000},
    {8, {1, 10, 101}, 50000},
    {9, {2, 11, -1}, 150000},
};
static struct sim_pub pubs[] = {{1, 10000, 10000}, {5, 12345, 99999}};
static const struct sim_dims dims = {jobs, 3, pubs, 2};

static struct sim_opts opts(long long seed)
{
    struct sim_opts o = {0};

    o.rate = 100;
    o.speed = 60;
    o.curve = 1;
    o.seed = seed;
    o.late_share = 0.05;
    o.repeat_share = 0.05;
    o.invalid_share = 0.05;
    o.count = N;
    return o;
}

/* Every line of a run, joined; the generator's totals in *tot. */
static char *run(long long seed, struct sim_totals *tot)
{
    struct sim_opts o = opts(seed);
    struct sim_gen g;
    struct sim_item it;
    struct buf all;

    buf_init(&all, 0);
    sim_item_init(&it);
    sim_gen_init(&g, &o, &dims, 1763625600000000LL, 1);
    while (sim_gen_next(&g, &it)) {
        buf_append(&all, it.json.data, it.json.len);
        buf_putc(&all, '\n');
    }
    *tot = g.tot;
    sim_gen_free(&g);
    sim_item_free(&it);
    return all.data;
}

static void same_seed_same_lines(void)
{
    struct sim_totals a, b, c;
    char *x = run(3, &a), *y = run(3, &b), *z = run(4, &c);

    CHECK_STR(x, y);
    CHECK(strcmp(x, z) != 0);
    CHECK_INT(a.items, N);
    CHECK_INT(a.events + a.repeats + a.invalid, N);
    CHECK_INT(a.metric[TM_CLICKS], b.metric[TM_CLICKS]);
    CHECK_INT(a.spend, b.spend);
    free(x);
    free(y);
    free(z);
}

/* Checks one valid line: both shapes parse to the same event, the UUID
 * carries the event time, a click's bid is in its publisher's range. */
static int check_valid(const struct sim_item *it, struct event *ev,
                       struct event *q)
{
    struct ev_error e;
    int64_t bid;

    if (event_parse_json(ev, it->json.data, it->json.len, &e) != 0 ||
        event_parse_query(q, it->query.data, it->query.len, &e) != 0 ||
        strcmp(ev->text[EV_CREATE_TIME], q->text[EV_CREATE_TIME]) != 0 ||
        event_uuid_time_ms(ev->uuid) != ev->time_ms)
        return -1;
    if (ev->text[EV_CUSTOM_TRACK] == NULL ||
        strcmp(ev->text[EV_CUSTOM_TRACK], "click") != 0)
        return ev->text[EV_BID] == NULL ? 0 : -1;
    bid = ev->bid;
    if (ev->num[EV_PUBLISHER_ID] == 1)
        return bid == 10000 ? 0 : -1;
    return bid >= 12345 && bid <= 99999 ? 0 : -1;
}

static void lines_are_valid_or_invalid_as_meant(void)
{
    struct sim_opts o = opts(9);
    struct sim_gen g;
    struct sim_item it;
    struct event ev, q;
    struct ev_error e;
    int bad_valid = 0, good_invalid = 0, late = 0;

    sim_item_init(&it);
    event_init(&ev);
    event_init(&q);
    sim_gen_init(&g, &o, &dims, 1763625600000000LL, 1);
    while (sim_gen_next(&g, &it)) {
        if (it.kind == SK_INVALID) {
            good_invalid +=
                event_parse_json(&ev, it.json.data, it.json.len, &e) == 0 ||
                event_parse_query(&q, it.query.data, it.query.len, &e) == 0;
            continue;
        }
        bad_valid += check_valid(&it, &ev, &q) != 0;
        late +=
            it.kind == SK_VALID && ev.time_ms <= it.clock_us / 1000 - 3600000;
    }
    CHECK_INT(bad_valid, 0);
    CHECK_INT(good_invalid, 0);
    CHECK_INT(late, g.tot.late);
    CHECK(g.tot.late > 0 && g.tot.repeats > 0 && g.tot.invalid > 0);
    sim_gen_free(&g);
    sim_item_free(&it);
    event_free(&ev);
    event_free(&q);
}

/* Attribution follows the job's row; clicks stay near their rates. */
static void events_agree_with_dimensions(void)
{
    struct sim_totals t;
    char *all = run(5, &t);
    int wrong = 0;

    for (char *l = all, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        *nl = '\0';
        if (strstr(l, "\"job_id\":9,") && strstr(l, "\"group_id\""))
            wrong++;
        if (strstr(l, "\"job_id\":7,") &&
            !strstr(l, "\"campaign_id\":10,\"group_id\":100,"))
            wrong++;
    }
    CHECK_INT(wrong, 0);
    CHECK(t.metric[TM_CLICKS] * 100 > t.metric[TM_IMPRESSIONS] * 4);
    CHECK(t.metric[TM_CLICKS] * 100 < t.metric[TM_IMPRESSIONS] * 16);
    /* A result follows each conversion, unless the run ended between. */
    CHECK(t.metric[TM_CONVERSION] -
              (t.metric[TM_QUALIFIED] + t.metric[TM_DISQUALIFIED]) <=
          1);
    free(all);
}

int main(void)
{
    RUN(same_seed_same_lines);
    RUN(lines_are_valid_or_invalid_as_meant);
    RUN(events_agree_with_dimensions);
    return TEST_DONE();
}
