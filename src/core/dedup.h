/* The dedup window: the event ids (create_time) seen in the last W of
 * arrival time, in bounded memory. */
#ifndef ADTALLY_CORE_DEDUP_H
#define ADTALLY_CORE_DEDUP_H

#include <stddef.h>
#include <stdint.h>

/* Memory: each event in the window costs at most about
 * DEDUP_BYTES_PER_EVENT bytes: a 24-byte ring entry (the ring doubles, so
 * up to 48) plus 4-byte index slots kept at most half full (up to 16). */
#define DEDUP_BYTES_PER_EVENT 64

struct dedup_entry {
    uint8_t id[16];
    int64_t arrival_ms;
};

struct dedup {
    int64_t window_ms;
    size_t max_events; /* the ring never holds more */
    /* Entries in arrival order, a ring of ring_cap (a power of two). */
    struct dedup_entry *ring;
    uint64_t head, tail; /* absolute positions; live: [head, tail) */
    size_t ring_cap;
    /* Open addressing over ring positions (low 32 bits, +1; 0: empty).
     * Slots of evicted entries go stale and are swept by a rebuild. */
    uint32_t *slots;
    size_t nslots; /* a power of two */
    size_t used;   /* slots holding a position, live or stale */
    int64_t newest_ms;
    uint64_t evicted_early; /* dropped before their time: the cap hit */
};

/* Starts an empty window. Returns 0 or -1 (out of memory). */
int dedup_init(struct dedup *d, int64_t window_ms, size_t max_events);
void dedup_free(struct dedup *d);

/* Records `id` arriving at `arrival_ms`. Returns 1 when the id was already
 * seen within the window (a repeat: not recorded again), 0 when it is new
 * (recorded), -1 when memory ran out (nothing recorded). Entries older
 * than the newest arrival minus the window are forgotten; when max_events
 * is reached, the oldest are forgotten early (counted in evicted_early). */
int dedup_check(struct dedup *d, const uint8_t id[16], int64_t arrival_ms);

/* Events currently in the window. */
size_t dedup_count(const struct dedup *d);

/* Bytes held. */
size_t dedup_bytes(const struct dedup *d);

#endif
