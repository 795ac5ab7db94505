/*
 * test_postfix.c - the parser's session logic through the parser.h API
 *
 * The exactly-once contract: for every golden log and every cut point k,
 * a first run over lines [0, k) plus a restart that re-reads from
 * parser_resume_offset() with parser_skip_before(offset of line k) yields
 * exactly the events of one uninterrupted run, in the same order.  Then
 * the memory cap (eviction), idle expiry, the hold for qmgr's from= line,
 * the event ring's limit and hostile line sizes.
 *
 * Runs from the repository root (tests/run.sh does), where it reads
 * the golden logs in tests/data/postfix.
 */
#include <dirent.h>
#include <stdlib.h>

#include "parsers/parser.h"
#include "tests/unit/t.h"

#define EVS_MAX 512

struct evs {
	size_t n;
	char *json[EVS_MAX];
	int64_t end[EVS_MAX];
};

struct log {
	char *data;
	size_t len, nlines;
	size_t *start; /* byte offset of each line */
	size_t *llen;  /* its length without the newline */
};

static void
evs_free(struct evs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->json[i]);
	e->n = 0;
}

static void
drain(struct parser *p, struct evs *e)
{
	struct tls_event ev;
	json_t *j;

	while (parser_next(p, &ev)) {
		if (e->n >= EVS_MAX)
			continue;
		j = event_to_json(&ev);
		e->json[e->n] = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
		e->end[e->n] = ev.end_off;
		e->n++;
		json_decref(j);
	}
}

static int
log_read(const char *path, struct log *lg)
{
	FILE *fp = fopen(path, "rb");
	size_t i, cap = 64;

	memset(lg, 0, sizeof(*lg));
	if (fp == NULL)
		return -1;
	lg->data = malloc(1 << 20);
	lg->len = fread(lg->data, 1, 1 << 20, fp);
	fclose(fp);
	lg->start = malloc(cap * sizeof(size_t));
	lg->llen = malloc(cap * sizeof(size_t));
	for (i = 0; i < lg->len;) {
		char *nl = memchr(lg->data + i, '\n', lg->len - i);
		size_t end = nl ? (size_t)(nl - lg->data) : lg->len;

		if (lg->nlines == cap) {
			cap *= 2;
			lg->start = realloc(lg->start, cap * sizeof(size_t));
			lg->llen = realloc(lg->llen, cap * sizeof(size_t));
		}
		lg->start[lg->nlines] = i;
		lg->llen[lg->nlines] = end - i;
		lg->nlines++;
		i = end + 1;
	}
	return 0;
}

static void
log_free(struct log *lg)
{
	free(lg->data);
	free(lg->start);
	free(lg->llen);
}

static struct parser *
new_parser(size_t max_sessions, int64_t idle_us)
{
	struct parser_opts po;

	memset(&po, 0, sizeof(po));
	po.format = PARSER_POSTFIX;
	po.origin = "t";
	po.host = "collector.test";
	po.year = 2026;
	po.max_sessions = max_sessions;
	po.idle_us = idle_us;
	return parser_new(&po);
}

/* Feed lines [from, to) as the reader would (cut at PARSER_LINE_MAX). */
static void
feed(struct parser *p, const struct log *lg, size_t from, size_t to,
    struct evs *e)
{
	size_t i, n;

	for (i = from; i < to; i++) {
		n = lg->llen[i];
		if (n > PARSER_LINE_MAX) {
			parser_note_truncated(p);
			n = PARSER_LINE_MAX;
		}
		(void)parser_line(
		    p, lg->data + lg->start[i], n, (int64_t)lg->start[i]);
		drain(p, e);
	}
}

