/* `adtally simulate`: realistic tracking traffic for demos and load tests. */
#include "role/simulate.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/mysql.h"
#include "core/timeparse.h"
#include "role/role.h"
#include "util/log.h"

volatile sig_atomic_t sim_stop_flag;

static const struct cfg_opt sim_table[] = {
    {"to", CFG_STR, "http://127.0.0.1:8090", 0, 0,
     offsetof(struct sim_opts, to),
     "http://host:port of a collector, or kafka to produce directly"},
    {"rate", CFG_DOUBLE, "100", 0.001, 1e6, offsetof(struct sim_opts, rate),
     "events per second, the mean over a day"},
    {"duration", CFG_INT, "10", 0, 31536000,
     offsetof(struct sim_opts, duration),
     "seconds of traffic (0: until SIGTERM)"},
    {"count", CFG_INT, "0", 0, 1e12, offsetof(struct sim_opts, count),
     "stop after this many lines (0: no limit)"},
    {"seed", CFG_INT, "1", 0, 9e15, offsetof(struct sim_opts, seed),
     "PRNG seed; with --start, the same seed sends the same lines"},
    {"start", CFG_STR, NULL, 0, 0, offsetof(struct sim_opts, start),
     "simulated start time, YYYY-MM-DD HH:MM:SS UTC (default: now)"},
    {"speed", CFG_DOUBLE, "1", 0.001, 1e6, offsetof(struct sim_opts, speed),
     "simulated seconds per real second"},
    {"curve", CFG_BOOL, "true", 0, 0, offsetof(struct sim_opts, curve),
     "follow a daily curve (x1.6 at 14:00 UTC, x0.4 at 02:00)"},
    {"late-share", CFG_DOUBLE, "0.01", 0, 1,
     offsetof(struct sim_opts, late_share),
     "share of events one hour to three days old"},
    {"repeat-share", CFG_DOUBLE, "0.01", 0, 1,
     offsetof(struct sim_opts, repeat_share),
     "share of lines that resend a recent event (same create_time)"},
    {"invalid-share", CFG_DOUBLE, "0.01", 0, 1,
     offsetof(struct sim_opts, invalid_share),
     "share of lines with one fault (rejected by validation)"},
    {"batch", CFG_INT, "0", 0, 100000, offsetof(struct sim_opts, batch),
     "events per POST /events (0: one GET /track beacon each)"},
    {"connections", CFG_INT, "4", 1, 1024,
     offsetof(struct sim_opts, connections),
     "concurrent kept-alive connections to the collector"},
    {"give-up", CFG_INT, "60", 1, 86400, offsetof(struct sim_opts, give_up_s),
     "seconds after which an unacknowledged request is given up"},
    {"max-bid", CFG_DOUBLE, "10", 0, 1e9, offsetof(struct sim_opts, max_bid),
     "highest bid sent; a publisher's range above it is cut to it"},
    {"expect-file", CFG_STR, NULL, 0, 0, offsetof(struct sim_opts, expect_file),
     "write the expected rows of `events` here, as TSV"},
    CFG_END,
};

static const struct cfg_role sim_role = {
    "simulate", "[options]",
    "Sends job-ad traffic built from the dimension tables in MySQL (jobs\n"
    "whose campaign, group and company agree; publishers' bid ranges):\n"
    "visits of a page view, `alive` pings, clicks at 5-15% per view with a\n"
    "bid in the publisher's min_bid..max_bid (cut to --max-bid),\n"
    "conversions and qualified or unqualified results, plus late events,\n"
    "repeats and invalid lines at the given shares. --to http://host:port\n"
    "goes through a collector (GET /track beacons, or POST /events with\n"
    "--batch), retrying on 503 after Retry-After; --to kafka produces to\n"
    "<topic> (key: job id) and <topic>.rejected. Prints a JSON summary on\n"
    "stdout: the tallied totals of first sends (impressions, clicks,\n"
    "conversions, qualified, unqualified, spend), repeats, late, invalid,\n"
    "and what was acknowledged. Exits 1 when some line was never\n"
    "acknowledged."};

