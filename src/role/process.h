/* `adtally process`: shared state of its parts (loop, partitions, commit). */
#ifndef ADTALLY_ROLE_PROCESS_H
#define ADTALLY_ROLE_PROCESS_H

#include <signal.h>
#include <stdint.h>

#include "client/kafka.h"
#include "client/mysql.h"
#include "core/dedup.h"
#include "core/tally.h"
#include "util/config.h"

#define PROC_MAX_PARTS 1024

struct process_opts {
    const char *group;
    long long commit_ms;
    long long batch_max;
    long long dedup_window_s;
    long long dedup_max;
    long long dims_refresh_s;
    long long status_s;
    int drain;
};

/* One partition of the topic, as this member sees it. */
struct proc_part {
    int owned;
    int64_t next;      /* the next offset to read */
    int64_t committed; /* next_offset stored in MySQL; -1: no row */
    int64_t replay_to; /* below this, messages only refill the dedup set */
    int64_t target;    /* --drain: the high watermark at start */
    int dirty;         /* consumed since the last commit */
    struct dedup dd;
};

/* Job dimension cache: open addressing on job id. */
struct proc_jobs {
    int32_t *ids; /* 0 marks an empty slot; ids are stored + 1 */
    struct tally_job *jobs;
    size_t nslots;
    int64_t loaded_ms;
};

struct proc {
    struct config *cfg;
    struct process_opts *o;
    struct db_url url;
    struct db *db;
    struct db_stmt *upsert[5]; /* for 256, 64, 16, 4 and 1 rows */
    struct kafka_consumer *kc;
    struct kafka_producer *rejects;
    char rejected_topic[300];
    int utc;
    struct proc_part parts[PROC_MAX_PARTS];
    int nparts;
    int ntargets;             /* --drain: partitions with a target */
    int64_t drain_checked_ms; /* --drain: last read of others' offsets */
    struct proc_jobs jobs;
    struct tally_batch batch;
    long batch_msgs;
    int64_t batch_started_ms;
    int64_t *arrivals; /* arrival times of the batch's tallied events */
    size_t narrivals, arrivals_cap;
    /* Counters for the status line. */
    uint64_t seen, tallied, repeats, rejected, not_tallied, commits;
    uint64_t reject_failures;
    double commit_ms_sum, commit_ms_max;
    uint32_t fresh_hist[10001];  /* arrival to commit, 1 ms buckets, since
                                    the last status line */
    uint32_t fresh_total[10001]; /* the same for the earlier intervals */
};

/* Set by SIGTERM or SIGINT: finish the batch, then exit. */
extern volatile sig_atomic_t proc_stop_flag;

int64_t proc_now_ms(void);

/* process_db.c: MySQL. Each returns 0 or -1 with the reason logged. */
int proc_db_open(struct proc *pr);
void proc_db_close(struct proc *pr);
int proc_jobs_load(struct proc *pr);
const struct tally_job *proc_job_lookup(void *ctx, int32_t job_id);
int proc_offset_stored(struct proc *pr, int32_t partition, int64_t *off);

/* Commits the batch and the offsets in one transaction, retrying with
 * backoff while MySQL is away. Returns 0; 1 when another member moved the
 * offsets first (the batch was dropped: re-read from the stored offsets);
 * -1 when stopping before it could commit. */
int proc_commit(struct proc *pr);

/* process_parts.c: rebalances and replays. */
int proc_on_rebalance(void *ctx, int assigned,
                      rd_kafka_topic_partition_list_t *parts);
int proc_reset_owned(struct proc *pr);
void proc_drop_part(struct proc *pr, int32_t p);

#endif
