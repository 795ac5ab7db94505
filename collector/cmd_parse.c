/*
 * cmd_parse.c - "tlsflow parse [--format F] [FILE...]": events as JSON
 * lines on standard output, no database (DESIGN.md section 3)
 *
 * Each FILE ("-" or none: standard input) gets its own parser, so
 * sessions never join across files.  Counters go to stderr with -v.
 */
#include "core/cmd.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/lineread.h"
#include "common/log.h"
#include "common/scan.h"
#include "core/config.h"
#include "parsers/parser.h"

static int
parse_usage(void)
{
	(void)fprintf(stderr,
	    "usage: tlsflow parse [--format "
	    "auto|postfix|exim|sendmail|opensmtpd] "
	    "[--year YYYY] [--stats] [--summary] [FILE...]\n");
	return 2;
}

/* --summary: sessions and messages per direction and TLS state. */
struct parse_tally {
	uint64_t sessions[EV_DIR_SUBMISSION + 1][EV_TLS_FAILED + 1];
	uint64_t messages[EV_DIR_SUBMISSION + 1][EV_TLS_FAILED + 1];
};

static void
print_ready(struct parser *p, FILE *out, struct parse_tally *t)
{
	const struct tls_event *ev;

	for (; (ev = parser_peek(p)) != NULL; parser_pop(p)) {
		if (t != NULL) {
			t->sessions[ev->dir][ev->tls]++;
			t->messages[ev->dir][ev->tls] += ev->messages;
		} else if (event_print(ev, out) == -1)
			fatal("parse: write");
	}
}

static void
print_tally(const struct parse_tally *t)
{
	static const enum ev_tls order[] = {
	    EV_TLS_OK, EV_TLS_PLAIN, EV_TLS_FAILED, EV_TLS_UNKNOWN};
	uint64_t known, total;
	int d;
	size_t k;

	(void)printf("%-11s %10s %10s %10s %10s %10s %9s\n", "direction", "tls",
	    "plaintext", "failed", "unknown", "messages", "encrypted");
	for (d = EV_DIR_OUT; d <= EV_DIR_SUBMISSION; d++) {
		known = t->sessions[d][EV_TLS_OK] +
			t->sessions[d][EV_TLS_PLAIN] +
			t->sessions[d][EV_TLS_FAILED];
		total = 0;
		for (k = 0; k < 4; k++)
			total += t->messages[d][order[k]];
		(void)printf("%-11s", ev_dir_name((enum ev_dir)d));
		for (k = 0; k < 4; k++)
			(void)printf(" %10llu",
			    (unsigned long long)t->sessions[d][order[k]]);
		/* The encrypted share leaves "unknown" out (DESIGN.md 2). */
		if (known > 0)
			(void)printf(" %10llu %8.1f%%\n",
			    (unsigned long long)total,
			    100.0 * (double)t->sessions[d][EV_TLS_OK] /
				(double)known);
		else
			(void)printf(
			    " %10llu %9s\n", (unsigned long long)total, "-");
	}
}

static void
log_stats(const char *name, const struct parser_stats *s)
{
	log_info("parse: %s: %llu lines, %llu events, %llu other programs, "
		 "%llu unused, %llu malformed, %llu cut, %llu bad times, "
		 "%llu evicted, %llu expired",
	    name, (unsigned long long)s->lines, (unsigned long long)s->events,
	    (unsigned long long)s->other, (unsigned long long)s->unused,
	    (unsigned long long)s->malformed, (unsigned long long)s->truncated,
	    (unsigned long long)s->badtime, (unsigned long long)s->evicted,
	    (unsigned long long)s->expired);
}

static int
parse_fd(int fd, const char *name, enum parser_format fmt, int year,
    bool verbose, struct parse_tally *tally)
{
	struct parser_opts po = {0};
	struct parser_stats st;
	struct lineread *lr;
	struct parser *p;
	struct stat sb;
	const char *line;
	size_t len;
	int64_t off;
	bool cut;
	enum lr_rc rc;

	po.format = fmt;
	po.year = year;
	po.origin = name;
	po.host = config_hostname();
	po.ref_time_us = (int64_t)time(NULL) * 1000000;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		po.ref_time_us = (int64_t)sb.st_mtime * 1000000;
	p = parser_new(&po);
	lr = lineread_new(fd, 0);
	lineread_set_final(lr, true);
	while ((rc = lineread_next(lr, &line, &len, &off, &cut)) == LR_LINE) {
		if (cut)
			parser_note_truncated(p);
		(void)parser_line(p, line, len, off);
		print_ready(p, stdout, tally);
	}
	parser_finish(p);
	print_ready(p, stdout, tally);
	parser_get_stats(p, &st);
	if (verbose)
		log_stats(name, &st);
	lineread_free(lr);
	parser_free(p);
	return rc == LR_ERR ? -1 : 0;
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"stats", no_argument, NULL, 's'},
	    {"year", required_argument, NULL, 'y'},
	    {"summary", no_argument, NULL, 'S'}, {NULL, 0, NULL, 0}};
	struct parse_tally tally, *tp = NULL;
	uint64_t year = 0;
	enum parser_format fmt = PARSER_AUTO;
	bool verbose = false;
	int c, i, fd, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parser_format_lookup(optarg, &fmt) == -1) {
				(void)fprintf(stderr,
				    "tlsflow: parse: unknown format \"%s\"\n",
				    log_str(optarg, strlen(optarg)));
				return 2;
			}
			break;
		case 's':
			verbose = true;
			break;
		case 'S':
			memset(&tally, 0, sizeof(tally));
			tp = &tally;
			break;
		case 'y':
			if (scan_u64_str(optarg, 9999, &year) == -1 ||
			    year < 1970) {
				(void)fprintf(stderr,
				    "tlsflow: parse: --year: not a year\n");
				return 2;
			}
			break;
		default:
			return parse_usage();
		}
	}
	if (optind == argc)
		rc = parse_fd(0, "-", fmt, (int)year, verbose, tp);
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			rc |= parse_fd(0, "-", fmt, (int)year, verbose, tp);
			continue;
		}
		if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) == -1) {
			log_warn("parse: %s", argv[i]);
			rc = -1;
			continue;
		}
		rc |= parse_fd(fd, argv[i], fmt, (int)year, verbose, tp);
		(void)close(fd);
	}
	if (tp != NULL)
		print_tally(tp);
	if (fflush(stdout) == EOF)
		fatal("parse: write");
	return rc == 0 ? 0 : 1;
}
