/*
 * journal.c - the systemd journal as syslog lines (see journal.h)
 *
 * Input: journal entries, untrusted: any field may be missing, long, or
 * hold any bytes (a binary MESSAGE, NULs, newlines).  Each entry becomes
 * one line "2026-11-22T10:00:01.123456+00:00 HOST IDENT[PID]: MESSAGE"
 * (MTA-LOGS.md section 1): __REALTIME_TIMESTAMP in UTC, _HOSTNAME (left
 * out when missing), SYSLOG_IDENTIFIER (else _COMM, else "unknown"), and
 * SYSLOG_PID (else _PID).  Host and identifier lose spaces and control
 * bytes, which would end their syslog field; CR and LF in MESSAGE become
 * spaces (one entry is one line); other bytes are left for the parser,
 * which takes any.  A line is cut at JOURNAL_LINE_MAX.
 * Matches: --unit values are _SYSTEMD_UNIT= matches (".service" added
 * when the name has no suffix), --identifier values SYSLOG_IDENTIFIER=;
 * values of one option are OR'ed, the two options AND'ed (sd-journal's
 * own rule for different fields).
 *
 * Offsets.  A journal has no byte offsets, and a cursor cannot be
 * compared or incremented, so the reader numbers entries itself: an
 * entry's offset is the offset of the entry it resumed from plus the
 * number of entries since.  The committed position holds the cursor of a
 * "resume entry" with its offset, so a restart seeks to that cursor and
 * numbers the entries after it exactly as the first run did; the
 * collector then drops the events that end below the committed offset
 * (parsers/parser.h).  For that, the reader keeps a bounded ring of
 * (offset, cursor) marks for the entries since the oldest open session:
 * every entry at first; when the ring fills, every other mark is dropped
 * and marks are taken every 2nd, 4th, ... entry.  The resume entry is the
 * last mark at or before the parser's resume offset, so a restart may
 * re-read a few more entries than needed, never fewer.
 *
 * Limits (exactly once holds only within them):
 *   - The entries after the resume entry must be the same, in the same
 *     order, when read again: the journal must only grow at its end in
 *     sd-journal's order.  True for one journald (one seqnum id) and for
 *     files written in time order; entries that a new file inserts
 *     before the read position are not read (as with journalctl -f), and
 *     if they fall between the resume entry and the committed offset
 *     they shift the numbering of one restart.
 *   - When the resume entry is gone (vacuumed, rotated away) or the
 *     match set changed between runs, the reader warns and restarts after
 *     the realtime of the last committed entry: entries with the same
 *     microsecond may be skipped and sessions open at the stop lose
 *     their first lines.
 *   - Offsets start at 0 for a new checkpoint and grow for its lifetime
 *     (int64: no wrap in practice).
 *   - With from_end and no position, the current last entry is taken as
 *     read; a restart re-feeds it (harmless: events ending there are
 *     dropped as committed).
 *
 * Single-threaded; one sd_journal per object.  Follow mode: the caller
 * polls (collect.c, at most every 200 ms); at the end of the journal the
 * reader calls sd_journal_process() to pick up new journal files.
 */
#include "collector/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define JOURNAL_MARKS_MAX 256 /* cursors kept for the resume entry */
#define JOURNAL_FIELD_MAX 253 /* host, identifier: as SYSLOG_HOST_MAX */
#define JOURNAL_PID_MAX 10    /* digits of a pid */

struct jmark {
	int64_t off;
	char cursor[JOURNAL_CURSOR_MAX + 1];
};

struct journal {
	sd_journal *j;
	bool primed;		 /* the current entry is the next to read */
	int64_t next;		 /* offset of the next entry */
	int64_t last_rt;	 /* realtime of the last entry read, -1: none */
	struct journal_pos base; /* the position resumed from */
	bool have_base;
	struct jmark *marks; /* ring, JOURNAL_MARKS_MAX */
	size_t head, count;
	int64_t stride, last_mark;
	char filter[JOURNAL_FILTER_MAX + 1];
	char line[JOURNAL_LINE_MAX];
};

static struct jmark *
jn_mark(struct journal *jn, size_t i)
{
	return &jn->marks[(jn->head + i) % JOURNAL_MARKS_MAX];
}

