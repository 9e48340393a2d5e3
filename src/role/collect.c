/* `adtally collect`: the tracker's HTTP endpoint in front of Kafka. */
#include "role/collect.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "role/role.h"
#include "util/log.h"

volatile sig_atomic_t collect_stop_flag;

static const struct cfg_opt collect_table[] = {
    {"listen", CFG_STR, "127.0.0.1:8090", 0, 0,
     offsetof(struct collect_opts, listen),
     "host:port to serve on ([v6]:port, :port for every address)"},
    {"max-body", CFG_INT, "1048576", 1, 1073741824,
     offsetof(struct collect_opts, max_body),
     "largest request body in bytes (413 above)"},
    {"max-conns", CFG_INT, "1024", 1, 1000000,
     offsetof(struct collect_opts, max_conns),
     "most open client connections (more get 503)"},
    {"cors-origin", CFG_STR, NULL, 0, 0,
     offsetof(struct collect_opts, cors_origin),
     "origins allowed by CORS: * or a comma-separated list; none if unset"},
    {"ack-timeout-ms", CFG_INT, "5000", 100, 600000,
     offsetof(struct collect_opts, ack_timeout_ms),
     "how long a request waits for Kafka before 503 + Retry-After"},
    {"queue-max", CFG_INT, "100000", 1, 10000000,
     offsetof(struct collect_opts, queue_max),
     "most messages queued to Kafka; new requests get 503 above it"},
    {"header-timeout-ms", CFG_INT, "10000", 100, 600000,
     offsetof(struct collect_opts, header_timeout_ms),
     "time for a request's head to arrive (then 408)"},
    {"body-timeout-ms", CFG_INT, "10000", 100, 600000,
     offsetof(struct collect_opts, body_timeout_ms),
     "most silence while a body is read (then 408)"},
    {"idle-timeout-ms", CFG_INT, "60000", 100, 3600000,
     offsetof(struct collect_opts, idle_timeout_ms),
     "how long an idle kept-alive connection stays open"},
    {"status-interval", CFG_INT, "10", 0, 3600,
     offsetof(struct collect_opts, status_s),
     "seconds between status lines (0: none)"},
    CFG_END,
};

static const struct cfg_role collect_role = {
    "collect", "[options]",
    "Serves the website's tracker over HTTP/1.1 and puts each valid event\n"
    "on <topic> (key: the job id, else the uid), each invalid one on\n"
    "<topic>.rejected with the reason.\n"
    "  GET /track?<fields>   one event; 204, or a 1x1 GIF when the path is\n"
    "                        /track.gif, the query has img=1 or Accept\n"
    "                        starts with image/; the User-Agent header\n"
    "                        fills ua when absent; 400 with the reason if\n"
    "                        invalid. HEAD answers alike, records nothing.\n"
    "  POST /events          NDJSON or a JSON array of events; 200 with\n"
    "                        "
    "{\"accepted\",\"rejected\",\"errors\":[{\"index\",\n"
    "                        \"field\",\"reason\"}]} (first 1000 errors).\n"
    "  GET /healthz, GET /metrics (Prometheus text), OPTIONS (CORS).\n"
    "A 2xx means Kafka acknowledged every valid event of the request; when\n"
    "Kafka is down or slow (--ack-timeout-ms) or the queue is full\n"
    "(--queue-max) the answer is 503 with Retry-After. Send create_time so\n"
    "that a retried event counts once. Chunked bodies get 411. The\n"
    "client's address is never read. SIGTERM stops accepting, answers the\n"
    "requests in flight and exits; the status is 1 when any message taken\n"
    "for Kafka was not delivered."};

int64_t collect_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void collect_on_signal(int sig)
{
    (void)sig;
    collect_stop_flag = 1;
}

static void collect_status(struct collect *c, const char *what)
{
    struct http_server_stats st = {0};
    uint64_t rejected = 0;

    if (c->srv)
        http_server_stats(c->srv, &st);
    for (int f = 0; f <= EV_NFIELDS; f++)
        rejected += c->m.rejected[f];
    log_info("collect",
             "%s: requests=%llu accepted=%llu delivered=%llu "
             "rejected=%llu failed=%llu busy=%llu ack_timeouts=%llu "
             "queued=%lld waiting=%d conns=%d slow_clients=%llu",
             what, (unsigned long long)st.requests,
             (unsigned long long)c->m.accepted,
             (unsigned long long)c->m.delivered, (unsigned long long)rejected,
             (unsigned long long)(c->m.event_failures + c->m.reject_failures),
             (unsigned long long)c->m.busy,
             (unsigned long long)c->m.ack_timeouts, (long long)c->outstanding,
             c->nwaiting, st.open, (unsigned long long)st.timeouts);
}

/* The server's tick: Kafka's delivery reports, deadlines, stop, status. */
static void collect_tick(void *ctx)
{
    struct collect *c = ctx;
    int64_t now = collect_now_ms();

    kafka_producer_poll(c->kp, 0);
    collect_expire(c, now);
    if (collect_stop_flag && !c->stopping) {
        c->stopping = 1;
        log_info("collect",
                 "stopping: no new connections; answering %d "
                 "requests waiting for Kafka",
                 c->nwaiting);
        http_server_stop(c->srv);
    }
    if (c->o->status_s > 0 && now >= c->next_status) {
        if (c->next_status)
            collect_status(c, "status");
        c->next_status = now + c->o->status_s * 1000;
    }
}

