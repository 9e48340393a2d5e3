/* The raw tracking event: validation and normalisation of each field, the
 * JSON and query-string parsers, and the normalised JSON output. */
#include "core/event.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/event_priv.h"
#include "core/json.h"
#include "core/timeparse.h"
#include "core/utf8.h"
#include "core/uuid.h"
#include "util/num.h"

/* All decoded values of one input fit: decoding never grows a value by
 * more than a few bytes, and an input is at most EV_LINE_MAX. */
#define EV_STORE_CAP (2 * (size_t)EV_LINE_MAX)

#define EV_BID_MAX ((int64_t)1000000000 * EV_BID_SCALE)

const char *const ev_field_names[EV_NFIELDS] = {
    [EV_CREATE_TIME] = "create_time",
    [EV_TS] = "ts",
    [EV_CUSTOM_TRACK] = "custom_track",
    [EV_JOB_ID] = "job_id",
    [EV_CAMPAIGN_ID] = "campaign_id",
    [EV_GROUP_ID] = "group_id",
    [EV_PUBLISHER_ID] = "publisher_id",
    [EV_BID] = "bid",
    [EV_ED] = "ed",
    [EV_EV] = "ev",
    [EV_V] = "v",
    [EV_CD] = "cd",
    [EV_TZ] = "tz",
    [EV_UID] = "uid",
    [EV_DL] = "dl",
    [EV_DT] = "dt",
    [EV_RL] = "rl",
    [EV_DE] = "de",
    [EV_UA] = "ua",
    [EV_BN] = "bn",
    [EV_MD] = "md",
    [EV_SR] = "sr",
    [EV_VP] = "vp",
    [EV_ID] = "id",
    [EV_UTM_SOURCE] = "utm_source",
    [EV_UTM_MEDIUM] = "utm_medium",
    [EV_UTM_CAMPAIGN] = "utm_campaign",
    [EV_UTM_CONTENT] = "utm_content",
    [EV_UTM_TERM] = "utm_term",
};

const enum ev_kind ev_field_kinds[EV_NFIELDS] = {
    [EV_CREATE_TIME] = EVK_UUID,
    [EV_TS] = EVK_TS,
    [EV_CUSTOM_TRACK] = EVK_TEXT,
    [EV_JOB_ID] = EVK_ID,
    [EV_CAMPAIGN_ID] = EVK_ID,
    [EV_GROUP_ID] = EVK_ID,
    [EV_PUBLISHER_ID] = EVK_ID,
    [EV_BID] = EVK_BID,
    [EV_ED] = EVK_TEXT,
    [EV_EV] = EVK_INT,
    [EV_V] = EVK_INT,
    [EV_CD] = EVK_INT,
    [EV_TZ] = EVK_INT,
    [EV_UID] = EVK_TEXT,
    [EV_DL] = EVK_TEXT,
    [EV_DT] = EVK_TEXT,
    [EV_RL] = EVK_TEXT,
    [EV_DE] = EVK_TEXT,
    [EV_UA] = EVK_TEXT,
    [EV_BN] = EVK_TEXT,
    [EV_MD] = EVK_TEXT,
    [EV_SR] = EVK_TEXT,
    [EV_VP] = EVK_TEXT,
    [EV_ID] = EVK_TEXT,
    [EV_UTM_SOURCE] = EVK_TEXT,
    [EV_UTM_MEDIUM] = EVK_TEXT,
    [EV_UTM_CAMPAIGN] = EVK_TEXT,
    [EV_UTM_CONTENT] = EVK_TEXT,
    [EV_UTM_TERM] = EVK_TEXT,
};

int ev_fail(struct ev_error *err, int f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof(err->field), "%s",
             f >= 0 ? ev_field_names[f] : "");
    return -1;
}

int event_field_lookup(const char *name, size_t n)
{
    if (n == 0)
        return -1;
    for (int f = 0; f < EV_NFIELDS; f++) {
        const char *fn = ev_field_names[f];
        if (fn[0] == name[0] && strlen(fn) == n && memcmp(fn, name, n) == 0)
            return f;
    }
    return -1;
}