/* Keep the first mark and every other one after it; mark less often. */
static void
jn_thin(struct journal *jn)
{
	size_t i, n = 1;

	for (i = 2; i < jn->count; i += 2, n++)
		*jn_mark(jn, n) = *jn_mark(jn, i);
	jn->count = n;
	jn->stride *= 2;
}

static void
jn_add_mark(struct journal *jn, int64_t off, const char *cursor)
{
	if (strlen(cursor) > JOURNAL_CURSOR_MAX)
		return; /* no real cursor is that long; keep the older marks */
	if (jn->count == JOURNAL_MARKS_MAX)
		jn_thin(jn);
	(void)snprintf(jn_mark(jn, jn->count)->cursor, JOURNAL_CURSOR_MAX + 1,
	    "%s", cursor);
	jn_mark(jn, jn->count)->off = off;
	jn->count++;
	jn->last_mark = off;
}

void
journal_filter_hash(
    const struct journal_opts *o, char out[JOURNAL_FILTER_MAX + 1])
{
	uint64_t sum = 0, h;
	size_t i, k;
	const char *s;

	/* A sum of per-value hashes: the order of the options is moot. */
	for (i = 0; i < o->nunits + o->nidents; i++) {
		s = i < o->nunits ? o->units[i] : o->idents[i - o->nunits];
		h = 14695981039346656037ULL; /* FNV-1a 64 */
		h = (h ^ (i < o->nunits ? 'u' : 'i')) * 1099511628211ULL;
		for (k = 0; s[k] != '\0'; k++)
			h = (h ^ (unsigned char)s[k]) * 1099511628211ULL;
		sum += h;
	}
	(void)snprintf(
	    out, JOURNAL_FILTER_MAX + 1, "%016llx", (unsigned long long)sum);
}

static int
jn_match(sd_journal *j, const char *field, const char *val, bool unit)
{
	char m[JOURNAL_MATCHLEN_MAX + 32];
	int n, r;

	if (strlen(val) > JOURNAL_MATCHLEN_MAX || val[0] == '\0') {
		log_warnx("journal: bad match value \"%s\"",
		    log_str(val, strlen(val)));
		return -1;
	}
	n = snprintf(m, sizeof(m), "%s=%s%s", field, val,
	    unit && strchr(val, '.') == NULL ? ".service" : "");
	if ((r = sd_journal_add_match(j, m, (size_t)n)) < 0) {
		log_warnx("journal: match %s: %s", log_str(m, (size_t)n),
		    strerror(-r));
		return -1;
	}
	return 0;
}

static int
jn_matches(sd_journal *j, const struct journal_opts *o)
{
	size_t i;

	for (i = 0; i < o->nunits; i++)
		if (jn_match(j, "_SYSTEMD_UNIT", o->units[i], true) == -1)
			return -1;
	/* Different fields are AND'ed; values of one field are OR'ed. */
	for (i = 0; i < o->nidents; i++)
		if (jn_match(j, "SYSLOG_IDENTIFIER", o->idents[i], false) == -1)
			return -1;
	return 0;
}

/* Copy the current entry's cursor; false when there is none. */
static bool
jn_cursor(struct journal *jn, char out[JOURNAL_CURSOR_MAX + 1])
{
	char *c = NULL;
	bool ok;

	if (sd_journal_get_cursor(jn->j, &c) < 0 || c == NULL)
		return false;
	ok = strlen(c) <= JOURNAL_CURSOR_MAX;
	if (ok)
		(void)snprintf(out, JOURNAL_CURSOR_MAX + 1, "%s", c);
	free(c);
	return ok;
}

/* Seek to a committed position; -1 when it cannot be found exactly. */
static int
jn_seek_exact(struct journal *jn, const struct journal_pos *at)
{
	int r;

	if (strcmp(at->filter, jn->filter) != 0) {
		log_warnx("journal: the --unit/--identifier set changed "
			  "since the last run");
		return -1;
	}
	if (at->cursor[0] == '\0' ||
	    sd_journal_seek_cursor(jn->j, at->cursor) < 0 ||
	    (r = sd_journal_next(jn->j)) <= 0 ||
	    sd_journal_test_cursor(jn->j, at->cursor) <= 0) {
		log_warnx("journal: the resume entry is no longer in the "
			  "journal");
		return -1;
	}
	jn->primed = true;
	jn->next = at->resume;
	jn_add_mark(jn, at->resume, at->cursor);
	return 0;
}