static void sim_on_signal(int sig)
{
    (void)sig;
    sim_stop_flag = 1;
}

/* Decimal text to 1/EV_BID_SCALE; NULL gives `def`. */
static int64_t sim_money(const char *s, int64_t def)
{
    int64_t whole = 0, frac = 0, scale = EV_BID_SCALE;

    if (s == NULL)
        return def;
    for (; *s >= '0' && *s <= '9'; s++)
        whole = whole * 10 + (*s - '0');
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9' && scale > 1; s++) {
            scale /= 10;
            frac += (*s - '0') * scale;
        }
    }
    return whole * EV_BID_SCALE + frac;
}

static int32_t sim_id(const char *s)
{
    return s ? (int32_t)strtol(s, NULL, 10) : -1;
}

static int sim_job_row(void *ctx, int ncols, char **v)
{
    struct sim_dims *d = ctx;
    struct sim_job *j = realloc(d->jobs, (d->njobs + 1) * sizeof(*j));

    (void)ncols;
    if (j == NULL)
        return 1;
    d->jobs = j;
    j = &d->jobs[d->njobs++];
    j->id = sim_id(v[0]);
    j->tj.company_id = sim_id(v[1]);
    j->tj.campaign_id = sim_id(v[2]);
    j->tj.group_id = sim_id(v[3]);
    return 0;
}

static int sim_pub_row(void *ctx, int ncols, char **v)
{
    struct sim_dims *d = ctx;
    struct sim_pub *p = realloc(d->pubs, (d->npubs + 1) * sizeof(*p));

    (void)ncols;
    if (p == NULL)
        return 1;
    d->pubs = p;
    p = &d->pubs[d->npubs++];
    p->id = sim_id(v[0]);
    p->min_bid = sim_money(v[1], 0);
    p->max_bid = sim_money(v[2], p->min_bid);
    if (p->max_bid < p->min_bid)
        p->max_bid = p->min_bid;
    return 0;
}

/* Jobs whose campaign and group exist and agree (group of the same
 * campaign, campaign of the same company); all jobs if there are none. */
static const char sim_jobs_sql[] =
    "SELECT j.id, j.company_id, j.campaign_id, j.group_id FROM job j"
    " JOIN campaign c ON c.id = j.campaign_id"
    " JOIN job_group g ON g.id = j.group_id AND g.campaign_id = j.campaign_id"
    " WHERE j.company_id IS NULL OR c.company_id IS NULL"
    " OR c.company_id = j.company_id ORDER BY j.id";

/* Cuts every publisher's bid range to at most `max_bid` (in currency
 * units): the dimension exports hold test rows with ranges in the
 * thousands, while the platform's real clicks bid at most a few units. */
static void sim_cap_bids(struct sim_dims *d, double max_bid)
{
    int64_t cap = (int64_t)(max_bid * EV_BID_SCALE + 0.5);

    for (size_t i = 0; i < d->npubs; i++) {
        if (d->pubs[i].max_bid > cap)
            d->pubs[i].max_bid = cap;
        if (d->pubs[i].min_bid > cap)
            d->pubs[i].min_bid = cap;
    }
}