void event_init(struct event *ev)
{
    memset(ev, 0, sizeof(*ev));
    buf_init(&ev->store, EV_STORE_CAP);
}

void event_free(struct event *ev)
{
    if (ev == NULL)
        return;
    buf_free(&ev->store);
    ev_clear(ev);
}

void ev_clear(struct event *ev)
{
    memset(ev->text, 0, sizeof(ev->text));
    memset(ev->len, 0, sizeof(ev->len));
    memset(ev->num, 0, sizeof(ev->num));
    memset(ev->off, 0, sizeof(ev->off));
    memset(ev->uuid, 0, sizeof(ev->uuid));
    ev->bid = 0;
    ev->time_ms = 0;
    buf_reset(&ev->store);
}

/* Points every present text at its place in the store, which may have
 * moved when it grew. */
static void ev_rebase(struct event *ev)
{
    if (ev->store.data == ev->base)
        return;
    for (int f = 0; f < EV_NFIELDS; f++)
        if (ev->text[f])
            ev->text[f] = ev->store.data + ev->off[f];
    ev->base = ev->store.data;
}

/* Drops the store's bytes from off on; the store may have moved since the
 * texts were last pointed at it. */
static void store_cut(struct event *ev, size_t off)
{
    ev->store.len = off;
    if (ev->store.data)
        ev->store.data[off] = '\0';
    ev_rebase(ev);
}

/* Records store[off..len) as the text of f and ends it with a NUL. */
static int ev_record(struct event *ev, enum ev_field f, size_t off,
                     struct ev_error *err)
{
    size_t n = ev->store.len - off;

    if (buf_putc(&ev->store, '\0') != 0) {
        store_cut(ev, off);
        return ev_fail(err, f, "event too large");
    }
    ev->off[f] = off;
    ev->len[f] = n;
    ev->text[f] = ev->store.data + off;
    ev_rebase(ev);
    return 0;
}

/* Appends s[0..n) as the text of f. */
static int ev_put(struct event *ev, enum ev_field f, const char *s, size_t n,
                  struct ev_error *err)
{
    size_t off = ev->store.len;

    if (buf_append(&ev->store, s, n) != 0)
        return ev_fail(err, f, "event too large");
    return ev_record(ev, f, off, err);
}

int ev_seen(uint64_t *seen, enum ev_field f, struct ev_error *err)
{
    uint64_t bit = (uint64_t)1 << f;

    if (*seen & bit)
        return ev_fail(err, f, "duplicate field");
    *seen |= bit;
    return 0;
}

/* Checks a text value in place. Objects and arrays are text only for ed,
 * which keeps them as written. */
static int check_text(enum ev_field f, enum json_type t, const char *p,
                      size_t n, struct ev_error *err)
{
    if ((t == JSON_OBJECT || t == JSON_ARRAY) && f != EV_ED)
        return ev_fail(err, f, "an object or array is not text");
    if (memchr(p, '\0', n))
        return ev_fail(err, f, "contains a NUL byte");
    if (!utf8_valid(p, n))
        return ev_fail(err, f, "invalid UTF-8");
    if (n > EV_TEXT_MAX)
        return ev_fail(err, f, "longer than %d bytes", EV_TEXT_MAX);
    return 0;
}

/* Reads an integer field: a JSON number or a string holding one, integral
 * and within 32 bits (ids also >= 0). */
static int parse_int(enum ev_field f, enum json_type t, const char *p, size_t n,
                     int32_t *out, struct ev_error *err)
{
    int64_t v = 0;
    int rc = -1;

    if (t == JSON_NUMBER || t == JSON_STRING)
        rc = json_number_int64(p, n, &v);
    if (rc == -1)
        return ev_fail(err, f, "not an integer");
    if (rc == 0 && v < 0 && ev_field_kinds[f] == EVK_ID)
        return ev_fail(err, f, "negative");
    if (rc == -2 || v < INT32_MIN || v > INT32_MAX)
        return ev_fail(err, f, "outside the 32-bit range");
    *out = (int32_t)v;
    return 0;
}

