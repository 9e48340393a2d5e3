/* Record reader for `adtally import`: chunks in, whole records out. */
#include "role/import_reader.h"

#include <string.h>

#include "core/event.h"

#define READ_CHUNK ((size_t)1 << 20)

void import_reader_init(struct import_reader *r, FILE *f, int csv)
{
    memset(r, 0, sizeof(*r));
    r->f = f;
    r->csv = csv;
    r->next_line = 1;
    buf_init(&r->b, READ_CHUNK + 2 * EV_LINE_MAX);
}

void import_reader_free(struct import_reader *r)
{
    buf_free(&r->b);
}

/* Drops what was handed out and reads more. Returns bytes read or -1. */
static long import_reader_fill(struct import_reader *r)
{
    size_t got;

    if (r->pos > 0) {
        memmove(r->b.data, r->b.data + r->pos, r->b.len - r->pos);
        r->b.len -= r->pos;
        r->pos = 0;
    }
    if (buf_reserve(&r->b, READ_CHUNK) != 0)
        return -1;
    got = fread(r->b.data + r->b.len, 1, READ_CHUNK, r->f);
    r->b.len += got;
    r->b.data[r->b.len] = '\0';
    if (got < READ_CHUNK) {
        if (ferror(r->f))
            return -1;
        r->eof = 1;
    }
    return (long)got;
}

static size_t import_record_len(const struct import_reader *r, const char *s,
                                size_t n)
{
    const char *nl;

    if (r->csv)
        return csv_record_len(s, n);
    nl = memchr(s, '\n', n);
    return nl ? (size_t)(nl - s) + 1 : 0;
}

static long import_count_lines(const char *s, size_t n)
{
    long k = 0;

    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* Skips to just after the next line end, reading as needed. */
static int import_reader_skip(struct import_reader *r)
{
    for (;;) {
        char *nl = memchr(r->b.data + r->pos, '\n', r->b.len - r->pos);
        if (nl != NULL) {
            size_t k = (size_t)(nl - (r->b.data + r->pos)) + 1;
            r->consumed += k;
            r->pos += k;
            return 0;
        }
        r->consumed += r->b.len - r->pos;
        r->pos = r->b.len;
        if (r->eof)
            return 0;
        if (import_reader_fill(r) < 0)
            return -2;
    }
}

int import_reader_next(struct import_reader *r, const char **rec, size_t *n)
{
    for (;;) {
        size_t avail = r->b.len - r->pos, len;
        const char *s = r->b.data ? r->b.data + r->pos : "";

        len = import_record_len(r, s, avail);
        if (len == 0 && r->eof && avail > 0)
            len = avail; /* the last record, without a line end */
        if (len > EV_LINE_MAX || (len == 0 && avail > EV_LINE_MAX)) {
            /* Too long: give the caller the head, then skip the line. */
            static char head[256];
            memcpy(head, s, sizeof(head));
            r->line = r->next_line++;
            *rec = head;
            *n = sizeof(head);
            return import_reader_skip(r) == 0 ? -1 : -2;
        }
        if (len > 0) {
            *rec = s;
            *n = len;
            r->pos += len;
            r->consumed += len;
            r->line = r->next_line;
            r->next_line += import_count_lines(s, len);
            return 1;
        }
        if (r->eof)
            return 0;
        if (import_reader_fill(r) < 0)
            return -2;
    }
}
