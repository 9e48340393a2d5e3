/* Tests of the HTTP server loop (src/client/http_server.c) over loopback
 * sockets: keep-alive, pipelining, late answers, caps, time-outs, CORS,
 * the connection limit, a graceful stop, and the wake pipe. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "test.h"

static struct http_server *srv;
static struct http_server_opts opts;
static atomic_int stop_flag;
static struct http_req *late_req; /* a request answered by the tick */
static struct timespec late_since;
static int done_count;
static pthread_t th;

static double since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void handler(void *ctx, struct http_req *req)
{
    const struct http_head *h = http_req_head(req);
    size_t n;
    const char *body = http_req_body(req, &n);
    char out[128];
    int len;

    (void)ctx;
    if (h->path_len == 5 && memcmp(h->path, "/late", 5) == 0) {
        late_req = req; /* answered by the tick, later */
        clock_gettime(CLOCK_MONOTONIC, &late_since);
        return;
    }
    len = snprintf(out, sizeof(out), "%.*s %zu %.*s", (int)h->path_len, h->path,
                   n, (int)n, body);
    http_req_respond(req, 200, "text/plain", "X-Test: 1\r\n", out, (size_t)len);
}

static void tick(void *ctx)
{
    (void)ctx;
    if (late_req && since(&late_since) > 0.05) {
        http_req_respond(late_req, 200, "text/plain", NULL, "late", 4);
        late_req = NULL;
    }
    if (atomic_load(&stop_flag))
        http_server_stop(srv);
}

static void done(void *ctx, const struct http_head *h, int status, double secs)
{
    (void)ctx;
    (void)h;
    (void)status;
    (void)secs;
    done_count++;
}

/* A thread's body: runs the server given as arg until it stops. */
static void *serve(void *arg)
{
    char err[256];

    if (http_server_run(arg, err, sizeof(err)) != 0)
        printf("  run: %s\n", err);
    return NULL;
}

