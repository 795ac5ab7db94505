/*
 * registry.c - the parser front end (see parser.h)
 *
 * Splits each line's envelope (syslog.c), picks the MTA from the program
 * tag, and passes the line to that MTA's module.  Finished sessions come
 * back through a callback into a ring of events that parser_next()
 * drains; the skip-before filter and the counters live here too.
 *
 * Input: log lines, untrusted (any bytes; the reader has already cut them
 * at PARSER_LINE_MAX).  Nothing is logged per line: bad input only moves
 * counters.
 *
 * MTAs plug in through the table `reg_mtas': a claim predicate on the
 * envelope and new/free/line/finish/min_start hooks: Postfix, then
 * Exim, Sendmail and OpenSMTPD follow; Exim's own main log has no syslog
 * envelope, so exim_envelope() splits it when syslog_parse() cannot.
 *
 * Memory: the MTA modules size their tables in parser_new() (Sendmail's
 * pid slots and OpenSMTPD's session pages are taken on first use); the event
 * ring grows by doubling, which happens only when many sessions finish at
 * once (parser_finish(), idle expiry), up to max_sessions + 64 events.
 * A caller that drains after every parser_line() never fills it.
 *
 * Single-threaded; one parser per source.
 */
#include "parsers/parser.h"

#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"
#include "parsers/exim.h"
#include "parsers/opensmtpd.h"
#include "parsers/postfix.h"
#include "parsers/sendmail.h"
#include "parsers/syslog.h"

#define REG_RING_MIN 64
#define REG_RING_SLACK 64 /* events a line may add besides sessions */
#define REG_SESSIONS_DEFAULT 4096

/* One MTA module. */
struct reg_mta {
	const char *name;
	enum parser_format format;
	bool (*claims)(const struct syslog_msg *, bool strict);
	void *(*create)(struct parser *);
	void (*destroy)(void *);
	enum parse_rc (*line)(void *, const struct syslog_msg *, int64_t off);
	void (*finish)(void *, int64_t off);
	bool (*min_start)(const void *, int64_t *off);
};

#define REG_MTAS 4
#define REG_EXIM 1 /* row of exim: its main log has its own envelope */

struct parser {
	struct parser_opts opts;
	char origin[EV_ORIGIN_MAX + 1]; /* "ORIGIN:" */
	size_t origin_len;
	struct syslog_clock clock;
	struct parser_stats st;
	void *mta[REG_MTAS]; /* per reg_mtas row; NULL: not in use */
	struct tls_event *ring;
	size_t cap, head, count, cap_max;
	/*
	 * sizeof(struct tls_event), kept in a variable: event copies (two
	 * per event, 2 KiB each) then go through libc's memcpy(), which
	 * is faster at this size than the "rep movsq" that compilers
	 * inline for a struct assignment.
	 */
	size_t evsize;
	int64_t skip_off; /* drop events with end_off below this */
	int64_t last_off; /* start of the last line fed, -1: none */
	int64_t next_off; /* just after it */
};

/* ------------------------------------------------------------------ */
/* Postfix hooks. */

/*
 * origin = "ORIGIN:START_OFF".  By hand rather than snprintf(): this runs
 * for every event and printf's machinery was a tenth of the parse time.
 */
static void
reg_origin(const struct parser *p, struct tls_event *ev)
{
	char digits[24];
	size_t n = 0, room = sizeof(ev->origin) - 1 - p->origin_len;
	uint64_t v = ev->start_off > 0 ? (uint64_t)ev->start_off : 0;

	memcpy(ev->origin, p->origin, p->origin_len);
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && n < sizeof(digits));
	if (n > room) {
		n = room; /* a path near EV_ORIGIN_MAX: keep its prefix */
		ev->flags |= EV_F_TRUNCATED;
	}
	for (v = 0; v < n; v++)
		ev->origin[p->origin_len + v] = digits[n - 1 - v];
	ev->origin[p->origin_len + n] = '\0';
}

/*
 * The MTA modules' emit callback: a copy into the ring.  The ring grows
 * instead of refusing, because a module hands over everything it closes
 * in one call (parser_finish(), a burst of expiries) and an event must
 * not be lost for lack of room; it stops at cap_max, a bound that only a
 * caller that never drains can reach.
 */
static void
reg_emit(void *arg, struct tls_event *ev)
{
	struct parser *p = arg;
	struct tls_event *slot;
	size_t i;

	if (p->count == p->cap) {
		if (p->cap >= p->cap_max) {
			/* The caller stopped draining: the oldest goes. */
			p->st.dropped++;
			p->head = (p->head + 1) % p->cap;
			p->count--;
		} else {
			struct tls_event *nr;
			size_t ncap =
			    p->cap * 2 > p->cap_max ? p->cap_max : p->cap * 2;

			nr = xreallocarray(NULL, ncap, sizeof(*nr));
			for (i = 0; i < p->count; i++)
				nr[i] = p->ring[(p->head + i) % p->cap];
			free(p->ring);
			p->ring = nr;
			p->cap = ncap;
			p->head = 0;
		}
	}
	slot = &p->ring[(p->head + p->count) % p->cap];
	memcpy(slot, ev, p->evsize);
	reg_origin(p, slot);
	p->count++;
}

