/*
 * lineread.c - bounded line reader (see lineread.h)
 *
 * Input: log bytes, untrusted; any byte value may appear, NUL included.
 * The buffer is fixed at LINEREAD_BUF; memchr() finds newlines, so the
 * cost per line is one scan of its bytes.
 */
#include "collector/lineread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct lineread {
	int fd;
	char *buf;
	size_t start, end; /* unread bytes are buf[start, end) */
	int64_t off;	   /* offset of buf[start] */
	bool discard;	   /* dropping the rest of an over-long line */
	bool final;
	bool eof; /* last read() returned 0 */
	lineread_check_fn check;
	void *check_arg;
};

struct lineread *
lineread_new(int fd, int64_t off)
{
	struct lineread *lr = xcalloc(1, sizeof(*lr));

	lr->fd = fd;
	lr->buf = xmalloc(LINEREAD_BUF);
	lr->off = off;
	return lr;
}

void
lineread_free(struct lineread *lr)
{
	if (lr == NULL)
		return;
	free(lr->buf);
	free(lr);
}

void
lineread_set_check(struct lineread *lr, lineread_check_fn fn, void *arg)
{
	lr->check = fn;
	lr->check_arg = arg;
}

void
lineread_set_final(struct lineread *lr, bool final)
{
	lr->final = final;
}

int64_t
lineread_offset(const struct lineread *lr)
{
	return lr->off;
}

size_t
lineread_buffered(const struct lineread *lr)
{
	return lr->end - lr->start;
}

/* Read more; returns bytes read, 0 at end of data, -1 on error. */
static ssize_t
fill(struct lineread *lr)
{
	ssize_t n;

	if (lr->check != NULL && !lr->check(lr->check_arg))
		return 0;
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	do
		n = read(lr->fd, lr->buf + lr->end, LINEREAD_BUF - lr->end);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		log_warn("lineread: read");
		return -1;
	}
	lr->end += (size_t)n;
	lr->eof = n == 0;
	return n;
}

enum lr_rc
lineread_next(struct lineread *lr, const char **line, size_t *len, int64_t *off,
    bool *truncated)
{
	char *nl;
	size_t avail;
	ssize_t n;

	for (;;) {
		avail = lr->end - lr->start;
		nl = memchr(lr->buf + lr->start, '\n', avail);
		if (lr->discard) {
			/* Skip the tail of a cut line, up to its newline. */
			size_t skip =
			    nl ? (size_t)(nl - (lr->buf + lr->start)) + 1
			       : avail;

			lr->start += skip;
			lr->off += (int64_t)skip;
			if (nl != NULL)
				lr->discard = false;
			if (nl == NULL && (n = fill(lr)) <= 0)
				return n == 0 ? LR_AGAIN : LR_ERR;
			continue;
		}
		if (nl != NULL &&
		    (size_t)(nl - (lr->buf + lr->start)) <= LINEREAD_MAX) {
			*line = lr->buf + lr->start;
			*len = (size_t)(nl - *line);
			*off = lr->off;
			*truncated = false;
			lr->start += *len + 1;
			lr->off += (int64_t)*len + 1;
			return LR_LINE;
		}
		if (avail > LINEREAD_MAX) {
			/* Over-long: give the first LINEREAD_MAX bytes. */
			*line = lr->buf + lr->start;
			*len = LINEREAD_MAX;
			*off = lr->off;
			*truncated = true;
			lr->start += LINEREAD_MAX;
			lr->off += LINEREAD_MAX;
			lr->discard = true;
			return LR_LINE;
		}
		if ((n = fill(lr)) == -1)
			return LR_ERR;
		if (n == 0) {
			if (!lr->final || lr->end == lr->start)
				return LR_AGAIN;
			/* Input complete: the last line had no newline. */
			*line = lr->buf + lr->start;
			*len = lr->end - lr->start;
			*off = lr->off;
			*truncated = false;
			lr->off += (int64_t)*len;
			lr->start = lr->end;
			return LR_LINE;
		}
	}
}
