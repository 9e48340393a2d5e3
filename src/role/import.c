/* `adtally import`: files of past events (CSV or NDJSON) into Kafka. */
#include <errno.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/kafka.h"
#include "client/mysql.h"
#include "core/event.h"
#include "core/reject.h"
#include "core/tally.h"
#include "role/import_reader.h"
#include "role/role.h"
#include "util/log.h"

struct import_opts {
    const char *format;
    int force;
    int progress;
};

static const struct cfg_opt import_table[] = {
    {"format", CFG_STR, NULL, 0, 0, offsetof(struct import_opts, format),
     "csv or ndjson (default: csv for *.csv files, else ndjson)"},
    {"force", CFG_BOOL, "false", 0, 0, offsetof(struct import_opts, force),
     "import a file even when the same content was imported before"},
    {"progress", CFG_BOOL, "true", 0, 0, offsetof(struct import_opts, progress),
     "show a progress line when stderr is a terminal"},
    CFG_END,
};

static const struct cfg_role import_role = {
    "import", "[options] FILE... | -",
    "Validates each event of the files (the platform's CSV export, with its\n"
    "header, or NDJSON; - reads standard input) and puts it on <topic>, or\n"
    "on <topic>.rejected with the reason. A file whose content (SHA-256)\n"
    "was imported before is refused unless --force; standard input is not\n"
    "fingerprinted. Exits 1 when any event was not delivered to Kafka."};

#define MAX_REASONS 64

struct import_run {
    struct config *cfg;
    struct import_opts *o;
    struct kafka_producer *kp;
    struct db *db;
    char rejected_topic[300];
    /* Per file. */
    uint64_t read, accepted, rejected;
    /* Over the run, from delivery reports. */
    uint64_t delivered, failed, pending;
    char reasons[MAX_REASONS][200];
    uint64_t reason_count[MAX_REASONS];
    int nreasons;
};

/* Delivery reports: msg_opaque is 1 for events, 2 for rejects. */
static void import_on_delivery(void *ctx, void *msg, int err,
                               const char *errstr)
{
    struct import_run *ir = ctx;
    static int logged;

    ir->pending--;
    if (err == 0) {
        ir->delivered++;
        return;
    }
    ir->failed++;
    if (logged++ < 5)
        log_error("import", "kafka: %s not delivered: %s",
                  msg == (void *)1 ? "an event" : "a rejected line", errstr);
}

static void import_count_reason(struct import_run *ir, const struct ev_error *e)
{
    char key[200];
    int i;

    snprintf(key, sizeof(key), "%s%s%s", e->field, e->field[0] ? ": " : "",
             e->reason);
    for (i = 0; i < ir->nreasons; i++) {
        if (strcmp(ir->reasons[i], key) == 0)
            break;
    }
    if (i == ir->nreasons) {
        if (i == MAX_REASONS)
            i = MAX_REASONS - 1; /* the last bucket gathers the rest */
        else
            ir->nreasons++;
        snprintf(ir->reasons[i], sizeof(ir->reasons[i]), "%s",
                 i == MAX_REASONS - 1 ? "other reasons" : key);
    }
    ir->reason_count[i]++;
}

static int import_send(struct import_run *ir, const char *topic,
                       const char *key, size_t klen, const struct buf *val,
                       void *kind)
{
    char err[512];

    if (kafka_producer_send(ir->kp, topic, key, klen, val->data, val->len, kind,
                            60000, err, sizeof(err)) != 0) {
        ir->failed++;
        log_error("import", "kafka: %s", err);
        return -1;
    }
    ir->pending++;
    kafka_producer_poll(ir->kp, 0);
    return 0;
}

static void import_reject(struct import_run *ir, const char *rec, size_t n,
                          const struct ev_error *e, long line, const char *name,
                          struct buf *out)
{
    while (n > 0 && (rec[n - 1] == '\n' || rec[n - 1] == '\r'))
        n--;
    ir->rejected++;
    import_count_reason(ir, e);
    if (ir->rejected <= 10)
        log_warn("import", "%s:%ld: rejected: %s%s%s", name, line, e->field,
                 e->field[0] ? ": " : "", e->reason);
    buf_reset(out);
    if (reject_to_json(out, e, rec, n) == 0)
        import_send(ir, ir->rejected_topic, NULL, 0, out, (void *)2);
}

static void import_accept(struct import_run *ir, const struct event *ev,
                          struct buf *out)
{
    char keybuf[16];
    const char *key;
    size_t klen = tally_message_key(ev, keybuf, sizeof(keybuf), &key);

    buf_reset(out);
    if (event_to_json(ev, out) != 0) {
        ir->failed++;
        log_error("import", "an event does not fit its output buffer");
        return;
    }
    if (import_send(ir, ir->cfg->topic, key, klen, out, (void *)1) == 0)
        ir->accepted++;
}

