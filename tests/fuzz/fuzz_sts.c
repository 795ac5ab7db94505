/*
 * fuzz_sts.c - libFuzzer target: MTA-STS TXT record and policy parsers
 *
 * The whole input is parsed as a policy file and as a TXT record; every
 * mx pattern a valid policy yields is matched against a fixed host.
 * FUZZ_SOURCES: reporter/sts.c
 */
#include <stddef.h>
#include <stdint.h>

#include "reporter/sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_policy pol;
	struct span id;
	size_t i;

	if (sts_parse_policy((const char *)data, size, &pol) == STS_OK)
		for (i = 0; i < pol.nmx; i++)
			(void)sts_mx_match(&pol.mx[i], "mx1.example.com");
	(void)sts_parse_txt((const char *)data, size, &id);
	return 0;
}
