/*
 * fuzz_opensmtpd.c - libFuzzer target: the parser front end and opensmtpd
 *
 * Lines fed to a parser of format auto and one of format opensmtpd (the
 * shared body is fuzz_lines.h).
 */
#include "fuzz_lines.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_lines_run(PARSER_AUTO, data, size);
	fuzz_lines_run(PARSER_OPENSMTPD, data, size);
	return 0;
}
