/*
 * dkim.h - DKIM signatures (RFC 6376) for report mail: relaxed/relaxed
 * canonicalisation, rsa-sha256 and ed25519-sha256 (RFC 8463), no l=
 * (RFC 8460 section 5.3)
 *
 * Ownership: dkim_key_load() returns a new key freed by dkim_key_free()
 * (NULL is a no-op); dkim_sign() returns a new string the caller frees.
 * The canonicalisation functions append to a caller-owned buffer.
 */
#ifndef REPORTER_DKIM_H
#define REPORTER_DKIM_H

#include <stddef.h>
#include <time.h>

#include "common/buf.h"

#define DKIM_ERR_MAX 255
#define DKIM_HEADERS_MAX 32 /* names in h= */
#define DKIM_MSG_MAX (64u << 20)

struct dkim_key; /* opaque */

enum dkim_alg { DKIM_RSA_SHA256 = 1, DKIM_ED25519_SHA256 };

/*
 * Read a PEM private key (RSA of at least 1024 bits, or Ed25519) from
 * `path'.  Returns a new key, or NULL with err set.
 */
struct dkim_key *dkim_key_load(const char *path, char *err, size_t errlen);
enum dkim_alg dkim_key_alg(const struct dkim_key *);
void dkim_key_free(struct dkim_key *);

/*
 * RFC 6376 3.4.2 relaxed header canonicalisation of one field, given
 * from its name to the end of its value without the final CRLF (folds
 * inside are CRLF WSP): appends "name:value" CRLF.  Returns 0, or -1
 * when the field has no colon or the buffer is full.
 * Example: "B : Y\t\r\n  Z  " -> "b:Y Z\r\n".
 */
int dkim_canon_header(const char *field, size_t len, struct buf *out)
    __attribute__((warn_unused_result));
/*
 * RFC 6376 3.4.4 relaxed body canonicalisation: appends the canonical
 * body.  Returns 0, or -1 when the buffer is full.
 * Example: " C \r\nD \t E\r\n\r\n\r\n" -> " C\r\nD E\r\n".
 */
int dkim_canon_body(const char *body, size_t len, struct buf *out)
    __attribute__((warn_unused_result));

/*
 * Sign `msg' (header fields, an empty line, the body; CRLF line ends)
 * for domain `d' with selector `s' at time `now'.  `names' (NULL-ended,
 * borrowed) are the fields to sign; those absent from msg are left out
 * of h=.  Returns the new field "DKIM-Signature: ..." CRLF, to be put
 * before msg's first field, or NULL with err set.
 */
char *dkim_sign(const struct dkim_key *, const char *d, const char *s,
    const char *const *names, const char *msg, size_t len, time_t now,
    char *err, size_t errlen);

#endif /* REPORTER_DKIM_H */
