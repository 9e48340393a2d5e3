/* A blocking HTTP/1.1 client over one kept-alive connection. */
#include "client/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct http_client {
    char host[256]; /* to connect to */
    char port[8];
    char host_field[280]; /* the Host field's value */
    int timeout_ms;
    int fd;
    struct buf req;
    struct buf in;
    struct http_response resp;
};

/* Splits http://host:port[/...] into its parts. */
static int http_client_url(struct http_client *hc, const char *url)
{
    const char *h, *end, *colon;
    size_t hlen;

    if (strncmp(url, "http://", 7) != 0)
        return -1;
    h = url + 7;
    end = h + strcspn(h, "/");
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (rb == NULL)
            return -1;
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        hlen = (size_t)(rb - h - 1);
        h++;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        hlen = (size_t)((colon ? colon : end) - h);
    }
    if (hlen == 0 || hlen >= sizeof(hc->host))
        return -1;
    memcpy(hc->host, h, hlen);
    hc->host[hlen] = '\0';
    snprintf(hc->port, sizeof(hc->port), "%.*s",
             colon ? (int)(end - colon - 1) : 2, colon ? colon + 1 : "80");
    if (hc->port[0] == '\0' ||
        strspn(hc->port, "0123456789") != strlen(hc->port))
        return -1;
    snprintf(hc->host_field, sizeof(hc->host_field), "%.*s",
             (int)(end - url - 7), url + 7);
    return 0;
}

struct http_client *http_client_create(const char *url, int timeout_ms,
                                       char *err, size_t errlen)
{
    struct http_client *hc = calloc(1, sizeof(*hc));

    if (hc == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (http_client_url(hc, url) != 0) {
        snprintf(err, errlen, "'%s' is not http://host:port", url);
        free(hc);
        return NULL;
    }
    hc->fd = -1;
    hc->timeout_ms = timeout_ms;
    buf_init(&hc->req, 0);
    buf_init(&hc->in, HTTP_CLIENT_RESPONSE_MAX);
    buf_init(&hc->resp.body, HTTP_CLIENT_RESPONSE_MAX);
    return hc;
}

void http_client_close(struct http_client *hc)
{
    if (hc->fd >= 0)
        close(hc->fd);
    hc->fd = -1;
}

void http_client_destroy(struct http_client *hc)
{
    if (hc == NULL)
        return;
    http_client_close(hc);
    buf_free(&hc->req);
    buf_free(&hc->in);
    buf_free(&hc->resp.body);
    free(hc);
}

static int http_client_connect(struct http_client *hc, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL, *ai;
    struct timeval tv = {hc->timeout_ms / 1000, (hc->timeout_ms % 1000) * 1000};
    int rc = getaddrinfo(hc->host, hc->port, &hints, &res), one = 1;

    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", hc->host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai && hc->fd < 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        /* On Linux the send time-out also bounds connect. */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            hc->fd = fd;
        else
            close(fd);
    }
    if (hc->fd < 0)
        snprintf(err, errlen, "cannot connect to %s:%s: %s", hc->host, hc->port,
                 strerror(errno));
    freeaddrinfo(res);
    return hc->fd < 0 ? -1 : 0;
}

