/* Growable byte buffers with a hard cap on their size. */
#ifndef ADTALLY_UTIL_BUF_H
#define ADTALLY_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t size;
    size_t cap; /* the most bytes `len` may reach; 0 means 64 MiB */
};

#define BUF_DEFAULT_CAP ((size_t)64 << 20)

/* Starts an empty buffer that will refuse to grow past `cap` bytes. */
void buf_init(struct buf *b, size_t cap);

/* Frees the storage; the buffer is empty and usable again. NULL-safe. */
void buf_free(struct buf *b);

/* Empties the buffer but keeps its storage. */
void buf_reset(struct buf *b);

/* Makes room for `n` more bytes. Returns 0, or -1 when that would pass the
 * cap or memory ran out; the contents are unchanged then. */
int buf_reserve(struct buf *b, size_t n);

/* Appends bytes; returns 0 or -1 (over the cap; nothing appended). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends `s` as a JSON string literal, quotes included. */
int buf_json_str(struct buf *b, const char *s, size_t n);

#endif
