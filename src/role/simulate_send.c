/* The simulator's senders: HTTP workers that act like browsers (beacons
 * or batches, keep-alive, retry on 503 after Retry-After), or a direct
 * Kafka producer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/http_client.h"
#include "client/kafka.h"
#include "core/reject.h"
#include "role/simulate.h"
#include "util/log.h"

#define SIM_BATCH_AGE_MS 200 /* a batch older than this is sent */

/* One request to the collector. */
struct sim_req {
    int post;        /* POST /events, else GET /track */
    struct buf data; /* the target (GET) or the NDJSON body (POST) */
    const char *ua;
    int nitems;
    int64_t born_ms;
};

struct sim_sender {
    const struct sim_opts *o;
    const struct config *cfg;
    struct sim_results *res;
    /* HTTP */
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    struct sim_req **queue;
    int qcap, qhead, qlen, closing;
    struct sim_req *cur; /* the batch being filled */
    /* Kafka */
    struct kafka_producer *kp;
    char rejected_topic[300];
    struct event ev;
    struct buf out;
};

static int64_t sim_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sim_sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void sim_count(struct sim_results *r, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&r->mu);
    *field += n;
    pthread_mutex_unlock(&r->mu);
}

static void sim_req_free(struct sim_req *r)
{
    if (r == NULL)
        return;
    buf_free(&r->data);
    free(r);
}

/* Reads "accepted" and "rejected" from a /events answer. */
static void sim_batch_counts(const struct buf *body, uint64_t *acc,
                             uint64_t *rej)
{
    const char *a = body->data ? strstr(body->data, "\"accepted\":") : NULL;
    const char *r = body->data ? strstr(body->data, "\"rejected\":") : NULL;

    *acc = a ? strtoull(a + 11, NULL, 10) : 0;
    *rej = r ? strtoull(r + 11, NULL, 10) : 0;
}

/* Counts a final answer. Returns 1 when it is final, 0 to retry. */
static int sim_settle(struct sim_sender *s, const struct sim_req *r,
                      const struct http_response *resp)
{
    struct sim_results *res = s->res;
    uint64_t acc = 0, rej = 0;

    if (resp->status == 503)
        return 0;
    if (resp->status / 100 == 2 && r->post)
        sim_batch_counts(&resp->body, &acc, &rej);
    else if (resp->status / 100 == 2)
        acc = 1;
    else if (resp->status == 400)
        rej = (uint64_t)r->nitems;
    pthread_mutex_lock(&res->mu);
    res->acknowledged += acc;
    res->rejected += rej;
    if (resp->status / 100 != 2 && resp->status != 400)
        res->failed += (uint64_t)r->nitems;
    pthread_mutex_unlock(&res->mu);
    return 1;
}

/* Counts a request as failed; logs the first few of them. */
static void sim_give_up(struct sim_sender *s, const struct sim_req *r,
                        const char *why)
{
    struct sim_results *res = s->res;
    uint64_t before;

    pthread_mutex_lock(&res->mu);
    before = res->failed;
    res->failed += (uint64_t)r->nitems;
    pthread_mutex_unlock(&res->mu);
    if (before < 5)
        log_warn("simulate",
                 "gave up on a request of %d lines after %lld "
                 "s: %s",
                 r->nitems, s->o->give_up_s, why);
}

/* Sends one request until it has a final answer or the give-up time. */
static void sim_deliver(struct sim_sender *s, struct http_client *hc,
                        const struct sim_req *r)
{
    int64_t backoff = 100, give_up = r->born_ms + s->o->give_up_s * 1000;
    char headers[320], err[256];
    struct http_response *resp;

    snprintf(headers, sizeof(headers), "User-Agent: %s\r\n%s", r->ua,
             r->post ? "Content-Type: application/x-ndjson\r\n" : "");
    for (;;) {
        int rc = http_client_request(
            hc, r->post ? "POST" : "GET", r->post ? "/events" : r->data.data,
            headers, r->post ? r->data.data : NULL, r->post ? r->data.len : 0,
            &resp, err, sizeof(err));
        int64_t wait = backoff;

        sim_count(s->res, &s->res->requests, 1);
        if (rc == 0 && sim_settle(s, r, resp))
            return;
        if (rc == 0) /* 503: as long as the server asks */
            wait = resp->retry_after >= 0 ? resp->retry_after * 1000 : 1000;
        else
            backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
        if (sim_ms() + wait > give_up) {
            sim_give_up(s, r, rc ? err : "still 503");
            return;
        }
        sim_count(s->res, &s->res->retries, 1);
        sim_sleep_ms(wait);
    }
}

static void *sim_worker(void *arg)
{
    struct sim_sender *s = arg;
    char err[256];
    struct http_client *hc =
        http_client_create(s->o->to, 10000, err, sizeof(err));

    for (;;) {
        struct sim_req *r;

        pthread_mutex_lock(&s->mu);
        while (s->qlen == 0 && !s->closing)
            pthread_cond_wait(&s->not_empty, &s->mu);
        if (s->qlen == 0) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        r = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        pthread_cond_signal(&s->not_full);
        pthread_mutex_unlock(&s->mu);
        if (hc)
            sim_deliver(s, hc, r);
        else
            sim_count(s->res, &s->res->failed, (uint64_t)r->nitems);
        sim_req_free(r);
    }
    http_client_destroy(hc);
    return NULL;
}

static void sim_enqueue(struct sim_sender *s, struct sim_req *r)
{
    pthread_mutex_lock(&s->mu);
    while (s->qlen == s->qcap)
        pthread_cond_wait(&s->not_full, &s->mu);
    s->queue[(s->qhead + s->qlen) % s->qcap] = r;
    s->qlen++;
    pthread_cond_signal(&s->not_empty);
    pthread_mutex_unlock(&s->mu);
}

