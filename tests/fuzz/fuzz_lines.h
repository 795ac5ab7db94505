/*
 * fuzz_lines.h - the body shared by the log-parser fuzz targets
 *
 * The input is split into lines at '\n' (cut at PARSER_LINE_MAX as the
 * reader would) and fed, with their offsets, to a parser of the given
 * format.  Events are drained after every line, the resume offset is
 * asked for now and then, and the parser is finished.  The first byte
 * picks a small session cap and idle time so that eviction, expiry and
 * holds are reached with short inputs.  Each fuzz_<mta>.c runs it for
 * format auto and for its own format.
 */
#ifndef TESTS_FUZZ_FUZZ_LINES_H
#define TESTS_FUZZ_FUZZ_LINES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_lines_run(enum parser_format fmt, const uint8_t *data, size_t size)
{
	struct parser_opts po;
	struct parser_stats st;
	struct tls_event ev;
	struct parser *p;
	size_t i = 0, n;
	const char *s = (const char *)data, *nl;
	int64_t off = 0;

	memset(&po, 0, sizeof(po));
	po.format = fmt;
	po.origin = "fuzz";
	po.host = "fuzz.test";
	po.year = size > 0 && (data[0] & 0x80) ? 0 : 2026;
	po.ref_time_us = INT64_C(1795305600) * 1000000;
	po.max_sessions = size > 0 ? 1 + (data[0] & 7) : 4;
	po.idle_us = size > 0 ? ((data[0] >> 3) & 15) * INT64_C(1000000) : 0;
	po.submission_services = "submission, smtps msa";
	p = parser_new(&po);
	while (i < size) {
		nl = memchr(s + i, '\n', size - i);
		n = nl != NULL ? (size_t)(nl - (s + i)) : size - i;
		if (n > PARSER_LINE_MAX) {
			parser_note_truncated(p);
			(void)parser_line(p, s + i, PARSER_LINE_MAX, off);
		} else
			(void)parser_line(p, s + i, n, off);
		while (parser_next(p, &ev))
			if (ev.end_off < ev.start_off || ev.origin[0] == '\0')
				abort(); /* an event always ends after it starts
					  */
		if ((off & 7) == 0 &&
		    parser_resume_offset(p) > off + (int64_t)n + 1)
			abort(); /* never past what was fed */
		i += n + 1;
		off = (int64_t)i;
	}
	parser_finish(p);
	while (parser_next(p, &ev))
		;
	if (parser_resume_offset(p) > (int64_t)size + 1)
		abort();
	parser_get_stats(p, &st);
	parser_free(p);
}

#endif /* TESTS_FUZZ_FUZZ_LINES_H */
