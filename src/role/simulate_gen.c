/* The simulator's generator: a seeded stream of visits (page view, pings,
 * click, conversion, screening result) over the dimension tables, with
 * late events, repeats and invalid lines, and the tallies it implies. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "role/simulate.h"

#define SIM_HOUR_MS 3600000LL
#define SIM_UUID_EPOCH_MS 12219292800000LL /* 1582-10-15 to 1970-01-01 */

static const char *const sim_uas[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/"
    "605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
};
static const char *const sim_browsers[] = {"Chrome 124", "Safari 17",
                                           "Firefox 125", "Mobile Safari 17"};
#define SIM_NUAS (sizeof(sim_uas) / sizeof(sim_uas[0]))

/* ---- the PRNG: xoshiro256** seeded by splitmix64 ---- */

static uint64_t sim_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t sim_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t sim_rand(struct sim_gen *g)
{
    uint64_t *s = g->rng, r = sim_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static double sim_unit(struct sim_gen *g)
{
    return (double)(sim_rand(g) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); 0 when n is 0. */
static uint64_t sim_below(struct sim_gen *g, uint64_t n)
{
    return n ? sim_rand(g) % n : 0;
}

/* ---- items ---- */

void sim_item_init(struct sim_item *it)
{
    memset(it, 0, sizeof(*it));
    buf_init(&it->json, 0);
    buf_init(&it->query, 0);
}

void sim_item_free(struct sim_item *it)
{
    if (it == NULL)
        return;
    buf_free(&it->json);
    buf_free(&it->query);
}

static void sim_item_copy(struct sim_item *dst, const struct sim_item *src)
{
    dst->kind = src->kind;
    dst->late = src->late;
    dst->ua = src->ua;
    buf_reset(&dst->json);
    buf_reset(&dst->query);
    buf_append(&dst->json, src->json.data, src->json.len);
    buf_append(&dst->query, src->query.data, src->query.len);
}

/* The fields of one event, as text; numbers are written bare in JSON. */
struct sim_fields {
    struct {
        const char *name;
        char val[192];
        int num;
    } f[EV_NFIELDS];
    int n;
};

static void sim_put(struct sim_fields *fs, const char *name, int num,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void sim_put(struct sim_fields *fs, const char *name, int num,
                    const char *fmt, ...)
{
    va_list ap;

    for (int i = 0; i < fs->n; i++) {
        if (strcmp(fs->f[i].name, name) == 0) {
            va_start(ap, fmt);
            vsnprintf(fs->f[i].val, sizeof(fs->f[i].val), fmt, ap);
            va_end(ap);
            fs->f[i].num = num;
            return;
        }
    }
    fs->f[fs->n].name = name;
    fs->f[fs->n].num = num;
    va_start(ap, fmt);
    vsnprintf(fs->f[fs->n].val, sizeof(fs->f[fs->n].val), fmt, ap);
    va_end(ap);
    fs->n++;
}

static void sim_render_json(const struct sim_fields *fs, struct buf *out)
{
    buf_reset(out);
    buf_putc(out, '{');
    for (int i = 0; i < fs->n; i++) {
        buf_printf(out, "%s\"%s\":", i ? "," : "", fs->f[i].name);
        if (fs->f[i].num)
            buf_puts(out, fs->f[i].val);
        else
            buf_json_str(out, fs->f[i].val, strlen(fs->f[i].val));
    }
    buf_putc(out, '}');
}

static void sim_render_query(const struct sim_fields *fs, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";

    buf_reset(out);
    for (int i = 0; i < fs->n; i++) {
        buf_printf(out, "%s%s=", i ? "&" : "", fs->f[i].name);
        for (const unsigned char *p = (const unsigned char *)fs->f[i].val; *p;
             p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
                buf_putc(out, (char)*p);
            } else {
                char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
                buf_append(out, e, 3);
            }
        }
    }
}

/* A version-1 UUID for `ms` from the seeded PRNG: 100 ns ticks with a
 * random sub-ms part, random clock sequence, random multicast node. */
static void sim_uuid(struct sim_gen *g, int64_t ms, char out[37])
{
    uint64_t ticks =
        (uint64_t)(ms + SIM_UUID_EPOCH_MS) * 10000 + sim_below(g, 10000);
    uint64_t r = sim_rand(g), node = sim_rand(g);
    uint8_t u[16];

    for (int i = 0; i < 4; i++)
        u[i] = (uint8_t)(ticks >> (24 - 8 * i));
    u[4] = (uint8_t)(ticks >> 40);
    u[5] = (uint8_t)(ticks >> 32);
    u[6] = (uint8_t)(0x10 | ((ticks >> 56) & 0x0f));
    u[7] = (uint8_t)(ticks >> 48);
    u[8] = (uint8_t)(0x80 | ((r >> 8) & 0x3f));
    u[9] = (uint8_t)r;
    for (int i = 10; i < 16; i++)
        u[i] = (uint8_t)(node >> (8 * (i - 10)));
    u[10] |= 0x01;
    event_format_uuid(u, out);
}

/* A bid within the publisher's range, in 1/EV_BID_SCALE. */
static int64_t sim_bid(struct sim_gen *g, const struct sim_pub *p)
{
    return p->min_bid +
           (int64_t)sim_below(g, (uint64_t)(p->max_bid - p->min_bid) + 1);
}

/* The fields of an event of `track` ("" for a page view) at `ms`. */
static void sim_fields_event(struct sim_gen *g, struct sim_fields *fs,
                             const char *track, int64_t ms)
{
    const struct sim_job *j = &g->d->jobs[g->job];
    const struct sim_pub *p = &g->d->pubs[g->pub];
    char uuid[37], ts[24], money[32];
    int custom = track[0] != '\0';

    fs->n = 0;
    sim_uuid(g, ms, uuid);
    event_format_ts(ms, ts);
    sim_put(fs, "create_time", 0, "%s", uuid);
    sim_put(fs, "ts", 0, "%s", ts);
    if (custom)
        sim_put(fs, "custom_track", 0, "%s", track);
    sim_put(fs, "job_id", 1, "%d", j->id);
    if (j->tj.campaign_id >= 0)
        sim_put(fs, "campaign_id", 1, "%d", j->tj.campaign_id);
    if (j->tj.group_id >= 0)
        sim_put(fs, "group_id", 1, "%d", j->tj.group_id);
    sim_put(fs, "publisher_id", 1, "%d", p->id);
    if (strcmp(track, "click") == 0) {
        tally_format_money(sim_bid(g, p), money);
        sim_put(fs, "bid", 1, "%s", money);
    }
    if (custom)
        sim_put(fs, "ed", 0,
                "{\"customEvent\":\"%s\",\"jobId\":\"%d\","
                "\"publisherId\":\"%d\",\"userId\":%u}",
                track, j->id, p->id, g->user);
    sim_put(fs, "ev", 1, "%d", custom ? 2 : 1);
    sim_put(fs, "v", 1, "1");
    sim_put(fs, "tz", 1, "%d", -420 + 60 * (int)(g->user % 3));
    sim_put(fs, "uid", 0, "1-sim%05u", g->user);
    sim_put(fs, "dl", 0, "https://jobs.example/job/%d", j->id);
    sim_put(fs, "dt", 0, "Job %d", j->id);
    sim_put(fs, "bn", 0, "%s", sim_browsers[g->user % SIM_NUAS]);
    sim_put(fs, "sr", 0, "1920x1080");
    sim_put(fs, "utm_source", 0, "sim");
}

/* A job, popular ones more often; a publisher; a browser; the steps. */
static void sim_visit_start(struct sim_gen *g)
{
    const struct sim_job *j;
    double u = sim_unit(g);
    int n = 0;

    g->job = (size_t)((double)g->d->njobs * u * u);
    g->pub = (size_t)sim_below(g, g->d->npubs);
    g->user = 1 + (uint32_t)sim_below(g, 50000);
    j = &g->d->jobs[g->job];
    g->steps[n++] = "";
    if (sim_unit(g) < 0.3)
        g->steps[n++] = "alive";
    if (sim_unit(g) * 1e6 < j->ctr_ppm) {
        g->steps[n++] = "click";
        if (sim_unit(g) < 0.3) {
            g->steps[n++] = "conversion";
            g->steps[n++] = sim_unit(g) < 0.6 ? "qualified" : "unqualified";
        }
    }
    if (sim_unit(g) < 0.2)
        g->steps[n++] = "alive";
    g->nsteps = n;
    g->step = 0;
}

static const struct tally_job *sim_lookup(void *ctx, int32_t id)
{
    const struct sim_dims *d = ctx;
    size_t lo = 0, hi = d->njobs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->jobs[mid].id == id)
            return &d->jobs[mid].tj;
        if (d->jobs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Counts a first send the way `process` will tally it. */
static void sim_account(struct sim_gen *g, const struct sim_item *it)
{
    struct tally_key key;
    struct tally_delta d;
    struct ev_error e;
    enum tally_metric m;

    if (event_parse_json(&g->ev, it->json.data, it->json.len, &e) != 0)
        return; /* cannot happen: the generator writes valid events */
    g->tot.events++;
    g->tot.late += it->late != 0;
    m = tally_metric_of(&g->ev);
    if (m == TM_NONE) {
        g->tot.alive++;
        return;
    }
    if (!tally_event(&g->ev, sim_lookup, (void *)g->d,
                     tally_zone_offset(g->utc, g->ev.time_ms), &key, &d)) {
        g->tot.untallied++;
        return;
    }
    tally_batch_add(&g->expect, &key, &d);
    g->tot.metric[m]++;
    g->tot.spend += d.spend;
}

static void sim_make_event(struct sim_gen *g, struct sim_item *it)
{
    struct sim_fields fs;
    int64_t ms = g->clock_us / 1000;
    const char *track;

    if (g->step >= g->nsteps)
        sim_visit_start(g);
    track = g->steps[g->step++];
    it->kind = SK_VALID;
    it->late = sim_unit(g) < g->o->late_share;
    if (it->late) /* one hour to three days old */
        ms -= SIM_HOUR_MS + (int64_t)sim_below(g, 71 * SIM_HOUR_MS);
    sim_fields_event(g, &fs, track, ms);
    it->ua = sim_uas[g->user % SIM_NUAS];
    sim_render_query(&fs, &it->query);
    sim_put(&fs, "ua", 0, "%s", it->ua);
    sim_render_json(&fs, &it->json);
    sim_account(g, it);
    sim_item_copy(&g->ring[(g->tot.events - 1) % SIM_RING], it);
    if (g->nring < SIM_RING)
        g->nring++;
}

/* An event with one fault: a bad id, bid, time or UUID, or a broken
 * line (a cut JSON object; a bad %-escape in a query). */
static void sim_make_invalid(struct sim_gen *g, struct sim_item *it)
{
    struct sim_fields fs;
    size_t job = g->job, pub = g->pub;
    int variant = (int)sim_below(g, 5);

    g->job = (size_t)sim_below(g, g->d->njobs);
    g->pub = (size_t)sim_below(g, g->d->npubs);
    sim_fields_event(g, &fs, "click", g->clock_us / 1000);
    g->job = job;
    g->pub = pub;
    if (variant == 0)
        sim_put(&fs, "job_id", 0, "job-%d", (int)sim_below(g, 1000));
    else if (variant == 1)
        sim_put(&fs, "bid", 1, "-1.5");
    else if (variant == 2)
        sim_put(&fs, "ts", 0, "2022-13-45 25:61:00");
    else if (variant == 3)
        sim_put(&fs, "create_time", 0, "not-a-uuid");
    it->kind = SK_INVALID;
    it->late = 0;
    it->ua = sim_uas[g->user % SIM_NUAS];
    sim_render_query(&fs, &it->query);
    sim_render_json(&fs, &it->json);
    if (variant == 4) {
        it->json.data[--it->json.len] = '\0';
        buf_puts(&it->query, "&id=%zz");
    }
    g->tot.invalid++;
}

/* Moves the simulated clock by an exponential gap whose mean follows the
 * daily curve: busiest at 14:00 UTC, 1.6 times the mean rate, 0.4 at
 * 02:00. */
static void sim_clock_advance(struct sim_gen *g)
{
    double curve = 1.0, u = sim_unit(g);

    if (g->o->curve) {
        double h = fmod((double)g->clock_us / 3.6e9, 24.0);
        curve = 1.0 + 0.6 * cos(2.0 * M_PI * (h - 14.0) / 24.0);
    }
    g->clock_us +=
        (int64_t)(-log(1.0 - u) * g->o->speed * 1e6 / (g->o->rate * curve));
}

void sim_gen_init(struct sim_gen *g, const struct sim_opts *o,
                  const struct sim_dims *d, int64_t start_us, int utc)
{
    uint64_t x = (uint64_t)o->seed;

    memset(g, 0, sizeof(*g));
    for (int i = 0; i < 4; i++)
        g->rng[i] = sim_splitmix(&x);
    g->o = o;
    g->d = d;
    g->utc = utc;
    g->start_us = g->clock_us = start_us;
    g->end_us = o->duration
                    ? start_us + (int64_t)((double)o->duration * o->speed * 1e6)
                    : 0;
    for (int i = 0; i < SIM_RING; i++)
        sim_item_init(&g->ring[i]);
    event_init(&g->ev);
    tally_batch_init(&g->expect);
}

void sim_gen_free(struct sim_gen *g)
{
    for (int i = 0; i < SIM_RING; i++)
        sim_item_free(&g->ring[i]);
    event_free(&g->ev);
    tally_batch_free(&g->expect);
}

int sim_gen_next(struct sim_gen *g, struct sim_item *it)
{
    double u;

    if (g->o->count && g->tot.items >= (uint64_t)g->o->count)
        return 0;
    sim_clock_advance(g);
    if (g->end_us && g->clock_us >= g->end_us)
        return 0;
    it->clock_us = g->clock_us;
    u = sim_unit(g);
    if (u < g->o->invalid_share) {
        sim_make_invalid(g, it);
    } else if (u < g->o->invalid_share + g->o->repeat_share && g->nring) {
        sim_item_copy(it, &g->ring[sim_below(g, (uint64_t)g->nring)]);
        it->kind = SK_REPEAT;
        g->tot.repeats++;
    } else {
        sim_make_event(g, it);
    }
    g->tot.items++;
    return 1;
}

static int sim_row_cmp(const void *a, const void *b)
{
    const struct tally_key *x = &((const struct tally_row *)a)->key;
    const struct tally_key *y = &((const struct tally_row *)b)->key;
    const int32_t kx[6] = {x->job_id,       x->date,        x->hour,
                           x->publisher_id, x->campaign_id, x->group_id};
    const int32_t ky[6] = {y->job_id,       y->date,        y->hour,
                           y->publisher_id, y->campaign_id, y->group_id};

    for (int i = 0; i < 6; i++) {
        if (kx[i] != ky[i])
            return kx[i] < ky[i] ? -1 : 1;
    }
    return 0;
}

static void sim_row_write(FILE *f, const struct tally_row *r)
{
    const struct tally_key *k = &r->key;
    const int64_t *n = r->d.n;
    int64_t bid = tally_bid_set(r->d.spend, n[TM_CLICKS]);
    char company[16] = "NULL", spend[32], bidtxt[32] = "NULL";

    if (r->d.company_id >= 0)
        snprintf(company, sizeof(company), "%d", r->d.company_id);
    tally_format_money(r->d.spend, spend);
    if (bid >= 0)
        tally_format_money(bid, bidtxt);
    fprintf(f,
            "%d\t%04d-%02d-%02d\t%d\t%d\t%d\t%d\t%s\t%lld\t%lld\t%lld\t"
            "%lld\t%lld\t%s\t%s\n",
            k->job_id, k->date / 10000, k->date / 100 % 100, k->date % 100,
            k->hour, k->publisher_id, k->campaign_id, k->group_id, company,
            (long long)n[TM_IMPRESSIONS], (long long)n[TM_CLICKS],
            (long long)n[TM_CONVERSION], (long long)n[TM_QUALIFIED],
            (long long)n[TM_DISQUALIFIED], spend, bidtxt);
}

/* Writes the expected rows of `events`, in key order, as TSV with the
 * columns of the table (company_id and bid_set NULL when unknown).
 * Returns 0 or -1 (errno set). */
int sim_expect_write(struct sim_gen *g, const char *path)
{
    FILE *f = fopen(path, "w");
    int rc;

    if (f == NULL)
        return -1;
    qsort(g->expect.rows, g->expect.nrows, sizeof(*g->expect.rows),
          sim_row_cmp);
    for (size_t i = 0; i < g->expect.nrows; i++)
        sim_row_write(f, &g->expect.rows[i]);
    rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
