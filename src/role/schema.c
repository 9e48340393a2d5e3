/* `adtally schema apply`: MySQL tables, Cassandra keyspace, Kafka topics. */
#include "role/schema.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "client/kafka.h"
#include "role/role.h"
#include "util/log.h"

struct schema_opts {
    long long partitions;
    long long rejected_partitions;
    const char *only;
};

static const struct cfg_opt schema_table[] = {
    {"partitions", CFG_INT, "6", 1, 1024,
     offsetof(struct schema_opts, partitions),
     "partitions of <topic>: the most process/archive members per group"},
    {"rejected-partitions", CFG_INT, "2", 1, 1024,
     offsetof(struct schema_opts, rejected_partitions),
     "partitions of <topic>.rejected"},
    {"only", CFG_STR, NULL, 0, 0, offsetof(struct schema_opts, only),
     "apply to one server only: mysql, cassandra or kafka"},
    CFG_END,
};

static const struct cfg_role schema_role = {
    "schema", "apply [options]",
    "Creates or migrates, for the names configured, the MySQL database and\n"
    "tables, the Cassandra keyspace and table, and the Kafka topics.\n"
    "Migrations are versioned; running it again is a no-op."};

static int schema_kafka_apply(const struct config *cfg,
                              const struct schema_opts *o, char *err,
                              size_t errlen)
{
    char rejected[300];

    config_rejected_topic(cfg, rejected, sizeof(rejected));
    if (kafka_topic_ensure(cfg->kafka, cfg->kafka_props, cfg->n_kafka_props,
                           cfg->topic, (int)o->partitions, err, errlen) ||
        kafka_topic_ensure(cfg->kafka, cfg->kafka_props, cfg->n_kafka_props,
                           rejected, (int)o->rejected_partitions, err, errlen))
        return -1;
    log_info("schema", "kafka: topics %s (%lld partitions) and %s ready",
             cfg->topic, o->partitions, rejected);
    return 0;
}

static int schema_wants(const struct schema_opts *o, const char *what)
{
    return o->only == NULL || strcmp(o->only, what) == 0;
}

int role_schema_main(int argc, char **argv)
{
    struct config cfg;
    struct schema_opts o = {0};
    char err[1024];
    int rc = 2;

    int lrc = config_load(&cfg, &schema_role, schema_table, &o, argc, argv);
    if (lrc != CFG_OK) {
        rc = lrc == CFG_HELP ? 0 : 2;
        goto out;
    }
    if (cfg.nargs != 1 || strcmp(cfg.args[0], "apply") != 0) {
        log_error("schema", "usage: adtally schema apply [options]");
        goto out;
    }
    if (o.only && !schema_wants(&o, "mysql") &&
        !schema_wants(&o, "cassandra") && !schema_wants(&o, "kafka")) {
        log_error("schema", "--only: '%s' is not mysql, cassandra or kafka",
                  o.only);
        goto out;
    }
    rc = 1;
    if (schema_wants(&o, "mysql") &&
        schema_mysql_apply(&cfg, err, sizeof(err))) {
        log_error("schema", "mysql %s: %s", cfg.mysql, err);
        goto out;
    }
    if (schema_wants(&o, "kafka") &&
        schema_kafka_apply(&cfg, &o, err, sizeof(err))) {
        log_error("schema", "kafka %s: %s", cfg.kafka, err);
        goto out;
    }
    if (schema_wants(&o, "cassandra") &&
        schema_cql_apply(&cfg, err, sizeof(err))) {
        log_error("schema", "cassandra %s: %s", cfg.cassandra, err);
        goto out;
    }
    rc = 0;
out:
    config_free(&cfg);
    return rc;
}
