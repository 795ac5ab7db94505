/*
 * collect.h - follow log sources into the store, exactly once
 *
 * Each source (a file, standard input, or the journal) has its own
 * reader and parser.
 * Events go to core/store; each source's checkpoint (file identity, the
 * offset up to which every completed session is stored, and the offset
 * to re-read from for sessions still open) is committed with them.  On
 * start a file resumes from its checkpoint.
 * Ownership: collect_new() returns a new object freed by collect_free().
 */
#ifndef COLLECTOR_COLLECT_H
#define COLLECTOR_COLLECT_H

#include <stdbool.h>

#include "collector/journal.h"
#include "core/store.h"
#include "parsers/parser.h"

struct collect_opts {
	enum parser_format format;
	bool once;     /* read to the end of every source, then stop */
	bool from_end; /* files seen for the first time: start at end */
};

struct collect;

/* Sources are added before collect_run(); "-" is standard input. */
struct collect *collect_new(struct store *, const struct collect_opts *);
/*
 * Add a file, resuming from its stored checkpoint (which needs the
 * database: waits for it, unless a signal asks to stop).  Returns 0 or -1
 * (logged).
 */
int collect_add(struct collect *, const char *path);
/*
 * Add the systemd journal (jo->from_end is taken from the collector's
 * options), resuming from its stored checkpoint as collect_add() does.
 * Returns 0 or -1 (logged).
 */
int collect_add_journal(struct collect *, const struct journal_opts *jo);
/*
 * The main loop, until the sources end (--once) or SIGTERM/SIGINT.
 * Returns 0, or -1 when the last batch could not be stored (it will be
 * read again on the next start: nothing is lost).
 */
int collect_run(struct collect *);
/* Log the counters (also done every counters_interval and on SIGUSR1). */
void collect_log_counters(const struct collect *);
void collect_free(struct collect *);

#endif /* COLLECTOR_COLLECT_H */
