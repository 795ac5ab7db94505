/*
 * test_tlshello.c - ClientHello/ServerHello/alert parsing, also when the
 * handshake is cut into many records and fed a byte at a time, and on
 * every truncation of a valid message.
 */
#include "collector/tlshello.h"

#include <stdlib.h>

#include "collector/tlscipher.h"
#include "t.h"
#include "hello.h"

static const uint16_t v13[] = {0x0304, 0x0303};

/* Feed `in' to a fresh stream `chunk' bytes at a time. */
static void
feed(struct tlshello_stream *s, enum tlshello_role role, const struct hb *in,
    size_t chunk)
{
	size_t i, k;

	tlshello_stream_init(s, role);
	for (i = 0; i < in->n; i += k) {
		k = in->n - i < chunk ? in->n - i : chunk;
		tlshello_feed(s, in->b + i, k);
	}
}

static void
test_client(void)
{
	static const size_t frags[] = {16384, 100, 7, 1};
	static const size_t chunks[] = {100000, 13, 1};
	struct tlshello_stream s;
	struct hb msg = {{0}, 0}, rec;
	char label[96];
	size_t i, j;

	hb_client_hello(&msg, "mx.Example.org", v13, 2);
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++)
		for (j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
			rec.n = 0;
			hb_records(&rec, 22, msg.b, msg.n, frags[i]);
			hb_appdata(&rec, 30);
			feed(&s, TLSHELLO_CLIENT, &rec, chunks[j]);
			(void)snprintf(label, sizeof(label),
			    "client hello, records of %zu, chunks of %zu",
			    frags[i], chunks[j]);
			T_OK(label, s.hello && !s.bad);
			T_STR(label, s.client.sni, "mx.Example.org");
			T_INT(label, s.client.nversions, 2);
			T_INT(label, s.client.versions[0], 0x0304);
			T_INT(label, s.client.versions[1], 0x0303);
			T_INT(label, s.client.nsuites, 4);
			T_INT(label, s.encrypted, 1);
			T_OK(label, !tlshello_wants(&s));
			T_INT(label, s.hs.cap, 0); /* buffer given back */
			tlshello_stream_free(&s);
		}

	/* TLS 1.2 client: no supported_versions, no SNI. */
	msg.n = 0;
	hb_client_hello(&msg, NULL, NULL, 0);
	rec.n = 0;
	hb_records(&rec, 22, msg.b, msg.n, 16384);
	feed(&s, TLSHELLO_CLIENT, &rec, 5);
	T_OK("tls 1.2 client hello", s.hello);
	T_INT("no sni", s.client.sni_len, 0);
	T_INT("legacy version only", s.client.nversions, 1);
	T_INT("legacy version", s.client.versions[0], 0x0303);
	T_OK("wants encrypted records", tlshello_wants(&s));
	tlshello_stream_free(&s);
}

static void
test_truncations(void)
{
	struct tlshello_client ch;
	struct tlshello_server sh;
	struct hb msg = {{0}, 0};
	unsigned bad = 0;
	size_t n;

	hb_client_hello(&msg, "a.example", v13, 2);
	/* The body starts after the 4-byte message header. */
	for (n = 0; n < msg.n - 4; n++) {
		uint8_t *copy = malloc(n + 1); /* exact size for ASan */

		memcpy(copy, msg.b + 4, n);
		bad += tlshello_client_parse(rd_make(copy, n), &ch);
		free(copy);
	}
	/* Only the cut right before the extensions is a valid hello. */
	T_INT("truncated client hellos that parse", bad, 1);
	T_OK("whole client hello",
	    tlshello_client_parse(rd_make(msg.b + 4, msg.n - 4), &ch));
	msg.n = 0;
	hb_server_hello(&msg, 0x0304, 0x1302, 0);
	bad = 0;
	for (n = 0; n < msg.n - 4; n++) {
		uint8_t *copy = malloc(n + 1);

		memcpy(copy, msg.b + 4, n);
		bad += tlshello_server_parse(rd_make(copy, n), &sh);
		free(copy);
	}
	/* Cut before the extensions it reads as a TLS 1.2 hello. */
	T_INT("truncated server hellos that parse", bad, 1);
}

