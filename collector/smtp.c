/*
 * smtp.c - the SMTP command/reply state machine of a passive observer
 *
 * Input: the two byte streams of one TCP connection, untrusted, each in
 * order (flow.c reassembles them) but interleaved in whatever order the
 * capture has them.  Output: facts (struct smtp_facts) and, at the end,
 * a verdict (smtp_event()).  No I/O; the only allocations are the two
 * bounded pending buffers and the hello buffers of tlshello.c.
 * Single-threaded; one object per connection.
 *
 * Specs: RFC 5321 (commands 4.1.1, replies 4.2, DATA transparency
 * 4.5.2), RFC 2920 (pipelining: replies come in command order), RFC 3030
 * (BDAT), RFC 3207 (STARTTLS: 220 then TLS, 454 and 5xx refuse), RFC 4954
 * (AUTH, 334 continuations), RFC 8314 (implicit TLS on 465).
 *
 * Matching replies to commands.  Replies are matched to commands by
 * position: the greeting to the connection itself, then the i-th reply
 * to the i-th command (pipelining keeps the order).  Each side waits for
 * the other where a byte's meaning depends on it:
 *  - the server side reads a reply only when a command is waiting for
 *    one, so that a capture that shows a reply before its command (the
 *    two directions are captured independently) still matches;
 *  - the client side stops after STARTTLS, DATA and AUTH until their
 *    reply is known, because what follows is TLS or plaintext, message
 *    body or commands, an AUTH response or a command, depending on it.
 * What a side cannot read yet stays in its pending buffer.
 *
 * STARTTLS injection (CVE-2011-0411 and kin): bytes that follow the
 * STARTTLS command, or its 220 reply, in the same segment and that are
 * not a TLS record are counted in `injected' and discarded, never read as
 * plaintext SMTP: a server that acts on them, or a client that believes
 * them, has been attacked, and the session is still judged by its TLS.
 *
 * Verdict rules (smtp_event), in this order:
 *  1. capture started mid-session                         -> unknown
 *     the server's first bytes are not an SMTP reply      -> unknown
 *  2. TLS was due (STARTTLS answered 220, or implicit TLS):
 *     a. a real ServerHello (not an HRR) was seen:
 *        a TLS alert in clear that is fatal               -> failed
 *        else                                             -> tls
 *     b. no ServerHello: a fatal alert in clear, or the
 *        server sent something that is not TLS            -> failed
 *        the server's bytes were lost                     -> unknown
 *        connection closed or went idle                   -> failed
 *        the capture ended or the flow was evicted        -> unknown
 *  3. STARTTLS sent and answered other than 220           -> plaintext
 *     STARTTLS sent, no answer: bytes lost, capture ended,
 *     evicted                                             -> unknown
 *     ... connection closed or idle                       -> failed
 *  4. no STARTTLS: MAIL FROM went in clear                 -> plaintext
 *     client bytes lost (a STARTTLS could hide there)     -> unknown
 *     capture ended or evicted while the session was open -> unknown
 *     otherwise the session ended without TLS             -> plaintext
 * A ServerHello after 220 is `tls' even when the MTA then gives up for a
 * reason inside the encrypted part (certificate checks): the wire cannot
 * see it, and the log parser is the source for trust and result.
 */
#include "collector/smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/tlscipher.h"
#include "common/scan.h"
#include "common/xmalloc.h"

enum sm_mode {
	SM_LINES = 0, /* commands (client) or replies (server) */
	SM_WAIT,      /* client: until the reply to the last command */
	SM_DATA,      /* client: message body up to CRLF.CRLF */
	SM_BDAT,      /* client: BDAT chunk bytes */
	SM_TLS,	      /* TLS records (tlshello.c) */
	SM_OFF	      /* nothing more to learn, or lost */
};

