/* The MySQL side of `adtally schema apply`: versioned migrations. */
#include "role/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mysql.h"
#include "util/log.h"

/* Each migration runs once, in order; its number is recorded in
 * schema_migrations. Append new ones, never edit applied ones. */
static const char *const migration_1[] = {
    "CREATE TABLE IF NOT EXISTS events ("
    " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " job_id INT NOT NULL,"
    " dates DATE NOT NULL,"
    " hours TINYINT NOT NULL,"
    " publisher_id INT NOT NULL,"
    " campaign_id INT NOT NULL,"
    " group_id INT NOT NULL,"
    " company_id INT NULL,"
    " impressions BIGINT NOT NULL DEFAULT 0,"
    " clicks BIGINT NOT NULL DEFAULT 0,"
    " conversion BIGINT NOT NULL DEFAULT 0,"
    " qualified_application BIGINT NOT NULL DEFAULT 0,"
    " disqualified_application BIGINT NOT NULL DEFAULT 0,"
    " spend_hour DECIMAL(22,4) NOT NULL DEFAULT 0,"
    " bid_set DECIMAL(22,4) NULL,"
    " sources VARCHAR(16) NOT NULL,"
    " latest_update_time DATETIME(3) NOT NULL,"
    " UNIQUE KEY events_key (job_id, dates, hours, publisher_id,"
    "  campaign_id, group_id),"
    " KEY events_hour (dates, hours)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS job ("
    " id INT NOT NULL PRIMARY KEY,"
    " company_id INT NULL, campaign_id INT NULL, group_id INT NULL,"
    " title VARCHAR(512) NULL, budget DECIMAL(22,4) NULL,"
    " status INT NULL, is_active TINYINT NULL,"
    " created_date DATETIME(6) NULL, last_modified_date DATETIME(6) NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS campaign ("
    " id INT NOT NULL PRIMARY KEY,"
    " company_id INT NULL, campaign_name VARCHAR(512) NULL,"
    " budget_total DECIMAL(22,4) NULL, unit_budget VARCHAR(16) NULL,"
    " pacing_unit VARCHAR(32) NULL, campaign_status INT NULL,"
    " is_active TINYINT NULL,"
    " start_date DATETIME(6) NULL, end_date DATETIME(6) NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS company ("
    " id INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(512) NULL, is_active TINYINT NULL, status INT NULL,"
    " publisher_id INT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS job_group ("
    " id INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(512) NULL, budget_group DECIMAL(22,4) NULL,"
    " status INT NULL, is_active TINYINT NULL,"
    " company_id INT NULL, campaign_id INT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS publisher ("
    " id INT NOT NULL PRIMARY KEY,"
    " publisher_name VARCHAR(512) NULL, is_active TINYINT NULL,"
    " publisher_status INT NULL, time_zone VARCHAR(64) NULL,"
    " min_bid DECIMAL(22,4) NULL, max_bid DECIMAL(22,4) NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    /* Offsets that `process` consumed, committed with its tallies. */
    "CREATE TABLE IF NOT EXISTS kafka_offsets ("
    " consumer_group VARCHAR(255) NOT NULL,"
    " topic VARCHAR(255) NOT NULL,"
    " partition_id INT NOT NULL,"
    " next_offset BIGINT NOT NULL,"
    " updated_at DATETIME(3) NOT NULL,"
    " PRIMARY KEY (consumer_group, topic, partition_id)"
    ") ENGINE=InnoDB",
    /* Content fingerprints of imported files, per topic. */
    "CREATE TABLE IF NOT EXISTS imports ("
    " topic VARCHAR(255) NOT NULL,"
    " sha256 CHAR(64) NOT NULL,"
    " file_name VARCHAR(1024) NOT NULL,"
    " bytes BIGINT NOT NULL,"
    " accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,"
    " imported_at DATETIME(3) NOT NULL,"
    " PRIMARY KEY (topic, sha256)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    NULL,
};

static const char *const *const migrations[] = {migration_1};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int schema_row_max(void *ctx, int ncols, char **vals)
{
    (void)ncols;
    *(int *)ctx = vals[0] ? (int)strtol(vals[0], NULL, 10) : 0;
    return 0;
}

/* Creates the database when missing and connects to it. */
static struct db *schema_mysql_open(const char *url, char *err, size_t errlen)
{
    struct db_url u;
    struct db *db;
    char sql[160];

    if (db_url_parse(url, &u, err, errlen) != 0)
        return NULL;
    if (u.database[0] == '\0') {
        snprintf(err, errlen, "the mysql URL names no database");
        return NULL;
    }
    if (strspn(u.database,
               "abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(u.database)) {
        snprintf(err, errlen,
                 "database name '%s': only letters, digits "
                 "and _ are allowed",
                 u.database);
        return NULL;
    }
    db = db_connect(&u, 0, 5, err, errlen);
    if (db == NULL)
        return NULL;
    /* A name cannot be a bound value; it was checked above. */
    snprintf(sql, sizeof(sql),
             "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4",
             u.database);
    if (db_exec(db, sql, err, errlen) != 0)
        goto fail;
    snprintf(sql, sizeof(sql), "USE `%s`", u.database);
    if (db_exec(db, sql, err, errlen) != 0)
        goto fail;
    return db;
fail:
    db_close(db);
    return NULL;
}

static int schema_mysql_step(struct db *db, int version, char *err,
                             size_t errlen)
{
    struct db_val v = DB_INT(version);

    for (const char *const *s = migrations[version - 1]; *s; s++) {
        if (db_exec(db, *s, err, errlen) != 0)
            return -1;
    }
    if (db_query(db,
                 "INSERT INTO schema_migrations (version, applied_at)"
                 " VALUES (?, UTC_TIMESTAMP(3))",
                 &v, 1, NULL, NULL, err, errlen) < 0)
        return -1;
    log_info("schema", "mysql: applied migration %d", version);
    return 0;
}

int schema_mysql_apply(const struct config *cfg, char *err, size_t errlen)
{
    struct db *db = schema_mysql_open(cfg->mysql, err, errlen);
    int have = 0, rc = -1;

    if (db == NULL)
        return -1;
    if (db_exec(db,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INT NOT NULL PRIMARY KEY,"
                " applied_at DATETIME(3) NOT NULL) ENGINE=InnoDB",
                err, errlen) != 0)
        goto out;
    if (db_query(db,
                 "SELECT COALESCE(MAX(version), 0) FROM "
                 "schema_migrations",
                 NULL, 0, schema_row_max, &have, err, errlen) < 0)
        goto out;
    if (have > NMIGRATIONS) {
        snprintf(err, errlen,
                 "mysql schema is at version %d, newer than "
                 "this adtally (%d)",
                 have, NMIGRATIONS);
        goto out;
    }
    for (int v = have + 1; v <= NMIGRATIONS; v++) {
        if (schema_mysql_step(db, v, err, errlen) != 0)
            goto out;
    }
    log_info("schema", "mysql: at version %d", NMIGRATIONS);
    rc = 0;
out:
    db_close(db);
    return rc;
}
