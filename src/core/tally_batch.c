/* Summing tally deltas per row key within one micro-batch. */
#include <stdlib.h>
#include <string.h>

#include "core/tally.h"

void tally_batch_init(struct tally_batch *b)
{
    memset(b, 0, sizeof(*b));
}

void tally_batch_free(struct tally_batch *b)
{
    if (b == NULL)
        return;
    free(b->rows);
    free(b->slots);
    memset(b, 0, sizeof(*b));
}

void tally_batch_reset(struct tally_batch *b)
{
    b->nrows = 0;
    if (b->slots)
        memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}

static size_t tally_key_hash(const struct tally_key *k)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const int32_t v[6] = {k->job_id,       k->date,        k->hour,
                          k->publisher_id, k->campaign_id, k->group_id};

    for (int i = 0; i < 6; i++) {
        h ^= (uint32_t)v[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return (size_t)h;
}

static int tally_key_eq(const struct tally_key *a, const struct tally_key *b)
{
    return a->job_id == b->job_id && a->date == b->date && a->hour == b->hour &&
           a->publisher_id == b->publisher_id &&
           a->campaign_id == b->campaign_id && a->group_id == b->group_id;
}

static int tally_batch_grow(struct tally_batch *b)
{
    size_t n = b->nslots ? b->nslots * 2 : 1024;
    int32_t *s = calloc(n, sizeof(*s));
    struct tally_row *r = realloc(b->rows, n / 2 * sizeof(*r));

    if (s == NULL || r == NULL) {
        free(s);
        if (r)
            b->rows = r;
        return -1;
    }
    b->rows = r;
    b->cap = n / 2;
    for (size_t i = 0; i < b->nrows; i++) {
        size_t j = tally_key_hash(&r[i].key) & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = (int32_t)i + 1;
    }
    free(b->slots);
    b->slots = s;
    b->nslots = n;
    return 0;
}

int tally_batch_add(struct tally_batch *b, const struct tally_key *key,
                    const struct tally_delta *d)
{
    struct tally_row *row;
    size_t j;

    if (b->nrows + 1 > b->cap && tally_batch_grow(b) != 0)
        return -1;
    j = tally_key_hash(key) & (b->nslots - 1);
    for (; b->slots[j]; j = (j + 1) & (b->nslots - 1)) {
        row = &b->rows[b->slots[j] - 1];
        if (tally_key_eq(&row->key, key))
            goto add;
    }
    row = &b->rows[b->nrows];
    memset(row, 0, sizeof(*row));
    row->key = *key;
    b->slots[j] = (int32_t)++b->nrows;
add:
    row->d.company_id = d->company_id;
    for (int m = 0; m < TM_NMETRICS; m++)
        row->d.n[m] += d->n[m];
    row->d.spend += d->spend;
    return 0;
}

int64_t tally_bid_set(int64_t spend, int64_t clicks)
{
    if (clicks <= 0)
        return -1;
    return (spend * 2 + clicks) / (clicks * 2);
}
