/* Table-driven settings: defaults < config file < environment < flags. */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define COMMON(f) offsetof(struct config, f)

static const struct cfg_opt common_opts[] = {
    {"kafka", CFG_STR, "127.0.0.1:9092", 0, 0, COMMON(kafka),
     "Kafka bootstrap servers"},
    {"topic", CFG_STR, "tracking", 0, 0, COMMON(topic),
     "event topic; rejects go to <topic>.rejected"},
    {"mysql", CFG_STR, "mysql://root@127.0.0.1:3306/adtally", 0, 0,
     COMMON(mysql), "MySQL/MariaDB URL mysql://user[:pass]@host:port/db"},
    {"cassandra", CFG_STR, "127.0.0.1:9042", 0, 0, COMMON(cassandra),
     "Cassandra contact points host:port[,host:port]"},
    {"keyspace", CFG_STR, "adtally", 0, 0, COMMON(keyspace),
     "Cassandra keyspace of the raw lake"},
    {"cassandra-user", CFG_STR, "cassandra", 0, 0, COMMON(cassandra_user),
     "Cassandra user (PasswordAuthenticator)"},
    {"cassandra-password", CFG_STR, "cassandra", 0, 0,
     COMMON(cassandra_password), "Cassandra password (never logged)"},
    {"lake-replication", CFG_INT, "1", 1, 15, COMMON(lake_replication),
     "replication factor of the keyspace when schema apply creates it"},
    {"tz", CFG_STR, "UTC", 0, 0, COMMON(tz),
     "reporting time zone of dates/hours (IANA name)"},
    {"config", CFG_STR, NULL, 0, 0, COMMON(config),
     "config file of `name = value` lines"},
    {"log-level", CFG_STR, "info", 0, 0, COMMON(log_level),
     "debug, info, warn or error"},
    CFG_END,
};

/* Where a value came from, for error messages. */
struct cfg_val {
    const char *text;
    char where[160];
};

struct cfg_ctx {
    struct config *cfg;
    const struct cfg_opt *tabs[2];
    void *bases[2];
    size_t counts[2];
    struct cfg_val *vals; /* common first, then the role's */
};

static char *cfg_keep(struct config *cfg, const char *s, size_t n)
{
    char **owned = realloc(cfg->owned, (cfg->n_owned + 1) * sizeof(char *));
    char *p;

    if (owned == NULL)
        return NULL;
    cfg->owned = owned;
    p = strndup(s, n);
    if (p != NULL)
        cfg->owned[cfg->n_owned++] = p;
    return p;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_owned; i++)
        free(cfg->owned[i]);
    free(cfg->owned);
    free(cfg->kafka_props);
    free(cfg->args);
    memset(cfg, 0, sizeof(*cfg));
}

void config_rejected_topic(const struct config *cfg, char *out, size_t n)
{
    snprintf(out, n, "%s.rejected", cfg->topic);
}

static size_t cfg_count(const struct cfg_opt *t)
{
    size_t n = 0;

    while (t && t[n].name)
        n++;
    return n;
}

/* Index into ctx->vals of the option named `name` (n bytes), or -1. */
static long cfg_find(const struct cfg_ctx *ctx, const char *name, size_t n)
{
    size_t base = 0;

    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < ctx->counts[t]; i++) {
            const char *o = ctx->tabs[t][i].name;
            if (strlen(o) == n && strncmp(o, name, n) == 0)
                return (long)(base + i);
        }
        base += ctx->counts[t];
    }
    return -1;
}

static const struct cfg_opt *cfg_opt_at(const struct cfg_ctx *ctx, size_t i,
                                        void **base)
{
    if (i < ctx->counts[0]) {
        *base = ctx->bases[0];
        return &ctx->tabs[0][i];
    }
    *base = ctx->bases[1];
    return &ctx->tabs[1][i - ctx->counts[0]];
}

static int cfg_add_kafka(struct config *cfg, const char *key, size_t klen,
                         const char *val)
{
    struct cfg_kv *kv;

    kv = realloc(cfg->kafka_props,
                 (cfg->n_kafka_props + 1) * sizeof(*cfg->kafka_props));
    if (kv == NULL)
        return -1;
    cfg->kafka_props = kv;
    kv = &kv[cfg->n_kafka_props];
    kv->key = cfg_keep(cfg, key, klen);
    kv->val = cfg_keep(cfg, val, strlen(val));
    if (kv->key == NULL || kv->val == NULL)
        return -1;
    cfg->n_kafka_props++;
    return 0;
}

