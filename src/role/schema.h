/* `adtally schema apply`: each server's part of the schema. */
#ifndef ADTALLY_ROLE_SCHEMA_H
#define ADTALLY_ROLE_SCHEMA_H

#include <stddef.h>

#include "util/config.h"

/* Each creates or migrates its server's schema for the names configured;
 * re-running is a no-op. Returns 0, or -1 with the reason in err. */
int schema_mysql_apply(const struct config *cfg, char *err, size_t errlen);
int schema_cql_apply(const struct config *cfg, char *err, size_t errlen);

#endif
