/*
 * rd.h - a checked byte cursor for wire data (PgBouncer mbuf, tcpdump GET_*)
 *
 * A cursor is the pair [p, end); every read checks that its bytes are
 * there, returns false without moving when they are not, and never reads
 * at or past `end'.  rd_sub() cuts a length-prefixed field out of a
 * cursor, so that reads inside the field stop at its length even when
 * the length lies.  Wire structs are never cast onto packet memory.
 * Ownership: a cursor borrows the bytes it points to; it owns nothing.
 */
#ifndef COMMON_RD_H
#define COMMON_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

/* A cursor over the n bytes at p. */
static inline struct rd
rd_make(const void *p, size_t n)
{
	struct rd r;

	r.p = p;
	r.end = r.p + n;
	return r;
}

/* Bytes left. */
static inline size_t
rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static inline __attribute__((warn_unused_result)) bool
rd_u8(struct rd *r, uint8_t *v)
{
	if (r->end - r->p < 1)
		return false;
	*v = *r->p++;
	return true;
}

static inline __attribute__((warn_unused_result)) bool
rd_be16(struct rd *r, uint16_t *v)
{
	if (r->end - r->p < 2)
		return false;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return true;
}

static inline __attribute__((warn_unused_result)) bool
rd_be24(struct rd *r, uint32_t *v)
{
	if (r->end - r->p < 3)
		return false;
	*v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
	r->p += 3;
	return true;
}

static inline __attribute__((warn_unused_result)) bool
rd_be32(struct rd *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return true;
}

/* Move the next n bytes of r into sub.  Reads on sub stop at those n. */
static inline __attribute__((warn_unused_result)) bool
rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	sub->p = r->p;
	sub->end = r->p + n;
	r->p += n;
	return true;
}

/* Skip n bytes. */
static inline __attribute__((warn_unused_result)) bool
rd_skip(struct rd *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	r->p += n;
	return true;
}

#endif /* COMMON_RD_H */
