/*
 * fuzz_query.c - libFuzzer target for the web API's query-parameter
 * parsing (web/query.c): the input is a raw query string as a client
 * sends it; every endpoint's set of allowed parameters is checked, the
 * time range resolved, and a domain path segment validated.
 *
 * FUZZ_SOURCES: web/query.c
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "web/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned allowed[] = {0, QP_TIME, QP_TIME | QP_BUCKET,
	    QP_TIME | QP_DIRECTION | QP_SORT | QP_ORDER | QP_Q | QP_PAGE |
		QP_FORMAT | QP_GROUP,
	    QP_TIME | QP_Q | QP_STATE | QP_PAGE};
	char seg[QUERY_STRING_MAX + 1], dom[QUERY_SEARCH_MAX + 1];
	struct query q;
	int32_t from, to;
	size_t i, n;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		query_init(&q);
		if (query_parse(&q, (const char *)data, size) == 0 &&
		    query_check(&q, allowed[i]) == 0) {
			query_days(&q, 20414, QUERY_RANGE_30D, &from, &to);
			if (from > to || to - from >= QUERY_DAYS_MAX ||
			    q.limit < 1 || q.limit > QUERY_LIMIT_MAX ||
			    strlen(q.q) > QUERY_SEARCH_MAX)
				__builtin_trap();
		} else if (q.err[0] == '\0') {
			__builtin_trap(); /* a refusal always says why */
		}
	}
	n = size < sizeof(seg) - 1 ? size : sizeof(seg) - 1;
	memcpy(seg, data, n);
	seg[n] = '\0';
	if (query_domain(seg, dom) == 0 && strlen(dom) != strlen(seg))
		__builtin_trap();
	return 0;
}
