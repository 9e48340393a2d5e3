/* `adtally dims load DIR`: the platform's dimension exports into MySQL. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mysql.h"
#include "core/event.h"
#include "core/utf8.h"
#include "role/role.h"
#include "util/config.h"
#include "util/csv.h"
#include "util/log.h"

enum dim_type { DIM_ID, DIM_INT, DIM_DEC, DIM_TEXT, DIM_TIME };

struct dim_col {
    const char *name; /* the same in the CSV header and the table */
    enum dim_type type;
};

struct dim_table {
    const char *file;
    const char *table;
    struct dim_col cols[12]; /* the first is the id */
};

static const struct dim_table dim_tables[] = {
    {"company.csv",
     "company",
     {{"id", DIM_ID},
      {"name", DIM_TEXT},
      {"is_active", DIM_INT},
      {"status", DIM_INT},
      {"publisher_id", DIM_INT}}},
    {"campaign.csv",
     "campaign",
     {{"id", DIM_ID},
      {"company_id", DIM_INT},
      {"campaign_name", DIM_TEXT},
      {"budget_total", DIM_DEC},
      {"unit_budget", DIM_TEXT},
      {"pacing_unit", DIM_TEXT},
      {"campaign_status", DIM_INT},
      {"is_active", DIM_INT},
      {"start_date", DIM_TIME},
      {"end_date", DIM_TIME}}},
    {"group.csv",
     "job_group",
     {{"id", DIM_ID},
      {"name", DIM_TEXT},
      {"budget_group", DIM_DEC},
      {"status", DIM_INT},
      {"is_active", DIM_INT},
      {"company_id", DIM_INT},
      {"campaign_id", DIM_INT}}},
    {"master_publisher.csv",
     "publisher",
     {{"id", DIM_ID},
      {"publisher_name", DIM_TEXT},
      {"is_active", DIM_INT},
      {"publisher_status", DIM_INT},
      {"time_zone", DIM_TEXT},
      {"min_bid", DIM_DEC},
      {"max_bid", DIM_DEC}}},
    {"job.csv",
     "job",
     {{"id", DIM_ID},
      {"company_id", DIM_INT},
      {"campaign_id", DIM_INT},
      {"group_id", DIM_INT},
      {"title", DIM_TEXT},
      {"budget", DIM_DEC},
      {"status", DIM_INT},
      {"is_active", DIM_INT},
      {"created_date", DIM_TIME},
      {"last_modified_date", DIM_TIME}}},
};

#define NDIMS ((int)(sizeof(dim_tables) / sizeof(dim_tables[0])))
#define DIM_TEXT_MAX 512
#define DIM_FILE_MAX ((size_t)256 << 20)

/* Loading one file: which CSV column feeds each table column. */
struct dim_load {
    const struct dim_table *t;
    const char *path;
    int ncols;
    int src[12];
    int header_cells;
    long loaded, rejected;
    struct db_stmt *upsert;
};

static int dim_ncols(const struct dim_table *t)
{
    int n = 0;

    while (n < 12 && t->cols[n].name)
        n++;
    return n;
}

/* Builds INSERT ... ON DUPLICATE KEY UPDATE for the table's columns. */
static struct db_stmt *dim_prepare(struct db *db, const struct dim_table *t,
                                   char *err, size_t errlen)
{
    struct buf sql;
    struct db_stmt *st = NULL;
    int n = dim_ncols(t), rc = 0;

    buf_init(&sql, 8192);
    rc |= buf_printf(&sql, "INSERT INTO %s (", t->table);
    for (int i = 0; i < n; i++)
        rc |= buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i].name);
    rc |= buf_puts(&sql, ") VALUES (");
    for (int i = 0; i < n; i++)
        rc |= buf_puts(&sql, i ? ", ?" : "?");
    rc |= buf_puts(&sql, ") ON DUPLICATE KEY UPDATE ");
    for (int i = 1; i < n; i++)
        rc |= buf_printf(&sql, "%s%s = VALUES(%s)", i > 1 ? ", " : "",
                         t->cols[i].name, t->cols[i].name);
    if (rc == 0)
        st = db_prepare(db, sql.data, err, errlen);
    buf_free(&sql);
    return st;
}

