/* `adtally import`: reading records (CSV or NDJSON) from a stream in
 * bounded memory. */
#ifndef ADTALLY_ROLE_IMPORT_READER_H
#define ADTALLY_ROLE_IMPORT_READER_H

#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"

struct import_reader {
    FILE *f;
    int csv;
    struct buf b;
    size_t pos;        /* start of the next record in b */
    int eof;           /* f has no more bytes */
    uint64_t consumed; /* bytes handed out as records so far */
    long line;         /* line number where the last record started */
    long next_line;
};

void import_reader_init(struct import_reader *r, FILE *f, int csv);
void import_reader_free(struct import_reader *r);

/* Gives the next record (with its line end) in *rec and *n. Returns 1 for a
 * record, 0 at the end, -1 for a record longer than the line cap (its
 * first bytes are given, the rest skipped), -2 on a read error. */
int import_reader_next(struct import_reader *r, const char **rec, size_t *n);

#endif
