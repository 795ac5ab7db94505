/*
 * db.c - libpq helpers (see db.h)
 *
 * SQL only through PQexecParams with parameters; each result cleared once.
 */
#include "core/db.h"

#include <stdlib.h>

#include "common/log.h"
#include "core/pgctl.h"

PGconn *
db_connect(const char *conninfo, bool quiet)
{
	const char *keys[] = {"dbname", "application_name",
	    "fallback_application_name", "connect_timeout", NULL};
	const char *vals[] = {conninfo, NULL, "tlsflow", "10", NULL};
	PGconn *db;

	db = PQconnectdbParams(keys, vals, 1);
	if (db == NULL || PQstatus(db) != CONNECTION_OK) {
		if (!quiet)
			log_warnx("db: connect: %s",
			    db ? PQerrorMessage(db) : "out of memory");
		PQfinish(db);
		return NULL;
	}
	/* Our own notices (IF NOT EXISTS ...) are not worth a log line. */
	PQclear(PQexec(db, "SET client_min_messages = warning"));
	return db;
}

PGconn *
db_connect_default(void)
{
	char *ci;
	PGconn *db;

	if ((ci = pgctl_conninfo(true)) == NULL)
		return NULL;
	db = db_connect(ci, false);
	free(ci);
	return db;
}

bool
db_exec(PGconn *db, const char *what, PGresult **resp, ExecStatusType want,
    const char *sql, int nparams, const char *const *params)
{
	PGresult *res;
	bool ok;

	res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == want;
	if (!ok)
		log_warnx("db: %s: %s", what, PQerrorMessage(db));
	if (resp != NULL)
		*resp = res;
	else
		PQclear(res);
	return ok;
}
