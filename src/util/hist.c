/* Log-linear latency histograms: 16 sub-buckets per power of two. */
#include "util/hist.h"

#include <string.h>

void hist_reset(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

static int hist_bucket(uint64_t v)
{
    int e = 63 - __builtin_clzll(v | 1); /* the top bit's position */
    int b;

    if (v < 16)
        return (int)v;
    b = (e - 3) * 16 + (int)((v >> (e - 4)) & 15);
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The largest value that falls in bucket b. */
static uint64_t hist_upper(int b)
{
    int e = b / 16 + 3;

    if (b < 16)
        return (uint64_t)b;
    return ((uint64_t)(16 + b % 16 + 1) << (e - 4)) - 1;
}

void hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_bucket(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

void hist_merge(struct hist *h, const struct hist *from)
{
    for (int i = 0; i < HIST_BUCKETS; i++)
        h->b[i] += from->b[i];
    h->count += from->count;
    if (from->max > h->max)
        h->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t need, seen = 0;

    if (h->count == 0)
        return 0;
    need = (uint64_t)(q * (double)h->count + 0.999999);
    if (need == 0)
        need = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= need) {
            uint64_t up = hist_upper(i);

            /* The last bucket also holds everything past its bound. */
            return up < h->max && i < HIST_BUCKETS - 1 ? up : h->max;
        }
    }
    return h->max;
}
