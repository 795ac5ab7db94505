/*
 * lineread.h - bounded line reader over a file descriptor
 *
 * Yields lines without their newline, each with the byte offset where it
 * starts.  A line longer than LINEREAD_MAX is returned cut, with
 * *truncated set, and the rest of it up to the next newline is dropped
 * (Suricata).  A final line without a newline is held back until more
 * data arrives, unless the reader was told that the input is complete.
 * Ownership: lines are borrowed until the next call on the same reader.
 */
#ifndef COLLECTOR_LINEREAD_H
#define COLLECTOR_LINEREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINEREAD_MAX 8192
#define LINEREAD_BUF (1024 * 1024)

enum lr_rc {
	LR_LINE = 1,  /* *line, *len, *off are set */
	LR_AGAIN = 0, /* no complete line yet (end of data for now) */
	LR_ERR = -1   /* read error, logged */
};

struct lineread;

/* A new reader on fd (not owned) whose next byte is at offset `off'. */
struct lineread *lineread_new(int fd, int64_t off);
void lineread_free(struct lineread *);
/*
 * Called before every read(); returning false makes lineread_next()
 * return LR_AGAIN without reading (the owner saw the file change under
 * it, e.g. truncated, and must act before any new byte is taken).
 */
typedef bool (*lineread_check_fn)(void *arg);
void lineread_set_check(struct lineread *, lineread_check_fn, void *arg);
/* Treat end of data as end of input: return a last unterminated line. */
void lineread_set_final(struct lineread *, bool);
enum lr_rc lineread_next(struct lineread *, const char **line, size_t *len,
    int64_t *off, bool *truncated);
/* Offset just after the last byte returned (line plus its newline). */
int64_t lineread_offset(const struct lineread *);
/* Bytes read but not yet returned (a partial line). */
size_t lineread_buffered(const struct lineread *);

#endif /* COLLECTOR_LINEREAD_H */