struct journal *
journal_open(const struct journal_opts *o, const struct journal_pos *at,
    int64_t *skip_before)
{
	struct journal *jn = xcalloc(1, sizeof(*jn));
	char cur[JOURNAL_CURSOR_MAX + 1];
	const char *what;
	uint64_t rt;
	int r;

	*skip_before = -1;
	jn->marks = xcalloc(JOURNAL_MARKS_MAX, sizeof(*jn->marks));
	jn->stride = 1;
	jn->last_rt = -1;
	journal_filter_hash(o, jn->filter);
	what = o->directory != NULL && o->directory[0] != '\0' ? o->directory
							       : "system";
	if (what == o->directory)
		r = sd_journal_open_directory(&jn->j, o->directory, 0);
	else
		r = sd_journal_open(&jn->j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		log_warnx("journal: %s: cannot open: %s",
		    log_str(what, strlen(what)), strerror(-r));
		goto fail;
	}
	/* Fields beyond a line are of no use; the rest is cut below. */
	(void)sd_journal_set_data_threshold(jn->j, JOURNAL_LINE_MAX + 64);
	/* Sets up inotify, so sd_journal_process() sees new files. */
	if ((r = sd_journal_get_fd(jn->j)) < 0)
		log_warnx("journal: %s: no change notification: %s",
		    log_str(what, strlen(what)), strerror(-r));
	if (jn_matches(jn->j, o) == -1)
		goto fail;
	if (at != NULL) {
		jn->base = *at;
		jn->have_base = true;
		jn->last_rt = at->last_rt;
		if (jn_seek_exact(jn, at) == 0) {
			*skip_before = at->offset;
			return jn;
		}
		/* Approximate: carry on after the last committed entry. */
		jn->next = at->offset;
		if (at->last_rt >= 0)
			r = sd_journal_seek_realtime_usec(
			    jn->j, (uint64_t)at->last_rt + 1);
		else
			r = sd_journal_seek_head(jn->j);
	} else if (o->from_end) {
		if ((r = sd_journal_seek_tail(jn->j)) >= 0 &&
		    sd_journal_previous(jn->j) > 0 && jn_cursor(jn, cur)) {
			/* The last entry counts as read (offset 0). */
			jn_add_mark(jn, 0, cur);
			jn->next = 1;
			if (sd_journal_get_realtime_usec(jn->j, &rt) >= 0)
				jn->last_rt = (int64_t)rt;
		}
	} else
		r = sd_journal_seek_head(jn->j);
	if (r < 0) {
		log_warnx("journal: %s: cannot seek: %s",
		    log_str(what, strlen(what)), strerror(-r));
		goto fail;
	}
	return jn;
fail:
	journal_free(jn);
	return NULL;
}

/* Field `name' of the current entry, without "NAME="; false: none. */
static bool
jn_field(sd_journal *j, const char *name, const char **v, size_t *len)
{
	const void *d;
	size_t l, n = strlen(name);

	if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= n ||
	    ((const char *)d)[n] != '=')
		return false;
	*v = (const char *)d + n + 1;
	*len = l - n - 1;
	return true;
}

/* Append a syslog field: no spaces, control bytes or brackets. */
static size_t
jn_put_token(
    char *o, size_t at, size_t max, const char *v, size_t len, size_t cap)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < len && i < cap && at < max; i++) {
		ch = (unsigned char)v[i];
		o[at++] = ch <= ' ' || ch == 0x7f || ch == '[' || ch == ']' ||
				  ch == ':'
			      ? '_'
			      : (char)ch;
	}
	return at;
}

static size_t
jn_put(char *o, size_t at, size_t max, const char *v, size_t len)
{
	size_t n = len < max - at ? len : max - at;

	memcpy(o + at, v, n);
	return at + n;
}

