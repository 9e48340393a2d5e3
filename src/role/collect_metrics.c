/* The collector's counters and their Prometheus text exposition. */
#include <stdio.h>
#include <string.h>

#include "role/collect.h"

static const int collect_statuses[COLLECT_NSTATUS - 1] = {
    200, 204, 400, 404, 405, 408, 411, 413, 414, 417, 431, 500, 501, 503, 505,
};

static const char *const collect_paths[CP_NPATHS] = {
    "/track", "/events", "/healthz", "/metrics", "other",
};

static const double collect_bounds[COLLECT_NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

enum collect_path collect_path_of(const struct http_head *h)
{
    static const struct {
        const char *path;
        enum collect_path p;
    } t[] = {
        {"/track", CP_TRACK},     {"/track.gif", CP_TRACK},
        {"/events", CP_EVENTS},   {"/healthz", CP_HEALTHZ},
        {"/metrics", CP_METRICS},
    };

    for (size_t i = 0; h && i < sizeof(t) / sizeof(t[0]); i++) {
        if (strlen(t[i].path) == h->path_len &&
            memcmp(t[i].path, h->path, h->path_len) == 0)
            return t[i].p;
    }
    return CP_OTHER;
}

static int collect_status_index(int status)
{
    for (int i = 0; i < COLLECT_NSTATUS - 1; i++) {
        if (collect_statuses[i] == status)
            return i;
    }
    return COLLECT_NSTATUS - 1;
}

/* The server's done hook: one answer, its status and latency. */
void collect_metrics_done(void *ctx, const struct http_head *h, int status,
                          double secs)
{
    struct collect_metrics *m = &((struct collect *)ctx)->m;
    int b = 0;

    m->requests[collect_path_of(h)][collect_status_index(status)]++;
    while (b < COLLECT_NBUCKETS && secs > collect_bounds[b])
        b++;
    if (b < COLLECT_NBUCKETS)
        m->lat_buckets[b]++;
    m->lat_count++;
    m->lat_sum += secs;
}

void collect_metrics_reject(struct collect *c, const struct ev_error *e)
{
    int f = e->field[0] ? event_field_lookup(e->field, strlen(e->field)) : -1;

    c->m.rejected[f >= 0 ? f : EV_NFIELDS]++;
}

static int collect_render_requests(const struct collect_metrics *m,
                                   struct buf *out)
{
    int rc = buf_puts(out, "# HELP adtally_collect_requests_total HTTP "
                           "requests answered, by path and status.\n"
                           "# TYPE adtally_collect_requests_total counter\n");

    for (int p = 0; p < CP_NPATHS && rc == 0; p++) {
        for (int s = 0; s < COLLECT_NSTATUS && rc == 0; s++) {
            char status[8] = "other";
            if (m->requests[p][s] == 0)
                continue;
            if (s < COLLECT_NSTATUS - 1)
                snprintf(status, sizeof(status), "%d", collect_statuses[s]);
            rc = buf_printf(out,
                            "adtally_collect_requests_total{path=\"%s\","
                            "status=\"%s\"} %llu\n",
                            collect_paths[p], status,
                            (unsigned long long)m->requests[p][s]);
        }
    }
    return rc;
}

static int collect_render_latency(const struct collect_metrics *m,
                                  struct buf *out)
{
    uint64_t cum = 0;
    int rc = buf_puts(out, "# HELP adtally_collect_request_duration_seconds "
                           "Time from a request's first byte to its answer."
                           "\n# TYPE adtally_collect_request_duration_seconds"
                           " histogram\n");

    for (int b = 0; b < COLLECT_NBUCKETS && rc == 0; b++) {
        cum += m->lat_buckets[b];
        rc = buf_printf(out,
                        "adtally_collect_request_duration_seconds_bucket"
                        "{le=\"%g\"} %llu\n",
                        collect_bounds[b], (unsigned long long)cum);
    }
    if (rc == 0)
        rc = buf_printf(out,
                        "adtally_collect_request_duration_seconds_bucket"
                        "{le=\"+Inf\"} %llu\n"
                        "adtally_collect_request_duration_seconds_sum %.6f\n"
                        "adtally_collect_request_duration_seconds_count "
                        "%llu\n",
                        (unsigned long long)m->lat_count, m->lat_sum,
                        (unsigned long long)m->lat_count);
    return rc;
}

static int collect_render_rejects(const struct collect_metrics *m,
                                  struct buf *out)
{
    int rc = buf_puts(out, "# HELP adtally_collect_events_rejected_total "
                           "Events refused by validation, by the field at "
                           "fault (line: the whole input).\n"
                           "# TYPE adtally_collect_events_rejected_total "
                           "counter\n");

    for (int f = 0; f <= EV_NFIELDS && rc == 0; f++) {
        if (m->rejected[f] == 0)
            continue;
        rc = buf_printf(out,
                        "adtally_collect_events_rejected_total{field="
                        "\"%s\"} %llu\n",
                        f < EV_NFIELDS ? ev_field_names[f] : "line",
                        (unsigned long long)m->rejected[f]);
    }
    return rc;
}

/* One metric without labels: HELP, TYPE and its value. */
static int collect_render_one(struct buf *out, const char *name,
                              const char *type, const char *help,
                              unsigned long long v)
{
    return buf_printf(out,
                      "# HELP adtally_collect_%s %s\n# TYPE "
                      "adtally_collect_%s %s\nadtally_collect_%s %llu\n",
                      name, help, name, type, name, v);
}

static int collect_render_kafka(struct collect *c, struct buf *out)
{
    const struct collect_metrics *m = &c->m;
    int rc = 0;

    rc |= collect_render_one(out, "events_accepted_total", "counter",
                             "Valid events queued for Kafka.", m->accepted);
    rc |= collect_render_one(out, "events_delivered_total", "counter",
                             "Events Kafka acknowledged.", m->delivered);
    rc |= buf_printf(out,
                     "# HELP adtally_collect_delivery_failures_total "
                     "Messages Kafka did not take, by topic.\n# TYPE "
                     "adtally_collect_delivery_failures_total counter\n"
                     "adtally_collect_delivery_failures_total{topic="
                     "\"events\"} %llu\nadtally_collect_delivery_failures_"
                     "total{topic=\"rejected\"} %llu\n",
                     (unsigned long long)m->event_failures,
                     (unsigned long long)m->reject_failures);
    rc |= collect_render_one(
        out, "kafka_queue_depth", "gauge", "Messages in the producer's queue.",
        (unsigned long long)kafka_producer_queue_len(c->kp));
    rc |= collect_render_one(out, "kafka_up", "gauge",
                             "0 while deliveries fail, else 1.",
                             !c->kafka_failing);
    rc |= collect_render_one(out, "queue_full_total", "counter",
                             "Requests answered 503: queue at --queue-max.",
                             m->busy);
    rc |= collect_render_one(out, "ack_timeouts_total", "counter",
                             "Requests answered 503: no acknowledgement "
                             "within --ack-timeout-ms.",
                             m->ack_timeouts);
    rc |= collect_render_one(out, "waiting_requests", "gauge",
                             "Requests waiting for Kafka.",
                             (unsigned long long)c->nwaiting);
    return rc;
}

static int collect_render_http(struct collect *c, struct buf *out)
{
    struct http_server_stats st;
    int rc = 0;

    http_server_stats(c->srv, &st);
    rc |= collect_render_one(out, "connections", "gauge",
                             "Open client connections.",
                             (unsigned long long)st.open);
    rc |= collect_render_one(out, "connections_refused_total", "counter",
                             "Connections over --max-conns.", st.refused);
    rc |= collect_render_one(out, "slow_clients_total", "counter",
                             "Connections cut off by a time-out.", st.timeouts);
    return rc;
}

int collect_metrics_render(struct collect *c, struct buf *out)
{
    if (collect_render_requests(&c->m, out) != 0 ||
        collect_render_latency(&c->m, out) != 0 ||
        collect_render_rejects(&c->m, out) != 0 ||
        collect_render_kafka(c, out) != 0 || collect_render_http(c, out) != 0)
        return -1;
    return 0;
}
