/*
 * db.h - small libpq helpers shared by the store, migrations and commands
 */
#ifndef CORE_DB_H
#define CORE_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

/*
 * Connect; returns a new connection or NULL (logged as "db: ..." unless
 * `quiet').  The caller PQfinish()es it.
 */
PGconn *db_connect(const char *conninfo, bool quiet);
/* Connect to the configured database (private cluster started). */
PGconn *db_connect_default(void);
/*
 * Run a parameterised statement; true when its status is `want'.  The
 * result is returned through *res when res is not NULL (caller clears),
 * else cleared here.  Failures are logged with `what'.
 */
bool db_exec(PGconn *, const char *what, PGresult **res, ExecStatusType want,
    const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

#endif /* CORE_DB_H */
