/*
 * fuzz_tlsrpt.c - libFuzzer target: the _smtp._tls TXT record parser
 *
 * The input is split at NUL bytes into the records of one RRset, so the
 * selection rule is fuzzed together with the record grammar.
 * FUZZ_SOURCES: reporter/tlsrpt.c
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reporter/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span recs[8];
	struct tlsrpt r;
	char out[256];
	const char *p = (const char *)data, *end = p + size, *z;
	size_t n = 0, i;

	while (p <= end && n < 8) {
		z = memchr(p, '\0', (size_t)(end - p));
		recs[n].p = p;
		recs[n].len = (size_t)((z ? z : end) - p);
		n++;
		if (z == NULL)
			break;
		p = z + 1;
	}
	if (tlsrpt_select(recs, n, &r) == TLSRPT_OK)
		for (i = 0; i < r.nrua; i++)
			(void)!tlsrpt_pct_decode(
			    r.rua[i].uri.p, r.rua[i].uri.len, out, sizeof(out));
	(void)tlsrpt_parse((const char *)data, size, &r);
	return 0;
}
