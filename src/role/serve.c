/* `adtally serve`: the dashboard — a JSON API over `events` and the page
 * that shows it, over HTTP. */
#include "role/serve.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "role/role.h"
#include "util/log.h"

volatile sig_atomic_t serve_stop_flag;

static const struct cfg_opt serve_table[] = {
    {"listen", CFG_STR, "127.0.0.1:8091", 0, 0,
     offsetof(struct serve_opts, listen),
     "host:port to serve on (port 0 picks a free one)"},
    {"web-dir", CFG_STR, "web/dist", 0, 0, offsetof(struct serve_opts, web_dir),
     "folder of the built page (index.html, app.js)"},
    {"max-range-days", CFG_INT, "31", 1, 366,
     offsetof(struct serve_opts, max_range_days),
     "longest time range one API request may ask for, in days"},
    {"max-limit", CFG_INT, "100", 1, 1000,
     offsetof(struct serve_opts, max_limit), "largest `limit` of /api/top"},
    {"query-timeout-ms", CFG_INT, "5000", 100, 600000,
     offsetof(struct serve_opts, query_timeout_ms),
     "most time one SQL statement may run on the server"},
    {"max-conns", CFG_INT, "256", 1, 100000,
     offsetof(struct serve_opts, max_conns),
     "most open client connections (more get 503)"},
    {"static-max", CFG_INT, "4194304", 1024, 8388607,
     offsetof(struct serve_opts, static_max),
     "largest static file served, in bytes"},
    {"status-interval", CFG_INT, "60", 0, 3600,
     offsetof(struct serve_opts, status_s),
     "seconds between status lines (0: none)"},
    CFG_END,
};

static const struct cfg_role serve_role = {
    "serve", "[options]",
    "Serves the live dashboard: a JSON API over the MySQL table `events`\n"
    "and the dimension tables, and the page in --web-dir that shows it.\n"
    "  GET /api/kpis     totals and ratios for a range\n"
    "  GET /api/series   the same per hour, every hour of the range\n"
    "  GET /api/top      top jobs, campaigns, companies or publishers\n"
    "  GET /healthz      {\"status\":\"ok\"} while MySQL answers, else 503\n"
    "Parameters: from, to (YYYY-MM-DDTHH, both included; without them the\n"
    "24 hours up to the newest hour in events), campaign, company,\n"
    "publisher, job (ids); /api/top also by (spend, clicks, impressions,\n"
    "conversions), dim (job, campaign, company, publisher) and limit.\n"
    "A bad parameter gets 400 with {\"error\": message}. Requests are\n"
    "answered one at a time; each statement is capped by\n"
    "--query-timeout-ms. SIGTERM stops accepting and exits."};

static void serve_on_signal(int sig)
{
    (void)sig;
    serve_stop_flag = 1;
}

static int serve_path_is(const struct http_head *h, const char *p)
{
    size_t n = strlen(p);

    return h->path_len == n && memcmp(h->path, p, n) == 0;
}

/* The server's handler: one request, routed by method and path. */
static void serve_handle(void *ctx, struct http_req *req)
{
    struct serve *sv = ctx;
    const struct http_head *h = http_req_head(req);
    static const char not_allowed[] = "{\"error\":\"method not allowed; "
                                      "use GET or HEAD\"}";

    if (h->method != HTTP_GET && h->method != HTTP_HEAD)
        http_req_respond(req, 405, "application/json", "Allow: GET, HEAD\r\n",
                         not_allowed, sizeof(not_allowed) - 1);
    else if (serve_path_is(h, "/healthz"))
        serve_api_health(sv, req);
    else if (serve_path_is(h, "/api/kpis"))
        serve_api_kpis(sv, req);
    else if (serve_path_is(h, "/api/series"))
        serve_api_series(sv, req);
    else if (serve_path_is(h, "/api/top"))
        serve_api_top(sv, req);
    else if (serve_path_is(h, "/api") ||
             (h->path_len >= 5 && memcmp(h->path, "/api/", 5) == 0))
        serve_answer_error(sv, req, 404,
                           "no such endpoint; see /api/kpis, "
                           "/api/series, /api/top");
    else
        serve_static_file(sv, req);
}

