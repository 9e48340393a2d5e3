/* MariaDB/MySQL client over Connector/C, prepared statements only. */
#include "client/mysql.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
    MYSQL *my;
    struct db_stmt *stmts;
    unsigned last_errno;
};

struct db_stmt {
    struct db *db;
    MYSQL_STMT *st;
    struct db_stmt *next;
};

static int db_copy(char *dst, size_t n, const char *s, size_t len)
{
    if (len >= n)
        return -1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

/* Splits "user[:pass]@" from the front of s. */
static int db_url_userinfo(const char *s, const char *at, struct db_url *u)
{
    const char *colon = memchr(s, ':', (size_t)(at - s));

    if (colon == NULL)
        return db_copy(u->user, sizeof(u->user), s, (size_t)(at - s));
    if (db_copy(u->user, sizeof(u->user), s, (size_t)(colon - s)))
        return -1;
    return db_copy(u->password, sizeof(u->password), colon + 1,
                   (size_t)(at - colon - 1));
}

int db_url_parse(const char *url, struct db_url *u, char *err, size_t errlen)
{
    const char *s = url, *at, *slash, *colon;
    char *end;

    memset(u, 0, sizeof(*u));
    u->port = 3306;
    if (strncmp(s, "mysql://", 8) != 0) {
        snprintf(err, errlen, "mysql URL must start with mysql://");
        return -1;
    }
    s += 8;
    slash = strchr(s, '/');
    if (slash == NULL)
        slash = s + strlen(s);
    at = memchr(s, '@', (size_t)(slash - s));
    if (at != NULL) {
        if (db_url_userinfo(s, at, u) != 0)
            goto bad;
        s = at + 1;
    } else {
        strcpy(u->user, "root");
    }
    colon = memchr(s, ':', (size_t)(slash - s));
    if (db_copy(u->host, sizeof(u->host), s,
                (size_t)((colon ? colon : slash) - s)) ||
        u->host[0] == '\0')
        goto bad;
    if (colon != NULL) {
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (end != slash || p == 0 || p > 65535)
            goto bad;
        u->port = (unsigned)p;
    }
    if (*slash == '/' &&
        db_copy(u->database, sizeof(u->database), slash + 1, strlen(slash + 1)))
        goto bad;
    return 0;
bad:
    snprintf(err, errlen,
             "bad mysql URL (expected "
             "mysql://user[:password]@host[:port]/database)");
    return -1;
}

struct db *db_connect(const struct db_url *u, int use_db, int timeout_s,
                      char *err, size_t errlen)
{
    struct db *db = calloc(1, sizeof(*db));
    unsigned t = (unsigned)timeout_s, rw = (unsigned)timeout_s * 6;

    if (db == NULL || (db->my = mysql_init(NULL)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(db);
        return NULL;
    }
    mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(
            db->my, u->host, u->user, u->password[0] ? u->password : NULL,
            use_db && u->database[0] ? u->database : NULL, u->port, NULL, 0)) {
        snprintf(err, errlen, "mysql %s:%u: %s", u->host, u->port,
                 mysql_error(db->my));
        mysql_close(db->my);
        free(db);
        return NULL;
    }
    return db;
}

void db_stmt_close(struct db_stmt *st)
{
    struct db_stmt **pp;

    if (st == NULL)
        return;
    for (pp = &st->db->stmts; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    mysql_stmt_close(st->st);
    free(st);
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    while (db->stmts)
        db_stmt_close(db->stmts);
    mysql_close(db->my);
    free(db);
}

int db_exec(struct db *db, const char *sql, char *err, size_t errlen)
{
    if (mysql_real_query(db->my, sql, strlen(sql)) == 0) {
        MYSQL_RES *r = mysql_store_result(db->my);
        mysql_free_result(r);
        return 0;
    }
    db->last_errno = mysql_errno(db->my);
    snprintf(err, errlen, "%s", mysql_error(db->my));
    return -1;
}

struct db_stmt *db_prepare(struct db *db, const char *sql, char *err,
                           size_t errlen)
{
    struct db_stmt *st = calloc(1, sizeof(*st));

    if (st == NULL || (st->st = mysql_stmt_init(db->my)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(st);
        return NULL;
    }
    if (mysql_stmt_prepare(st->st, sql, strlen(sql)) != 0) {
        db->last_errno = mysql_stmt_errno(st->st);
        snprintf(err, errlen, "%s", mysql_stmt_error(st->st));
        mysql_stmt_close(st->st);
        free(st);
        return NULL;
    }
    st->db = db;
    st->next = db->stmts;
    db->stmts = st;
    return st;
}

static int db_bind_params(MYSQL_STMT *st, const struct db_val *vals, int n,
                          MYSQL_BIND *b)
{
    memset(b, 0, sizeof(*b) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        switch (vals[i].type) {
        case DBV_NULL:
            b[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        case DBV_INT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&vals[i].i;
            break;
        case DBV_DOUBLE:
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = (void *)&vals[i].d;
            break;
        case DBV_TEXT:
            b[i].buffer_type = MYSQL_TYPE_STRING;
            b[i].buffer = (void *)vals[i].s;
            b[i].buffer_length = (unsigned long)vals[i].len;
            break;
        }
    }
    return n ? (int)mysql_stmt_bind_param(st, b) : 0;
}

/* Fetches every row of a stored result as text and hands it to `row`. */
static long long db_fetch_rows(MYSQL_STMT *st, MYSQL_RES *meta, db_row_fn *row,
                               void *ctx, char *err, size_t errlen)
{
    int ncols = (int)mysql_num_fields(meta), rc;
    MYSQL_FIELD *f = mysql_fetch_fields(meta);
    MYSQL_BIND *b = calloc((size_t)ncols, sizeof(*b));
    char **bufs = calloc((size_t)ncols, sizeof(char *));
    char **vals = calloc((size_t)ncols, sizeof(char *));
    unsigned long *lens = calloc((size_t)ncols, sizeof(*lens));
    my_bool *nulls = calloc((size_t)ncols, sizeof(*nulls));
    long long seen = -1;

    if (!b || !bufs || !vals || !lens || !nulls) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < ncols; i++) {
        /* max_length is exact after store_result with UPDATE_MAX_LENGTH;
         * numbers may be reported as 0, so give them room. */
        size_t size = f[i].max_length + 64;

        bufs[i] = malloc(size);
        if (bufs[i] == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = bufs[i];
        b[i].buffer_length = (unsigned long)size - 1;
        b[i].length = &lens[i];
        b[i].is_null = &nulls[i];
    }
    if (mysql_stmt_bind_result(st, b) != 0) {
        snprintf(err, errlen, "%s", mysql_stmt_error(st));
        goto out;
    }
    seen = 0;
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        if (rc == MYSQL_DATA_TRUNCATED) {
            snprintf(err, errlen, "a column value was truncated");
            seen = -1;
            goto out;
        }
        for (int i = 0; i < ncols; i++) {
            bufs[i][lens[i]] = '\0';
            vals[i] = nulls[i] ? NULL : bufs[i];
        }
        seen++;
        if (row && row(ctx, ncols, vals) != 0)
            break;
    }
    if (rc == 1) {
        snprintf(err, errlen, "%s", mysql_stmt_error(st));
        seen = -1;
    }
out:
    for (int i = 0; bufs && i < ncols; i++)
        free(bufs[i]);
    free(b);
    free(bufs);
    free(vals);
    free(lens);
    free(nulls);
    return seen;
}

long long db_stmt_run(struct db_stmt *st, const struct db_val *vals, int n,
                      db_row_fn *row, void *ctx, char *err, size_t errlen)
{
    MYSQL_BIND stackb[16],
        *b = n <= 16 ? stackb : calloc((size_t)n, sizeof(*b));
    MYSQL_RES *meta = NULL;
    my_bool on = 1;
    long long rc = -1;

    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (db_bind_params(st->st, vals, n, b) != 0 ||
        mysql_stmt_execute(st->st) != 0) {
        st->db->last_errno = mysql_stmt_errno(st->st);
        snprintf(err, errlen, "%s", mysql_stmt_error(st->st));
        goto out;
    }
    meta = mysql_stmt_result_metadata(st->st);
    if (meta == NULL) {
        rc = (long long)mysql_stmt_affected_rows(st->st);
        goto out;
    }
    mysql_stmt_attr_set(st->st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
    if (mysql_stmt_store_result(st->st) != 0) {
        snprintf(err, errlen, "%s", mysql_stmt_error(st->st));
        goto out;
    }
    rc = db_fetch_rows(st->st, meta, row, ctx, err, errlen);
    mysql_stmt_free_result(st->st);
out:
    if (meta)
        mysql_free_result(meta);
    if (b != stackb)
        free(b);
    return rc;
}

long long db_query(struct db *db, const char *sql, const struct db_val *vals,
                   int n, db_row_fn *row, void *ctx, char *err, size_t errlen)
{
    struct db_stmt *st = db_prepare(db, sql, err, errlen);
    long long rc;

    if (st == NULL)
        return -1;
    rc = db_stmt_run(st, vals, n, row, ctx, err, errlen);
    db_stmt_close(st);
    return rc;
}

int db_begin(struct db *db, char *err, size_t errlen)
{
    return db_exec(db, "START TRANSACTION", err, errlen);
}

int db_commit(struct db *db, char *err, size_t errlen)
{
    if (mysql_commit(db->my) == 0)
        return 0;
    db->last_errno = mysql_errno(db->my);
    snprintf(err, errlen, "commit: %s", mysql_error(db->my));
    return -1;
}

int db_rollback(struct db *db)
{
    return mysql_rollback(db->my) == 0 ? 0 : -1;
}

unsigned db_errno(struct db *db)
{
    return db->last_errno;
}

int db_error_retryable(struct db *db)
{
    switch (db->last_errno) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONN_HOST_ERROR:
    case CR_CONNECTION_ERROR:
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_SERVER_SHUTDOWN:
    case 4031: /* client idle too long, disconnected by the server */
        return 1;
    default:
        return 0;
    }
}