static int sim_dims_load(const struct config *cfg, struct sim_dims *d,
                         uint64_t seed)
{
    struct db_url u;
    struct db *db = NULL;
    char err[1024];
    int rc = -1;

    if (db_url_parse(cfg->mysql, &u, err, sizeof(err)) != 0 ||
        (db = db_connect(&u, 1, 5, err, sizeof(err))) == NULL)
        goto out;
    if (db_query(db, sim_jobs_sql, NULL, 0, sim_job_row, d, err, sizeof(err)) <
            0 ||
        (d->njobs == 0 &&
         db_query(db,
                  "SELECT id, company_id, campaign_id, group_id FROM job"
                  " ORDER BY id",
                  NULL, 0, sim_job_row, d, err, sizeof(err)) < 0) ||
        db_query(db, "SELECT id, min_bid, max_bid FROM publisher ORDER BY id",
                 NULL, 0, sim_pub_row, d, err, sizeof(err)) < 0)
        goto out;
    if (d->njobs == 0 || d->npubs == 0) {
        snprintf(err, sizeof(err),
                 "no jobs or no publishers in %s (run "
                 "`adtally dims load`)",
                 u.database);
        goto out;
    }
    /* Each job's click-through rate: 5% to 15%, fixed by the seed. */
    for (size_t i = 0; i < d->njobs; i++) {
        uint64_t h = (uint64_t)d->jobs[i].id * 0x9e3779b97f4a7c15ULL ^ seed;
        h ^= h >> 29;
        d->jobs[i].ctr_ppm =
            50000 + (uint32_t)(h * 0xbf58476d1ce4e5b9ULL % 100001);
    }
    rc = 0;
out:
    if (rc != 0)
        log_error("simulate", "mysql: %s", err);
    db_close(db);
    return rc;
}

/* The reporting zone, as `process` uses it (--tz). */
static int sim_zone(const struct config *cfg, int *utc)
{
    char path[300];

    *utc = strcmp(cfg->tz, "UTC") == 0;
    if (*utc)
        return 0;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", cfg->tz);
    if (strstr(cfg->tz, "..") || access(path, R_OK) != 0) {
        log_error("simulate", "--tz: unknown time zone '%s'", cfg->tz);
        return -1;
    }
    setenv("TZ", cfg->tz, 1);
    tzset();
    return 0;
}

