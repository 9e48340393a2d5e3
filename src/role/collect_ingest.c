/* The collector's intake: beacons and batches validated and queued for
 * Kafka; each request answered once Kafka acknowledged all its events. */
#include <stdlib.h>
#include <string.h>

#include "core/json_array.h"
#include "core/reject.h"
#include "core/tally.h"
#include "role/collect.h"
#include "util/log.h"

#define COLLECT_ERRORS_MAX 1000 /* error entries listed in one answer */
#define COLLECT_ERRORS_BYTES (1 << 20)

/* The msg_opaque of rejected records, which no request waits for. */
static char collect_reject_tag;

static struct collect_batch *collect_batch_new(struct collect *c,
                                               struct http_req *req, int kind)
{
    struct collect_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->req = req;
    b->kind = kind;
    b->deadline = collect_now_ms() + c->o->ack_timeout_ms;
    buf_init(&b->errors, COLLECT_ERRORS_BYTES);
    b->anext = c->all;
    if (c->all)
        c->all->aprev = b;
    c->all = b;
    return b;
}

static void collect_batch_free(struct collect *c, struct collect_batch *b)
{
    if (b->aprev)
        b->aprev->anext = b->anext;
    else
        c->all = b->anext;
    if (b->anext)
        b->anext->aprev = b->aprev;
    buf_free(&b->errors);
    free(b);
}

void collect_batches_free(struct collect *c)
{
    while (c->all)
        collect_batch_free(c, c->all);
}

static void collect_wait(struct collect *c, struct collect_batch *b)
{
    b->wprev = c->wait_tail;
    if (c->wait_tail)
        c->wait_tail->wnext = b;
    else
        c->wait_head = b;
    c->wait_tail = b;
    c->nwaiting++;
}

static void collect_unwait(struct collect *c, struct collect_batch *b)
{
    if (b->wprev)
        b->wprev->wnext = b->wnext;
    else
        c->wait_head = b->wnext;
    if (b->wnext)
        b->wnext->wprev = b->wprev;
    else
        c->wait_tail = b->wprev;
    b->wprev = b->wnext = NULL;
    c->nwaiting--;
}

/* Answers a batch whose events Kafka has all reported on. */
static void collect_batch_answer(struct collect *c, struct collect_batch *b)
{
    if (b->failed)
        collect_answer_busy(c, b->req,
                            "Kafka did not take every event; "
                            "retry");
    else if (b->kind == CB_TRACK && b->rejected == 0)
        collect_answer_beacon(b->req, b->gif);
    else
        collect_answer_counts(c, b->req, b->kind == CB_TRACK ? 400 : 200, b);
    b->req = NULL;
}

/* Called when nothing more is outstanding: answer, then free. */
static void collect_batch_settle(struct collect *c, struct collect_batch *b)
{
    if (b->outstanding > 0)
        return;
    if (b->req) {
        if (b->wprev || b->wnext || c->wait_head == b)
            collect_unwait(c, b);
        collect_batch_answer(c, b);
    }
    collect_batch_free(c, b);
}

/* After a request's events were queued: wait for Kafka, or answer now. */
static void collect_batch_start(struct collect *c, struct collect_batch *b)
{
    if (b->outstanding == 0)
        collect_batch_settle(c, b);
    else
        collect_wait(c, b);
}

static void collect_note_kafka(struct collect *c, int err, const char *why)
{
    if (err && !c->kafka_failing) {
        c->kafka_failing = 1;
        log_warn("collect",
                 "kafka: deliveries failing: %s; requests get "
                 "503 until they succeed",
                 why ? why : "?");
    } else if (!err && c->kafka_failing) {
        c->kafka_failing = 0;
        log_info("collect", "kafka: deliveries succeed again");
    }
}

void collect_on_delivery(void *ctx, void *msg, int err, const char *errstr)
{
    struct collect *c = ctx;
    struct collect_batch *b = msg;

    c->outstanding--;
    collect_note_kafka(c, err, errstr);
    if (msg == &collect_reject_tag) {
        if (err) {
            c->m.reject_failures++;
            c->undelivered++;
        }
        return;
    }
    if (err) {
        b->failed++;
        c->m.event_failures++;
        c->undelivered++;
    } else {
        c->m.delivered++;
    }
    b->outstanding--;
    collect_batch_settle(c, b);
}

/* Requests that waited past --ack-timeout-ms get 503; their batches stay
 * until Kafka reports on every event. */
