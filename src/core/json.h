/* A small strict JSON reader (RFC 8259) that works on spans of the input:
 * no allocation per value, nesting capped at JSON_DEPTH_MAX. */
#ifndef ADTALLY_CORE_JSON_H
#define ADTALLY_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define JSON_DEPTH_MAX 32 /* objects and arrays nested deeper are refused */

enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_OBJECT,
    JSON_ARRAY
};

/* Checks that s[0..n) is exactly one JSON value, with whitespace around it
 * allowed: strict RFC 8259, strings valid UTF-8 with surrogates paired.
 * Returns 0, or -1 with a short reason and byte offset in `why` (which may
 * be NULL when whylen is 0). The caller caps n. */
int json_validate(const char *s, size_t n, char *why, size_t whylen);

/* Finds the top-level member `key` (compared after decoding escapes) of the
 * object in s[0..n) and gives its type and the raw span of its value; a
 * string's span includes its quotes. The first of repeated keys wins.
 * Returns 0 when found, 1 when absent, -1 when s is not exactly one valid
 * object (then *type, *val and *vlen are unchanged). */
int json_object_get(const char *s, size_t n, const char *key,
                    enum json_type *type, const char **val, size_t *vlen);

/* One member of an object: raw spans into the input. */
struct json_member {
    const char *key; /* the key as written, quotes included */
    size_t klen;
    enum json_type type;
    const char *val; /* the value as written; a string's quotes included */
    size_t vlen;
};

/* Walks the members of the object that s[0..n) must hold. */
struct json_iter {
    const char *s;
    size_t n;
    size_t pos;
    int state;
    const char *why; /* on failure: what was wrong */
    size_t at;       /* on failure: the byte offset where it was found */
};

/* Starts a walk over s[0..n); nothing is read until json_iter_next. */
void json_iter_init(struct json_iter *it, const char *s, size_t n);

/* Returns 1 with the next member in *m (its value fully validated), 0 when
 * the object closed and only whitespace followed it, or -1 when the input
 * is not a valid object: it->why and it->at tell why and where, and m->key
 * is the key whose value was at fault, or NULL. After 0 or -1 every later
 * call returns the same. */
int json_iter_next(struct json_iter *it, struct json_member *m);

/* Decodes the key or string literal raw[0..n) (quotes included) into
 * out[0..outlen) with a terminating NUL. Returns the decoded length, or -1
 * when the literal is invalid or its text does not fit. */
int json_key_decode(const char *raw, size_t n, char *out, size_t outlen);

/* Decodes a JSON string literal (its raw span, quotes included) and
 * appends the text to `out`, escapes resolved. Returns 0, or -1 when the
 * literal is invalid or `out` reached its cap; out->len is unchanged then.
 * The text may hold NUL bytes (from \u0000). */
int json_string_decode(const char *raw, size_t n, struct buf *out);

/* Returns 1 when raw[0..n) is exactly one JSON number, else 0. */
int json_number_valid(const char *raw, size_t n);

/* Reads a JSON number whose value is an integer: "48", "48.0", "-3",
 * "4.8e1" give 48, 48, -3, 48 exactly (no floating point). Returns 0, or
 * -1 when raw is not a JSON number, not integral or outside int64. */
int json_number_integral(const char *raw, size_t n, int64_t *out);

/* The same, telling the failures apart: -1 when not a JSON number or not
 * integral, -2 when integral but outside int64. */
int json_number_int64(const char *raw, size_t n, int64_t *out);

#endif
