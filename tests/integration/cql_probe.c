/* cql_probe: drives the CQL client against a real Cassandra for the
 * integration tests. `shell` runs one statement per stdin line; `roundtrip`
 * runs the typed, paged, pipelined and batched round trip in a keyspace. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cql.h"

static int probe_failed;

static void probe_check(const char *name, int ok, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        printf("PASS %s\n", name);
        return;
    }
    printf("FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    probe_failed = 1;
}

static void print_uuid(const uint8_t u[16])
{
    for (int i = 0; i < 16; i++)
        printf("%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
               u[i]);
}

/* Prints one value as text, by its column type. */
static void print_value(const struct cql_result *r, size_t row, size_t col)
{
    struct cql_decimal d;
    struct cql_str s;
    char text[64];
    uint8_t u[16];
    int32_t i;
    int16_t sm;
    int64_t v;
    int b;

    if (cql_result_is_null(r, row, col) == 1)
        printf("NULL");
    else if (cql_result_int(r, row, col, &i) == CQL_OK)
        printf("%" PRId32, i);
    else if (cql_result_smallint(r, row, col, &sm) == CQL_OK)
        printf("%d", sm);
    else if (cql_result_bigint(r, row, col, &v) == CQL_OK ||
             cql_result_timestamp(r, row, col, &v) == CQL_OK)
        printf("%" PRId64, v);
    else if (cql_result_text(r, row, col, &s) == CQL_OK)
        printf("%.*s", (int)s.n, s.p);
    else if (cql_result_decimal(r, row, col, &d) == CQL_OK &&
             cql_decimal_format(&d, text, sizeof(text)) == CQL_OK)
        printf("%s", text);
    else if (cql_result_uuid(r, row, col, u) == CQL_OK)
        print_uuid(u);
    else if (cql_result_bool(r, row, col, &b) == CQL_OK)
        printf("%s", b ? "true" : "false");
    else if (cql_result_bytes(r, row, col, &s) == CQL_OK)
        printf("<%zu bytes>", s.n);
}

/* One statement per line; rows as tab-separated lines, then "ok N" or
 * "error RC: text". */
static int probe_shell(struct cql_client *cl)
{
    char line[8192], err[1024];
    struct cql_result res;
    int rc, errors = 0;

    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        rc = cql_client_query(cl, line, NULL, &res, err, sizeof(err));
        for (size_t r = 0; rc == CQL_OK && r < res.nrows; r++) {
            for (size_t c = 0; c < res.meta.ncols; c++) {
                printf(c ? "\t" : "");
                print_value(&res, r, c);
            }
            printf("\n");
        }
        if (rc == CQL_OK)
            printf("ok %zu\n", res.nrows);
        else
            printf("error %d: %s\n", rc, err);
        errors += rc != CQL_OK;
        cql_result_free(&res);
        fflush(stdout);
    }
    return errors ? 1 : 0;
}

/* Runs a statement that must succeed; names it in the output if not. */
static int probe_exec(struct cql_client *cl, const char *name, const char *fmt,
                      ...)
{
    char q[1024], err[1024];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    rc = cql_client_query(cl, q, NULL, NULL, err, sizeof(err));
    if (rc != CQL_OK)
        probe_check(name, 0, "%s: %s", q, err);
    return rc;
}

static const uint8_t probe_uuid[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad,
                                       0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                       0x4f, 0xd4, 0x30, 0xc8};

/* The nine typed columns of table rt, for one (k, c). */
static void rt_values(struct cql_value v[9], int32_t k, int32_t c,
                      const char *t)
{
    v[0] = cql_value_int(k);
    v[1] = cql_value_int(c);
    v[2] = t ? cql_value_text(t, strlen(t)) : cql_value_null();
    v[3] = cql_value_bigint(INT64_C(9007199254740993));
    v[4] = cql_value_decimal(14, 1);
    v[5] = cql_value_timestamp(INT64_C(1656633600000));
    v[6] = cql_value_uuid(probe_uuid);
    v[7] = t ? cql_value_bool(1) : cql_value_unset();
    v[8] = cql_value_smallint(-7);
}

