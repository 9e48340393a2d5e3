/* One connection to a Cassandra node: connect, handshake, and requests in
 * flight on stream ids, their answers matched as they arrive. */
#include "client/cql_wire.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define CONNECT_TIMEOUT_MS 5000
#define REQUEST_TIMEOUT_MS 12000
#define REQ_KEEP_MAX 16384 /* larger request buffers are freed after use */
#define ORPHANS_MAX (CQL_STREAMS / 2)
#define KEYSPACE_MAX 48
#define CONN_RETRY 1 /* internal: an EXECUTE must be prepared again */

enum slot_state { SLOT_FREE, SLOT_SENT, SLOT_DONE, SLOT_ORPHAN };

/* One stream id: the request sent on it, then its answer. */
struct cql_slot {
    enum slot_state state;
    uint8_t op;              /* the request's opcode */
    int retried;             /* prepared again and re-sent once */
    struct cql_prepared *ps; /* EXECUTE: what to prepare again */
    int64_t deadline;        /* monotonic ms: the time-out from the send */
    struct buf req;          /* the request frame, kept for a re-send */
    struct cql_header h;     /* the answer's header ... */
    uint8_t *body;           /* ... and body, once SLOT_DONE */
};

struct cql_conn {
    int fd; /* -1 once closed */
    int ready;
    char peer[280];
    char why[256]; /* why the connection broke */
    size_t body_cap;
    int timeout_ms;
    int next; /* where the search for a free stream starts */
    int norphans;
    struct cql_slot slots[CQL_STREAMS];
    /* The answer being read. */
    int in_active;
    struct cql_header in_h;
    uint8_t *in_body;
    size_t in_got;
    size_t rpos, rlen;
    uint8_t rbuf[65536];
};

/* An answer moved out of its slot; the caller frees body. */
struct conn_answer {
    struct cql_frame f;
    uint8_t *body;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
    int64_t left = deadline - now_ms();