static void *
reg_pf_create(struct parser *p)
{
	return postfix_new(&p->opts, &p->st, reg_emit, p);
}

static void
reg_pf_destroy(void *m)
{
	postfix_free(m);
}

static enum parse_rc
reg_pf_line(void *m, const struct syslog_msg *msg, int64_t off)
{
	return postfix_line(m, msg, off);
}

static void
reg_pf_finish(void *m, int64_t off)
{
	postfix_finish(m, off);
}

static bool
reg_pf_min_start(const void *m, int64_t *off)
{
	return postfix_min_start(m, off);
}

/* Exim, Sendmail, OpenSMTPD hooks: the same shape. */
/* clang-format off */
#define REG_HOOKS(px, mod)                                                     \
	static void *reg_##px##_create(struct parser *p)                      \
	{                                                                      \
		return mod##_new(&p->opts, &p->st, reg_emit, p);               \
	}                                                                      \
	static void reg_##px##_destroy(void *m) { mod##_free(m); }            \
	static enum parse_rc reg_##px##_line(                                  \
	    void *m, const struct syslog_msg *msg, int64_t off)                \
	{                                                                      \
		return mod##_line(m, msg, off);                                \
	}                                                                      \
	static void reg_##px##_finish(void *m, int64_t off)                    \
	{                                                                      \
		mod##_finish(m, off);                                          \
	}                                                                      \
	static bool reg_##px##_min_start(const void *m, int64_t *off)          \
	{                                                                      \
		return mod##_min_start(m, off);                                \
	}
REG_HOOKS(ex, exim)
REG_HOOKS(sm, sendmail)
REG_HOOKS(os, opensmtpd)
/* clang-format on */

/* clang-format off */
static const struct reg_mta reg_mtas[REG_MTAS] = {
	{"postfix", PARSER_POSTFIX, postfix_claims, reg_pf_create,
	    reg_pf_destroy, reg_pf_line, reg_pf_finish, reg_pf_min_start},
	{"exim", PARSER_EXIM, exim_claims, reg_ex_create,
	    reg_ex_destroy, reg_ex_line, reg_ex_finish, reg_ex_min_start},
	{"sendmail", PARSER_SENDMAIL, sendmail_claims, reg_sm_create,
	    reg_sm_destroy, reg_sm_line, reg_sm_finish, reg_sm_min_start},
	{"opensmtpd", PARSER_OPENSMTPD, opensmtpd_claims, reg_os_create,
	    reg_os_destroy, reg_os_line, reg_os_finish, reg_os_min_start},
};

static const struct {
	const char *name;
	enum parser_format format;
} reg_formats[] = {
	{"auto", PARSER_AUTO}, {"postfix", PARSER_POSTFIX},
	{"exim", PARSER_EXIM}, {"sendmail", PARSER_SENDMAIL},
	{"opensmtpd", PARSER_OPENSMTPD}, {NULL, PARSER_AUTO}
};
/* clang-format on */

/* ------------------------------------------------------------------ */

int
parser_format_lookup(const char *name, enum parser_format *out)
{
	size_t i;

	for (i = 0; reg_formats[i].name != NULL; i++)
		if (strcmp(reg_formats[i].name, name) == 0) {
			*out = reg_formats[i].format;
			return 0;
		}
	return -1;
}

struct parser *
parser_new(const struct parser_opts *o)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	size_t i, n;

	p->opts = *o;
	/* "ORIGIN:" with room for at least 20 digits after it. */
	n = strlen(o->origin != NULL ? o->origin : "-");
	if (n > sizeof(p->origin) - 22)
		n = sizeof(p->origin) - 22;
	memcpy(p->origin, o->origin != NULL ? o->origin : "-", n);
	p->origin[n++] = ':';
	p->origin_len = n;
	p->opts.origin = NULL;
	syslog_clock_init(&p->clock, o->year, o->ref_time_us);
	n = o->max_sessions ? o->max_sessions : REG_SESSIONS_DEFAULT;
	p->cap_max = n + REG_RING_SLACK;
	p->cap = REG_RING_MIN;
	p->ring = xreallocarray(NULL, p->cap, sizeof(*p->ring));
	p->last_off = -1;
	p->next_off = 0;
	p->evsize = sizeof(struct tls_event);
	for (i = 0; i < REG_MTAS; i++)
		if (o->format == PARSER_AUTO || o->format == reg_mtas[i].format)
			p->mta[i] = reg_mtas[i].create(p);
	/* The modules copied what they keep; the caller's strings are not
	 * used after parser_new() returns. */
	p->opts.host = NULL;
	p->opts.submission_services = NULL;
	return p;
}

