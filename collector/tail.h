/*
 * tail.h - follow one growing, rotating log file
 *
 * Survives rename+create rotation (the old file is drained to its end
 * before the new one is opened) and copytruncate (the lines appended
 * between our last read and the copy are read from FILE.1).  A file
 * rotated while tlsflow was stopped (once or several times) is found
 * again among FILE.1 .. FILE.9 (or FILE-*) and read to its end, then the
 * newer generations in turn, then FILE.  A line longer than LINEREAD_MAX is
 * returned cut, with *truncated set.
 * Ownership: tail_open() returns a new object, released by tail_free()
 * (NULL is a no-op).  Lines are borrowed until the next call.
 */
#ifndef COLLECTOR_TAIL_H
#define COLLECTOR_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAIL_HASH_MAX 16   /* hex digits of the first-line hash */
#define TAIL_GENERATIONS 9 /* rotated files looked at: PATH.1 .. PATH.9 */

enum tail_rc {
	TAIL_LINE = 1,	  /* *line, *len, *off are set */
	TAIL_AGAIN = 0,	  /* no complete line yet */
	TAIL_ROTATED = 2, /* now reading another file, offsets restart */
	TAIL_ERR = -1	  /* I/O error, already logged */
};

/* Which file, where: what a checkpoint stores. */
struct tail_pos {
	int64_t inode;	/* -1: unknown */
	int64_t offset; /* next byte to read */
	char first_hash[TAIL_HASH_MAX + 1];
};

struct tail;

/*
 * Follow `path' from `resume' (NULL: a file not seen before, read from
 * its start, or from its end when `from_end').  Returns NULL (logged)
 * only when neither the file nor its rotated predecessor can be opened
 * and `path' does not exist yet; a missing file is otherwise waited for.
 */
struct tail *tail_open(
    const char *path, const struct tail_pos *resume, bool from_end);
enum tail_rc tail_next(struct tail *, const char **line, size_t *len,
    int64_t *off, bool *truncated);
/* The position after the last line returned. */
void tail_position(const struct tail *, struct tail_pos *);
/* Check for rotation now (SIGHUP), not only at the end of data. */
void tail_reopen(struct tail *);
void tail_free(struct tail *);

#endif /* COLLECTOR_TAIL_H */
