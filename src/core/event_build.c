/* Events from typed values: each value goes through the same validation
 * and normalisation as an input's text. */
#include "core/event_build.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/event_priv.h"
#include "core/timeparse.h"
#include "core/uuid.h"

#define BID_DECIMALS 4

void event_build_begin(struct event *ev)
{
    ev_clear(ev);
}

/* Appends s[0..n) to the store and commits it as the value of f, read as
 * JSON type t. */
static int build_commit(struct event *ev, enum ev_field f, enum json_type t,
                        const char *s, size_t n, struct ev_error *err)
{
    size_t off = ev->store.len;

    if (buf_append(&ev->store, s, n) != 0)
        return ev_fail(err, f, "event too large");
    return ev_commit(ev, f, t, off, err);
}

int event_build_text(struct event *ev, enum ev_field f, const char *s, size_t n,
                     struct ev_error *err)
{
    assert(f >= 0 && f < EV_NFIELDS && ev_field_kinds[f] == EVK_TEXT);
    if (n > EV_TEXT_MAX)
        return ev_fail(err, f, "longer than %d bytes", EV_TEXT_MAX);
    return build_commit(ev, f, JSON_STRING, s, n, err);
}

int event_build_int(struct event *ev, enum ev_field f, int32_t v,
                    struct ev_error *err)
{
    char text[16];
    int n;

    assert(f >= 0 && f < EV_NFIELDS &&
           (ev_field_kinds[f] == EVK_INT || ev_field_kinds[f] == EVK_ID));
    n = snprintf(text, sizeof(text), "%d", (int)v);
    return build_commit(ev, f, JSON_NUMBER, text, (size_t)n, err);
}

/* unscaled * 10^-scale in units of 10^-BID_DECIMALS into *out. Returns 0,
 * or -1 when it has more decimals or does not fit 64 bits. */
static int bid_rescale(int64_t unscaled, int32_t scale, int64_t *out)
{
    int64_t v = unscaled;

    if (v == 0) {
        *out = 0;
        return 0;
    }
    for (; scale > BID_DECIMALS; scale--) {
        if (v % 10 != 0)
            return -1;
        v /= 10;
    }
    for (; scale < BID_DECIMALS; scale++) {
        if (v > INT64_MAX / 10 || v < INT64_MIN / 10)
            return -1;
        v *= 10;
    }
    *out = v;
    return 0;
}

int event_build_bid(struct event *ev, int64_t unscaled, int32_t scale,
                    struct ev_error *err)
{
    char text[48];
    int64_t v;
    int n, frac;

    if (unscaled < 0)
        return ev_fail(err, EV_BID, "negative");
    if (bid_rescale(unscaled, scale, &v) != 0)
        return ev_fail(err, EV_BID, "more than %d decimals or too large",
                       BID_DECIMALS);
    /* Written as the input would be; the commit checks the bounds. */
    frac = (int)(v % EV_BID_SCALE);
    n = snprintf(text, sizeof(text), "%lld.%04d", (long long)(v / EV_BID_SCALE),
                 frac);
    return build_commit(ev, EV_BID, JSON_NUMBER, text, (size_t)n, err);
}

int event_build_ts(struct event *ev, int64_t ms, struct ev_error *err)
{
    char text[24];

    if (ms < 0 || ms >= TIME_MS_END)
        return ev_fail(err, EV_TS, "time outside years 1970..9999");
    timeparse_format(ms, text);
    return build_commit(ev, EV_TS, JSON_STRING, text, 23, err);
}

int event_build_uuid(struct event *ev, const uint8_t uuid[16],
                     struct ev_error *err)
{
    char text[37];

    uuid_format(uuid, text);
    return build_commit(ev, EV_CREATE_TIME, JSON_STRING, text, 36, err);
}

int event_build_end(struct event *ev, struct ev_error *err)
{
    if (ev_finish(ev, err) == 0)
        return 0;
    ev_clear(ev);
    return -1;
}
