/* MariaDB/MySQL through Connector/C: connections by URL, prepared
 * statements with typed values, rows read back as text. */
#ifndef ADTALLY_CLIENT_MYSQL_H
#define ADTALLY_CLIENT_MYSQL_H

#include <stddef.h>

struct db;
struct db_stmt;

enum db_type { DBV_NULL, DBV_INT, DBV_TEXT, DBV_DOUBLE };

/* One bound value. Text (also used for exact DECIMAL values) is not
 * copied: it must outlive the call. */
struct db_val {
    enum db_type type;
    long long i;
    double d;
    const char *s;
    size_t len;
};

#define DB_INT(v) ((struct db_val){.type = DBV_INT, .i = (v)})
#define DB_TEXT(v, n) ((struct db_val){.type = DBV_TEXT, .s = (v), .len = (n)})
#define DB_NULLV ((struct db_val){.type = DBV_NULL})

/* Parsed mysql://user[:password]@host[:port][/database]. */
struct db_url {
    char user[64];
    char password[128];
    char host[256];
    unsigned port;
    char database[65];
};

/* Parses a URL; returns 0 or -1 with the reason in err (which never
 * contains the password). */
int db_url_parse(const char *url, struct db_url *u, char *err, size_t errlen);

/* Connects with bounded connect, read and write time-outs (seconds), in
 * utf8mb4, autocommit on. With `use_db` 0 no database is selected (to
 * create it). Returns NULL with the server's message in err. */
struct db *db_connect(const struct db_url *u, int use_db, int timeout_s,
                      char *err, size_t errlen);

/* Closes the connection and its statements. NULL-safe. */
void db_close(struct db *db);

/* Runs a statement that has no values (DDL, BEGIN). Returns 0 or -1 with
 * the server's message in err. */
int db_exec(struct db *db, const char *sql, char *err, size_t errlen);

/* Prepares a statement once for many executions; it belongs to `db` and
 * is freed by db_stmt_close or db_close. NULL with err on failure. */
struct db_stmt *db_prepare(struct db *db, const char *sql, char *err,
                           size_t errlen);
void db_stmt_close(struct db_stmt *st);

/* Called for each row: the columns as NUL-terminated text, NULL for SQL
 * NULL. Return 0 to go on, non-zero to stop. */
typedef int(db_row_fn)(void *ctx, int ncols, char **vals);

/* Executes with `n` values; for a SELECT, calls `row` for each row.
 * Returns the affected row count (SELECT: the rows seen), or -1 with the
 * server's message in err. */
long long db_stmt_run(struct db_stmt *st, const struct db_val *vals, int n,
                      db_row_fn *row, void *ctx, char *err, size_t errlen);

/* Prepare, run and close in one call. */
long long db_query(struct db *db, const char *sql, const struct db_val *vals,
                   int n, db_row_fn *row, void *ctx, char *err, size_t errlen);

/* Transactions. Each returns 0 or -1 with err. */
int db_begin(struct db *db, char *err, size_t errlen);
int db_commit(struct db *db, char *err, size_t errlen);
int db_rollback(struct db *db);

/* The error number of the last failure on this connection. */
unsigned db_errno(struct db *db);

/* Non-zero when the last error means the connection is gone or the
 * transaction was rolled back by the server (deadlock, lock wait), so the
 * work may be retried on a new connection. */
int db_error_retryable(struct db *db);

#endif
