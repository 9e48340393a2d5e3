/* libFuzzer target: one query string through event_parse_query; an
 * accepted event must write JSON that parses back equal, also after its
 * user agent is set from the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"

#define FUZZ_MAX 65536

static struct event ev, back;
static struct buf out;

static void check_error(const struct ev_error *err)
{
    if (err->reason[0] == '\0')
        abort();
    if (err->field[0] && event_field_lookup(err->field, strlen(err->field)) < 0)
        abort();
}

/* Writes ev as JSON and parses it back: the two must be equal. */
static void check_round_trip(void)
{
    struct ev_error err;

    buf_reset(&out);
    if (event_to_json(&ev, &out) != 0)
        abort();
    if (event_parse_json(&back, out.data, out.len, &err) != 0)
        abort();
    if (!event_equal(&ev, &back))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct ev_error err;

    if (size > FUZZ_MAX)
        return 0;
    if (ev.store.cap == 0) {
        event_init(&ev);
        event_init(&back);
        buf_init(&out, 0);
    }
    if (event_parse_query(&ev, s, size, &err) != 0) {
        check_error(&err);
        return 0;
    }
    check_round_trip();
    if (event_set_text(&ev, EV_UA, s, size, &err) != 0)
        check_error(&err);
    check_round_trip();
    return 0;
}
