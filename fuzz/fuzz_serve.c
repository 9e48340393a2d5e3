/* libFuzzer target: `adtally serve`'s request checks on arbitrary bytes.
 * The query parser must either refuse with a message or give values
 * within the caps; a static path it accepts must name a file inside the
 * web folder (no dot segment, no leading slash). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "role/serve.h"

#define FUZZ_MAX 8192

static const struct serve_caps caps = {744, 100};

static void check_query(const char *s, size_t n)
{
    struct serve_query sq;
    char err[256];

    err[0] = '\0';
    if (serve_query_parse(s, n, SQ_RANGE | SQ_TOP, &caps, &sq, err,
                          sizeof(err)) != 0) {
        if (err[0] == '\0')
            abort();
        return;
    }
    if (sq.limit < 1 || sq.limit > caps.max_limit)
        abort();
    for (int f = 0; f < SF_NFILTERS; f++) {
        if (sq.filter[f] < -1 || sq.filter[f] > 2147483647)
            abort();
    }
    if (serve_range_settle(&sq, 460000, caps.max_hours, err, sizeof(err)) ==
            0 &&
        (sq.from_h > sq.to_h || sq.to_h - sq.from_h + 1 > caps.max_hours))
        abort();
}

static void check_path(const char *s, size_t n)
{
    char out[SERVE_PATH_MAX + 16];

    if (serve_path_check(s, n, out, sizeof(out)) != 0)
        return;
    if (out[0] == '/' || out[0] == '.' || strstr(out, "/.") ||
        strstr(out, "//") || strlen(out) >= sizeof(out))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int64_t h;

    if (size > FUZZ_MAX)
        return 0;
    check_query(s, size);
    check_path(s, size);
    if (serve_hour_parse(s, size, &h) == 0 && (h < 0 || size != 13))
        abort();
    return 0;
}
