/* Logging to stderr, one line per event, with a level threshold. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level log_min = LOG_INFO;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lvl)
{
    log_min = lvl;
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i <= LOG_ERROR; i++) {
        if (strcmp(name, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(enum log_level lvl)
{
    return lvl >= log_min;
}

void log_write(enum log_level lvl, const char *comp, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n;

    if (lvl < log_min)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = snprintf(
        line, sizeof(line),
        "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: ", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        (int)(tv.tv_usec / 1000), log_names[lvl], comp);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    /* One write per line keeps lines whole when several threads log. */
    n = (int)strlen(line);
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
