/* Hexadecimal digits, for the parsers of UUIDs, JSON escapes and URLs. */
#ifndef ADTALLY_UTIL_HEX_H
#define ADTALLY_UTIL_HEX_H

/* Returns the value 0-15 of the hex digit c (either case), or -1. */
static inline int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
