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
	int fd; /* the file being read, or -1 */
	int64_t ino;
	struct lineread *lr;
	char hash[TAIL_HASH_MAX + 1];
	bool draining;	      /* reading a rotated file to its end */
	int gen;	      /* draining PATH.gen; then PATH.gen-1 ... PATH */
	bool changed;	      /* truncated or rewritten under us */
	int idle;	      /* end-of-data calls since rotation seen */
	bool rotated_pending; /* report TAIL_ROTATED before more lines */
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
	(void)snprintf(
	    out, TAIL_HASH_MAX + 1, "%016llx", (unsigned long long)h);
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

/*
 * Before every read(): is the file still the one we were reading?  It is
 * not when it is shorter than what we took from it, or when its first
 * line changed (copytruncate, then new lines past our offset): reading on
 * would take the new file's bytes at the old file's offset.
 */
static bool
tail_still_same(void *arg)
{
	struct tail *t = arg;
	char h[TAIL_HASH_MAX + 1];
	struct stat sb;
	off_t pos;

	if (t->draining || fstat(t->fd, &sb) == -1)
		return true; /* a rotated file does not change any more */
	/* Opened before its first line was complete: take its identity now. */
	if (t->hash[0] == '\0') {
		(void)first_hash(t->fd, t->hash);
		log_debug("tail: %s: first-line hash now %s", t->path, t->hash);
		return true;
	}
	pos = lseek(t->fd, 0, SEEK_CUR);
	if (pos != (off_t)-1 && sb.st_size < pos) {
		t->changed = true;
		return false;
	}
	if (first_hash(t->fd, h) == 0 && strcmp(h, t->hash) != 0) {
		t->changed = true;
		return false;
	}
	return true;
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
	log_debug("tail: %s: reading inode %lld (generation %d%s) from %lld",
	    t->path, (long long)sb.st_ino, t->gen,
	    t->draining ? ", rotated" : "", (long long)off);
	t->fd = fd;
	t->ino = (int64_t)sb.st_ino;
	(void)first_hash(fd, t->hash);
	log_debug("tail: %s: inode %lld first-line hash %s", t->path,
	    (long long)sb.st_ino, t->hash[0] ? t->hash : "(none yet)");
	t->lr = lineread_new(fd, off);
	lineread_set_check(t->lr, tail_still_same, t);
	t->idle = 0;
	t->changed = false;
	return 0;
}

static int
open_ro(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/* PATH.n into out; false when it does not fit. */
static bool
gen_path(char *out, size_t outlen, const char *path, int n)
{
	return snprintf(out, outlen, "%s.%d", path, n) < (int)outlen;
}

/*
 * Where our old file went: the rotated generation PATH.N (1 <= N <=
 * TAIL_GENERATIONS) that is it (same inode: rename rotation), or that is
 * its copy (same first line and at least `off' bytes: copytruncate, when
 * `ino' still names PATH).  Returns an open fd and sets *gen, or -1.
 * logrotate's dateext names (PATH-*) are looked at by inode as a last
 * resort, as generation 1.
 */
static int
find_generation(const char *path, int64_t ino, const char *hash, int64_t off,
    bool by_copy, int *gen)
{
	char cand[PATH_MAX], h[TAIL_HASH_MAX + 1], dir[PATH_MAX];
	const char *base, *slash;
	struct dirent *de;
	struct stat sb;
	size_t blen;
	DIR *d;
	int fd, n;

	for (n = 1; n <= TAIL_GENERATIONS; n++) {
		if (!gen_path(cand, sizeof(cand), path, n) ||
		    stat(cand, &sb) == -1)
			continue;
		if (by_copy ? (int64_t)sb.st_size < off || hash[0] == '\0'
			    : (int64_t)sb.st_ino != ino)
			continue;
		if ((fd = open_ro(cand)) == -1)
			continue;
		/*
		 * Same inode is not enough: a file copytruncated and then
		 * renamed keeps its inode but not its bytes (the copy has
		 * them), so the first line must match too when it is known.
		 */
		if (hash[0] == '\0' ||
		    (first_hash(fd, h) == 0 && strcmp(h, hash) == 0)) {
			*gen = n;
			return fd;
		}
		(void)close(fd);
	}
	if (by_copy)
		return -1;
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
			*gen = 1;
			break;
		}
	}
	(void)closedir(d);
	return fd;
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
		int old = -1, gen = 0;

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
			log_debug("tail: %s: same inode, size %lld, hash %s: "
				  "truncated while stopped",
			    path, (long long)sb.st_size, hash);
			old = find_generation(path, resume->inode,
			    resume->first_hash, resume->offset, true, &gen);
		} else {
			/* Rotated while stopped: finish the old file first. */
			old = find_generation(path, resume->inode,
			    resume->first_hash, resume->offset, false, &gen);
			/* Copytruncated, then rotated on: its copy has it. */
			if (old == -1)
				old = find_generation(path, resume->inode,
				    resume->first_hash, resume->offset, true,
				    &gen);
		}
		if (old != -1) {
			log_info("tail: %s: rotated while stopped; reading the "
				 "rest of the old file (now %s.%d) and the "
				 "newer ones first",
			    path, path, gen);
			if (fd != -1)
				(void)close(fd);
			if (tail_use(t, old, resume->offset) == -1)
				goto fail;
			t->draining = true;
			t->gen = gen;
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
	    tail_use(t, fd,
		from_end && resume == NULL ? (int64_t)sb.st_size : 0) == -1)
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
	(void)snprintf(pos->first_hash, sizeof(pos->first_hash), "%s", t->hash);
}

