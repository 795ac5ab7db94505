/*
 * dkim.c - DKIM signing (RFC 6376) of the reporter's own mail
 *
 * RFC 8460 section 5.3: report mail MUST carry a valid DKIM signature of
 * the reporting domain and MUST NOT use l=.  We sign relaxed/relaxed
 * (RFC 6376 3.4.2, 3.4.4) with rsa-sha256 (3.3.1) or ed25519-sha256
 * (RFC 8463: PureEdDSA over the SHA-256 hash of the header data).  The
 * signature covers the listed header fields, bottom-up (5.4.2), then the
 * DKIM-Signature field itself with an empty b= (3.7).
 *
 * Inputs: the message is built by mime.c from data we stored (nothing
 * here parses mail from outside), but the canonicalisation still treats
 * it as bytes and checks every bound.  The key file comes from the
 * configuration.  No state besides the loaded key; not thread-aware.
 */
#include "reporter/dkim.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define DKIM_FIELDS_MAX 256 /* header fields of one message */
#define DKIM_SIG_MAX 1024   /* bytes of a signature (RSA-8192) */
#define DKIM_FOLD_COL 76
#define DKIM_RSA_BITS_MIN 1024 /* RFC 8301 section 3.2 */

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

struct dkim_key {
	EVP_PKEY *pkey;
	enum dkim_alg alg;
};

/* One header field: name at p, nlen bytes; the whole field len bytes. */
struct dk_field {
	const char *p;
	size_t len, nlen;
	bool used;
};

static void
dk_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char ebuf[160];

	if (e != 0) {
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		(void)snprintf(err, errlen, "dkim: %s: %s", what, ebuf);
	} else {
		(void)snprintf(err, errlen, "dkim: %s", what);
	}
	ERR_clear_error();
}

struct dkim_key *
dkim_key_load(const char *path, char *err, size_t errlen)
{
	struct dkim_key *k;
	EVP_PKEY *pkey;
	BIO *bio;

	if (path == NULL || path[0] == '\0') {
		(void)snprintf(err, errlen, "dkim: no key file (dkim_key)");
		return NULL;
	}
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		dk_err(err, errlen, "cannot open the key file");
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		dk_err(err, errlen, "no PEM private key in the key file");
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < DKIM_RSA_BITS_MIN) {
			(void)snprintf(err, errlen,
			    "dkim: RSA key of %d bits (at least %d)",
			    EVP_PKEY_get_bits(pkey), DKIM_RSA_BITS_MIN);
			dkim_key_free(k);
			return NULL;
		}
		k->alg = DKIM_RSA_SHA256;
		break;
	case EVP_PKEY_ED25519:
		k->alg = DKIM_ED25519_SHA256;
		break;
	default:
		(void)snprintf(
		    err, errlen, "dkim: the key is neither RSA nor Ed25519");
		dkim_key_free(k);
		return NULL;
	}
	return k;
}

