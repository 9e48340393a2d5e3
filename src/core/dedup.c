/* The dedup window: a ring in arrival order plus a hash index into it. */
#include "core/dedup.h"

#include <stdlib.h>
#include <string.h>

/* Slots hold positions modulo 2^31, plus one so that 0 stays "empty";
 * the ring never holds 2^31 entries, so a position is found again. */
#define DEDUP_POS_MASK 0x7fffffffu

int dedup_init(struct dedup *d, int64_t window_ms, size_t max_events)
{
    memset(d, 0, sizeof(*d));
    d->window_ms = window_ms;
    d->max_events = max_events ? max_events : 1;
    if (d->max_events > DEDUP_POS_MASK / 2)
        d->max_events = DEDUP_POS_MASK / 2;
    d->ring_cap = 1024;
    d->nslots = 2048;
    d->ring = malloc(d->ring_cap * sizeof(*d->ring));
    d->slots = calloc(d->nslots, sizeof(*d->slots));
    if (d->ring == NULL || d->slots == NULL) {
        dedup_free(d);
        return -1;
    }
    return 0;
}

void dedup_free(struct dedup *d)
{
    if (d == NULL)
        return;
    free(d->ring);
    free(d->slots);
    d->ring = NULL;
    d->slots = NULL;
}

size_t dedup_count(const struct dedup *d)
{
    return (size_t)(d->tail - d->head);
}

size_t dedup_bytes(const struct dedup *d)
{
    return d->ring_cap * sizeof(*d->ring) + d->nslots * sizeof(*d->slots);
}

static uint64_t dedup_hash(const uint8_t id[16])
{
    uint64_t a, b, h;

    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    h = a * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
    h += b;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 29);
}

static uint32_t dedup_slot_of(uint64_t pos)
{
    return ((uint32_t)pos & DEDUP_POS_MASK) + 1;
}

/* The absolute position a slot names, or UINT64_MAX when it is stale. */
static uint64_t dedup_slot_pos(const struct dedup *d, uint32_t slot)
{
    uint32_t back = ((uint32_t)d->tail - (slot - 1)) & DEDUP_POS_MASK;

    if ((uint64_t)back > d->tail - d->head || back == 0)
        return UINT64_MAX;
    return d->tail - back;
}

static struct dedup_entry *dedup_at(const struct dedup *d, uint64_t pos)
{
    return &d->ring[pos & (d->ring_cap - 1)];
}

/* Rebuilds the index from the live entries, at a size that keeps it at
 * most half full after growth. */
static int dedup_reindex(struct dedup *d, size_t want_live)
{
    size_t n = 2048;
    uint32_t *s;

    while (n < want_live * 2)
        n *= 2;
    s = calloc(n, sizeof(*s));
    if (s == NULL)
        return -1;
    free(d->slots);
    d->slots = s;
    d->nslots = n;
    d->used = 0;
    for (uint64_t p = d->head; p < d->tail; p++) {
        size_t i = dedup_hash(dedup_at(d, p)->id) & (n - 1);
        while (s[i])
            i = (i + 1) & (n - 1);
        s[i] = dedup_slot_of(p);
        d->used++;
    }
    return 0;
}

static int dedup_grow_ring(struct dedup *d)
{
    size_t cap = d->ring_cap * 2;
    struct dedup_entry *r = malloc(cap * sizeof(*r));

    if (r == NULL)
        return -1;
    for (uint64_t p = d->head; p < d->tail; p++)
        r[p & (cap - 1)] = *dedup_at(d, p);
    free(d->ring);
    d->ring = r;
    d->ring_cap = cap;
    return 0;
}

static void dedup_evict(struct dedup *d)
{
    while (d->head < d->tail &&
           dedup_at(d, d->head)->arrival_ms < d->newest_ms - d->window_ms)
        d->head++;
    while (d->tail - d->head >= d->max_events) {
        d->head++;
        d->evicted_early++;
    }
}

/* Finds id among the live entries; returns its slot index or the empty
 * slot where it would go. */
static size_t dedup_find(const struct dedup *d, const uint8_t id[16],
                         int *found)
{
    size_t i = dedup_hash(id) & (d->nslots - 1);

    *found = 0;
    for (; d->slots[i]; i = (i + 1) & (d->nslots - 1)) {
        uint64_t p = dedup_slot_pos(d, d->slots[i]);
        if (p != UINT64_MAX && memcmp(dedup_at(d, p)->id, id, 16) == 0) {
            *found = 1;
            break;
        }
    }
    return i;
}

int dedup_check(struct dedup *d, const uint8_t id[16], int64_t arrival_ms)
{
    struct dedup_entry *e;
    size_t i;
    int found;

    if (arrival_ms > d->newest_ms)
        d->newest_ms = arrival_ms;
    dedup_evict(d);
    i = dedup_find(d, id, &found);
    if (found)
        return 1;
    if (d->tail - d->head + 1 > d->ring_cap && dedup_grow_ring(d) != 0)
        return -1;
    if ((d->used + 1) * 2 > d->nslots) {
        /* Mostly stale: sweep at the same size; else grow. */
        size_t live = (size_t)(d->tail - d->head) + 1;
        if (dedup_reindex(d, live * 2 > d->nslots / 2 ? live * 2 : live))
            return -1;
        i = dedup_find(d, id, &found);
    }
    e = dedup_at(d, d->tail);
    memcpy(e->id, id, 16);
    e->arrival_ms = arrival_ms;
    d->slots[i] = dedup_slot_of(d->tail);
    d->tail++;
    d->used++;
    return 0;
}
