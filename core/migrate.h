/*
 * migrate.h - numbered schema migrations compiled into the binary
 *
 * sql/migrations/NNNN-description.sql are applied in order, each in its
 * own transaction together with its row in schema_migrations, under an
 * advisory lock so that concurrent migrators take turns.
 */
#ifndef CORE_MIGRATE_H
#define CORE_MIGRATE_H

#include <stdio.h>

#include <libpq-fe.h>

/* Apply what is pending; returns how many were applied, or -1 (logged). */
int migrate_apply(PGconn *);
/* Print each migration as "NNNN name applied TIME" or "... pending". */
int migrate_status(PGconn *, FILE *);
/*
 * For the daemons: connect to `conninfo', waiting while the database is
 * still starting (until SIGTERM), and apply pending migrations.
 * Returns 0, or -1 (logged, or a signal asked to stop).
 */
int migrate_wait_ready(const char *conninfo);
/* Number of migrations not applied yet, or -1 (logged). */
int migrate_pending(PGconn *);

#endif /* CORE_MIGRATE_H */