enum dkim_alg
dkim_key_alg(const struct dkim_key *k)
{
	return k->alg;
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int
dkim_canon_header(const char *field, size_t len, struct buf *out)
{
	const char *colon, *p, *end = field + len;
	size_t nlen;
	bool space = false, any = false;

	if ((colon = memchr(field, ':', len)) == NULL)
		return -1;
	/* WSP before the colon goes (3.4.2, last step). */
	for (nlen = (size_t)(colon - field);
	     nlen > 0 && IS_WSP(field[nlen - 1]); nlen--)
		;
	for (p = field; p < field + nlen; p++)
		if (buf_addc(out,
			(char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p)) == -1)
			return -1;
	if (buf_addc(out, ':') == -1)
		return -1;
	/*
	 * Unfold (drop CR and LF), turn each WSP run into one SP, and drop
	 * WSP after the colon and at the end: a run is written only when a
	 * non-WSP character follows it and something came before it.
	 */
	for (p = colon + 1; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (IS_WSP(*p)) {
			space = true;
			continue;
		}
		if (space && any && buf_addc(out, ' ') == -1)
			return -1;
		if (buf_addc(out, *p) == -1)
			return -1;
		space = false;
		any = true;
	}
	return buf_add(out, "\r\n", 2);
}

int
dkim_canon_body(const char *body, size_t len, struct buf *out)
{
	const char *p = body, *end = body + len, *eol, *q;
	size_t empty = 0, n;
	bool space;

	while (p < end) {
		/* One line, without its CRLF (the last may lack one). */
		for (eol = p; eol < end && !(eol[0] == '\r' && eol + 1 < end &&
					       eol[1] == '\n');
		     eol++)
			;
		/* Trailing WSP goes, so the line may turn out empty. */
		for (q = eol; q > p && IS_WSP(q[-1]); q--)
			;
		if (q == p) {
			empty++; /* written only if a non-empty line follows */
		} else {
			for (n = 0; n < empty; n++)
				if (buf_add(out, "\r\n", 2) == -1)
					return -1;
			empty = 0;
			space = false;
			for (; p < q; p++) {
				if (IS_WSP(*p)) {
					space = true;
					continue;
				}
				if (space && buf_addc(out, ' ') == -1)
					return -1;
				space = false;
				if (buf_addc(out, *p) == -1)
					return -1;
			}
			if (buf_add(out, "\r\n", 2) == -1)
				return -1;
		}
		p = eol < end ? eol + 2 : end;
	}
	return 0;
}

/*
 * The header fields of msg (up to the empty line) into f[]; *body is
 * set past the empty line.  Returns the number of fields, or -1.
 */
static int
dk_fields(const char *msg, size_t len, struct dk_field *f, size_t fmax,
    const char **body)
{
	const char *p = msg, *end = msg + len, *eol, *colon;
	size_t n = 0;

	for (;;) {
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			*body = p + 2;
			return (int)n;
		}
		if (p >= end || IS_WSP(*p) || n == fmax)
			return -1;
		f[n].p = p;
		/* The field runs on over lines that begin with WSP. */
		for (eol = p;; eol += 2) {
			eol = memmem(eol, (size_t)(end - eol), "\r\n", 2);
			if (eol == NULL)
				return -1;
			if (end - eol < 3 || !IS_WSP(eol[2]))
				break;
		}
		f[n].len = (size_t)(eol - p);
		if ((colon = memchr(p, ':', f[n].len)) == NULL)
			return -1;
		for (f[n].nlen = (size_t)(colon - p);
		     f[n].nlen > 0 && IS_WSP(p[f[n].nlen - 1]); f[n].nlen--)
			;
		f[n].used = false;
		n++;
		p = eol + 2;
	}
}

/* Append `s' to the field being built, folding before it when long. */
static int
dk_put(struct buf *b, size_t *col, const char *sep, const char *s)
{
	size_t n = strlen(s);

	if (*col + strlen(sep) + n > DKIM_FOLD_COL) {
		if (buf_add(b, "\r\n\t", 3) == -1)
			return -1;
		*col = 8;
	} else {
		if (buf_addstr(b, sep) == -1)
			return -1;
		*col += strlen(sep);
	}
	*col += n;
	return buf_addstr(b, s);
}

