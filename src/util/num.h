/* Decimal integers written without printf, for the per-event paths. */
#ifndef ADTALLY_UTIL_NUM_H
#define ADTALLY_UTIL_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Writes v in decimal to out (at least 21 bytes), NUL-terminated.
 * Returns the length. */
static inline size_t num_format_i64(char *out, int64_t v)
{
    char tmp[20];
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, len = 0;

    do {
        tmp[n++] = (char)('0' + a % 10);
        a /= 10;
    } while (a > 0);
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

#endif