/* Sets option `name` to `val` from `where`; `kafka.*` passes through. */
static int cfg_set(struct cfg_ctx *ctx, const char *name, size_t n,
                   const char *val, const char *where)
{
    long i;

    if (n > 6 && strncmp(name, "kafka.", 6) == 0)
        return cfg_add_kafka(ctx->cfg, name + 6, n - 6, val);
    i = cfg_find(ctx, name, n);
    if (i < 0) {
        log_error("config", "%s: unknown setting '%.*s'", where, (int)n, name);
        return -1;
    }
    ctx->vals[i].text = cfg_keep(ctx->cfg, val, strlen(val));
    snprintf(ctx->vals[i].where, sizeof(ctx->vals[i].where), "%s", where);
    return ctx->vals[i].text ? 0 : -1;
}

static char *cfg_trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int cfg_read_file(struct cfg_ctx *ctx, const char *path)
{
    char line[4096], where[160];
    FILE *f = fopen(path, "r");
    int lineno = 0, rc = 0;

    if (f == NULL) {
        log_error("config", "cannot open config file %s: %s", path,
                  strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *s = cfg_trim(line), *eq;

        lineno++;
        if (*s == '\0' || *s == '#')
            continue;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        eq = strchr(s, '=');
        if (eq == NULL) {
            log_error("config", "%s: expected 'name = value'", where);
            rc = -1;
            break;
        }
        *eq = '\0';
        s = cfg_trim(s);
        rc = cfg_set(ctx, s, strlen(s), cfg_trim(eq + 1), where);
    }
    fclose(f);
    return rc;
}

static void cfg_env_name(const char *name, char *out, size_t n)
{
    size_t j = (size_t)snprintf(out, n, "ADTALLY_");

    for (; *name && j + 1 < n; name++)
        out[j++] = *name == '-' || *name == '.' ? '_' : (char)toupper(*name);
    out[j] = '\0';
}

static void cfg_read_env(struct cfg_ctx *ctx)
{
    size_t total = ctx->counts[0] + ctx->counts[1];

    for (size_t i = 0; i < total; i++) {
        void *base;
        const struct cfg_opt *o = cfg_opt_at(ctx, i, &base);
        char env[96];
        const char *v;

        cfg_env_name(o->name, env, sizeof(env));
        v = getenv(env);
        if (v != NULL && strcmp(o->name, "config") != 0)
            cfg_set(ctx, o->name, strlen(o->name), v, env);
    }
}

static int cfg_is_bool(const struct cfg_ctx *ctx, const char *name, size_t n)
{
    long i = cfg_find(ctx, name, n);
    void *base;

    return i >= 0 && cfg_opt_at(ctx, (size_t)i, &base)->type == CFG_BOOL;
}

/* Applies argv's flags and collects its positional arguments. */
static int cfg_read_flags(struct cfg_ctx *ctx, int argc, char **argv)
{
    struct config *cfg = ctx->cfg;
    int only_args = 0;

    cfg->args = calloc((size_t)argc + 1, sizeof(char *));
    if (cfg->args == NULL)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *name, *eq, *val;
        char where[96];
        size_t n;

        if (only_args || a[0] != '-' || a[1] != '-' || a[2] == '\0') {
            if (!only_args && strcmp(a, "--") == 0) {
                only_args = 1;
                continue;
            }
            cfg->args[cfg->nargs++] = argv[i];
            continue;
        }
        name = a + 2;
        eq = strchr(name, '=');
        n = eq ? (size_t)(eq - name) : strlen(name);
        snprintf(where, sizeof(where), "--%.*s", (int)n, name);
        if (eq != NULL)
            val = eq + 1;
        else if (cfg_is_bool(ctx, name, n))
            val = "true";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            log_error("config", "%s: needs a value", where);
            return -1;
        }
        if (cfg_set(ctx, name, n, val, where) != 0)
            return -1;
    }
    return 0;
}

