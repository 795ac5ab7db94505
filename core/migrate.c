/*
 * migrate.c - apply the embedded migrations (see migrate.h)
 *
 * The SQL texts are constants built into the binary from sql/migrations,
 * so PQexec() of a whole multi-statement file is safe here: nothing in it
 * comes from input.
 */
#include "core/migrate.h"

#include <stdlib.h>
#include <string.h>

#include "common/daemon.h"
#include "common/embed.h"
#include "common/log.h"
#include "common/scan.h"
#include "core/db.h"

extern const struct embed_file migrations[];

#define MIGRATE_LOCK "hashtext('tlsflow_migrate')"

static int
ensure_table(PGconn *db)
{
	return db_exec(db, "schema_migrations", NULL, PGRES_COMMAND_OK,
		   "CREATE TABLE IF NOT EXISTS schema_migrations ("
		   " version integer PRIMARY KEY,"
		   " name text NOT NULL,"
		   " applied timestamptz NOT NULL DEFAULT now())",
		   0, NULL)
		   ? 0
		   : -1;
}

/* The leading number of "0001-x.sql", or of a version column's text. */
static int
version_of(const char *name)
{
	const char *p = name;
	uint64_t v;

	if (scan_uint(&p, name + strlen(name), 999999, &v) == -1)
		return -1;
	return (int)v;
}

static int
applied(PGconn *db, int version)
{
	char v[16];
	const char *params[1] = {v};
	PGresult *res;
	int rc;

	(void)snprintf(v, sizeof(v), "%d", version);
	if (!db_exec(db, "schema_migrations", &res, PGRES_TUPLES_OK,
		"SELECT 1 FROM schema_migrations WHERE version = $1", 1,
		params)) {
		PQclear(res);
		return -1;
	}
	rc = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

static int
apply_one(PGconn *db, const struct embed_file *m)
{
	char v[16];
	const char *params[2] = {v, m->name};
	PGresult *res;
	int done;

	(void)snprintf(v, sizeof(v), "%d", version_of(m->name));
	if (!db_exec(db, "begin", NULL, PGRES_COMMAND_OK, "BEGIN", 0, NULL))
		return -1;
	if (!db_exec(db, "lock", NULL, PGRES_TUPLES_OK,
		"SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", 0, NULL))
		goto fail;
	/* Another migrator may have applied it while we waited. */
	if ((done = applied(db, version_of(m->name))) == -1)
		goto fail;
	if (done) {
		PQclear(PQexec(db, "ROLLBACK"));
		return 0;
	}
	res = PQexec(db, (const char *)m->data);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("migrate: %s: %s", m->name, PQerrorMessage(db));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (!db_exec(db, "record migration", NULL, PGRES_COMMAND_OK,
		"INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
		2, params) ||
	    !db_exec(db, "commit", NULL, PGRES_COMMAND_OK, "COMMIT", 0, NULL))
		goto fail;
	log_info("migrate: applied %s", m->name);
	return 1;
fail:
	PQclear(PQexec(db, "ROLLBACK"));
	return -1;
}

int
migrate_apply(PGconn *db)
{
	const struct embed_file *m;
	int n = 0, r;

	if (ensure_table(db) == -1)
		return -1;
	for (m = migrations; m->name != NULL; m++) {
		if ((r = applied(db, version_of(m->name))) == -1)
			return -1;
		if (r)
			continue;
		if ((r = apply_one(db, m)) == -1)
			return -1;
		n += r;
	}
	return n;
}

int
migrate_pending(PGconn *db)
{
	const struct embed_file *m;
	int n = 0, r;

	if (ensure_table(db) == -1)
		return -1;
	for (m = migrations; m->name != NULL; m++) {
		if ((r = applied(db, version_of(m->name))) == -1)
			return -1;
		n += !r;
	}
	return n;
}

int
migrate_status(PGconn *db, FILE *fp)
{
	const struct embed_file *m;
	PGresult *res;
	int i, n, found;

	if (ensure_table(db) == -1)
		return -1;
	if (!db_exec(db, "schema_migrations", &res, PGRES_TUPLES_OK,
		"SELECT version, name, to_char(applied AT TIME ZONE 'UTC',"
		" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		" FROM schema_migrations ORDER BY version",
		0, NULL)) {
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	for (m = migrations; m->name != NULL; m++) {
		found = -1;
		for (i = 0; i < n; i++)
			if (version_of(PQgetvalue(res, i, 0)) ==
			    version_of(m->name))
				found = i;
		if (found >= 0)
			(void)fprintf(fp, "%-40s applied %s\n", m->name,
			    PQgetvalue(res, found, 2));
		else
			(void)fprintf(fp, "%-40s pending\n", m->name);
	}
	/* Versions applied by a newer tlsflow than this one. */
	for (i = 0; i < n; i++) {
		int v = version_of(PQgetvalue(res, i, 0));

		for (m = migrations; m->name != NULL; m++)
			if (version_of(m->name) == v)
				break;
		if (m->name == NULL)
			(void)fprintf(fp,
			    "%-40s applied %s (unknown to this "
			    "version of tlsflow)\n",
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return 0;
}

int
migrate_wait_ready(const char *conninfo)
{
	PGconn *db;
	int n;

	while ((db = db_connect(conninfo, false)) == NULL) {
		if (sig_term)
			return -1;
		daemon_sleep_ms(2000);
	}
	n = migrate_pending(db);
	if (n > 0)
		n = migrate_apply(db) < 0 ? -1 : 0;
	PQfinish(db);
	return n;
}
