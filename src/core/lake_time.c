/* Hours and days of the lake as text, checked by the event time parser. */
#include "core/lake_time.h"

#include <stdio.h>
#include <string.h>

#include "core/timeparse.h"

/* Checks that s is `len` bytes shaped like `form` ('9' a digit, other bytes
 * as written, '*' either 'T' or ' '). */
static int text_shaped(const char *s, size_t len, const char *form)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i], f = form[i];

        if (f == '9'   ? c < '0' || c > '9'
            : f == '*' ? c != 'T' && c != ' '
                       : c != f)
            return 0;
    }
    return 1;
}

/* Parses "YYYY-MM-DD HH:MM:SS" built from the first `keep` bytes of s. */
static int parse_prefix(const char *s, size_t keep, int64_t *ms,
                        const char **why)
{
    char full[24] = "0000-00-00 00:00:00";

    memcpy(full, s, keep);
    full[10] = ' ';
    return timeparse_ts(full, 19, ms, why);
}

int lake_hour_parse(const char *s, int64_t *hour_ms, const char **why)
{
    if (!text_shaped(s, 13, "9999-99-99*99")) {
        *why = "not an hour like 2022-07-18T07 or \"2022-07-18 07\"";
        return -1;
    }
    return parse_prefix(s, 13, hour_ms, why);
}

int lake_day_parse(const char *s, int64_t *day_ms, const char **why)
{
    if (!text_shaped(s, 10, "9999-99-99")) {
        *why = "not a day like 2022-07-18";
        return -1;
    }
    return parse_prefix(s, 10, day_ms, why);
}

void lake_hour_format(int64_t hour_ms, char out[LAKE_HOUR_TEXT])
{
    char full[24];

    timeparse_format(hour_ms, full);
    full[10] = 'T';
    memcpy(out, full, 13);
    out[13] = '\0';
}
