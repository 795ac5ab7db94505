/*
 * hello.h - build TLS records for the tests (ClientHello, ServerHello,
 * HelloRetryRequest, alerts, encrypted records), byte by byte as RFC 8446
 * 4.1.2/4.1.3 lays them out, so that the tests do not depend on what the
 * parser believes.
 */
#ifndef TESTS_UNIT_HELLO_H
#define TESTS_UNIT_HELLO_H

#include <stdint.h>
#include <string.h>

#define HB_MAX 8192

struct hb {
	uint8_t b[HB_MAX];
	size_t n;
};

static inline void
hb_u8(struct hb *h, unsigned v)
{
	if (h->n < HB_MAX)
		h->b[h->n++] = (uint8_t)v;
}

static inline void
hb_u16(struct hb *h, unsigned v)
{
	hb_u8(h, v >> 8);
	hb_u8(h, v & 0xff);
}

static inline void
hb_bytes(struct hb *h, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n-- > 0)
		hb_u8(h, *q++);
}

/* Patch a 16- or 24-bit length at `at' to cover up to the end. */
static inline void
hb_len16(struct hb *h, size_t at)
{
	size_t len = h->n - at - 2;

	h->b[at] = (uint8_t)(len >> 8);
	h->b[at + 1] = (uint8_t)len;
}

static inline void
hb_len24(struct hb *h, size_t at)
{
	size_t len = h->n - at - 3;

	h->b[at] = (uint8_t)(len >> 16);
	h->b[at + 1] = (uint8_t)(len >> 8);
	h->b[at + 2] = (uint8_t)len;
}

/*
 * A ClientHello handshake message (type, length, body) offering
 * `versions' (supported_versions when nv > 0, with a GREASE value first)
 * and naming `sni' (NULL: no server_name).
 */
static inline void
hb_client_hello(
    struct hb *h, const char *sni, const uint16_t *versions, size_t nv)
{
	size_t m, e, x, l;
	unsigned i;

	hb_u8(h, 1);
	m = h->n;
	hb_u8(h, 0);
	hb_u16(h, 0);
	hb_u16(h, 0x0303);
	for (i = 0; i < 32; i++)
		hb_u8(h, i);
	hb_u8(h, 32); /* session id */
	for (i = 0; i < 32; i++)
		hb_u8(h, 0xee);
	hb_u16(h, 8);
	hb_u16(h, 0x1302);
	hb_u16(h, 0x1301);
	hb_u16(h, 0xc02f);
	hb_u16(h, 0x00ff);
	hb_u8(h, 1);
	hb_u8(h, 0);
	e = h->n;
	hb_u16(h, 0);
	if (sni != NULL) {
		hb_u16(h, 0); /* server_name */
		x = h->n;
		hb_u16(h, 0);
		l = h->n;
		hb_u16(h, 0);
		hb_u8(h, 0);
		hb_u16(h, (unsigned)strlen(sni));
		hb_bytes(h, sni, strlen(sni));
		hb_len16(h, l);
		hb_len16(h, x);
	}
	hb_u16(h, 0x1a1a); /* GREASE extension, empty */
	hb_u16(h, 0);
	if (nv > 0) {
		hb_u16(h, 43);
		hb_u16(h, (unsigned)(1 + 2 * (nv + 1)));
		hb_u8(h, (unsigned)(2 * (nv + 1)));
		hb_u16(h, 0x7a7a); /* GREASE */
		for (i = 0; i < nv; i++)
			hb_u16(h, versions[i]);
	}
	hb_len16(h, e);
	hb_len24(h, m);
}

/* A ServerHello (or, with hrr, a HelloRetryRequest) message. */
static inline void
hb_server_hello(struct hb *h, uint16_t version, uint16_t cipher, int hrr)
{
	static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5,
	    0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09,
	    0xe2, 0xc8, 0xa8, 0x33, 0x9c};
	size_t m, e;
	unsigned i;

	hb_u8(h, 2);
	m = h->n;
	hb_u8(h, 0);
	hb_u16(h, 0);
	hb_u16(h, version >= 0x0304 ? 0x0303 : version);
	if (hrr)
		hb_bytes(h, hrr_random, 32);
	else
		for (i = 0; i < 32; i++)
			hb_u8(h, 0x40 + i);
	hb_u8(h, 0);
	hb_u16(h, cipher);
	hb_u8(h, 0);
	if (version >= 0x0304) {
		e = h->n;
		hb_u16(h, 0);
		hb_u16(h, 43);
		hb_u16(h, 2);
		hb_u16(h, version);
		hb_len16(h, e);
	}
	hb_len24(h, m);
}

/*
 * Wrap [p, p + n) in records of content type `type', at most `frag'
 * bytes of body each.
 */
static inline void
hb_records(
    struct hb *out, unsigned type, const uint8_t *p, size_t n, size_t frag)
{
	size_t k;

	do {
		k = n < frag ? n : frag;
		hb_u8(out, type);
		hb_u16(out, 0x0303);
		hb_u16(out, (unsigned)k);
		hb_bytes(out, p, k);
		p += k;
		n -= k;
	} while (n > 0);
}

static inline void
hb_alert(struct hb *out, unsigned level, unsigned desc)
{
	uint8_t a[2] = {(uint8_t)level, (uint8_t)desc};

	hb_records(out, 21, a, 2, 2);
}

/* An "encrypted" application_data record of n bytes. */
static inline void
hb_appdata(struct hb *out, size_t n)
{
	uint8_t junk[64];

	memset(junk, 0xa5, sizeof(junk));
	hb_records(out, 23, junk, n < sizeof(junk) ? n : sizeof(junk), 64);
}

#endif /* TESTS_UNIT_HELLO_H */
