/*
 * main.c - the tlsflow dispatcher: argv[1] -> cmd_<name>()
 *
 * Shared options (-c FILE, -v, --key=value) are taken out of argv and the
 * configuration is loaded before the command runs, so every command sees
 * the same cf_* values and reports configuration errors the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "core/cmd.h"
#include "core/config.h"

#ifndef TLSFLOW_VERSION
#define TLSFLOW_VERSION "unknown"
#endif

static int cmd_help(int, char **);
static int cmd_check_config(int, char **);

struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *synopsis;
};

/* clang-format off */
static const struct command commands[] = {
	{"collect", cmd_collect,
	    "collect [FILE...|-] [--once] [--from-start|--from-end] [--format F]"},
	{"parse", cmd_parse, "parse [--format F] [--stats] [FILE...]"},
	{"sniff", cmd_sniff, "sniff [-i IFACE | -r FILE] [--json]"},
	{"report", cmd_report,
	    "report [--date D] [--domain D] [--dry-run | --out DIR | --send]"},
	{"serve", cmd_serve, "serve [--listen ADDR:PORT]"},
	{"db", cmd_db, "db migrate|status|prune|start|stop"},
	{"check-config", cmd_check_config, "check-config (or -t)"},
	{"help", cmd_help, "help"},
	{NULL, NULL, NULL}
};
/* clang-format on */

static void
usage(FILE *fp)
{
	const struct command *c;

	(void)fprintf(fp, "usage: tlsflow COMMAND [-c FILE] [-v] "
			  "[--key=value ...] [ARGS]\n\ncommands:\n");
	for (c = commands; c->name != NULL; c++)
		(void)fprintf(fp, "  tlsflow %s\n", c->synopsis);
	(void)fprintf(fp, "  tlsflow --version\n\n"
			  "Every configuration key is also a --key=value "
			  "option; see tlsflow(8) and tlsflow.conf(5).\n");
}

static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

static int
cmd_check_config(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	/* Loading already validated every key and value. */
	(void)printf("%s: configuration ok\n",
	    config_path() ? config_path() : "(defaults)");
	return 0;
}

int
main(int argc, char **argv)
{
	const struct command *c;
	const char *name;
	int rc;

	log_init("tlsflow", true);
	json_set_alloc_funcs(xmalloc, free);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	name = argv[1];
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		(void)printf("tlsflow %s\n", TLSFLOW_VERSION);
		return 0;
	}
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
		name = "help";
	if (strcmp(name, "-t") == 0)
		name = "check-config";
	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			break;
	if (c->name == NULL) {
		(void)fprintf(stderr, "tlsflow: unknown command \"%s\"\n",
		    log_str(name, strlen(name)));
		usage(stderr);
		return 2;
	}
	argv++;
	argc--;
	if (config_args(&argc, argv) == -1)
		return 2;
	config_load_or_die();
	rc = c->fn(argc, argv);
	config_free();
	return rc;
}
