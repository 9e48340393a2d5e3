/* `adtally process`: partitions coming and going, and the replay that
 * rebuilds a partition's dedup window from Kafka. */
#include <stdio.h>
#include <string.h>

#include "role/process.h"
#include "util/log.h"

/* The first offset at or after `ts_ms` in the partition; -1 when none. */
static int64_t proc_offset_at(struct proc *pr, int32_t p, int64_t ts_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t e;
    int64_t off = -1;

    rd_kafka_topic_partition_list_add(l, pr->cfg->topic, p)->offset = ts_ms;
    e = rd_kafka_offsets_for_times(kafka_consumer_handle(pr->kc), l, 10000);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].err == 0)
        off = l->elems[0].offset;
    else
        log_warn("process", "kafka: offset for time in partition %d: %s", p,
                 rd_kafka_err2str(e ? e : l->elems[0].err));
    rd_kafka_topic_partition_list_destroy(l);
    return off;
}

/* Sets up partition p from its stored offset: where to start reading, and
 * the replay span that refills its dedup window. Returns the start offset,
 * or -1 when MySQL or Kafka could not say. */
static int64_t proc_part_start(struct proc *pr, int32_t p)
{
    struct proc_part *pp = &pr->parts[p];
    int64_t stored, lo, hi, at, start;
    char err[512];

    if (proc_offset_stored(pr, p, &stored) != 0)
        return -1;
    if (kafka_consumer_watermarks(pr->kc, pr->cfg->topic, p, &lo, &hi, 10000,
                                  err, sizeof(err)) != 0) {
        log_error("process", "kafka: %s", err);
        return -1;
    }
    dedup_free(&pp->dd);
    if (dedup_init(&pp->dd, pr->o->dedup_window_s * 1000,
                   (size_t)pr->o->dedup_max) != 0) {
        log_error("process", "out of memory for the dedup window");
        return -1;
    }
    start = stored >= 0 ? stored : lo;
    if (stored > lo) {
        /* Replay what arrived within the window before the stored offset:
         * those events fill the window again but are not tallied. */
        at =
            proc_offset_at(pr, p, proc_now_ms() - pr->o->dedup_window_s * 1000);
        if (at >= 0 && at < start)
            start = at > lo ? at : lo;
    }
    pp->owned = 1;
    pp->committed = stored;
    pp->replay_to = stored >= 0 ? stored : lo;
    pp->next = start;
    pp->dirty = 0;
    if (p >= pr->nparts)
        pr->nparts = p + 1;
    log_info("process",
             "partition %d: resuming at offset %lld (replaying "
             "%lld for the dedup window, high watermark %lld)",
             p, (long long)pp->replay_to, (long long)(pp->replay_to - start),
             (long long)hi);
    return start;
}

void proc_drop_part(struct proc *pr, int32_t p)
{
    struct proc_part *pp = &pr->parts[p];

    pp->owned = 0;
    pp->dirty = 0;
    dedup_free(&pp->dd);
    memset(&pp->dd, 0, sizeof(pp->dd));
}

int proc_on_rebalance(void *ctx, int assigned,
                      rd_kafka_topic_partition_list_t *parts)
{
    struct proc *pr = ctx;

    if (!assigned) {
        /* Still ours until we return: commit what was read. */
        if (proc_commit(pr) < 0)
            log_warn("process", "revoked with an uncommitted batch; the "
                                "next owner reads it again");
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].partition < PROC_MAX_PARTS)
                proc_drop_part(pr, parts->elems[i].partition);
        return 0;
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        int64_t start;

        if (p >= PROC_MAX_PARTS) {
            log_error("process", "partition %d is beyond the %d supported", p,
                      PROC_MAX_PARTS);
            return -1;
        }
        start = proc_part_start(pr, p);
        if (start < 0)
            return -1;
        parts->elems[i].offset = start;
    }
    return 0;
}

int proc_reset_owned(struct proc *pr)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    rd_kafka_error_t *e;
    int rc = 0;

    for (int p = 0; p < pr->nparts && rc == 0; p++) {
        int64_t start;

        if (!pr->parts[p].owned)
            continue;
        start = proc_part_start(pr, p);
        if (start < 0)
            rc = -1;
        else
            rd_kafka_topic_partition_list_add(l, pr->cfg->topic, p)->offset =
                start;
    }
    if (rc == 0 && l->cnt > 0) {
        e = rd_kafka_seek_partitions(kafka_consumer_handle(pr->kc), l, 10000);
        if (e != NULL) {
            log_error("process", "kafka: seek: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rc = -1;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}
