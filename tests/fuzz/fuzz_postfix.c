/*
 * fuzz_postfix.c - libFuzzer target: the parser front end and postfix
 *
 * Lines fed to a parser of format auto and one of format postfix (the
 * shared body is fuzz_lines.h).
 * FUZZ_SOURCES: parsers/registry.c parsers/syslog.c parsers/postfix.c
 * core/event.c
 */
#include "fuzz_lines.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_lines_run(PARSER_AUTO, data, size);
	fuzz_lines_run(PARSER_POSTFIX, data, size);
	return 0;
}
