/* The tally rules (DESIGN §4): attribution, the metric an event adds to,
 * and the hour it lands in. Pure functions. */
#ifndef ADTALLY_CORE_TALLY_H
#define ADTALLY_CORE_TALLY_H

#include <stdint.h>

#include "core/event.h"

enum tally_metric {
    TM_NONE = -1, /* archived, not tallied */
    TM_IMPRESSIONS,
    TM_CLICKS,
    TM_CONVERSION,
    TM_QUALIFIED,
    TM_DISQUALIFIED,
    TM_NMETRICS
};

/* What the job dimension says of a job; -1 where it says nothing. */
struct tally_job {
    int32_t company_id;
    int32_t campaign_id;
    int32_t group_id;
};

/* Looks a job up; returns NULL when the job is unknown. */
typedef const struct tally_job *(tally_job_fn)(void *ctx, int32_t job_id);

/* One row of `events` is identified by this key. */
struct tally_key {
    int32_t job_id;
    int32_t date; /* yyyymmdd in the reporting time zone */
    int32_t hour; /* 0..23 */
    int32_t publisher_id;
    int32_t campaign_id;
    int32_t group_id;
};

/* The counts one or more events add to a row. */
struct tally_delta {
    int32_t company_id; /* -1: NULL */
    int64_t n[TM_NMETRICS];
    int64_t spend; /* sum of click bids, in 1/EV_BID_SCALE */
};

/* The metric that custom_track (trimmed, any case) adds to. */
enum tally_metric tally_metric_of(const struct event *ev);

/* The job of an event: its job_id, else ed.jobId when a positive integer
 * or a string of digits. Returns 0 with *job set, or -1 when it has none. */
int tally_job_of(const struct event *ev, int32_t *job);

/* The Kafka message key of an event (DESIGN §3): the job id when known,
 * else the uid, else the create_time, so that repeats of one event always
 * meet in one partition. Sets *key (into buf or into ev) and returns its
 * length. */
size_t tally_message_key(const struct event *ev, char *buf, size_t n,
                         const char **key);

/* The publisher: the event's, else ed.publisherId when integral, else 0. */
int32_t tally_publisher_of(const struct event *ev);

/* Attributes `ev` to its row and delta. `utc_offset_s` converts the event
 * time to the reporting time zone (see tally_zone_offset). Returns 1 when
 * the event is tallied (key and delta filled, delta counting this one
 * event), 0 when it is archived only (no job, or a track that is not
 * tallied). */
int tally_event(const struct event *ev, tally_job_fn *lookup, void *ctx,
                long utc_offset_s, struct tally_key *key,
                struct tally_delta *d);

/* The UTC offset in seconds of the process's local time zone (TZ) at
 * `time_ms`; 0 when the reporting zone is UTC. */
long tally_zone_offset(int utc, int64_t time_ms);

/* Writes `v` (in 1/EV_BID_SCALE) as a decimal with 4 fractional digits. */
void tally_format_money(int64_t v, char out[32]);

#endif

/* The deltas of one micro-batch, summed per row key. */
struct tally_row {
    struct tally_key key;
    struct tally_delta d;
};

struct tally_batch {
    struct tally_row *rows;
    size_t nrows, cap;
    int32_t *slots; /* open addressing: row index + 1; 0 is empty */
    size_t nslots;
};

void tally_batch_init(struct tally_batch *b);
void tally_batch_free(struct tally_batch *b);
void tally_batch_reset(struct tally_batch *b);

/* Adds `d` to the row of `key`. Returns 0 or -1 (out of memory). */
int tally_batch_add(struct tally_batch *b, const struct tally_key *key,
                    const struct tally_delta *d);

/* bid_set in 1/EV_BID_SCALE: spend / clicks rounded half up to 4
 * decimals; -1 when there are no clicks. */
int64_t tally_bid_set(int64_t spend, int64_t clicks);
