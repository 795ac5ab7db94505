/*
 * journal.h - read the systemd journal as a stream of syslog lines
 *
 * Each journal entry becomes one RFC 3339 syslog line
 * "2026-11-22T10:00:01.123456+00:00 HOST IDENT[PID]: MESSAGE" (at most
 * JOURNAL_LINE_MAX bytes) with a stable offset, so that the parsers'
 * exactly-once contract (parsers/parser.h) holds across restarts: the
 * position (struct journal_pos) names an entry by its journal cursor and
 * gives it the offset it had when it was read.
 * Ownership: journal_open() returns a new object freed by journal_free()
 * (NULL is a no-op).  The line from journal_next() is borrowed and valid
 * until the next call on the same object.
 */
#ifndef COLLECTOR_JOURNAL_H
#define COLLECTOR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_LINE_MAX 8192	 /* as PARSER_LINE_MAX */
#define JOURNAL_CURSOR_MAX 511	 /* as STORE_CURSOR_MAX */
#define JOURNAL_FILTER_MAX 16	 /* hex digits of the match-set hash */
#define JOURNAL_MATCH_MAX 32	 /* --unit plus --identifier values */
#define JOURNAL_MATCHLEN_MAX 255 /* one unit name or identifier */

struct journal_opts {
	const char *directory;	  /* journal files' directory; NULL or "":
				     the local system journal */
	const char *const *units; /* _SYSTEMD_UNIT values (OR'ed) */
	size_t nunits;
	const char *const *idents; /* SYSLOG_IDENTIFIER values (OR'ed) */
	size_t nidents;
	bool from_end; /* no position yet: start after the last entry */
};

/*
 * Where a reader stands.  Every entry with an offset below `offset' has
 * been read; `cursor' names the entry whose offset is `resume' (empty: no
 * entry read yet).  last_rt is the realtime (µs) of the last entry read,
 * used only when the cursor's entry is gone (vacuumed) or the match set
 * changed (`filter' differs).
 */
struct journal_pos {
	int64_t offset;
	int64_t resume;
	int64_t last_rt;
	char cursor[JOURNAL_CURSOR_MAX + 1];
	char filter[JOURNAL_FILTER_MAX + 1];
};

enum journal_rc {
	JOURNAL_LINE = 1,  /* *line, *len, *off and *cut are set */
	JOURNAL_AGAIN = 0, /* no new entry now */
	JOURNAL_ERR = -1   /* read error, already logged */
};

struct journal; /* opaque */

/*
 * Open the journal with o's matches; `o' and its strings are only used
 * during the call.  `at': the committed position (NULL: none, start at
 * the head, or at the tail with o->from_end).  *skip_before is set to the
 * offset below which re-read events are already stored, or -1.  Returns
 * NULL on error (logged).
 */
struct journal *journal_open(const struct journal_opts *o,
    const struct journal_pos *at, int64_t *skip_before);
/* The next entry as a syslog line; *cut when it was cut to fit. */
enum journal_rc journal_next(
    struct journal *, const char **line, size_t *len, int64_t *off, bool *cut);
/*
 * The position to commit when every event of entries below the current
 * offset is stored and re-reading must start at or before `want_resume'
 * (the parser's resume offset).  Forgets the cursors older than that.
 * false when there is no position yet (nothing read, nothing resumed).
 */
bool journal_position(struct journal *, int64_t want_resume,
    struct journal_pos *out) __attribute__((warn_unused_result));
/* The match-set hash of `o' (as in journal_pos.filter). */
void journal_filter_hash(
    const struct journal_opts *o, char out[JOURNAL_FILTER_MAX + 1]);
void journal_free(struct journal *);

#endif /* COLLECTOR_JOURNAL_H */