static void check_typed_row(const struct cql_result *r)
{
    struct cql_decimal d = {0, 0};
    struct cql_str s = {NULL, 0};
    int64_t b = 0, ts = 0;
    uint8_t u[16] = {0};
    int16_t sm = 0;
    int f = 0;

    probe_check("select_one_row", r->nrows == 1, "%zu rows", r->nrows);
    cql_result_text(r, 0, 0, &s);
    probe_check("text_back", s.n == 4 && memcmp(s.p, "héy", 4) == 0,
                "got '%.*s'", (int)s.n, s.p ? s.p : "");
    cql_result_bigint(r, 0, 1, &b);
    probe_check("bigint_back", b == INT64_C(9007199254740993), "%" PRId64, b);
    cql_result_decimal(r, 0, 2, &d);
    probe_check("decimal_back", d.unscaled == 14 && d.scale == 1,
                "%" PRId64 "e-%d", d.unscaled, d.scale);
    cql_result_timestamp(r, 0, 3, &ts);
    probe_check("timestamp_back", ts == INT64_C(1656633600000), "%" PRId64, ts);
    cql_result_uuid(r, 0, 4, u);
    probe_check("timeuuid_back", memcmp(u, probe_uuid, 16) == 0, "differs");
    cql_result_bool(r, 0, 5, &f);
    probe_check("boolean_back", f == 1, "%d", f);
    cql_result_smallint(r, 0, 6, &sm);
    probe_check("smallint_back", sm == -7, "%d", sm);
}

static const char rt_insert[] = "INSERT INTO rt (k, c, t, b, d, ts, u, f, s)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* Prepared insert of typed values, read back; then null and not set. */
static void probe_typed(struct cql_client *cl, struct cql_prepared *ins)
{
    static const char sel[] = "SELECT t, b, d, ts, u, f, s FROM rt"
                              " WHERE k = 1 AND c = ?";
    struct cql_value v[9], key;
    struct cql_params p = {
        .consistency = CQL_LOCAL_QUORUM, .values = v, .nvalues = 9};
    struct cql_params q = {
        .consistency = CQL_LOCAL_QUORUM, .values = &key, .nvalues = 1};
    struct cql_result res;
    char err[1024];
    int rc;

    rt_values(v, 1, 1, "héy");
    rc = cql_client_execute(cl, ins, &p, NULL, err, sizeof(err));
    probe_check("prepared_insert", rc == CQL_OK, "%s", err);
    key = cql_value_int(1);
    rc = cql_client_query(cl, sel, &q, &res, err, sizeof(err));
    probe_check("select_typed", rc == CQL_OK, "%s", err);
    if (rc == CQL_OK)
        check_typed_row(&res);
    cql_result_free(&res);
    rt_values(v, 1, 2, NULL);
    rc = cql_client_execute(cl, ins, &p, NULL, err, sizeof(err));
    key = cql_value_int(2);
    if (rc == CQL_OK)
        rc = cql_client_query(cl, sel, &q, &res, err, sizeof(err));
    probe_check("null_and_unset",
                rc == CQL_OK && cql_result_is_null(&res, 0, 0) == 1 &&
                    cql_result_is_null(&res, 0, 5) == 1,
                "rc %d: %s", rc, err);
    cql_result_free(&res);
}

#define PAGING_ROWS 1050
#define PAGE_SIZE 100

/* Rows k = 2, c = 0..PAGING_ROWS-1, written many at a time. */
static int probe_fill(struct cql_client *cl, struct cql_prepared *ins)
{
    static struct cql_value v[PAGING_ROWS][9];
    static struct cql_params p[PAGING_ROWS];
    char err[1024];
    int rc;

    for (int i = 0; i < PAGING_ROWS; i++) {
        rt_values(v[i], 2, i, "row");
        p[i] = (struct cql_params){
            .consistency = CQL_LOCAL_QUORUM, .values = v[i], .nvalues = 9};
    }
    rc = cql_client_execute_many(cl, ins, p, PAGING_ROWS, err, sizeof(err));
    probe_check("execute_many_insert", rc == CQL_OK, "%s", err);
    return rc;
}

/* Reads k = 2 back PAGE_SIZE rows at a time through the paging state. */
static void probe_paging(struct cql_client *cl)
{
    struct cql_params q = {.consistency = CQL_LOCAL_QUORUM,
                           .page_size = PAGE_SIZE};
    int rows = 0, pages = 0, ordered = 1, rc = CQL_OK;
    struct cql_result res;
    char err[1024];
    void *state = NULL;
    int32_t c;

    for (;;) {
        rc = cql_client_query(cl, "SELECT c FROM rt WHERE k = 2", &q, &res, err,
                              sizeof(err));
        if (rc != CQL_OK)
            break;
        pages++;
        for (size_t r = 0; r < res.nrows; r++, rows++)
            ordered &= cql_result_int(&res, r, 0, &c) == CQL_OK && c == rows;
        if (!cql_result_has_more(&res))
            break;
        free(state);
        state = malloc(res.meta.paging_state.n + 1);
        memcpy(state, res.meta.paging_state.p, res.meta.paging_state.n);
        q.paging_state = state;
        q.paging_state_len = res.meta.paging_state.n;
        cql_result_free(&res);
    }
    cql_result_free(&res);
    free(state);
    probe_check("paging_query", rc == CQL_OK, "%s", err);
    probe_check("paging_all_rows", rows == PAGING_ROWS && ordered,
                "%d rows, in order %d", rows, ordered);
    probe_check("paging_pages", pages == 11, "%d pages", pages);
}