enum sm_cmd {
	SM_C_CONNECT = 0, /* the greeting's "command" */
	SM_C_EHLO,
	SM_C_HELO,
	SM_C_MAIL,
	SM_C_RCPT,
	SM_C_DATA,
	SM_C_DATAEND, /* the end of a message body */
	SM_C_BDAT,
	SM_C_BDATLAST,
	SM_C_STARTTLS,
	SM_C_AUTH,
	SM_C_AUTHCONT, /* a line answering a 334 */
	SM_C_QUIT,
	SM_C_OTHER
};

struct sm_side {
	enum sm_mode mode;
	struct buf pend;    /* bytes not read yet */
	uint64_t bdat_left; /* SM_BDAT: chunk bytes still to skip */
	uint8_t dstate;	    /* SM_DATA: position in CRLF "." CRLF */
	uint8_t tls_start;  /* 1: TLS begins here, 2: ... after injection */
};

struct smtp {
	struct smtp_facts f;
	struct sm_side side[2];
	uint8_t cmdq[SMTP_CMDQ_MAX]; /* enum sm_cmd, oldest at qhead */
	unsigned qhead, qlen;
	bool auth_cont; /* the next client line answers a 334 */
	/* the server reply being read */
	bool in_reply;
	uint16_t rcode;
	bool r_starttls; /* a STARTTLS line in it (EHLO) */
};

/* DATA body terminator states (RFC 5321 4.5.2) */
#define SM_D_BOL 0 /* at the start of a line */
#define SM_D_MID 1
#define SM_D_DOT 2   /* "." at the start of a line */
#define SM_D_DOTCR 3 /* ".\r" */

struct smtp *
smtp_new(bool implicit_tls, bool midstream)
{
	struct smtp *s = xmalloc(sizeof(*s));

	smtp_reset(s, implicit_tls, midstream, false);
	return s;
}

void
smtp_reset(struct smtp *s, bool implicit_tls, bool midstream, bool used)
{
	int d;

	if (used)
		for (d = 0; d < 2; d++) {
			buf_free(&s->side[d].pend);
			tlshello_stream_free(&s->f.hello[d]);
		}
	memset(s, 0, sizeof(*s));
	s->f.implicit_tls = implicit_tls;
	s->f.midstream = midstream;
	for (d = 0; d < 2; d++) {
		buf_init(&s->side[d].pend, SMTP_PENDING_MAX);
		tlshello_stream_init(&s->f.hello[d],
		    d == SMTP_C2S ? TLSHELLO_CLIENT : TLSHELLO_SERVER);
		if (implicit_tls) {
			s->side[d].mode = SM_TLS;
			s->f.tls[d] = true;
		}
	}
	s->cmdq[0] = SM_C_CONNECT; /* the greeting answers the connection */
	s->qlen = 1;
}

void
smtp_free(struct smtp *s)
{
	int d;

	if (s == NULL)
		return;
	for (d = 0; d < 2; d++) {
		buf_free(&s->side[d].pend);
		tlshello_stream_free(&s->f.hello[d]);
	}
	free(s);
}

const struct smtp_facts *
smtp_facts(const struct smtp *s)
{
	return &s->f;
}

size_t
smtp_mem(const struct smtp *s)
{
	return sizeof(*s) + s->side[0].pend.cap + s->side[1].pend.cap +
	       s->f.hello[0].hs.cap + s->f.hello[1].hs.cap;
}

bool
smtp_wants(const struct smtp *s, enum smtp_dir d)
{
	return s->side[d].mode != SM_OFF;
}

/* Stop reading direction d for good. */
static void
sm_off(struct smtp *s, int d)
{
	s->side[d].mode = SM_OFF;
	buf_free(&s->side[d].pend);
	buf_init(&s->side[d].pend, SMTP_PENDING_MAX);
	tlshello_stream_free(&s->f.hello[d]);
}

