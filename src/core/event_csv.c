/* CSV input (RFC 4180): the header, the extent of one record and the
 * parse of a record into an event. */
#include <string.h>

#include "core/event.h"
#include "core/event_priv.h"

/* Reads the cell at s[*i], appending its text to out unless out is NULL.
 * Returns 1 when a comma followed (another cell comes), 0 at the end of
 * the record, -1 with *why when the cell is malformed or out is full. */
static int csv_cell(const char *s, size_t n, size_t *i, struct buf *out,
                    const char **why)
{
    size_t j = *i, run;

    if (j < n && s[j] == '"') {
        for (j++;;) {
            const char *q = memchr(s + j, '"', n - j);
            run = q ? (size_t)(q - s) : n;
            if (out && buf_append(out, s + j, run - j) != 0)
                goto full;
            if (q == NULL) {
                *why = "unterminated quote";
                return -1;
            }
            j = run + 1;
            if (j >= n || s[j] != '"')
                break;
            if (out && buf_putc(out, '"') != 0)
                goto full;
            j++;
        }
        if (j < n && s[j] != ',') {
            *why = "text after a closing quote";
            return -1;
        }
    } else {
        const char *c = memchr(s + j, ',', n - j);
        run = c ? (size_t)(c - s) : n;
        if (memchr(s + j, '"', run - j)) {
            *why = "quote inside an unquoted cell";
            return -1;
        }
        if (out && buf_append(out, s + j, run - j) != 0)
            goto full;
        j = run;
    }
    *i = j < n ? j + 1 : j;
    return j < n;
full:
    *why = "cell too large";
    return -1;
}

/* The record without its line end ("\n" or "\r\n"). */
static size_t csv_trim(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\n')
        n--;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    return n;
}

/* Maps one header cell to its field. */
static int header_column(struct csv_header *h, const struct buf *name,
                         uint64_t *seen, struct ev_error *err)
{
    const char *p = name->data ? name->data : "";
    int f = event_field_lookup(p, name->len);

    if (f < 0)
        return ev_fail(err, -1, "unknown column \"%.40s\"", p);
    if (*seen & ((uint64_t)1 << f))
        return ev_fail(err, -1, "duplicate column \"%s\"", p);
    *seen |= (uint64_t)1 << f;
    h->field[h->ncols++] = f;
    return 0;
}

int csv_header_parse(struct csv_header *h, const char *s, size_t n,
                     struct ev_error *err)
{
    struct buf name;
    const char *why;
    uint64_t seen = 0;
    size_t i = 0;
    int more = 1, rc = 0;

    h->ncols = 0;
    if (n > EV_LINE_MAX)
        return ev_fail(err, -1, "header longer than %d bytes", EV_LINE_MAX);
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* a UTF-8 byte order mark */
    n = csv_trim(s, n);
    buf_init(&name, 64);
    while (more == 1 && rc == 0) {
        buf_reset(&name);
        more = csv_cell(s, n, &i, &name, &why);
        if (more < 0)
            rc = ev_fail(err, -1, "header: %s", why);
        else
            rc = header_column(h, &name, &seen, err);
    }
    buf_free(&name);
    if (rc != 0)
        h->ncols = 0;
    return rc;
}

size_t csv_record_len(const char *s, size_t n)
{
    int quoted = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == '\n' && !quoted)
            return i + 1;
    }
    return 0;
}

/* Counts the cells of a record, checking their form. Returns the count,
 * or -1 with err naming the column's field when a cell is malformed. */
static int csv_count(const struct csv_header *h, const char *s, size_t n,
                     struct ev_error *err)
{
    const char *why;
    size_t i = 0;
    int count = 0, more = 1;

    while (more == 1) {
        more = csv_cell(s, n, &i, NULL, &why);
        if (more < 0)
            return ev_fail(err, count < h->ncols ? h->field[count] : -1, "%s",
                           why);
        count++;
    }
    return count;
}

int event_parse_csv(struct event *ev, const struct csv_header *h, const char *s,
                    size_t n, struct ev_error *err)
{
    const char *why;
    size_t i = 0, off;
    int count;

    ev_clear(ev);
    if (n > EV_LINE_MAX)
        return ev_fail(err, -1, "record longer than %d bytes", EV_LINE_MAX);
    n = csv_trim(s, n);
    count = csv_count(h, s, n, err);
    if (count < 0)
        return -1;
    if (count != h->ncols)
        return ev_fail(err, -1, "row has %d cells, header has %d", count,
                       h->ncols);
    for (int col = 0; col < count; col++) {
        enum ev_field f = (enum ev_field)h->field[col];
        off = ev->store.len;
        if (csv_cell(s, n, &i, &ev->store, &why) < 0) {
            ev_fail(err, f, "event too large");
            goto fail;
        }
        if (ev_commit(ev, f, JSON_STRING, off, err) != 0)
            goto fail;
    }
    if (ev_finish(ev, err) == 0)
        return 0;
fail:
    ev_clear(ev);
    return -1;
}
