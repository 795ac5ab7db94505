/*
 * collect.c - the collector's loop (see collect.h)
 *
 * Inputs: log bytes (untrusted; tail.c and the parsers bound them).
 * Single-threaded: one poll-style loop over every source, never blocking
 * longer than the flush interval.
 *
 * Exactly once: after a source's parser queue has been fully moved into
 * the store's batch, the source's position is set as the batch's
 * checkpoint: offset = just after the last line read (every session that
 * completed before it is in this batch or an earlier one), resume = the
 * first line of the oldest session still open.  A restart re-reads from
 * resume and drops the events that end before offset (parser.h).  When
 * the batch is full and cannot be stored, reading stops (back-pressure)
 * and the events that did not fit wait in the parser until there is room.
 */
#include "collector/collect.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/journal.h"
#include "collector/lineread.h"
#include "collector/tail.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"

#define COLLECT_SOURCES_MAX STORE_CKPT_MAX
#define COLLECT_PUMP_LINES 20000 /* lines per source per round */

struct csource {
	char *name; /* absolute path, or "-" */
	struct tail *tail;
	struct lineread *lr; /* standard input */
	struct journal *jr;  /* the journal (collect_add_journal) */
	char *ckname;	     /* the journal's checkpoint name */
	struct parser *p;
	bool eof;		  /* no data at the last read */
	bool finished;		  /* --once: parser finished at the end */
	int64_t last_ev_us;	  /* newest session's time */
	int64_t ref_us;		  /* year inference reference */
	uint64_t lines;		  /* all parsers of this source */
	struct parser_stats done; /* stats of parsers already freed */
};

struct collect {
	struct store *st;
	struct collect_opts o;
	struct csource src[COLLECT_SOURCES_MAX];
	size_t nsrc;
	uint64_t rotations;
	int64_t started_us; /* for collector_counters */
};

static struct parser *
new_parser(const struct collect *c, const struct csource *s)
{
	struct parser_opts po;

	memset(&po, 0, sizeof(po));
	po.format = c->o.format;
	po.origin = s->name;
	po.host = config_hostname();
	po.ref_time_us = s->ref_us;
	po.submission_services = cf_submission_services;
	/* The envelope sender of our report mail (reporter: same default). */
	po.own_senders =
	    cf_report_sender[0] != '\0' ? cf_report_sender : cf_contact_info;
	return parser_new(&po);
}

static void set_ckpt(struct collect *, struct csource *);
static void fill_counters(
    const struct collect *, const struct csource *, struct store_counters *);

struct collect *
collect_new(struct store *st, const struct collect_opts *o)
{
	struct collect *c = xcalloc(1, sizeof(*c));

	c->st = st;
	c->o = *o;
	c->started_us = (int64_t)time(NULL) * 1000000;
	return c;
}

static void
add_stats(struct parser_stats *a, const struct parser_stats *b)
{
	a->lines += b->lines;
	a->events += b->events;
	a->other += b->other;
	a->unused += b->unused;
	a->malformed += b->malformed;
	a->truncated += b->truncated;
	a->badtime += b->badtime;
	a->evicted += b->evicted;
	a->expired += b->expired;
	a->skipped += b->skipped;
	a->internal += b->internal;
}

