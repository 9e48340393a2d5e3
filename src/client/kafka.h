/* Kafka through librdkafka: an idempotent producer, a consumer whose
 * offsets the caller stores, and topic administration. */
#ifndef ADTALLY_CLIENT_KAFKA_H
#define ADTALLY_CLIENT_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "util/config.h"

/* ---- producer ---- */

/* Called from kafka_producer_poll/flush for each message: err is 0 when
 * Kafka acknowledged it (acks=all), else the librdkafka error code. */
typedef void(kafka_delivery_fn)(void *ctx, void *msg_opaque, int err,
                                const char *errstr);

struct kafka_producer;

/* Creates an idempotent producer (acks=all) for `brokers`, applying the
 * pass-through settings `props` (they win over our defaults). Returns NULL
 * with the reason in err. */
struct kafka_producer *
kafka_producer_create(const char *brokers, const struct cfg_kv *props,
                      size_t nprops, kafka_delivery_fn *on_delivery, void *ctx,
                      char *err, size_t errlen);

/* Queues one message (payload copied). When the local queue is full it
 * polls for deliveries for up to timeout_ms before giving up. Returns 0, or
 * -1 with the reason in err (queue still full, bad topic, fatal error). */
int kafka_producer_send(struct kafka_producer *p, const char *topic,
                        const void *key, size_t klen, const void *val,
                        size_t vlen, void *msg_opaque, int timeout_ms,
                        char *err, size_t errlen);

/* Makes librdkafka write to `fd` whenever a delivery report becomes ready
 * to serve, so an event loop can sleep on fd rather than poll on a timer.
 * fd stays the caller's and must be non-blocking; -1 turns this off,
 * which the caller does before it closes fd. */
void kafka_producer_wake_fd(struct kafka_producer *p, int fd);

/* Serves delivery reports for up to timeout_ms. */
void kafka_producer_poll(struct kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms for every queued message to be delivered or
 * failed. Returns 0 when none is left, -1 on time-out. */
int kafka_producer_flush(struct kafka_producer *p, int timeout_ms);

/* Messages queued and not yet acknowledged. */
int kafka_producer_queue_len(struct kafka_producer *p);

/* Non-zero once the producer hit a fatal error (idempotence broken). */
int kafka_producer_fatal(struct kafka_producer *p, char *err, size_t errlen);

/* Destroys the producer; undelivered messages are failed. NULL-safe. */
void kafka_producer_destroy(struct kafka_producer *p);

/* ---- consumer ---- */

/* Called on a rebalance. On assignment, the callback sets each partition's
 * starting offset in `parts` (RD_KAFKA_OFFSET_STORED to resume from Kafka's
 * committed offset); the consumer then starts there. On revocation it sees
 * the partitions being taken away, before they go. Returns 0, or -1 to
 * refuse the assignment (see kafka_consumer_failed). */
typedef int(kafka_rebalance_fn)(void *ctx, int assigned,
                                rd_kafka_topic_partition_list_t *parts);

struct kafka_consumer;

/* Creates a consumer in `group` with auto-commit off; props pass through.
 * Returns NULL with the reason in err. */
struct kafka_consumer *
kafka_consumer_create(const char *brokers, const char *group,
                      const struct cfg_kv *props, size_t nprops,
                      kafka_rebalance_fn *on_rebalance, void *ctx, char *err,
                      size_t errlen);

/* Subscribes to one topic. Returns 0 or -1 with err. */
int kafka_consumer_subscribe(struct kafka_consumer *c, const char *topic,
                             char *err, size_t errlen);

/* Waits up to timeout_ms for a message. Returns it (destroy it with
 * rd_kafka_message_destroy; check ->err: partition EOF and transient
 * errors come back as messages too), or NULL on time-out. */
rd_kafka_message_t *kafka_consumer_poll(struct kafka_consumer *c,
                                        int timeout_ms);

/* Non-zero once a rebalance callback refused an assignment; the consumer
 * then holds no partitions and the caller should stop. */
int kafka_consumer_failed(const struct kafka_consumer *c);

/* Commits `offsets` (next offsets to read) to Kafka synchronously.
 * Returns 0 or -1 with err. */
int kafka_consumer_commit(struct kafka_consumer *c,
                          const rd_kafka_topic_partition_list_t *offsets,
                          char *err, size_t errlen);

/* The low and high watermarks of a partition, asked of the broker. */
int kafka_consumer_watermarks(struct kafka_consumer *c, const char *topic,
                              int32_t partition, int64_t *lo, int64_t *hi,
                              int timeout_ms, char *err, size_t errlen);

/* The partitions currently assigned (caller destroys the list), or NULL. */
rd_kafka_topic_partition_list_t *
kafka_consumer_assignment(struct kafka_consumer *c);

/* Leaves the group and destroys the consumer. NULL-safe. */
void kafka_consumer_destroy(struct kafka_consumer *c);

/* The underlying handle, for reads the wrapper does not cover. */
rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c);

/* ---- admin ---- */

/* Creates `topic` with `partitions` partitions when it does not exist;
 * an existing topic with fewer partitions is grown. Returns 0 or -1. */
int kafka_topic_ensure(const char *brokers, const struct cfg_kv *props,
                       size_t nprops, const char *topic, int partitions,
                       char *err, size_t errlen);

/* The number of partitions of `topic`, or -1 with err (absent: 0). */
int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                           char *err, size_t errlen);

#endif
