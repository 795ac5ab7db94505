/*
 * test_smtp.c - the SMTP/STARTTLS state machine and its verdicts, on
 * scripted sessions: {label, steps, want} where a step is bytes from the
 * client ("C") or the server ("S"), a TLS record sequence, or a gap.
 */
#include "collector/smtp.h"

#include <stdlib.h>

#include "t.h"
#include "hello.h"

enum step_kind {
	C,	/* client text */
	S,	/* server text */
	CH,	/* client: ClientHello (SNI mx.peer.test, TLS 1.3/1.2) */
	SH13,	/* server: ServerHello TLS 1.3 TLS_AES_256_GCM_SHA384 + data */
	SH12,	/* server: ServerHello TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 */
	HRR,	/* server: HelloRetryRequest */
	CENC,	/* client: encrypted records */
	CALERT, /* client: fatal alert bad_certificate in clear */
	CGAP,	/* client bytes lost */
	SGAP,	/* server bytes lost */
	END
};

struct step {
	enum step_kind k;
	const char *text;
};

struct tcase {
	const char *label;
	bool implicit, midstream;
	enum smtp_end end;
	enum ev_dir dir;
	struct step steps[16];
	enum ev_tls want;
	const char *version, *cipher, *reason, *domain;
};

static const char *ehlo_tls = "250-mx.peer.test\r\n250-PIPELINING\r\n"
			      "250-starttls\r\n250 8BITMIME\r\n";
static const char *ehlo_plain = "250-mx.peer.test\r\n250 PIPELINING\r\n";

