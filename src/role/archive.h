/* `adtally archive`: shared state of its parts (loop, partitions, writes). */
#ifndef ADTALLY_ROLE_ARCHIVE_H
#define ADTALLY_ROLE_ARCHIVE_H

#include <signal.h>
#include <stdint.h>

#include "client/cql.h"
#include "client/kafka.h"
#include "core/event.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/hist.h"

#define ARCH_MAX_PARTS 1024
#define ARCH_INFLIGHT_MAX 100 /* leaves streams for re-prepares */
#define ARCH_BATCH_MAX 100    /* statements in one batch */

struct archive_opts {
    const char *group;
    long long batch_max;
    long long flush_ms;
    long long inflight;
    const char *write_mode;
    long long batch_statements;
    long long batch_bytes;
    long long ttl_days;
    long long status_s;
    int drain;
};

/* One partition of the topic, as this member sees it. */
struct arch_part {
    int owned;
    int64_t next;      /* the next offset to read */
    int64_t committed; /* the offset Kafka holds for the group */
    int64_t target;    /* --drain: the high watermark at start */
};

/* A consumed event waiting for its write. */
struct arch_row {
    int32_t partition;
    struct event ev;
};

/* A pending row and its lake partition (hour and bucket), for grouping. */
struct arch_slot {
    int64_t key;
    size_t row;
};

/* One request of a write: the rows of slots[first .. first + n). */
struct arch_req {
    size_t first, n;
};

struct arch {
    struct config *cfg;
    struct archive_opts *o;
    int batch_mode; /* unlogged batches per partition, else one INSERT each */
    struct kafka_consumer *kc;
    struct cql_client *cl;
    struct cql_prepared *ins; /* NULL until prepared */
    struct buf insert_cql;
    struct arch_part parts[ARCH_MAX_PARTS];
    int nparts;
    int ntargets;             /* --drain: partitions with a target */
    int64_t drain_checked_ms; /* --drain: last look at others' offsets */
    /* Consumed, not yet written: rows[0..nrows); events are reused. */
    struct arch_row *rows;
    size_t nrows, rows_cap, rows_max;
    int64_t first_row_ms;
    int64_t last_commit_ms;
    int64_t started_ms, last_status_ms;
    uint64_t archived_at_status; /* ar->archived at the last status */
    int in_flush;
    unsigned assigns; /* rebalances that assigned partitions */
    int failed;       /* out of memory or rows: stop without committing */
    /* Scratch of a write, for up to scratch_cap rows. */
    struct cql_value *vals;
    struct cql_params *params;
    struct arch_slot *slots;
    struct arch_req *reqs;
    size_t scratch_cap;
    /* Counters for the status line. */
    uint64_t seen, archived, invalid, requests;
    uint64_t write_failures, commits, commit_failures;
    struct hist lat, lat_total; /* per request, microseconds */
};

/* Set by SIGTERM or SIGINT: finish the batch, commit, then exit. */
extern volatile sig_atomic_t arch_stop_flag;

int64_t arch_now_ms(void);

/* Messages behind the high watermarks of the owned partitions. */
long long arch_lag(struct arch *ar);

/* Prints the status line when --status-interval has passed. */
void arch_tick(struct arch *ar);

/* Takes one consumed message: an event becomes a pending row, anything
 * else only moves the partition's offset on. Returns 0, or -1 when no row
 * could be held (ar->failed is set: stop without committing). */
int arch_message(struct arch *ar, const rd_kafka_message_t *m);

/* archive_write.c: Cassandra. Writes every pending row, many requests in
 * flight. Returns CQL_OK, or an error with its text in err; any number of
 * the rows may then have been written (a repeat overwrites itself). */
int arch_write_rows(struct arch *ar, char *err, size_t errlen);

/*
 * Writes the pending rows, then commits the offsets read so far. A failed
 * write is retried with a growing pause while the consumer stays in its
 * group; `attempts` bounds the tries (0: until written or stopping).
 * Returns 0 when written and committed (a failed commit only delays the
 * commit: the rows are safe), -1 when giving up with the rows unwritten
 * (they stay pending; nothing past them is committed).
 */
int arch_flush(struct arch *ar, int attempts);

/* archive_parts.c: Kafka. */
int arch_on_rebalance(void *ctx, int assigned,
                      rd_kafka_topic_partition_list_t *parts);

/* Commits the next offset of every owned partition read past its commit.
 * Returns 0, or -1 (logged; retried on the next call). */
int arch_commit(struct arch *ar);

/* Forgets the pending rows and moves every owned partition that is not in
 * `keep_out` (may be NULL) back to its committed offset, so that its rows
 * are read again. Returns 0, or -1 when Kafka refused the seek. */
int arch_rewind(struct arch *ar,
                const rd_kafka_topic_partition_list_t *keep_out);

/* Pauses (pause 1) or resumes (0) every owned partition. */
void arch_pause(struct arch *ar, int pause);

#endif
