/*
 * cmd_db.c - "tlsflow db migrate|status|prune|start|stop"
 *
 * Argument handling only; the work is in migrate.c and pgctl.c.
 */
#include "core/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/log.h"
#include "common/scan.h"
#include "core/config.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/pgctl.h"

static int
usage(void)
{
	(void)fprintf(stderr,
	    "usage: tlsflow db migrate|status|start|stop [-c FILE]\n"
	    "       tlsflow db prune [--days N] [-c FILE]\n");
	return 2;
}

static int
db_prune(PGconn *db, uint64_t days)
{
	char d[24];
	const char *params[1] = {d};
	PGresult *res;

	(void)snprintf(d, sizeof(d), "%llu", (unsigned long long)days);
	if (!db_exec(db, "prune", &res, PGRES_TUPLES_OK,
		"SELECT tlsflow_prune((now() AT TIME ZONE 'UTC')::date"
		" - $1::integer)",
		1, params)) {
		PQclear(res);
		return 1;
	}
	log_info("db: pruned %s daily session partitions older than %llu "
		 "days (rollups kept)",
	    PQgetvalue(res, 0, 0), (unsigned long long)days);
	PQclear(res);
	return 0;
}

int
cmd_db(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"days", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
	const char *sub;
	uint64_t days = 90;
	PGconn *db;
	int c, n, rc = 1;

	if (argc < 2)
		return usage();
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'n')
			return usage();
		if (scan_u64_str(optarg, 100000, &days) == -1 || days < 1) {
			(void)fprintf(stderr, "tlsflow: --days: not a number "
					      "of days\n");
			return 2;
		}
	}
	if (optind != argc)
		return usage();
	if (strcmp(sub, "stop") == 0)
		return pgctl_stop() == 0 ? 0 : 1;
	if (strcmp(sub, "migrate") != 0 && strcmp(sub, "status") != 0 &&
	    strcmp(sub, "prune") != 0 && strcmp(sub, "start") != 0)
		return usage();
	if ((db = db_connect_default()) == NULL)
		return 1;
	if (strcmp(sub, "start") == 0) {
		rc = 0;
	} else if (strcmp(sub, "migrate") == 0) {
		if ((n = migrate_apply(db)) >= 0) {
			(void)printf(
			    "applied %d migration%s\n", n, n == 1 ? "" : "s");
			rc = 0;
		}
	} else if (strcmp(sub, "status") == 0) {
		rc = migrate_status(db, stdout) == 0 ? 0 : 1;
	} else {
		rc = db_prune(db, days);
	}
	PQfinish(db);
	return rc;
}
