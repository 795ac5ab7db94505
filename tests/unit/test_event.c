/*
 * test_event.c - the session event (core/event.c): the JSON keys of
 * DESIGN.md section 2 exactly, nulls, bounded and sanitising setters
 */
#include "core/event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "t.h"

/* DESIGN.md section 2, in its order: the contract, typed in by hand. */
static const char *design_keys[] = {"ts", "source", "host", "direction",
    "domain", "peer_host", "peer_ip", "peer_port", "peer_helo", "local_ip",
    "local_port", "tls", "tls_version", "cipher", "cipher_bits", "trust",
    "result", "reason", "policy", "messages", "status", "queue_ids", "origin",
    NULL};

static void
test_keys(void)
{
	struct tls_event ev;
	json_t *j;
	size_t i;

	ev_init(&ev);
	j = event_to_json(&ev);
	T_OK("json built", j != NULL);
	for (i = 0; design_keys[i] != NULL; i++)
		T_OK(
		    design_keys[i], json_object_get(j, design_keys[i]) != NULL);
	T_INT("no other keys", json_object_size(j), i);
	/* An empty record: unknown is null, never "" or 0. */
	T_OK("domain null", json_is_null(json_object_get(j, "domain")));
	T_OK("peer_port null", json_is_null(json_object_get(j, "peer_port")));
	T_OK("result null", json_is_null(json_object_get(j, "result")));
	T_STR("tls unknown", json_string_value(json_object_get(j, "tls")),
	    "unknown");
	T_OK("queue_ids array", json_is_array(json_object_get(j, "queue_ids")));
	T_INT("messages 0", json_integer_value(json_object_get(j, "messages")),
	    0);
	json_decref(j);
}

static void
test_values(void)
{
	struct tls_event ev;
	struct span sp;
	char ts[EV_TS_MAX + 1], *out;
	json_t *j;

	ev_init(&ev);
	ev.ts_us = INT64_C(1795341601123456); /* 2026-11-22T10:00:01.123456Z */
	ev.source = EV_SRC_POSTFIX;
	ev.dir = EV_DIR_OUT;
	ev.tls = EV_TLS_FAILED;
	ev.result = EV_RES_CERT_EXPIRED;
	ev.trust = EV_TRUST_UNTRUSTED;
	ev.peer_port = 25;
	ev_setcstr(&ev, ev.domain, sizeof(ev.domain), "example.net");
	sp.p = "A1B2C3";
	sp.len = 6;
	ev_addqid(&ev, &sp);
	ev_addqid(&ev, &sp); /* repeated: kept once */
	sp.p = "D4E5F6";
	ev_addqid(&ev, &sp);
	ev_format_ts(ev.ts_us, ts);
	T_STR("timestamp", ts, "2026-11-22T10:00:01.123Z");
	j = event_to_json(&ev);
	out = json_dumps(json_object_get(j, "queue_ids"), JSON_COMPACT);
	T_STR("queue ids", out, "[\"A1B2C3\",\"D4E5F6\"]");
	free(out);
	T_STR("result name", json_string_value(json_object_get(j, "result")),
	    "certificate-expired");
	T_STR("direction", json_string_value(json_object_get(j, "direction")),
	    "outbound");
	T_INT("peer_port", json_integer_value(json_object_get(j, "peer_port")),
	    25);
	json_decref(j);
}

/*
 * ev_setaddr() copies a plain dotted quad without inet_ntop(): for every
 * spelling, it must answer what inet_pton() + inet_ntop() answer.
 */
static void
test_quads(struct tls_event *ev)
{
	static const char *const in[] = {"0.0.0.0", "255.255.255.255",
	    "1.2.3.4", "10.0.0.1", "01.2.3.4", "1.02.3.4", "1.2.3.04",
	    "00.1.1.1", "256.1.1.1", "1.1.1.256", "1.1.1.1000", "1.1.1",
	    "1.1.1.1.", ".1.1.1.1", "1..1.1", "1.1.1.1 ", " 1.1.1.1",
	    "1.1.1.+1", "1.1.1.0x1", "999.1.1.1", "199.255.249.250",
	    "1.1.1.1/24", "1.1.1.a", "0.0.0.00", "12.34.56.7890"};
	char want[EV_ADDR_MAX + 1], label[96];
	unsigned char bin[4];
	struct span sp;
	size_t i;
	int r;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		memset(ev->local_ip, 0, sizeof(ev->local_ip));
		sp.p = in[i];
		sp.len = strlen(in[i]);
		r = ev_setaddr(ev, ev->local_ip, &sp);
		(void)snprintf(label, sizeof(label), "quad \"%s\"", in[i]);
		if (inet_pton(AF_INET, in[i], bin) != 1) {
			T_INT(label, r, -1);
			continue;
		}
		(void)inet_ntop(AF_INET, bin, want, sizeof(want));
		T_INT(label, r, 0);
		T_STR(label, ev->local_ip, want);
	}
}

static void
test_setters(void)
{
	struct tls_event ev;
	char big[600];
	struct span sp;

	ev_init(&ev);
	memset(big, 'a', sizeof(big));
	sp.p = big;
	sp.len = sizeof(big);
	ev_setstr(&ev, ev.domain, sizeof(ev.domain), &sp);
	T_INT("cut to fit", strlen(ev.domain), EV_HOST_MAX);
	T_OK("truncated flag", ev.flags & EV_F_TRUNCATED);
	T_OK("not sanitized yet", !(ev.flags & EV_F_SANITIZED));
	sp.p = "a\001b\nc\377";
	sp.len = 6;
	ev_setstr(&ev, ev.reason, sizeof(ev.reason), &sp);
	T_STR("control and high bytes replaced", ev.reason, "a?b?c?");
	T_OK("sanitized flag", ev.flags & EV_F_SANITIZED);

	sp.p = "2001:DB8:0:0:0:0:0:1";
	sp.len = strlen(sp.p);
	T_INT("ipv6 accepted", ev_setaddr(&ev, ev.peer_ip, &sp), 0);
	T_STR("ipv6 canonical (RFC 5952)", ev.peer_ip, "2001:db8::1");
	sp.p = "192.0.2.1";
	sp.len = strlen(sp.p);
	T_INT("ipv4 accepted", ev_setaddr(&ev, ev.peer_ip, &sp), 0);
	T_STR("ipv4", ev.peer_ip, "192.0.2.1");
	sp.p = "192.0.2.256";
	sp.len = strlen(sp.p);
	T_INT("bad ipv4 refused", ev_setaddr(&ev, ev.local_ip, &sp), -1);
	sp.p = "unknown";
	sp.len = 7;
	T_INT("name refused", ev_setaddr(&ev, ev.local_ip, &sp), -1);
	T_STR("field untouched on refusal", ev.local_ip, "");

	test_quads(&ev);

	ev_setcstr(&ev, ev.peer_host, sizeof(ev.peer_host), "MX1.Example.COM.");
	ev_lowerhost(ev.peer_host);
	T_STR("host lowered, dot dropped", ev.peer_host, "mx1.example.com");
	T_INT("result lookup", ev_result_lookup("tlsa-invalid", 12),
	    EV_RES_TLSA_INVALID);
	T_INT(
	    "result lookup unknown", ev_result_lookup("bogus", 5), EV_RES_NONE);
}

int
main(void)
{
	json_set_alloc_funcs(xmalloc, free);
	test_keys();
	test_values();
	test_setters();
	return t_done("test_event");
}
