/* `adtally archive`: partitions coming and going, offsets committed to
 * Kafka, and moving back to them when written rows had to be given up. */
#include <stdio.h>
#include <string.h>

#include "role/archive.h"
#include "util/log.h"

/* The offset to start partition p at when the group has none: its low
 * watermark (the earliest kept). -1 when Kafka could not say. */
static int64_t arch_earliest(struct arch *ar, int32_t p)
{
    int64_t lo, hi;
    char err[512];

    if (kafka_consumer_watermarks(ar->kc, ar->cfg->topic, p, &lo, &hi, 10000,
                                  err, sizeof(err)) != 0) {
        log_error("archive", "kafka: %s", err);
        return -1;
    }
    return lo;
}

/* Takes the assigned partitions from the group's committed offsets. */
static int arch_assign(struct arch *ar, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_resp_err_t e;

    e = rd_kafka_committed(kafka_consumer_handle(ar->kc), parts, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("archive", "kafka: committed offsets: %s",
                  rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        struct arch_part *pp;
        int64_t start = tp->offset;

        if (tp->partition < 0 || tp->partition >= ARCH_MAX_PARTS) {
            log_error("archive", "partition %d is beyond the %d supported",
                      tp->partition, ARCH_MAX_PARTS);
            return -1;
        }
        if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_error("archive", "kafka: committed offset of partition %d: %s",
                      tp->partition, rd_kafka_err2str(tp->err));
            return -1;
        }
        if (start < 0 && (start = arch_earliest(ar, tp->partition)) < 0)
            return -1;
        tp->offset = start;
        pp = &ar->parts[tp->partition];
        *pp = (struct arch_part){1, start, start, pp->target};
        if (tp->partition >= ar->nparts)
            ar->nparts = tp->partition + 1;
        log_info("archive", "partition %d: resuming at offset %lld",
                 tp->partition, (long long)start);
    }
    ar->assigns++;
    return 0;
}

/* Before partitions go: what was read is written and committed if
 * Cassandra allows, else every pending row is dropped and the partitions
 * kept move back to their commits. */
static void arch_revoke_rows(struct arch *ar,
                             const rd_kafka_topic_partition_list_t *parts)
{
    if (ar->nrows == 0) {
        arch_commit(ar);
        return;
    }
    if (!ar->in_flush && arch_flush(ar, 1) == 0)
        return;
    log_warn("archive",
             "partitions revoked with %zu events unwritten; they will be "
             "read again from the committed offsets",
             ar->nrows);
    if (arch_rewind(ar, parts) != 0)
        ar->failed = 1;
}

static void arch_revoke(struct arch *ar,
                        const rd_kafka_topic_partition_list_t *parts)
{
    /* After a failure nothing more is committed: the rows stay unread. */
    if (!ar->failed)
        arch_revoke_rows(ar, parts);
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;

        if (p >= 0 && p < ARCH_MAX_PARTS)
            ar->parts[p].owned = 0;
    }
}

int arch_on_rebalance(void *ctx, int assigned,
                      rd_kafka_topic_partition_list_t *parts)
{
    struct arch *ar = ctx;

    if (assigned)
        return arch_assign(ar, parts);
    arch_revoke(ar, parts);
    return 0;
}

int arch_commit(struct arch *ar)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    char err[512];
    int rc = 0;

    if (ar->failed) { /* what was read may not all be written */
        rd_kafka_topic_partition_list_destroy(l);
        return -1;
    }
    for (int p = 0; p < ar->nparts; p++) {
        const struct arch_part *pp = &ar->parts[p];

        if (pp->owned && pp->next > pp->committed)
            rd_kafka_topic_partition_list_add(l, ar->cfg->topic, p)->offset =
                pp->next;
    }
    if (l->cnt > 0 && kafka_consumer_commit(ar->kc, l, err, sizeof(err))) {
        ar->commit_failures++;
        log_warn("archive",
                 "kafka: %s; the rows are written, the next "
                 "commit carries these offsets",
                 err);
        rc = -1;
    } else if (l->cnt > 0) {
        for (int i = 0; i < l->cnt; i++)
            ar->parts[l->elems[i].partition].committed = l->elems[i].offset;
        ar->commits++;
    }
    ar->last_commit_ms = arch_now_ms();
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int arch_rewind(struct arch *ar,
                const rd_kafka_topic_partition_list_t *keep_out)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    rd_kafka_error_t *e = NULL;
    int rc = 0;

    ar->nrows = 0;
    for (int p = 0; p < ar->nparts; p++) {
        struct arch_part *pp = &ar->parts[p];

        if (!pp->owned || pp->next == pp->committed ||
            (keep_out && rd_kafka_topic_partition_list_find(
                             keep_out, ar->cfg->topic, p) != NULL))
            continue;
        rd_kafka_topic_partition_list_add(l, ar->cfg->topic, p)->offset =
            pp->committed;
        pp->next = pp->committed;
    }
    if (l->cnt > 0)
        e = rd_kafka_seek_partitions(kafka_consumer_handle(ar->kc), l, 10000);
    if (e != NULL) {
        log_error("archive", "kafka: seek back to the committed offsets: %s",
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

void arch_pause(struct arch *ar, int pause)
{
    rd_kafka_topic_partition_list_t *l = kafka_consumer_assignment(ar->kc);

    if (l == NULL)
        return;
    if (l->cnt > 0) {
        if (pause)
            rd_kafka_pause_partitions(kafka_consumer_handle(ar->kc), l);
        else
            rd_kafka_resume_partitions(kafka_consumer_handle(ar->kc), l);
    }
    rd_kafka_topic_partition_list_destroy(l);
}
