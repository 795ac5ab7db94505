/*
 * buf.h - growable byte buffer with a maximum fixed at init (curl dynbuf)
 *
 * Appends that would pass the maximum fail and leave the buffer as it
 * was.  The bytes are always followed by a NUL (not counted in len).
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len, cap, max;
};

void buf_init(struct buf *, size_t max);
int buf_add(struct buf *, const void *, size_t)
    __attribute__((warn_unused_result));
int buf_addstr(struct buf *, const char *) __attribute__((warn_unused_result));
int buf_addc(struct buf *, char) __attribute__((warn_unused_result));
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));
void buf_reset(struct buf *);
/* Give up the bytes: a new string the caller frees (never NULL). */
char *buf_steal(struct buf *);
void buf_free(struct buf *);

#endif /* COMMON_BUF_H */
