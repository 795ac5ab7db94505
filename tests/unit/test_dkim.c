/*
 * test_dkim.c - RFC 6376 relaxed canonicalisation, rsa-sha256 and
 * ed25519-sha256 signatures checked with OpenSSL, mailto: addresses
 *
 * Expected values come from the RFCs, not from dkim.c: the RFC 6376
 * section 3.4.5 example, vectors worked out by hand from the rules of
 * 3.4.2 and 3.4.4, and the signed message of RFC 8463 appendix A (its
 * body hash, and its published Ed25519 signature verified over our
 * canonical header data with the published public key).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "reporter/dkim.h"
#include "reporter/mime.h"
#include "tests/unit/t.h"

struct canoncase {
	const char *label, *in, *want;
};

/* clang-format off */
static const struct canoncase hdrcases[] = {
	/* RFC 6376 3.4.5. */
	{"rfc A", "A: X", "a:X\r\n"},
	{"rfc B folded", "B : Y\t\r\n Z  ", "b:Y Z\r\n"},
	/* 3.4.2 step by step. */
	{"name lowercased", "SUBJect: Hi", "subject:Hi\r\n"},
	{"wsp runs", "Subject:   a \t\t b   c", "subject:a b c\r\n"},
	{"wsp before colon", "To \t : x@y", "to:x@y\r\n"},
	{"empty value", "X-Empty:", "x-empty:\r\n"},
	{"blank folded value", "X-Empty:  \r\n\t ", "x-empty:\r\n"},
	{"fold keeps one space", "Subject: Report Domain: a\r\n Submitter: b",
	    "subject:Report Domain: a Submitter: b\r\n"},
	{"fold without wsp around", "h: a\r\n\tb", "h:a b\r\n"},
	{"value colon kept", "Message-ID: <a:b@c>", "message-id:<a:b@c>\r\n"},
};