/* 50 queries in flight on one connection, collected in reverse order. */
static void probe_pipeline(struct cql_client *cl)
{
    enum { N = 50 };
    struct cql_conn *c;
    struct cql_result res;
    struct cql_value v;
    struct cql_params p = {
        .consistency = CQL_LOCAL_QUORUM, .values = &v, .nvalues = 1};
    int s[N], matched = 0;
    char err[1024];
    int32_t got;

    c = cql_client_conn(cl, err, sizeof(err));
    for (int i = 0; c && i < N; i++) {
        v = cql_value_int(i);
        s[i] = cql_conn_send_query(c, "SELECT c FROM rt WHERE k = 2 AND c = ?",
                                   &p, err, sizeof(err));
        if (s[i] < 0)
            break;
    }
    for (int i = N - 1; c && i >= 0; i--) {
        if (s[i] >= 0 &&
            cql_conn_wait(c, s[i], &res, err, sizeof(err)) == CQL_OK)
            matched += cql_result_int(&res, 0, 0, &got) == CQL_OK && got == i;
        cql_result_free(&res);
    }
    probe_check("pipelined_answers_matched", matched == N,
                "%d of %d matched: %s", matched, N, err);
}

static int64_t probe_count(struct cql_client *cl, int k)
{
    char q[128], err[1024];
    struct cql_result res;
    int64_t n = -1;

    snprintf(q, sizeof(q), "SELECT count(*) FROM rt WHERE k = %d", k);
    if (cql_client_query(cl, q, NULL, &res, err, sizeof(err)) != CQL_OK ||
        cql_result_bigint(&res, 0, 0, &n) != CQL_OK)
        printf("count k=%d: %s\n", k, err);
    cql_result_free(&res);
    return n;
}

static void probe_batch(struct cql_client *cl, struct cql_prepared *ins)
{
    struct cql_value v[10][9];
    struct cql_batch_entry e[10];
    char err[1024];
    int rc;

    for (int i = 0; i < 10; i++) {
        rt_values(v[i], 3, i, "batched");
        e[i] = (struct cql_batch_entry){ins, NULL, v[i], 9};
    }
    rc =
        cql_client_batch(cl, CQL_BATCH_UNLOGGED, e, 10, NULL, err, sizeof(err));
    probe_check("unlogged_batch", rc == CQL_OK, "%s", err);
    probe_check("batch_rows", probe_count(cl, 3) == 10, "count differs");
    /* The node forgets nothing here: a spoilt id stands for one it lost. */
    ins->id[0] ^= 0xff;
    rt_values(v[0], 3, 10, "batched");
    rc = cql_client_batch(cl, CQL_BATCH_UNLOGGED, e, 1, NULL, err, sizeof(err));
    probe_check("batch_reprepared", rc == CQL_OK, "%s", err);
    probe_check("batch_rows_after", probe_count(cl, 3) == 11, "count differs");
}

static void probe_reprepare(struct cql_client *cl, struct cql_prepared *ins)
{
    struct cql_value v[9];
    struct cql_params p = {
        .consistency = CQL_LOCAL_QUORUM, .values = v, .nvalues = 9};
    uint8_t *saved = malloc(ins->idlen);
    char err[1024];
    int rc;

    memcpy(saved, ins->id, ins->idlen);
    ins->id[0] ^= 0xff;
    rt_values(v, 4, 0, "again");
    rc = cql_client_execute(cl, ins, &p, NULL, err, sizeof(err));
    probe_check("execute_reprepared", rc == CQL_OK, "%s", err);
    probe_check("id_restored", memcmp(saved, ins->id, ins->idlen) == 0,
                "id differs");
    probe_check("reprepared_row", probe_count(cl, 4) == 1, "count differs");
    free(saved);
}

