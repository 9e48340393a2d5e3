/* HTTP/1.1 server: a pure request-head parser and a single-threaded epoll
 * loop with keep-alive, caps, slow-client time-outs and late answers. */
#ifndef ADTALLY_CLIENT_HTTP_H
#define ADTALLY_CLIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* ---- request heads ---- */

#define HTTP_LINE_MAX 8192    /* request line, URL included */
#define HTTP_HEADER_MAX 16384 /* the header fields and the blank line */
#define HTTP_BODY_MAX 1048576 /* Content-Length */
#define HTTP_FIELDS_MAX 64    /* header fields per request */
#define HTTP_METHOD_MAX 16    /* a longer method is not one we know */

struct http_limits {
    size_t line_max;   /* bytes of the request line without its CRLF,
                          leading empty lines included */
    size_t header_max; /* bytes after the request line through the blank
                          line that ends the head */
    size_t body_max;   /* the largest Content-Length accepted */
};

enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_PATCH,
    HTTP_TRACE,
    HTTP_CONNECT
};

/* One header field: raw spans into the parsed buffer, the value without
 * its surrounding whitespace. */
struct http_field {
    const char *name;
    size_t nlen;
    const char *val;
    size_t vlen;
};

/* A parsed request head. Every pointer points into the buffer given to
 * http_parse_head, which must outlive it. */
struct http_head {
    enum http_method method;
    const char *target; /* origin-form "/path?query", or "*" */
    size_t target_len;
    const char *path; /* the target up to '?' */
    size_t path_len;
    const char *query; /* after '?'; NULL when the target has none */
    size_t query_len;
    int version;    /* 10 for HTTP/1.0, 11 for HTTP/1.1 */
    int keep_alive; /* the client allows another request after this */
    int expect_continue;
    uint64_t content_length; /* 0 when absent */
    struct http_field fields[HTTP_FIELDS_MAX];
    int nfields;
    size_t len; /* bytes of the head, through its blank line */
};

enum { HTTP_PARSE_ERROR = -1, HTTP_PARSE_MORE = 0, HTTP_PARSE_DONE = 1 };

/* Parses the request head at the start of buf[0..n); bytes after the
 * head (the body, a pipelined request) are not looked at. Pure: reads
 * nothing but buf and allocates nothing. Returns HTTP_PARSE_DONE with *h
 * filled; HTTP_PARSE_MORE when the head is not complete yet and no cap is
 * passed; HTTP_PARSE_ERROR with the answer's status in *status: 400
 * (malformed, Host missing or repeated, two Content-Lengths), 411
 * (Transfer-Encoding: bodies need a Content-Length), 413 (Content-Length
 * over body_max), 414 (request line over line_max), 417 (an Expect other
 * than 100-continue), 431 (header over header_max, or more than
 * HTTP_FIELDS_MAX fields), 501 (a method we do not know) or 505 (an HTTP
 * version other than 1.0 and 1.1). Caps are checked on incomplete input
 * too, so a caller that reads until DONE or ERROR buffers at most
 * line_max + header_max + 3 bytes of head. */
int http_parse_head(const char *buf, size_t n, const struct http_limits *lim,
                    struct http_head *h, int *status);

/* The value of the first header field called `name` (any case), with its
 * length in *vlen; NULL when there is none. */
const char *http_head_field(const struct http_head *h, const char *name,
                            size_t *vlen);

/* The method's name, e.g. "GET". */
const char *http_method_name(enum http_method m);

/* The reason phrase of a status, e.g. "Not Found"; "Unknown" if none. */
const char *http_status_text(int status);

/* ---- the server ---- */

struct http_server;

/* A request being answered. The server hands it to the handler; the
 * handler answers it with http_req_respond, then or later, exactly once.
 * Until then the connection reads nothing more. */
struct http_req;

/* Called once per complete request (head and body read). */
typedef void(http_handler_fn)(void *ctx, struct http_req *req);

/* Called on every turn of the loop and at least every tick_ms. */
typedef void(http_tick_fn)(void *ctx);

