/* The HTTP server's loop: listening, accepting, events, deadlines, stop. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/http_priv.h"

#define HTTP_EVENTS 128 /* epoll events taken per turn */
#define HTTP_ACCEPTS 64 /* connections accepted per turn at most */
#define HTTP_BACKLOG 511

int64_t http_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void http_server_opts_default(struct http_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->listen = "127.0.0.1:8090";
    o->lim.line_max = HTTP_LINE_MAX;
    o->lim.header_max = HTTP_HEADER_MAX;
    o->lim.body_max = HTTP_BODY_MAX;
    o->max_conns = 1024;
    o->header_timeout_ms = 10000;
    o->body_timeout_ms = 10000;
    o->idle_timeout_ms = 60000;
    o->write_timeout_ms = 10000;
    o->drain_timeout_ms = 30000;
    o->tick_ms = 5;
    o->cors_methods = "GET, POST, HEAD, OPTIONS";
    o->cors_headers = "Content-Type";
    o->cors_max_age = 86400;
}

/* Splits "host:port", "[v6]:port" or ":port"; an empty host is any. */
static int http_listen_split(const char *listen, char *host, size_t hn,
                             const char **port)
{
    const char *end;

    if (listen[0] == '[') {
        end = strchr(listen, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        snprintf(host, hn, "%.*s", (int)(end - listen - 1), listen + 1);
        *port = end + 2;
        return 0;
    }
    end = strrchr(listen, ':');
    if (end == NULL)
        return -1;
    snprintf(host, hn, "%.*s", (int)(end - listen), listen);
    *port = end + 1;
    return 0;
}

static int http_listen_on(const struct addrinfo *ai)
{
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    int one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, HTTP_BACKLOG) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens the listening socket; returns it, or -1 with err. */
static int http_listen(const char *listen, int *port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256];
    const char *ps;
    int fd = -1, rc;

    if (http_listen_split(listen, host, sizeof(host), &ps) != 0) {
        snprintf(err, errlen, "listen address '%s' is not host:port", listen);
        return -1;
    }
    rc = getaddrinfo(host[0] ? host : NULL, ps, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "listen address '%s': %s", listen,
                 gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = http_listen_on(ai);
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s: %s", listen,
                 strerror(errno));
    else if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port = ntohs(ss.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&ss)->sin6_port
                          : ((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(res);
    return fd;
}

struct http_server *http_server_create(const struct http_server_opts *o,
                                       char *err, size_t errlen)
{
    struct http_server *s = calloc(1, sizeof(*s));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    struct epoll_event wev = {.events = EPOLLIN};

    if (s == NULL || o->max_conns < 1 || o->handler == NULL) {
        snprintf(err, errlen, s ? "bad server options" : "out of memory");
        free(s);
        return NULL;
    }
    s->o = *o;
    s->lfd = -1;
    s->wake[0] = s->wake[1] = -1;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->conns = calloc((size_t)o->max_conns, sizeof(*s->conns));
    if (s->epfd < 0 || s->conns == NULL) {
        snprintf(err, errlen, "cannot set up the loop: %s", strerror(errno));
        goto fail;
    }
    s->lfd = http_listen(o->listen, &s->port, err, errlen);
    if (s->lfd < 0)
        goto fail;
    wev.data.ptr = s->wake;
    if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0 ||
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) != 0 ||
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wake[0], &wev) != 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        goto fail;
    }
    return s;
fail:
    http_server_destroy(s);
    return NULL;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

int http_server_wake_fd(const struct http_server *s)
{
    return s->wake[1];
}

/* Too many connections: a short 503, then close. */
static void http_server_refuse(struct http_server *s, int fd)
{
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Length: 0\r\nRetry-After: 1\r\n"
                              "Connection: close\r\n\r\n";

    s->st.refused++;
    if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        (void)0; /* the client learns it from the close */
    shutdown(fd, SHUT_WR);
    close(fd);
    if (s->o.done)
        s->o.done(s->o.ctx, NULL, 503, 0.0);
}

/* Stops accepting for a moment when out of descriptors, so that a full
 * table does not spin the loop. */
static void http_server_pause_accept(struct http_server *s)
{
    struct epoll_event ev = {.events = 0, .data.ptr = NULL};

    epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev);
    s->accept_paused_until = http_now_ms() + 100;
}

