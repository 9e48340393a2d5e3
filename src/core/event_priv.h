/* Internals shared by the event parsers (event.c, event_csv.c); not for
 * use outside src/core. */
#ifndef ADTALLY_CORE_EVENT_PRIV_H
#define ADTALLY_CORE_EVENT_PRIV_H

#include "core/event.h"
#include "core/json.h"

/* Fills err with a reason and the name of field f (f < 0: the whole
 * input). Returns -1. */
int ev_fail(struct ev_error *err, int f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Empties ev for a new input, keeping the store's memory. */
void ev_clear(struct event *ev);

/* Turns the bytes appended to the store since `off` into the value of f,
 * as an input value of JSON type t (JSON_STRING for text from CSV or a
 * query string): validates, normalises and records it. Returns 0, or -1
 * with err filled and the store cut back to off. */
int ev_commit(struct event *ev, enum ev_field f, enum json_type t, size_t off,
              struct ev_error *err);

/* Completes a parse: sets ts from create_time or create_time from ts.
 * Returns 0, or -1 with err filled when the event has neither. */
int ev_finish(struct event *ev, struct ev_error *err);

/* Marks f as given once more; -1 with err filled on a repeat. */
int ev_seen(uint64_t *seen, enum ev_field f, struct ev_error *err);

#endif