/* The exactly-once property for one log, at every cut point. */
static void
resume_file(const char *path)
{
	struct evs full = {0}, a = {0}, b = {0};
	char label[512];
	struct parser *p;
	struct log lg;
	size_t k, i, first;
	int64_t x, r;
	bool same;

	if (log_read(path, &lg) == -1) {
		T_OK(path, false);
		return;
	}
	p = new_parser(0, 0);
	feed(p, &lg, 0, lg.nlines, &full);
	parser_finish(p);
	drain(p, &full);
	parser_free(p);

	for (k = 1; k < lg.nlines; k++) {
		/* Run 1: lines [0, k); its events are "committed". */
		p = new_parser(0, 0);
		feed(p, &lg, 0, k, &a);
		x = (int64_t)lg.start[k];
		r = parser_resume_offset(p);
		parser_free(p);
		/* Run 2: from the resume point, dropping what ended before x.
		 */
		for (first = 0;
		     first < lg.nlines && (int64_t)lg.start[first] < r; first++)
			;
		p = new_parser(0, 0);
		parser_skip_before(p, x);
		feed(p, &lg, first, lg.nlines, &b);
		parser_finish(p);
		drain(p, &b);
		parser_free(p);

		same = a.n + b.n == full.n && r <= x;
		for (i = 0; same && i < full.n; i++)
			same = strcmp(i < a.n ? a.json[i] : b.json[i - a.n],
				   full.json[i]) == 0;
		(void)snprintf(label, sizeof(label),
		    "%s: cut at line %zu: %zu + %zu events, want %zu", path,
		    k + 1, a.n, b.n, full.n);
		T_OK(label, same);
		for (i = 0; i < a.n; i++) /* committed means ended before x */
			if (a.end[i] >= x)
				T_OK("committed event ends before the cut",
				    false);
		evs_free(&a);
		evs_free(&b);
	}
	evs_free(&full);
	log_free(&lg);
}

static void
feed_str(struct parser *p, const char *line, int64_t off, struct evs *e)
{
	(void)parser_line(p, line, strlen(line), off);
	if (e != NULL)
		drain(p, e);
}

static bool
has(const struct evs *e, size_t i, const char *needle)
{
	return i < e->n && strstr(e->json[i], needle) != NULL;
}

/* Six connections on six pids, room for four: the two oldest go out. */
static void
test_eviction(void)
{
	struct parser_stats st;
	struct evs e = {0};
	struct parser *p = new_parser(4, 0);
	char line[256];
	int i;

	for (i = 0; i < 6; i++) {
		(void)snprintf(line, sizeof(line),
		    "Nov 22 10:00:0%d mx1 postfix/smtp[%d]: Trusted TLS "
		    "connection established to mx%d.example[192.0.2.%d]:25: "
		    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
		    i, 100 + i, i, i + 1);
		feed_str(p, line, i * 1000, &e);
	}
	parser_get_stats(p, &st);
	T_INT("eviction: evicted", st.evicted, 2);
	T_INT("eviction: emitted before the end", e.n, 2);
	T_OK("eviction: the oldest first", has(&e, 0, "\"mx0.example\""));
	T_OK("eviction: then the next", has(&e, 1, "\"mx1.example\""));
	T_OK("eviction: emitted as it is", has(&e, 0, "\"tls\":\"tls\""));
	T_INT("eviction: resume at the oldest open one",
	    parser_resume_offset(p), 2000);
	parser_finish(p);
	drain(p, &e);
	T_INT("eviction: all six in the end", e.n, 6);
	evs_free(&e);
	parser_free(p);
}

/* A session idle longer than idle_us ends at the next Postfix line. */
static void
test_expiry(void)
{
	struct parser_stats st;
	struct evs e = {0};
	struct parser *p = new_parser(0, INT64_C(10) * 1000000);

	feed_str(p,
	    "Nov 22 10:00:00 mx1 postfix/smtp[100]: Verified TLS connection "
	    "established to mx.example[192.0.2.1]:25: TLSv1.3 with cipher "
	    "TLS_AES_256_GCM_SHA384 (256/256 bits)",
	    0, &e);
	feed_str(p,
	    "Nov 22 10:00:01 mx1 postfix/smtp[100]: AB12CD34EF: "
	    "to=<a@example.com>, relay=mx.example[192.0.2.1]:25, delay=1, "
	    "delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
	    100, &e);
	feed_str(
	    p, "Nov 22 10:00:09 mx1 dovecot: imap-login: nothing", 200, &e);
	feed_str(p, "Nov 22 10:00:11 mx1 postfix/qmgr[9]: 0A0A0A0A0A: removed",
	    300, &e);
	T_INT("expiry: not yet at 10 s", e.n, 0);
	feed_str(p, "Nov 22 10:00:12 mx1 postfix/qmgr[9]: 0A0A0A0A0A: removed",
	    400, &e);
	parser_get_stats(p, &st);
	T_INT("expiry: after 11 s idle", e.n, 1);
	T_INT("expiry: counted", st.expired, 1);
	T_INT("expiry: ends at the line that noticed", e.end[0], 400);
	T_OK("expiry: the session", has(&e, 0, "\"messages\":1"));
	T_INT("expiry: nothing open: resume after the last line",
	    parser_resume_offset(p), 400 + 57);
	evs_free(&e);
	parser_free(p);
}