static void import_progress(struct import_run *ir, const char *name,
                            uint64_t done, uint64_t total, double secs)
{
    fprintf(stderr, "\rimport: %s %3.0f%% %llu events, %.0f events/s   ", name,
            total ? 100.0 * (double)done / (double)total : 0.0,
            (unsigned long long)ir->read,
            secs > 0 ? (double)ir->read / secs : 0.0);
}

static double import_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int import_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
            return 0;
    }
    return 1;
}

/* Handles one record; the CSV header is the first. */
static int import_record(struct import_run *ir, struct import_reader *r,
                         struct csv_header *h, int *have_header,
                         const char *rec, size_t n, const char *name,
                         struct event *ev, struct buf *out)
{
    struct ev_error e;
    int rc;

    if (import_blank(rec, n))
        return 0;
    if (r->csv && !*have_header) {
        if (csv_header_parse(h, rec, n, &e) != 0) {
            log_error("import", "%s:1: bad CSV header: %s%s%s", name, e.field,
                      e.field[0] ? ": " : "", e.reason);
            return -1;
        }
        *have_header = 1;
        return 0;
    }
    ir->read++;
    rc = r->csv ? event_parse_csv(ev, h, rec, n, &e)
                : event_parse_json(ev, rec, n, &e);
    if (rc == 0)
        import_accept(ir, ev, out);
    else
        import_reject(ir, rec, n, &e, r->line, name, out);
    return 0;
}

/* Streams one file's records to Kafka. Returns 0, or -1 when the file
 * could not be read as a whole. */
static int import_stream(struct import_run *ir, FILE *f, int csv,
                         const char *name, uint64_t total)
{
    struct import_reader r;
    struct csv_header h;
    struct event ev;
    struct buf out;
    const char *rec;
    size_t n;
    int have_header = 0, rc = 0, got;
    int tty = ir->o->progress && isatty(2);
    double t0 = import_now(), shown = t0;

    import_reader_init(&r, f, csv);
    event_init(&ev);
    buf_init(&out, 4 * EV_LINE_MAX);
    while (rc == 0 && (got = import_reader_next(&r, &rec, &n)) != 0) {
        if (got == -2) {
            log_error("import", "%s: read error: %s", name, strerror(errno));
            rc = -1;
        } else if (got == -1) {
            struct ev_error e = {"line longer than the cap", ""};
            ir->read++;
            import_reject(ir, rec, n, &e, r.line, name, &out);
        } else {
            rc = import_record(ir, &r, &h, &have_header, rec, n, name, &ev,
                               &out);
        }
        if (tty && import_now() - shown >= 0.5) {
            shown = import_now();
            import_progress(ir, name, r.consumed, total, shown - t0);
        }
    }
    if (tty) {
        import_progress(ir, name, r.consumed, total, import_now() - t0);
        fputc('\n', stderr);
    }
    if (rc == 0 && csv && !have_header) {
        log_error("import", "%s: empty file, no CSV header", name);
        rc = -1;
    }
    buf_free(&out);
    event_free(&ev);
    import_reader_free(&r);
    return rc;
}