void
smtp_gap(struct smtp *s, enum smtp_dir d)
{
	if (s->side[d].mode == SM_OFF)
		return; /* nothing was wanted any more: no loss */
	s->f.lost[d] = true;
	sm_off(s, d);
}

static void
sm_not_smtp(struct smtp *s, int d)
{
	s->f.not_smtp[d] = true;
	s->f.lost[d] = true;
	sm_off(s, d);
}

/* Copy untrusted bytes into a fact: printable ASCII, optionally lower. */
static void
sm_copy(char *dst, size_t size, const uint8_t *p, size_t n, bool lower)
{
	size_t i;

	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c < 0x21 || c >= 0x7f)
			c = '?';
		else if (lower && c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		dst[i] = (char)c;
	}
	dst[n] = '\0';
}

/* The first space-delimited word of [p, end). */
static size_t
sm_word(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;

	while (q < end && *q != ' ' && *q != '\t')
		q++;
	return (size_t)(q - p);
}

static bool
sm_eq_ci(const uint8_t *p, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t a = p[i], b = (uint8_t)lit[i];

		if (b == '\0')
			return false;
		if (a >= 'a' && a <= 'z')
			a = (uint8_t)(a - 'a' + 'A');
		if (a != b)
			return false;
	}
	return lit[n] == '\0';
}

static bool
sm_prefix_ci(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && sm_eq_ci(p, k, lit);
}

/*
 * The domain of a path argument: "MAIL FROM:<user@Example.ORG> SIZE=10"
 * -> "example.org" (RFC 5321 4.1.2); "<>" gives "".
 */
static void
sm_path_domain(const uint8_t *p, const uint8_t *end, char *dst, size_t size)
{
	const uint8_t *q, *at = NULL;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '<')
		p++;
	for (q = p; q < end && *q != '>' && *q != ' '; q++)
		if (*q == '@')
			at = q;
	if (at == NULL) {
		dst[0] = '\0';
		return;
	}
	sm_copy(dst, size, at + 1, (size_t)(q - at - 1), true);
}

static bool
sm_push(struct smtp *s, enum sm_cmd c)
{
	if (s->qlen == SMTP_CMDQ_MAX)
		return false;
	s->cmdq[(s->qhead + s->qlen) % SMTP_CMDQ_MAX] = (uint8_t)c;
	s->qlen++;
	return true;
}

/*
 * One command line of the client, without its line end:
 *   "EHLO client.example.org", "MAIL FROM:<a@b.example> SIZE=123",
 *   "RCPT TO:<c@d.example>", "STARTTLS", "BDAT 1000 LAST", ...
 * Returns the command kind.
 */
static enum sm_cmd
sm_command(struct smtp *s, const uint8_t *p, const uint8_t *end)
{
	size_t vlen = sm_word(p, end);
	const uint8_t *arg = p + vlen;
	const char *a, *aend;
	uint64_t size;

	if (s->auth_cont) {
		s->auth_cont = false;
		return SM_C_AUTHCONT; /* base64, not a verb */
	}
	while (arg < end && (*arg == ' ' || *arg == '\t'))
		arg++;
	if (sm_eq_ci(p, vlen, "EHLO") || sm_eq_ci(p, vlen, "HELO")) {
		sm_copy(s->f.helo, sizeof(s->f.helo), arg, sm_word(arg, end),
		    false);
		return sm_eq_ci(p, vlen, "EHLO") ? SM_C_EHLO : SM_C_HELO;
	}
	if (sm_eq_ci(p, vlen, "STARTTLS")) {
		s->f.starttls_sent = true;
		return SM_C_STARTTLS;
	}
	if (sm_prefix_ci(p, (size_t)(end - p), "MAIL FROM:")) {
		s->f.mail_clear = true;
		sm_path_domain(
		    p + 10, end, s->f.mail_domain, sizeof(s->f.mail_domain));
		return SM_C_MAIL;
	}
	if (sm_prefix_ci(p, (size_t)(end - p), "RCPT TO:")) {
		if (s->f.rcpts++ == 0)
			sm_path_domain(p + 8, end, s->f.rcpt_domain,
			    sizeof(s->f.rcpt_domain));
		return SM_C_RCPT;
	}
	if (sm_eq_ci(p, vlen, "DATA"))
		return SM_C_DATA;
	if (sm_eq_ci(p, vlen, "BDAT")) {
		a = (const char *)arg;
		aend = (const char *)end;
		if (scan_uint(&a, aend, UINT64_MAX >> 1, &size) == -1)
			return SM_C_OTHER; /* the server will refuse it */
		s->side[SMTP_C2S].bdat_left = size;
		(void)scan_spaces(&a, aend);
		return aend - a >= 4 && sm_eq_ci((const uint8_t *)a, 4, "LAST")
			   ? SM_C_BDATLAST
			   : SM_C_BDAT;
	}
	if (sm_eq_ci(p, vlen, "AUTH"))
		return SM_C_AUTH;
	if (sm_eq_ci(p, vlen, "QUIT")) {
		s->f.quit = true;
		return SM_C_QUIT;
	}
	return SM_C_OTHER;
}

