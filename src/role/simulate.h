/* What the files of `adtally simulate` share. */
#ifndef ADTALLY_ROLE_SIMULATE_H
#define ADTALLY_ROLE_SIMULATE_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "core/event.h"
#include "core/tally.h"
#include "util/buf.h"
#include "util/config.h"

struct sim_opts {
    const char *to;
    double rate;
    long long duration;
    long long count;
    long long seed;
    const char *start;
    double speed;
    int curve;
    double late_share;
    double repeat_share;
    double invalid_share;
    long long batch;
    long long connections;
    long long give_up_s;
    double max_bid;
    const char *expect_file;
};

/* A job as the dimension tables describe it; ids -1 where NULL. */
struct sim_job {
    int32_t id;
    struct tally_job tj;
    uint32_t ctr_ppm; /* clicks per million page views, 5%..15% */
};

struct sim_pub {
    int32_t id;
    int64_t min_bid, max_bid; /* in 1/EV_BID_SCALE */
};

struct sim_dims {
    struct sim_job *jobs;
    size_t njobs;
    struct sim_pub *pubs;
    size_t npubs;
};

enum sim_kind { SK_VALID, SK_REPEAT, SK_INVALID };

/* One line to send, in both of its shapes. */
struct sim_item {
    enum sim_kind kind;
    int late;
    int64_t clock_us; /* when it is due, on the simulated clock */
    struct buf json;  /* a JSON object, for NDJSON and Kafka */
    struct buf query; /* the same fields as a query string, for /track */
    const char *ua;   /* the browser's User-Agent */
};

#define SIM_RING 64 /* recent events a repeat is drawn from */
#define SIM_STEPS 8 /* events of one visit at most */

/* Totals of what was generated; tallied counts are of first sends. */
struct sim_totals {
    uint64_t items, events, repeats, late, invalid;
    uint64_t metric[TM_NMETRICS];
    uint64_t alive, untallied;
    int64_t spend;
};

struct sim_gen {
    uint64_t rng[4];
    const struct sim_opts *o;
    const struct sim_dims *d;
    int64_t start_us, clock_us, end_us;
    /* The visit in progress: a job, a publisher, a browser, its steps. */
    size_t job, pub;
    uint32_t user;
    const char *steps[SIM_STEPS];
    int nsteps, step;
    struct sim_item ring[SIM_RING];
    int nring;
    struct event ev;
    struct tally_batch expect;
    int utc;
    struct sim_totals tot;
};

/* ---- simulate_gen.c: the seeded generator, the expected tallies ---- */

/* Starts a generator at `start_us` (us since the Unix epoch); o and d
 * must outlive it. `utc` 0: tallies in the process's local zone (TZ). */
void sim_gen_init(struct sim_gen *g, const struct sim_opts *o,
                  const struct sim_dims *d, int64_t start_us, int utc);
void sim_gen_free(struct sim_gen *g);

/* Fills *it with the next line and counts it in g->tot and, when it is
 * a first send of a tallied event, in the expected rows. Returns 1, or 0
 * at the end (--duration on the simulated clock, or --count). The same
 * options, dimensions and start give the same lines. */
int sim_gen_next(struct sim_gen *g, struct sim_item *it);

/* Writes the expected rows of `events` as TSV, sorted by key; no line
 * may be generated afterwards. Returns 0, or -1 with errno. */
int sim_expect_write(struct sim_gen *g, const char *path);

/* An empty item; sim_item_free releases it. NULL-safe free. */
void sim_item_init(struct sim_item *it);
void sim_item_free(struct sim_item *it);

/* What came back from the collector or Kafka. */
struct sim_results {
    pthread_mutex_t mu;
    uint64_t requests, acknowledged, rejected, failed, retries;
};

extern volatile sig_atomic_t sim_stop_flag;

/* ---- simulate_send.c: HTTP workers or a Kafka producer ---- */

struct sim_sender;

/* Starts --connections HTTP workers for --to http://..., or a producer
 * for --to kafka; results are counted in *res. NULL with err. */
struct sim_sender *sim_sender_create(const struct sim_opts *o,
                                     const struct config *cfg,
                                     struct sim_results *res, char *err,
                                     size_t errlen);
/* Sends or queues one item; may wait while the senders are busy. */
void sim_sender_push(struct sim_sender *s, const struct sim_item *it);
/* Sends what is left, waits for every answer, frees. NULL-safe. */
void sim_sender_finish(struct sim_sender *s);

#endif
