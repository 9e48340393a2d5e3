/* Private to the CQL client: bounded readers and writers of wire types. */
#ifndef ADTALLY_CLIENT_CQL_WIRE_H
#define ADTALLY_CLIENT_CQL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "client/cql.h"
#include "util/buf.h"

/* A cursor over received bytes. Once a read would pass the end, `bad` is
 * set, and that read and every later one yield zeros without touching
 * memory; callers check `bad` once after a run of reads. */
struct cql_rd {
    const uint8_t *p;
    size_t n;
    size_t off;
    int bad;
};

void cql_rd_init(struct cql_rd *r, const uint8_t *p, size_t n);
size_t cql_rd_left(const struct cql_rd *r);
/* The next k bytes, or NULL (and bad) when fewer are left. */
const uint8_t *cql_rd_take(struct cql_rd *r, size_t k);
uint8_t cql_rd_u8(struct cql_rd *r);
uint16_t cql_rd_u16(struct cql_rd *r);
int32_t cql_rd_i32(struct cql_rd *r);
int64_t cql_rd_i64(struct cql_rd *r);
/* [string] and [short bytes]. */
void cql_rd_string(struct cql_rd *r, struct cql_str *s);
/* [bytes]: s->p is NULL for a null (negative length). */
void cql_rd_bytes(struct cql_rd *r, struct cql_str *s);
/* [string list]: skips it, keeping the first entry in `first` if given,
 * and returns how many it held. */
size_t cql_rd_string_list(struct cql_rd *r, struct cql_str *first);

/* A writer appending one frame to a buf. The first write that would pass
 * the buf's cap, or a length too large for its field, sets `bad`; later
 * writes do nothing, and cql_wr_end puts the buf back as it was. */
struct cql_wr {
    struct buf *b;
    size_t start;
    int bad;
};

void cql_wr_begin(struct cql_wr *w, struct buf *b, int16_t stream,
                  uint8_t opcode);
/* Patches the body length. CQL_OK, or CQL_ERR_LIMIT after undoing. */
int cql_wr_end(struct cql_wr *w);
void cql_wr_mem(struct cql_wr *w, const void *p, size_t n);
void cql_wr_u8(struct cql_wr *w, uint8_t v);
void cql_wr_u16(struct cql_wr *w, uint16_t v);
void cql_wr_i32(struct cql_wr *w, int32_t v);
void cql_wr_i64(struct cql_wr *w, int64_t v);
void cql_wr_string(struct cql_wr *w, const char *s, size_t n);
void cql_wr_long_string(struct cql_wr *w, const char *s, size_t n);
void cql_wr_short_bytes(struct cql_wr *w, const void *p, size_t n);
void cql_wr_value(struct cql_wr *w, const struct cql_value *v);

/* Locates the message in a body whose header is already in f->h. */
int cql_frame_locate(struct cql_frame *f, const uint8_t *body, size_t n);

/* snprintf into err (when errlen > 0), then returns rc. */
int cql_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