static const char *in_lines[] = {
    "Nov 22 10:00:00 mx1 postfix/smtpd[200]: connect from "
    "mail.example.org[198.51.100.1]",
    "Nov 22 10:00:01 mx1 postfix/smtpd[200]: 1A1A1A1A1A: "
    "client=mail.example.org[198.51.100.1]",
    "Nov 22 10:00:02 mx1 postfix/smtpd[200]: disconnect from "
    "mail.example.org[198.51.100.1] ehlo=2 starttls=1 mail=1 rcpt=1 "
    "data=1 quit=1 commands=7",
};

/* Held for qmgr's from= line: released by it, or after 2000 lines. */
static void
test_hold(void)
{
	struct evs e = {0};
	struct parser *p = new_parser(0, 0);
	int64_t off = 0;
	size_t i;

	for (i = 0; i < 3; i++)
		feed_str(p, in_lines[i], off += 100, &e);
	T_INT("hold: held at the disconnect", e.n, 0);
	T_INT("hold: a held session keeps the resume point",
	    parser_resume_offset(p), 100);
	feed_str(p,
	    "Nov 22 10:00:02 mx1 postfix/qmgr[9]: 1A1A1A1A1A: "
	    "from=<Someone@Sender.Example>, size=1, nrcpt=1 (queue active)",
	    off += 100, &e);
	T_INT("hold: released by from=", e.n, 1);
	T_OK(
	    "hold: sender domain", has(&e, 0, "\"domain\":\"sender.example\""));
	T_OK("hold: starttls=1 is TLS", has(&e, 0, "\"tls\":\"tls\""));
	evs_free(&e);

	for (i = 0; i < 3; i++)
		feed_str(p, in_lines[i], off += 100, &e);
	for (i = 0; i < 2000; i++)
		feed_str(p,
		    "Nov 22 10:00:02 mx1 postfix/cleanup[7]: 2B2B2B2B2B: "
		    "message-id=<x>",
		    off += 100, &e);
	T_INT("hold: still held after 2000 lines", e.n, 0);
	feed_str(p,
	    "Nov 22 10:00:02 mx1 postfix/cleanup[7]: 2B2B2B2B2B: "
	    "message-id=<x>",
	    off += 100, &e);
	T_INT("hold: released after 2001", e.n, 1);
	T_OK("hold: host's domain as fallback",
	    has(&e, 0, "\"domain\":\"example.org\""));
	evs_free(&e);
	parser_free(p);
}

/* Events nobody takes: the ring grows to max_sessions + 64, then drops. */
static void
test_ring(void)
{
	struct parser_stats st;
	struct evs e = {0};
	struct parser *p = new_parser(4, 0);
	char line[256];
	int i;

	for (i = 0; i < 100; i++) {
		(void)snprintf(line, sizeof(line),
		    "Nov 22 10:00:00 mx1 postfix/tlsproxy[9]: Anonymous TLS "
		    "connection established from [192.0.2.%d]:%d: TLSv1.2 "
		    "with cipher ECDHE-RSA-AES256-SHA (256/256 bits)",
		    i % 200 + 1, 40000 + i);
		feed_str(p, line, i * 200, NULL);
	}
	drain(p, &e);
	parser_get_stats(p, &st);
	T_INT("ring: kept", e.n, 68);
	T_INT("ring: dropped", st.dropped, 32);
	T_INT("ring: events counted", st.events, 68);
	T_OK("ring: the newest kept", has(&e, 67, ":40099,"));
	evs_free(&e);
	parser_free(p);
}

