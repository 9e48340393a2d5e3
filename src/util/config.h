/* Settings from flags, environment and a config file, driven by tables. */
#ifndef ADTALLY_UTIL_CONFIG_H
#define ADTALLY_UTIL_CONFIG_H

#include <stddef.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_DOUBLE };

/* One setting. `name` is the flag (`--name`), the config-file key and, upper
 * cased with '-' as '_' and prefixed ADTALLY_, the environment variable. The
 * value lands at `off` in the role's settings struct as `const char *`,
 * `long long`, `int` (0/1) or `double`. */
struct cfg_opt {
    const char *name;
    enum cfg_type type;
    const char *def; /* default, as text; NULL: unset (strings stay NULL) */
    double min, max; /* bounds for numbers; both 0: unbounded */
    size_t off;
    const char *help;
};

#define CFG_END                                                                \
    {                                                                          \
        NULL, CFG_STR, NULL, 0, 0, 0, NULL                                     \
    }

struct cfg_kv {
    char *key; /* without the "kafka." prefix */
    char *val;
};

/* The settings every role shares (DESIGN §7). */
struct config {
    const char *kafka;
    const char *topic;
    const char *mysql;
    const char *cassandra;
    const char *keyspace;
    const char *cassandra_user;
    const char *cassandra_password;
    long long lake_replication;
    const char *tz;
    const char *config;
    const char *log_level;
    /* `kafka.*` settings passed straight to librdkafka. */
    struct cfg_kv *kafka_props;
    size_t n_kafka_props;
    /* Positional arguments, in order. */
    char **args;
    int nargs;
    /* Storage for every string above. */
    char **owned;
    size_t n_owned;
};

enum { CFG_OK = 0, CFG_HELP = 1, CFG_ERROR = -1 };

/* The role's identity for usage and help. */
struct cfg_role {
    const char *name;  /* "collect" */
    const char *usage; /* "[options] FILE..." */
    const char *about; /* one paragraph */
};

/* Fills `cfg` and the role's `settings` from, in rising precedence, the
 * defaults, the config file (--config or ADTALLY_CONFIG), the environment
 * and the flags in argv (argv[0] is the role name). Returns CFG_OK;
 * CFG_HELP after printing help on stdout for --help; or CFG_ERROR after
 * logging a message that names the bad setting and its source. On any
 * return, config_free(cfg) releases what was filled in. */
int config_load(struct config *cfg, const struct cfg_role *role,
                const struct cfg_opt *opts, void *settings, int argc,
                char **argv);

/* Releases the strings of a loaded config. NULL-safe. */
void config_free(struct config *cfg);

/* The name of the rejected topic: `<topic>.rejected`, in `out`. */
void config_rejected_topic(const struct config *cfg, char *out, size_t n);

#endif