/* Reads a bid: a JSON number or a string holding one, without a sign or
 * an exponent, at most 4 decimals once trailing zeros go, at most 1e9.
 * Gives bid * EV_BID_SCALE. */
static int parse_bid(enum json_type t, const char *p, size_t n, int64_t *out,
                     struct ev_error *err)
{
    size_t i = 0, fl = 0;
    int64_t v = 0;

    if ((t != JSON_NUMBER && t != JSON_STRING) || !json_number_valid(p, n))
        return ev_fail(err, EV_BID, "not a decimal");
    if (p[0] == '-')
        return ev_fail(err, EV_BID, "negative");
    if (memchr(p, 'e', n) || memchr(p, 'E', n))
        return ev_fail(err, EV_BID, "exponent not allowed");
    for (; i < n && p[i] != '.'; i++) {
        if (i >= 10)
            return ev_fail(err, EV_BID, "greater than 1e9");
        v = v * 10 + (p[i] - '0');
    }
    while (n > i + 1 && p[n - 1] == '0')
        n--;
    if (n > i + 1 && n - i - 1 > 4)
        return ev_fail(err, EV_BID, "more than 4 decimals");
    for (i++; i < n; i++, fl++)
        v = v * 10 + (p[i] - '0');
    for (; fl < 4; fl++)
        v *= 10;
    if (v > EV_BID_MAX)
        return ev_fail(err, EV_BID, "greater than 1e9");
    *out = v;
    return 0;
}

/* Writes a scaled bid with its trailing fractional zeros removed. */
static int format_bid(int64_t v, char out[40])
{
    int len = (int)num_format_i64(out, v / EV_BID_SCALE);
    int frac = (int)(v % EV_BID_SCALE);

    assert(v >= 0);
    if (frac == 0)
        return len;
    out[len++] = '.';
    for (int d = EV_BID_SCALE / 10; d > 0; d /= 10)
        out[len++] = (char)('0' + frac / d % 10);
    out[len] = '\0';
    while (out[len - 1] == '0')
        out[--len] = '\0';
    return len;
}

/* The typed value of a non-text field while it is being read. */
struct ev_typed {
    int32_t num;
    int64_t bid;
    int64_t ms;
    uint8_t uuid[16];
};

/* Parses a non-text field into tv and writes its canonical text to norm.
 * Returns the text's length, or -1 with err filled. */
static int parse_typed(enum ev_field f, enum json_type t, const char *p,
                       size_t n, struct ev_typed *tv, char norm[40],
                       struct ev_error *err)
{
    const char *why = NULL;

    switch (ev_field_kinds[f]) {
    case EVK_INT:
    case EVK_ID:
        if (parse_int(f, t, p, n, &tv->num, err) != 0)
            return -1;
        return (int)num_format_i64(norm, tv->num);
    case EVK_BID:
        if (parse_bid(t, p, n, &tv->bid, err) != 0)
            return -1;
        return format_bid(tv->bid, norm);
    case EVK_TS:
        if (t != JSON_STRING || timeparse_ts(p, n, &tv->ms, &why) != 0)
            return ev_fail(err, f, "%s", why ? why : "not a time");
        timeparse_format(tv->ms, norm);
        return 23;
    case EVK_UUID:
        if (t != JSON_STRING || uuid_parse(p, n, tv->uuid, &why) != 0)
            return ev_fail(err, f, "%s", why ? why : "not a UUID");
        uuid_format(tv->uuid, norm);
        return 36;
    case EVK_TEXT:
        break;
    }
    assert(0);
    return -1;
}

/* Replaces the raw text at store[off..] by the canonical text of f and
 * stores its typed value. */