int
collect_add(struct collect *c, const char *path)
{
	struct csource *s;
	struct store_ckpt ck;
	struct tail_pos pos, got;
	char abs[PATH_MAX];
	struct stat sb;
	int found;

	if (c->nsrc == COLLECT_SOURCES_MAX) {
		log_warnx("collect: more than %d sources", COLLECT_SOURCES_MAX);
		return -1;
	}
	s = &c->src[c->nsrc];
	memset(s, 0, sizeof(*s));
	s->ref_us = (int64_t)time(NULL) * 1000000;
	if (strcmp(path, "-") == 0) {
		s->name = xstrdup("-");
		/* Standard input is read until it ends, as with --once. */
		s->lr = lineread_new(0, 0);
		lineread_set_final(s->lr, true);
		s->p = new_parser(c, s);
		c->nsrc++;
		return 0;
	}
	/* The checkpoint's name: the absolute path (the file may not exist). */
	if (path[0] == '/')
		(void)snprintf(abs, sizeof(abs), "%s", path);
	else if (getcwd(abs, sizeof(abs)) == NULL ||
		 strlen(abs) + 1 + strlen(path) >= sizeof(abs)) {
		log_warn("collect: %s", path);
		return -1;
	} else {
		size_t n = strlen(abs);

		abs[n] = '/';
		memcpy(abs + n + 1, path, strlen(path) + 1);
	}
	while ((found = store_load_ckpt(c->st, "file", abs, &ck)) == -1) {
		if (sig_term)
			return -1;
		log_warnx("collect: %s: cannot read the checkpoint yet; "
			  "retrying",
		    abs);
		daemon_sleep_ms(2000);
	}
	if (stat(abs, &sb) == 0)
		s->ref_us = (int64_t)sb.st_mtime * 1000000;
	memset(&pos, 0, sizeof(pos));
	if (found)
		log_debug("collect: %s: checkpoint inode %lld offset %lld "
			  "resume %lld hash %s",
		    abs, (long long)ck.inode, (long long)ck.offset,
		    (long long)ck.resume, ck.first_hash);
	if (found) {
		pos.inode = ck.inode;
		pos.offset = ck.resume;
		(void)snprintf(pos.first_hash, sizeof(pos.first_hash), "%.16s",
		    ck.first_hash);
	}
	s->name = xstrdup(abs);
	if ((s->tail = tail_open(abs, found ? &pos : NULL, c->o.from_end)) ==
	    NULL) {
		free(s->name);
		return -1;
	}
	s->p = new_parser(c, s);
	tail_position(s->tail, &got);
	/* Resumed in the same file: drop what was already stored. */
	if (found && got.inode == ck.inode && got.offset == ck.resume) {
		parser_skip_before(s->p, ck.offset);
		log_info("collect: %s: resuming at offset %lld", abs,
		    (long long)ck.offset);
	}
	c->nsrc++;
	/*
	 * A file seen for the first time: record where we start at once, so
	 * that a rotation before the first batch is followed after a crash.
	 */
	if (!found && got.inode >= 0) {
		set_ckpt(c, s);
		while (store_flush(c->st) == -1 && !sig_term)
			daemon_sleep_ms(500);
	}
	return 0;
}

/*
 * The journal: kind "journal", name the directory's real path or
 * "system".  The checkpoint's inode holds the last entry's realtime,
 * first_hash the match-set hash (journal.h).
 */
int
collect_add_journal(struct collect *c, const struct journal_opts *jo)
{
	struct journal_opts o = *jo;
	struct csource *s;
	struct store_ckpt ck;
	struct journal_pos at;
	char abs[PATH_MAX], name[STORE_NAME_MAX + 1];
	int64_t skip;
	int found;

	if (c->nsrc == COLLECT_SOURCES_MAX) {
		log_warnx("collect: more than %d sources", COLLECT_SOURCES_MAX);
		return -1;
	}
	s = &c->src[c->nsrc];
	memset(s, 0, sizeof(*s));
	if (o.directory != NULL && o.directory[0] != '\0') {
		if (realpath(o.directory, abs) == NULL) {
			log_warn("collect: journal directory %s",
			    log_str(o.directory, strlen(o.directory)));
			return -1;
		}
		o.directory = abs;
	}
	if (o.directory == NULL || o.directory[0] == '\0')
		o.directory = NULL;
	else if (strlen(o.directory) > STORE_NAME_MAX) {
		log_warnx("collect: journal directory name too long");
		return -1;
	}
	(void)snprintf(name, sizeof(name), "%.*s", STORE_NAME_MAX,
	    o.directory != NULL ? o.directory : "system");
	while ((found = store_load_ckpt(c->st, "journal", name, &ck)) == -1) {
		if (sig_term)
			return -1;
		log_warnx("collect: journal %s: cannot read the checkpoint "
			  "yet; retrying",
		    name);
		daemon_sleep_ms(2000);
	}
	memset(&at, 0, sizeof(at));
	if (found) {
		at.offset = ck.offset;
		at.resume = ck.resume;
		at.last_rt = ck.inode;
		(void)snprintf(at.cursor, sizeof(at.cursor), "%s", ck.cursor);
		(void)snprintf(at.filter, sizeof(at.filter), "%.*s",
		    JOURNAL_FILTER_MAX, ck.first_hash);
	}
	o.from_end = c->o.from_end;
	if ((s->jr = journal_open(&o, found ? &at : NULL, &skip)) == NULL)
		return -1;
	s->ckname = xstrdup(name);
	s->name = xmalloc(strlen(name) + sizeof("journal:"));
	(void)snprintf(
	    s->name, strlen(name) + sizeof("journal:"), "journal:%s", name);
	s->ref_us = (int64_t)time(NULL) * 1000000;
	s->p = new_parser(c, s);
	if (skip >= 0) {
		parser_skip_before(s->p, skip);
		log_info("collect: %s: resuming at entry %lld", s->name,
		    (long long)skip);
	}
	c->nsrc++;
	if (!found) { /* as for a new file: record the start at once */
		set_ckpt(c, s);
		while (store_flush(c->st) == -1 && !sig_term)
			daemon_sleep_ms(500);
	}
	return 0;
}