static const struct canoncase bodycases[] = {
	/* RFC 6376 3.4.5. */
	{"rfc body", " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},
	/* 3.4.4 (and errata 1384: an empty body stays empty). */
	{"empty", "", ""},
	{"only empty lines", "\r\n\r\n\r\n", ""},
	{"only blank lines", " \r\n\t\r\n", ""},
	{"no final crlf", "abc", "abc\r\n"},
	{"inner empty lines kept", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n"},
	{"blank line before text", " \t \r\nx\r\n", "\r\nx\r\n"},
	{"trailing blank lines", "a  \t b \r\n \t \r\n", "a b\r\n"},
	{"leading wsp kept as one", "\t\tx", " x\r\n"},
};

struct rcptcase {
	const char *label, *in, *want; /* want NULL: rejected */
};

static const struct rcptcase rcptcases[] = {
	{"plain", "tlsrpt@example.com", "tlsrpt@example.com"},
	{"percent", "tls%2Brpt@example.com", "tls+rpt@example.com"},
	{"hfields dropped", "r@example.com?subject=x", "r@example.com"},
	{"encoded comma", "a@x.test%2Cb@y.test", NULL},
	{"crlf", "a@x.test%0D%0ABcc:%20c@y", NULL},
	{"space", "a%20b@x.test", NULL},
	{"no at", "postmaster", NULL},
	{"empty local", "@x.test", NULL},
	{"option", "-oQ/tmp@x.test", NULL},
	{"bad percent", "a%2@x.test", NULL},
	{"domain literal", "a@[127.0.0.1]", NULL},
	{"angle", "a@x.test>", NULL},
};
/* clang-format on */

/* RFC 8463 appendix A.3, the Ed25519-signed message (relaxed). */
static const char rfc8463_sig[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=";
static const char rfc8463_b[] =
    "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus"
    "Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
static const char *const rfc8463_hdr[] = {
    "From: Joe SixPack <joe@football.example.com>",
    "To: Suzie Q <suzie@shopping.example.net>", "Subject: Is dinner ready?",
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>", NULL};
static const char rfc8463_body[] =
    "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";
/* A.1 and A.2: the Ed25519 private key (seed) and public key. */
static const char rfc8463_priv[] =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char rfc8463_pub[] =
    "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static size_t
b64dec(const char *s, unsigned char *out)
{
	size_t n = strlen(s);
	int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);

	if (len < 0)
		return 0;
	while (n > 0 && s[n - 1] == '=') {
		n--;
		len--;
	}
	return (size_t)len;
}

static char *
canon_hdr(const char *s)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	if (dkim_canon_header(s, strlen(s), &b) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* SHA-256 of the canonical body, base64: the bh= value. */
static void
body_hash(const char *body, char *out)
{
	unsigned char md[32];
	unsigned int mdlen;
	struct buf b;

	buf_init(&b, 1 << 20);
	(void)!dkim_canon_body(body, strlen(body), &b);
	(void)EVP_Digest(b.p ? b.p : "", b.len, md, &mdlen, EVP_sha256(), NULL);
	(void)EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	buf_free(&b);
}

/* Verify sig over header data hd with OpenSSL: RSA, or RFC 8463. */
static int
verify(EVP_PKEY *pub, const struct buf *hd, const unsigned char *sig,
    size_t siglen)
{
	unsigned char md[32];
	unsigned int mdlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) ==
			 1 &&
		     EVP_DigestVerify(ctx, sig, siglen,
			 (const unsigned char *)hd->p, hd->len) == 1;
	else
		ok = EVP_Digest(
			 hd->p, hd->len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
		     EVP_DigestVerify(ctx, sig, siglen, md, mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void
test_rfc8463(void)
{
	unsigned char sig[128], pk[64];
	char bh[64];
	struct buf hd;
	EVP_PKEY *pub;
	size_t i, n;
	char *c;

	body_hash(rfc8463_body, bh);
	T_STR("rfc 8463 body hash", bh,
	    "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	/*
	 * h= names from, to, subject, date and message-id, then from,
	 * subject, date again, which match no further field (nothing
	 * hashed), then the signature field with b= empty, no CRLF.
	 */
	buf_init(&hd, 1 << 20);
	for (i = 0; rfc8463_hdr[i] != NULL; i++)
		T_OK("rfc 8463 header", dkim_canon_header(rfc8463_hdr[i],
					    strlen(rfc8463_hdr[i]), &hd) == 0);
	T_OK("rfc 8463 sig header",
	    dkim_canon_header(rfc8463_sig, strlen(rfc8463_sig), &hd) == 0);
	hd.len -= 2;
	T_OK("canonical sig field ends in b=",
	    hd.len > 3 && memcmp(hd.p + hd.len - 3, " b=", 3) == 0);
	n = b64dec(rfc8463_pub, pk);
	T_INT("rfc 8463 public key size", n, 32);
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, n);
	n = b64dec(rfc8463_b, sig);
	T_INT("rfc 8463 signature size", n, 64);
	T_OK("rfc 8463 published signature verifies over our canonical data",
	    verify(pub, &hd, sig, n));
	hd.p[10] ^= 1;
	T_OK("tampered data does not verify", !verify(pub, &hd, sig, n));
	buf_free(&hd);
	EVP_PKEY_free(pub);
	c = canon_hdr(rfc8463_hdr[0]);
	T_STR("rfc 8463 from", c,
	    "from:Joe SixPack <joe@football.example.com>\r\n");
	free(c);
}

/* A PEM file of `key' in a temporary file; its path in path. */
static int
write_pem(EVP_PKEY *key, char *path, size_t n)
{
	FILE *f;
	int fd, ok;

	(void)snprintf(path, n, "/tmp/test_dkim.XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

/* The message every signing test signs. */
static const char msg[] =
    "From: tlsrpt@sender.test\r\n"
    "To: reports@rua.test\r\n"
    "Subject:  Report Domain: a.test\r\n"
    "\t Submitter: sender.test  Report-ID: <x@sender.test>\r\n"
    "X-Not-Signed: 1\r\n"
    "TLS-Report-Domain: a.test\r\n"
    "TLS-Report-Submitter: sender.test\r\n"
    "\r\n"
    "Body line  one \r\n"
    "\r\n";
/* Its header data for the names below, worked out by hand. */
static const char msg_hd[] =
    "from:tlsrpt@sender.test\r\n"
    "to:reports@rua.test\r\n"
    "subject:Report Domain: a.test Submitter: sender.test Report-ID: "
    "<x@sender.test>\r\n"
    "tls-report-domain:a.test\r\n"
    "tls-report-submitter:sender.test\r\n";
static const char *const names[] = {"From", "To", "Subject", "Date",
    "TLS-Report-Domain", "TLS-Report-Submitter", NULL};

/* Sign msg with `key' and check the field with OpenSSL. */
static void
sign_verify(const char *label, EVP_PKEY *key, const char *alg)
{
	char path[64], err[DKIM_ERR_MAX + 1], bh[64], lab[128], *c;
	unsigned char sig[1024];
	struct dkim_key *k;
	struct buf hd, tags;
	const char *b, *p, *line;
	char *field;
	size_t n;

	if (write_pem(key, path, sizeof(path)) == -1) {
		T_OK("write pem", 0);
		return;
	}
	k = dkim_key_load(path, err, sizeof(err));
	(void)unlink(path);
	(void)snprintf(lab, sizeof(lab), "%s: key loads", label);
	T_OK(lab, k != NULL);
	if (k == NULL)
		return;
	field = dkim_sign(k, "sender.test", "sel", names, msg, strlen(msg),
	    1795219200, err, sizeof(err));
	dkim_key_free(k);
	(void)snprintf(lab, sizeof(lab), "%s: signs", label);
	T_OK(lab, field != NULL);
	if (field == NULL) {
		printf("# %s\n", err);
		return;
	}
	/* The tags without folding whitespace. */
	buf_init(&tags, 1 << 16);
	for (p = field; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n' && *p != ' ' && *p != '\t')
			(void)!buf_addc(&tags, *p);
	(void)snprintf(lab, sizeof(lab), "%s: tags", label);
	body_hash("Body line  one \r\n\r\n", bh);
	T_OK(lab, strstr(tags.p, alg) != NULL &&
		      strstr(tags.p, ";c=relaxed/relaxed;") != NULL &&
		      strstr(tags.p, ";d=sender.test;") != NULL &&
		      strstr(tags.p, ";s=sel;") != NULL &&
		      strstr(tags.p, ";t=1795219200;") != NULL &&
		      strstr(tags.p, ";l=") == NULL);
	(void)snprintf(
	    lab, sizeof(lab), "%s: h= (absent Date left out)", label);
	T_OK(lab, strstr(tags.p, ";h=from:to:subject:tls-report-domain:"
				 "tls-report-submitter;") != NULL);
	(void)snprintf(lab, sizeof(lab), "%s: bh= is the body hash", label);
	T_OK(lab, (c = strstr(tags.p, ";bh=")) != NULL &&
		      strncmp(c + 4, bh, strlen(bh)) == 0);
	(void)snprintf(lab, sizeof(lab), "%s: lines fit 78 columns", label);
	for (n = 0, line = field; (p = strstr(line, "\r\n")) != NULL;
	     line = p + 2)
		n += p - line > 78;
	T_INT(lab, n, 0);

	/* Header data by hand, plus the field up to "b=" canonicalised. */
	b = strstr(field, " b=");
	if (b == NULL)
		b = strstr(field, "\tb=");
	buf_init(&hd, 1 << 20);
	(void)!buf_addstr(&hd, msg_hd);
	if (b != NULL)
		(void)!dkim_canon_header(field, (size_t)(b + 3 - field), &hd);
	hd.len -= 2;
	n = b64dec(tags.p + (strstr(tags.p, ";b=") - tags.p) + 3, sig);
	(void)snprintf(lab, sizeof(lab), "%s: OpenSSL verifies", label);
	T_OK(lab, b != NULL && n > 0 && verify(key, &hd, sig, n));
	hd.p[hd.len - 4] ^= 1;
	(void)snprintf(lab, sizeof(lab), "%s: tampered fails", label);
	T_OK(lab, !verify(key, &hd, sig, n));
	buf_free(&hd);
	buf_free(&tags);
	free(field);
}

static void
test_keys(void)
{
	unsigned char seed[64], pk[64], raw[64];
	char path[64], err[DKIM_ERR_MAX + 1];
	EVP_PKEY *rsa, *ed, *small, *rfc;
	struct dkim_key *k;
	size_t n, rawlen = sizeof(raw);

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	sign_verify("rsa-sha256", rsa, "a=rsa-sha256;");
	sign_verify("ed25519-sha256", ed, "a=ed25519-sha256;");

	/* The RFC 8463 private key gives the RFC's public key. */
	n = b64dec(rfc8463_priv, seed);
	rfc = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, n);
	T_OK("rfc 8463 key",
	    rfc != NULL &&
		EVP_PKEY_get_raw_public_key(rfc, raw, &rawlen) == 1 &&
		b64dec(rfc8463_pub, pk) == 32 && rawlen == 32 &&
		memcmp(pk, raw, 32) == 0);
	sign_verify("ed25519 rfc key", rfc, "a=ed25519-sha256;");

	T_OK("missing key file",
	    dkim_key_load("/nonexistent/k.pem", err, sizeof(err)) == NULL);
	T_OK("empty key path", dkim_key_load("", err, sizeof(err)) == NULL);
	small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	if (write_pem(small, path, sizeof(path)) == 0) {
		k = dkim_key_load(path, err, sizeof(err));
		T_OK("512-bit RSA refused", k == NULL);
		dkim_key_free(k);
		(void)unlink(path);
	}
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rfc);
	EVP_PKEY_free(small);
}

int
main(void)
{
	char out[MIME_ADDR_MAX + 1];
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(hdrcases) / sizeof(hdrcases[0]); i++) {
		char *c = canon_hdr(hdrcases[i].in);

		T_STR(hdrcases[i].label, c, hdrcases[i].want);
		free(c);
	}
	T_OK("header without colon", canon_hdr("no colon here") == NULL);
	for (i = 0; i < sizeof(bodycases) / sizeof(bodycases[0]); i++) {
		buf_init(&b, 1 << 20);
		T_OK(bodycases[i].label, dkim_canon_body(bodycases[i].in,
					     strlen(bodycases[i].in), &b) == 0);
		T_STR(bodycases[i].label, b.p ? b.p : "", bodycases[i].want);
		buf_free(&b);
	}
	/* The well-known SHA-256 of nothing: an empty body's bh=. */
	{
		char bh[64];

		body_hash("\r\n\r\n", bh);
		T_STR("empty body hash", bh,
		    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	}
	test_rfc8463();
	test_keys();
	for (i = 0; i < sizeof(rcptcases) / sizeof(rcptcases[0]); i++) {
		int rc = mime_rcpt(rcptcases[i].in, out, sizeof(out));

		T_STR(rcptcases[i].label, rc == 0 ? out : NULL,
		    rcptcases[i].want);
	}
	return t_done("test_dkim");
}
