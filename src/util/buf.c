/* Growable byte buffers with a hard cap. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->cap = cap ? cap : BUF_DEFAULT_CAP;
}

void buf_free(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_reserve(struct buf *b, size_t n)
{
    size_t want, size;
    char *p;

    if (n > b->cap || b->len > b->cap - n)
        return -1;
    want = b->len + n + 1;
    if (want <= b->size)
        return 0;
    size = b->size ? b->size : 256;
    while (size < want)
        size *= 2;
    if (size > b->cap + 1)
        size = b->cap + 1;
    p = realloc(b->data, size);
    if (p == NULL)
        return -1;
    b->data = p;
    b->size = size;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* The escape of byte c inside a JSON string, into esc; its length, or 0
 * when c stands for itself. */
static size_t buf_json_escape(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";

    if (c >= 0x20 && c != '"' && c != '\\')
        return 0;
    esc[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    default:
        break;
    }
    memcpy(esc + 1, "u00", 3);
    esc[4] = hex[c >> 4];
    esc[5] = hex[c & 15];
    return 6;
}

int buf_json_str(struct buf *b, const char *s, size_t n)
{
    size_t run = 0; /* start of the bytes that stand for themselves */

    if (buf_reserve(b, n + 2) != 0)
        return -1;
    b->data[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        char esc[6];
        size_t k = buf_json_escape((unsigned char)s[i], esc);

        if (k == 0)
            continue;
        if (buf_append(b, s + run, i - run) != 0 || buf_append(b, esc, k) != 0)
            return -1;
        run = i + 1;
    }
    if (buf_append(b, s + run, n - run) != 0)
        return -1;
    return buf_putc(b, '"');
}
