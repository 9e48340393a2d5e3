/* Walking the elements of a top-level JSON array without decoding them. */
#ifndef ADTALLY_CORE_JSON_ARRAY_H
#define ADTALLY_CORE_JSON_ARRAY_H

#include <stddef.h>

/* A walk over the array that s[0..n) must hold. */
struct json_array_iter {
    const char *s;
    size_t n;
    size_t pos;
    int state;
    const char *why; /* on failure: what was wrong */
    size_t at;       /* on failure: the byte offset where it was found */
};

/* Starts a walk; nothing is read until json_array_next. */
void json_array_init(struct json_array_iter *it, const char *s, size_t n);

/* Returns 1 with the next element's raw span in *el and *len (whitespace
 * around it excluded), 0 when the array closed and only whitespace
 * followed it, or -1 when the input is not an array: it->why and it->at
 * tell why and where. An element's span is only checked for balanced
 * brackets, terminated strings and nesting up to JSON_DEPTH_MAX (see
 * core/json.h); the caller validates each element itself. After 0 or -1
 * every later call returns the same. */
int json_array_next(struct json_array_iter *it, const char **el, size_t *len);

#endif