/* Called once per answer, also for the ones the server gives by itself
 * (400, 408, 413, 414, 431, 501, 503, ...): `h` is the head, or NULL when
 * none was parsed; `secs` runs from the request's first byte. */
typedef void(http_done_fn)(void *ctx, const struct http_head *h, int status,
                           double secs);

struct http_server_opts {
    const char *listen; /* "host:port"; port 0 picks a free one */
    struct http_limits lim;
    int max_conns;         /* more are answered 503 and closed */
    int header_timeout_ms; /* from a request's first byte to its head's
                              end; then 408 */
    int body_timeout_ms;   /* most silence while a body is read; 408 */
    int idle_timeout_ms;   /* a kept-alive connection with no request */
    int write_timeout_ms;  /* most time an answer may stall unread */
    int drain_timeout_ms;  /* after a stop, for reads and writes to end */
    int tick_ms;           /* the tick's period at most */
    /* CORS: NULL for none, "*" for any origin, or a comma-separated list
     * of origins. A request whose Origin is allowed gets
     * Access-Control-Allow-Origin; a preflight (OPTIONS with
     * Access-Control-Request-Method) answered 2xx also gets the methods,
     * headers and max-age below. */
    const char *cors_origin;
    const char *cors_methods;
    const char *cors_headers;
    int cors_max_age;
    http_handler_fn *handler;
    http_tick_fn *tick; /* may be NULL */
    http_done_fn *done; /* may be NULL */
    void *ctx;
};

struct http_server_stats {
    uint64_t accepted; /* connections */
    uint64_t refused;  /* connections over max_conns */
    uint64_t timeouts; /* slow clients cut off */
    uint64_t requests; /* handed to the handler */
    int open;          /* connections now */
};

/* Fills the defaults: the caps above, 1024 connections, time-outs of
 * 10 s (head, body, write), 60 s (idle), 30 s (drain), tick 5 ms, no
 * CORS, methods "GET, POST, HEAD, OPTIONS", headers "Content-Type". */
void http_server_opts_default(struct http_server_opts *o);

/* Binds and listens on o->listen. The opts (and the strings they point
 * to) must outlive the server. Returns NULL with the reason in err. */
struct http_server *http_server_create(const struct http_server_opts *o,
                                       char *err, size_t errlen);

/* The port listened on. */
int http_server_port(const struct http_server *s);

/* The write end of a non-blocking pipe owned by the server: a byte
 * written to it wakes the loop, which then runs the tick without waiting
 * for tick_ms. For a client library that signals work through an fd. */
int http_server_wake_fd(const struct http_server *s);

/* Serves until http_server_stop, then closes the listening socket,
 * lets the requests in flight finish (their answers close the
 * connection) and returns once no connection is left: 0, or -1 with the
 * reason in err when the loop itself failed. The client's address is
 * never asked for. */
int http_server_run(struct http_server *s, char *err, size_t errlen);

/* Asks the loop to stop; call it from the tick or the handler (a signal
 * handler should set a flag that the tick reads). */
void http_server_stop(struct http_server *s);

void http_server_stats(const struct http_server *s,
                       struct http_server_stats *st);

/* Closes everything. NULL-safe; the loop must not be running. */
void http_server_destroy(struct http_server *s);

/* The request's head and its body (n bytes, not NUL-terminated). Valid
 * until the request is answered. */
const struct http_head *http_req_head(const struct http_req *req);
const char *http_req_body(const struct http_req *req, size_t *n);

/* Answers `req`: status, an optional Content-Type, extra header lines
 * (each ending in CRLF; NULL for none) and a body of n bytes (not sent for
 * HEAD, nor with 1xx, 204 and 304). The server adds Date, Content-Length,
 * Connection and the CORS fields. `req` must not be used afterwards. When
 * the client is gone, the answer is dropped. Returns 0, or -1 when the
 * answer could not be built (out of memory); the connection is closed
 * then, and `req` is gone all the same. */
int http_req_respond(struct http_req *req, int status, const char *content_type,
                     const char *headers, const void *body, size_t n);

#endif
