/* libFuzzer target: CSV records under the tracking.csv header through
 * csv_record_len and event_parse_csv; accepted events must write JSON that
 * parses back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"

#define FUZZ_MAX 65536

static const char header[] =
    "create_time,bid,bn,campaign_id,cd,custom_track,de,dl,dt,ed,ev,group_id,"
    "id,job_id,md,publisher_id,rl,sr,ts,tz,ua,uid,utm_campaign,utm_content,"
    "utm_medium,utm_source,utm_term,v,vp\r\n";

static struct csv_header h;
static struct event ev, back;
static struct buf out;

static void setup(void)
{
    struct ev_error err;

    if (csv_header_parse(&h, header, sizeof(header) - 1, &err) != 0)
        abort();
    event_init(&ev);
    event_init(&back);
    buf_init(&out, 0);
}

/* Parses one record; an accepted one must round-trip through JSON. */
static void check_record(const char *s, size_t n)
{
    struct ev_error err;

    if (event_parse_csv(&ev, &h, s, n, &err) != 0) {
        if (err.reason[0] == '\0')
            abort();
        return;
    }
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
    size_t pos = 0, len;

    if (size > FUZZ_MAX)
        return 0;
    if (h.ncols == 0)
        setup();
    while (pos < size) {
        len = csv_record_len(s + pos, size - pos);
        if (len == 0)
            len = size - pos; /* the last record, without a line end */
        if (len > size - pos ||
            (len > 1 && s[pos + len - 1] != '\n' && pos + len != size))
            abort();
        check_record(s + pos, len);
        pos += len;
    }
    return 0;
}
