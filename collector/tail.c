/*
 * tail.c - follow a rotating log file (see tail.h)
 *
 * Input: the log file's bytes, untrusted (lineread.c bounds them), and
 * the file system's view of the path, which can change under us at any
 * moment (logrotate, an administrator).  Single-threaded.
 *
 * Identity of a file is (inode, hash of its first line): the hash catches
 * an inode reused by a new file.  Rotation is noticed at the end of data:
 *	- the path names another inode: rename+create.  The old file is read
 *	  again until it has been idle for one more call (a daemon may still
 *	  be writing to it), then the new file is opened at offset 0;
 *	- the file is shorter than our offset: copytruncate.  The lines
 *	  written after our last read and before the truncation are in the
 *	  copy, FILE.1 (same first line, at least our offset long): they are
 *	  read from there first.
 */
#include "collector/tail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/lineread.h"
#include "common/log.h"
#include "common/xmalloc.h"

struct tail {
	char *path;
	int fd;			/* the file being read, or -1 */
	int64_t ino;
	struct lineread *lr;
	char hash[TAIL_HASH_MAX + 1];
	bool draining;		/* reading a rotated file to its end */
	int idle;		/* end-of-data calls since rotation seen */
	bool rotated_pending;	/* report TAIL_ROTATED before more lines */
};

/* FNV-1a 64 of the file's first line (up to LINEREAD_MAX bytes). */
static int
first_hash(int fd, char out[TAIL_HASH_MAX + 1])
{
	char buf[LINEREAD_MAX];
	uint64_t h = 0xcbf29ce484222325ULL;
	ssize_t n, i;

	out[0] = '\0';
	n = pread(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	for (i = 0; i < n && buf[i] != '\n'; i++) {
		h ^= (unsigned char)buf[i];
		h *= 0x100000001b3ULL;
	}
	if (i == n && n < (ssize_t)sizeof(buf))
		return 0; /* first line not complete yet: no identity */
	(void)snprintf(out, TAIL_HASH_MAX + 1, "%016llx",
	    (unsigned long long)h);
	return 0;
}

static void
tail_close(struct tail *t)
{
	lineread_free(t->lr);
	t->lr = NULL;
	if (t->fd != -1)
		(void)close(t->fd);
	t->fd = -1;
}

/* Start reading `fd' (taken) at `off'. */
static int
tail_use(struct tail *t, int fd, int64_t off)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1) {
		log_warn("tail: %s", t->path);
		(void)close(fd);
		return -1;
	}
	if (lseek(fd, (off_t)off, SEEK_SET) == (off_t)-1) {
		log_warn("tail: %s: seek", t->path);
		(void)close(fd);
		return -1;
	}
	tail_close(t);
	t->fd = fd;
	t->ino = (int64_t)sb.st_ino;
	(void)first_hash(fd, t->hash);
	t->lr = lineread_new(fd, off);
	t->idle = 0;
	return 0;
}

static int
open_ro(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/*
 * The rotated predecessor of our path with inode `ino': PATH.1, PATH.0 or
 * the newest PATH-* (logrotate dateext).  Returns an open fd or -1.
 */
static int
find_rotated(const char *path, int64_t ino)
{
	char cand[PATH_MAX], dir[PATH_MAX];
	const char *base, *slash;
	struct dirent *de;
	struct stat sb;
	size_t blen;
	DIR *d;
	int fd, i;

	for (i = 1; i >= 0; i--) {
		(void)snprintf(cand, sizeof(cand), "%s.%d", path, i);
		if (stat(cand, &sb) == 0 && (int64_t)sb.st_ino == ino &&
		    (fd = open_ro(cand)) != -1)
			return fd;
	}
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	(void)snprintf(dir, sizeof(dir), "%.*s",
	    slash ? (int)(slash - path) : 1, slash ? path : ".");
	if ((d = opendir(dir[0] ? dir : "/")) == NULL)
		return -1;
	blen = strlen(base);
	fd = -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 ||
		    de->d_name[blen] != '-')
			continue;
		if (snprintf(cand, sizeof(cand), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(cand))
			continue;
		if (stat(cand, &sb) == 0 && (int64_t)sb.st_ino == ino) {
			fd = open_ro(cand);
			break;
		}
	}
	(void)closedir(d);
	return fd;
}

/*
 * The copy logrotate's copytruncate made of our file: PATH.1 with our
 * first line and at least `off' bytes.  Returns an open fd or -1.
 */
static int
find_copy(const char *path, const char *hash, int64_t off)
{
	char cand[PATH_MAX], h[TAIL_HASH_MAX + 1];
	struct stat sb;
	int fd;

	if (hash[0] == '\0' ||
	    snprintf(cand, sizeof(cand), "%s.1", path) >= (int)sizeof(cand) ||
	    (fd = open_ro(cand)) == -1)
		return -1;
	if (fstat(fd, &sb) == 0 && (int64_t)sb.st_size >= off &&
	    first_hash(fd, h) == 0 && strcmp(h, hash) == 0)
		return fd;
	(void)close(fd);
	return -1;
}