/* clang-format off */
static const struct tcase cases[] = {
    {"tls 1.3 after starttls", false, false, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx.peer.test ESMTP\r\n"}, {C, "EHLO out.test\r\n"},
	 {S, NULL /* ehlo_tls */}, {C, "STARTTLS\r\n"},
	 {S, "220 2.0.0 Ready to start TLS\r\n"}, {CH, NULL}, {SH13, NULL},
	 {CENC, NULL}, {END, NULL}},
	EV_TLS_OK, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL, NULL},
    {"reply seen before its command", false, false, SMTP_END_CLOSED,
	EV_DIR_OUT,
	{{S, "220 mx.peer.test ESMTP\r\n"}, {C, "EHLO out.test\r\n"},
	 {S, NULL}, {S, "220 2.0.0 Ready\r\n"}, {SH12, NULL},
	 {C, "StartTLS\r\n"}, {CH, NULL}, {CENC, NULL}, {END, NULL}},
	EV_TLS_OK, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256",
	"handshake not seen to complete", NULL},
    {"starttls in a pipelined group", false, false, SMTP_END_CLOSED,
	EV_DIR_OUT,
	{{S, "220 mx.peer.test ESMTP\r\n"},
	 {C, "EHLO out.test\r\nstarttls\r\n"}, {S, NULL},
	 {S, "220 go ahead\r\n"}, {CH, NULL}, {SH13, NULL}, {CENC, NULL},
	 {END, NULL}},
	EV_TLS_OK, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL, NULL},
    {"hello retry request then server hello", false, false,
	SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "220 ok\r\n"}, {CH, NULL}, {HRR, NULL}, {CH, NULL},
	 {SH13, NULL}, {CENC, NULL}, {END, NULL}},
	EV_TLS_OK, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL, NULL},
    {"only a hello retry request", false, false, SMTP_END_CLOSED,
	EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "220 ok\r\n"}, {CH, NULL}, {HRR, NULL}, {END, NULL}},
	EV_TLS_FAILED, NULL, NULL, "handshake abandoned after client hello",
	NULL},
    {"starttls refused", false, false, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "454 4.7.0 TLS not available\r\n"},
	 {C, "MAIL FROM:<u@out.test>\r\nRCPT TO:<r@Dest.Example>\r\n"},
	 {S, "250 ok\r\n250 ok\r\n"}, {END, NULL}},
	EV_TLS_PLAIN, NULL, NULL, "starttls refused: 454", "dest.example"},
    {"starttls not offered, mail in clear", false, false, SMTP_END_CLOSED,
	EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, "PLAIN"},
	 {C, "MAIL FROM:<u@out.test> SIZE=10\r\nRCPT TO:<x@notls.test>\r\n"
	     "DATA\r\n"},
	 {S, "250 ok\r\n250 ok\r\n354 go\r\n"},
	 {C, "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n"},
	 {S, "250 2.0.0 Ok: queued as 4XbGJk1Zq5z\r\n221 bye\r\n"},
	 {END, NULL}},
	EV_TLS_PLAIN, NULL, NULL, "starttls not offered", "notls.test"},
    {"starttls offered, not used (inbound)", false, false,
	SMTP_END_CLOSED, EV_DIR_IN,
	{{S, "220 mx\r\n"}, {C, "EHLO client.example\r\n"}, {S, NULL},
	 {C, "MAIL FROM:<s@Partner.Example>\r\n"}, {S, "250 ok\r\n"},
	 {END, NULL}},
	EV_TLS_PLAIN, NULL, NULL, "starttls offered, not used",
	"partner.example"},
    {"injection after starttls is not mail", false, false,
	SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL},
	 {C, "STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n"}, {S, "220 ok\r\n"},
	 {CH, NULL}, {SH13, NULL}, {CENC, NULL}, {END, NULL}},
	EV_TLS_OK, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL, NULL},
    {"alert in clear after server hello", false, false, SMTP_END_CLOSED,
	EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "220 ok\r\n"}, {CH, NULL}, {SH12, NULL}, {CALERT, NULL},
	 {END, NULL}},
	EV_TLS_FAILED, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256",
	"tls alert from client: bad_certificate", NULL},
    {"220 and then nothing", false, false, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "220 ok\r\n"}, {END, NULL}},
	EV_TLS_FAILED, NULL, NULL, "handshake abandoned before client hello",
	NULL},
    {"capture ends during the handshake", false, false, SMTP_END_CAPTURE,
	EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "220 ok\r\n"}, {CH, NULL}, {END, NULL}},
	EV_TLS_UNKNOWN, NULL, NULL, "capture ended during the tls handshake",
	NULL},
    {"server hello lost", false, false, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {C, "STARTTLS\r\n"},
	 {S, "220 ok\r\n"}, {CH, NULL}, {SGAP, NULL}, {END, NULL}},
	EV_TLS_UNKNOWN, NULL, NULL, "capture lost the server hello", NULL},
    {"client bytes lost before anything decided", false, false,
	SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {CGAP, NULL},
	 {END, NULL}},
	EV_TLS_UNKNOWN, NULL, NULL, "capture lost client bytes before mail",
	NULL},
    {"mid-session", false, true, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "250 ok\r\n"}, {C, "QUIT\r\n"}, {END, NULL}},
	EV_TLS_UNKNOWN, NULL, NULL, "capture started mid-session", NULL},
    {"implicit tls", true, false, SMTP_END_CLOSED, EV_DIR_SUBMISSION,
	{{CH, NULL}, {SH13, NULL}, {CENC, NULL}, {END, NULL}},
	EV_TLS_OK, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL, NULL},
    {"implicit tls port, plaintext server", true, false, SMTP_END_CLOSED,
	EV_DIR_SUBMISSION,
	{{CH, NULL}, {S, "220 mx ESMTP\r\n"}, {END, NULL}},
	EV_TLS_FAILED, NULL, NULL, "server did not answer with tls", NULL},
    {"greeting refuses", false, false, SMTP_END_CLOSED, EV_DIR_IN,
	{{S, "554 5.7.1 go away\r\n"}, {C, "QUIT\r\n"}, {S, "221 bye\r\n"},
	 {END, NULL}},
	EV_TLS_PLAIN, NULL, NULL, "greeting refused the session", NULL},
    {"quit without starttls, capture ended", false, false,
	SMTP_END_CAPTURE, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, NULL}, {END, NULL}},
	EV_TLS_UNKNOWN, NULL, NULL,
	"capture ended before the session decided", NULL},
    {"bdat chunks", false, false, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "220 mx\r\n"}, {C, "EHLO a\r\n"}, {S, "PLAIN"},
	 {C, "MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 5\r\n"
	     "STARTBDAT 3 LAST\r\nTLS"},
	 {S, "250 a\r\n250 b\r\n250 c\r\n250 2.0.0 queued as AB12\r\n"},
	 {C, "QUIT\r\n"}, {END, NULL}},
	EV_TLS_PLAIN, NULL, NULL, "starttls not offered", "d.test"},
    {"not smtp", false, false, SMTP_END_CLOSED, EV_DIR_OUT,
	{{S, "SSH-2.0-OpenSSH_9.2\r\n"}, {C, "SSH-2.0-x\r\n"}, {END, NULL}},
	EV_TLS_UNKNOWN, NULL, NULL, "not smtp", NULL},
};
/* clang-format on */

