/* Latency histograms: fixed memory, about 6% resolution, for quantiles
 * such as p50 and p99 on a status line. */
#ifndef ADTALLY_UTIL_HIST_H
#define ADTALLY_UTIL_HIST_H

#include <stdint.h>

/* Values below 16 have a bucket each; above, 16 buckets per power of two,
 * up to 2^40 (values past it land in the last bucket). */
#define HIST_BUCKETS (16 + 37 * 16)

struct hist {
    uint64_t count;
    uint64_t max;
    uint32_t b[HIST_BUCKETS];
};

/* Empties the histogram. */
void hist_reset(struct hist *h);

/* Counts one value (any unit; microseconds on our status lines). */
void hist_add(struct hist *h, uint64_t v);

/* Adds every count of `from` into `h`. */
void hist_merge(struct hist *h, const struct hist *from);

/* The smallest bucket bound at or below which a fraction q (0 < q <= 1)
 * of the values lie, capped at the largest value seen: never less than
 * the true quantile, at most ~6% above it. 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