struct tail *
tail_open(const char *path, const struct tail_pos *resume, bool from_end)
{
	struct tail *t = xcalloc(1, sizeof(*t));
	char hash[TAIL_HASH_MAX + 1];
	struct stat sb;
	int fd, open_errno;

	t->path = xstrdup(path);
	t->fd = -1;
	t->ino = -1;
	fd = open_ro(path);
	open_errno = errno;
	if (resume != NULL && resume->inode >= 0) {
		int old = -1;

		if (fd != -1 && fstat(fd, &sb) == 0 &&
		    (int64_t)sb.st_ino == resume->inode) {
			(void)first_hash(fd, hash);
			if ((int64_t)sb.st_size >= resume->offset &&
			    (resume->first_hash[0] == '\0' ||
				strcmp(hash, resume->first_hash) == 0)) {
				if (tail_use(t, fd, resume->offset) == 0)
					return t;
				goto fail;
			}
			/* Truncated while we were away: the copy has it. */
			old = find_copy(path, resume->first_hash,
			    resume->offset);
		} else {
			/* Rotated while stopped: finish the old file first. */
			old = find_rotated(path, resume->inode);
		}
		if (old != -1) {
			log_info("tail: %s: rotated while stopped; reading the "
				 "rest of the old file first",
			    path);
			if (fd != -1)
				(void)close(fd);
			if (tail_use(t, old, resume->offset) == -1)
				goto fail;
			t->draining = true;
			return t;
		}
		log_warnx("tail: %s: the file read before is gone; lines "
			  "after offset %lld of it are lost",
		    path, (long long)resume->offset);
	}
	if (fd == -1) {
		if (open_errno != ENOENT) {
			errno = open_errno;
			log_warn("tail: %s", path);
			goto fail;
		}
		log_info("tail: %s: does not exist yet; waiting", path);
		return t;
	}
	if (fstat(fd, &sb) == -1 ||
	    tail_use(t, fd, from_end && resume == NULL ?
		    (int64_t)sb.st_size : 0) == -1)
		goto fail;
	return t;
fail:
	tail_free(t);
	return NULL;
}

void
tail_free(struct tail *t)
{
	if (t == NULL)
		return;
	tail_close(t);
	free(t->path);
	free(t);
}

void
tail_position(const struct tail *t, struct tail_pos *pos)
{
	pos->inode = t->ino;
	pos->offset = t->lr ? lineread_offset(t->lr) : 0;
	(void)snprintf(pos->first_hash, sizeof(pos->first_hash), "%s",
	    t->hash);
}

/* Switch to the file now at our path, from its start. */
static enum tail_rc
switch_to_new(struct tail *t)
{
	int fd = open_ro(t->path);

	if (fd == -1) {
		if (errno != ENOENT)
			log_warn("tail: %s", t->path);
		return TAIL_AGAIN; /* keep the old one until it appears */
	}
	if (tail_use(t, fd, 0) == -1)
		return TAIL_ERR;
	t->draining = false;
	return TAIL_ROTATED;
}

/*
 * copytruncate: our file is shorter than what we read.  Read what was
 * appended before the copy from PATH.1, then the new content from 0.
 */
static enum tail_rc
truncated(struct tail *t)
{
	int64_t off = lineread_offset(t->lr);
	int fd;

	if ((fd = find_copy(t->path, t->hash, off)) != -1) {
		log_info("tail: %s: truncated (copytruncate); reading the "
			 "rest from its copy",
		    t->path);
		if (tail_use(t, fd, off) == -1)
			return TAIL_ERR;
		t->draining = true;
		return TAIL_AGAIN;
	}
	log_warnx("tail: %s: truncated and no copy found; reading it "
		  "again from the start",
	    t->path);
	fd = open_ro(t->path);
	if (fd == -1 || tail_use(t, fd, 0) == -1)
		return TAIL_ERR;
	return TAIL_ROTATED;
}

void
tail_reopen(struct tail *t)
{
	t->idle = 1; /* let the next end of data check the path at once */
}

/* At the end of data: has our file been rotated away? */
static enum tail_rc
check_rotation(struct tail *t)
{
	struct stat cur, now;

	if (t->fd == -1)
		return switch_to_new(t);
	if (t->draining) {
		/* The rotated file is complete: on to the new one. */
		return switch_to_new(t);
	}
	if (fstat(t->fd, &cur) == -1)
		return TAIL_ERR;
	/* Shorter than what read() gave us: truncated under us. */
	if ((int64_t)cur.st_size < lineread_offset(t->lr) +
		(int64_t)lineread_buffered(t->lr))
		return truncated(t);
	if (stat(t->path, &now) == -1 || (int64_t)now.st_ino == t->ino) {
		t->idle = 0;
		return TAIL_AGAIN;
	}
	/* Renamed away: one more idle round for late writes, then switch. */
	if (t->idle++ < 1)
		return TAIL_AGAIN;
	return switch_to_new(t);
}

enum tail_rc
tail_next(struct tail *t, const char **line, size_t *len, int64_t *off,
    bool *trunc)
{
	enum lr_rc rc;
	enum tail_rc tr;

	if (t->lr == NULL)
		return check_rotation(t);
	rc = lineread_next(t->lr, line, len, off, trunc);
	if (rc == LR_LINE)
		return TAIL_LINE;
	if (rc == LR_ERR)
		return TAIL_ERR;
	tr = check_rotation(t);
	if (tr == TAIL_AGAIN && t->draining && t->lr != NULL)
		return tail_next(t, line, len, off, trunc);
	return tr;
}
