/* libFuzzer target: one NDJSON line through event_parse_json; an accepted
 * event must write JSON that parses back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/json.h"

#define FUZZ_MAX 65536

static struct event ev, back;
static struct buf out, again;

/* A refusal must carry a reason and name a real field or none. */
static void check_error(const struct ev_error *err)
{
    if (err->reason[0] == '\0')
        abort();
    if (err->field[0] && event_field_lookup(err->field, strlen(err->field)) < 0)
        abort();
}

/* The JSON reader must agree with itself on what an object is. */
static void check_reader(const char *s, size_t n, int accepted)
{
    enum json_type t;
    const char *v;
    size_t vlen;
    int valid = json_validate(s, n, NULL, 0) == 0;
    int got = json_object_get(s, n, "jobId", &t, &v, &vlen);

    if (accepted && !valid)
        abort();
    if (got == -1 && accepted)
        abort();
    if (got == 0 && (v < s || v + vlen > s + n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct ev_error err;
    int accepted;

    if (size > FUZZ_MAX)
        return 0;
    if (ev.store.cap == 0) {
        event_init(&ev);
        event_init(&back);
        buf_init(&out, 0);
        buf_init(&again, 0);
    }
    accepted = event_parse_json(&ev, s, size, &err) == 0;
    check_reader(s, size, accepted);
    if (!accepted) {
        check_error(&err);
        return 0;
    }
    buf_reset(&out);
    buf_reset(&again);
    if (event_to_json(&ev, &out) != 0)
        abort();
    if (event_parse_json(&back, out.data, out.len, &err) != 0)
        abort();
    if (!event_equal(&ev, &back) || event_to_json(&back, &again) != 0)
        abort();
    if (again.len != out.len || memcmp(again.data, out.data, out.len) != 0)
        abort();
    return 0;
}
