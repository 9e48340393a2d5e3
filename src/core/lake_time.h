/* The lake's hours and days as text: the forms `adtally lake` accepts and
 * prints, all UTC. */
#ifndef ADTALLY_CORE_LAKE_TIME_H
#define ADTALLY_CORE_LAKE_TIME_H

#include <stdint.h>

#define LAKE_HOUR_MS 3600000LL
#define LAKE_DAY_MS 86400000LL
#define LAKE_HOUR_TEXT 14 /* "YYYY-MM-DDTHH" and its NUL */

/* Parses an hour: "YYYY-MM-DDTHH" or "YYYY-MM-DD HH", UTC. Returns 0 with
 * the hour's start in ms since the Unix epoch, or -1 with a short reason
 * in *why (the form, or a date that does not exist). */
int lake_hour_parse(const char *s, int64_t *hour_ms, const char **why);

/* Parses a day "YYYY-MM-DD", UTC: 0 with its midnight in ms, or -1. */
int lake_day_parse(const char *s, int64_t *day_ms, const char **why);

/* Writes hour_ms (an hour's start, in years 1970..9999) as
 * "YYYY-MM-DDTHH". */
void lake_hour_format(int64_t hour_ms, char out[LAKE_HOUR_TEXT]);

#endif