/* Count and drop plaintext that follows the switch to TLS in a segment. */
static size_t
sm_injected(struct smtp *s, int d, const uint8_t *p, size_t n)
{
	if (n == 0 || p[0] == 0x16)
		return 0; /* nothing, or a TLS handshake record */
	s->f.injected[d]++;
	return n;
}

/* "250 2.0.0 Ok: queued as 4XbGJk1Zq5z9vsP" (Postfix, Exim "id="). */
static void
sm_qid(struct smtp *s, const uint8_t *p, const uint8_t *end)
{
	const char *q =
	    scan_find((const char *)p, (const char *)end, "queued as ");
	const uint8_t *id, *e;
	size_t have = strlen(s->f.qids), n;

	if (q == NULL)
		return;
	id = (const uint8_t *)q + 10;
	for (e = id;
	     e < end && ((*e >= '0' && *e <= '9') || (*e >= 'A' && *e <= 'Z') ||
			    (*e >= 'a' && *e <= 'z'));
	     e++)
		;
	n = (size_t)(e - id);
	if (n == 0 || have + 1 + n > EV_QIDS_MAX)
		return;
	if (have > 0)
		s->f.qids[have++] = ' ';
	sm_copy(s->f.qids + have, sizeof(s->f.qids) - have, id, n, false);
}

/* A complete reply (code) answers the oldest command. */
static void
sm_answer(struct smtp *s, uint16_t code)
{
	struct sm_side *c = &s->side[SMTP_C2S];
	enum sm_cmd cmd = (enum sm_cmd)s->cmdq[s->qhead];
	bool wait = c->mode == SM_WAIT && s->qlen == 1;

	s->qhead = (s->qhead + 1) % SMTP_CMDQ_MAX;
	s->qlen--;
	switch (cmd) {
	case SM_C_EHLO:
		if (code == 250) {
			s->f.ehlo_reply = true;
			s->f.starttls_offered = s->r_starttls;
		}
		break;
	case SM_C_STARTTLS:
		s->f.starttls_reply = code;
		if (code == 220) {
			s->f.tls[SMTP_S2C] = true;
			s->side[SMTP_S2C].mode = SM_TLS;
			if (wait) {
				s->f.tls[SMTP_C2S] = true;
				c->mode = SM_TLS;
				c->tls_start = 1;
				return;
			}
		}
		break;
	case SM_C_DATA:
		if (code == 354 && wait) {
			c->mode = SM_DATA;
			c->dstate = SM_D_BOL;
			return;
		}
		break;
	case SM_C_DATAEND:
	case SM_C_BDATLAST:
		s->f.data_reply = code;
		if (code >= 200 && code < 300)
			s->f.messages++;
		break;
	case SM_C_AUTH:
	case SM_C_AUTHCONT:
		if (code == 334 && wait)
			s->auth_cont = true;
		break;
	default:
		break;
	}
	if (wait)
		c->mode = SM_LINES;
}

