/*
 * synthwrite.c - write N synthetic session events through core/store
 *
 * For the crash, outage and speed tests of the store: event i is a pure
 * function of i, and the source checkpoint ("synthetic", NAME) says how
 * many were committed, so a writer killed at any moment and restarted
 * resumes exactly where its last commit ended.
 *
 * usage: synthwrite [--state_dir=DIR | --db=URI] [-n N] [--name NAME]
 *                   [--rate EVENTS_PER_S] [--days D] [--domains K]
 *        synthwrite --expect -n N ...   print the truth the tests check:
 *                   "sessions N messages M tls T plaintext P failed F"
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "core/event.h"
#include "core/migrate.h"
#include "core/pgctl.h"
#include "core/store.h"

#define DAY0_US (INT64_C(1795305600) * 1000000) /* 2026-11-22T00:00:00Z */

static uint64_t opt_days = 3, opt_domains = 1000;

/* Event i: spread over opt_days days and opt_domains domains. */
static void
make_event(const char *name, uint64_t i, struct tls_event *ev)
{
	char buf[64];

	ev_init(ev);
	ev->source = EV_SRC_POSTFIX;
	/* In time order, as a log is: opt_days days over every 1M events. */
	ev->ts_us = DAY0_US + (int64_t)i * (int64_t)opt_days * 86400;
	ev->dir = (i % 5 == 0) ? EV_DIR_IN : EV_DIR_OUT;
	(void)snprintf(buf, sizeof(buf), "d%llu.test",
	    (unsigned long long)(i % opt_domains));
	ev_setcstr(ev, ev->domain, sizeof(ev->domain), buf);
	ev_setcstr(ev, ev->host, sizeof(ev->host), "mx.synth.test");
	(void)snprintf(buf, sizeof(buf), "mx%llu.d%llu.test",
	    (unsigned long long)(i % 3), (unsigned long long)(i % opt_domains));
	ev_setcstr(ev, ev->peer_host, sizeof(ev->peer_host), buf);
	(void)snprintf(buf, sizeof(buf), "192.0.2.%llu",
	    (unsigned long long)(i % 250 + 1));
	ev_setcstr(ev, ev->peer_ip, sizeof(ev->peer_ip), buf);
	ev->peer_port = 25;
	switch (i % 10) {
	case 0:
		ev->tls = EV_TLS_PLAIN;
		break;
	case 1:
		ev->tls = EV_TLS_FAILED;
		ev->result = EV_RES_CERT_EXPIRED;
		ev_setcstr(ev, ev->reason, sizeof(ev->reason),
		    "certificate has expired");
		break;
	case 2:
		ev->tls = EV_TLS_UNKNOWN;
		break;
	default:
		ev->tls = EV_TLS_OK;
		ev->result = EV_RES_SUCCESS;
		ev->trust = (i % 2) ? EV_TRUST_TRUSTED : EV_TRUST_VERIFIED;
		ev_setcstr(
		    ev, ev->tls_version, sizeof(ev->tls_version), "TLSv1.3");
		ev_setcstr(ev, ev->cipher, sizeof(ev->cipher),
		    "TLS_AES_256_GCM_SHA384");
		ev->cipher_bits = 256;
	}
	ev->messages = (uint32_t)(i % 3);
	ev->status = ev->messages ? EV_ST_SENT : EV_ST_DEFERRED;
	(void)snprintf(
	    buf, sizeof(buf), "%llX", (unsigned long long)(0xA00000 + i));
	ev_setcstr(ev, ev->queue_ids, sizeof(ev->queue_ids), buf);
	(void)snprintf(
	    buf, sizeof(buf), "%s:%llu", name, (unsigned long long)i);
	ev_setcstr(ev, ev->origin, sizeof(ev->origin), buf);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
print_expect(uint64_t n)
{
	uint64_t i, msgs = 0, tls = 0, plain = 0, failed = 0;
	struct tls_event ev;

	/* Computed from make_event(), independent of any database. */
	for (i = 0; i < n; i++) {
		make_event("x", i, &ev);
		msgs += ev.messages;
		tls += ev.tls == EV_TLS_OK;
		plain += ev.tls == EV_TLS_PLAIN;
		failed += ev.tls == EV_TLS_FAILED;
	}
	(void)printf("sessions %llu messages %llu tls %llu plaintext %llu "
		     "failed %llu\n",
	    (unsigned long long)n, (unsigned long long)msgs,
	    (unsigned long long)tls, (unsigned long long)plain,
	    (unsigned long long)failed);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'N'},
	    {"rate", required_argument, NULL, 'r'},
	    {"days", required_argument, NULL, 'D'},
	    {"domains", required_argument, NULL, 'K'},
	    {"expect", no_argument, NULL, 'e'}, {NULL, 0, NULL, 0}};
	const char *name = "synth";
	uint64_t n = 1000000, rate = 0, i;
	struct store_ckpt ck;
	struct tls_event ev;
	struct store *st;
	bool expect = false;
	double t0, t1;
	PGconn *db;
	char *ci;
	int c;

	log_init("synthwrite", true);
	if (config_args(&argc, argv) == -1)
		return 2;
	config_load_or_die();
	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		uint64_t *dst = c == 'n'   ? &n
				: c == 'r' ? &rate
				: c == 'D' ? &opt_days
				: c == 'K' ? &opt_domains
					   : NULL;

		if (c == 'N') {
			name = optarg;
		} else if (c == 'e') {
			expect = true;
		} else if (dst == NULL ||
			   scan_u64_str(optarg, UINT64_C(1) << 40, dst) == -1 ||
			   (dst != &rate && *dst == 0)) {
			(void)fprintf(stderr, "synthwrite: bad option\n");
			return 2;
		}
	}
	if (expect)
		return print_expect(n);
	if ((ci = pgctl_conninfo(true)) == NULL)
		return 1;
	/* Retry migrations: the server may be starting or going away. */
	while ((db = db_connect(ci, true)) == NULL || migrate_apply(db) < 0) {
		PQfinish(db);
		sleep_ms(200);
	}
	PQfinish(db);
	st = store_open(ci, (size_t)cf_batch_size);
	while (store_load_ckpt(st, "synthetic", name, &ck) == -1)
		sleep_ms(200);
	i = (uint64_t)ck.offset;
	log_info("synthwrite: resuming at %llu of %llu", (unsigned long long)i,
	    (unsigned long long)n);
	memset(&ck, 0, sizeof(ck));
	(void)snprintf(ck.kind, sizeof(ck.kind), "synthetic");
	(void)snprintf(ck.name, sizeof(ck.name), "%s", name);
	ck.inode = -1;
	t0 = now_s();
	while (i < n) {
		if (!store_full(st)) {
			make_event(name, i, &ev);
			if (store_add(st, &ev) == -1)
				panic("synthwrite: add to a batch not full");
			i++;
			ck.offset = ck.resume = (int64_t)i;
			store_set_ckpt(st, &ck);
			if (rate > 0 && i % 100 == 0) {
				double want = t0 + (double)i / (double)rate;

				while (now_s() < want)
					sleep_ms(1);
			}
		}
		if ((store_full(st) || store_due(st)) && store_push(st) == -1)
			sleep_ms(20);
	}
	while (store_flush(st) == -1)
		sleep_ms(50);
	t1 = now_s();
	(void)printf("wrote %llu events in %.3f s\n",
	    (unsigned long long)(n - (uint64_t)0), t1 - t0);
	store_free(st);
	free(ci);
	config_free();
	return 0;
}