static void http_server_accept(struct http_server *s)
{
    int one = 1;

    for (int i = 0; i < HTTP_ACCEPTS && s->lfd >= 0; i++) {
        /* No address is asked for: the client's IP is never seen. */
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
                http_server_pause_accept(s);
            return;
        }
        s->st.accepted++;
        if (s->nconns >= s->o.max_conns) {
            http_server_refuse(s, fd);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (http_conn_new(s, fd) == NULL)
            close(fd);
    }
}

static void http_server_event(struct http_server *s,
                              const struct epoll_event *e)
{
    struct http_req *c = e->data.ptr;
    char wakes[64];

    if (c == NULL) {
        http_server_accept(s);
        return;
    }
    if (e->data.ptr == s->wake) { /* the tick runs after this turn */
        while (read(s->wake[0], wakes, sizeof(wakes)) > 0)
            ;
        return;
    }
    if (c->state == HC_DEAD)
        return;
    if (c->state == HC_PENDING || ((e->events & (EPOLLERR | EPOLLHUP)) &&
                                   !(e->events & (EPOLLIN | EPOLLOUT)))) {
        http_conn_close(c); /* a pending request waits for its answer */
        return;
    }
    if ((e->events & EPOLLOUT) && c->state == HC_WRITE)
        http_conn_output(c);
    else if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        http_conn_input(c);
}

/* Serves requests that were already buffered behind an answer. */
static void http_server_ready(struct http_server *s)
{
    while (s->ready) {
        struct http_req *c = s->ready;

        s->ready = c->ready_next;
        c->on_ready = 0;
        if (c->state == HC_IDLE)
            http_conn_process(c);
    }
}

static void http_server_begin_stop(struct http_server *s)
{
    s->stopping = 1;
    s->drain_deadline = http_now_ms() + s->o.drain_timeout_ms;
    if (s->lfd >= 0) {
        close(s->lfd);
        s->lfd = -1;
    }
    /* Backwards: closing moves the last connection into the hole. */
    for (int i = s->nconns - 1; i >= 0; i--) {
        struct http_req *c = s->conns[i];
        if (c->state == HC_IDLE && c->in.len == 0)
            http_conn_close(c);
    }
}

static void http_server_sweep(struct http_server *s, int64_t now)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int drained = s->stopping && now >= s->drain_deadline;

    if (s->accept_paused_until && now >= s->accept_paused_until &&
        s->lfd >= 0) {
        epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev);
        s->accept_paused_until = 0;
    }
    for (int i = s->nconns - 1; i >= 0; i--) {
        struct http_req *c = s->conns[i];
        if (drained && c->state != HC_PENDING)
            http_conn_close(c);
        else
            http_conn_expire(c, now);
    }
    s->next_sweep = now + HTTP_SWEEP_MS;
}

static void http_server_reap(struct http_server *s)
{
    while (s->dead) {
        struct http_req *c = s->dead;
        s->dead = c->dead_next;
        http_conn_free(c);
    }
}

int http_server_run(struct http_server *s, char *err, size_t errlen)
{
    struct epoll_event evs[HTTP_EVENTS];

    while (!(s->stopping && s->nconns == 0)) {
        int n = epoll_wait(s->epfd, evs, HTTP_EVENTS, s->o.tick_ms);
        int64_t now;

        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++)
            http_server_event(s, &evs[i]);
        http_server_ready(s);
        if (s->o.tick)
            s->o.tick(s->o.ctx);
        http_server_ready(s);
        if (s->stop_asked && !s->stopping)
            http_server_begin_stop(s);
        now = http_now_ms();
        if (now >= s->next_sweep || s->stopping)
            http_server_sweep(s, now);
        http_server_reap(s);
    }
    return 0;
}

void http_server_stop(struct http_server *s)
{
    s->stop_asked = 1;
}

void http_server_stats(const struct http_server *s,
                       struct http_server_stats *st)
{
    *st = s->st;
    st->open = s->nconns;
}

void http_server_destroy(struct http_server *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nconns; i++) {
        if (s->conns[i]->fd >= 0)
            close(s->conns[i]->fd);
        http_conn_free(s->conns[i]);
    }
    http_server_reap(s);
    if (s->lfd >= 0)
        close(s->lfd);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->conns);
    free(s);
}

const struct http_head *http_req_head(const struct http_req *req)
{
    return &req->head;
}

const char *http_req_body(const struct http_req *req, size_t *n)
{
    *n = (size_t)req->head.content_length;
    return req->in.data + req->head.len;
}