/*
 * One reply line without its line end (RFC 5321 4.2):
 *   "250-mx.example.org Hello"  "250-STARTTLS"  "250 SMTPUTF8"
 * Returns false when it is not a reply line.
 */
static bool
sm_reply_line(struct smtp *s, const uint8_t *p, const uint8_t *end)
{
	size_t n = (size_t)(end - p);
	const uint8_t *text = p + 4;
	uint16_t code;
	bool last;

	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || (n > 3 && p[3] != ' ' && p[3] != '-'))
		return false;
	code = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + p[2] - '0');
	last = n == 3 || p[3] == ' ';
	if (text > end)
		text = end;
	if (!s->in_reply) {
		enum sm_cmd cmd = (enum sm_cmd)s->cmdq[s->qhead];

		s->in_reply = true;
		s->rcode = code;
		s->r_starttls = false;
		if (cmd == SM_C_CONNECT) {
			s->f.banner_code = code;
			sm_copy(s->f.banner_host, sizeof(s->f.banner_host),
			    text, sm_word(text, end), true);
		} else if (cmd == SM_C_EHLO && code == 250)
			sm_copy(s->f.server_name, sizeof(s->f.server_name),
			    text, sm_word(text, end), true);
	} else if (code != s->rcode)
		return false; /* lines of one reply share the code */
	if (sm_word(text, end) == 8 && sm_eq_ci(text, 8, "STARTTLS"))
		s->r_starttls = true;
	if ((enum sm_cmd)s->cmdq[s->qhead] == SM_C_DATAEND ||
	    (enum sm_cmd)s->cmdq[s->qhead] == SM_C_BDATLAST)
		sm_qid(s, text, end);
	if (last) {
		s->in_reply = false;
		sm_answer(s, code);
	}
	return true;
}