/* Our producer defaults under the user's kafka.* settings: messages time
 * out with the requests, the local queue holds --queue-max, and nothing
 * lingers. */
static struct kafka_producer *collect_producer(struct collect *c, char *err,
                                               size_t errlen)
{
    const struct config *cfg = c->cfg;
    struct cfg_kv props[3 + 64];
    char timeout[24], qmax[24];
    size_t n = 3;

    snprintf(timeout, sizeof(timeout), "%lld", c->o->ack_timeout_ms);
    snprintf(qmax, sizeof(qmax), "%lld", c->o->queue_max + 1000);
    props[0] = (struct cfg_kv){"message.timeout.ms", timeout};
    props[1] = (struct cfg_kv){"queue.buffering.max.messages", qmax};
    /* Every answer waits for its ack, so lingering only adds latency;
     * requests that arrive while a produce is in flight batch anyway. */
    props[2] = (struct cfg_kv){"linger.ms", "0"};
    for (size_t i = 0; i < cfg->n_kafka_props && n < 67; i++)
        props[n++] = cfg->kafka_props[i];
    return kafka_producer_create(cfg->kafka, props, n, collect_on_delivery, c,
                                 err, errlen);
}

/* Lets the process hold --max-conns sockets when the hard limit allows. */
static void collect_raise_fd_limit(long long want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want)
        return;
    rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)want)
        log_warn("collect",
                 "open-file limit %llu is below --max-conns; "
                 "connections beyond it wait in the backlog",
                 (unsigned long long)rl.rlim_cur);
}

static void collect_server_opts(const struct collect_opts *o, void *ctx,
                                struct http_server_opts *so)
{
    http_server_opts_default(so);
    so->listen = o->listen;
    so->lim.body_max = (size_t)o->max_body;
    so->max_conns = (int)o->max_conns;
    so->header_timeout_ms = (int)o->header_timeout_ms;
    so->body_timeout_ms = (int)o->body_timeout_ms;
    so->idle_timeout_ms = (int)o->idle_timeout_ms;
    /* In-flight requests end within the ack time-out. */
    so->drain_timeout_ms = (int)o->ack_timeout_ms + 5000;
    so->cors_origin = o->cors_origin;
    so->handler = collect_handle;
    so->tick = collect_tick;
    so->done = collect_metrics_done;
    so->ctx = ctx;
}

/* Delivers what is still queued, within a bound. Returns the status. */
static int collect_finish(struct collect *c)
{
    if (kafka_producer_flush(c->kp, (int)c->o->ack_timeout_ms + 1000) != 0 ||
        c->outstanding > 0) {
        log_error("collect", "kafka: %lld messages not delivered at exit",
                  (long long)c->outstanding);
        c->undelivered += (uint64_t)c->outstanding;
    }
    collect_status(c, "stopped");
    if (c->undelivered)
        log_error("collect", "%llu messages were not delivered to Kafka",
                  (unsigned long long)c->undelivered);
    return c->undelivered ? 1 : 0;
}

static int collect_serve(struct collect *c)
{
    struct http_server_opts so;
    char err[512];

    collect_server_opts(c->o, c, &so);
    collect_raise_fd_limit(c->o->max_conns + 64);
    c->kp = collect_producer(c, err, sizeof(err));
    if (c->kp == NULL) {
        log_error("collect", "kafka: %s", err);
        return 1;
    }
    c->srv = http_server_create(&so, err, sizeof(err));
    if (c->srv == NULL) {
        log_error("collect", "%s", err);
        return 1;
    }
    /* Delivery reports wake the loop at once: a beacon's answer waits for
     * Kafka's ack, not for the next tick. */
    kafka_producer_wake_fd(c->kp, http_server_wake_fd(c->srv));
    log_info("collect", "listening on %s (port %d); topic %s, rejects to %s",
             c->o->listen, http_server_port(c->srv), c->cfg->topic,
             c->rejected_topic);
    if (http_server_run(c->srv, err, sizeof(err)) != 0) {
        log_error("collect", "%s", err);
        collect_finish(c);
        return 1;
    }
    return collect_finish(c);
}

int role_collect_main(int argc, char **argv)
{
    struct collect_opts o = {0};
    struct collect c = {0};
    struct config cfg;
    int rc, lrc;

    lrc = config_load(&cfg, &collect_role, collect_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    c.cfg = &cfg;
    c.o = &o;
    config_rejected_topic(&cfg, c.rejected_topic, sizeof(c.rejected_topic));
    event_init(&c.ev);
    buf_init(&c.out, 0);
    signal(SIGTERM, collect_on_signal);
    signal(SIGINT, collect_on_signal);
    rc = collect_serve(&c);
out:
    if (c.kp != NULL)
        kafka_producer_wake_fd(c.kp, -1); /* the fd goes with the server */
    http_server_destroy(c.srv);
    kafka_producer_destroy(c.kp); /* may report on the last batches */
    collect_batches_free(&c);
    event_free(&c.ev);
    buf_free(&c.out);
    config_free(&cfg);
    return rc;
}