static int commit_typed(struct event *ev, enum ev_field f, enum json_type t,
                        size_t off, struct ev_error *err)
{
    struct ev_typed tv;
    char norm[40];
    int len;

    len = parse_typed(f, t, ev->store.data + off, ev->store.len - off, &tv,
                      norm, err);
    if (len < 0)
        return -1;
    store_cut(ev, off);
    if (ev_put(ev, f, norm, (size_t)len, err) != 0)
        return -1;
    if (ev_field_kinds[f] == EVK_INT || ev_field_kinds[f] == EVK_ID)
        ev->num[f] = tv.num;
    else if (f == EV_BID)
        ev->bid = tv.bid;
    else if (f == EV_TS)
        ev->time_ms = tv.ms;
    else
        memcpy(ev->uuid, tv.uuid, sizeof(ev->uuid));
    return 0;
}

int ev_commit(struct event *ev, enum ev_field f, enum json_type t, size_t off,
              struct ev_error *err)
{
    size_t n = ev->store.len - off;
    int rc;

    if (t == JSON_NULL || (t == JSON_STRING && n == 0)) {
        store_cut(ev, off);
        ev->text[f] = NULL;
        ev->len[f] = 0;
        ev->num[f] = 0;
        if (f == EV_BID)
            ev->bid = 0;
        return 0;
    }
    if (ev_field_kinds[f] != EVK_TEXT)
        rc = commit_typed(ev, f, t, off, err);
    else if (check_text(f, t, ev->store.data + off, n, err) != 0)
        rc = -1;
    else
        rc = ev_record(ev, f, off, err);
    if (rc != 0)
        store_cut(ev, off);
    return rc;
}

/* Sets ts from the time of create_time. Nothing changes on failure. */
static int ts_from_uuid(struct event *ev, struct ev_error *err)
{
    int64_t ms = uuid_time_ms(ev->uuid);
    char text[24];

    if (ms < 0 || ms >= TIME_MS_END)
        return ev_fail(err, EV_CREATE_TIME, "time before 1970");
    timeparse_format(ms, text);
    if (ev_put(ev, EV_TS, text, 23, err) != 0)
        return -1;
    ev->time_ms = ms;
    return 0;
}

/* Makes create_time from the event time. Nothing changes on failure. */
static int uuid_from_ts(struct event *ev, struct ev_error *err)
{
    uint8_t u[16];
    char text[37];

    if (ev->time_ms >= UUID_V1_MS_END)
        return ev_fail(err, EV_TS, "too late for a version-1 UUID");
    if (uuid_make_v1(ev->time_ms, u) != 0)
        return ev_fail(err, EV_CREATE_TIME, "no random bytes for a UUID");
    uuid_format(u, text);
    if (ev_put(ev, EV_CREATE_TIME, text, 36, err) != 0)
        return -1;
    memcpy(ev->uuid, u, sizeof(u));
    return 0;
}

int ev_finish(struct event *ev, struct ev_error *err)
{
    if (ev->text[EV_TS] == NULL && ev->text[EV_CREATE_TIME] == NULL)
        return ev_fail(err, EV_TS, "no ts and no create_time");
    if (ev->text[EV_TS] == NULL && ts_from_uuid(ev, err) != 0)
        return -1;
    if (ev->text[EV_CREATE_TIME] == NULL && uuid_from_ts(ev, err) != 0)
        return -1;
    return 0;
}

/* Ends a failed parse: the event holds no field. */
static int ev_abandon(struct event *ev)
{
    ev_clear(ev);
    return -1;
}

/* Takes one member of the input object; unknown keys are skipped. */
static int json_member_take(struct event *ev, const struct json_member *m,
                            uint64_t *seen, struct ev_error *err)
{
    size_t off = ev->store.len;
    char name[32];
    int f, len, rc = 0;

    len = json_key_decode(m->key, m->klen, name, sizeof(name));
    f = len > 0 ? event_field_lookup(name, (size_t)len) : -1;
    if (f < 0)
        return 0;
    if (ev_seen(seen, (enum ev_field)f, err) != 0)
        return -1;
    if (m->type == JSON_STRING)
        rc = json_string_decode(m->val, m->vlen, &ev->store);
    else if (m->type != JSON_NULL)
        rc = buf_append(&ev->store, m->val, m->vlen);
    if (rc != 0)
        return ev_fail(err, f, "event too large");
    return ev_commit(ev, (enum ev_field)f, m->type, off, err);
}