void collect_expire(struct collect *c, int64_t now)
{
    while (c->wait_head && c->wait_head->deadline <= now) {
        struct collect_batch *b = c->wait_head;

        collect_unwait(c, b);
        c->m.ack_timeouts++;
        collect_answer_busy(c, b->req,
                            "Kafka did not acknowledge in "
                            "time; retry");
        b->req = NULL;
    }
}

/* Queues one message without blocking. Returns 0 or -1. */
static int collect_send(struct collect *c, const char *topic, const char *key,
                        size_t klen, const struct buf *val, void *opaque)
{
    char err[256];

    if (kafka_producer_send(c->kp, topic, key, klen, val->data, val->len,
                            opaque, 0, err, sizeof(err)) != 0) {
        collect_note_kafka(c, 1, err);
        return -1;
    }
    c->outstanding++;
    return 0;
}

static void collect_accept(struct collect *c, struct collect_batch *b,
                           const struct event *ev)
{
    char keybuf[16];
    const char *key;
    size_t klen = tally_message_key(ev, keybuf, sizeof(keybuf), &key);

    buf_reset(&c->out);
    if (event_to_json(ev, &c->out) != 0 ||
        collect_send(c, c->cfg->topic, key, klen, &c->out, b) != 0) {
        b->failed++;
        c->m.event_failures++;
        c->undelivered++;
        return;
    }
    b->outstanding++;
    b->accepted++;
    c->m.accepted++;
}

/* Adds {"index","field","reason"} to the batch's answer, up to a cap. */
static void collect_error_note(struct collect_batch *b, long index,
                               const struct ev_error *e)
{
    size_t mark = b->errors.len;
    int rc;

    if (b->nerrors >= COLLECT_ERRORS_MAX)
        return;
    rc =
        buf_printf(&b->errors,
                   "%s{\"index\":%ld,\"field\":", b->nerrors ? "," : "", index);
    rc = rc ? rc : buf_json_str(&b->errors, e->field, strlen(e->field));
    rc = rc ? rc : buf_puts(&b->errors, ",\"reason\":");
    rc = rc ? rc : buf_json_str(&b->errors, e->reason, strlen(e->reason));
    rc = rc ? rc : buf_putc(&b->errors, '}');
    if (rc != 0) {
        b->errors.len = mark;
        if (b->errors.data)
            b->errors.data[mark] = '\0';
        return;
    }
    b->nerrors++;
}

static void collect_reject(struct collect *c, struct collect_batch *b,
                           long index, const char *raw, size_t n,
                           const struct ev_error *e)
{
    collect_metrics_reject(c, e);
    b->rejected++;
    collect_error_note(b, index, e);
    buf_reset(&c->out);
    if (reject_to_json(&c->out, e, raw, n) != 0 ||
        collect_send(c, c->rejected_topic, NULL, 0, &c->out,
                     &collect_reject_tag) != 0) {
        c->m.reject_failures++;
        c->undelivered++;
    }
}

/* Returns 1 when the beacon should be answered with a 1x1 GIF: the path
 * is /track.gif, the query has img=1, or Accept prefers an image. */
static int collect_wants_gif(const struct http_head *h)
{
    const char *accept, *q = h->query;
    size_t n, i = 0;

    if (h->path_len == 10 && memcmp(h->path, "/track.gif", 10) == 0)
        return 1;
    while (q && i < h->query_len) {
        size_t e = i;
        while (e < h->query_len && q[e] != '&')
            e++;
        if (e - i == 5 && memcmp(q + i, "img=1", 5) == 0)
            return 1;
        i = e + 1;
    }
    accept = http_head_field(h, "accept", &n);
    return accept && n >= 6 && strncmp(accept, "image/", 6) == 0;
}

static int collect_track_parse(struct collect *c, const struct http_head *h,
                               struct ev_error *e)
{
    const char *ua;
    size_t n;

    if (event_parse_query(&c->ev, h->query ? h->query : "", h->query_len, e) !=
        0)
        return -1;
    ua = http_head_field(h, "user-agent", &n);
    if (c->ev.text[EV_UA] == NULL && ua != NULL && n > 0)
        return event_set_text(&c->ev, EV_UA, ua, n, e);
    return 0;
}

/* GET /track?<fields>: one event from the query string. HEAD answers
 * the same way but records nothing. */