/* The generation n with PATH.n our file `ino', or -1. */
static int
generation_of(const char *path, int64_t ino)
{
	char cand[PATH_MAX];
	struct stat sb;
	int n;

	for (n = 1; n <= TAIL_GENERATIONS; n++)
		if (gen_path(cand, sizeof(cand), path, n) &&
		    stat(cand, &sb) == 0 && (int64_t)sb.st_ino == ino)
			return n;
	return -1;
}

/*
 * Switch to the next newer file, from its start: while draining rotated
 * generations, the one just newer than ours (found again by inode, since
 * the numbers shift when logrotate runs while we read), else the file at
 * our path.
 */
static enum tail_rc
switch_to_new(struct tail *t)
{
	char cand[PATH_MAX];
	int fd, n;

	if (t->draining && t->fd != -1 &&
	    (n = generation_of(t->path, t->ino)) != -1)
		t->gen = n;
	while (t->draining && --t->gen >= 1) {
		if (!gen_path(cand, sizeof(cand), t->path, t->gen) ||
		    (fd = open_ro(cand)) == -1)
			continue; /* a gap: try the next newer one */
		if (tail_use(t, fd, 0) == -1)
			return TAIL_ERR;
		return TAIL_ROTATED;
	}
	t->gen = 0;
	fd = open_ro(t->path);
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
	int fd, gen;

	if ((fd = find_generation(t->path, t->ino, t->hash, off, true, &gen)) !=
	    -1) {
		log_info("tail: %s: truncated (copytruncate); reading the "
			 "rest from its copy",
		    t->path);
		if (tail_use(t, fd, off) == -1)
			return TAIL_ERR;
		t->draining = true;
		t->gen = gen;
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
		/* The rotated file is complete: on to the next newer one. */
		return switch_to_new(t);
	}
	if (fstat(t->fd, &cur) == -1)
		return TAIL_ERR;
	if (t->changed ||
	    (int64_t)cur.st_size <
		lineread_offset(t->lr) + (int64_t)lineread_buffered(t->lr))
		return truncated(t);
	if (stat(t->path, &now) == -1 || (int64_t)now.st_ino == t->ino) {
		t->idle = 0;
		return TAIL_AGAIN;
	}
	/* Renamed away: one more idle round for late writes, then switch. */
	if (t->idle++ < 1)
		return TAIL_AGAIN;
	/*
	 * Continue with the generation right after ours: if we lagged behind
	 * several rotations, our file is PATH.n now and PATH.n-1 comes next.
	 */
	t->draining = true;
	t->gen = 0;
	return switch_to_new(t);
}

enum tail_rc
tail_next(
    struct tail *t, const char **line, size_t *len, int64_t *off, bool *trunc)
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