static int cfg_parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* Converts one value into the settings struct, checking type and bounds. */
static int cfg_store(const struct cfg_opt *o, void *base,
                     const struct cfg_val *v)
{
    char *p = (char *)base + o->off, *end;
    double d;

    if (o->type == CFG_STR) {
        *(const char **)p = v->text;
        return 0;
    }
    if (v->text == NULL)
        return 0;
    if (o->type == CFG_BOOL) {
        if (cfg_parse_bool(v->text, (int *)p) == 0)
            return 0;
        log_error("config", "%s: '%s' is not true or false", v->where, v->text);
        return -1;
    }
    errno = 0;
    d = strtod(v->text, &end);
    if (errno || end == v->text || *end != '\0' || !isfinite(d) ||
        (o->type == CFG_INT && d != floor(d))) {
        log_error("config", "%s: '%s' is not %s", v->where, v->text,
                  o->type == CFG_INT ? "an integer" : "a number");
        return -1;
    }
    if ((o->min != 0 || o->max != 0) && (d < o->min || d > o->max)) {
        log_error("config", "%s: %s is outside %g..%g", v->where, v->text,
                  o->min, o->max);
        return -1;
    }
    if (o->type == CFG_INT)
        *(long long *)p = (long long)d;
    else
        *(double *)p = d;
    return 0;
}

static void cfg_help_table(const struct cfg_opt *t)
{
    for (; t && t->name; t++) {
        char flag[64], env[96];

        snprintf(flag, sizeof(flag), "--%s%s", t->name,
                 t->type == CFG_BOOL ? "" : " V");
        cfg_env_name(t->name, env, sizeof(env));
        printf("  %-24s %s\n", flag, t->help);
        printf("  %-24s env %s%s%s\n", "", env, t->def ? ", default " : "",
               t->def ? t->def : "");
    }
}

static void cfg_help(const struct cfg_role *role, const struct cfg_opt *opts)
{
    printf("usage: adtally %s %s\n\n%s\n", role->name, role->usage,
           role->about);
    if (opts && opts->name) {
        printf("\noptions:\n");
        cfg_help_table(opts);
    }
    printf("\ncommon options (flag > environment > config file):\n");
    cfg_help_table(common_opts);
    printf("  %-24s passed to librdkafka, e.g. --kafka.linger.ms=5\n",
           "--kafka.NAME V");
}

static int cfg_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    }
    return 0;
}

/* The config file named by --config (flag) or ADTALLY_CONFIG. */
static const char *cfg_file_path(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
    }
    return getenv("ADTALLY_CONFIG");
}

int config_load(struct config *cfg, const struct cfg_role *role,
                const struct cfg_opt *opts, void *settings, int argc,
                char **argv)
{
    struct cfg_ctx ctx = {cfg,
                          {common_opts, opts},
                          {cfg, settings},
                          {cfg_count(common_opts), cfg_count(opts)},
                          NULL};
    size_t total = ctx.counts[0] + ctx.counts[1];
    const char *file;
    enum log_level lvl;
    int rc = CFG_ERROR;

    memset(cfg, 0, sizeof(*cfg));
    if (cfg_wants_help(argc, argv)) {
        cfg_help(role, opts);
        return CFG_HELP;
    }
    ctx.vals = calloc(total, sizeof(*ctx.vals));
    if (ctx.vals == NULL)
        return CFG_ERROR;
    for (size_t i = 0; i < total; i++) {
        void *base;
        const struct cfg_opt *o = cfg_opt_at(&ctx, i, &base);

        ctx.vals[i].text = o->def;
        snprintf(ctx.vals[i].where, sizeof(ctx.vals[i].where), "default of %s",
                 o->name);
    }
    file = cfg_file_path(argc, argv);
    if (file && cfg_read_file(&ctx, file) != 0)
        goto out;
    cfg_read_env(&ctx);
    if (cfg_read_flags(&ctx, argc, argv) != 0)
        goto out;
    for (size_t i = 0; i < total; i++) {
        void *base;
        const struct cfg_opt *o = cfg_opt_at(&ctx, i, &base);

        if (cfg_store(o, base, &ctx.vals[i]) != 0)
            goto out;
    }
    if (log_level_parse(cfg->log_level, &lvl) != 0) {
        log_error("config",
                  "log-level: '%s' is not debug, info, warn or "
                  "error",
                  cfg->log_level);
        goto out;
    }
    log_set_level(lvl);
    rc = CFG_OK;
out:
    free(ctx.vals);
    return rc;
}