static int import_sha256(FILE *f, char hex[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char chunk[65536], dig[32];
    unsigned dlen = 0;
    size_t got;
    int rc = -1;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        EVP_DigestUpdate(md, chunk, got);
    if (ferror(f) || EVP_DigestFinal_ex(md, dig, &dlen) != 1)
        goto out;
    for (unsigned i = 0; i < dlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    rewind(f);
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

static int import_seen_row(void *ctx, int ncols, char **v)
{
    (void)ncols;
    snprintf(ctx, 1200, "%s on %s", v[0] ? v[0] : "?", v[1] ? v[1] : "?");
    return 1;
}

/* Returns 1 when this content went to this topic before (described in
 * `when`), 0 when not, -1 on error. */
static int import_seen(struct import_run *ir, const char *sha, char when[1200])
{
    struct db_val v[2] = {DB_TEXT(ir->cfg->topic, strlen(ir->cfg->topic)),
                          DB_TEXT(sha, 64)};
    char err[1024];
    long long n;

    when[0] = '\0';
    n = db_query(ir->db,
                 "SELECT file_name, imported_at FROM imports WHERE topic = ?"
                 " AND sha256 = ?",
                 v, 2, import_seen_row, when, err, sizeof(err));
    if (n < 0)
        log_error("import", "mysql: %s", err);
    return n < 0 ? -1 : n > 0;
}

static void import_remember(struct import_run *ir, const char *sha,
                            const char *path, uint64_t bytes)
{
    struct db_val v[6] = {
        DB_TEXT(ir->cfg->topic, strlen(ir->cfg->topic)),
        DB_TEXT(sha, 64),
        DB_TEXT(path, strlen(path) > 1024 ? 1024 : strlen(path)),
        DB_INT((long long)bytes),
        DB_INT((long long)ir->accepted),
        DB_INT((long long)ir->rejected),
    };
    char err[1024];

    if (db_query(ir->db,
                 "INSERT INTO imports (topic, sha256, file_name, bytes,"
                 " accepted, rejected, imported_at) VALUES (?, ?, ?, ?, ?, ?,"
                 " UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE"
                 " file_name = VALUES(file_name), bytes = VALUES(bytes),"
                 " accepted = VALUES(accepted), rejected = VALUES(rejected),"
                 " imported_at = VALUES(imported_at)",
                 v, 6, NULL, NULL, err, sizeof(err)) < 0)
        log_error("import", "mysql: cannot remember %s: %s", path, err);
}

static void import_summary(struct import_run *ir, const char *name)
{
    log_info("import", "%s: read %llu, accepted %llu, rejected %llu", name,
             (unsigned long long)ir->read, (unsigned long long)ir->accepted,
             (unsigned long long)ir->rejected);
    for (int i = 0; i < ir->nreasons; i++)
        log_info("import", "%s: rejected %llu: %s", name,
                 (unsigned long long)ir->reason_count[i], ir->reasons[i]);
}

/* Waits until Kafka has acknowledged or failed every queued message. */
static int import_flush(struct import_run *ir)
{
    if (kafka_producer_flush(ir->kp, 120000) != 0 || ir->pending > 0) {
        log_error("import",
                  "kafka: %llu messages still unacknowledged "
                  "after 120 s",
                  (unsigned long long)ir->pending);
        return -1;
    }
    return ir->failed ? -1 : 0;
}

static int import_is_csv(const struct import_opts *o, const char *path)
{
    size_t n = strlen(path);

    if (o->format)
        return strcmp(o->format, "csv") == 0;
    return n > 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

/* Imports one file or standard input. Returns 0 when every event of it
 * was delivered, 1 otherwise. */
static int import_file(struct import_run *ir, const char *path)
{
    int std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    char sha[65], when[1200];
    struct stat st = {0};
    uint64_t failed_before = ir->failed;
    int rc = 1;

    ir->read = ir->accepted = ir->rejected = 0;
    memset(ir->reason_count, 0, sizeof(ir->reason_count));
    ir->nreasons = 0;
    if (f == NULL) {
        log_error("import", "%s: %s", path, strerror(errno));
        return 1;
    }
    if (!std) {
        fstat(fileno(f), &st);
        if (import_sha256(f, sha) != 0) {
            log_error("import", "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        int seen = import_seen(ir, sha, when);
        if (seen < 0)
            goto out;
        if (seen && !ir->o->force) {
            log_error("import",
                      "%s: refused: the same content was imported "
                      "before (%s); use --force to import it again",
                      path, when);
            goto out;
        }
    }
    if (import_stream(ir, f, import_is_csv(ir->o, path), path,
                      (uint64_t)st.st_size) != 0)
        goto out;
    if (import_flush(ir) != 0 || ir->failed != failed_before) {
        log_error("import",
                  "%s: some events were not delivered; the file "
                  "is not marked as imported",
                  path);
        goto out;
    }
    if (!std)
        import_remember(ir, sha, path, (uint64_t)st.st_size);
    rc = 0;
out:
    import_summary(ir, path);
    if (!std)
        fclose(f);
    return rc;
}

static int import_open(struct import_run *ir)
{
    struct db_url u;
    char err[1024];

    config_rejected_topic(ir->cfg, ir->rejected_topic,
                          sizeof(ir->rejected_topic));
    if (db_url_parse(ir->cfg->mysql, &u, err, sizeof(err)) != 0 ||
        (ir->db = db_connect(&u, 1, 5, err, sizeof(err))) == NULL) {
        log_error("import", "%s (needed to remember imported files)", err);
        return -1;
    }
    ir->kp = kafka_producer_create(ir->cfg->kafka, ir->cfg->kafka_props,
                                   ir->cfg->n_kafka_props, import_on_delivery,
                                   ir, err, sizeof(err));
    if (ir->kp == NULL) {
        log_error("import", "kafka: %s", err);
        return -1;
    }
    return 0;
}

int role_import_main(int argc, char **argv)
{
    struct import_opts o = {0};
    struct import_run ir = {0};
    struct config cfg;
    int rc = 2, lrc;

    lrc = config_load(&cfg, &import_role, import_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    if (cfg.nargs == 0) {
        log_error("import", "no file given (use - for standard input)");
        goto out;
    }
    if (o.format && strcmp(o.format, "csv") && strcmp(o.format, "ndjson")) {
        log_error("import", "--format: '%s' is not csv or ndjson", o.format);
        goto out;
    }
    ir.cfg = &cfg;
    ir.o = &o;
    rc = 1;
    if (import_open(&ir) != 0)
        goto out;
    rc = 0;
    for (int i = 0; i < cfg.nargs; i++)
        rc |= import_file(&ir, cfg.args[i]);
out:
    kafka_producer_destroy(ir.kp);
    db_close(ir.db);
    config_free(&cfg);
    return rc;
}
