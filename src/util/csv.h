/* RFC 4180 CSV records split into cells (core/event.h finds their end). */
#ifndef ADTALLY_UTIL_CSV_H
#define ADTALLY_UTIL_CSV_H

#include <stddef.h>

#include "util/buf.h"

#define CSV_MAX_CELLS 256

/* The cells of one record; text points into `store`, NUL-terminated. */
struct csv_row {
    int ncells;
    const char *cell[CSV_MAX_CELLS];
    size_t len[CSV_MAX_CELLS];
    struct buf store;
};

/* Splits one record into cells, resolving "" inside quotes. Returns the
 * number of cells, or -1 with a reason in why (a quote in the middle of a
 * bare cell, an unterminated quote, text after a closing quote, more than
 * CSV_MAX_CELLS cells). */
int csv_split(struct csv_row *row, const char *s, size_t n, char *why,
              size_t whylen);

void csv_row_init(struct csv_row *row);
void csv_row_free(struct csv_row *row);

#endif
