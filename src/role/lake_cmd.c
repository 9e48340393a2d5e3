/* `adtally lake`: reading the raw lake back, an hour's partitions at a
 * time: `count` events per hour and custom_track, `dump` an hour as NDJSON
 * (which `adtally import -` takes again), `purge` old hours. */
#include "role/lake_cmd.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/lake_time.h"
#include "role/lake_table.h"
#include "role/role.h"
#include "util/log.h"

#define TRACKS_MAX 256 /* distinct custom_track values kept per hour */

static const struct cfg_opt lake_table_opts[] = {
    {"from", CFG_STR, NULL, 0, 0, offsetof(struct lake_opts, from),
     "count: the first hour, like 2022-07-18T07 (UTC)"},
    {"to", CFG_STR, NULL, 0, 0, offsetof(struct lake_opts, to),
     "count: the last hour, included (at most 744 hours after --from)"},
    {"before", CFG_STR, NULL, 0, 0, offsetof(struct lake_opts, before),
     "purge: the day, like 2022-08-01 (UTC), before which hours go"},
    {"days", CFG_INT, "31", 1, 366, offsetof(struct lake_opts, days),
     "purge: how many days before --before to look at"},
    {"dry-run", CFG_BOOL, "false", 0, 0, offsetof(struct lake_opts, dry_run),
     "purge: say what would go, delete nothing"},
    {"page-size", CFG_INT, "1000", 10, 100000,
     offsetof(struct lake_opts, page_size), "rows per page of a read"},
    CFG_END,
};

static const struct cfg_role lake_role = {
    "lake", "count --from HOUR --to HOUR | dump HOUR | purge --before DAY",
    "Reads the raw lake (Cassandra table `tracking`) by whole partitions,\n"
    "the 8 buckets of each hour; never a scan of the table.\n"
    "  count   events per hour and custom_track, tab-separated (an empty\n"
    "          custom_track is a page view), for at most 744 hours\n"
    "  dump    the events of one hour as NDJSON on stdout, the form\n"
    "          `adtally import -` takes again\n"
    "  purge   deletes the hours in the --days before --before (UTC)\n"
    "          whole, partition by partition; --dry-run only says"};

/* Events of one custom_track value ("" for none) in an hour. */
struct lake_track {
    char *track;
    long long n;
};

/* The counts of the hour being read, and of all hours so far. */
struct lake_count {
    int64_t hour; /* -1: none yet */
    struct lake_track t[TRACKS_MAX];
    int nt;
    long long other, total;
    long long all_events, all_hours;
};

static int track_cmp(const void *a, const void *b)
{
    const struct lake_track *x = a, *y = b;

    return strcmp(x->track, y->track);
}

/* Writes a custom_track value with tabs, line ends and backslashes
 * escaped, so that each count stays one line of three fields. */
static void track_print(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '\t' || *s == '\n' || *s == '\r')
            printf("\\%c", *s == '\t'   ? 't'
                           : *s == '\n' ? 'n'
                           : *s == '\r' ? 'r'
                                        : '\\');
        else
            putchar(*s);
    }
}

/* Prints the hour being counted, if any, and starts on `next`. */
static void lake_count_flush(struct lake_count *lc, int64_t next)
{
    char hour[LAKE_HOUR_TEXT];

    if (lc->hour >= 0 && lc->total > 0) {
        lake_hour_format(lc->hour, hour);
        qsort(lc->t, (size_t)lc->nt, sizeof(lc->t[0]), track_cmp);
        for (int i = 0; i < lc->nt; i++) {
            printf("%s\t", hour);
            track_print(lc->t[i].track);
            printf("\t%lld\n", lc->t[i].n);
        }
        if (lc->other)
            printf("%s\t(beyond %d values)\t%lld\n", hour, TRACKS_MAX,
                   lc->other);
        lc->all_events += lc->total;
        lc->all_hours++;
    }
    for (int i = 0; i < lc->nt; i++)
        free(lc->t[i].track);
    lc->nt = 0;
    lc->other = lc->total = 0;
    lc->hour = next;
}

static int lake_count_row(void *ctx, int64_t hour_ms, int bucket,
                          const struct cql_result *res, size_t row)
{
    struct lake_count *lc = ctx;
    struct cql_str s;
    int i;

    (void)bucket;
    if (hour_ms != lc->hour)
        lake_count_flush(lc, hour_ms);
    if (cql_result_text(res, row, 0, &s) != CQL_OK) /* null: a page view */
        s = (struct cql_str){"", 0};
    lc->total++;
    for (i = 0; i < lc->nt; i++) {
        if (strlen(lc->t[i].track) == s.n && !memcmp(lc->t[i].track, s.p, s.n))
            break;
    }
    if (i == lc->nt) {
        if (lc->nt == TRACKS_MAX || !(lc->t[i].track = strndup(s.p, s.n))) {
            lc->other++;
            return 0;
        }
        lc->t[lc->nt++].n = 0;
    }
    lc->t[i].n++;
    return 0;
}

/* Reads --from and --to. Returns 0, or -1 after saying what is wrong. */
static int lake_range(const struct lake_opts *o, int64_t *from, int64_t *to)
{
    const char *why;

    if (o->from == NULL || o->to == NULL) {
        log_error("lake", "count needs --from HOUR and --to HOUR");
        return -1;
    }
    if (lake_hour_parse(o->from, from, &why) != 0) {
        log_error("lake", "--from '%s': %s", o->from, why);
        return -1;
    }
    if (lake_hour_parse(o->to, to, &why) != 0) {
        log_error("lake", "--to '%s': %s", o->to, why);
        return -1;
    }
    if (*to < *from) {
        log_error("lake", "--to %s is before --from %s", o->to, o->from);
        return -1;
    }
    if ((*to - *from) / LAKE_HOUR_MS + 1 > LAKE_RANGE_HOURS) {
        log_error("lake",
                  "%lld hours from %s to %s: at most %d (31 days) at once",
                  (long long)((*to - *from) / LAKE_HOUR_MS + 1), o->from, o->to,
                  LAKE_RANGE_HOURS);
        return -1;
    }
    return 0;
}