/* Move ready events into the batch; false when it is full. */
static bool
drain(struct collect *c, struct csource *s)
{
	const struct tls_event *ev;

	for (; (ev = parser_peek(s->p)) != NULL; parser_pop(s->p)) {
		if (store_add(c->st, ev) == -1)
			return false; /* stays in the parser until there is room
				       */
		if (ev->ts_us > s->last_ev_us)
			s->last_ev_us = ev->ts_us;
	}
	return true;
}

static void
set_journal_ckpt(struct collect *c, struct csource *s)
{
	struct store_ckpt ck;
	struct journal_pos pos;

	if (!journal_position(s->jr, parser_resume_offset(s->p), &pos))
		return; /* nothing read yet: nothing to resume from */
	memset(&ck, 0, sizeof(ck));
	(void)snprintf(ck.kind, sizeof(ck.kind), "journal");
	(void)snprintf(ck.name, sizeof(ck.name), "%s", s->ckname);
	ck.inode = pos.last_rt;
	ck.offset = pos.offset;
	ck.resume = pos.resume;
	(void)snprintf(ck.first_hash, sizeof(ck.first_hash), "%s", pos.filter);
	(void)snprintf(ck.cursor, sizeof(ck.cursor), "%s", pos.cursor);
	fill_counters(c, s, &ck.counters);
	store_set_ckpt(c->st, &ck);
}

/* The counters stored beside a source's checkpoint (Health page). */
static void
fill_counters(const struct collect *c, const struct csource *s,
    struct store_counters *out)
{
	struct parser_stats ps;

	parser_get_stats(s->p, &ps);
	add_stats(&ps, &s->done);
	out->set = true;
	out->started_us = c->started_us;
	out->last_event_us = s->last_ev_us;
	out->lines = ps.lines;
	out->events = ps.events;
	out->other = ps.other;
	out->unused = ps.unused;
	out->malformed = ps.malformed;
	out->truncated = ps.truncated;
	out->badtime = ps.badtime;
	out->evicted = ps.evicted;
	out->expired = ps.expired;
}

/* The source's position, once its events are all in the batch. */
static void
set_ckpt(struct collect *c, struct csource *s)
{
	struct store_ckpt ck;
	struct tail_pos pos;
	int64_t resume;

	if (s->jr != NULL) {
		set_journal_ckpt(c, s);
		return;
	}
	if (s->tail == NULL)
		return; /* standard input cannot resume */
	tail_position(s->tail, &pos);
	memset(&ck, 0, sizeof(ck));
	(void)snprintf(ck.kind, sizeof(ck.kind), "file");
	(void)snprintf(ck.name, sizeof(ck.name), "%s", s->name);
	ck.inode = pos.inode;
	ck.offset = pos.offset;
	resume = parser_resume_offset(s->p);
	ck.resume = resume < pos.offset ? resume : pos.offset;
	(void)snprintf(
	    ck.first_hash, sizeof(ck.first_hash), "%s", pos.first_hash);
	fill_counters(c, s, &ck.counters);
	store_set_ckpt(c->st, &ck);
}

/* The file under a tailer changed: close the old stream's sessions. */
static bool
rotate(struct collect *c, struct csource *s)
{
	struct parser_stats ps;

	parser_finish(s->p);
	if (!drain(c, s))
		return false; /* retried after a flush; finish is idempotent */
	parser_get_stats(s->p, &ps);
	add_stats(&s->done, &ps);
	parser_free(s->p);
	s->p = new_parser(c, s);
	c->rotations++;
	return true;
}

/*
 * Read up to COLLECT_PUMP_LINES lines of one source.  Returns the number
 * of lines read; stops early when the batch is full.
 */
