/*
 * fuzz_syslog.c - libFuzzer target: the log envelope
 *
 * The whole input is one line, parsed with a fixed year and with the year
 * inferred from a reference time.  On success every span must lie inside
 * the input and the tag must split into instance and daemon.
 * FUZZ_SOURCES: parsers/syslog.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parsers/syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
inside(const struct span *sp, const char *p, size_t size)
{
	if (sp->len > 0 && (sp->p < p || sp->p + sp->len > p + size))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct syslog_clock c;
	struct syslog_msg m;
	int64_t t;
	int k;

	for (k = 0; k < 2; k++) {
		syslog_clock_init(
		    &c, k == 0 ? 2026 : 0, INT64_C(1799150400) * 1000000);
		if (syslog_parse(&c, p, size, &m) != SYSLOG_OK)
			continue;
		inside(&m.host, p, size);
		inside(&m.tag, p, size);
		inside(&m.instance, p, size);
		inside(&m.daemon, p, size);
		inside(&m.msg, p, size);
		if (m.daemon.len > 0 &&
		    m.instance.len + 1 + m.daemon.len != m.tag.len)
			abort();
		if (m.ts_us < 0)
			abort(); /* years before 1970 are refused */
	}
	if (size >= 7 &&
	    syslog_local_to_utc(&c, 1900 + data[0] * 40, data[1] % 16,
		data[2] % 40, data[3] % 30, data[4] % 70, data[5] % 70,
		&t) == 0 &&
	    t < 0)
		abort(); /* a date it accepts is after 1970 */
	return 0;
}