static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct timeval tv = {2, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_port = htons((uint16_t)http_server_port(srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void say(int fd, const char *s)
{
    size_t n = strlen(s);

    if (send(fd, s, n, MSG_NOSIGNAL) != (ssize_t)n)
        printf("  short send\n");
}

/* Reads `count` whole answers (framed by Content-Length, or ended by
 * the peer) into out. Returns the bytes read. */
static size_t hear(int fd, char *out, size_t cap, int count)
{
    size_t len = 0;

    out[0] = '\0';
    while (count > 0 && len + 1 < cap) {
        char *end = NULL, *cl;
        size_t body = 0;

        for (char *p = out; (p = strstr(p, "\r\n\r\n")) != NULL;) {
            end = p + 4;
            break;
        }
        if (end) {
            cl = strstr(out, "Content-Length: ");
            if (cl && cl < end)
                body = strtoul(cl + 16, NULL, 10);
            if (strncmp(out, "HTTP/1.1 100", 12) == 0)
                body = 0;
            if ((size_t)(out + len - end) >= body) {
                count--;
                if (count == 0)
                    break;
                /* Drop the answer seen; keep what follows it. */
                size_t rest = (size_t)(out + len - end) - body;
                memmove(out, end + body, rest);
                len = rest;
                out[len] = '\0';
                continue;
            }
        }
        ssize_t r = recv(fd, out + len, cap - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        out[len] = '\0';
    }
    return len;
}

static int peer_closed(int fd)
{
    char c;

    return recv(fd, &c, 1, 0) == 0;
}

static void keep_alive_serves_two_requests(void)
{
    char out[4096];
    int fd = dial();

    say(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(out, "X-Test: 1\r\n") != NULL);
    CHECK(strstr(out, "\r\n\r\n/a 0 ") != NULL);
    say(fd, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz");
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "\r\n\r\n/b 3 xyz") != NULL);
    close(fd);
}

static void pipelined_requests_answer_in_order(void)
{
    char out[4096];
    int fd = dial();

    say(fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nPOST /two HTTP/1.1\r\n"
            "Host: x\r\nContent-Length: 2\r\n\r\nhiGET /three HTTP/1.1\r\n"
            "Host: x\r\nConnection: close\r\n\r\n");
    hear(fd, out, sizeof(out), 3);
    CHECK(strstr(out, "/three 0 ") != NULL);
    CHECK(strstr(out, "Connection: close") != NULL);
    CHECK(peer_closed(fd));
    close(fd);
}

static void late_answer_arrives(void)
{
    char out[4096];
    struct timespec t0;
    int fd = dial();

    clock_gettime(CLOCK_MONOTONIC, &t0);
    say(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "\r\n\r\nlate") != NULL);
    CHECK(since(&t0) >= 0.05);
    say(fd, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "/after 0") != NULL);
    close(fd);
}

/* Reads until the peer closes. */
static size_t hear_all(int fd, char *out, size_t cap)
{
    size_t len = 0;
    ssize_t r;

    while (len + 1 < cap && (r = recv(fd, out + len, cap - 1 - len, 0)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    return len;
}

static void head_has_length_but_no_body(void)
{
    char out[4096];
    size_t n;
    int fd = dial();

    say(fd, "HEAD /abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    n = hear_all(fd, out, sizeof(out));
    CHECK(strstr(out, "Content-Length: 7\r\n") != NULL);
    CHECK(n >= 4 && strcmp(out + n - 4, "\r\n\r\n") == 0);
    close(fd);
}

static void caps_answer_414_431_413(void)
{
    char *big = malloc(40000), out[4096];
    int fd;

    strcpy(big, "GET /");
    memset(big + 5, 'a', 9000);
    strcpy(big + 9005, " HTTP/1.1\r\nHost: x\r\n\r\n");
    fd = dial();
    say(fd, big);
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 414 ", 13) == 0);
    CHECK(strstr(out, "Connection: close") != NULL);
    close(fd);

    strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + strlen(big), 'b', 20000);
    strcpy(big + 20040, "\r\n\r\n");
    fd = dial();
    say(fd, big);
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
    close(fd);

    fd = dial();
    say(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n"
            "Expect: 100-continue\r\n\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
    close(fd);
    free(big);
}

static void expect_continue_gets_100(void)
{
    char out[4096];
    int fd = dial();

    say(fd, "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            "Expect: 100-continue\r\n\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 100 Continue\r\n", 23) == 0);
    say(fd, "body");
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "/e 4 body") != NULL);
    close(fd);
}

static void slow_client_gets_408(void)
{
    char out[4096];
    struct timespec t0;
    int fd = dial();

    clock_gettime(CLOCK_MONOTONIC, &t0);
    say(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 408 ", 13) == 0);
    CHECK(since(&t0) >= 0.2); /* not before header_timeout_ms */
    CHECK(peer_closed(fd));
    close(fd);

    fd = dial();
    say(fd, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12");
    hear(fd, out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 408 ", 13) == 0);
    close(fd);
}

static void cors_fields_for_allowed_origin(void)
{
    char out[4096];
    int fd = dial();

    say(fd, "OPTIONS /events HTTP/1.1\r\nHost: x\r\n"
            "Origin: https://jobs.example\r\n"
            "Access-Control-Request-Method: POST\r\n\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "Access-Control-Allow-Origin: https://jobs.example"
                      "\r\n") != NULL);
    CHECK(strstr(out, "Access-Control-Allow-Methods: GET, POST, HEAD, "
                      "OPTIONS\r\n") != NULL);
    say(fd, "GET / HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
            "\r\n");
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "Access-Control-Allow-Origin") == NULL);
    CHECK(strstr(out, "Vary: Origin") != NULL);
    close(fd);
}

static void connections_over_the_limit_get_503(void)
{
    int fds[8], n = 0;
    char out[4096];

    for (; n < opts.max_conns; n++)
        fds[n] = dial();
    usleep(50000); /* let the loop accept them */
    fds[n] = dial();
    say(fds[n], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    hear(fds[n], out, sizeof(out), 1);
    CHECK(strncmp(out, "HTTP/1.1 503 ", 13) == 0);
    for (int i = 0; i <= n; i++)
        close(fds[i]);
    usleep(50000);
}

static void stop_finishes_requests_in_flight(void)
{
    char out[4096];
    int fd = dial(), idle = dial();

    say(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(10000);
    atomic_store(&stop_flag, 1);
    hear(fd, out, sizeof(out), 1);
    CHECK(strstr(out, "\r\n\r\nlate") != NULL);
    CHECK(strstr(out, "Connection: close") != NULL);
    CHECK(peer_closed(idle));
    pthread_join(th, NULL);
    CHECK(dial() < 0);      /* no longer listening */
    CHECK(done_count > 10); /* every answer was reported */
    close(fd);
    close(idle);
}

/* A server whose tick period is a minute: only the wake pipe can make
 * its tick run within the test. */
static struct http_server *wsrv;
static atomic_int wake_ticks, wake_stop;

static void wake_tick(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wake_ticks, 1);
    if (atomic_load(&wake_stop))
        http_server_stop(wsrv);
}

/* Waits up to 2 s for the tick count to pass `n`. */
static int wake_ticks_over(int n)
{
    for (int i = 0; i < 200 && atomic_load(&wake_ticks) <= n; i++)
        usleep(10000);
    return atomic_load(&wake_ticks) > n;
}

static void wake_fd_runs_the_tick_at_once(void)
{
    struct http_server_opts o;
    pthread_t t;
    char err[256];
    int before;

    http_server_opts_default(&o);
    o.listen = "127.0.0.1:0";
    o.tick_ms = 60000;
    o.handler = handler;
    o.tick = wake_tick;
    wsrv = http_server_create(&o, err, sizeof(err));
    CHECK(wsrv != NULL);
    if (wsrv == NULL)
        return;
    CHECK(http_server_wake_fd(wsrv) >= 0);
    pthread_create(&t, NULL, serve, wsrv);
    usleep(50000);
    before = atomic_load(&wake_ticks);
    CHECK(write(http_server_wake_fd(wsrv), "1", 1) == 1);
    CHECK(wake_ticks_over(before));
    atomic_store(&wake_stop, 1);
    before = atomic_load(&wake_ticks);
    CHECK(write(http_server_wake_fd(wsrv), "1", 1) == 1);
    CHECK(wake_ticks_over(before));
    pthread_join(t, NULL);
    http_server_destroy(wsrv);
}

int main(void)
{
    char err[256];

    http_server_opts_default(&opts);
    opts.listen = "127.0.0.1:0";
    opts.max_conns = 4;
    opts.header_timeout_ms = 300;
    opts.body_timeout_ms = 300;
    opts.cors_origin = "https://a.example, https://jobs.example";
    opts.handler = handler;
    opts.tick = tick;
    opts.done = done;
    srv = http_server_create(&opts, err, sizeof(err));
    if (srv == NULL) {
        printf("FAIL create: %s\n", err);
        return 1;
    }
    pthread_create(&th, NULL, serve, srv);
    RUN(keep_alive_serves_two_requests);
    RUN(pipelined_requests_answer_in_order);
    RUN(late_answer_arrives);
    RUN(head_has_length_but_no_body);
    RUN(caps_answer_414_431_413);
    RUN(expect_continue_gets_100);
    RUN(slow_client_gets_408);
    RUN(cors_fields_for_allowed_origin);
    RUN(connections_over_the_limit_get_503);
    RUN(stop_finishes_requests_in_flight);
    http_server_destroy(srv);
    RUN(wake_fd_runs_the_tick_at_once);
    return TEST_DONE();
}
