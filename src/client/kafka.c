/* Kafka client: producer, consumer and admin over librdkafka. */
#include "client/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct kafka_producer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *mainq; /* held while a wake fd is set */
    kafka_delivery_fn *on_delivery;
    void *ctx;
};

struct kafka_consumer {
    rd_kafka_t *rk;
    kafka_rebalance_fn *on_rebalance;
    void *ctx;
    int failed; /* the rebalance callback refused an assignment */
};

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
    (void)rk;
    if (level <= 3)
        log_error("kafka", "%s: %s", fac, buf);
    else if (level <= 5)
        log_warn("kafka", "%s: %s", fac, buf);
    else
        log_debug("kafka", "%s: %s", fac, buf);
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque)
{
    (void)rk;
    (void)opaque;
    /* Broker transport errors repeat while a broker is down; librdkafka
     * retries by itself, so they are warnings unless fatal. */
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        log_error("kafka", "fatal: %s", reason);
    else
        log_warn("kafka", "%s: %s", rd_kafka_err2name(err), reason);
}

static int kafka_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
                          char *err, size_t errlen)
{
    char why[256];

    if (rd_kafka_conf_set(conf, k, v, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "kafka setting %s: %s", k, why);
    return -1;
}

/* Our defaults, then the caller's pass-through settings over them. */
static rd_kafka_conf_t *kafka_conf_new(const char *brokers,
                                       const char *const *defaults,
                                       const struct cfg_kv *props,
                                       size_t nprops, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (kafka_conf_set(conf, "bootstrap.servers", brokers, err, errlen))
        goto fail;
    for (size_t i = 0; defaults && defaults[i]; i += 2) {
        if (kafka_conf_set(conf, defaults[i], defaults[i + 1], err, errlen))
            goto fail;
    }
    for (size_t i = 0; i < nprops; i++) {
        if (kafka_conf_set(conf, props[i].key, props[i].val, err, errlen))
            goto fail;
    }
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
    struct kafka_producer *p = opaque;

    (void)rk;
    if (p->on_delivery)
        p->on_delivery(p->ctx, m->_private, m->err,
                       m->err ? rd_kafka_err2str(m->err) : NULL);
}

struct kafka_producer *
kafka_producer_create(const char *brokers, const struct cfg_kv *props,
                      size_t nprops, kafka_delivery_fn *on_delivery, void *ctx,
                      char *err, size_t errlen)
{
    static const char *const defaults[] = {"enable.idempotence",
                                           "true",
                                           "acks",
                                           "all",
                                           "linger.ms",
                                           "5",
                                           "message.timeout.ms",
                                           "30000",
                                           "compression.type",
                                           "lz4",
                                           NULL};
    struct kafka_producer *p = calloc(1, sizeof(*p));
    rd_kafka_conf_t *conf;

    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    conf = kafka_conf_new(brokers, defaults, props, nprops, err, errlen);
    if (conf == NULL) {
        free(p);
        return NULL;
    }
    p->on_delivery = on_delivery;
    p->ctx = ctx;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    /* conf is now owned by p->rk */
    return p;
}

int kafka_producer_send(struct kafka_producer *p, const char *topic,
                        const void *key, size_t klen, const void *val,
                        size_t vlen, void *msg_opaque, int timeout_ms,
                        char *err, size_t errlen)
{
    int waited = 0;

    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY((void *)key, klen),
                              RD_KAFKA_V_VALUE((void *)val, vlen),
                              RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);

        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || waited >= timeout_ms) {
            snprintf(err, errlen, "produce to %s: %s", topic,
                     rd_kafka_err2str(e));
            return -1;
        }
        /* A full queue drains as deliveries are served: poll, bounded. */
        rd_kafka_poll(p->rk, 10);
        waited += 10;
    }
}

void kafka_producer_poll(struct kafka_producer *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
}

int kafka_producer_flush(struct kafka_producer *p, int timeout_ms)
{
    return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0
                                                                           : -1;
}

int kafka_producer_queue_len(struct kafka_producer *p)
{
    return rd_kafka_outq_len(p->rk);
}

int kafka_producer_fatal(struct kafka_producer *p, char *err, size_t errlen)
{
    return rd_kafka_fatal_error(p->rk, err, errlen) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

void kafka_producer_wake_fd(struct kafka_producer *p, int fd)
{
    if (p->mainq == NULL)
        p->mainq = rd_kafka_queue_get_main(p->rk);
    rd_kafka_queue_io_event_enable(p->mainq, fd, "1", 1);
}

void kafka_producer_destroy(struct kafka_producer *p)
{
    if (p == NULL)
        return;
    if (p->mainq != NULL) {
        rd_kafka_queue_io_event_enable(p->mainq, -1, NULL, 0);
        rd_kafka_queue_destroy(p->mainq);
    }
    rd_kafka_destroy(p->rk);
    free(p);
}

static void kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                               rd_kafka_topic_partition_list_t *parts,
                               void *opaque)
{
    struct kafka_consumer *c = opaque;
    int assigned = e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;

    log_info("kafka", "rebalance: %s %d partition(s)",
             assigned ? "assigned" : "revoked", parts->cnt);
    if (c->on_rebalance && c->on_rebalance(c->ctx, assigned, parts) != 0) {
        c->failed = 1;
        rd_kafka_assign(rk, NULL);
        return;
    }
    rd_kafka_assign(rk, assigned ? parts : NULL);
}

