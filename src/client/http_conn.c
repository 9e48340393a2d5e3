/* One HTTP connection: reading a request, handing it over, writing the
 * answer, keeping the connection alive or closing it. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/http_priv.h"

/* The most head bytes read before the parser must have decided. */
static size_t http_head_cap(const struct http_limits *lim)
{
    return lim->line_max + lim->header_max + 3;
}

struct http_req *http_conn_new(struct http_server *s, int fd)
{
    struct http_req *c = calloc(1, sizeof(*c));
    struct epoll_event ev = {.events = EPOLLIN};

    if (c == NULL)
        return NULL;
    c->srv = s;
    c->fd = fd;
    c->state = HC_IDLE;
    c->events = EPOLLIN;
    buf_init(&c->in, http_head_cap(&s->o.lim) + s->o.lim.body_max);
    buf_init(&c->out, 0);
    c->deadline = http_now_ms() + s->o.idle_timeout_ms;
    ev.data.ptr = c;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free(c);
        return NULL;
    }
    c->slot = s->nconns;
    s->conns[s->nconns++] = c;
    return c;
}

void http_conn_free(struct http_req *c)
{
    if (c == NULL)
        return;
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

void http_conn_set_events(struct http_req *c, int events)
{
    struct epoll_event ev = {.events = (uint32_t)events, .data.ptr = c};

    if (c->fd < 0 || c->events == events)
        return;
    if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = events;
}

/* Closes the socket. A request still with the handler stays allocated
 * (the handler holds it) until it is answered; anything else goes to the
 * dead list, freed at the end of the loop's turn. */
void http_conn_close(struct http_req *c)
{
    struct http_server *s = c->srv;

    if (c->state == HC_DEAD)
        return;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    if (c->state == HC_PENDING)
        return;
    c->state = HC_DEAD;
    s->conns[c->slot] = s->conns[--s->nconns];
    s->conns[c->slot]->slot = c->slot;
    c->dead_next = s->dead;
    s->dead = c;
}

static void http_conn_linger(struct http_req *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = HC_LINGER;
    c->deadline = http_now_ms() + HTTP_LINGER_MS;
    http_conn_set_events(c, EPOLLIN);
}

/* The answer is out: wait for the next request, or close. */
static void http_conn_written(struct http_req *c)
{
    struct http_server *s = c->srv;
    size_t rest;

    buf_reset(&c->out);
    c->out_off = 0;
    if (!c->keep_alive || s->stopping) {
        http_conn_linger(c);
        return;
    }
    assert(c->in.len >= c->need);
    rest = c->in.len - c->need;
    /* The bytes after this request are the start of the next one. */
    memmove(c->in.data, c->in.data + c->need, rest);
    c->in.len = rest;
    c->need = 0;
    c->have_head = 0;
    if (rest == 0 && c->in.size > HTTP_KEEP_BUF)
        buf_free(&c->in);
    c->state = HC_IDLE;
    c->deadline = http_now_ms() + s->o.idle_timeout_ms;
    http_conn_set_events(c, EPOLLIN);
    if (rest > 0 && !c->on_ready) {
        c->on_ready = 1;
        c->ready_next = s->ready;
        s->ready = c;
    }
}

void http_conn_output(struct http_req *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off,
                         c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            http_conn_set_events(c, EPOLLOUT);
            return;
        }
        if (w < 0) {
            http_conn_close(c);
            return;
        }
        c->out_off += (size_t)w;
        c->deadline = http_now_ms() + c->srv->o.write_timeout_ms;
    }
    http_conn_written(c);
}

int http_req_respond(struct http_req *c, int status, const char *ctype,
                     const char *headers, const void *body, size_t n)
{
    struct http_server *s = c->srv;
    int64_t now = http_now_ms();
    int rc;

    assert(c->state != HC_WRITE && c->state != HC_LINGER &&
           c->state != HC_DEAD);
    if (s->o.done)
        s->o.done(s->o.ctx, c->have_head ? &c->head : NULL, status,
                  (double)(now - c->started) / 1000.0);
    if (s->stopping)
        c->keep_alive = 0;
    rc = c->fd >= 0 ? http_reply_build(c, status, ctype, headers, body, n) : 0;
    c->state = HC_WRITE;
    if (c->fd < 0 || rc != 0) {
        http_conn_close(c);
        return rc;
    }
    c->deadline = now + s->o.write_timeout_ms;
    http_conn_output(c);
    return 0;
}