/* Build the syslog line of the current entry into jn->line. */
static size_t
jn_format(struct journal *jn, uint64_t rt, bool *cut)
{
	char ts[96];
	const char *v;
	size_t len, at, i, max = sizeof(jn->line);
	time_t sec = (time_t)(rt / 1000000);
	struct tm tm;
	bool pid_ok;

	memset(&tm, 0, sizeof(tm));
	(void)gmtime_r(&sec, &tm);
	(void)snprintf(ts, sizeof(ts),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%06u+00:00 ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (unsigned)(rt % 1000000));
	at = jn_put(jn->line, 0, max, ts, strlen(ts));
	if (jn_field(jn->j, "_HOSTNAME", &v, &len)) {
		at = jn_put_token(jn->line, at, max, v, len, JOURNAL_FIELD_MAX);
		at = jn_put(jn->line, at, max, " ", 1);
	}
	if (jn_field(jn->j, "SYSLOG_IDENTIFIER", &v, &len) ||
	    jn_field(jn->j, "_COMM", &v, &len))
		at = jn_put_token(jn->line, at, max, v, len, JOURNAL_FIELD_MAX);
	else
		at = jn_put(jn->line, at, max, "unknown", 7);
	if (jn_field(jn->j, "SYSLOG_PID", &v, &len) ||
	    jn_field(jn->j, "_PID", &v, &len)) {
		pid_ok = len > 0 && len <= JOURNAL_PID_MAX;
		for (i = 0; pid_ok && i < len; i++)
			pid_ok = v[i] >= '0' && v[i] <= '9';
		if (pid_ok) {
			at = jn_put(jn->line, at, max, "[", 1);
			at = jn_put(jn->line, at, max, v, len);
			at = jn_put(jn->line, at, max, "]", 1);
		}
	}
	at = jn_put(jn->line, at, max, ": ", 2);
	if (jn_field(jn->j, "MESSAGE", &v, &len)) {
		*cut = len > max - at;
		i = at;
		at = jn_put(jn->line, at, max, v, len);
		for (; i < at; i++)
			if (jn->line[i] == '\n' || jn->line[i] == '\r')
				jn->line[i] = ' ';
	}
	return at;
}

enum journal_rc
journal_next(
    struct journal *jn, const char **line, size_t *len, int64_t *off, bool *cut)
{
	char cur[JOURNAL_CURSOR_MAX + 1];
	uint64_t rt;
	int r;

	if (jn->primed)
		jn->primed = false; /* the resume entry, already current */
	else {
		r = sd_journal_next(jn->j);
		if (r == 0) {
			/* At the end: notice new files, then look again. */
			if (sd_journal_process(jn->j) < 0 ||
			    (r = sd_journal_next(jn->j)) == 0)
				return JOURNAL_AGAIN;
		}
		if (r < 0) {
			log_warnx("journal: read: %s", strerror(-r));
			return JOURNAL_ERR;
		}
	}
	if (sd_journal_get_realtime_usec(jn->j, &rt) < 0)
		rt = 0;
	*off = jn->next++;
	jn->last_rt = (int64_t)rt;
	if ((jn->count == 0 || *off - jn->last_mark >= jn->stride) &&
	    jn_cursor(jn, cur))
		jn_add_mark(jn, *off, cur);
	*cut = false;
	*len = jn_format(jn, rt, cut);
	*line = jn->line;
	return JOURNAL_LINE;
}

bool
journal_position(
    struct journal *jn, int64_t want_resume, struct journal_pos *out)
{
	memset(out, 0, sizeof(*out));
	if (jn->count == 0) {
		/* Nothing read since a resume that found no entry. */
		if (!jn->have_base)
			return false;
		*out = jn->base;
		(void)snprintf(
		    out->filter, sizeof(out->filter), "%s", jn->filter);
		return true;
	}
	while (jn->count >= 2 && jn_mark(jn, 1)->off <= want_resume) {
		jn->head = (jn->head + 1) % JOURNAL_MARKS_MAX;
		jn->count--;
	}
	if (jn->count < JOURNAL_MARKS_MAX / 4 && jn->stride > 1)
		jn->stride /= 2;
	out->offset = jn->next;
	out->resume = jn_mark(jn, 0)->off;
	out->last_rt = jn->last_rt;
	(void)snprintf(
	    out->cursor, sizeof(out->cursor), "%s", jn_mark(jn, 0)->cursor);
	(void)snprintf(out->filter, sizeof(out->filter), "%s", jn->filter);
	return true;
}

void
journal_free(struct journal *jn)
{
	if (jn == NULL)
		return;
	if (jn->j != NULL)
		sd_journal_close(jn->j);
	free(jn->marks);
	free(jn);
}
