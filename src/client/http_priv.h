/* What the HTTP server's files share: the server and connection structs. */
#ifndef ADTALLY_CLIENT_HTTP_PRIV_H
#define ADTALLY_CLIENT_HTTP_PRIV_H

#include <stdint.h>
#include <time.h>

#include "client/http.h"
#include "util/buf.h"

#define HTTP_LINGER_MS 2000   /* reading after an answer that closes */
#define HTTP_KEEP_BUF 65536   /* a larger idle input buffer is freed */
#define HTTP_READ_CHUNK 65536 /* most bytes asked of one read */
#define HTTP_SWEEP_MS 100     /* how often deadlines are checked */

enum http_conn_state {
    HC_IDLE,    /* kept alive, no byte of a request yet */
    HC_HEAD,    /* reading a request head */
    HC_BODY,    /* reading its body */
    HC_PENDING, /* with the handler, not answered yet */
    HC_WRITE,   /* writing the answer */
    HC_LINGER,  /* answer sent, write side shut, draining input */
    HC_DEAD     /* closed; freed at the end of the loop's turn */
};

/* A connection; as the handler sees it, the request it carries. */
struct http_req {
    struct http_server *srv;
    int fd; /* -1 once closed (the peer left while PENDING) */
    enum http_conn_state state;
    int events; /* epoll interest now */
    struct buf in;
    size_t need; /* head and body bytes of the request, once known */
    struct http_head head;
    int have_head;
    int keep_alive;
    struct buf out;
    size_t out_off;
    int64_t deadline; /* monotonic ms; 0 for none */
    int64_t started;  /* the request's first byte */
    int slot;         /* index in srv->conns */
    int on_ready;
    struct http_req *ready_next; /* on the ready list */
    struct http_req *dead_next;  /* on the dead list */
};

struct http_server {
    struct http_server_opts o;
    int epfd;
    int lfd;
    int wake[2]; /* a pipe: a byte in it means run the tick now */
    int port;
    struct http_req **conns;
    int nconns;
    int stop_asked;
    int stopping;
    int64_t drain_deadline;
    int64_t next_sweep;
    int64_t accept_paused_until;
    struct http_req *ready; /* connections with a request buffered */
    struct http_req *dead;
    struct http_server_stats st;
    time_t date_sec;
    char date[40];
};

/* Monotonic milliseconds. */
int64_t http_now_ms(void);

/* Registers an accepted socket (owned from then on) as an idle
 * connection. Returns NULL when out of memory; fd is not closed then. */
struct http_req *http_conn_new(struct http_server *s, int fd);

/* Frees a connection's memory only (the socket is closed). NULL-safe. */
void http_conn_free(struct http_req *c);

/* Closes the socket; the memory goes at the end of the loop's turn, or,
 * while the handler holds the request, once it is answered. */
void http_conn_close(struct http_req *c);

/* Sets the epoll interest (EPOLLIN, EPOLLOUT or 0) when it changes. */
void http_conn_set_events(struct http_req *c, int events);

/* The socket is readable: reads within the caps, then parses. */
void http_conn_input(struct http_req *c);

/* The socket is writable: writes what is left of the answer. */
void http_conn_output(struct http_req *c);

/* Parses what is buffered and hands a complete request over. */
void http_conn_process(struct http_req *c);

/* Acts on a passed deadline: 408 for a slow request, else closes. */
void http_conn_expire(struct http_req *c, int64_t now);

/* Answers with a short text body and closes afterwards. */
void http_conn_fail(struct http_req *c, int status);

/* Builds the answer into c->out (http_reply.c). Returns 0 or -1. */
int http_reply_build(struct http_req *c, int status, const char *ctype,
                     const char *headers, const void *body, size_t n);

#endif
