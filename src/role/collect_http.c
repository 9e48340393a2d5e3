/* The collector's routes and the shapes of its answers. */
#include <stdio.h>
#include <string.h>

#include "role/collect.h"

/* A transparent 1x1 GIF89a: header, screen, 2-colour table, graphic
 * control (transparent index 0), image descriptor, LZW data, trailer. */
static const unsigned char collect_gif[43] = {
    'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

#define COLLECT_NO_STORE "Cache-Control: no-store\r\n"

void collect_answer_beacon(struct http_req *req, int gif)
{
    if (gif)
        http_req_respond(req, 200, "image/gif", COLLECT_NO_STORE, collect_gif,
                         sizeof(collect_gif));
    else
        http_req_respond(req, 204, NULL, COLLECT_NO_STORE, NULL, 0);
}

void collect_answer_busy(struct collect *c, struct http_req *req,
                         const char *why)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);

    (void)c;
    http_req_respond(req, 503, "application/json",
                     "Retry-After: 1\r\n" COLLECT_NO_STORE, body, (size_t)n);
}

void collect_answer_error(struct http_req *req, int status, const char *why)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);

    http_req_respond(req, status, "application/json", COLLECT_NO_STORE, body,
                     (size_t)n);
}

/* {"accepted":N,"rejected":M,"errors":[{"index","field","reason"}...]} */
void collect_answer_counts(struct collect *c, struct http_req *req, int status,
                           const struct collect_batch *b)
{
    struct buf *o = &c->out;
    int rc;

    buf_reset(o);
    rc = buf_printf(o, "{\"accepted\":%d,\"rejected\":%d,\"errors\":[",
                    b->accepted, b->rejected);
    if (rc == 0 && b->errors.len)
        rc = buf_append(o, b->errors.data, b->errors.len);
    if (rc == 0)
        rc = buf_puts(o, b->nerrors < b->rejected
                             ? "],\"errors_truncated\":true}"
                             : "]}");
    if (rc != 0) {
        http_req_respond(req, 500, NULL, NULL, NULL, 0);
        return;
    }
    http_req_respond(req, status, "application/json", COLLECT_NO_STORE, o->data,
                     o->len);
}

static void collect_healthz(struct collect *c, struct http_req *req)
{
    char body[64];
    int n = snprintf(body, sizeof(body),
                     "{\"status\":\"ok\",\"kafka\":"
                     "\"%s\"}",
                     c->kafka_failing ? "failing" : "up");

    http_req_respond(req, 200, "application/json", COLLECT_NO_STORE, body,
                     (size_t)n);
}

static void collect_metrics(struct collect *c, struct http_req *req)
{
    buf_reset(&c->out);
    if (collect_metrics_render(c, &c->out) != 0) {
        http_req_respond(req, 500, NULL, NULL, NULL, 0);
        return;
    }
    http_req_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                     COLLECT_NO_STORE, c->out.data, c->out.len);
}

/* 405 or the answer to OPTIONS, both naming the allowed methods. */
static void collect_allow(struct http_req *req, int status, const char *allow)
{
    static const char body[] = "{\"error\":\"method not allowed\"}";
    char headers[96];

    snprintf(headers, sizeof(headers), "Allow: %s\r\n", allow);
    if (status == 204)
        http_req_respond(req, 204, NULL, headers, NULL, 0);
    else
        http_req_respond(req, 405, "application/json", headers, body,
                         sizeof(body) - 1);
}

/* The server's handler: one request, routed by path and method. */
void collect_handle(void *ctx, struct http_req *req)
{
    static const char *const allow[CP_NPATHS] = {
        "GET, HEAD, OPTIONS",       "POST, OPTIONS",
        "GET, HEAD, OPTIONS",       "GET, HEAD, OPTIONS",
        "GET, POST, HEAD, OPTIONS",
    };
    struct collect *c = ctx;
    const struct http_head *h = http_req_head(req);
    enum collect_path p = collect_path_of(h);
    int get = h->method == HTTP_GET || h->method == HTTP_HEAD;

    if (h->method == HTTP_OPTIONS && (p != CP_OTHER || h->path[0] == '*'))
        collect_allow(req, 204, allow[p]);
    else if (p == CP_OTHER)
        collect_answer_error(req, 404, "no such path");
    else if (p == CP_TRACK && get)
        collect_track(c, req);
    else if (p == CP_EVENTS && h->method == HTTP_POST)
        collect_events(c, req);
    else if (p == CP_HEALTHZ && get)
        collect_healthz(c, req);
    else if (p == CP_METRICS && get)
        collect_metrics(c, req);
    else
        collect_allow(req, 405, allow[p]);
}
