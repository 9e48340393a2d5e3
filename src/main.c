/* adtally: one program, one sub-command per role. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "role/role.h"

struct role_entry {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *about;
};

static const struct role_entry roles[] = {
    {"schema", role_schema_main,
     "create or migrate the MySQL tables, Cassandra keyspace, Kafka topics"},
    {"dims", role_dims_main, "load the platform's dimension tables"},
    {"import", role_import_main,
     "validate files of events (CSV, NDJSON) and put them on Kafka"},
    {"process", role_process_main,
     "tally events from Kafka into hourly rows in MySQL, exactly once"},
    {"collect", role_collect_main,
     "serve the tracker over HTTP and put its events on Kafka"},
    {"simulate", role_simulate_main,
     "send realistic tracking traffic to a collector or to Kafka"},
    {"serve", role_serve_main, "serve the live dashboard and its JSON API"},
    {"archive", role_archive_main, "write events from Kafka to the raw lake"},
    {"lake", role_lake_main, "count, dump or purge hours of the raw lake"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: adtally COMMAND [options]\n\ncommands:\n");
    for (const struct role_entry *r = roles; r->name; r++)
        fprintf(f, "  %-10s %s\n", r->name, r->about);
    fprintf(f, "\n`adtally COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    /* A peer that goes away must be an error return, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    if (cmd == NULL) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    for (const struct role_entry *r = roles; r->name; r++) {
        if (strcmp(cmd, r->name) == 0)
            return r->main(argc - 1, argv + 1);
    }
    fprintf(stderr, "adtally: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
