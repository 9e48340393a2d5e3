/* The rejected-event record: reason, field and the input as received. */
#include "core/reject.h"

#include <string.h>

#include "core/utf8.h"

static int reject_base64(struct buf *out, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                              "tuvwxyz0123456789+/";
    int rc = buf_putc(out, '"');

    for (size_t i = 0; i < n && rc == 0; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        char q[4];

        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        rc = buf_append(out, q, 4);
    }
    return rc || buf_putc(out, '"');
}

int reject_to_json(struct buf *out, const struct ev_error *err, const char *raw,
                   size_t n)
{
    int rc = buf_puts(out, "{\"reason\":");

    rc |= buf_json_str(out, err->reason, strlen(err->reason));
    rc |= buf_puts(out, ",\"field\":");
    rc |= buf_json_str(out, err->field, strlen(err->field));
    if (utf8_valid(raw, n)) {
        rc |= buf_puts(out, ",\"raw\":");
        rc |= buf_json_str(out, raw, n);
    } else {
        rc |= buf_puts(out, ",\"raw_base64\":");
        rc |= reject_base64(out, (const unsigned char *)raw, n);
    }
    rc |= buf_putc(out, '}');
    return rc ? -1 : 0;
}
