/*
 * cmd_report.c - "tlsflow report [--date D] [--domain D]
 * [--dry-run | --out DIR | --send | --daemon]"
 *
 * Argument handling and the order of work only: aggregate.c counts,
 * lookup.c finds policies and destinations, report.c builds, deliver.c
 * stores and delivers.  Without --date the report is for yesterday (UTC).
 */
#include "core/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "core/migrate.h"
#include "reporter/aggregate.h"
#include "reporter/deliver.h"
#include "reporter/lookup.h"
#include "reporter/report.h"

#define REPORT_DAEMON_TICK_MS 60000

enum rmode { RM_DRY = 1, RM_OUT, RM_SEND, RM_DAEMON };

struct run {
	enum rmode mode;
	const char *day;
	const char *outdir;
	PGconn *db;  /* lookups, stores, deliveries */
	PGconn *agg; /* the aggregate stream only: a query on the same
			connection would end the stream */
	struct lookup *lk;
	long built, stored, existed, skipped, no_tlsrpt, errors;
};

static int
report_usage(void)
{
	(void)fprintf(stderr,
	    "usage: tlsflow report [--date YYYY-MM-DD] [--domain DOMAIN]\n"
	    "                      [--dry-run | --out DIR | --send | "
	    "--daemon]\n");
	return 2;
}

static bool
valid_day(const char *s)
{
	const char *p = s, *end = s + strlen(s);
	unsigned y, m, d;

	return scan_digits(&p, end, 4, &y) == 0 &&
	       scan_lit(&p, end, "-") == 0 &&
	       scan_digits(&p, end, 2, &m) == 0 &&
	       scan_lit(&p, end, "-") == 0 &&
	       scan_digits(&p, end, 2, &d) == 0 && p == end && m >= 1 &&
	       m <= 12 && d >= 1 && d <= 31;
}

static void
yesterday(char *out, size_t size)
{
	time_t t = time(NULL) - 86400;
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)strftime(out, size, "%Y-%m-%d", &tm);
}

static int
write_file(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	ssize_t w;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1) {
		log_warn("report: %s", path);
		return -1;
	}
	w = write(fd, p, len);
	if (w != (ssize_t)len || close(fd) == -1) {
		log_warn("report: %s: write", path);
		if (w != (ssize_t)len)
			(void)close(fd);
		return -1;
	}
	return 0;
}

static int
on_domain(const struct agg_domain *d, void *arg)
{
	struct run *r = arg;
	struct report *rep;
	json_t *tlsrpt = NULL;
	unsigned char *gz;
	size_t gzlen;
	char *text;
	int rc = 0, have;

	if (r->mode == RM_SEND || r->mode == RM_DAEMON) {
		/* A second run the same day keeps the first run's report. */
		if ((have = deliver_have(r->db, r->day, d->domain)) != 0) {
			r->existed += have == 1;
			return have == -1 ? -1 : 0;
		}
		if (!report_alabel(d->domain)) {
			r->skipped++;
			return 0;
		}
		tlsrpt = lookup_tlsrpt(r->lk, d->domain);
		if (strcmp(json_string_value(json_object_get(tlsrpt, "rc")),
			"ok") != 0 ||
		    json_array_size(json_object_get(tlsrpt, "rua")) == 0) {
			r->no_tlsrpt++;
			json_decref(tlsrpt);
			return 0;
		}
	}
	if ((rep = report_build(d, r->day, r->lk)) == NULL) {
		r->skipped++;
		json_decref(tlsrpt);
		return 0;
	}
	r->built++;
	if (tlsrpt != NULL)
		(void)json_object_set(rep->lookups, "tlsrpt", tlsrpt);
	switch (r->mode) {
	case RM_DRY:
		text = report_text(rep);
		if (printf("%s\n", text) < 0)
			rc = -1;
		free(text);
		break;
	case RM_OUT:
		text = report_text(rep);
		if (report_gzip(text, strlen(text), &gz, &gzlen) == -1) {
			rc = -1;
		} else {
			rc = write_file(r->outdir, rep->filename, gz, gzlen);
			free(gz);
		}
		free(text);
		break;
	case RM_SEND:
	case RM_DAEMON:
		switch (deliver_store(r->db, rep, tlsrpt)) {
		case 1:
			r->stored++;
			break;
		case 0:
			r->existed++;
			break;
		default:
			rc = -1;
		}
		break;
	}
	json_decref(tlsrpt);
	report_free(rep);
	if (rc == -1)
		r->errors++;
	return sig_term ? -1 : 0;
}

