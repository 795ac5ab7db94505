/*
 * cmd_sniff.c - "tlsflow sniff [-i IFACE | -r FILE] [--json]": SMTP
 * sessions from the wire into the store, or printed as JSON lines
 *
 * Argument handling and the daemon's order of work (STYLE.md section 7):
 * open the capture (privileged), start the private cluster if it is the
 * store (privileged), drop privileges for good, connect, loop.  The
 * packet path is sniff.c.  With -r FILE the events go in with a "pcap"
 * checkpoint: the file is read again from its start after a crash and
 * the events already stored are left out, so each is stored once (flow
 * state depends on every packet before, so re-reading from the start is
 * what makes the replay exact).  Live captures have no checkpoint: what
 * was not seen is gone.
 */
#include "core/cmd.h"

#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/sniff.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/pgctl.h"
#include "core/store.h"

#define SNIFF_CHUNK 4096 /* packets per dispatch */

struct sniff_ctx {
	bool json;
	bool live;
	struct store *st;
	struct store_ckpt ck; /* -r FILE into the store */
	int64_t skip_before;  /* events ending before it are stored */
	uint64_t skipped, lost, out_err;
};

static int
sniff_usage(void)
{
	(void)fprintf(stderr,
	    "usage: tlsflow sniff [-c FILE] [-i IFACE | -r FILE] [--json]\n");
	return 2;
}

static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The event sink: print, or queue into the store (back-pressure). */
static void
on_event(void *arg, const struct tls_event *ev)
{
	struct sniff_ctx *c = arg;

	if (c->json) {
		if (event_print(ev, stdout) == -1)
			c->out_err++;
		return;
	}
	if (ev->end_off < c->skip_before) {
		c->skipped++; /* stored by an earlier run */
		return;
	}
	while (store_add(c->st, ev) == -1) {
		if (store_push(c->st) == 0)
			continue;
		/* A file waits for the database; a live capture cannot. */
		if (c->live || sig_term) {
			c->lost++;
			return;
		}
		daemon_sleep_ms(200);
	}
}

/*
 * The account to run as.  The private cluster's socket directory is
 * open to its own account only, so a sniffer that stores into it runs
 * as that account; otherwise sniff_user.
 */
static const char *
run_user(bool store)
{
	static char owner[64];
	char path[PATH_MAX];
	struct stat sb;
	struct passwd *pw;

	if (!store || cf_db[0] != '\0')
		return cf_sniff_user;
	(void)snprintf(path, sizeof(path), "%s/pg/run", config_state_dir());
	if (stat(path, &sb) == -1 || sb.st_uid == 0 ||
	    (pw = getpwuid(sb.st_uid)) == NULL)
		return cf_sniff_user;
	(void)snprintf(owner, sizeof(owner), "%s", pw->pw_name);
	return owner;
}

/* -r FILE into the store: where an earlier run of this file got to. */
static int
file_ckpt(struct sniff_ctx *c, const char *file)
{
	char abs[PATH_MAX];
	struct stat sb;
	struct store_ckpt old;
	int r;

	if (realpath(file, abs) == NULL || stat(abs, &sb) == -1) {
		log_warn("sniff: %s", file);
		return -1;
	}
	memset(&c->ck, 0, sizeof(c->ck));
	(void)snprintf(c->ck.kind, sizeof(c->ck.kind), "pcap");
	if (strlen(abs) >= sizeof(c->ck.name)) {
		log_warnx("sniff: %s: path too long for a checkpoint", abs);
		return -1;
	}
	memcpy(c->ck.name, abs, strlen(abs) + 1);
	c->ck.inode = (int64_t)sb.st_ino;
	while ((r = store_load_ckpt(c->st, "pcap", abs, &old)) == -1) {
		if (sig_term)
			return -1;
		daemon_sleep_ms(2000);
	}
	if (r == 1 && old.inode == c->ck.inode) {
		c->skip_before = old.offset;
		log_info("sniff: %s: events up to packet %lld are stored", abs,
		    (long long)old.offset - 1);
	}
	return 0;
}