static struct sim_req *sim_req_new(int post, const char *ua)
{
    struct sim_req *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->post = post;
    r->ua = ua;
    r->born_ms = sim_ms();
    buf_init(&r->data, 0);
    return r;
}

static void sim_push_http(struct sim_sender *s, const struct sim_item *it)
{
    struct sim_req *r;

    if (s->o->batch == 0) {
        r = sim_req_new(0, it->ua);
        if (r == NULL || buf_puts(&r->data, "/track?") != 0 ||
            buf_append(&r->data, it->query.data, it->query.len) != 0) {
            sim_req_free(r);
            sim_count(s->res, &s->res->failed, 1);
            return;
        }
        r->nitems = 1;
        sim_enqueue(s, r);
        return;
    }
    if (s->cur && sim_ms() - s->cur->born_ms >= SIM_BATCH_AGE_MS) {
        sim_enqueue(s, s->cur);
        s->cur = NULL;
    }
    if (s->cur == NULL && (s->cur = sim_req_new(1, it->ua)) == NULL) {
        sim_count(s->res, &s->res->failed, 1);
        return;
    }
    buf_append(&s->cur->data, it->json.data, it->json.len);
    buf_putc(&s->cur->data, '\n');
    if (++s->cur->nitems >= s->o->batch) {
        sim_enqueue(s, s->cur);
        s->cur = NULL;
    }
}

/* Kafka's delivery reports: msg 1 is an event, 2 a rejected line. */
static void sim_on_delivery(void *ctx, void *msg, int err, const char *why)
{
    struct sim_sender *s = ctx;
    static int logged;

    if (err) {
        s->res->failed++;
        if (logged++ < 5)
            log_error("simulate", "kafka: not delivered: %s", why);
    } else if (msg == (void *)1) {
        s->res->acknowledged++;
    } else {
        s->res->rejected++;
    }
}

/* Validates like the collector: events to <topic>, the rest to
 * <topic>.rejected. */
static void sim_push_kafka(struct sim_sender *s, const struct sim_item *it)
{
    char err[256], keybuf[16];
    const char *topic = s->cfg->topic, *key = NULL;
    size_t klen = 0;
    struct ev_error e;
    void *kind = (void *)1;

    buf_reset(&s->out);
    if (event_parse_json(&s->ev, it->json.data, it->json.len, &e) == 0) {
        event_to_json(&s->ev, &s->out);
        klen = tally_message_key(&s->ev, keybuf, sizeof(keybuf), &key);
    } else {
        reject_to_json(&s->out, &e, it->json.data, it->json.len);
        topic = s->rejected_topic;
        kind = (void *)2;
    }
    s->res->requests++;
    if (kafka_producer_send(s->kp, topic, key, klen, s->out.data, s->out.len,
                            kind, 30000, err, sizeof(err)) != 0) {
        s->res->failed++;
        log_error("simulate", "kafka: %s", err);
    }
    kafka_producer_poll(s->kp, 0);
}

void sim_sender_push(struct sim_sender *s, const struct sim_item *it)
{
    if (s->kp)
        sim_push_kafka(s, it);
    else
        sim_push_http(s, it);
}

static int sim_sender_http(struct sim_sender *s, char *err, size_t errlen)
{
    int n = (int)s->o->connections;

    pthread_mutex_init(&s->mu, NULL);
    s->qcap = 2 * n;
    s->queue = calloc((size_t)s->qcap, sizeof(*s->queue));
    s->threads = calloc((size_t)n, sizeof(*s->threads));
    if (s->queue == NULL || s->threads == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_cond_init(&s->not_empty, NULL);
    pthread_cond_init(&s->not_full, NULL);
    for (s->nthreads = 0; s->nthreads < n; s->nthreads++) {
        if (pthread_create(&s->threads[s->nthreads], NULL, sim_worker, s)) {
            snprintf(err, errlen, "cannot start a sender thread");
            return -1;
        }
    }
    return 0;
}

struct sim_sender *sim_sender_create(const struct sim_opts *o,
                                     const struct config *cfg,
                                     struct sim_results *res, char *err,
                                     size_t errlen)
{
    struct sim_sender *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->o = o;
    s->cfg = cfg;
    s->res = res;
    event_init(&s->ev);
    buf_init(&s->out, 0);
    if (strcmp(o->to, "kafka") == 0) {
        config_rejected_topic(cfg, s->rejected_topic,
                              sizeof(s->rejected_topic));
        s->kp = kafka_producer_create(cfg->kafka, cfg->kafka_props,
                                      cfg->n_kafka_props, sim_on_delivery, s,
                                      err, errlen);
        if (s->kp != NULL)
            return s;
    } else if (sim_sender_http(s, err, errlen) == 0) {
        return s;
    }
    sim_sender_finish(s);
    return NULL;
}

void sim_sender_finish(struct sim_sender *s)
{
    if (s == NULL)
        return;
    if (s->cur && s->nthreads > 0) {
        sim_enqueue(s, s->cur);
        s->cur = NULL;
    }
    sim_req_free(s->cur);
    if (s->nthreads > 0) {
        pthread_mutex_lock(&s->mu);
        s->closing = 1;
        pthread_cond_broadcast(&s->not_empty);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->nthreads; i++)
            pthread_join(s->threads[i], NULL);
    }
    if (s->kp && kafka_producer_flush(s->kp, 60000) != 0) {
        log_error("simulate", "kafka: messages still queued after 60 s");
        s->res->failed += (uint64_t)kafka_producer_queue_len(s->kp);
    }
    kafka_producer_destroy(s->kp);
    free(s->threads);
    free(s->queue);
    event_free(&s->ev);
    buf_free(&s->out);
    free(s);
}