/* Build (and for send, store) the reports of r->day. */
static int
run_day(struct run *r, const char *only)
{
	long n;

	r->built = r->stored = r->existed = r->skipped = r->no_tlsrpt = 0;
	r->errors = 0;
	if ((r->lk = lookup_open(r->db, r->day)) == NULL)
		return -1;
	n = aggregate_day(r->agg, r->day, only, on_domain, r);
	lookup_close(r->lk);
	r->lk = NULL;
	if (n < 0)
		return -1;
	log_info("report: %s: %ld domains, %ld reports built, %ld stored, "
		 "%ld kept from an earlier run, %ld without a TLSRPT record, "
		 "%ld not A-label names, %ld errors",
	    r->day, n, r->built, r->stored, r->existed, r->no_tlsrpt,
	    r->skipped, r->errors);
	return r->errors ? -1 : 0;
}

static int
deliver(struct run *r)
{
	struct lookup *lk;
	int n;

	if ((lk = lookup_open(NULL, r->day)) == NULL)
		return -1;
	n = deliver_due(r->db, lookup_http(lk), &sig_term);
	lookup_close(lk);
	if (n >= 0)
		log_info("report: %d delivery attempts made", n);
	return n < 0 ? -1 : 0;
}

static int
run_daemon(struct run *r)
{
	char day[16], done[16] = "";

	while (!sig_term) {
		yesterday(day, sizeof(day));
		r->day = day;
		if (strcmp(day, done) != 0 && run_day(r, NULL) == 0)
			(void)snprintf(done, sizeof(done), "%s", day);
		(void)deliver(r);
		if (sig_hup) {
			sig_hup = 0;
			(void)config_reload();
		}
		daemon_sleep_ms(REPORT_DAEMON_TICK_MS);
	}
	return 0;
}

int
cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"date", required_argument, NULL, 'D'},
	    {"domain", required_argument, NULL, 'd'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},
	    {"send", no_argument, NULL, 's'},
	    {"daemon", no_argument, NULL, 'S'}, {NULL, 0, NULL, 0}};
	struct run r;
	char day[16];
	const char *only = NULL;
	int c, n, rc = 0;

	memset(&r, 0, sizeof(r));
	yesterday(day, sizeof(day));
	r.day = day;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (!valid_day(optarg)) {
				(void)fprintf(stderr,
				    "tlsflow: report: bad date \"%s\"\n",
				    log_str(optarg, strlen(optarg)));
				return 2;
			}
			r.day = optarg;
			break;
		case 'd':
			only = optarg;
			break;
		case 'o':
			r.outdir = optarg;
			/* FALLTHROUGH */
		case 'n':
		case 's':
		case 'S':
			if (r.mode != 0)
				return report_usage();
			r.mode = c == 'n'   ? RM_DRY
				 : c == 'o' ? RM_OUT
				 : c == 's' ? RM_SEND
					    : RM_DAEMON;
			break;
		default:
			return report_usage();
		}
	}
	if (optind != argc)
		return report_usage();
	if (r.mode == 0)
		r.mode = RM_DRY;
	if ((r.db = db_connect_default()) == NULL)
		return 1;
	if (((n = migrate_pending(r.db)) != 0 &&
		(n < 0 || migrate_apply(r.db) < 0)) ||
	    (r.agg = db_connect_default()) == NULL) {
		PQfinish(r.db);
		return 1;
	}
	daemon_catch_or_die();
	switch (r.mode) {
	case RM_DRY:
	case RM_OUT:
		rc = run_day(&r, only) == 0 ? 0 : 1;
		if (fflush(stdout) == EOF)
			rc = 1;
		break;
	case RM_SEND:
		rc = run_day(&r, only) == 0 ? 0 : 1;
		if (deliver(&r) == -1)
			rc = 1;
		break;
	case RM_DAEMON:
		rc = run_daemon(&r);
		break;
	}
	PQfinish(r.agg);
	PQfinish(r.db);
	return rc;
}