static void
set_ckpt(struct sniff_ctx *c, int64_t offset)
{
	if (c->st == NULL || c->live || c->ck.kind[0] == '\0')
		return;
	if (offset < c->skip_before)
		return; /* never move back */
	c->ck.offset = offset;
	c->ck.resume = 0;
	store_set_ckpt(c->st, &c->ck);
}

int
cmd_sniff(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	    {"interface", required_argument, NULL, 'i'},
	    {"read", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	struct sniff_conf sc;
	struct sniff_ctx c;
	struct sniff *sn = NULL;
	const char *iface = NULL, *file = NULL;
	char *ci = NULL;
	double last_counters = mono(), give_up;
	int ch, n, rc = 1;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "i:r:", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			iface = optarg;
			break;
		case 'r':
			file = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		default:
			return sniff_usage();
		}
	}
	if (optind != argc || (iface != NULL && file != NULL))
		return sniff_usage();
	if (file == NULL && iface == NULL)
		iface = cf_sniff_interface;
	c.live = file == NULL;

	memset(&sc, 0, sizeof(sc));
	sc.host = config_hostname();
	sc.ports = cf_sniff_ports;
	sc.tls_ports = cf_sniff_tls_ports;
	sc.submission_ports = cf_sniff_submission_ports;
	sc.local_addresses = cf_local_addresses;
	sc.flow_max = (size_t)cf_flow_max;
	sc.flow_memcap = (size_t)cf_flow_memcap << 20;
	sc.flow_idle_us = cf_flow_idle * 1000000LL;
	if ((sn = sniff_new(&sc, on_event, &c)) == NULL)
		return 2;
	daemon_catch_or_die();
	/* Privileged: the capture, and starting the private cluster. */
	if (file != NULL ? sniff_open_file(sn, file)
			 : sniff_open_live(sn, iface))
		goto out;
	if (!c.json && (ci = pgctl_conninfo(true)) == NULL)
		goto out;
	sniff_drop_privs_or_die(run_user(!c.json));
	if (!c.json) {
		if (migrate_wait_ready(ci) == -1)
			goto out;
		c.st = store_open(ci, (size_t)cf_batch_size);
		if (file != NULL && file_ckpt(&c, file) == -1)
			goto out;
	} else
		(void)setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	log_info("sniff: reading %s%s", file != NULL ? file : iface,
	    c.json ? "" : " into the store");

	while (!sig_term) {
		if (sig_usr1) {
			sig_usr1 = 0;
			sniff_log_counters(sn);
		}
		if (sig_hup) {
			sig_hup = 0;
			(void)config_reload(); /* sniff keys need a restart */
		}
		if (c.live && cf_counters_interval > 0 &&
		    mono() - last_counters >= (double)cf_counters_interval) {
			sniff_log_counters(sn);
			last_counters = mono();
		}
		n = sniff_dispatch(sn, SNIFF_CHUNK, 500);
		if (n == -1)
			break;
		if (c.st != NULL) {
			set_ckpt(&c, (int64_t)sniff_packets(sn) + 1);
			if (store_due(c.st))
				(void)store_push(c.st); /* retried later */
		} else if (c.json && c.live)
			(void)fflush(stdout);
	}
	if (sniff_error(sn))
		goto out;
	/* The end of the file, or SIGTERM: every open session ends here. */
	sniff_flush(sn);
	set_ckpt(&c, (int64_t)sniff_packets(sn) + 2);
	give_up = mono() + 10;
	while (c.st != NULL && store_flush(c.st) == -1) {
		if (mono() > give_up) {
			log_warnx("sniff: could not store the last %zu "
				  "sessions",
			    store_pending(c.st));
			goto out;
		}
		daemon_sleep_ms(200);
	}
	if (c.json && fflush(stdout) == EOF)
		c.out_err++;
	rc = c.out_err > 0 || c.lost > 0 ? 1 : 0;
	if (c.skipped > 0)
		log_info("sniff: %llu sessions were stored before",
		    (unsigned long long)c.skipped);
	if (c.lost > 0)
		log_warnx("sniff: %llu sessions lost (database away)",
		    (unsigned long long)c.lost);
out:
	if (sn != NULL)
		sniff_log_counters(sn);
	sniff_free(sn);
	store_free(c.st);
	free(ci);
	return rc;
}