static int64_t sim_now_us(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleeps until the monotonic time `at` (us), or a stop. */
static void sim_wait_until(int64_t at)
{
    int64_t now;

    while (!sim_stop_flag && (now = sim_now_us(CLOCK_MONOTONIC)) < at) {
        int64_t d = at - now > 100000 ? 100000 : at - now;
        struct timespec ts = {0, (long)d * 1000};
        nanosleep(&ts, NULL);
    }
}

static void sim_summary(const struct sim_gen *g, struct sim_results *res,
                        double secs)
{
    const struct sim_totals *t = &g->tot;
    char spend[32];

    tally_format_money(t->spend, spend);
    pthread_mutex_lock(&res->mu);
    printf("{\"lines\":%llu,\"events\":%llu,\"impressions\":%llu,"
           "\"clicks\":%llu,\"conversions\":%llu,\"qualified\":%llu,"
           "\"unqualified\":%llu,\"alive\":%llu,\"untallied\":%llu,"
           "\"spend\":\"%s\",\"repeats\":%llu,\"late\":%llu,\"invalid\":%llu,"
           "\"requests\":%llu,\"acknowledged\":%llu,\"rejected\":%llu,"
           "\"failed\":%llu,\"retries\":%llu,\"seconds\":%.3f}\n",
           (unsigned long long)t->items, (unsigned long long)t->events,
           (unsigned long long)t->metric[TM_IMPRESSIONS],
           (unsigned long long)t->metric[TM_CLICKS],
           (unsigned long long)t->metric[TM_CONVERSION],
           (unsigned long long)t->metric[TM_QUALIFIED],
           (unsigned long long)t->metric[TM_DISQUALIFIED],
           (unsigned long long)t->alive, (unsigned long long)t->untallied,
           spend, (unsigned long long)t->repeats, (unsigned long long)t->late,
           (unsigned long long)t->invalid, (unsigned long long)res->requests,
           (unsigned long long)res->acknowledged,
           (unsigned long long)res->rejected, (unsigned long long)res->failed,
           (unsigned long long)res->retries, secs);
    pthread_mutex_unlock(&res->mu);
    fflush(stdout);
}

/* Generates and sends at the pace of the simulated clock. */
static void sim_loop(struct sim_gen *g, struct sim_sender *s,
                     struct sim_results *res)
{
    int64_t wall0 = sim_now_us(CLOCK_MONOTONIC), next_log = wall0 + 10000000;
    struct sim_item it;

    sim_item_init(&it);
    while (!sim_stop_flag && sim_gen_next(g, &it)) {
        sim_wait_until(wall0 + (int64_t)((double)(it.clock_us - g->start_us) /
                                         g->o->speed));
        sim_sender_push(s, &it); /* generated means counted: send it */
        if (sim_now_us(CLOCK_MONOTONIC) >= next_log) {
            pthread_mutex_lock(&res->mu);
            log_info("simulate",
                     "status: lines=%llu acknowledged=%llu "
                     "rejected=%llu retries=%llu failed=%llu",
                     (unsigned long long)g->tot.items,
                     (unsigned long long)res->acknowledged,
                     (unsigned long long)res->rejected,
                     (unsigned long long)res->retries,
                     (unsigned long long)res->failed);
            pthread_mutex_unlock(&res->mu);
            next_log += 10000000;
        }
    }
    sim_item_free(&it);
}

/* The simulated start in us since the Unix epoch; -1 on a bad --start. */
static int64_t sim_start_us(const struct sim_opts *o)
{
    const char *why;
    int64_t ms;

    if (o->start == NULL)
        return sim_now_us(CLOCK_REALTIME) / 1000 * 1000;
    if (timeparse_ts(o->start, strlen(o->start), &ms, &why) != 0) {
        log_error("simulate", "--start '%s': %s", o->start, why);
        return -1;
    }
    return ms * 1000;
}

static int sim_run(const struct sim_opts *o, const struct config *cfg,
                   const struct sim_dims *d, int utc, int64_t start)
{
    struct sim_results res = {.mu = PTHREAD_MUTEX_INITIALIZER};
    int64_t t0 = sim_now_us(CLOCK_MONOTONIC);
    struct sim_sender *s;
    struct sim_gen g;
    char err[512];
    int rc = 0;

    s = sim_sender_create(o, cfg, &res, err, sizeof(err));
    if (s == NULL) {
        log_error("simulate", "%s", err);
        return 1;
    }
    sim_gen_init(&g, o, d, start, utc);
    log_info("simulate", "sending to %s: %zu jobs, %zu publishers, seed %lld",
             o->to, d->njobs, d->npubs, o->seed);
    sim_loop(&g, s, &res);
    sim_sender_finish(s);
    sim_summary(&g, &res, (double)(sim_now_us(CLOCK_MONOTONIC) - t0) / 1e6);
    if (o->expect_file && sim_expect_write(&g, o->expect_file) != 0) {
        log_error("simulate", "%s: %s", o->expect_file, strerror(errno));
        rc = 1;
    }
    sim_gen_free(&g);
    return rc || res.failed ? 1 : 0;
}

int role_simulate_main(int argc, char **argv)
{
    struct sim_opts o = {0};
    struct sim_dims d = {0};
    struct config cfg;
    int rc = 2, lrc, utc;
    int64_t start;

    lrc = config_load(&cfg, &sim_role, sim_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    if (strcmp(o.to, "kafka") != 0 && strncmp(o.to, "http://", 7) != 0) {
        log_error("simulate", "--to: '%s' is not http://host:port or kafka",
                  o.to);
        goto out;
    }
    if (sim_zone(&cfg, &utc) != 0 || (start = sim_start_us(&o)) < 0)
        goto out;
    rc = 1;
    if (sim_dims_load(&cfg, &d, (uint64_t)o.seed) != 0)
        goto out;
    sim_cap_bids(&d, o.max_bid);
    signal(SIGTERM, sim_on_signal);
    signal(SIGINT, sim_on_signal);
    rc = sim_run(&o, &cfg, &d, utc, start);
out:
    free(d.jobs);
    free(d.pubs);
    config_free(&cfg);
    return rc;
}