/* Maps the header's cells to the table's columns; every column is
 * required. */
static int dim_header(struct dim_load *l, const struct csv_row *h, char *err,
                      size_t errlen)
{
    l->ncols = dim_ncols(l->t);
    l->header_cells = h->ncells;
    for (int i = 0; i < l->ncols; i++) {
        l->src[i] = -1;
        for (int c = 0; c < h->ncells; c++) {
            if (strcmp(h->cell[c], l->t->cols[i].name) == 0)
                l->src[i] = c;
        }
        if (l->src[i] < 0) {
            snprintf(err, errlen, "%s:1: header has no column '%s'", l->path,
                     l->t->cols[i].name);
            return -1;
        }
    }
    return 0;
}

static int dim_is_digits(const char *s, size_t n)
{
    return n > 0 && strspn(s, "0123456789") == n;
}

/* Checks one cell against its column type; fills the bound value. */
static int dim_cell(const struct dim_col *col, const char *s, size_t n,
                    struct db_val *v, char *why, size_t whylen)
{
    const char *dot;
    long long x;

    if (n == 0 && col->type != DIM_ID) {
        *v = DB_NULLV;
        return 0;
    }
    switch (col->type) {
    case DIM_ID:
    case DIM_INT:
        x = strtoll(s + (*s == '-'), NULL, 10);
        if (!dim_is_digits(s + (*s == '-' && col->type == DIM_INT),
                           n - (*s == '-' && col->type == DIM_INT)) ||
            n > 10 || x > 2147483647LL) {
            snprintf(why, whylen, "%s '%.40s' is not %s", col->name, s,
                     col->type == DIM_ID ? "an id" : "an integer");
            return -1;
        }
        *v = DB_INT(*s == '-' ? -x : x);
        return 0;
    case DIM_DEC:
        dot = memchr(s, '.', n);
        if (!dim_is_digits(s, dot ? (size_t)(dot - s) : n) || n > 20 ||
            (dot && (!dim_is_digits(dot + 1, n - (size_t)(dot - s) - 1) ||
                     n - (size_t)(dot - s) - 1 > 4))) {
            snprintf(why, whylen, "%s '%.40s' is not a decimal", col->name, s);
            return -1;
        }
        break;
    case DIM_TEXT:
    case DIM_TIME:
        if (n > DIM_TEXT_MAX) {
            snprintf(why, whylen, "%s longer than %d bytes", col->name,
                     DIM_TEXT_MAX);
            return -1;
        }
        break;
    }
    *v = DB_TEXT(s, n);
    return 0;
}

/* Validates and upserts one record; counts it as loaded or rejected. */
static void dim_row(struct dim_load *l, struct csv_row *row, const char *s,
                    size_t n, long line)
{
    struct db_val vals[12];
    char why[512];

    if (!utf8_valid(s, n)) {
        snprintf(why, sizeof(why), "invalid UTF-8");
        goto bad;
    }
    if (csv_split(row, s, n, why, sizeof(why)) < 0)
        goto bad;
    if (row->ncells != l->header_cells) {
        snprintf(why, sizeof(why), "row has %d cells, header has %d",
                 row->ncells, l->header_cells);
        goto bad;
    }
    for (int i = 0; i < l->ncols; i++) {
        int c = l->src[i];
        if (dim_cell(&l->t->cols[i], row->cell[c], row->len[c], &vals[i], why,
                     sizeof(why)) != 0)
            goto bad;
    }
    if (db_stmt_run(l->upsert, vals, l->ncols, NULL, NULL, why, sizeof(why)) <
        0)
        goto bad;
    l->loaded++;
    return;
bad:
    l->rejected++;
    log_warn("dims", "%s:%ld: row rejected: %s", l->path, line, why);
}