/* The end of the line starting at p, or NULL. */
static const uint8_t *
sm_eol(const uint8_t *p, const uint8_t *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* Strip one CR before LF. */
static const uint8_t *
sm_trim(const uint8_t *p, const uint8_t *lf)
{
	return lf > p && lf[-1] == '\r' ? lf - 1 : lf;
}

/* Skip message body bytes; true at the end of the body. */
static bool
sm_body(struct sm_side *c, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp, *lf;

	while (p < end) {
		if (c->dstate == SM_D_MID) {
			if ((lf = sm_eol(p, end)) == NULL) {
				p = end;
				break;
			}
			p = lf + 1;
			c->dstate = SM_D_BOL;
			continue;
		}
		switch (c->dstate) {
		case SM_D_BOL:
			c->dstate = *p == '.'	 ? SM_D_DOT
				    : *p == '\n' ? SM_D_BOL
						 : SM_D_MID;
			break;
		case SM_D_DOT:
			if (*p == '\n') {
				*pp = p + 1;
				return true;
			}
			c->dstate = *p == '\r' ? SM_D_DOTCR : SM_D_MID;
			break;
		default: /* SM_D_DOTCR */
			if (*p == '\n') {
				*pp = p + 1;
				return true;
			}
			c->dstate = SM_D_MID;
			break;
		}
		p++;
	}
	*pp = p;
	return false;
}

/*
 * Read what direction d can read of [p, p + n); returns the bytes used.
 * Stops at an incomplete line or where the side has to wait.
 */
static size_t
sm_run(struct smtp *s, int d, const uint8_t *p0, size_t n)
{
	struct sm_side *sd = &s->side[d];
	const uint8_t *p = p0, *end = p0 + n, *lf;
	enum sm_cmd cmd;
	size_t k;

	while (p < end) {
		switch (sd->mode) {
		case SM_OFF:
			return n;
		case SM_WAIT:
			return (size_t)(p - p0);
		case SM_TLS:
			if (sd->tls_start && *p != 0x16) {
				/* Plaintext where the hello should start:
				 * injected, in a later segment. */
				if (sd->tls_start == 1)
					s->f.injected[d]++;
				sd->tls_start = 2;
				lf = memchr(p, 0x16, (size_t)(end - p));
				if (lf == NULL)
					return n;
				p = lf;
			}
			sd->tls_start = 0;
			tlshello_feed(&s->f.hello[d], p, (size_t)(end - p));
			if (d == SMTP_S2C &&
			    (s->f.hello[d].hrr > 0 ||
				(s->f.hello[d].hello &&
				    s->f.hello[d].server.version >=
					TLSHELLO_TLS13)))
				s->f.hello[SMTP_C2S].tls13 = true;
			if (!tlshello_wants(&s->f.hello[d]))
				sm_off(s, d);
			return n;
		case SM_BDAT:
			k = (size_t)(end - p);
			if (sd->bdat_left < k)
				k = (size_t)sd->bdat_left;
			p += k;
			sd->bdat_left -= k;
			if (sd->bdat_left == 0)
				sd->mode = SM_LINES;
			continue;
		case SM_DATA:
			if (sm_body(sd, &p, end)) {
				sd->mode = SM_LINES;
				if (!sm_push(s, SM_C_DATAEND)) {
					sm_not_smtp(s, d);
					return n;
				}
			}
			continue;
		case SM_LINES:
			break;
		}
		if (d == SMTP_S2C && s->qlen == 0)
			return (size_t)(p - p0); /* wait for a command */
		if ((lf = sm_eol(p, end)) == NULL) {
			if ((size_t)(end - p) > SMTP_LINE_MAX)
				sm_not_smtp(s, d);
			return (size_t)(p - p0);
		}
		if ((size_t)(lf - p) > SMTP_LINE_MAX) {
			sm_not_smtp(s, d);
			return n;
		}
		if (d == SMTP_S2C) {
			if (!sm_reply_line(s, p, sm_trim(p, lf))) {
				sm_not_smtp(s, d);
				return n;
			}
			p = lf + 1;
			if (sd->mode == SM_TLS)
				p += sm_injected(s, d, p, (size_t)(end - p));
			continue;
		}
		cmd = sm_command(s, p, sm_trim(p, lf));
		p = lf + 1;
		if (!sm_push(s, cmd)) {
			sm_not_smtp(s, d);
			return n;
		}
		switch (cmd) {
		case SM_C_STARTTLS:
			p += sm_injected(s, d, p, (size_t)(end - p));
			sd->mode = SM_WAIT;
			break;
		case SM_C_DATA:
		case SM_C_AUTH:
		case SM_C_AUTHCONT:
			sd->mode = SM_WAIT;
			break;
		case SM_C_BDAT:
		case SM_C_BDATLAST:
			if (sd->bdat_left > 0)
				sd->mode = SM_BDAT;
			break;
		default:
			break;
		}
	}
	return (size_t)(p - p0);
}

/* Drop the first n bytes of a buffer. */
static void
sm_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* Read what direction d has pending; true if anything was used. */
static bool
sm_pending(struct smtp *s, int d)
{
	struct buf *b = &s->side[d].pend;
	size_t used;

	if (b->len == 0 || s->side[d].mode == SM_OFF)
		return false;
	used = sm_run(s, d, (const uint8_t *)b->p, b->len);
	sm_consume(&s->side[d].pend, used);
	if (s->side[d].mode == SM_OFF)
		return true;
	if (b->len == 0 && b->cap > 4096) { /* give back a big buffer */
		buf_free(b);
		buf_init(b, SMTP_PENDING_MAX);
	}
	return used > 0;
}

void
smtp_feed(struct smtp *s, enum smtp_dir d, const uint8_t *p, size_t n)
{
	struct sm_side *sd = &s->side[d];
	size_t used = 0;
	int o = 1 - (int)d;

	if (sd->mode == SM_OFF || n == 0)
		return;
	if (sd->pend.len == 0) {
		used = sm_run(s, (int)d, p, n);
		if (sd->mode == SM_OFF)
			return;
	}
	if (used < n && buf_add(&sd->pend, p + used, n - used) == -1) {
		/* One side waited too long for the other. */
		smtp_gap(s, d);
		return;
	}
	if (used == 0)
		(void)sm_pending(s, (int)d);
	/* Progress on one side may unblock the other, and back. */
	while (sm_pending(s, o) && sm_pending(s, (int)d))
		;
}

static const char *
sm_side_name(int d)
{
	return d == SMTP_C2S ? "client" : "server";
}

/* A clear alert that ends a handshake: fatal, or any but the benign. */
static int
sm_fatal_alert(const struct smtp_facts *f)
{
	int d;

	for (d = 0; d < 2; d++) {
		const struct tlshello_stream *h = &f->hello[d];

		if (h->alert_clear &&
		    (h->alert_level == 2 ||
			(h->alert_desc != 0 && h->alert_desc != 90)))
			return d;
	}
	return -1;
}

static void
sm_reason(struct tls_event *ev, const char *r)
{
	ev_setcstr(ev, ev->reason, sizeof(ev->reason), r);
}

static void
sm_alert_reason(struct tls_event *ev, const struct smtp_facts *f, int d)
{
	const char *name = tlshello_alert_name(f->hello[d].alert_desc);
	char r[EV_REASON_MAX + 1];

	if (name != NULL)
		(void)snprintf(r, sizeof(r), "tls alert from %s: %s",
		    sm_side_name(d), name);
	else
		(void)snprintf(r, sizeof(r), "tls alert from %s: %u",
		    sm_side_name(d), (unsigned)f->hello[d].alert_desc);
	sm_reason(ev, r);
}

/* Rule 2: TLS was due. */
static void
sm_verdict_tls(
    const struct smtp_facts *f, enum smtp_end end, struct tls_event *ev)
{
	const struct tlshello_stream *sh = &f->hello[SMTP_S2C];
	const char *name;
	uint16_t bits;
	int a = sm_fatal_alert(f);

	if (sh->hello) {
		if ((name = tlshello_version_name(sh->server.version)) != NULL)
			ev_setcstr(
			    ev, ev->tls_version, sizeof(ev->tls_version), name);
		if ((name = tlscipher_name(sh->server.cipher, &bits)) != NULL) {
			ev_setcstr(ev, ev->cipher, sizeof(ev->cipher), name);
			ev->cipher_bits = bits;
		}
		if (a >= 0) {
			ev->tls = EV_TLS_FAILED;
			sm_alert_reason(ev, f, a);
			return;
		}
		ev->tls = EV_TLS_OK;
		ev->result = EV_RES_SUCCESS;
		if (f->hello[SMTP_C2S].encrypted == 0 || sh->encrypted == 0)
			sm_reason(ev, "handshake not seen to complete");
		return;
	}
	ev->tls = EV_TLS_FAILED;
	if (a >= 0) {
		sm_alert_reason(ev, f, a);
		return;
	}
	if (sh->bad) {
		sm_reason(ev, "server did not answer with tls");
		return;
	}
	if (f->hello[SMTP_C2S].bad && !f->lost[SMTP_C2S]) {
		sm_reason(ev, "client did not start tls");
		return;
	}
	if (f->lost[SMTP_S2C]) {
		ev->tls = EV_TLS_UNKNOWN;
		sm_reason(ev, "capture lost the server hello");
		return;
	}
	if (end == SMTP_END_CLOSED || end == SMTP_END_IDLE) {
		sm_reason(ev, f->hello[SMTP_C2S].hello
				  ? "handshake abandoned after client hello"
				  : "handshake abandoned before client hello");
		return;
	}
	ev->tls = EV_TLS_UNKNOWN;
	sm_reason(ev, "capture ended during the tls handshake");
}

/* Plaintext: say why there was no TLS. */
static void
sm_plain_reason(const struct smtp_facts *f, struct tls_event *ev)
{
	ev->tls = EV_TLS_PLAIN;
	if (f->starttls_offered)
		sm_reason(ev, "starttls offered, not used");
	else if (f->ehlo_reply)
		sm_reason(ev, "starttls not offered");
	else if (f->banner_code != 0 && f->banner_code != 220)
		sm_reason(ev, "greeting refused the session");
	else
		sm_reason(ev, "session ended without tls");
}

void
smtp_event(const struct smtp *s, enum smtp_end end, enum ev_dir dir,
    struct tls_event *ev)
{
	const struct smtp_facts *f = &s->f;
	const struct tlshello_client *ch = &f->hello[SMTP_C2S].client;
	bool open = end == SMTP_END_CAPTURE || end == SMTP_END_EVICTED;
	char r[EV_REASON_MAX + 1];

	/* What is known of the peer, whatever the verdict. */
	if (dir == EV_DIR_OUT) {
		ev_setcstr(ev, ev->domain, sizeof(ev->domain), f->rcpt_domain);
		if (f->hello[SMTP_C2S].hello && ch->sni_len > 0) {
			struct span sp = {ch->sni, ch->sni_len};

			ev_setstr(
			    ev, ev->peer_host, sizeof(ev->peer_host), &sp);
			ev_lowerhost(ev->peer_host);
		} else
			ev_setcstr(ev, ev->peer_host, sizeof(ev->peer_host),
			    f->banner_host);
		ev_setcstr(
		    ev, ev->peer_helo, sizeof(ev->peer_helo), f->server_name);
		if (f->data_reply != 0)
			ev->status = f->data_reply < 300   ? EV_ST_SENT
				     : f->data_reply < 500 ? EV_ST_DEFERRED
							   : EV_ST_BOUNCED;
	} else {
		ev_setcstr(ev, ev->domain, sizeof(ev->domain), f->mail_domain);
		ev_setcstr(ev, ev->peer_helo, sizeof(ev->peer_helo), f->helo);
	}
	ev->messages = f->messages;
	ev_setcstr(ev, ev->queue_ids, sizeof(ev->queue_ids), f->qids);

	ev->tls = EV_TLS_UNKNOWN;
	if (f->midstream) { /* rule 1 */
		sm_reason(ev, "capture started mid-session");
		return;
	}
	if (f->not_smtp[SMTP_S2C] && f->banner_code == 0 && !f->implicit_tls) {
		sm_reason(ev, "not smtp");
		return;
	}
	if (f->implicit_tls || f->starttls_reply == 220) { /* rule 2 */
		sm_verdict_tls(f, end, ev);
		return;
	}
	if (f->starttls_sent) { /* rule 3 */
		if (f->starttls_reply != 0) {
			ev->tls = EV_TLS_PLAIN;
			(void)snprintf(r, sizeof(r), "starttls refused: %u",
			    (unsigned)f->starttls_reply);
			sm_reason(ev, r);
		} else if (f->lost[SMTP_S2C] || open)
			sm_reason(ev, "capture lost the starttls reply");
		else {
			ev->tls = EV_TLS_FAILED;
			sm_reason(ev, "no reply to starttls");
		}
		return;
	}
	if (f->mail_clear) { /* rule 4 */
		sm_plain_reason(f, ev);
		return;
	}
	if (f->lost[SMTP_C2S])
		sm_reason(ev, "capture lost client bytes before mail");
	else if (open)
		sm_reason(ev, "capture ended before the session decided");
	else
		sm_plain_reason(f, ev);
}