/* Lines the reader would never pass, fed directly. */
static void
test_hostile(void)
{
	struct parser_stats st;
	struct evs e = {0};
	struct parser *p = new_parser(0, 0);
	const char *pre = "Nov 22 10:00:00 mx1 postfix/smtp[100]: ";
	size_t n = 1 << 20, i;
	char *big = malloc(n);

	/* 1 MB: a Postfix tag and a recipient that never ends. */
	memcpy(big, pre, strlen(pre));
	memcpy(big + strlen(pre), "ABCDEF1234: to=<", 16);
	for (i = strlen(pre) + 16; i < n; i++)
		big[i] = (char)('a' + i % 26);
	T_INT("1 MB line", parser_line(p, big, n, 0), PARSE_MALFORMED);
	/* 1 MB of NUL bytes. */
	memset(big, 0, n);
	T_INT("1 MB of NULs", parser_line(p, big, n, n), PARSE_NONE);
	/* Every prefix of a summary line. */
	for (i = 0; i <= strlen(in_lines[0]); i++)
		(void)parser_line(p, in_lines[0], i, (int64_t)(2 * n + i));
	T_INT("empty line", parser_line(p, "", 0, 3 * (int64_t)n), PARSE_NONE);
	parser_finish(p);
	drain(p, &e);
	parser_get_stats(p, &st);
	T_OK("hostile: counted", st.badtime > 0 && st.malformed > 0);
	evs_free(&e);
	free(big);
	parser_free(p);
}

/* Internal hops are counted, never emitted (tests/data/postfix/internal). */
static void
test_internal(void)
{
	struct parser_stats st;
	struct evs e = {0};
	struct parser *p = new_parser(0, 0);
	struct log lg;

	if (log_read("tests/data/postfix/internal.log", &lg) == -1) {
		T_OK("internal.log", false);
		parser_free(p);
		return;
	}
	feed(p, &lg, 0, lg.nlines, &e);
	parser_finish(p);
	drain(p, &e);
	parser_get_stats(p, &st);
	/* 10024 filter, lmtp, relay=none, unix socket, two localhost
	 * smtpd sessions, a TLS session to the local 10025. */
	T_INT("internal: counted", st.internal, 7);
	T_INT("internal: one real session", e.n, 1);
	evs_free(&e);
	log_free(&lg);
	parser_free(p);
}

/* Format auto takes "postfix*" tags only; format postfix any "x/daemon". */
static void
test_formats(void)
{
	const char *line = "Nov 22 10:00:00 mx1 mail/smtp[100]: Trusted TLS "
			   "connection established to mx.example[192.0.2.1]:"
			   "25: TLSv1.3 with cipher X (256/256 bits)";
	struct parser_opts po;
	struct parser_stats st;
	enum parser_format f;
	struct evs e = {0};
	struct parser *p;
	int i;

	memset(&po, 0, sizeof(po));
	po.year = 2026;
	po.format = PARSER_AUTO;
	p = parser_new(&po);
	(void)parser_line(p, line, strlen(line), 0);
	parser_get_stats(p, &st);
	T_INT("auto: custom syslog_name is another program", st.other, 1);
	parser_free(p);
	po.format = PARSER_POSTFIX;
	p = parser_new(&po);
	T_INT("postfix: custom syslog_name parsed",
	    parser_line(p, line, strlen(line), 0), PARSE_EVENT);
	parser_free(p);
	po.format = PARSER_EXIM; /* another MTA's format: no Postfix at all */
	p = parser_new(&po);
	for (i = 0; i < 3; i++)
		(void)parser_line(p, in_lines[i], strlen(in_lines[i]), i * 100);
	parser_finish(p);
	drain(p, &e);
	T_INT("exim format: Postfix lines give nothing", e.n, 0);
	evs_free(&e);
	parser_free(p);
	T_INT("lookup auto", parser_format_lookup("auto", &f), 0);
	T_INT("lookup postfix", parser_format_lookup("postfix", &f), 0);
	T_INT("lookup postfix value", f, PARSER_POSTFIX);
	T_INT("lookup opensmtpd", parser_format_lookup("opensmtpd", &f), 0);
	T_INT("lookup unknown", parser_format_lookup("qmail", &f), -1);
}

int
main(void)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	(void)setenv("TZ", "UTC0", 1);
	test_eviction();
	test_expiry();
	test_hold();
	test_ring();
	test_hostile();
	test_internal();
	test_formats();
	if ((d = opendir("tests/data/postfix")) == NULL)
		T_OK("tests/data/postfix", false);
	else {
		while ((de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);

			if (n < 5 || strcmp(de->d_name + n - 4, ".log") != 0)
				continue;
			(void)snprintf(path, sizeof(path),
			    "tests/data/postfix/%s", de->d_name);
			resume_file(path);
		}
		closedir(d);
	}
	return t_done("test_postfix");
}