static void serve_done(void *ctx, const struct http_head *h, int status,
                       double secs)
{
    struct serve *sv = ctx;

    (void)h;
    (void)secs;
    if (status >= 500)
        sv->api_5xx++;
    else if (status >= 400)
        sv->api_4xx++;
    else
        sv->api_ok++;
}

static void serve_status(struct serve *sv, const char *what)
{
    uint64_t n = sv->api_ok + sv->api_4xx + sv->api_5xx;
    double q = (double)sv->queries;

    log_info("serve",
             "%s: answers=%llu ok=%llu 4xx=%llu 5xx=%llu "
             "files=%llu queries=%llu reconnects=%llu query_ms_avg=%.1f "
             "query_ms_max=%.0f",
             what, (unsigned long long)n, (unsigned long long)sv->api_ok,
             (unsigned long long)sv->api_4xx, (unsigned long long)sv->api_5xx,
             (unsigned long long)sv->files, (unsigned long long)sv->queries,
             (unsigned long long)sv->reconnects,
             q > 0 ? sv->query_ms_sum / q : 0.0, sv->query_ms_max);
}

/* The server's tick: stop on a signal, status lines. */
static void serve_tick(void *ctx)
{
    struct serve *sv = ctx;
    int64_t now = serve_now_ms();

    if (serve_stop_flag && !sv->stopping) {
        sv->stopping = 1;
        log_info("serve", "stopping");
        http_server_stop(sv->srv);
    }
    if (sv->o->status_s > 0 && now >= sv->next_status) {
        if (sv->next_status)
            serve_status(sv, "status");
        sv->next_status = now + sv->o->status_s * 1000;
    }
}

static int serve_run_server(struct serve *sv)
{
    struct http_server_opts so;
    char err[512], index[4096];

    http_server_opts_default(&so);
    so.listen = sv->o->listen;
    so.lim.body_max = 65536; /* bodies are not read; larger get 413 */
    so.max_conns = (int)sv->o->max_conns;
    so.tick_ms = 200;
    so.handler = serve_handle;
    so.tick = serve_tick;
    so.done = serve_done;
    so.ctx = sv;
    sv->srv = http_server_create(&so, err, sizeof(err));
    if (sv->srv == NULL) {
        log_error("serve", "%s", err);
        return 1;
    }
    snprintf(index, sizeof(index), "%s/index.html", sv->o->web_dir);
    if (access(index, R_OK) != 0)
        log_warn("serve",
                 "no %s: the API answers, the page does not "
                 "(build it with `make web`)",
                 index);
    log_info("serve", "listening on %s (port %d); web %s; mysql %s:%u/%s",
             sv->o->listen, http_server_port(sv->srv), sv->o->web_dir,
             sv->url.host, sv->url.port, sv->url.database);
    if (http_server_run(sv->srv, err, sizeof(err)) != 0) {
        log_error("serve", "%s", err);
        return 1;
    }
    serve_status(sv, "stopped");
    return 0;
}

int role_serve_main(int argc, char **argv)
{
    struct serve_opts o = {0};
    struct serve sv = {0};
    struct config cfg;
    char err[512];
    int rc = 2, lrc;

    lrc = config_load(&cfg, &serve_role, serve_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    if (db_url_parse(cfg.mysql, &sv.url, err, sizeof(err)) != 0) {
        log_error("serve", "--mysql: %s", err);
        goto out;
    }
    sv.cfg = &cfg;
    sv.o = &o;
    sv.caps.max_hours = o.max_range_days * 24;
    sv.caps.max_limit = o.max_limit;
    buf_init(&sv.out, SERVE_OUT_MAX + 1);
    signal(SIGTERM, serve_on_signal);
    signal(SIGINT, serve_on_signal);
    rc = serve_run_server(&sv);
out:
    http_server_destroy(sv.srv);
    serve_db_close(&sv);
    buf_free(&sv.out);
    config_free(&cfg);
    return rc;
}
