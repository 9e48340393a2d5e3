/* The tally rules of DESIGN §4. */
#include "core/tally.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/json.h"
#include "util/num.h"

static const struct {
    const char *name;
    enum tally_metric m;
} tally_tracks[] = {
    {"click", TM_CLICKS},
    {"conversion", TM_CONVERSION},
    {"qualified", TM_QUALIFIED},
    {"unqualified", TM_DISQUALIFIED},
};

enum tally_metric tally_metric_of(const struct event *ev)
{
    const char *s = ev->text[EV_CUSTOM_TRACK];
    size_t n = ev->len[EV_CUSTOM_TRACK];

    if (s == NULL)
        return TM_IMPRESSIONS;
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0)
        return TM_IMPRESSIONS;
    for (size_t i = 0; i < sizeof(tally_tracks) / sizeof(tally_tracks[0]);
         i++) {
        if (strlen(tally_tracks[i].name) == n &&
            strncasecmp(s, tally_tracks[i].name, n) == 0)
            return tally_tracks[i].m;
    }
    return TM_NONE;
}

/* Reads ed.<key> as an int32 >= 0. A number must be integral (and, with
 * `positive`, above 0); a string must be digits only. */
static int tally_ed_id(const struct event *ev, const char *key, int positive,
                       int32_t *out)
{
    const char *ed = ev->text[EV_ED], *v;
    size_t vlen;
    enum json_type t;
    int64_t x;

    if (ed == NULL ||
        json_object_get(ed, ev->len[EV_ED], key, &t, &v, &vlen) != 0)
        return -1;
    if (t == JSON_NUMBER) {
        if (json_number_integral(v, vlen, &x) != 0 || x < positive)
            return -1;
    } else if (t == JSON_STRING) {
        if (vlen < 3 || vlen > 12 || strspn(v + 1, "0123456789") != vlen - 2)
            return -1;
        x = 0;
        for (size_t i = 1; i + 1 < vlen; i++)
            x = x * 10 + (v[i] - '0');
    } else {
        return -1;
    }
    if (x > INT32_MAX)
        return -1;
    *out = (int32_t)x;
    return 0;
}

int tally_job_of(const struct event *ev, int32_t *job)
{
    if (ev->text[EV_JOB_ID]) {
        *job = ev->num[EV_JOB_ID];
        return 0;
    }
    return tally_ed_id(ev, "jobId", 1, job);
}

size_t tally_message_key(const struct event *ev, char *buf, size_t n,
                         const char **key)
{
    int32_t job;

    if (tally_job_of(ev, &job) == 0) {
        char digits[21];
        size_t len = num_format_i64(digits, job);

        assert(len < n);
        memcpy(buf, digits, len + 1);
        *key = buf;
        return len;
    }
    if (ev->text[EV_UID]) {
        *key = ev->text[EV_UID];
        return ev->len[EV_UID];
    }
    *key = ev->text[EV_CREATE_TIME];
    return ev->len[EV_CREATE_TIME];
}

int32_t tally_publisher_of(const struct event *ev)
{
    int32_t p;

    if (ev->text[EV_PUBLISHER_ID])
        return ev->num[EV_PUBLISHER_ID];
    return tally_ed_id(ev, "publisherId", 0, &p) == 0 ? p : 0;
}

long tally_zone_offset(int utc, int64_t time_ms)
{
    struct tm tm;
    time_t t = (time_t)(time_ms / 1000);

    if (utc)
        return 0;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

static int32_t tally_pick(const struct event *ev, enum ev_field f,
                          int32_t from_job)
{
    if (ev->text[f])
        return ev->num[f];
    return from_job >= 0 ? from_job : 0;
}

int tally_event(const struct event *ev, tally_job_fn *lookup, void *ctx,
                long utc_offset_s, struct tally_key *key, struct tally_delta *d)
{
    enum tally_metric m = tally_metric_of(ev);
    static const struct tally_job unknown = {-1, -1, -1};
    const struct tally_job *job;
    int64_t ms = ev->time_ms;
    time_t t;
    struct tm tm;

    if (m == TM_NONE || tally_job_of(ev, &key->job_id) != 0)
        return 0;
    job = lookup ? lookup(ctx, key->job_id) : NULL;
    if (job == NULL)
        job = &unknown;
    /* Floor division: times before 1970 do not occur (validated). */
    t = (time_t)(ms / 1000) + utc_offset_s;
    gmtime_r(&t, &tm);
    key->date =
        (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    key->hour = tm.tm_hour;
    key->publisher_id = tally_publisher_of(ev);
    key->campaign_id = tally_pick(ev, EV_CAMPAIGN_ID, job->campaign_id);
    key->group_id = tally_pick(ev, EV_GROUP_ID, job->group_id);
    memset(d, 0, sizeof(*d));
    d->company_id = job->company_id;
    d->n[m] = 1;
    if (m == TM_CLICKS && ev->text[EV_BID])
        d->spend = ev->bid;
    return 1;
}

void tally_format_money(int64_t v, char out[32])
{
    const char *sign = v < 0 ? "-" : "";
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    snprintf(out, 32, "%s%llu.%04llu", sign,
             (unsigned long long)(a / EV_BID_SCALE),
             (unsigned long long)(a % EV_BID_SCALE));
}