static char *dim_read_file(const char *path, size_t *n, char *err,
                           size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[65536];
    size_t got;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf_init(&b, DIM_FILE_MAX);
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, got) != 0) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path,
                     DIM_FILE_MAX);
            fclose(f);
            buf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    *n = b.len;
    if (b.data == NULL)
        buf_putc(&b, '\0');
    return b.data;
}

/* The record at s: up to its line end, or the rest at the end of the
 * file; 0 when an open quote runs to the end. */
static size_t dim_record(const char *s, size_t n)
{
    size_t len = csv_record_len(s, n);
    int quoted = 0;

    if (len > 0 || n == 0)
        return len;
    for (size_t i = 0; i < n; i++)
        quoted ^= s[i] == '"';
    return quoted ? 0 : n;
}

static long dim_count_lines(const char *s, size_t n)
{
    long k = 0;

    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* Loads one dimension file. Returns 0 when every row loaded. */
static int dim_load_file(struct db *db, const struct dim_table *t,
                         const char *dir)
{
    struct dim_load l = {.t = t};
    struct csv_row row;
    char path[4096], err[1024];
    size_t n = 0, off, span;
    long line = 1;
    char *data;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, t->file);
    l.path = path;
    csv_row_init(&row);
    data = dim_read_file(path, &n, err, sizeof(err));
    if (data == NULL)
        goto out;
    span = dim_record(data, n);
    if (span == 0 || csv_split(&row, data, span, err, sizeof(err)) < 0 ||
        dim_header(&l, &row, err, sizeof(err)) != 0) {
        if (span == 0)
            snprintf(err, sizeof(err), "%s:1: no header line", path);
        goto out;
    }
    l.upsert = dim_prepare(db, t, err, sizeof(err));
    if (l.upsert == NULL)
        goto out;
    for (off = span, line = 2; off < n; off += span) {
        span = dim_record(data + off, n - off);
        if (span == 0) {
            /* An unterminated quote swallows the rest: reject it all. */
            l.rejected++;
            log_warn("dims", "%s:%ld: row rejected: unterminated quote", path,
                     line);
            break;
        }
        if (span > 1 || data[off] != '\n')
            dim_row(&l, &row, data + off, span, line);
        line += dim_count_lines(data + off, span);
    }
    log_info("dims", "%s: %ld rows loaded into %s, %ld rejected", path,
             l.loaded, t->table, l.rejected);
    rc = l.rejected ? -1 : 0;
    err[0] = '\0';
out:
    if (rc != 0 && err[0])
        log_error("dims", "%s", err);
    db_stmt_close(l.upsert);
    csv_row_free(&row);
    free(data);
    return rc;
}

static const struct cfg_role dims_role = {
    "dims", "load DIR",
    "Loads the platform's dimension exports (company.csv, campaign.csv,\n"
    "group.csv, master_publisher.csv, job.csv in DIR) into the MySQL tables\n"
    "company, campaign, job_group, publisher and job, upserting by id.\n"
    "Bad rows are reported with file and line and skipped; the exit status\n"
    "is 1 when any row was rejected."};

int role_dims_main(int argc, char **argv)
{
    struct config cfg;
    struct db_url u;
    struct db *db = NULL;
    char err[1024];
    int rc = 2, lrc;

    lrc = config_load(&cfg, &dims_role, NULL, NULL, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    if (cfg.nargs != 2 || strcmp(cfg.args[0], "load") != 0) {
        log_error("dims", "usage: adtally dims load DIR");
        goto out;
    }
    rc = 1;
    if (db_url_parse(cfg.mysql, &u, err, sizeof(err)) != 0 ||
        (db = db_connect(&u, 1, 5, err, sizeof(err))) == NULL) {
        log_error("dims", "%s", err);
        goto out;
    }
    rc = 0;
    for (int i = 0; i < NDIMS; i++) {
        if (dim_load_file(db, &dim_tables[i], cfg.args[1]) != 0)
            rc = 1;
    }
out:
    db_close(db);
    config_free(&cfg);
    return rc;
}
