/* A small blocking HTTP/1.1 client: one kept-alive connection, bodies
 * framed by Content-Length, bounded waits. */
#ifndef ADTALLY_CLIENT_HTTP_CLIENT_H
#define ADTALLY_CLIENT_HTTP_CLIENT_H

#include <stddef.h>

#include "util/buf.h"

#define HTTP_CLIENT_RESPONSE_MAX (4 << 20) /* head and body of an answer */

struct http_client;

struct http_response {
    int status;
    int retry_after; /* seconds from Retry-After, or -1 */
    struct buf body; /* owned by the client; valid until the next call */
};

/* Prepares a client for "http://host:port" (a path after it is ignored;
 * [v6] hosts allowed). Connects lazily. `timeout_ms` bounds the connect
 * and each wait for the socket. Returns NULL with the reason in err. */
struct http_client *http_client_create(const char *url, int timeout_ms,
                                       char *err, size_t errlen);

/* Sends one request and reads its answer into *resp. `headers` are extra
 * lines, each ending in CRLF (NULL for none); Host, Content-Length (with a
 * body) and keep-alive are added. A kept-alive connection that turns out
 * closed is reopened once. Returns 0 with *resp filled, or -1 with the
 * reason in err (no answer; the connection is closed). */
int http_client_request(struct http_client *hc, const char *method,
                        const char *target, const char *headers,
                        const void *body, size_t n, struct http_response **resp,
                        char *err, size_t errlen);

/* Closes the connection; the next request opens a new one. */
void http_client_close(struct http_client *hc);

/* NULL-safe. */
void http_client_destroy(struct http_client *hc);

#endif