void
parser_free(struct parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < REG_MTAS; i++)
		if (p->mta[i] != NULL)
			reg_mtas[i].destroy(p->mta[i]);
	free(p->ring);
	free(p);
}

enum parse_rc
parser_line(struct parser *p, const char *line, size_t len, int64_t offset)
{
	struct syslog_msg m;
	enum syslog_rc src;
	enum parse_rc rc;
	size_t i;

	p->st.lines++;
	p->last_off = offset;
	p->next_off = offset + (int64_t)len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--; /* a file that went through a CRLF editor */
	/*
	 * Exim's own main log: "2026-11-22 10:00:01 1wtYVW-... => ...", the
	 * first choice of format exim; a fallback for format auto.
	 */
	if (p->opts.format == PARSER_EXIM &&
	    exim_envelope(&p->clock, line, len, &m))
		src = SYSLOG_OK;
	else if ((src = syslog_parse(&p->clock, line, len, &m)) != SYSLOG_OK &&
		 p->mta[REG_EXIM] != NULL && len > 20 && line[10] == ' ' &&
		 exim_envelope(&p->clock, line, len, &m))
		src = SYSLOG_OK;
	switch (src) {
	case SYSLOG_OK:
		break;
	case SYSLOG_BADTIME:
		p->st.badtime++;
		return PARSE_NONE;
	default:
		p->st.other++; /* a time, but no program tag: not an MTA */
		return PARSE_NONE;
	}
	/*
	 * Format auto asks each module in turn with its strict claim (the
	 * program name must be the MTA's); a fixed format lets the module
	 * accept renamed programs (a custom syslog_name).
	 */
	for (i = 0; i < REG_MTAS; i++) {
		if (p->mta[i] == NULL ||
		    !reg_mtas[i].claims(&m, p->opts.format == PARSER_AUTO))
			continue;
		rc = reg_mtas[i].line(p->mta[i], &m, offset);
		if (rc == PARSE_NONE)
			p->st.unused++;
		else if (rc == PARSE_MALFORMED)
			p->st.malformed++;
		return rc;
	}
	p->st.other++;
	return PARSE_NONE;
}

void
parser_note_truncated(struct parser *p)
{
	p->st.truncated++;
}

/*
 * skip_before applies here rather than at emit time, so that it also
 * covers events queued before the caller set it.
 */
const struct tls_event *
parser_peek(struct parser *p)
{
	while (p->count > 0) {
		const struct tls_event *ev = &p->ring[p->head];

		if (ev->end_off >= p->skip_off)
			return ev;
		p->head = (p->head + 1) % p->cap;
		p->count--;
		p->st.skipped++; /* committed before the restart */
	}
	return NULL;
}

void
parser_pop(struct parser *p)
{
	if (parser_peek(p) == NULL)
		return;
	p->head = (p->head + 1) % p->cap;
	p->count--;
	p->st.events++;
}

bool
parser_next(struct parser *p, struct tls_event *out)
{
	const struct tls_event *ev = parser_peek(p);

	if (ev == NULL)
		return false;
	memcpy(out, ev, p->evsize);
	parser_pop(p);
	return true;
}

/* Sessions still open end at the last line fed: that is their end_off. */
void
parser_finish(struct parser *p)
{
	size_t i;

	/*
	 * Sessions closed here complete at the end of the input, after every
	 * line fed: a session still open when a checkpoint was taken must not
	 * look "already committed" when it is finished after a restart.
	 */
	for (i = 0; i < REG_MTAS; i++)
		if (p->mta[i] != NULL)
			reg_mtas[i].finish(p->mta[i], p->next_off);
}

void
parser_skip_before(struct parser *p, int64_t off)
{
	p->skip_off = off;
}

/*
 * The smallest start offset of an open session, else the offset after the
 * last line.  Before any line it is 0: the parser cannot know where its
 * caller began, and re-reading too much only costs time (skip_before
 * drops the repeats), while a later offset could lose a session.
 */
int64_t
parser_resume_offset(const struct parser *p)
{
	int64_t best = p->next_off, off;
	size_t i;

	for (i = 0; i < REG_MTAS; i++)
		if (p->mta[i] != NULL &&
		    reg_mtas[i].min_start(p->mta[i], &off) && off < best)
			best = off;
	return best;
}

void
parser_get_stats(const struct parser *p, struct parser_stats *out)
{
	*out = p->st;
}