static void
test_server(void)
{
	struct tlshello_stream s;
	struct hb msg = {{0}, 0}, rec = {{0}, 0};
	uint8_t ccs = 1;

	/* TLS 1.2: the version is legacy_version; CCS then encrypted. */
	hb_server_hello(&msg, 0x0303, 0xc030, 0);
	hb_records(&rec, 22, msg.b, msg.n, 16384);
	hb_records(&rec, 20, &ccs, 1, 1);
	hb_records(&rec, 22, msg.b, 40, 40); /* "encrypted Finished" */
	feed(&s, TLSHELLO_SERVER, &rec, 1);
	T_OK("tls 1.2 server hello", s.hello && !s.bad);
	T_INT("tls 1.2 version", s.server.version, 0x0303);
	T_INT("tls 1.2 cipher", s.server.cipher, 0xc030);
	T_OK("ccs", s.ccs);
	T_INT("encrypted after ccs", s.encrypted, 1);
	tlshello_stream_free(&s);

	/* TLS 1.3 after a HelloRetryRequest. */
	msg.n = rec.n = 0;
	hb_server_hello(&msg, 0x0304, 0x1302, 1);
	hb_records(&rec, 22, msg.b, msg.n, 16384);
	hb_records(&rec, 20, &ccs, 1, 1);
	msg.n = 0;
	hb_server_hello(&msg, 0x0304, 0x1301, 0);
	hb_records(&rec, 22, msg.b, msg.n, 9);
	hb_appdata(&rec, 50);
	feed(&s, TLSHELLO_SERVER, &rec, 3);
	T_INT("hrr counted", s.hrr, 1);
	T_OK("real server hello after hrr", s.hello && !s.server.hrr);
	T_INT("tls 1.3 from supported_versions", s.server.version, 0x0304);
	T_INT("cipher of the real hello", s.server.cipher, 0x1301);
	tlshello_stream_free(&s);

	/* Only an HRR: no hello yet. */
	msg.n = rec.n = 0;
	hb_server_hello(&msg, 0x0304, 0x1302, 1);
	hb_records(&rec, 22, msg.b, msg.n, 16384);
	feed(&s, TLSHELLO_SERVER, &rec, 1000);
	T_OK("hrr alone is no hello", !s.hello && !s.bad && s.hrr == 1);
	tlshello_stream_free(&s);

	/* A fatal alert instead of a hello. */
	rec.n = 0;
	hb_alert(&rec, 2, 40);
	feed(&s, TLSHELLO_SERVER, &rec, 1);
	T_OK("alert read", s.alert && s.alert_clear);
	T_INT("alert level", s.alert_level, 2);
	T_STR("alert name", tlshello_alert_name(s.alert_desc),
	    "handshake_failure");
	tlshello_stream_free(&s);
}

static void
test_not_tls(void)
{
	/* clang-format off */
	static const struct { const char *label, *in; size_t n; } tab[] = {
	    {"smtp is not tls", "220 mx.example.org ESMTP\r\n", 26},
	    {"sslv2 hello", "\x80\x2e\x01\x00\x02", 5},
	    {"app data first", "\x17\x03\x03\x00\x05hello", 10},
	    {"record too long", "\x16\x03\x03\xff\xff", 5},
	    {"server hello from a client",
		"\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9},
	    {"huge handshake message",
		"\x16\x03\x01\x00\x04\x01\xff\xff\xff", 9},
	};
	/* clang-format on */
	struct tlshello_stream s;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		tlshello_stream_init(&s, TLSHELLO_CLIENT);
		tlshello_feed(&s, (const uint8_t *)tab[i].in, tab[i].n);
		T_OK(tab[i].label, s.bad && !s.hello && !tlshello_wants(&s));
		tlshello_stream_free(&s);
	}
}

static void
test_names(void)
{
	uint16_t bits;

	T_STR("tls 1.3 suite", tlscipher_name(0x1302, &bits),
	    "TLS_AES_256_GCM_SHA384");
	T_INT("tls 1.3 suite bits", bits, 256);
	T_STR("tls 1.2 suite", tlscipher_name(0xc02f, &bits),
	    "ECDHE-RSA-AES128-GCM-SHA256");
	T_INT("tls 1.2 suite bits", bits, 128);
	T_STR("chacha", tlscipher_name(0xcca8, NULL),
	    "ECDHE-RSA-CHACHA20-POLY1305");
	T_OK("unknown suite",
	    tlscipher_name(0x0a0a, &bits) == NULL && bits == 0);
	T_STR("version 1.3", tlshello_version_name(0x0304), "TLSv1.3");
	T_STR("version 1.0", tlshello_version_name(0x0301), "TLSv1");
	T_OK("version unknown", tlshello_version_name(0x7f1c) == NULL);
	T_STR("alert 116", tlshello_alert_name(116), "certificate_required");
}

int
main(void)
{
	test_client();
	test_truncations();
	test_server();
	test_not_tls();
	test_names();
	return t_done("test_tlshello");
}
