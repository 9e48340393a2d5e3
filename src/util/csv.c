/* RFC 4180 CSV record splitting. */
#include "util/csv.h"

#include <stdio.h>

void csv_row_init(struct csv_row *row)
{
    row->ncells = 0;
    buf_init(&row->store, 0);
}

void csv_row_free(struct csv_row *row)
{
    buf_free(&row->store);
}

/* Reads one quoted cell starting after its opening quote at s[*i]. */
static int csv_quoted(struct buf *b, const char *s, size_t n, size_t *i)
{
    for (; *i < n; (*i)++) {
        if (s[*i] != '"') {
            if (buf_putc(b, s[*i]) != 0)
                return -1;
            continue;
        }
        if (*i + 1 < n && s[*i + 1] == '"') {
            if (buf_putc(b, '"') != 0)
                return -1;
            (*i)++;
            continue;
        }
        (*i)++;
        return 0;
    }
    return -1;
}

int csv_split(struct csv_row *row, const char *s, size_t n, char *why,
              size_t whylen)
{
    size_t i = 0, offs[CSV_MAX_CELLS];

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    buf_reset(&row->store);
    row->ncells = 0;
    for (;;) {
        size_t start = row->store.len;

        if (row->ncells == CSV_MAX_CELLS) {
            snprintf(why, whylen, "more than %d cells", CSV_MAX_CELLS);
            return -1;
        }
        if (i < n && s[i] == '"') {
            i++;
            if (csv_quoted(&row->store, s, n, &i) != 0) {
                snprintf(why, whylen, "unterminated quote");
                return -1;
            }
            if (i < n && s[i] != ',') {
                snprintf(why, whylen, "text after a closing quote");
                return -1;
            }
        } else {
            for (; i < n && s[i] != ','; i++) {
                if (s[i] == '"' || buf_putc(&row->store, s[i]) != 0) {
                    snprintf(why, whylen, "quote inside a bare cell");
                    return -1;
                }
            }
        }
        offs[row->ncells] = start;
        row->len[row->ncells++] = row->store.len - start;
        if (buf_putc(&row->store, '\0') != 0) {
            snprintf(why, whylen, "record too large");
            return -1;
        }
        if (i >= n)
            break;
        i++; /* the comma */
    }
    /* The store may have moved while growing: point at cells last. */
    for (int c = 0; c < row->ncells; c++)
        row->cell[c] = row->store.data + offs[c];
    return row->ncells;
}