struct kafka_consumer *
kafka_consumer_create(const char *brokers, const char *group,
                      const struct cfg_kv *props, size_t nprops,
                      kafka_rebalance_fn *on_rebalance, void *ctx, char *err,
                      size_t errlen)
{
    static const char *const defaults[] = {"enable.auto.commit",
                                           "false",
                                           "enable.auto.offset.store",
                                           "false",
                                           "auto.offset.reset",
                                           "earliest",
                                           "enable.partition.eof",
                                           "true",
                                           "session.timeout.ms",
                                           "10000",
                                           "partition.assignment.strategy",
                                           "range",
                                           NULL};
    struct kafka_consumer *c = calloc(1, sizeof(*c));
    rd_kafka_conf_t *conf;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    conf = kafka_conf_new(brokers, defaults, props, nprops, err, errlen);
    if (conf == NULL ||
        kafka_conf_set(conf, "group.id", group, err, errlen) != 0)
        goto fail;
    c->on_rebalance = on_rebalance;
    c->ctx = ctx;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance_cb);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (c->rk == NULL)
        goto fail;
    conf = NULL; /* now owned by c->rk */
    rd_kafka_poll_set_consumer(c->rk);
    return c;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(c);
    return NULL;
}

int kafka_consumer_subscribe(struct kafka_consumer *c, const char *topic,
                             char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t e;

    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    snprintf(err, errlen, "subscribe %s: %s", topic, rd_kafka_err2str(e));
    return -1;
}

rd_kafka_message_t *kafka_consumer_poll(struct kafka_consumer *c,
                                        int timeout_ms)
{
    return rd_kafka_consumer_poll(c->rk, timeout_ms);
}

int kafka_consumer_failed(const struct kafka_consumer *c)
{
    return c->failed;
}

int kafka_consumer_commit(struct kafka_consumer *c,
                          const rd_kafka_topic_partition_list_t *offsets,
                          char *err, size_t errlen)
{
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, offsets, 0);

    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    snprintf(err, errlen, "commit offsets: %s", rd_kafka_err2str(e));
    return -1;
}

int kafka_consumer_watermarks(struct kafka_consumer *c, const char *topic,
                              int32_t partition, int64_t *lo, int64_t *hi,
                              int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        c->rk, topic, partition, lo, hi, timeout_ms);

    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    snprintf(err, errlen, "watermarks of %s[%d]: %s", topic, partition,
             rd_kafka_err2str(e));
    return -1;
}

rd_kafka_topic_partition_list_t *
kafka_consumer_assignment(struct kafka_consumer *c)
{
    rd_kafka_topic_partition_list_t *l = NULL;

    if (rd_kafka_assignment(c->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    return l;
}

void kafka_consumer_destroy(struct kafka_consumer *c)
{
    if (c == NULL)
        return;
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    free(c);
}

rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c)
{
    return c->rk;
}

int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                           char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e;
    int n = -1;

    if (t == NULL) {
        snprintf(err, errlen, "topic %s: bad name", topic);
        return -1;
    }
    e = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "metadata of %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    if (md->topic_cnt == 1) {
        e = md->topics[0].err;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            n = 0;
        else if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            n = md->topics[0].partition_cnt;
        else
            snprintf(err, errlen, "metadata of %s: %s", topic,
                     rd_kafka_err2str(e));
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Runs one admin request and checks its per-topic result. */
static int kafka_admin_wait(rd_kafka_t *rk, rd_kafka_queue_t *q,
                            const char *what, char *err, size_t errlen)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const rd_kafka_topic_result_t **res = NULL;
    size_t nres = 0;
    int rc = -1;

    (void)rk;
    if (ev == NULL) {
        snprintf(err, errlen, "%s: no answer within 30 s", what);
        return -1;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "%s: %s", what, rd_kafka_event_error_string(ev));
        goto out;
    }
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_CREATETOPICS_RESULT)
        res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &nres);
    else
        res = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &nres);
    rc = 0;
    for (size_t i = 0; i < nres; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);

        if (e != RD_KAFKA_RESP_ERR_NO_ERROR &&
            e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            snprintf(err, errlen, "%s: %s", what,
                     rd_kafka_topic_result_error_string(res[i]));
            rc = -1;
        }
    }
out:
    rd_kafka_event_destroy(ev);
    return rc;
}

static int kafka_topic_create(rd_kafka_t *rk, const char *topic, int partitions,
                              int have, char *err, size_t errlen)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char why[256];
    int rc;

    if (have == 0) {
        rd_kafka_NewTopic_t *nt =
            rd_kafka_NewTopic_new(topic, partitions, -1, why, sizeof(why));
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        rc = kafka_admin_wait(rk, q, "create topic", err, errlen);
        rd_kafka_NewTopic_destroy(nt);
    } else {
        rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(
            topic, (size_t)partitions, why, sizeof(why));
        rd_kafka_CreatePartitions(rk, &np, 1, NULL, q);
        rc = kafka_admin_wait(rk, q, "add partitions", err, errlen);
        rd_kafka_NewPartitions_destroy(np);
    }
    rd_kafka_queue_destroy(q);
    return rc;
}

int kafka_topic_ensure(const char *brokers, const struct cfg_kv *props,
                       size_t nprops, const char *topic, int partitions,
                       char *err, size_t errlen)
{
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    int have, rc = -1;

    conf = kafka_conf_new(brokers, NULL, props, nprops, err, errlen);
    if (conf == NULL)
        return -1;
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    have = kafka_topic_partitions(rk, topic, 10000, err, errlen);
    if (have < 0)
        goto out;
    if (have >= partitions) {
        rc = 0;
        goto out;
    }
    rc = kafka_topic_create(rk, topic, partitions, have, err, errlen);
    if (rc == 0)
        log_info("kafka", "topic %s: %s, %d partitions", topic,
                 have ? "grown" : "created", partitions);
out:
    rd_kafka_destroy(rk);
    return rc;
}