/* Explains why the input is not a valid object, naming the field when the
 * fault lies in the value of a known key. */
static int json_fail(const struct json_iter *it, const struct json_member *m,
                     struct ev_error *err)
{
    char name[32];
    int len, f = -1;

    if (m->key) {
        len = json_key_decode(m->key, m->klen, name, sizeof(name));
        f = len > 0 ? event_field_lookup(name, (size_t)len) : -1;
    }
    if (f >= 0)
        return ev_fail(err, f, "%s", it->why);
    return ev_fail(err, -1, "invalid JSON: %s at byte %zu", it->why, it->at);
}

static int starts_object(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i < n && s[i] == '{';
}

int event_parse_json(struct event *ev, const char *s, size_t n,
                     struct ev_error *err)
{
    struct json_iter it;
    struct json_member m;
    uint64_t seen = 0;
    int rc;

    ev_clear(ev);
    if (n > EV_LINE_MAX)
        return ev_fail(err, -1, "line longer than %d bytes", EV_LINE_MAX);
    if (!starts_object(s, n))
        return ev_fail(err, -1, "not a JSON object");
    json_iter_init(&it, s, n);
    while ((rc = json_iter_next(&it, &m)) == 1)
        if (json_member_take(ev, &m, &seen, err) != 0)
            return ev_abandon(ev);
    if (rc < 0) {
        json_fail(&it, &m, err);
        return ev_abandon(ev);
    }
    if (ev_finish(ev, err) != 0)
        return ev_abandon(ev);
    return 0;
}

/* Reads one byte of a query component at s[*i]: "%XY" or '+' (a space) or
 * the byte itself. Returns it, or -1 for a bad %-escape. */
static int pct_byte(const char *s, size_t n, size_t *i)
{
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    const char *hi, *lo;
    char c = s[(*i)++];

    if (c == '+')
        return ' ';
    if (c != '%')
        return (unsigned char)c;
    if (n - *i < 2 || !s[*i] || !s[*i + 1])
        return -1;
    hi = strchr(hex, s[*i]);
    lo = strchr(hex, s[*i + 1]);
    if (hi == NULL || lo == NULL)
        return -1;
    *i += 2;
    return ((hi - hex) % 16) * 16 + (lo - hex) % 16;
}

/* Decodes a parameter name into out. Returns its length, -1 for a bad
 * escape, -2 when it does not fit (so matches no field). */
