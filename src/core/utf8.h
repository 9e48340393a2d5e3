/* UTF-8: strict decoding of one code point, validation and encoding. */
#ifndef ADTALLY_CORE_UTF8_H
#define ADTALLY_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[0..n). Returns its length in bytes (1 to 4)
 * and sets *cp, or 0 when the bytes are not well-formed UTF-8: truncated,
 * overlong, a surrogate (U+D800..U+DFFF) or above U+10FFFF. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Returns 1 when s[0..n) is entirely well-formed UTF-8, else 0. */
int utf8_valid(const char *s, size_t n);

/* Writes the UTF-8 form of `cp` (a scalar value: not a surrogate, at most
 * U+10FFFF) into out and returns its length, 1 to 4. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
