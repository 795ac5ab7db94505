/*
 * cmd_collect.c - "tlsflow collect [FILE...] [--once] [--from-start |
 * --from-end] [--format F] [--journal [--unit NAME...] [--identifier
 * TAG...]]": follow MTA logs into the store
 *
 * Without FILE arguments (and without --journal) the files of the
 * log_files setting are followed.  --journal reads the systemd journal
 * (journal_directory, else the local system journal) through journal.c.
 * Argument handling and the daemon's order of work (STYLE.md section 7);
 * the loop is collect.c.
 */
#include "core/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collect.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/pgctl.h"
#include "core/store.h"

static int
collect_usage(void)
{
	(void)fprintf(stderr,
	    "usage: tlsflow collect [-c FILE] [--once] [--from-start | "
	    "--from-end]\n"
	    "                       [--format auto|postfix|exim|sendmail|"
	    "opensmtpd]\n"
	    "                       [--journal [--unit NAME]... "
	    "[--identifier TAG]...]\n"
	    "                       [FILE... | -]\n");
	return 2;
}

int
cmd_collect(int argc, char **argv)
{
	static const struct option opts[] = {{"once", no_argument, NULL, 'o'},
	    {"from-start", no_argument, NULL, 's'},
	    {"from-end", no_argument, NULL, 'e'},
	    {"format", required_argument, NULL, 'f'},
	    {"journal", no_argument, NULL, 'j'},
	    {"unit", required_argument, NULL, 'u'},
	    {"identifier", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
	const char *units[JOURNAL_MATCH_MAX], *idents[JOURNAL_MATCH_MAX];
	struct journal_opts jo;
	bool journal = false;
	struct collect_opts co;
	struct collect *c = NULL;
	struct store *st = NULL;
	const char *fmt = cf_log_format;
	char *ci = NULL, *files = NULL, *f, *save;
	int ch, i, rc = 1;

	memset(&co, 0, sizeof(co));
	memset(&jo, 0, sizeof(jo));
	jo.units = units;
	jo.idents = idents;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			co.once = true;
			break;
		case 's':
			co.from_end = false;
			break;
		case 'e':
			co.from_end = true;
			break;
		case 'f':
			fmt = optarg;
			break;
		case 'j':
			journal = true;
			break;
		case 'u':
		case 't':
			if (jo.nunits + jo.nidents == JOURNAL_MATCH_MAX) {
				(void)fprintf(stderr,
				    "tlsflow: collect: more than %d --unit "
				    "and --identifier values\n",
				    JOURNAL_MATCH_MAX);
				return 2;
			}
			if (ch == 'u')
				units[jo.nunits++] = optarg;
			else
				idents[jo.nidents++] = optarg;
			break;
		default:
			return collect_usage();
		}
	}
	if (parser_format_lookup(fmt, &co.format) == -1) {
		(void)fprintf(stderr,
		    "tlsflow: collect: unknown format \"%s\"\n",
		    log_str(fmt, strlen(fmt)));
		return 2;
	}
	if (!journal && jo.nunits + jo.nidents > 0) {
		(void)fprintf(stderr, "tlsflow: collect: --unit and "
				      "--identifier need --journal\n");
		return 2;
	}
	daemon_catch_or_die();
	if ((ci = pgctl_conninfo(true)) == NULL)
		goto out;
	if (migrate_wait_ready(ci) == -1)
		goto out;
	st = store_open(ci, (size_t)cf_batch_size);
	c = collect_new(st, &co);
	jo.directory = cf_journal_directory;
	if (journal && collect_add_journal(c, &jo) == -1)
		goto out;
	if (optind < argc) {
		for (i = optind; i < argc; i++)
			if (collect_add(c, argv[i]) == -1)
				goto out;
	} else if (!journal) {
		files = xstrdup(cf_log_files);
		for (f = strtok_r(files, " \t,", &save); f != NULL;
		     f = strtok_r(NULL, " \t,", &save))
			if (collect_add(c, f) == -1)
				goto out;
	}
	log_info("collect: started (%s)", co.once ? "to the end of the "
						    "input"
						  : "following");
	rc = collect_run(c) == 0 ? 0 : 1;
	collect_log_counters(c);
out:
	collect_free(c);
	store_free(st);
	free(files);
	free(ci);
	return rc;
}
