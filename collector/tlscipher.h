/*
 * tlscipher.h - TLS cipher suite names as OpenSSL spells them
 *
 * The table (tlscipher.c) is generated from the installed OpenSSL by
 * tools/gen-tlscipher.sh and committed, so that the name of a suite does
 * not depend on the OpenSSL a collector happens to run with.
 */
#ifndef COLLECTOR_TLSCIPHER_H
#define COLLECTOR_TLSCIPHER_H

#include <stdint.h>

/*
 * OpenSSL's name of cipher suite `id' (RFC 8446 B.4, RFC 5246 A.5 and
 * the IANA registry), e.g. 0x1302 -> "TLS_AES_256_GCM_SHA384", 0xc02f ->
 * "ECDHE-RSA-AES128-GCM-SHA256"; NULL when OpenSSL has no name for it.
 * *bits (if not NULL) gets the symmetric key bits, 0 when unknown.
 * The string is static.
 */
const char *tlscipher_name(uint16_t id, uint16_t *bits);

#endif /* COLLECTOR_TLSCIPHER_H */