static void probe_decimals(struct cql_client *cl)
{
    static const char *const texts[] = {"1.4", "0.0001", "1000000000",
                                        "-12.3400", "0"};
    char err[1024], back[64] = "";
    struct cql_result res;
    struct cql_decimal d, got;
    struct cql_value v[2];
    struct cql_params p = {
        .consistency = CQL_LOCAL_QUORUM, .values = v, .nvalues = 2};
    struct cql_params q = {
        .consistency = CQL_LOCAL_QUORUM, .values = v, .nvalues = 1};
    int ok = 1;

    for (int i = 0; i < 5; i++) {
        cql_decimal_parse(texts[i], strlen(texts[i]), &d);
        v[0] = cql_value_int(i);
        v[1] = cql_value_decimal(d.unscaled, d.scale);
        if (cql_client_query(cl, "INSERT INTO rt (k, c, d) VALUES (5, ?, ?)",
                             &p, NULL, err, sizeof(err)) != CQL_OK ||
            cql_client_query(cl, "SELECT d FROM rt WHERE k = 5 AND c = ?", &q,
                             &res, err, sizeof(err)) != CQL_OK) {
            ok = 0;
            break;
        }
        ok &= cql_result_decimal(&res, 0, 0, &got) == CQL_OK &&
              cql_decimal_format(&got, back, sizeof(back)) == CQL_OK &&
              strcmp(back, texts[i]) == 0;
        cql_result_free(&res);
    }
    probe_check("decimals_round_trip", ok, "last '%s': %s", back, err);
}

static const char rt_table[] =
    "CREATE TABLE rt (k int, c int, t text, b bigint, d decimal,"
    " ts timestamp, u timeuuid, f boolean, s smallint, PRIMARY KEY (k, c))";

/* The whole round trip in keyspace ks, on a client that USEs it. */
static void probe_roundtrip(struct cql_client *cl, struct cql_settings st,
                            const char *ks)
{
    struct cql_prepared *ins = NULL;
    struct cql_client *ksc;
    char err[1024];

    if (probe_exec(cl, "create_keyspace",
                   "CREATE KEYSPACE IF NOT EXISTS \"%s\" WITH replication ="
                   " {'class': 'SimpleStrategy', 'replication_factor': 1}",
                   ks) ||
        probe_exec(cl, "drop_table", "DROP TABLE IF EXISTS \"%s\".rt", ks))
        return;
    st.keyspace = ks;
    ksc = cql_client_create(&st, err, sizeof(err));
    probe_check("client_with_keyspace", ksc != NULL, "%s", err);
    if (ksc == NULL || probe_exec(ksc, "create_table", "%s", rt_table))
        goto out;
    if (cql_client_prepare(ksc, rt_insert, &ins, err, sizeof(err)) != CQL_OK) {
        probe_check("prepare", 0, "%s", err);
        goto out;
    }
    probe_check("prepare_bind_markers", ins->nbind == 9, "%zu", ins->nbind);
    probe_typed(ksc, ins);
    if (probe_fill(ksc, ins) == CQL_OK) {
        probe_paging(ksc);
        probe_pipeline(ksc);
    }
    probe_batch(ksc, ins);
    probe_reprepare(ksc, ins);
    probe_decimals(ksc);
    probe_exec(ksc, "drop_table_after", "DROP TABLE rt");
out:
    cql_prepared_free(ins);
    cql_client_destroy(ksc);
}

static void usage(void)
{
    fprintf(stderr, "usage: cql_probe [-c host:port,...] [-u user]"
                    " [-p password] [-t timeout_ms] shell | roundtrip KS\n");
}

int main(int argc, char **argv)
{
    struct cql_settings st = {.contact_points = "127.0.0.1:9042",
                              .user = "cassandra",
                              .password = "cassandra"};
    struct cql_client *cl;
    char err[1024];
    int opt, rc = 2;

    while ((opt = getopt(argc, argv, "c:u:p:t:")) != -1) {
        if (opt == 'c')
            st.contact_points = optarg;
        else if (opt == 'u')
            st.user = optarg;
        else if (opt == 'p')
            st.password = optarg;
        else if (opt == 't')
            st.request_timeout_ms = atoi(optarg);
        else
            return usage(), 2;
    }
    cl = cql_client_create(&st, err, sizeof(err));
    if (cl == NULL) {
        fprintf(stderr, "cql_probe: %s\n", err);
        return 2;
    }
    if (optind < argc && strcmp(argv[optind], "shell") == 0)
        rc = probe_shell(cl);
    else if (optind + 1 < argc && strcmp(argv[optind], "roundtrip") == 0) {
        probe_roundtrip(cl, st, argv[optind + 1]);
        rc = probe_failed;
    } else
        usage();
    cql_client_destroy(cl);
    return rc;
}