static int pct_name(const char *s, size_t n, char *out, size_t outlen)
{
    size_t i = 0, k = 0;
    int c;

    while (i < n) {
        if ((c = pct_byte(s, n, &i)) < 0)
            return -1;
        if (k + 1 >= outlen)
            return -2;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return (int)k;
}

/* Decodes a parameter value onto the end of the store. Returns 0, -1 for
 * a bad escape, -2 when the store is full. */
static int pct_value(const char *s, size_t n, struct buf *out)
{
    size_t i = 0, run;
    int c;

    while (i < n) {
        for (run = i; run < n && s[run] != '%' && s[run] != '+'; run++)
            ;
        if (run > i && buf_append(out, s + i, run - i) != 0)
            return -2;
        if ((i = run) >= n)
            break;
        if ((c = pct_byte(s, n, &i)) < 0)
            return -1;
        if (buf_putc(out, (char)c) != 0)
            return -2;
    }
    return 0;
}

/* Takes one `name=value` parameter; unknown names are skipped. */
static int query_param_take(struct event *ev, const char *p, size_t n,
                            uint64_t *seen, struct ev_error *err)
{
    const char *eq = memchr(p, '=', n);
    size_t nlen = eq ? (size_t)(eq - p) : n, off = ev->store.len;
    char name[32];
    int len, f, rc = 0;

    len = pct_name(p, nlen, name, sizeof(name));
    if (len == -1)
        return ev_fail(err, -1, "invalid %%-escape in a parameter name");
    f = len > 0 ? event_field_lookup(name, (size_t)len) : -1;
    if (f < 0)
        return 0;
    if (ev_seen(seen, (enum ev_field)f, err) != 0)
        return -1;
    if (eq)
        rc = pct_value(eq + 1, n - nlen - 1, &ev->store);
    if (rc == -1)
        return ev_fail(err, f, "invalid %%-escape");
    if (rc == -2)
        return ev_fail(err, f, "event too large");
    return ev_commit(ev, (enum ev_field)f, JSON_STRING, off, err);
}

int event_parse_query(struct event *ev, const char *qs, size_t n,
                      struct ev_error *err)
{
    uint64_t seen = 0;
    size_t i, end;

    ev_clear(ev);
    if (n > EV_LINE_MAX)
        return ev_fail(err, -1, "query longer than %d bytes", EV_LINE_MAX);
    for (i = 0; i < n; i = end + 1) {
        const char *amp = memchr(qs + i, '&', n - i);
        end = amp ? (size_t)(amp - qs) : n;
        if (end > i && query_param_take(ev, qs + i, end - i, &seen, err))
            return ev_abandon(ev);
    }
    if (ev_finish(ev, err) != 0)
        return ev_abandon(ev);
    return 0;
}

/* Clears ts or create_time by deriving it from the other, as a parse does
 * when one is missing. */
static int clear_time_field(struct event *ev, enum ev_field f,
                            struct ev_error *err)
{
    enum ev_field other = f == EV_TS ? EV_CREATE_TIME : EV_TS;

    if (ev->text[other] == NULL)
        return ev_fail(err, EV_TS, "no ts and no create_time");
    return f == EV_TS ? ts_from_uuid(ev, err) : uuid_from_ts(ev, err);
}

int event_set_text(struct event *ev, enum ev_field f, const char *s, size_t n,
                   struct ev_error *err)
{
    size_t off = ev->store.len;

    assert(f >= 0 && f < EV_NFIELDS);
    if (n > EV_TEXT_MAX)
        return ev_fail(err, f, "longer than %d bytes", EV_TEXT_MAX);
    if (n == 0 && (f == EV_TS || f == EV_CREATE_TIME))
        return clear_time_field(ev, f, err);
    if (buf_append(&ev->store, s, n) != 0)
        return ev_fail(err, f, "event too large");
    return ev_commit(ev, f, JSON_STRING, off, err);
}

int event_to_json(const struct event *ev, struct buf *out)
{
    int first = 1;

    if (buf_putc(out, '{') != 0)
        return -1;
    for (int f = 0; f < EV_NFIELDS; f++) {
        enum ev_kind k = ev_field_kinds[f];
        int rc;

        if (ev->text[f] == NULL)
            continue;
        rc = (first ? 0 : buf_putc(out, ',')) | buf_putc(out, '"') |
             buf_puts(out, ev_field_names[f]) | buf_append(out, "\":", 2);
        if (rc == 0 && (k == EVK_INT || k == EVK_ID || k == EVK_BID))
            rc = buf_append(out, ev->text[f], ev->len[f]);
        else if (rc == 0)
            rc = buf_json_str(out, ev->text[f], ev->len[f]);
        if (rc != 0)
            return -1;
        first = 0;
    }
    return buf_putc(out, '}');
}

int event_equal(const struct event *a, const struct event *b)
{
    for (int f = 0; f < EV_NFIELDS; f++) {
        if ((a->text[f] == NULL) != (b->text[f] == NULL))
            return 0;
        if (a->text[f] == NULL)
            continue;
        if (a->len[f] != b->len[f] ||
            memcmp(a->text[f], b->text[f], a->len[f]) != 0)
            return 0;
        if (a->num[f] != b->num[f])
            return 0;
    }
    return a->bid == b->bid && a->time_ms == b->time_ms &&
           memcmp(a->uuid, b->uuid, sizeof(a->uuid)) == 0;
}

void event_format_ts(int64_t time_ms, char out[24])
{
    timeparse_format(time_ms, out);
}

void event_format_uuid(const uint8_t uuid[16], char out[37])
{
    uuid_format(uuid, out);
}

int64_t event_uuid_time_ms(const uint8_t uuid[16])
{
    return uuid_time_ms(uuid);
}