    return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static void slot_release(struct cql_slot *sl)
{
    /* An AUTH_RESPONSE holds the password: leave no copy behind. */
    if (sl->op == CQL_OP_AUTH_RESPONSE && sl->req.data)
        explicit_bzero(sl->req.data, sl->req.len);
    free(sl->body);
    sl->body = NULL;
    if (sl->req.size > REQ_KEEP_MAX)
        buf_free(&sl->req);
    else
        buf_reset(&sl->req);
    sl->state = SLOT_FREE;
    sl->op = 0;
    sl->ps = NULL;
    sl->retried = 0;
}

/* Closes the socket for good, saying why. Requests still waiting then
 * fail with CQL_ERR_IO; answers already in keep. */
static void conn_fail(struct cql_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void conn_fail(struct cql_conn *c, const char *fmt, ...)
{
    va_list ap;

    if (c->fd < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    close(c->fd);
    c->fd = -1;
    free(c->in_body);
    c->in_body = NULL;
    c->in_active = 0;
    c->rpos = c->rlen = 0;
    for (int s = 0; s < CQL_STREAMS; s++) {
        if (c->slots[s].state == SLOT_ORPHAN)
            slot_release(&c->slots[s]);
    }
    c->norphans = 0;
    if (c->ready)
        log_warn("cql", "lost connection to %s: %s", c->peer, c->why);
}

static int conn_lost(const struct cql_conn *c, char *err, size_t errlen)
{
    return cql_errf(err, errlen, CQL_ERR_IO, "%s: connection lost: %s", c->peer,
                    c->why);
}

/* Hands a complete answer to the request waiting on its stream. */
static void conn_deliver(struct cql_conn *c)
{
    int s = c->in_h.stream;
    uint8_t *body = c->in_body;
    struct cql_slot *sl;

    c->in_body = NULL;
    c->in_active = 0;
    if (s < 0) { /* a server event: none was asked for */
        free(body);
        return;
    }
    sl = s < CQL_STREAMS ? &c->slots[s] : NULL;
    if (sl == NULL || (sl->state != SLOT_SENT && sl->state != SLOT_ORPHAN)) {
        free(body);
        conn_fail(c, "answer on stream %d, which has no request", s);
        return;
    }
    if (sl->state == SLOT_ORPHAN) { /* its caller gave up waiting */
        free(body);
        slot_release(sl);
        c->norphans--;
        return;
    }
    sl->h = c->in_h;
    sl->body = body; /* now owned by the slot */
    sl->state = SLOT_DONE;
}

/* Reads a header from rbuf and allocates its body, within the cap. */
static int conn_start_frame(struct cql_conn *c)
{
    const uint8_t *p = c->rbuf + c->rpos;
    int rc = cql_header_decode(&c->in_h, p, CQL_HEADER_LEN, c->body_cap);

    if (rc == CQL_ERR_LIMIT) {
        conn_fail(c, "answer of %u bytes is over the %zu-byte cap",
                  (unsigned)c->in_h.length, c->body_cap);
        return rc;
    }
    if (rc != CQL_OK && (p[0] & 0x7f) != CQL_VERSION_REQ) {
        conn_fail(c, "the server speaks protocol v%d, not v%d", p[0] & 0x7f,
                  CQL_VERSION_REQ);
        return rc;
    }
    if (rc != CQL_OK) {
        conn_fail(c, "bad frame header (version 0x%02x, flags 0x%02x)", p[0],
                  p[1]);
        return rc;
    }
    c->rpos += CQL_HEADER_LEN;
    c->in_body = malloc((size_t)c->in_h.length + 1);
    if (c->in_body == NULL) {
        conn_fail(c, "no memory for an answer of %u bytes",
                  (unsigned)c->in_h.length);
        return CQL_ERR_NOMEM;
    }
    c->in_got = 0;
    c->in_active = 1;
    return CQL_OK;
}

/* Cuts what rbuf holds into frames and delivers each complete one. */
static void conn_parse(struct cql_conn *c)
{
    while (c->fd >= 0) {
        size_t have = c->rlen - c->rpos, k;

        if (!c->in_active) {
            if (have < CQL_HEADER_LEN || conn_start_frame(c) != CQL_OK)
                break;
            continue;
        }
        k = c->in_h.length - c->in_got;
        k = k < have ? k : have;
        memcpy(c->in_body + c->in_got, c->rbuf + c->rpos, k);
        c->in_got += k;
        c->rpos += k;
        if (c->in_got < c->in_h.length)
            break;
        conn_deliver(c);
    }
    /* What is left is part of a header: move it to the front. */
    memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
    c->rlen -= c->rpos;
    c->rpos = 0;
}

static int conn_read(struct cql_conn *c)
{
    ssize_t k = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);

    if (k == 0) {
        conn_fail(c, "closed by the server");
        return CQL_ERR_IO;
    }
    if (k < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return CQL_OK;
        conn_fail(c, "recv: %s", strerror(errno));
        return CQL_ERR_IO;
    }
    c->rlen += (size_t)k;
    conn_parse(c);
    return c->fd < 0 ? CQL_ERR_IO : CQL_OK;
}

/* Waits until the socket can be written (ev POLLOUT) or read (ev 0),
 * reading whatever arrived. CQL_OK, CQL_ERR_TIMEOUT, or CQL_ERR_IO. */
static int conn_poll(struct cql_conn *c, short ev, int64_t deadline)
{
    struct pollfd p = {c->fd, (short)(POLLIN | ev), 0};
    int n = poll(&p, 1, ms_left(deadline));

    if (n < 0) {
        if (errno == EINTR)
            return CQL_OK;
        conn_fail(c, "poll: %s", strerror(errno));
        return CQL_ERR_IO;
    }
    if (n == 0)
        return CQL_ERR_TIMEOUT;
    if (p.revents & (POLLIN | POLLERR | POLLHUP))
        return conn_read(c);
    return CQL_OK;
}

/* Writes all n bytes, reading answers while the socket is full. */
static int conn_write(struct cql_conn *c, const void *p, size_t n,
                      int64_t deadline)
{
    size_t done = 0;

    while (done < n) {
        ssize_t k;
        int rc;

        if (c->fd < 0)
            return CQL_ERR_IO;
        k = send(c->fd, (const char *)p + done, n - done, MSG_NOSIGNAL);
        if (k > 0) {
            done += (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR) {
            conn_fail(c, "send: %s", strerror(errno));
            return CQL_ERR_IO;
        }
        rc = conn_poll(c, POLLOUT, deadline);
        if (rc == CQL_ERR_TIMEOUT) /* a part-written frame spoils the rest */
            conn_fail(c, "send timed out after %d ms", c->timeout_ms);
        if (rc != CQL_OK)
            return CQL_ERR_IO;
    }
    return CQL_OK;
}

/* Reserves a free stream id for a request of opcode op. */
static int conn_take(struct cql_conn *c, uint8_t op, char *err, size_t errlen)
{
    if (c->fd < 0)
        return conn_lost(c, err, errlen);
    for (int k = 0; k < CQL_STREAMS; k++) {
        int s = (c->next + k) % CQL_STREAMS;

        if (c->slots[s].state == SLOT_FREE) {
            c->next = (s + 1) % CQL_STREAMS;
            c->slots[s].state = SLOT_SENT;
            c->slots[s].op = op;
            buf_reset(&c->slots[s].req);
            return s;
        }
    }
    return cql_errf(err, errlen, CQL_ERR_BUSY, "%s: all %d streams in use",
                    c->peer, CQL_STREAMS);
}

/* Sends the request that slot s holds (`enc` is how encoding went).
 * Returns s, or an error after freeing the slot. */
static int conn_send_slot(struct cql_conn *c, int s, int enc, char *err,
                          size_t errlen)
{
    struct cql_slot *sl = &c->slots[s];

    if (enc != CQL_OK) {
        slot_release(sl);
        return cql_errf(err, errlen, enc, "%s: request too large for a frame",
                        c->peer);
    }
    sl->deadline = now_ms() + c->timeout_ms;
    if (conn_write(c, sl->req.data, sl->req.len, sl->deadline) != CQL_OK) {
        slot_release(sl);
        return conn_lost(c, err, errlen);
    }
    return s;
}

int cql_conn_send_query(struct cql_conn *c, const char *cql,
                        const struct cql_params *params, char *err,
                        size_t errlen)
{
    int s = conn_take(c, CQL_OP_QUERY, err, errlen);

    if (s < 0)
        return s;
    return conn_send_slot(
        c, s, cql_encode_query(&c->slots[s].req, (int16_t)s, cql, params), err,
        errlen);
}

int cql_conn_send_prepare(struct cql_conn *c, const char *cql, char *err,
                          size_t errlen)
{
    int s = conn_take(c, CQL_OP_PREPARE, err, errlen);

    if (s < 0)
        return s;
    return conn_send_slot(c, s,
                          cql_encode_prepare(&c->slots[s].req, (int16_t)s, cql),
                          err, errlen);
}

int cql_conn_send_execute(struct cql_conn *c, struct cql_prepared *ps,
                          const struct cql_params *params, char *err,
                          size_t errlen)
{
    int s = conn_take(c, CQL_OP_EXECUTE, err, errlen);

    if (s < 0)
        return s;
    c->slots[s].ps = ps;
    return conn_send_slot(c, s,
                          cql_encode_execute(&c->slots[s].req, (int16_t)s,
                                             ps->id, ps->idlen, params),
                          err, errlen);
}

int cql_conn_send_batch(struct cql_conn *c, enum cql_batch_type type,
                        const struct cql_batch_item *items, size_t nitems,
                        const struct cql_params *params, char *err,
                        size_t errlen)
{
    int s = conn_take(c, CQL_OP_BATCH, err, errlen);

    if (s < 0)
        return s;
    return conn_send_slot(c, s,
                          cql_encode_batch(&c->slots[s].req, (int16_t)s, type,
                                           items, nitems, params),
                          err, errlen);
}

/* Reads until the answer on stream s is in, or the deadline passes. */
static int conn_await(struct cql_conn *c, int s, int64_t deadline, char *err,
                      size_t errlen)
{
    struct cql_slot *sl = &c->slots[s];

    while (sl->state == SLOT_SENT) {
        if (c->fd < 0)
            return conn_lost(c, err, errlen);
        if (conn_poll(c, 0, deadline) == CQL_ERR_TIMEOUT &&
            sl->state == SLOT_SENT)
            return cql_errf(err, errlen, CQL_ERR_TIMEOUT,
                            "%s: no answer within %d ms", c->peer,
                            c->timeout_ms);
    }
    return CQL_OK;
}

/* After a failed wait: a timed-out stream stays reserved for its late
 * answer; too many of those and the connection is given up. */
static void conn_abandon(struct cql_conn *c, int s, int rc)
{
    struct cql_slot *sl = &c->slots[s];

    if (rc != CQL_ERR_TIMEOUT || c->fd < 0 || sl->state != SLOT_SENT) {
        slot_release(sl);
        return;
    }
    sl->state = SLOT_ORPHAN;
    if (++c->norphans > ORPHANS_MAX)
        conn_fail(c, "%d requests left without an answer", c->norphans);
}

/* Moves the answer out of a done slot (which stays reserved). */
static int slot_answer(const struct cql_conn *c, struct cql_slot *sl,
                       struct conn_answer *a, char *err, size_t errlen)
{
    a->f.h = sl->h;
    a->body = sl->body;
    sl->body = NULL;
    if (cql_frame_locate(&a->f, a->body, sl->h.length) == CQL_OK)
        return CQL_OK;
    free(a->body);
    a->body = NULL;
    return cql_errf(err, errlen, CQL_ERR_PROTO, "%s: malformed answer",
                    c->peer);
}

static int answer_error(const struct cql_conn *c, const struct conn_answer *a,
                        struct cql_error *e, char *err, size_t errlen)
{
    if (cql_error_decode(e, a->f.msg, a->f.len) != CQL_OK)
        return cql_errf(err, errlen, CQL_ERR_PROTO, "%s: malformed ERROR",
                        c->peer);
    cql_error_format(e, err, errlen);
    return CQL_ERR_SERVER;
}

static int answer_unexpected(const struct cql_conn *c,
                             const struct conn_answer *a, char *err,
                             size_t errlen)
{
    return cql_errf(err, errlen, CQL_ERR_PROTO,
                    "%s: unexpected answer (opcode 0x%02x)", c->peer,
                    a->f.h.opcode);
}

/* Turns the answer on stream s into `res`, or CONN_RETRY when an EXECUTE
 * met a node that does not know its statement. */
static int conn_result(struct cql_conn *c, int s, struct cql_result *res,
                       char *err, size_t errlen)
{
    struct cql_slot *sl = &c->slots[s];
    struct conn_answer a;
    struct cql_error e;
    int rc = slot_answer(c, sl, &a, err, errlen);

    if (rc != CQL_OK)
        return rc;
    if (a.f.h.opcode == CQL_OP_RESULT) {
        rc = cql_result_decode(res, a.f.msg, a.f.len);
        if (rc == CQL_OK) {
            res->owned = a.body; /* now owned by res */
            return CQL_OK;
        }
        rc = cql_errf(err, errlen, rc, "%s: malformed RESULT", c->peer);
    } else if (a.f.h.opcode == CQL_OP_ERROR) {
        rc = answer_error(c, &a, &e, err, errlen);
        if (rc == CQL_ERR_SERVER)
            res->error_code = e.code;
        if (rc == CQL_ERR_SERVER && e.code == CQL_E_UNPREPARED &&
            sl->op == CQL_OP_EXECUTE && !sl->retried)
            rc = CONN_RETRY;
    } else {
        rc = answer_unexpected(c, &a, err, errlen);
    }
    free(a.body);
    return rc;
}

/* Rewrites the EXECUTE in slot s with the statement's current id. */
static int slot_splice_id(struct cql_slot *sl, int s)
{
    const uint8_t *f = (const uint8_t *)sl->req.data;
    size_t old, tail;
    struct cql_wr w;
    struct buf nb;

    assert(sl->req.len >= CQL_HEADER_LEN + 2);
    old = (size_t)(f[CQL_HEADER_LEN] << 8 | f[CQL_HEADER_LEN + 1]);
    tail = CQL_HEADER_LEN + 2 + old;
    assert(sl->req.len >= tail);
    buf_init(&nb, sl->req.cap);
    cql_wr_begin(&w, &nb, (int16_t)s, CQL_OP_EXECUTE);
    cql_wr_short_bytes(&w, sl->ps->id, sl->ps->idlen);
    cql_wr_mem(&w, f + tail, sl->req.len - tail);
    if (cql_wr_end(&w) != CQL_OK) {
        buf_free(&nb);
        return CQL_ERR_LIMIT;
    }
    buf_free(&sl->req);
    sl->req = nb; /* now owned by the slot */
    return CQL_OK;
}

/* Prepares the statement of slot s again and re-sends the EXECUTE on the
 * same stream. On failure the slot is freed. */
static int conn_resend(struct cql_conn *c, int s, char *err, size_t errlen)
{
    struct cql_slot *sl = &c->slots[s];
    int rc = cql_conn_prepare(c, sl->ps, err, errlen);

    if (rc == CQL_OK && slot_splice_id(sl, s) != CQL_OK)
        rc = cql_errf(err, errlen, CQL_ERR_LIMIT, "%s: request too large",
                      c->peer);
    if (rc == CQL_OK) {
        sl->retried = 1;
        sl->state = SLOT_SENT;
        sl->deadline = now_ms() + c->timeout_ms;
        if (conn_write(c, sl->req.data, sl->req.len, sl->deadline) != CQL_OK)
            rc = conn_lost(c, err, errlen);
    }
    if (rc != CQL_OK)
        slot_release(sl);
    return rc;
}

int cql_conn_wait(struct cql_conn *c, int s, struct cql_result *res, char *err,
                  size_t errlen)
{
    struct cql_result tmp;
    int rc;

    assert(s >= 0 && s < CQL_STREAMS);
    assert(c->slots[s].state == SLOT_SENT || c->slots[s].state == SLOT_DONE);
    if (res == NULL)
        res = &tmp;
    cql_result_init(res);
    for (;;) {
        /* Timed from the send: a pipeline's waits share one time-out. */
        rc = conn_await(c, s, c->slots[s].deadline, err, errlen);
        if (rc != CQL_OK) {
            conn_abandon(c, s, rc);
            break;
        }
        rc = conn_result(c, s, res, err, errlen);
        if (rc != CONN_RETRY) {
            slot_release(&c->slots[s]);
            break;
        }
        rc = conn_resend(c, s, err, errlen);
        if (rc != CQL_OK)
            break;
    }
    if (res == &tmp)
        cql_result_free(&tmp);
    return rc;
}

static int prepared_store(struct cql_prepared *ps, const struct cql_result *res)
{
    uint8_t *id = malloc(res->id.n ? res->id.n : 1);

    if (id == NULL)
        return CQL_ERR_NOMEM;
    memcpy(id, res->id.p, res->id.n);
    free(ps->id);
    ps->id = id; /* now owned by ps */
    ps->idlen = res->id.n;
    ps->nbind = res->bind.ncols;
    return CQL_OK;
}

int cql_conn_prepare(struct cql_conn *c, struct cql_prepared *ps, char *err,
                     size_t errlen)
{
    struct cql_result res;
    int rc, s = cql_conn_send_prepare(c, ps->query, err, errlen);

    if (s < 0)
        return s;
    rc = cql_conn_wait(c, s, &res, err, errlen);
    if (rc == CQL_OK && res.kind != CQL_RESULT_PREPARED)
        rc = cql_errf(err, errlen, CQL_ERR_PROTO,
                      "%s: PREPARE answered with result kind %d", c->peer,
                      (int)res.kind);
    if (rc == CQL_OK && prepared_store(ps, &res) != CQL_OK)
        rc = cql_errf(err, errlen, CQL_ERR_NOMEM, "out of memory");
    cql_result_free(&res);
    return rc;
}

/* Sends the request in slot s (encoded as `enc` says) and waits for the
 * answer, which `a` then holds; the slot is freed. */
static int conn_roundtrip(struct cql_conn *c, int s, int enc,
                          struct conn_answer *a, char *err, size_t errlen)
{
    int rc;

    s = conn_send_slot(c, s, enc, err, errlen);
    if (s < 0)
        return s;
    rc = conn_await(c, s, now_ms() + c->timeout_ms, err, errlen);
    if (rc == CQL_OK)
        rc = slot_answer(c, &c->slots[s], a, err, errlen);
    slot_release(&c->slots[s]);
    return rc;
}

/* SASL PLAIN, as PasswordAuthenticator expects. */
static int conn_login(struct cql_conn *c, const struct cql_settings *st,
                      const struct cql_str *cls, char *err, size_t errlen)
{
    struct conn_answer a = {0};
    struct cql_error e;
    int rc, s;

    if (st->user == NULL)
        return cql_errf(err, errlen, CQL_ERR_ARG,
                        "%s asks for a login (%.*s) but no user is set",
                        c->peer, (int)cls->n, cls->p ? cls->p : "");
    s = conn_take(c, CQL_OP_AUTH_RESPONSE, err, errlen);
    if (s < 0)
        return s;
    rc = cql_encode_auth_response(&c->slots[s].req, (int16_t)s, st->user,
                                  st->password ? st->password : "");
    rc = conn_roundtrip(c, s, rc, &a, err, errlen);
    if (rc != CQL_OK)
        return rc;
    if (a.f.h.opcode == CQL_OP_AUTH_SUCCESS)
        rc = CQL_OK;
    else if (a.f.h.opcode == CQL_OP_ERROR)
        rc = answer_error(c, &a, &e, err, errlen);
    else if (a.f.h.opcode == CQL_OP_AUTH_CHALLENGE)
        rc = cql_errf(err, errlen, CQL_ERR_PROTO,
                      "%s: the authenticator sent a SASL challenge; only "
                      "user and password logins are supported",
                      c->peer);
    else
        rc = answer_unexpected(c, &a, err, errlen);
    free(a.body);
    return rc;
}

static int conn_startup(struct cql_conn *c, const struct cql_settings *st,
                        char *err, size_t errlen)
{
    struct conn_answer a = {0};
    struct cql_error e;
    struct cql_str cls;
    int rc, s = conn_take(c, CQL_OP_STARTUP, err, errlen);

    if (s < 0)
        return s;
    rc = cql_encode_startup(&c->slots[s].req, (int16_t)s);
    rc = conn_roundtrip(c, s, rc, &a, err, errlen);
    if (rc != CQL_OK)
        return rc;
    if (a.f.h.opcode == CQL_OP_READY)
        rc = CQL_OK;
    else if (a.f.h.opcode == CQL_OP_AUTHENTICATE &&
             cql_authenticate_decode(&cls, a.f.msg, a.f.len) == CQL_OK)
        rc = conn_login(c, st, &cls, err, errlen);
    else if (a.f.h.opcode == CQL_OP_ERROR)
        rc = answer_error(c, &a, &e, err, errlen);
    else
        rc = answer_unexpected(c, &a, err, errlen);
    free(a.body);
    return rc;
}

int cql_name_valid(const char *name)
{
    size_t n = 0;

    for (; name[n]; n++) {
        char ch = name[n];

        if (!(ch == '_' || (ch >= '0' && ch <= '9') ||
              (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return 0;
    }
    return n > 0 && n <= KEYSPACE_MAX;
}

static int conn_use(struct cql_conn *c, const char *ks, char *err,
                    size_t errlen)
{
    struct cql_result res;
    char q[KEYSPACE_MAX + 16];
    int rc, s;

    if (!cql_name_valid(ks))
        return cql_errf(err, errlen, CQL_ERR_ARG, "bad keyspace name '%s'", ks);
    snprintf(q, sizeof(q), "USE \"%s\"", ks);
    s = cql_conn_send_query(c, q, NULL, err, errlen);
    if (s < 0)
        return s;
    rc = cql_conn_wait(c, s, &res, err, errlen);
    cql_result_free(&res);
    return rc;
}

static int conn_connect_one(const struct addrinfo *ai, int64_t deadline,
                            int *errnum)
{
    int fd, one = 1, n;
    socklen_t len = sizeof(*errnum);
    struct pollfd p;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
        *errnum = errno;
        return -1;
    }
    *errnum = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        *errnum = errno;
        p = (struct pollfd){fd, POLLOUT, 0};
        if (*errnum == EINPROGRESS) {
            do
                n = poll(&p, 1, ms_left(deadline));
            while (n < 0 && errno == EINTR);
            *errnum = n == 0 ? ETIMEDOUT : n < 0 ? errno : 0;
            if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, errnum, &len))
                *errnum = errno;
        }
    }
    if (*errnum != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int conn_connect(struct cql_conn *c, const char *host, const char *port,
                        int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    int64_t deadline = now_ms() + timeout_ms;
    int gai, errnum = 0;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return cql_errf(err, errlen, CQL_ERR_IO, "%s: cannot resolve: %s",
                        c->peer, gai_strerror(gai));
    for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next)
        c->fd = conn_connect_one(ai, deadline, &errnum);
    freeaddrinfo(res);
    if (c->fd >= 0)
        return CQL_OK;
    if (errnum == ETIMEDOUT)
        return cql_errf(err, errlen, CQL_ERR_TIMEOUT,
                        "%s: connect timed out after %d ms", c->peer,
                        timeout_ms);
    return cql_errf(err, errlen, CQL_ERR_IO, "%s: connect: %s", c->peer,
                    strerror(errnum));
}

static struct cql_conn *conn_new(const char *host, const char *port,
                                 const struct cql_settings *st)
{
    struct cql_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->fd = -1;
    snprintf(c->peer, sizeof(c->peer), strchr(host, ':') ? "[%s]:%s" : "%s:%s",
             host, port);
    snprintf(c->why, sizeof(c->why), "not connected");
    c->body_cap = st->body_cap && st->body_cap < CQL_BODY_CAP ? st->body_cap
                                                              : CQL_BODY_CAP;
    c->timeout_ms = st->request_timeout_ms > 0 ? st->request_timeout_ms
                                               : REQUEST_TIMEOUT_MS;
    for (int s = 0; s < CQL_STREAMS; s++)
        buf_init(&c->slots[s].req, CQL_BODY_CAP + CQL_HEADER_LEN);
    return c;
}

/* Puts "peer: " before the text already in err. */
static void err_prefix_peer(const struct cql_conn *c, char *err, size_t errlen)
{
    char *text = errlen ? strdup(err) : NULL;

    if (text == NULL)
        return;
    snprintf(err, errlen, "%s: %s", c->peer, text);
    free(text);
}

int cql_conn_open(struct cql_conn **out, const char *host, const char *port,
                  const struct cql_settings *st, char *err, size_t errlen)
{
    int ct = st->connect_timeout_ms > 0 ? st->connect_timeout_ms
                                        : CONNECT_TIMEOUT_MS;
    struct cql_conn *c = conn_new(host, port, st);
    int rc;

    *out = NULL;
    if (c == NULL)
        return cql_errf(err, errlen, CQL_ERR_NOMEM, "out of memory");
    rc = conn_connect(c, host, port, ct, err, errlen);
    if (rc == CQL_OK)
        rc = conn_startup(c, st, err, errlen);
    if (rc == CQL_OK && st->keyspace != NULL)
        rc = conn_use(c, st->keyspace, err, errlen);
    if (rc != CQL_OK) {
        if (rc == CQL_ERR_SERVER)
            err_prefix_peer(c, err, errlen);
        cql_conn_close(c);
        return rc;
    }
    c->ready = 1;
    log_info("cql", "connected to %s", c->peer);
    *out = c; /* now owned by the caller */
    return CQL_OK;
}

void cql_conn_close(struct cql_conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    for (int s = 0; s < CQL_STREAMS; s++) {
        slot_release(&c->slots[s]);
        buf_free(&c->slots[s].req);
    }
    free(c->in_body);
    free(c);
}

int cql_conn_alive(const struct cql_conn *c)
{
    return c != NULL && c->fd >= 0;
}

const char *cql_conn_peer(const struct cql_conn *c)
{
    return c->peer;
}
