/* The raw tracking event (DESIGN §2): parsing, validation, normalisation. */
#ifndef ADTALLY_CORE_EVENT_H
#define ADTALLY_CORE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* The fields, in the order the normalised JSON writes them. */
enum ev_field {
    EV_CREATE_TIME,
    EV_TS,
    EV_CUSTOM_TRACK,
    EV_JOB_ID,
    EV_CAMPAIGN_ID,
    EV_GROUP_ID,
    EV_PUBLISHER_ID,
    EV_BID,
    EV_ED,
    EV_EV,
    EV_V,
    EV_CD,
    EV_TZ,
    EV_UID,
    EV_DL,
    EV_DT,
    EV_RL,
    EV_DE,
    EV_UA,
    EV_BN,
    EV_MD,
    EV_SR,
    EV_VP,
    EV_ID,
    EV_UTM_SOURCE,
    EV_UTM_MEDIUM,
    EV_UTM_CAMPAIGN,
    EV_UTM_CONTENT,
    EV_UTM_TERM,
    EV_NFIELDS
};

enum ev_kind { EVK_TEXT, EVK_INT, EVK_ID, EVK_BID, EVK_TS, EVK_UUID };

extern const char *const ev_field_names[EV_NFIELDS];
extern const enum ev_kind ev_field_kinds[EV_NFIELDS];

#define EV_TEXT_MAX 8192   /* bytes of one text value */
#define EV_LINE_MAX 262144 /* bytes of one input line or record */
#define EV_BID_SCALE 10000 /* bids are held in 1/10000 units */

/* A validated event. Text values point into `store`, are NUL-terminated,
 * valid UTF-8 and at most EV_TEXT_MAX bytes; absent fields (missing, null
 * or empty on input) have text[f] == NULL. After a successful parse,
 * create_time and ts are always present and in canonical form. The texts
 * point into the event's own store: never copy a struct event by value. */
struct event {
    const char *text[EV_NFIELDS];
    size_t len[EV_NFIELDS];
    /* Typed values, meaningful when text[f] != NULL. */
    int32_t num[EV_NFIELDS]; /* EVK_INT and EVK_ID fields */
    int64_t bid;             /* bid * EV_BID_SCALE */
    int64_t time_ms;         /* event time, ms since the Unix epoch, UTC */
    uint8_t uuid[16];        /* create_time, version 1 */
    struct buf store;
    size_t off[EV_NFIELDS]; /* where text[f] starts in store */
    const char *base;       /* store.data when text[] was last aimed */
};

/* Why an event was refused: a short reason and the field it concerns
 * ("" when the whole line is at fault). */
struct ev_error {
    char reason[160];
    char field[32];
};

/* Prepares an event for use; event_free releases it. NULL-safe free. */
void event_init(struct event *ev);
void event_free(struct event *ev);

/* Each parser fills `ev` from one input and validates it; on success it
 * returns 0 with create_time and ts set (assigning a version-1 UUID whose
 * time is the event time when create_time is absent, and ts from
 * create_time when ts is absent). On failure it returns -1, fills `err`,
 * and `ev` holds nothing usable. `ev` is reset first, so one event can be
 * reused for many inputs. */

/* One JSON object, as in an NDJSON line. */
int event_parse_json(struct event *ev, const char *s, size_t n,
                     struct ev_error *err);

/* An HTTP query string (without the '?'): `a=1&b=x%20y`, '+' is a space. */
int event_parse_query(struct event *ev, const char *qs, size_t n,
                      struct ev_error *err);

/* CSV: the header maps columns to fields; unknown columns are an error. */
struct csv_header {
    int ncols;
    int field[EV_NFIELDS * 2]; /* column -> enum ev_field */
};

/* Parses a header line; returns 0, or -1 with `err` filled. */
int csv_header_parse(struct csv_header *h, const char *s, size_t n,
                     struct ev_error *err);

/* Finds the end of the CSV record starting at s (quotes may hold newlines).
 * Returns the length of the record including its line end, or 0 when the
 * record is not complete within n bytes. */
size_t csv_record_len(const char *s, size_t n);

/* One CSV record (its trailing line end is allowed) under header `h`. */
int event_parse_csv(struct event *ev, const struct csv_header *h, const char *s,
                    size_t n, struct ev_error *err);

/* Sets a field from text as if it had come in an input (same validation).
 * Used to add the user agent of a request. Returns 0 or -1 with `err`. */
int event_set_text(struct event *ev, enum ev_field f, const char *s, size_t n,
                   struct ev_error *err);

/* Appends the normalised JSON object of `ev` (DESIGN §3), one line without
 * a newline: present fields only, in enum order; integers and bid as JSON
 * numbers (bid with its trailing fractional zeros removed), everything else
 * as JSON strings (ed as the JSON text it carried). Returns 0 or -1 (the
 * buffer's cap was reached). Parsing this output with event_parse_json
 * gives back an equal event. */
int event_to_json(const struct event *ev, struct buf *out);

/* Canonical texts: ts as "YYYY-MM-DD HH:MM:SS.mmm" UTC and create_time as
 * lower-case 8-4-4-4-12 hex. */
void event_format_ts(int64_t time_ms, char out[24]);
void event_format_uuid(const uint8_t uuid[16], char out[37]);

/* The time of a version-1 UUID in ms since the Unix epoch. */
int64_t event_uuid_time_ms(const uint8_t uuid[16]);

/* Returns the field named name[0..n), or -1 when there is none. */
int event_field_lookup(const char *name, size_t n);

/* Returns 1 when a and b hold the same fields with the same values (texts,
 * typed values, event time and UUID), else 0. */
int event_equal(const struct event *a, const struct event *b);

#endif
