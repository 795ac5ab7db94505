/*
 * parser.h - MTA log lines in, session events out
 *
 * A parser turns a stream of log lines from one source (one file, the
 * journal, stdin) into session events.  It does no I/O, allocates nothing
 * per line, and links no database, capture or HTTP library, so it can be
 * unit-tested and fuzzed alone.  Sessions span several lines: the parser
 * keeps the open ones in a bounded table (memory cap, idle expiry by log
 * time, evictions counted).
 *
 * Exactly-once contract with the collector: every line is fed with its
 * byte offset.  An event carries start_off (its session's first line) and
 * end_off (the line that completed it).  parser_resume_offset() is the
 * smallest start offset of a session still open (or the offset after the
 * last line when none is).  A collector that commits "everything that
 * completed before offset X" plus "re-read from parser_resume_offset()"
 * re-reads from the resume point after a restart with parser_skip_before
 * set to X, and the parser drops events whose end_off < X: parsing is a
 * deterministic function of the lines, so no session is lost or repeated.
 *
 * Ownership: parser_new() returns a new object freed by parser_free().
 * Events from parser_next() are copied into the caller's record; those
 * of parser_peek() are borrowed.
 */
#ifndef PARSERS_PARSER_H
#define PARSERS_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define PARSER_LINE_MAX 8192 /* longer lines are cut by the reader */

enum parse_rc {
	PARSE_EVENT = 1,     /* the line was used (an event may be ready) */
	PARSE_NONE = 0,	     /* not ours, or ours but carries nothing */
	PARSE_MALFORMED = -1 /* ours, but did not parse: counted */
};

enum parser_format {
	PARSER_AUTO = 0, /* per line, from the program name */
	PARSER_POSTFIX,
	PARSER_EXIM,
	PARSER_SENDMAIL,
	PARSER_OPENSMTPD
};

struct parser_opts {
	enum parser_format format;
	const char *origin;  /* source name for "origin" (file path) */
	const char *host;    /* default MTA host when lines carry none */
	int64_t ref_time_us; /* "now" for year inference (file mtime) */
	int year;	     /* timestamps without a year: this one; 0:
				infer from ref_time_us with the January
				rollover */
	size_t max_sessions; /* open-session cap; 0: default */
	int64_t idle_us;     /* open-session expiry in log time; 0: dflt */
	/*
	 * Envelope senders of our own TLS-RPT report mail (space separated):
	 * an outbound session that carried only such mail gets
	 * EV_F_OWN_REPORT, so later reports leave it out (RFC 8460 5.3).
	 */
	const char *own_senders;
	/* Postfix services whose smtpd is client submission. */
	const char *submission_services; /* "submission submissions smtps" */
};

struct parser_stats {
	uint64_t lines;	    /* fed */
	uint64_t events;    /* emitted */
	uint64_t other;	    /* lines of other programs (skipped) */
	uint64_t unused;    /* MTA lines that carry nothing we need */
	uint64_t malformed; /* MTA lines that did not parse */
	uint64_t truncated; /* lines cut at PARSER_LINE_MAX by the reader */
	uint64_t badtime;   /* envelopes whose timestamp did not parse */
	uint64_t evicted;   /* open sessions dropped by the memory cap */
	uint64_t expired;   /* open sessions closed by idle expiry */
	uint64_t skipped;   /* events dropped as already committed */
	uint64_t internal;  /* sessions with local hops, not counted */
	uint64_t dropped;   /* events lost: parser_next() not called for
			       more than max_sessions + 64 events */
};

struct parser;

struct parser *parser_new(const struct parser_opts *);
void parser_free(struct parser *);

/* Parse by name: "auto", "postfix", ...; -1 when unknown. */
int parser_format_lookup(const char *name, enum parser_format *out)
    __attribute__((warn_unused_result));

/*
 * Feed one line (without its newline; need not be NUL-terminated, may
 * hold any bytes) that starts at byte `offset' of the source.  Lines must
 * come in order.
 */
enum parse_rc parser_line(
    struct parser *, const char *line, size_t len, int64_t offset);
/* The reader cut the line it is about to feed (for the counters). */
void parser_note_truncated(struct parser *);
/* Take the next completed event; false when there is none. */
bool parser_next(struct parser *, struct tls_event *out)
    __attribute__((warn_unused_result));
/*
 * The next completed event without taking it (NULL: none), borrowed
 * until parser_pop() or the next parser_line()/parser_finish(); saves
 * parser_next()'s copy of a 2 KB record.  parser_pop() takes it.
 */
const struct tls_event *parser_peek(struct parser *);
void parser_pop(struct parser *);
/*
 * End of input: close every open session (they become events; at end of
 * a batch run, or before a checkpoint that must cover everything).
 */
void parser_finish(struct parser *);
/* Drop events whose end_off is below `off' (already committed). */
void parser_skip_before(struct parser *, int64_t off);
/* Where to re-read from so no open session loses its first lines. */
int64_t parser_resume_offset(const struct parser *);
void parser_get_stats(const struct parser *, struct parser_stats *);

#endif /* PARSERS_PARSER_H */