void http_conn_fail(struct http_req *c, int status)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "%d %s\n", status,
                     http_status_text(status));

    c->keep_alive = 0;
    http_req_respond(c, status, "text/plain; charset=utf-8",
                     status == 503 ? "Retry-After: 1\r\n" : NULL, body,
                     (size_t)n);
}

/* Hands a complete request to the handler. */
static void http_conn_dispatch(struct http_req *c)
{
    struct http_server *s = c->srv;
    int status, rc;

    /* The buffer may have moved while the body came: re-point the head. */
    rc = http_parse_head(c->in.data, c->in.len, &s->o.lim, &c->head, &status);
    assert(rc == HTTP_PARSE_DONE);
    (void)rc;
    c->have_head = 1;
    c->keep_alive = c->head.keep_alive;
    c->state = HC_PENDING;
    c->deadline = 0;
    http_conn_set_events(c, 0);
    s->st.requests++;
    s->o.handler(s->o.ctx, c);
}

/* Tells a client that waits for it to send the body (Expect). */
static int http_conn_continue(struct http_req *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t w = send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);

    return w == (ssize_t)sizeof(msg) - 1 ? 0 : -1;
}

/* Parses what is buffered; dispatches a complete request. */
void http_conn_process(struct http_req *c)
{
    struct http_server *s = c->srv;
    int status, rc;

    if (c->state == HC_IDLE && c->in.len > 0) {
        c->state = HC_HEAD;
        c->started = http_now_ms();
        c->deadline = c->started + s->o.header_timeout_ms;
    }
    if (c->state == HC_HEAD) {
        rc = http_parse_head(c->in.data, c->in.len, &s->o.lim, &c->head,
                             &status);
        if (rc == HTTP_PARSE_MORE)
            return;
        if (rc == HTTP_PARSE_ERROR) {
            http_conn_fail(c, status);
            return;
        }
        c->need = c->head.len + (size_t)c->head.content_length;
        c->state = HC_BODY;
        c->deadline = http_now_ms() + s->o.body_timeout_ms;
        if (c->head.expect_continue && c->in.len < c->need &&
            http_conn_continue(c) != 0) {
            http_conn_close(c);
            return;
        }
    }
    if (c->state == HC_BODY && c->in.len >= c->need)
        http_conn_dispatch(c);
}

/* Reads and throws away what comes after an answer that closes. */
static void http_conn_drain_input(struct http_req *c)
{
    char scratch[4096];
    ssize_t r = recv(c->fd, scratch, sizeof(scratch), 0);

    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        http_conn_close(c);
}

void http_conn_input(struct http_req *c)
{
    struct http_server *s = c->srv;
    size_t cap, want;
    ssize_t r;

    if (c->state == HC_LINGER) {
        http_conn_drain_input(c);
        return;
    }
    assert(c->state == HC_IDLE || c->state == HC_HEAD || c->state == HC_BODY);
    cap = c->state == HC_BODY ? c->need : http_head_cap(&s->o.lim);
    want = cap > c->in.len ? cap - c->in.len : 0;
    if (want > HTTP_READ_CHUNK)
        want = HTTP_READ_CHUNK;
    if (want == 0 || buf_reserve(&c->in, want) != 0) {
        http_conn_close(c); /* the parser decides before cap: no memory */
        return;
    }
    r = recv(c->fd, c->in.data + c->in.len, want, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        http_conn_close(c); /* an unfinished request is dropped */
        return;
    }
    c->in.len += (size_t)r;
    if (c->state == HC_BODY)
        c->deadline = http_now_ms() + s->o.body_timeout_ms;
    http_conn_process(c);
}

/* A deadline passed: slow clients get 408, the rest are closed. */
void http_conn_expire(struct http_req *c, int64_t now)
{
    if (c->deadline == 0 || now < c->deadline)
        return;
    if (c->state == HC_HEAD || c->state == HC_BODY) {
        c->srv->st.timeouts++;
        http_conn_fail(c, 408);
        return;
    }
    if (c->state == HC_WRITE)
        c->srv->st.timeouts++;
    http_conn_close(c);
}
