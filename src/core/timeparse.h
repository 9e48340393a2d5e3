/* Event times: parsing the accepted text forms and the civil calendar. */
#ifndef ADTALLY_CORE_TIMEPARSE_H
#define ADTALLY_CORE_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* 10000-01-01 00:00:00 UTC in ms: times must lie in [0, TIME_MS_END). */
#define TIME_MS_END 253402300800000LL

/* Parses "YYYY-MM-DD HH:MM:SS" or the same with 'T' for the space, then an
 * optional fraction of 1 to 9 digits (truncated to ms), then an optional
 * zone: 'Z', or an offset +HH, +HHMM or +HH:MM (or '-'); no zone is UTC.
 * Returns 0 with *ms since the Unix epoch, UTC, or -1 with a short reason
 * in *why: the text's form, a date or time that does not exist, or a time
 * outside years 1970..9999. */
int timeparse_ts(const char *s, size_t n, int64_t *ms, const char **why);

/* Days from 1970-01-01 to the given date (proleptic Gregorian, y >= 1). */
int64_t timeparse_days(int y, int m, int d);

/* Writes ms (in [0, TIME_MS_END)) as "YYYY-MM-DD HH:MM:SS.mmm". */
void timeparse_format(int64_t ms, char out[24]);

#endif