static void
feed_in_pieces(
    struct smtp *sm, enum smtp_dir d, const uint8_t *p, size_t n, size_t piece)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < piece ? n - i : piece;
		smtp_feed(sm, d, p + i, k);
	}
}

static void
run_case(const struct tcase *tc, size_t piece)
{
	static const uint16_t vers[] = {0x0304, 0x0303};
	struct smtp *sm = smtp_new(tc->implicit, tc->midstream);
	struct tls_event ev;
	struct hb msg, rec;
	char label[160];
	const struct step *st;
	uint8_t ccs = 1;

	for (st = tc->steps; st->k != END; st++) {
		const char *text = st->text;

		msg.n = rec.n = 0;
		switch (st->k) {
		case C:
			feed_in_pieces(sm, SMTP_C2S, (const uint8_t *)text,
			    strlen(text), piece);
			break;
		case S:
			if (text == NULL)
				text = ehlo_tls;
			else if (strcmp(text, "PLAIN") == 0)
				text = ehlo_plain;
			feed_in_pieces(sm, SMTP_S2C, (const uint8_t *)text,
			    strlen(text), piece);
			break;
		case CH:
			hb_client_hello(&msg, "mx.peer.test", vers, 2);
			hb_records(&rec, 22, msg.b, msg.n, 16384);
			feed_in_pieces(sm, SMTP_C2S, rec.b, rec.n, piece);
			break;
		case SH13:
		case SH12:
		case HRR:
			hb_server_hello(&msg, st->k == SH12 ? 0x0303 : 0x0304,
			    st->k == SH12 ? 0xc02f : 0x1302, st->k == HRR);
			hb_records(&rec, 22, msg.b, msg.n, 16384);
			if (st->k == HRR)
				hb_records(&rec, 20, &ccs, 1, 1);
			if (st->k == SH13)
				hb_appdata(&rec, 100);
			feed_in_pieces(sm, SMTP_S2C, rec.b, rec.n, piece);
			break;
		case CENC:
			hb_records(&rec, 20, &ccs, 1, 1);
			hb_appdata(&rec, 40);
			feed_in_pieces(sm, SMTP_C2S, rec.b, rec.n, piece);
			break;
		case CALERT:
			hb_alert(&rec, 2, 42);
			feed_in_pieces(sm, SMTP_C2S, rec.b, rec.n, piece);
			break;
		case CGAP:
			smtp_gap(sm, SMTP_C2S);
			break;
		case SGAP:
			smtp_gap(sm, SMTP_S2C);
			break;
		case END:
			break;
		}
	}
	ev_init(&ev);
	smtp_event(sm, tc->end, tc->dir, &ev);
	(void)snprintf(
	    label, sizeof(label), "%s (pieces of %zu)", tc->label, piece);
	T_STR(label, ev_tls_name(tc->want) ? ev_tls_name(ev.tls) : "",
	    ev_tls_name(tc->want) ? ev_tls_name(tc->want) : "");
	T_INT(label, ev.tls, tc->want);
	T_STR(label, ev.tls_version[0] ? ev.tls_version : NULL, tc->version);
	T_STR(label, ev.cipher[0] ? ev.cipher : NULL, tc->cipher);
	T_STR(label, ev.reason[0] ? ev.reason : NULL, tc->reason);
	T_STR(label, ev.domain[0] ? ev.domain : NULL, tc->domain);
	smtp_free(sm);
}

