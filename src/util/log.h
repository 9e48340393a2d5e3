/* Logging: one line per event on stderr, `time level component: message`. */
#ifndef ADTALLY_UTIL_LOG_H
#define ADTALLY_UTIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written; the default is LOG_INFO. */
void log_set_level(enum log_level lvl);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *name, enum log_level *out);

int log_enabled(enum log_level lvl);

/* Writes one line: `2026-12-03T18:30:00.123Z info comp: message`. */
void log_write(enum log_level lvl, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(comp, ...)                                                   \
    do {                                                                       \
        if (log_enabled(LOG_DEBUG))                                            \
            log_write(LOG_DEBUG, comp, __VA_ARGS__);                           \
    } while (0)
#define log_info(comp, ...) log_write(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_write(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_write(LOG_ERROR, comp, __VA_ARGS__)

#endif
