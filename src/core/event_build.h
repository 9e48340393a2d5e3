/* Building a validated event field by field from typed values, as the raw
 * lake keeps them (the reverse of an event's typed fields). */
#ifndef ADTALLY_CORE_EVENT_BUILD_H
#define ADTALLY_CORE_EVENT_BUILD_H

#include <stdint.h>

#include "core/event.h"

/* Empties `ev` (initialised with event_init) to receive fields. */
void event_build_begin(struct event *ev);

/*
 * Each sets one field from a typed value, validated and normalised as if
 * the value had come in an input (DESIGN §2), so that event_to_json writes
 * the same text the event had when it was parsed. Returns 0, or -1 with
 * `err` filled and the field left absent.
 */

/* A text field (EVK_TEXT); 0 bytes leave the field absent. */
int event_build_text(struct event *ev, enum ev_field f, const char *s, size_t n,
                     struct ev_error *err);

/* An integer field (EVK_INT or EVK_ID; ids must be >= 0). */
int event_build_int(struct event *ev, enum ev_field f, int32_t v,
                    struct ev_error *err);

/* bid from an exact decimal unscaled * 10^-scale: non-negative, at most 4
 * decimals once trailing zeros go, at most 1e9. */
int event_build_bid(struct event *ev, int64_t unscaled, int32_t scale,
                    struct ev_error *err);

/* ts from ms since the Unix epoch, UTC, in years 1970..9999. */
int event_build_ts(struct event *ev, int64_t ms, struct ev_error *err);

/* create_time from the 16 bytes of a version-1 UUID. */
int event_build_uuid(struct event *ev, const uint8_t uuid[16],
                     struct ev_error *err);

/* Completes the event as a parse does: ts from create_time or create_time
 * from ts when one is absent. Returns 0, or -1 with `err` filled (neither
 * is set) and the event emptied. */
int event_build_end(struct event *ev, struct ev_error *err);

#endif
