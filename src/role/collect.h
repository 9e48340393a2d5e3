/* What the files of `adtally collect` share. */
#ifndef ADTALLY_ROLE_COLLECT_H
#define ADTALLY_ROLE_COLLECT_H

#include <signal.h>
#include <stdint.h>

#include "client/http.h"
#include "client/kafka.h"
#include "core/event.h"
#include "util/buf.h"
#include "util/config.h"

struct collect_opts {
    const char *listen;
    long long max_body;
    long long max_conns;
    const char *cors_origin;
    long long ack_timeout_ms;
    long long queue_max;
    long long header_timeout_ms;
    long long body_timeout_ms;
    long long idle_timeout_ms;
    long long status_s;
};

/* The paths counted in the metrics; anything else is "other". */
enum collect_path {
    CP_TRACK,
    CP_EVENTS,
    CP_HEALTHZ,
    CP_METRICS,
    CP_OTHER,
    CP_NPATHS
};

#define COLLECT_NSTATUS 16  /* counted statuses; the last is "other" */
#define COLLECT_NBUCKETS 13 /* latency histogram bounds */

struct collect_metrics {
    uint64_t requests[CP_NPATHS][COLLECT_NSTATUS];
    uint64_t lat_buckets[COLLECT_NBUCKETS];
    uint64_t lat_count;
    double lat_sum;
    uint64_t accepted;                 /* events queued for Kafka */
    uint64_t delivered;                /* events Kafka acknowledged */
    uint64_t rejected[EV_NFIELDS + 1]; /* by field; the last: whole line */
    uint64_t event_failures;           /* events Kafka did not take */
    uint64_t reject_failures;          /* rejected records Kafka did not take */
    uint64_t busy;                     /* 503 because the queue was full */
    uint64_t ack_timeouts;             /* 503 because Kafka was too slow */
};

/* One request waiting for Kafka to acknowledge its events. */
struct collect_batch {
    struct http_req *req; /* NULL once answered */
    int kind;             /* CB_TRACK or CB_EVENTS */
    int gif;
    int outstanding; /* events queued, not yet reported */
    int failed;
    int accepted, rejected;
    int nerrors;
    struct buf errors; /* the "errors" array's members, comma-separated */
    int64_t deadline;  /* monotonic ms */
    struct collect_batch *wprev, *wnext; /* the waiting list */
    struct collect_batch *aprev, *anext; /* every live batch */
};

enum { CB_TRACK, CB_EVENTS };

struct collect {
    struct config *cfg;
    const struct collect_opts *o;
    struct http_server *srv;
    struct kafka_producer *kp;
    char rejected_topic[300];
    struct collect_batch *wait_head, *wait_tail; /* oldest first */
    struct collect_batch *all;
    int nwaiting;
    int64_t outstanding; /* our messages Kafka has not reported on */
    int kafka_failing;
    int stopping;
    uint64_t undelivered; /* events and rejects lost: the exit status */
    int64_t next_status;
    struct collect_metrics m;
    struct event ev;
    struct buf out;
};

extern volatile sig_atomic_t collect_stop_flag;

int64_t collect_now_ms(void);

/* ---- collect_ingest.c ---- */

/* GET /track and POST /events: validates, queues the valid events for
 * Kafka and the rejected ones for <topic>.rejected, and answers `req`
 * now (nothing to wait for, queue full, malformed body) or once Kafka
 * has reported on every event of it. */
void collect_track(struct collect *c, struct http_req *req);
void collect_events(struct collect *c, struct http_req *req);

/* The producer's delivery callback: msg is the request's batch, or the
 * tag of rejected records. */
void collect_on_delivery(void *ctx, void *msg, int err, const char *errstr);

/* Answers 503 to the requests that waited past --ack-timeout-ms; their
 * batches live on until Kafka reports on each of their events. */
void collect_expire(struct collect *c, int64_t now);

/* Frees every batch; the producer must be gone. */
void collect_batches_free(struct collect *c);

/* ---- collect_http.c ---- */

/* The server's handler: routes by path and method. */
void collect_handle(void *ctx, struct http_req *req);

/* 204, or 200 with a 1x1 GIF. */
void collect_answer_beacon(struct http_req *req, int gif);

/* 503 with Retry-After and {"error": why}. */
void collect_answer_busy(struct collect *c, struct http_req *req,
                         const char *why);

/* `status` with {"error": why}; why holds no quotes. */
void collect_answer_error(struct http_req *req, int status, const char *why);

/* `status` with {"accepted","rejected","errors"} of batch b. */
void collect_answer_counts(struct collect *c, struct http_req *req, int status,
                           const struct collect_batch *b);

/* ---- collect_metrics.c ---- */

/* The metrics label of a request's path (CP_OTHER for h NULL). */
enum collect_path collect_path_of(const struct http_head *h);

/* The server's done hook: counts an answer and its latency. */
void collect_metrics_done(void *ctx, const struct http_head *h, int status,
                          double secs);

/* Counts a rejected event by the field at fault. */
void collect_metrics_reject(struct collect *c, const struct ev_error *e);

/* Appends the Prometheus text exposition. Returns 0 or -1 (buffer cap). */
int collect_metrics_render(struct collect *c, struct buf *out);

#endif
