/* Event times: the accepted text forms, the calendar and the canonical
 * text. */
#include "core/timeparse.h"

#include <assert.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

static const int days_before_month[13] = {0,   0,   31,  59,  90,  120, 151,
                                          181, 212, 243, 273, 304, 334};

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int len[13] = {0,  31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : len[m];
}

/* Leap years from year 1 up to and excluding y. */
static int64_t leaps_before(int64_t y)
{
    y -= 1;
    return y / 4 - y / 100 + y / 400;
}

int64_t timeparse_days(int y, int m, int d)
{
    int64_t days =
        365 * ((int64_t)y - 1970) + leaps_before(y) - leaps_before(1970);

    days += days_before_month[m] + (m > 2 && is_leap(y)) + d - 1;
    return days;
}

/* Reads exactly `count` digits at s[*i]. Returns the value or -1. */
static int read_digits(const char *s, size_t n, size_t *i, int count)
{
    int v = 0;

    if (n - *i < (size_t)count)
        return -1;
    for (int k = 0; k < count; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)count;
    return v;
}

static int expect(const char *s, size_t n, size_t *i, const char *any)
{
    for (; *any; any++) {
        if (*i < n && s[*i] == *any) {
            (*i)++;
            return 0;
        }
    }
    return -1;
}

/* Reads an optional fraction; the first 3 digits give ms. */
static int read_fraction(const char *s, size_t n, size_t *i, int *ms)
{
    int count = 0;

    *ms = 0;
    if (*i >= n || s[*i] != '.')
        return 0;
    (*i)++;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (count < 3)
            *ms = *ms * 10 + (s[*i] - '0');
        count++;
        (*i)++;
    }
    if (count == 0 || count > 9)
        return -1;
    for (int k = count; k < 3; k++)
        *ms *= 10;
    return 0;
}

/* Reads an optional zone into minutes east of UTC. Returns 0, -1 for a
 * malformed zone, -2 for an offset out of range. */
static int read_zone(const char *s, size_t n, size_t *i, int *minutes)
{
    int sign, hh, mm = 0;

    *minutes = 0;
    if (*i >= n)
        return 0;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        return 0;
    }
    if (s[*i] != '+' && s[*i] != '-')
        return -1;
    sign = s[*i] == '-' ? -1 : 1;
    (*i)++;
    hh = read_digits(s, n, i, 2);
    if (hh < 0)
        return -1;
    if (*i < n) {
        expect(s, n, i, ":");
        mm = read_digits(s, n, i, 2);
        if (mm < 0)
            return -1;
    }
    if (hh > 23 || mm > 59)
        return -2;
    *minutes = sign * (hh * 60 + mm);
    return 0;
}

/* The broken-down text of a time. */
struct tp_fields {
    int y, mo, d, h, mi, sec, ms, zone;
};

/* Reads the form of the text; -1 when malformed, -2 bad offset. */
static int read_fields(const char *s, size_t n, struct tp_fields *f)
{
    size_t i = 0;
    int rc;

    if ((f->y = read_digits(s, n, &i, 4)) < 0 || expect(s, n, &i, "-") ||
        (f->mo = read_digits(s, n, &i, 2)) < 0 || expect(s, n, &i, "-") ||
        (f->d = read_digits(s, n, &i, 2)) < 0 || expect(s, n, &i, " Tt") ||
        (f->h = read_digits(s, n, &i, 2)) < 0 || expect(s, n, &i, ":") ||
        (f->mi = read_digits(s, n, &i, 2)) < 0 || expect(s, n, &i, ":") ||
        (f->sec = read_digits(s, n, &i, 2)) < 0)
        return -1;
    if (read_fraction(s, n, &i, &f->ms) != 0)
        return -1;
    rc = read_zone(s, n, &i, &f->zone);
    if (rc != 0)
        return rc;
    return i == n ? 0 : -1;
}

int timeparse_ts(const char *s, size_t n, int64_t *ms, const char **why)
{
    struct tp_fields f;
    int64_t t;
    int rc = read_fields(s, n, &f);

    if (rc != 0) {
        *why = rc == -2 ? "bad time zone offset" : "not a time";
        return -1;
    }
    if (f.mo < 1 || f.mo > 12 || f.d < 1 || f.d > month_days(f.y, f.mo) ||
        f.h > 23 || f.mi > 59 || f.sec > 59) {
        *why = "not a real date";
        return -1;
    }
    if (f.y < 1970) {
        *why = "year outside 1970..9999";
        return -1;
    }
    t = timeparse_days(f.y, f.mo, f.d) * MS_PER_DAY;
    t += ((int64_t)f.h * 3600 + f.mi * 60 + f.sec) * 1000 + f.ms;
    t -= (int64_t)f.zone * 60000;
    if (t < 0 || t >= TIME_MS_END) {
        *why = "year outside 1970..9999";
        return -1;
    }
    *ms = t;
    return 0;
}

/* Writes v as exactly `width` decimal digits. */
static void put_digits(char *out, int v, int width)
{
    for (int k = width - 1; k >= 0; k--) {
        out[k] = (char)('0' + v % 10);
        v /= 10;
    }
}

void timeparse_format(int64_t ms, char out[24])
{
    int64_t days = ms / MS_PER_DAY;
    int rest = (int)(ms % MS_PER_DAY), y, m = 1, leap;

    assert(ms >= 0 && ms < TIME_MS_END);
    y = 1970 + (int)(days / 366);
    while (timeparse_days(y + 1, 1, 1) <= days)
        y++;
    days -= timeparse_days(y, 1, 1);
    leap = is_leap(y);
    while (m < 12 && days >= days_before_month[m + 1] + (m + 1 > 2 && leap))
        m++;
    days -= days_before_month[m] + (m > 2 && leap);
    memcpy(out, "0000-00-00 00:00:00.000", 24);
    put_digits(out, y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, (int)days + 1, 2);
    put_digits(out + 11, rest / 3600000, 2);
    put_digits(out + 14, rest / 60000 % 60, 2);
    put_digits(out + 17, rest / 1000 % 60, 2);
    put_digits(out + 20, rest % 1000, 3);
}