static void
feeds(struct smtp *sm, enum smtp_dir d, const char *text)
{
	smtp_feed(sm, d, (const uint8_t *)text, strlen(text));
}

static void
test_facts(void)
{
	const struct tcase *tc = &cases[0];
	struct smtp *sm = smtp_new(false, false);
	const struct smtp_facts *f;
	struct tls_event ev;

	(void)tc;
	feeds(sm, SMTP_S2C, "220 MX.Peer.Test ESMTP\r\n");
	feeds(sm, SMTP_C2S, "EHLO out.test\r\nSTARTTLS\r\nRCPT TO:<x@y>\r\n");
	feeds(sm, SMTP_S2C, ehlo_tls);
	feeds(sm, SMTP_S2C, "220 ok\r\n250 injected\r\n");
	f = smtp_facts(sm);
	T_INT("banner code", f->banner_code, 220);
	T_STR("banner host", f->banner_host, "mx.peer.test");
	T_STR("helo", f->helo, "out.test");
	T_OK("starttls offered (lower case)", f->starttls_offered);
	T_OK("starttls sent", f->starttls_sent);
	T_INT("starttls reply", f->starttls_reply, 220);
	T_INT("client injection counted", f->injected[SMTP_C2S], 1);
	T_INT("server injection counted", f->injected[SMTP_S2C], 1);
	T_INT("injected rcpt not read", f->rcpts, 0);
	T_OK("both sides in tls", f->tls[0] && f->tls[1]);
	ev_init(&ev);
	smtp_event(sm, SMTP_END_CLOSED, EV_DIR_OUT, &ev);
	T_STR("peer_host from the banner", ev.peer_host, "mx.peer.test");
	T_STR("peer_helo from the ehlo reply", ev.peer_helo, "mx.peer.test");
	smtp_free(sm);

	/* Messages, queue ids and status of a plaintext session. */
	sm = smtp_new(false, false);
	feeds(sm, SMTP_S2C, "220 mx\r\n");
	feeds(sm, SMTP_C2S,
	    "HELO a\r\nMAIL FROM:<>\r\nRCPT TO:<a@b.test>\r\n"
	    "DATA\r\n.\r\nMAIL FROM:<x@y.z>\r\nRCPT TO:<b@c>\r\n"
	    "DATA\r\nx\r\n.\r\n");
	feeds(sm, SMTP_S2C,
	    "250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n"
	    "250 queued as AAA1\r\n250 ok\r\n250 ok\r\n354 go\r\n"
	    "451 try later\r\n");
	ev_init(&ev);
	smtp_event(sm, SMTP_END_CLOSED, EV_DIR_OUT, &ev);
	T_INT("messages", ev.messages, 1);
	T_STR("queue ids", ev.queue_ids, "AAA1");
	T_INT("status from the last data reply", ev.status, EV_ST_DEFERRED);
	T_STR("first recipient domain", ev.domain, "b.test");
	smtp_free(sm);
}

int
main(void)
{
	static const size_t pieces[] = {65536, 5, 1};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (j = 0; j < sizeof(pieces) / sizeof(pieces[0]); j++)
			run_case(&cases[i], pieces[j]);
	test_facts();
	return t_done("test_smtp");
}