static int http_client_send_all(struct http_client *hc, char *err,
                                size_t errlen)
{
    size_t off = 0;

    while (off < hc->req.len) {
        ssize_t w =
            send(hc->fd, hc->req.data + off, hc->req.len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "send: %s", strerror(errno));
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

/* Reads more of the answer. Returns 0, or -1 with err. */
static int http_client_fill(struct http_client *hc, char *err, size_t errlen)
{
    ssize_t r;

    if (buf_reserve(&hc->in, 16384) != 0) {
        snprintf(err, errlen, "answer larger than %d bytes",
                 HTTP_CLIENT_RESPONSE_MAX);
        return -1;
    }
    do
        r = recv(hc->fd, hc->in.data + hc->in.len, 16384, 0);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        snprintf(err, errlen, "%s",
                 r == 0 ? "connection closed by the server" : strerror(errno));
        return -1;
    }
    hc->in.len += (size_t)r;
    hc->in.data[hc->in.len] = '\0';
    return 0;
}

/* Reads the fields we need from a head of hlen bytes. */
static int http_client_head(struct http_client *hc, size_t hlen, size_t *clen,
                            int *close_after)
{
    const char *p = hc->in.data, *end = p + hlen;

    if (hlen < 12 || strncmp(p, "HTTP/1.", 7) != 0)
        return -1;
    hc->resp.status = atoi(p + 9);
    hc->resp.retry_after = -1;
    *clen = 0;
    *close_after = p[7] == '0';
    for (p = strstr(p, "\r\n") + 2; p < end - 2; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            *clen = strtoul(p + 15, NULL, 10);
        else if (strncasecmp(p, "Retry-After:", 12) == 0)
            hc->resp.retry_after = atoi(p + 12);
        else if (strncasecmp(p, "Connection:", 11) == 0)
            *close_after =
                strncasecmp(p + 11 + strspn(p + 11, " "), "close", 5) == 0;
        else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0)
            return -1; /* our servers frame by length */
    }
    return hc->resp.status >= 100 && hc->resp.status <= 999 ? 0 : -1;
}

static int http_client_read(struct http_client *hc, char *err, size_t errlen)
{
    char *blank;
    size_t hlen, clen;
    int close_after;

    buf_reset(&hc->in);
    while ((blank = hc->in.data ? strstr(hc->in.data, "\r\n\r\n") : NULL) ==
           NULL) {
        if (http_client_fill(hc, err, errlen) != 0)
            return -1;
    }
    hlen = (size_t)(blank - hc->in.data) + 4;
    if (http_client_head(hc, hlen, &clen, &close_after) != 0 ||
        clen > HTTP_CLIENT_RESPONSE_MAX) {
        snprintf(err, errlen, "malformed answer");
        return -1;
    }
    while (hc->in.len < hlen + clen) {
        if (http_client_fill(hc, err, errlen) != 0)
            return -1;
    }
    buf_reset(&hc->resp.body);
    if (buf_append(&hc->resp.body, hc->in.data + hlen, clen) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (close_after)
        http_client_close(hc);
    return 0;
}

static int http_client_build(struct http_client *hc, const char *method,
                             const char *target, const char *headers,
                             const void *body, size_t n)
{
    struct buf *r = &hc->req;
    int rc;

    buf_reset(r);
    rc = buf_printf(r, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target,
                    hc->host_field);
    if (rc == 0 && (n > 0 || strcmp(method, "POST") == 0))
        rc = buf_printf(r, "Content-Length: %zu\r\n", n);
    if (rc == 0 && headers)
        rc = buf_puts(r, headers);
    if (rc == 0)
        rc = buf_puts(r, "\r\n");
    if (rc == 0 && n > 0)
        rc = buf_append(r, body, n);
    return rc;
}

int http_client_request(struct http_client *hc, const char *method,
                        const char *target, const char *headers,
                        const void *body, size_t n, struct http_response **resp,
                        char *err, size_t errlen)
{
    if (http_client_build(hc, method, target, headers, body, n) != 0) {
        snprintf(err, errlen, "request too large");
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = hc->fd >= 0;

        if (!reused && http_client_connect(hc, err, errlen) != 0)
            return -1;
        if (http_client_send_all(hc, err, errlen) == 0 &&
            http_client_read(hc, err, errlen) == 0) {
            *resp = &hc->resp;
            return 0;
        }
        http_client_close(hc);
        /* A kept-alive connection the server closed meanwhile: once
         * more on a new one, unless part of an answer had come. */
        if (!reused || hc->in.len > 0)
            return -1;
    }
    return -1;
}