void collect_track(struct collect *c, struct http_req *req)
{
    const struct http_head *h = http_req_head(req);
    struct collect_batch *b;
    struct ev_error e;
    int rc;

    if (h->method == HTTP_HEAD) {
        collect_answer_beacon(req, collect_wants_gif(h));
        return;
    }
    if (c->outstanding + 1 > c->o->queue_max) {
        c->m.busy++;
        collect_answer_busy(c, req, "the queue to Kafka is full; retry");
        return;
    }
    b = collect_batch_new(c, req, CB_TRACK);
    if (b == NULL) {
        http_req_respond(req, 500, NULL, NULL, NULL, 0);
        return;
    }
    b->gif = collect_wants_gif(h);
    rc = collect_track_parse(c, h, &e);
    if (rc == 0)
        collect_accept(c, b, &c->ev);
    else
        collect_reject(c, b, 0, h->target, h->target_len, &e);
    collect_batch_start(c, b);
}

static int collect_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    }
    return 1;
}

/* Calls fn for each non-blank NDJSON line (its CR dropped), or counts
 * them when fn is NULL. Returns the count. */
static long collect_lines(struct collect *c, struct collect_batch *b,
                          const char *s, size_t n)
{
    long idx = 0;
    size_t i = 0;

    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n, len = e - i;
        struct ev_error err;

        if (len > 0 && s[i + len - 1] == '\r')
            len--;
        if (!collect_blank(s + i, len)) {
            if (b && event_parse_json(&c->ev, s + i, len, &err) == 0)
                collect_accept(c, b, &c->ev);
            else if (b)
                collect_reject(c, b, idx, s + i, len, &err);
            idx++;
        }
        i = e + 1;
    }
    return idx;
}

/* The same for the elements of a JSON array; -1 with *e filled when the
 * body is not an array. */
static long collect_elements(struct collect *c, struct collect_batch *b,
                             const char *s, size_t n, struct ev_error *e)
{
    struct json_array_iter it;
    const char *el;
    size_t len;
    long idx = 0;
    int rc;

    json_array_init(&it, s, n);
    while ((rc = json_array_next(&it, &el, &len)) == 1) {
        struct ev_error err;
        if (b && event_parse_json(&c->ev, el, len, &err) == 0)
            collect_accept(c, b, &c->ev);
        else if (b)
            collect_reject(c, b, idx, el, len, &err);
        idx++;
    }
    if (rc == 0)
        return idx;
    snprintf(e->reason, sizeof(e->reason),
             "not a JSON array: %s at byte "
             "%zu",
             it.why, it.at);
    e->field[0] = '\0';
    return -1;
}

static int collect_is_array(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && s[i] == '[';
}

/* A body that is not an array as a whole: one rejected record, 400. */
static void collect_events_malformed(struct collect *c, struct http_req *req,
                                     const char *body, size_t n,
                                     struct ev_error *e)
{
    struct collect_batch *b = collect_batch_new(c, req, CB_EVENTS);

    if (b == NULL) {
        http_req_respond(req, 500, NULL, NULL, NULL, 0);
        return;
    }
    if (n > EV_LINE_MAX) {
        n = EV_LINE_MAX; /* a Kafka message must stay under its cap */
        snprintf(e->reason + strlen(e->reason),
                 sizeof(e->reason) - strlen(e->reason),
                 " (raw cut to %d bytes)", EV_LINE_MAX);
    }
    collect_reject(c, b, 0, body, n, e);
    collect_answer_counts(c, req, 400, b);
    b->req = NULL;
    collect_batch_free(c, b);
}

/* POST /events: NDJSON, or one JSON array of event objects. */
void collect_events(struct collect *c, struct http_req *req)
{
    struct collect_batch *b;
    struct ev_error e;
    size_t n;
    const char *body = http_req_body(req, &n);
    int array = collect_is_array(body, n);
    long items = array ? collect_elements(c, NULL, body, n, &e)
                       : collect_lines(c, NULL, body, n);

    if (items < 0) {
        collect_events_malformed(c, req, body, n, &e);
        return;
    }
    if (items > c->o->queue_max) {
        collect_answer_error(req, 413, "more events than --queue-max");
        return;
    }
    if (c->outstanding + items > c->o->queue_max) {
        c->m.busy++;
        collect_answer_busy(c, req, "the queue to Kafka is full; retry");
        return;
    }
    b = collect_batch_new(c, req, CB_EVENTS);
    if (b == NULL) {
        http_req_respond(req, 500, NULL, NULL, NULL, 0);
        return;
    }
    if (array)
        collect_elements(c, b, body, n, &e);
    else
        collect_lines(c, b, body, n);
    collect_batch_start(c, b);
}