static int
pump(struct collect *c, struct csource *s)
{
	const char *line;
	size_t len;
	int64_t off;
	bool cut;
	int n = 0, rc;

	s->eof = false;
	if (!drain(c, s))
		return 0;
	while (n < COLLECT_PUMP_LINES) {
		if (s->tail != NULL)
			rc = tail_next(s->tail, &line, &len, &off, &cut);
		else if (s->jr != NULL)
			rc = (int)journal_next(s->jr, &line, &len, &off, &cut);
		else
			rc = (int)lineread_next(s->lr, &line, &len, &off, &cut);
		if (rc == TAIL_ROTATED) {
			if (!rotate(c, s)) {
				/* Not all in the batch: re-finish next round.
				 */
				set_ckpt(c, s);
				return n;
			}
			continue;
		}
		if (rc != TAIL_LINE) {
			s->eof = true;
			break;
		}
		n++;
		s->lines++;
		if (cut)
			parser_note_truncated(s->p);
		(void)parser_line(s->p, line, len, off);
		if (!drain(c, s))
			return n; /* no checkpoint: events of a line pending */
	}
	set_ckpt(c, s);
	return n;
}

static bool
all_done(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->nsrc; i++)
		if (!c->src[i].eof || parser_peek(c->src[i].p) != NULL)
			return false;
	return true;
}

/* --once: close every open session and queue the rest. */
static bool
finish_all(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->nsrc; i++) {
		struct csource *s = &c->src[i];

		if (!s->finished) {
			parser_finish(s->p);
			s->finished = true;
		}
		if (!drain(c, s))
			return false;
		set_ckpt(c, s);
	}
	return true;
}

void
collect_log_counters(const struct collect *c)
{
	struct store_stats ss;
	struct parser_stats ps;
	size_t i;

	for (i = 0; i < c->nsrc; i++) {
		const struct csource *s = &c->src[i];

		parser_get_stats(s->p, &ps);
		add_stats(&ps, &s->done);
		log_info("collect: %s: %llu lines, %llu sessions, %llu other "
			 "programs, %llu unused, %llu malformed, %llu cut, "
			 "%llu bad times, %llu evicted, %llu expired, %llu "
			 "internal",
		    s->name, (unsigned long long)ps.lines,
		    (unsigned long long)ps.events, (unsigned long long)ps.other,
		    (unsigned long long)ps.unused,
		    (unsigned long long)ps.malformed,
		    (unsigned long long)ps.truncated,
		    (unsigned long long)ps.badtime,
		    (unsigned long long)ps.evicted,
		    (unsigned long long)ps.expired,
		    (unsigned long long)ps.internal);
	}
	store_stats(c->st, &ss);
	log_info("collect: store: %llu sessions in %llu batches, %llu failed "
		 "attempts, %zu pending, database %s; %llu rotations",
	    (unsigned long long)ss.events, (unsigned long long)ss.batches,
	    (unsigned long long)ss.failures, store_pending(c->st),
	    ss.connected ? "connected" : "not connected",
	    (unsigned long long)c->rotations);
}

static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
collect_run(struct collect *c)
{
	double last_counters = mono(), give_up;
	size_t i;
	int progress;

	while (!sig_term) {
		if (sig_hup) {
			sig_hup = 0;
			(void)config_reload();
			for (i = 0; i < c->nsrc; i++)
				if (c->src[i].tail != NULL)
					tail_reopen(c->src[i].tail);
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			collect_log_counters(c);
		}
		if (cf_counters_interval > 0 &&
		    mono() - last_counters >= (double)cf_counters_interval) {
			collect_log_counters(c);
			last_counters = mono();
		}
		progress = 0;
		if (!store_full(c->st))
			for (i = 0; i < c->nsrc; i++)
				progress += pump(c, &c->src[i]);
		if (c->o.once && all_done(c) && finish_all(c) &&
		    store_flush(c->st) == 0)
			return 0;
		if ((store_full(c->st) || store_due(c->st)) &&
		    store_push(c->st) == -1) {
			daemon_sleep_ms(100);
			continue;
		}
		if (progress == 0)
			daemon_sleep_ms(c->o.once ? 1 : 200);
	}
	/* SIGTERM: store what was read; open sessions are re-read later. */
	give_up = mono() + 10;
	while (store_flush(c->st) == -1) {
		if (mono() > give_up) {
			log_warnx("collect: could not store the last %zu "
				  "sessions; they will be read again at the "
				  "next start",
			    store_pending(c->st));
			return -1;
		}
		daemon_sleep_ms(200);
	}
	return 0;
}

void
collect_free(struct collect *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsrc; i++) {
		tail_free(c->src[i].tail);
		lineread_free(c->src[i].lr);
		journal_free(c->src[i].jr);
		free(c->src[i].ckname);
		parser_free(c->src[i].p);
		free(c->src[i].name);
	}
	free(c);
}