static int lake_count(struct lake_cmd *lk)
{
    struct cql_prepared *ps = NULL;
    struct lake_count lc = {.hour = -1};
    int64_t from, to;
    struct buf q;
    int rc = 1;

    buf_init(&q, 4096);
    if (lake_range(lk->o, &from, &to) != 0) {
        rc = 2;
        goto out;
    }
    if (lake_table_select_cql(&q, lk->cfg->keyspace, "custom_track") != 0 ||
        (ps = lake_prepare(lk, q.data, "count")) == NULL)
        goto out;
    printf("# hour\tcustom_track\tevents\n");
    for (int64_t h = from; h <= to; h += LAKE_READ_HOURS * LAKE_HOUR_MS) {
        int64_t left = (to - h) / LAKE_HOUR_MS + 1;
        int n = left < LAKE_READ_HOURS ? (int)left : LAKE_READ_HOURS;

        if (lake_read_hours(lk, ps, h, n, lake_count_row, &lc) != 0)
            goto out;
    }
    lake_count_flush(&lc, -1);
    printf("# total %lld events in %lld hours with events, %s to %s\n",
           lc.all_events, lc.all_hours, lk->o->from, lk->o->to);
    rc = 0;
out:
    lake_count_flush(&lc, -1);
    cql_prepared_free(ps);
    buf_free(&q);
    return fflush(stdout) == 0 ? rc : 1;
}

/* One hour's dump: the line being written and what went wrong. */
struct lake_dump {
    struct event ev;
    struct buf line;
    long long events, bad;
};

static int lake_dump_row(void *ctx, int64_t hour_ms, int bucket,
                         const struct cql_result *res, size_t row)
{
    struct lake_dump *d = ctx;
    struct ev_error e;

    (void)hour_ms;
    if (lake_table_row_event(res, row, &d->ev, &e) != 0) {
        if (d->bad++ == 0)
            log_error("lake", "bucket %d: a row is not a valid event: %s: %s",
                      bucket, e.field, e.reason);
        return 0;
    }
    buf_reset(&d->line);
    if (event_to_json(&d->ev, &d->line) != 0 || buf_putc(&d->line, '\n') ||
        fwrite(d->line.data, 1, d->line.len, stdout) != d->line.len)
        return -1;
    d->events++;
    return 0;
}

static int lake_dump(struct lake_cmd *lk)
{
    struct cql_prepared *ps = NULL;
    struct lake_dump d = {0};
    const char *why;
    int64_t hour;
    struct buf q;
    int rc = 1;

    event_init(&d.ev);
    buf_init(&d.line, 0);
    buf_init(&q, 4096);
    if (lk->cfg->nargs != 2 || lake_hour_parse(lk->cfg->args[1], &hour, &why)) {
        log_error("lake", "dump needs one HOUR like 2022-07-18T07%s%s",
                  lk->cfg->nargs == 2 ? ": " : "",
                  lk->cfg->nargs == 2 ? why : "");
        rc = 2;
        goto out;
    }
    if (lake_table_select_cql(&q, lk->cfg->keyspace, NULL) != 0 ||
        (ps = lake_prepare(lk, q.data, "dump")) == NULL ||
        lake_read_hours(lk, ps, hour, 1, lake_dump_row, &d) != 0)
        goto out;
    log_info("lake", "dump %s: %lld events, %lld unreadable", lk->cfg->args[1],
             d.events, d.bad);
    rc = d.bad ? 1 : 0;
out:
    event_free(&d.ev);
    buf_free(&d.line);
    buf_free(&q);
    cql_prepared_free(ps);
    return fflush(stdout) == 0 ? rc : 1;
}

static int lake_connect(struct lake_cmd *lk)
{
    struct cql_settings st = {.contact_points = lk->cfg->cassandra,
                              .user = lk->cfg->cassandra_user,
                              .password = lk->cfg->cassandra_password};
    char err[1024];

    if (!cql_name_valid(lk->cfg->keyspace)) {
        log_error("lake",
                  "--keyspace '%s': use 1 to 48 letters, digits or "
                  "underscores",
                  lk->cfg->keyspace);
        return 2;
    }
    lk->cl = cql_client_create(&st, err, sizeof(err));
    if (lk->cl == NULL) {
        log_error("lake", "--cassandra: %s", err);
        return 2;
    }
    return 0;
}

int role_lake_main(int argc, char **argv)
{
    struct lake_opts o = {0};
    struct lake_cmd lk = {0};
    struct config cfg;
    const char *action;
    int rc, lrc;

    lrc = config_load(&cfg, &lake_role, lake_table_opts, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    lk.cfg = &cfg;
    lk.o = &o;
    action = cfg.nargs > 0 ? cfg.args[0] : "";
    rc = lake_connect(&lk);
    if (rc != 0)
        goto out;
    if (strcmp(action, "count") == 0)
        rc = lake_count(&lk);
    else if (strcmp(action, "dump") == 0)
        rc = lake_dump(&lk);
    else if (strcmp(action, "purge") == 0)
        rc = lake_purge(&lk);
    else {
        log_error("lake", "say count, dump or purge (see adtally lake --help)");
        rc = 2;
    }
out:
    cql_client_destroy(lk.cl);
    config_free(&cfg);
    return rc;
}
