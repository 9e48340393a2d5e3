/* A walker over the elements of a top-level JSON array (raw spans). */
#include "core/json_array.h"

#include <string.h>

#include "core/json.h"

enum { JA_START, JA_FIRST, JA_AFTER, JA_NEXT, JA_END, JA_FAILED };

void json_array_init(struct json_array_iter *it, const char *s, size_t n)
{
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->n = n;
    it->state = JA_START;
}

static int ja_fail(struct json_array_iter *it, const char *why, size_t at)
{
    it->state = JA_FAILED;
    it->why = why;
    it->at = at;
    return -1;
}

static size_t ja_skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* From the opening quote at i: the offset after the closing quote, or 0
 * when the string does not end. */
static size_t ja_string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* From the bracket at i: the offset after its match, or 0 with *why. */
static size_t ja_nested_end(const char *s, size_t n, size_t i, const char **why)
{
    char stack[JSON_DEPTH_MAX];
    int depth = 0;

    for (; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            size_t e = ja_string_end(s, n, i);
            if (e == 0)
                break;
            i = e - 1;
        } else if (c == '{' || c == '[') {
            if (depth == JSON_DEPTH_MAX) {
                *why = "nested too deep";
                return 0;
            }
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (stack[--depth] != c) {
                *why = "unbalanced brackets";
                return 0;
            }
            if (depth == 0)
                return i + 1;
        }
    }
    *why = "unterminated element";
    return 0;
}

/* The end of the element starting at i, or 0 with *why. */
static size_t ja_element_end(const char *s, size_t n, size_t i,
                             const char **why)
{
    size_t e;

    if (s[i] == '{' || s[i] == '[')
        return ja_nested_end(s, n, i, why);
    if (s[i] == '"') {
        e = ja_string_end(s, n, i);
        if (e == 0)
            *why = "unterminated string";
        return e;
    }
    for (e = i; e < n && !strchr("{}[]\",: \t\r\n", s[e]); e++)
        ;
    if (e == i)
        *why = "expected a value";
    return e == i ? 0 : e;
}

/* After the array: only whitespace may follow. */
static int ja_finish(struct json_array_iter *it, size_t i)
{
    i = ja_skip_ws(it->s, it->n, i);
    if (i != it->n)
        return ja_fail(it, "text after the array", i);
    it->state = JA_END;
    return 0;
}

int json_array_next(struct json_array_iter *it, const char **el, size_t *len)
{
    const char *s = it->s, *why = NULL;
    size_t i = ja_skip_ws(s, it->n, it->pos), e;

    if (it->state == JA_END)
        return 0;
    if (it->state == JA_FAILED)
        return -1;
    if (it->state == JA_START) {
        if (i == it->n || s[i] != '[')
            return ja_fail(it, "expected '['", i);
        i = ja_skip_ws(s, it->n, i + 1);
        it->state = JA_FIRST;
    }
    if (it->state == JA_AFTER) {
        if (i < it->n && s[i] == ']')
            return ja_finish(it, i + 1);
        if (i == it->n || s[i] != ',')
            return ja_fail(it, "expected ',' or ']'", i);
        i = ja_skip_ws(s, it->n, i + 1);
        it->state = JA_NEXT;
    }
    if (i == it->n)
        return ja_fail(it, "unexpected end", i);
    if (it->state == JA_FIRST && s[i] == ']')
        return ja_finish(it, i + 1);
    e = ja_element_end(s, it->n, i, &why);
    if (e == 0)
        return ja_fail(it, why, i);
    *el = s + i;
    *len = e - i;
    it->pos = e;
    it->state = JA_AFTER;
    return 1;
}