static void
dk_b64(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	if (outlen < 4 * ((n + 2) / 3) + 1)
		panic("dkim: base64 buffer too small");
	(void)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* SHA-256 of the canonical body, base64 (3.7 "bh="). */
static int
dk_body_hash(const char *body, size_t len, char *bh, size_t bhlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	struct buf cb;
	int rc = -1;

	buf_init(&cb, DKIM_MSG_MAX);
	if (dkim_canon_body(body, len, &cb) == 0 &&
	    EVP_Digest(cb.p != NULL ? cb.p : "", cb.len, md, &mdlen,
		EVP_sha256(), NULL) == 1) {
		dk_b64(md, mdlen, bh, bhlen);
		rc = 0;
	}
	buf_free(&cb);
	return rc;
}

/* Sign the header data hd (3.7) with k: *siglen bytes into sig. */
static int
dk_sign_data(const struct dkim_key *k, const struct buf *hd, unsigned char *sig,
    size_t *siglen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (k->alg == DKIM_RSA_SHA256) {
		/* RSASSA-PKCS1-v1_5 with SHA-256 over the data (3.3.1). */
		ok = EVP_DigestSignInit(
			 ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen,
			 (const unsigned char *)hd->p, hd->len) == 1;
	} else {
		/* RFC 8463 section 3: Ed25519 (pure) over SHA-256(data). */
		ok = EVP_Digest(
			 hd->p, hd->len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen, md, mdlen) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

char *
dkim_sign(const struct dkim_key *k, const char *d, const char *s,
    const char *const *names, const char *msg, size_t len, time_t now,
    char *err, size_t errlen)
{
	struct dk_field f[DKIM_FIELDS_MAX];
	char bh[64], tag[300], b64[4 * (DKIM_SIG_MAX / 3) + 8];
	unsigned char sig[DKIM_SIG_MAX];
	const char *body, *chosen[DKIM_HEADERS_MAX];
	struct buf hd, sh;
	size_t siglen = sizeof(sig), col, i, nh = 0, off, n;
	int nf, j;
	char *ret = NULL;

	buf_init(&hd, DKIM_MSG_MAX);
	buf_init(&sh, 16384);
	if ((nf = dk_fields(msg, len, f, DKIM_FIELDS_MAX, &body)) < 0) {
		(void)snprintf(err, errlen, "dkim: malformed message header");
		goto out;
	}
	if (dk_body_hash(body, len - (size_t)(body - msg), bh, sizeof(bh)) ==
	    -1) {
		dk_err(err, errlen, "body hash");
		goto out;
	}
	/* Each name takes the lowest unused field of that name (5.4.2). */
	for (i = 0; names[i] != NULL; i++) {
		for (j = nf - 1; j >= 0; j--)
			if (!f[j].used && f[j].nlen == strlen(names[i]) &&
			    strncasecmp(f[j].p, names[i], f[j].nlen) == 0)
				break;
		if (j < 0)
			continue;
		if (nh == DKIM_HEADERS_MAX) {
			(void)snprintf(err, errlen, "dkim: too many fields");
			goto out;
		}
		f[j].used = true;
		chosen[nh++] = names[i];
		if (dkim_canon_header(f[j].p, f[j].len, &hd) == -1) {
			(void)snprintf(err, errlen, "dkim: message too large");
			goto out;
		}
	}
	if (nh == 0) {
		(void)snprintf(err, errlen, "dkim: no field to sign");
		goto out;
	}

	/* The field with an empty b=, as it will be sent up to "b=". */
	col = strlen("DKIM-Signature: v=1;");
	(void)!buf_addstr(&sh, "DKIM-Signature: v=1;");
	(void)snprintf(tag, sizeof(tag), "a=%s;",
	    k->alg == DKIM_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256");
	(void)!dk_put(&sh, &col, " ", tag);
	(void)!dk_put(&sh, &col, " ", "c=relaxed/relaxed;");
	(void)snprintf(tag, sizeof(tag), "d=%s;", d);
	(void)!dk_put(&sh, &col, " ", tag);
	(void)snprintf(tag, sizeof(tag), "s=%s;", s);
	(void)!dk_put(&sh, &col, " ", tag);
	(void)snprintf(tag, sizeof(tag), "t=%lld;", (long long)now);
	(void)!dk_put(&sh, &col, " ", tag);
	for (i = 0; i < nh; i++) {
		(void)snprintf(tag, sizeof(tag), "%s%s%s", i == 0 ? "h=" : "",
		    chosen[i], i + 1 < nh ? ":" : ";");
		for (n = 0; tag[n] != '\0'; n++)
			if (tag[n] >= 'A' && tag[n] <= 'Z')
				tag[n] = (char)(tag[n] + 32);
		(void)!dk_put(&sh, &col, i == 0 ? " " : "", tag);
	}
	(void)snprintf(tag, sizeof(tag), "bh=%s;", bh);
	(void)!dk_put(&sh, &col, " ", tag);
	if (dk_put(&sh, &col, " ", "b=") == -1) {
		(void)snprintf(err, errlen, "dkim: signature field too long");
		goto out;
	}
	/* Header data: the signed fields, then this one without its CRLF. */
	if (dkim_canon_header(sh.p, sh.len, &hd) == -1) {
		(void)snprintf(err, errlen, "dkim: message too large");
		goto out;
	}
	hd.len -= 2;
	if (dk_sign_data(k, &hd, sig, &siglen) == -1) {
		dk_err(err, errlen, "signing failed");
		goto out;
	}
	dk_b64(sig, siglen, b64, sizeof(b64));
	/* The value is folded: FWS inside b= is ignored by verifiers. */
	for (off = 0; b64[off] != '\0'; off += n) {
		n = strlen(b64 + off);
		if (col >= DKIM_FOLD_COL) {
			if (buf_add(&sh, "\r\n\t", 3) == -1)
				break;
			col = 8;
		}
		if (n > DKIM_FOLD_COL - col)
			n = DKIM_FOLD_COL - col;
		if (buf_add(&sh, b64 + off, n) == -1)
			break;
		col += n;
	}
	if (b64[off] != '\0' || buf_add(&sh, "\r\n", 2) == -1) {
		(void)snprintf(err, errlen, "dkim: signature field too long");
		goto out;
	}
	ret = buf_steal(&sh);
out:
	buf_free(&hd);
	buf_free(&sh);
	return ret;
}
