/*
 * postfix.c - Postfix log lines to TLS session events
 *
 * Input: the message part of syslog lines whose program tag is Postfix's
 * (postfix_claims()); untrusted, any bytes, not NUL-terminated.  Every
 * read is a bounded scan_*() cursor; only ev_setstr()/pf_addr() copy
 * text out, and addresses pass inet_pton() first.
 * Sources: MTA-LOGS.md section 2 (line forms per Postfix version, the
 * correlation recipe of 2.9), section 8 (RFC 8460 result types), and the
 * Postfix sources' format strings (tls_misc.c tls_log_summary(),
 * tls_verify.c, smtp_proto.c, log_adhoc.c, tlsrpt_wrapper.c).
 *
 * Sessions.  One event is one SMTP connection.
 *  - Outbound (smtp; lmtp is local delivery and only counted internal):
 *    a session is keyed by (instance, daemon, pid), because an smtp
 *    process runs one connection at a time.  Lines logged before the
 *    delivery (certificate verification, the TLS summary, TLSRPT,
 *    "Server certificate not verified", ...) join the pid's current
 *    session while it has delivered nothing and its peer fits, else they
 *    start a new one; a second handshake always starts a new one.  A
 *    delivery line joins when the relay is the session's peer and the
 *    session has no delivery yet, or it is the same queue id (one line per
 *    recipient), or it carries conn_use= (a cached connection).  An
 *    outbound session ends when its pid starts another, at idle expiry
 *    in log time, or at postfix_finish().
 *  - tlsproxy in the client role (smtp_tls_connection_reuse) runs the
 *    handshake for smtp, which still logs the summary itself; its
 *    verification failures and TLSRPT lines are kept for a minute and
 *    merged into the smtp session that names the same peer address.
 *  - Inbound (smtpd): "connect from" opens, "disconnect from" closes;
 *    "QID: client=" ties queue ids to the session.  The sender domain is
 *    on qmgr's "QID: from=<...>" line, another process, so a closed
 *    inbound session waits (held) until every queue id's from= line was
 *    seen, at most PF_HOLD_US of log time or PF_HOLD_LINES lines.
 *    tlsproxy in the server role (postscreen's STARTTLS) logs complete
 *    handshakes of connections that carry no mail: each is an event of
 *    its own.
 *
 * Evidence rules (no evidence is never plaintext):
 *  - tls = "tls" needs a TLS-established/reused line, a certificate
 *    verification line (the handshake ran), the 3.11 tls= field naming a
 *    level that was reached, or smtpd's starttls=N counter with N >= 1,
 *    or a wrapper-mode service (smtps, submissions).
 *  - tls = "failed" needs a failure line: SSL_connect/SSL_accept error,
 *    "Cannot start TLS", "Server certificate not verified|not trusted",
 *    "TLS is required, but ...", TLSA/DANE failures, "lost connection
 *    after STARTTLS" without a summary, a TLSRPT failure without any
 *    other TLS line, tls=!..., or starttls=0/N.
 *  - tls = "plaintext" needs: tls=none or tls=LEVEL:none (3.11); smtpd's
 *    disconnect counters without starttls (or starttls=0) and no TLS
 *    line; "Host offered STARTTLS" (smtp_tls_note_starttls_offer, level
 *    none); or, outbound, a connection from an instance whose TLS summary
 *    logging is known to be on (a summary from that instance was seen in
 *    this stream before the session ended) with no TLS line of its own.
 *  - otherwise "unknown".
 *  - result: a TLSRPT line is authoritative (Postfix's own RFC 8460
 *    type); else failures map by MTA-LOGS.md section 8 (self-signed and
 *    untrusted issuer: certificate-not-trusted; expired:
 *    certificate-expired; name mismatch, or "not verified" after a
 *    Trusted handshake: certificate-host-mismatch; not offered/refused:
 *    starttls-not-supported; TLSA: tlsa-invalid; TLSA lookup error:
 *    dnssec-invalid; no TLSA under dane-only: dane-required; handshake
 *    failures: validation-failure); "success" when TLS was negotiated;
 *    null for plaintext and unknown.  reason keeps the log's own text.
 *  - trust is the summary's trust word, lower-cased; policy is set only
 *    when the log proves one (TLSA lines, tls=dane, STS failure types).
 *
 * Limits: sessions live in a table of opts.max_sessions entries
 * allocated by postfix_new(), with idle expiry in log time (counted
 * expired) and eviction of the least recently active (counted evicted;
 * it is emitted as it is, since dropping it would lose data).  The queue
 * id map, the instance memory and the tlsproxy facts are fixed-size too.
 * Nothing is allocated per line.
 *
 * After a restart from parser_resume_offset() the instance memory
 * starts empty, so a connection that the first run would have called
 * plaintext by that rule may come out unknown until the instance logs a
 * summary again; no event is lost or repeated by this.
 *
 * Single-threaded; one object per log stream.
 */
#include "parsers/postfix.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "common/xmalloc.h"

#define PF_SESSIONS_DEFAULT 4096
#define PF_SESSIONS_MAX (1 << 22)
#define PF_IDLE_DEFAULT_US (INT64_C(300) * 1000000)
#define PF_HOLD_US (INT64_C(5) * 1000000) /* wait for qmgr from= */
#define PF_OWN_MAX 4			  /* own report senders */
#define PF_OWNQ_MAX 64 /* queue ids of own report mail remembered */
#define PF_HOLD_LINES 2000
#define PF_INST_MAX 63	    /* syslog_name prefix kept per session */
#define PF_QID_MAX 23	    /* long queue ids are about 17 */
#define PF_INSTANCES_MAX 64 /* instances remembered as logging TLS */
#define PF_PROXY_MAX 32	    /* tlsproxy client-role facts kept */
#define PF_PROXY_US (INT64_C(60) * 1000000)
#define PF_SERVICES_MAX 16 /* submission service names */
#define PF_SERVICE_MAX 31
#define PF_FIELD_MAX 1024 /* longest delivery-line field scanned */
#define PF_QFILTER 4096	  /* queue-id filter counters (a power of two) */
#define PF_TYPE_MAX 40	  /* longest TLSRPT failure_type */

enum pf_daemon {
	PF_D_OTHER = 0,
	PF_D_SMTP,
	PF_D_LMTP,
	PF_D_SMTPD,
	PF_D_TLSPROXY,
	PF_D_POSTSCREEN,
	PF_D_QMGR
};

enum pf_state { PF_FREE = 0, PF_OPEN, PF_HELD };

/* Evidence gathered for a session (struct pf_sess flags). */
#define PF_F_SUMMARY 0x0001  /* TLS connection established/reused */
#define PF_F_CERTLINE 0x0002 /* certificate verification line */
#define PF_F_FAIL 0x0004     /* a failure line that ends TLS */
#define PF_F_PLAIN 0x0008    /* direct plaintext evidence */
#define PF_F_TLSFIELD 0x0010 /* 3.11 tls= names a reached level */
#define PF_F_DELIVERY 0x0020 /* a delivery line joined */
#define PF_F_TLSRPT 0x0040   /* a TLSRPT line: result authoritative */
#define PF_F_INTERNAL 0x0080 /* a local hop: counted, not emitted */
#define PF_F_GENERIC 0x0100  /* reason is a bare SSL_* error text */
#define PF_F_STARTTLS 0x0200 /* smtpd counter starttls=N, N >= 1 */
#define PF_F_COUNTERS 0x0400 /* smtpd disconnect counters seen */
#define PF_F_WRAPPER 0x0800  /* smtps/submissions: TLS from the start */
#define PF_F_KEYED 0x1000    /* in the key hash (not once held) */
#define PF_F_SENT 0x2000
#define PF_F_DEFERRED 0x4000
#define PF_F_BOUNCED 0x8000
#define PF_F_OTHERMSG 0x10000 /* delivered mail not from own_senders */
#define PF_F_SAWTLS (PF_F_SUMMARY | PF_F_CERTLINE | PF_F_TLSFIELD)

/*
 * Sessions live in one array and link to each other by index, not by
 * pointer: the table is allocated once, and an index is half the size of
 * a pointer on the lists every line walks.
 */
struct pf_link {
	int32_t prev, next;
};

struct pf_list {
	int32_t head, tail;
};

/*
 * One SMTP connection being assembled.  The event is filled in place as
 * lines arrive; tls/result are decided only at the end (pf_finalize()),
 * because a later line can overturn an earlier one (a handshake that
 * succeeded, then "Server certificate not verified").
 */
struct pf_sess {
	struct tls_event ev; /* built in place */
	char inst[PF_INST_MAX + 1];
	uint8_t inst_len;
	uint8_t daemon; /* enum pf_daemon */
	uint8_t state;	/* enum pf_state */
	uint32_t pid, hash;
	/*
	 * Bumped each time the slot is reused, so that a queue-id map entry
	 * left by an earlier occupant is seen to be stale.
	 */
	uint32_t gen;
	uint32_t flags;		       /* PF_F_* */
	int32_t hnext;		       /* key hash chain; free list when free */
	struct pf_link lru;	       /* by last activity */
	struct pf_link hold;	       /* held sessions, oldest first */
	int64_t last_us;	       /* log time of the last line */
	int64_t hold_us;	       /* held: release after this log time */
	uint64_t hold_line;	       /* held: or after this line number */
	enum ev_result cand;	       /* from verification/TLSA lines */
	enum ev_result fail_res;       /* from a failure line; 0: derive */
	enum ev_result over;	       /* a policy failure despite TLS */
	enum ev_result rpt_res;	       /* from TLSRPT */
	uint16_t npending;	       /* queue ids waiting for qmgr from= */
	char last_qid[PF_QID_MAX + 1]; /* last delivery's queue id */
	uint8_t last_qid_len;
	bool last_qid_sent; /* that queue id was counted in messages */
};

/*
 * Queue id -> held or open session: inbound ones wait for qmgr's from=
 * line (the sender domain), outbound ones of a non-final MX for the
 * delivery line that names the recipient.
 */
struct pf_qent {
	int32_t slot; /* -1: empty */
	uint32_t gen, hash;
	uint8_t len;
	char qid[PF_QID_MAX + 1];
};

/* An instance whose smtp client is known to log TLS summaries. */
struct pf_inst {
	uint8_t len;
	char name[PF_INST_MAX + 1];
};

/* A tlsproxy client-role fact waiting for its smtp session. */
struct pf_proxy {
	bool live;
	bool rpt;
	uint8_t inst_len;
	uint16_t port;
	char inst[PF_INST_MAX + 1];
	char ip[EV_ADDR_MAX + 1];
	int64_t t_us;
	enum ev_result cand, rpt_res;
	enum ev_policy policy;
	char domain[EV_HOST_MAX + 1];
	char reason[EV_REASON_MAX + 1];
};

/*
 * Everything is sized in postfix_new(): the session array, its key hash
 * (twice as many buckets as sessions: short chains), the queue-id map
 * (kept at most half full so probes stay short), and fixed arrays for
 * instances, tlsproxy facts and service names.
 */
struct postfix {
	struct parser_stats *st;
	postfix_emit_fn *emit;
	void *arg;
	char host[EV_HOST_MAX + 1]; /* opts.host */
	int64_t idle_us;
	struct pf_sess *sess;
	uint32_t nsess;
	uint32_t nused;	   /* slots [0, nused) have been used */
	int32_t free_head; /* freed slots, chained through hnext */
	int32_t *bucket;
	uint32_t bmask;
	struct pf_list lru, held;
	struct pf_qent *qmap;
	uint32_t qmask, qcount, qmax;
	/*
	 * Counts of map entries per hash bucket: most qmgr from= lines are
	 * for messages no session waits for, and this 4 KiB array answers
	 * them without touching the (much larger) map.  A count that reaches
	 * 255 stays there: it only costs a probe.
	 */
	uint8_t qfilter[PF_QFILTER];
	struct pf_inst inst[PF_INSTANCES_MAX];
	uint32_t ninst;
	struct pf_proxy proxy[PF_PROXY_MAX];
	uint32_t proxy_next;
	char svc[PF_SERVICES_MAX][PF_SERVICE_MAX + 1];
	uint32_t nsvc;
	int64_t now_us; /* latest log time seen (monotonic) */
	uint64_t nline; /* Postfix lines fed */
	/*
	 * Our own report mail: the senders (opts.own_senders) and the queue
	 * ids qmgr announced from them, in a small ring (report mail is a few
	 * messages a day; an id that fell out only costs the tag).
	 */
	char own[PF_OWN_MAX][PF_FIELD_MAX + 1];
	uint32_t nown;
	struct {
		uint8_t len;
		char qid[PF_QID_MAX + 1];
	} ownq[PF_OWNQ_MAX];
	uint32_t ownq_next;
};

/* One line being handled. */
struct pf_line {
	const struct syslog_msg *m;
	int64_t off;
	const char *s, *end; /* the message text */
	enum pf_daemon daemon;
	struct span inst;
};

/* A peer as Postfix writes it: "host[ip]:port", "[ip]:port", "host". */
struct pf_peer {
	struct span host;	  /* may be empty */
	char ip[EV_ADDR_MAX + 1]; /* canonical; "" when none */
	uint16_t port;		  /* 0 when none */
};

/* A TLS summary line. */
struct pf_tls {
	enum ev_trust trust;
	bool reused, client;
	struct pf_peer peer;
	struct span proto, cipher;
	uint16_t bits;
};

/* A failure text classified. */
struct pf_fail {
	bool fail;	    /* TLS failed for this connection */
	enum ev_result res; /* 0: derive from the session's evidence */
	enum ev_policy policy;
};

static void pf_emit_sess(struct postfix *, struct pf_sess *, int64_t);
static bool pf_own_qid(const struct postfix *, const struct span *);

/* ------------------------------------------------------------------ */
/* Small helpers. */

/* FNV-1a: keys are short (an instance name and a pid, a queue id). */
static uint32_t
pf_fnv(uint32_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/* The power of two >= n (tables index with a mask). */
static uint32_t
pf_pow2(uint64_t n)
{
	uint32_t v = 16;

	while (v < n && v < (UINT32_C(1) << 30))
		v <<= 1;
	return v;
}

/*
 * scan_lit() and span_eq() for string literals: the length is known at
 * compile time, so memcmp() is inlined and no strlen() runs.  These sit
 * on the per-line path of every smtp/smtpd/qmgr line.
 */
#define PF_LIT(s, end, lit) pf_lit((s), (end), (lit), sizeof(lit) - 1)
#define PF_EQ(sp, lit)                                                         \
	((sp)->len == sizeof(lit) - 1 && memcmp((sp)->p, (lit), (sp)->len) == 0)

static inline int
pf_lit(const char **s, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - *s) < n || memcmp(*s, lit, n) != 0)
		return -1;
	*s += n;
	return 0;
}

/* Whether [p, end) contains the literal. */
static bool
pf_has(const char *p, const char *end, const char *lit)
{
	return scan_find(p, end, lit) != NULL;
}

/* An IP literal into its canonical text (RFC 5952); -1 if it is none. */
static int
pf_addr(const struct span *sp, char out[EV_ADDR_MAX + 1])
{
	char tmp[EV_ADDR_MAX + 1];
	unsigned char bin[16];
	int af;

	if (sp->len == 0 || sp->len > EV_ADDR_MAX)
		return -1;
	memcpy(tmp, sp->p, sp->len);
	tmp[sp->len] = '\0';
	af = memchr(tmp, ':', sp->len) != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, tmp, bin) != 1)
		return -1;
	/*
	 * inet_pton() takes only the dotted quad without leading zeros, which
	 * is already canonical; inet_ntop() would sprintf() it back.
	 */
	if (af == AF_INET) {
		memcpy(out, tmp, sp->len + 1);
		return 0;
	}
	if (inet_ntop(af, bin, out, EV_ADDR_MAX + 1) == NULL)
		return -1;
	return 0;
}

/*
 * A queue id followed by ": ".  Short ids are 5-12 upper-case hex
 * digits ("7EE668039"); long ids (enable_long_queue_ids) are 12-20
 * alphanumerics with a 'z' between time and inode ("3mPVKl0Mhjz7sXv").
 * "NOQUEUE", "warning" or "TLSRPT" are neither.
 */
static int
pf_qid(const char **s, const char *end, struct span *qid)
{
	const char *p = *s;
	bool hex = true, z = false;
	size_t n;

	while (p < end && scan_isalnum(*p) && p - *s <= PF_QID_MAX) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F')))
			hex = false;
		if (*p == 'z')
			z = true;
		p++;
	}
	n = (size_t)(p - *s);
	if (end - p < 2 || p[0] != ':' || p[1] != ' ')
		return -1;
	if (!((hex && n >= 5 && n <= 12) || (z && n >= 12 && n <= 20)))
		return -1;
	qid->p = *s;
	qid->len = n;
	*s = p + 2;
	return 0;
}

/*
 * A peer: "mx.example.com[192.0.2.1]:25", "host[2001:db8::1]",
 * "[192.0.2.1]:25" (tlsproxy) or a bare "smtp.example.com" (Postfix 2.2).
 * The host ends at '[', ':', ',' or a space.  -1 when the brackets hold
 * no IP literal (a unix socket path).
 */
static int
pf_peer(const char **s, const char *end, struct pf_peer *pp)
{
	const char *p = *s, *h = p;
	struct span ip;
	uint64_t port;

	while (p < end && *p != '[' && *p != ':' && *p != ' ' && *p != ',') {
		if (p - h >= EV_HOST_MAX)
			return -1;
		p++;
	}
	pp->host.p = h;
	pp->host.len = (size_t)(p - h);
	pp->ip[0] = '\0';
	pp->port = 0;
	if (p < end && *p == '[') {
		p++;
		if (scan_until(&p, end, ']', EV_ADDR_MAX, &ip) == -1 ||
		    pf_addr(&ip, pp->ip) == -1)
			return -1;
		if (end - p >= 2 && p[0] == ':' && p[1] >= '0' && p[1] <= '9') {
			p++;
			if (scan_uint(&p, end, 65535, &port) == -1)
				return -1;
			pp->port = (uint16_t)port;
		}
	}
	if (pp->host.len == 0 && pp->ip[0] == '\0')
		return -1;
	*s = p;
	return 0;
}

/*
 * The daemon decides what a line can be; everything else (cleanup,
 * pickup, local, bounce, anvil, ...) is dropped after this one switch,
 * which is most Postfix lines of a busy log.
 */
static enum pf_daemon
pf_daemon(const struct span *d)
{
	switch (d->len) {
	case 4:
		if (memcmp(d->p, "smtp", 4) == 0)
			return PF_D_SMTP;
		if (memcmp(d->p, "qmgr", 4) == 0)
			return PF_D_QMGR;
		if (memcmp(d->p, "lmtp", 4) == 0)
			return PF_D_LMTP;
		break;
	case 5:
		if (memcmp(d->p, "smtpd", 5) == 0)
			return PF_D_SMTPD;
		break;
	case 8:
		if (memcmp(d->p, "tlsproxy", 8) == 0)
			return PF_D_TLSPROXY;
		break;
	case 10:
		if (memcmp(d->p, "postscreen", 10) == 0)
			return PF_D_POSTSCREEN;
		break;
	default:
		break;
	}
	return PF_D_OTHER;
}

/* ------------------------------------------------------------------ */
/* Line forms shared by smtp, smtpd and tlsproxy. */

/*
 * The TLS summary (tls_misc.c tls_log_summary(); MTA-LOGS.md 2.2):
 *   Verified TLS connection established to mx.example.com[192.0.2.1]:25:
 *     TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
 *     key-exchange X25519 server-signature ECDSA (P-256) ...
 *   Anonymous TLS connection established from client[192.0.2.7] to
 *     sni.example: TLSv1.2 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)
 *   Trusted TLS connection reused to mx[192.0.2.1]:25: TLSv1.2 ...  (3.4+)
 *   TLS connection established to mx.example.com: TLSv1 with ...   (2.2-2.4)
 * The 3.4+ details after the bits are not needed.
 */
static int
pf_summary(const char *s, const char *end, struct pf_tls *t)
{
	uint64_t bits;

	t->trust = EV_TRUST_NONE;
	if (PF_LIT(&s, end, "Verified ") == 0)
		t->trust = EV_TRUST_VERIFIED;
	else if (PF_LIT(&s, end, "Trusted ") == 0)
		t->trust = EV_TRUST_TRUSTED;
	else if (PF_LIT(&s, end, "Untrusted ") == 0)
		t->trust = EV_TRUST_UNTRUSTED;
	else if (PF_LIT(&s, end, "Anonymous ") == 0)
		t->trust = EV_TRUST_ANONYMOUS;
	if (PF_LIT(&s, end, "TLS connection ") == -1)
		return -1;
	if (PF_LIT(&s, end, "established ") == 0)
		t->reused = false;
	else if (PF_LIT(&s, end, "reused ") == 0)
		t->reused = true;
	else
		return -1;
	if (PF_LIT(&s, end, "to ") == 0)
		t->client = true;
	else if (PF_LIT(&s, end, "from ") == 0)
		t->client = false;
	else
		return -1;
	if (pf_peer(&s, end, &t->peer) == -1)
		return -1;
	if (PF_LIT(&s, end, " to ") == 0) { /* server side: the SNI */
		if (scan_until(&s, end, ':', EV_HOST_MAX, &t->proto) == -1)
			return -1;
		s--;
	}
	if (PF_LIT(&s, end, ": ") == -1 ||
	    scan_word(&s, end, EV_TLSVER_MAX, &t->proto) == -1 ||
	    PF_LIT(&s, end, " with cipher ") == -1 ||
	    scan_word(&s, end, EV_CIPHER_MAX, &t->cipher) == -1 ||
	    PF_LIT(&s, end, " (") == -1 ||
	    scan_uint(&s, end, 65535, &bits) == -1)
		return -1;
	t->bits = (uint16_t)bits;
	return 0;
}

/*
 * What a verification failure means (tls_verify.c
 * tls_log_verify_error(), MTA-LOGS.md 2.4 and 8):
 *   self-signed certificate / num=18:self signed certificate
 *   untrusted issuer /C=US/O=... / num=20:unable to get local issuer ...
 *   not trusted by local or TLSA policy
 *   certificate has expired
 *   num=62:hostname mismatch                                (3.6+)
 *   num=65:No matching DANE TLSA records
 *   external policy failure (sts-policy-fetch-error)        (3.10+)
 * Anything else in the handshake (not yet valid, wrong purpose, chain
 * too long) is validation-failure.
 */
static enum ev_result
pf_verify_result(const char *p, const char *end, enum ev_policy *pol)
{
	const char *q;
	struct span v;

	*pol = EV_POL_UNKNOWN;
	if ((q = scan_find(p, end, "external policy failure (")) != NULL) {
		q += strlen("external policy failure (");
		if (scan_until(&q, end, ')', 32, &v) == 0) {
			enum ev_result r = ev_result_lookup(v.p, v.len);

			if (r >= EV_RES_STS_POLICY_FETCH_ERROR)
				*pol = EV_POL_STS;
			if (r != EV_RES_NONE && r != EV_RES_SUCCESS)
				return r;
		}
		return EV_RES_VALIDATION_FAILURE;
	}
	if (pf_has(p, end, "has expired"))
		return EV_RES_CERT_EXPIRED;
	if (pf_has(p, end, "hostname mismatch"))
		return EV_RES_CERT_HOST_MISMATCH;
	/* X509_V_ERR_CERT_UNTRUSTED: says nothing about DANE being used. */
	if (pf_has(p, end, "not trusted by local or TLSA policy") ||
	    pf_has(p, end, "self-signed") || pf_has(p, end, "self signed") ||
	    pf_has(p, end, "untrusted issuer") ||
	    pf_has(p, end, "local issuer") ||
	    pf_has(p, end, "unable to get issuer"))
		return EV_RES_CERT_NOT_TRUSTED;
	if (pf_has(p, end, "DANE TLSA") || pf_has(p, end, "TLSA record")) {
		*pol = EV_POL_TLSA;
		return EV_RES_TLSA_INVALID;
	}
	return EV_RES_VALIDATION_FAILURE;
}

/*
 * A failure text logged by smtp(8) as "QID: <text>" (non-final MX) or in
 * a delivery's "status=deferred (<text>)" (MTA-LOGS.md 2.4):
 *   Server certificate not verified
 *   Server certificate not trusted                          (<= 3.5)
 *   TLS is required, but was not offered by host mx[192.0.2.1]
 *   TLS is required, but host mx[192.0.2.1] refused to start TLS: 454 ...
 *   Cannot start TLS: handshake failure
 *   TLSA lookup error for mx.example.com:25
 *   no TLSA records found / non DNSSEC destination           (dane-only)
 *   all TLSA records unusable
 *   lost connection with mx[192.0.2.1] while ... STARTTLS ...
 * A remote server's reply ("host mx[...] said: ...") and "delivery
 * temporarily suspended" (no connection was made) are not ours.
 */
static void
pf_fail_text(const char *p, const char *end, struct pf_fail *f)
{
	f->fail = false;
	f->res = EV_RES_NONE;
	f->policy = EV_POL_UNKNOWN;
	if (end - p < 10 || memcmp(p, "host ", 5) == 0 ||
	    pf_has(p, end, "delivery temporarily suspended"))
		return;
	f->fail = true;
	if (pf_has(p, end, "Server certificate not verified") ||
	    pf_has(p, end, "Cannot start TLS"))
		return; /* derive from the handshake's evidence */
	if (pf_has(p, end, "Server certificate not trusted")) {
		f->res = EV_RES_CERT_NOT_TRUSTED;
		return;
	}
	if (pf_has(p, end, "TLS is required, but")) {
		if (pf_has(p, end, "was not offered") ||
		    pf_has(p, end, "refused to start TLS"))
			f->res = EV_RES_STARTTLS_NOT_SUPPORTED;
		/* else our own TLS engine is unavailable: no peer result */
		return;
	}
	if (pf_has(p, end, "TLSA lookup error")) {
		f->res = EV_RES_DNSSEC_INVALID;
		f->policy = EV_POL_TLSA;
		return;
	}
	if (pf_has(p, end, "no TLSA records found") ||
	    pf_has(p, end, "non DNSSEC destination")) {
		f->res = EV_RES_DANE_REQUIRED;
		f->policy = EV_POL_TLSA;
		return;
	}
	if (pf_has(p, end, "TLSA records unusable")) {
		f->res = EV_RES_TLSA_INVALID;
		f->policy = EV_POL_TLSA;
		return;
	}
	if (pf_has(p, end, "lost connection") &&
	    (pf_has(p, end, "STARTTLS") || pf_has(p, end, "TLS handshake")))
		return;
	f->fail = false;
}

/* ------------------------------------------------------------------ */
/* Lists, the key hash and the session table. */

static struct pf_link *
pf_lk(struct pf_sess *s, bool hold)
{
	return hold ? &s->hold : &s->lru;
}

static void
pf_list_add(struct postfix *pf, struct pf_list *l, int32_t i, bool hold)
{
	struct pf_link *k = pf_lk(&pf->sess[i], hold);

	k->prev = l->tail;
	k->next = -1;
	if (l->tail >= 0)
		pf_lk(&pf->sess[l->tail], hold)->next = i;
	else
		l->head = i;
	l->tail = i;
}

static void
pf_list_del(struct postfix *pf, struct pf_list *l, int32_t i, bool hold)
{
	struct pf_link *k = pf_lk(&pf->sess[i], hold);

	if (k->prev >= 0)
		pf_lk(&pf->sess[k->prev], hold)->next = k->next;
	else
		l->head = k->next;
	if (k->next >= 0)
		pf_lk(&pf->sess[k->next], hold)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = -1;
}

static uint32_t
pf_keyhash(const struct span *inst, enum pf_daemon d, uint32_t pid)
{
	uint32_t h = pf_fnv(2166136261u, inst->p, inst->len);

	h = pf_fnv(h, (const char *)&pid, sizeof(pid));
	return pf_fnv(h, (const char *)&d, 1);
}

/*
 * The open session under the line's (instance, daemon, pid), moved to
 * the young end of the LRU: the LRU head is then both the next to
 * expire and the one to evict.
 */
static struct pf_sess *
pf_find(struct postfix *pf, const struct pf_line *L)
{
	uint32_t h = pf_keyhash(&L->inst, L->daemon, L->m->pid);
	int32_t i;

	for (i = pf->bucket[h & pf->bmask]; i >= 0; i = pf->sess[i].hnext) {
		struct pf_sess *s = &pf->sess[i];

		if (s->hash == h && s->pid == L->m->pid &&
		    s->daemon == L->daemon && s->inst_len == L->inst.len &&
		    memcmp(s->inst, L->inst.p, L->inst.len) == 0) {
			s->last_us = pf->now_us;
			pf_list_del(pf, &pf->lru, i, false);
			pf_list_add(pf, &pf->lru, i, false);
			return s;
		}
	}
	return NULL;
}

static void
pf_unkey(struct postfix *pf, struct pf_sess *s)
{
	int32_t *pp, i = (int32_t)(s - pf->sess);

	if (!(s->flags & PF_F_KEYED))
		return;
	for (pp = &pf->bucket[s->hash & pf->bmask]; *pp >= 0;
	     pp = &pf->sess[*pp].hnext)
		if (*pp == i) {
			*pp = s->hnext;
			break;
		}
	s->flags &= ~(uint32_t)PF_F_KEYED;
}

/* The service of "postfix/submission/smtpd" is "submission". */
static struct span
pf_service(const struct span *inst)
{
	struct span sv = {inst->p + inst->len, 0};

	while (sv.p > inst->p && sv.p[-1] != '/') {
		sv.p--;
		sv.len++;
	}
	if (sv.p == inst->p)
		sv.len = 0; /* no '/': the default service */
	return sv;
}

static bool
pf_is_submission(const struct postfix *pf, const struct span *sv)
{
	uint32_t i;

	for (i = 0; i < pf->nsvc; i++)
		if (span_eq(sv, pf->svc[i]))
			return true;
	return false;
}

/*
 * A new session keyed by the line's (instance, daemon, pid), starting at
 * this line.  The caller has closed any session under the same key.  A
 * full table first gives up its least recently active session.
 */
static struct pf_sess *
pf_open(struct postfix *pf, const struct pf_line *L, enum ev_dir dir)
{
	struct pf_sess *s;
	struct span sv;
	uint32_t gen;
	int32_t i;

	if (pf->free_head < 0 && pf->nused == pf->nsess) {
		pf->st->evicted++;
		pf_emit_sess(pf, &pf->sess[pf->lru.head], L->off);
	}
	/* Freed slots first; untouched ones only when there are none. */
	if (pf->free_head >= 0) {
		i = pf->free_head;
		pf->free_head = pf->sess[i].hnext;
	} else
		i = (int32_t)pf->nused++;
	s = &pf->sess[i];
	gen = s->gen + 1;
	/* The event is most of the slot: one memset; ev_init() sets more. */
	memset(s, 0, sizeof(*s));
	s->gen = gen;
	s->ev.version = TLS_EVENT_VERSION;
	s->ev.source = EV_SRC_POSTFIX;
	s->ev.dir = dir;
	s->ev.ts_us = L->m->ts_us;
	s->ev.start_off = L->off;
	ev_setstr(&s->ev, s->ev.host, sizeof(s->ev.host), &L->m->host);
	if (dir != EV_DIR_OUT) {
		sv = pf_service(&L->inst);
		if (pf_is_submission(pf, &sv))
			s->ev.dir = EV_DIR_SUBMISSION;
		if (PF_EQ(&sv, "smtps") || PF_EQ(&sv, "submissions"))
			s->flags |= PF_F_WRAPPER;
	}
	memcpy(s->inst, L->inst.p, L->inst.len);
	s->inst_len = (uint8_t)L->inst.len;
	s->daemon = (uint8_t)L->daemon;
	s->pid = L->m->pid;
	s->hash = pf_keyhash(&L->inst, L->daemon, L->m->pid);
	s->state = PF_OPEN;
	s->last_us = pf->now_us;
	s->hnext = pf->bucket[s->hash & pf->bmask];
	pf->bucket[s->hash & pf->bmask] = i;
	s->flags |= PF_F_KEYED;
	s->lru.prev = s->lru.next = s->hold.prev = s->hold.next = -1;
	pf_list_add(pf, &pf->lru, i, false);
	return s;
}

/* ------------------------------------------------------------------ */
/* Queue id map (open addressing, linear probing, backward-shift delete). */

static uint8_t *
pf_qcount(struct postfix *pf, uint32_t h)
{
	return &pf->qfilter[(h >> 17) & (PF_QFILTER - 1)];
}

static struct pf_qent *
pf_qfind(struct postfix *pf, const struct span *q, uint32_t h)
{
	uint32_t i;

	if (*pf_qcount(pf, h) == 0)
		return NULL;

	for (i = h & pf->qmask; pf->qmap[i].slot >= 0;
	     i = (i + 1) & pf->qmask) {
		struct pf_qent *e = &pf->qmap[i];

		if (e->hash == h && e->len == q->len &&
		    memcmp(e->qid, q->p, q->len) == 0)
			return e;
	}
	return NULL;
}

/*
 * Backward-shift deletion instead of tombstones: entries come and go with
 * every inbound message, and tombstones would fill the table over time.
 */
static void
pf_qdel(struct postfix *pf, struct pf_qent *e)
{
	uint32_t i = (uint32_t)(e - pf->qmap), j = i, k;
	uint8_t *c = pf_qcount(pf, e->hash);

	if (*c < 255)
		(*c)--;
	for (;;) {
		j = (j + 1) & pf->qmask;
		if (pf->qmap[j].slot < 0)
			break;
		k = pf->qmap[j].hash & pf->qmask;
		/* Move j back to i unless its home lies cyclically in (i, j].
		 */
		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			pf->qmap[i] = pf->qmap[j];
			i = j;
		}
	}
	pf->qmap[i].slot = -1;
	pf->qcount--;
}

static void
pf_qadd(struct postfix *pf, struct pf_sess *s, const struct span *q)
{
	uint32_t h = pf_fnv(2166136261u, q->p, q->len), i;
	struct pf_qent *e;

	if (q->len > PF_QID_MAX || pf->qcount >= pf->qmax ||
	    pf_qfind(pf, q, h) != NULL)
		return; /* full: that message's sender domain is not awaited */
	for (i = h & pf->qmask; pf->qmap[i].slot >= 0; i = (i + 1) & pf->qmask)
		;
	e = &pf->qmap[i];
	e->slot = (int32_t)(s - pf->sess);
	e->gen = s->gen;
	e->hash = h;
	e->len = (uint8_t)q->len;
	memcpy(e->qid, q->p, q->len);
	if (*pf_qcount(pf, h) < 255)
		(*pf_qcount(pf, h))++;
	pf->qcount++;
	s->npending++;
}

/* Forget the session's queue ids that still wait in the map. */
static void
pf_qforget(struct postfix *pf, struct pf_sess *s)
{
	const char *p = s->ev.queue_ids, *end = p + strlen(p);
	struct pf_qent *e;
	struct span q;

	while (s->npending > 0 && p < end) {
		if (scan_word(&p, end, EV_QIDS_MAX, &q) == -1)
			break;
		(void)scan_spaces(&p, end);
		e = pf_qfind(pf, &q, pf_fnv(2166136261u, q.p, q.len));
		if (e != NULL && e->slot == (int32_t)(s - pf->sess) &&
		    e->gen == s->gen) {
			pf_qdel(pf, e);
			s->npending--;
		}
	}
	s->npending = 0;
}

/* ------------------------------------------------------------------ */
/* Instance memory: outbound TLS summary logging known to be on. */

static bool
pf_inst_known(const struct postfix *pf, const char *name, size_t len)
{
	uint32_t i;

	for (i = 0; i < pf->ninst; i++)
		if (pf->inst[i].len == len &&
		    memcmp(pf->inst[i].name, name, len) == 0)
			return true;
	return false;
}

static void
pf_inst_mark(struct postfix *pf, const struct span *inst)
{
	if (pf->ninst >= PF_INSTANCES_MAX ||
	    pf_inst_known(pf, inst->p, inst->len))
		return; /* full: those instances stay "unknown" */
	memcpy(pf->inst[pf->ninst].name, inst->p, inst->len);
	pf->inst[pf->ninst].len = (uint8_t)inst->len;
	pf->ninst++;
}

/* ------------------------------------------------------------------ */
/* Session evidence. */

/*
 * The reason is the first specific failure text; a bare "SSL_connect
 * error to ...: -1" (generic) gives way to the library's message that
 * usually follows it.
 */
static void
pf_reason(struct pf_sess *s, const char *p, const char *end, bool generic)
{
	struct span sp = {p, (size_t)(end - p)};

	if (s->ev.reason[0] != '\0' && !(s->flags & PF_F_GENERIC))
		return; /* the first specific reason stays */
	ev_setstr(&s->ev, s->ev.reason, sizeof(s->ev.reason), &sp);
	if (generic)
		s->flags |= PF_F_GENERIC;
	else
		s->flags &= ~(uint32_t)PF_F_GENERIC;
}

static void
pf_policy(struct pf_sess *s, enum ev_policy pol)
{
	if (pol != EV_POL_UNKNOWN && s->ev.policy == EV_POL_UNKNOWN)
		s->ev.policy = pol;
}

static void pf_proxy_merge(struct postfix *, struct pf_sess *);

/* Fill what the session does not know yet about its peer. */
static void
pf_set_peer(struct postfix *pf, struct pf_sess *s, const struct pf_peer *pp)
{
	bool had_ip = s->ev.peer_ip[0] != '\0';

	if (pp == NULL)
		return;
	if (!had_ip && pp->ip[0] != '\0')
		memcpy(s->ev.peer_ip, pp->ip, sizeof(s->ev.peer_ip));
	if (s->ev.peer_port == 0)
		s->ev.peer_port = pp->port;
	if (s->ev.peer_host[0] == '\0' && pp->host.len > 0 &&
	    !PF_EQ(&pp->host, "unknown")) {
		ev_setstr(&s->ev, s->ev.peer_host, sizeof(s->ev.peer_host),
		    &pp->host);
		ev_lowerhost(s->ev.peer_host);
	}
	if (!had_ip && s->ev.peer_ip[0] != '\0' && s->ev.dir == EV_DIR_OUT)
		pf_proxy_merge(pf, s);
}

/* Whether a line about peer pp can belong to session s. */
static bool
pf_peer_fits(const struct pf_sess *s, const struct pf_peer *pp)
{
	if (pp == NULL)
		return true;
	if (s->ev.peer_ip[0] != '\0' && pp->ip[0] != '\0')
		return strcmp(s->ev.peer_ip, pp->ip) == 0 &&
		       (s->ev.peer_port == 0 || pp->port == 0 ||
			   s->ev.peer_port == pp->port);
	if (s->ev.peer_host[0] != '\0' && pp->host.len > 0)
		return span_eq_ci(&pp->host, s->ev.peer_host);
	return true;
}

static void
pf_apply_tls(struct pf_sess *s, const struct pf_tls *t)
{
	s->flags |= PF_F_SUMMARY;
	if (t->trust != EV_TRUST_NONE)
		s->ev.trust = t->trust;
	ev_setstr(
	    &s->ev, s->ev.tls_version, sizeof(s->ev.tls_version), &t->proto);
	ev_setstr(&s->ev, s->ev.cipher, sizeof(s->ev.cipher), &t->cipher);
	s->ev.cipher_bits = t->bits;
}

static void
pf_apply_fail(struct pf_sess *s, const struct pf_fail *f)
{
	if (!f->fail)
		return;
	s->flags |= PF_F_FAIL;
	if (f->res != EV_RES_NONE && s->fail_res == EV_RES_NONE)
		s->fail_res = f->res;
	pf_policy(s, f->policy);
}

/* The domain part of an address, lower-cased by the caller. */
static bool
pf_addr_domain(const struct span *addr, struct span *dom)
{
	const char *q = addr->p + addr->len;

	while (q > addr->p && q[-1] != '@')
		q--;
	if (q == addr->p || q == addr->p + addr->len)
		return false;
	dom->p = q;
	dom->len = (size_t)(addr->p + addr->len - q);
	return true;
}

/*
 * Decide tls/result/reason from the evidence (see the rules at the top)
 * and fill what is left: the inbound domain fallback, status.
 */
static void
pf_finalize(const struct postfix *pf, struct pf_sess *s)
{
	struct tls_event *ev = &s->ev;
	enum ev_result res = EV_RES_NONE;
	uint32_t f = s->flags;
	const char *dot, *dot2;

	/*
	 * A failure line wins over a handshake line: Postfix completes the
	 * handshake before its policy check refuses the peer.  Handshake
	 * evidence wins over plaintext evidence, which may come from the
	 * instance rule only when nothing else was logged.
	 */
	if (ev->dir == EV_DIR_OUT) {
		if (f & PF_F_FAIL)
			ev->tls = EV_TLS_FAILED;
		else if (f & PF_F_SAWTLS)
			ev->tls = EV_TLS_OK;
		else if (f & PF_F_PLAIN)
			ev->tls = EV_TLS_PLAIN;
		else if ((f & PF_F_TLSRPT) && s->rpt_res != EV_RES_SUCCESS)
			ev->tls = EV_TLS_FAILED;
		else if ((f & PF_F_DELIVERY) &&
			 pf_inst_known(pf, s->inst, s->inst_len))
			ev->tls = EV_TLS_PLAIN;
		else
			ev->tls = EV_TLS_UNKNOWN;
		ev->status = (f & PF_F_SENT)	   ? EV_ST_SENT
			     : (f & PF_F_BOUNCED)  ? EV_ST_BOUNCED
			     : (f & PF_F_DEFERRED) ? EV_ST_DEFERRED
						   : EV_ST_NONE;
	} else {
		if (f & PF_F_FAIL)
			ev->tls = EV_TLS_FAILED;
		else if (f & (PF_F_SUMMARY | PF_F_STARTTLS | PF_F_WRAPPER))
			ev->tls = EV_TLS_OK;
		else if (f & PF_F_COUNTERS)
			ev->tls = EV_TLS_PLAIN;
		else
			ev->tls = EV_TLS_UNKNOWN;
		/* Sender domain unknown: the client host's last two labels. */
		if (ev->domain[0] == '\0' && ev->peer_host[0] != '\0' &&
		    (dot = strrchr(ev->peer_host, '.')) != NULL) {
			for (dot2 = dot;
			     dot2 > ev->peer_host && dot2[-1] != '.'; dot2--)
				;
			if (dot[1] != '\0')
				ev_setcstr(
				    ev, ev->domain, sizeof(ev->domain), dot2);
		}
	}
	/* Postfix's own TLSRPT verdict is the RFC 8460 result, when logged. */
	if (f & PF_F_TLSRPT)
		res = s->rpt_res;
	else if (ev->tls == EV_TLS_FAILED) {
		res = s->fail_res;
		if (res == EV_RES_NONE && !(f & PF_F_INTERNAL)) {
			/* "not verified"/handshake failure: what went wrong */
			if (s->cand != EV_RES_NONE)
				res = s->cand;
			else if (ev->trust == EV_TRUST_TRUSTED)
				res = EV_RES_CERT_HOST_MISMATCH;
			else if (ev->trust == EV_TRUST_UNTRUSTED)
				res = EV_RES_CERT_NOT_TRUSTED;
			else
				res = EV_RES_VALIDATION_FAILURE;
		}
	} else if (ev->tls == EV_TLS_OK)
		res = s->over != EV_RES_NONE ? s->over : EV_RES_SUCCESS;
	ev->result = res;
	/* A reason belongs to a failure; a success carries none. */
	if (ev->tls != EV_TLS_FAILED &&
	    (res == EV_RES_NONE || res == EV_RES_SUCCESS))
		ev->reason[0] = '\0';
}

static void
pf_release(struct postfix *pf, struct pf_sess *s)
{
	int32_t i = (int32_t)(s - pf->sess);

	pf_qforget(pf, s);
	pf_unkey(pf, s);
	pf_list_del(pf, &pf->lru, i, false);
	if (s->state == PF_HELD)
		pf_list_del(pf, &pf->held, i, true);
	s->state = PF_FREE;
	s->hnext = pf->free_head;
	pf->free_head = i;
}

/* Finalise and hand out (or count, if internal) and free the session. */
static void
pf_emit_sess(struct postfix *pf, struct pf_sess *s, int64_t off)
{
	pf_finalize(pf, s);
	s->ev.end_off = off;
	if (s->flags & PF_F_INTERNAL)
		pf->st->internal++;
	else {
		if (s->ev.host[0] == '\0')
			ev_setcstr(
			    &s->ev, s->ev.host, sizeof(s->ev.host), pf->host);
		pf->emit(pf->arg, &s->ev);
	}
	pf_release(pf, s);
}

/*
 * The session's connection is over.  It is held (out of the key hash, so
 * the pid can start another) rather than emitted when its domain is still
 * to come: an inbound one whose queue ids wait for qmgr's from= line, or
 * an outbound one that ended before any delivery line (a non-final MX:
 * "QID: Server certificate not verified") and waits for the delivery line
 * of one of its queue ids, which names the recipient.
 */
static void
pf_close(struct postfix *pf, struct pf_sess *s, int64_t off, bool may_hold)
{
	int32_t i = (int32_t)(s - pf->sess);
	const char *p, *end;
	struct span q;

	if (may_hold && s->ev.dir == EV_DIR_OUT &&
	    !(s->flags & (PF_F_DELIVERY | PF_F_INTERNAL)) &&
	    s->ev.domain[0] == '\0' && s->state == PF_OPEN) {
		p = s->ev.queue_ids;
		end = p + strlen(p);
		while (p < end && scan_word(&p, end, EV_QIDS_MAX, &q) == 0) {
			(void)scan_spaces(&p, end);
			pf_qadd(pf, s, &q);
		}
	}
	if (may_hold && s->npending > 0 && s->state == PF_OPEN) {
		pf_unkey(pf, s);
		s->state = PF_HELD;
		s->hold_us = pf->now_us + PF_HOLD_US;
		s->hold_line = pf->nline + PF_HOLD_LINES;
		pf_list_add(pf, &pf->held, i, true);
		return;
	}
	pf_emit_sess(pf, s, off);
}

/* Held sessions past their wait, then sessions idle too long. */
static void
pf_tick(struct postfix *pf, int64_t off)
{
	struct pf_sess *s;

	while (pf->held.head >= 0) {
		s = &pf->sess[pf->held.head];
		if (pf->now_us <= s->hold_us && pf->nline <= s->hold_line)
			break;
		pf_emit_sess(pf, s, off);
	}
	while (pf->lru.head >= 0) {
		s = &pf->sess[pf->lru.head];
		if (pf->now_us - s->last_us <= pf->idle_us)
			break;
		if (s->state == PF_OPEN)
			pf->st->expired++;
		pf_emit_sess(pf, s, off);
	}
}

/* ------------------------------------------------------------------ */
/* tlsproxy client-role facts. */

static struct pf_proxy *
pf_proxy_slot(
    struct postfix *pf, const struct pf_line *L, const struct pf_peer *pp)
{
	struct pf_proxy *x;
	uint32_t i;

	/* The same peer's fact from this handshake: add to it. */
	for (i = 0; i < PF_PROXY_MAX; i++) {
		x = &pf->proxy[i];
		if (x->live && x->inst_len == L->inst.len &&
		    memcmp(x->inst, L->inst.p, L->inst.len) == 0 &&
		    strcmp(x->ip, pp->ip) == 0 &&
		    pf->now_us - x->t_us <= PF_PROXY_US)
			return x;
	}
	x = &pf->proxy[pf->proxy_next];
	pf->proxy_next = (pf->proxy_next + 1) % PF_PROXY_MAX;
	memset(x, 0, sizeof(*x));
	x->live = true;
	memcpy(x->inst, L->inst.p, L->inst.len);
	x->inst_len = (uint8_t)L->inst.len;
	memcpy(x->ip, pp->ip, sizeof(x->ip));
	x->port = pp->port;
	x->t_us = pf->now_us;
	return x;
}

/* A fresh tlsproxy fact about this session's peer joins the session. */
static void
pf_proxy_merge(struct postfix *pf, struct pf_sess *s)
{
	struct pf_proxy *x;
	uint32_t i;

	for (i = 0; i < PF_PROXY_MAX; i++) {
		x = &pf->proxy[i];
		if (!x->live || x->inst_len != s->inst_len ||
		    memcmp(x->inst, s->inst, s->inst_len) != 0 ||
		    strcmp(x->ip, s->ev.peer_ip) != 0 ||
		    (x->port != 0 && s->ev.peer_port != 0 &&
			x->port != s->ev.peer_port) ||
		    pf->now_us - x->t_us > PF_PROXY_US)
			continue;
		if (x->cand != EV_RES_NONE && s->cand == EV_RES_NONE)
			s->cand = x->cand;
		if (x->reason[0] != '\0' && s->ev.reason[0] == '\0')
			memcpy(s->ev.reason, x->reason, sizeof(s->ev.reason));
		if (x->rpt && !(s->flags & PF_F_TLSRPT)) {
			s->flags |= PF_F_TLSRPT;
			s->rpt_res = x->rpt_res;
			if (x->domain[0] != '\0')
				memcpy(s->ev.domain, x->domain,
				    sizeof(s->ev.domain));
		}
		pf_policy(s, x->policy);
		x->live = false;
	}
}

/* ------------------------------------------------------------------ */
/* Outbound: smtp(8). */

/*
 * The session a line logged before the delivery belongs to: the pid's
 * current one while it has delivered nothing, its peer fits, and (for a
 * handshake line) it has had no handshake yet; else a new one.
 */
static struct pf_sess *
pf_out_pre(struct postfix *pf, const struct pf_line *L,
    const struct pf_peer *pp, bool handshake)
{
	struct pf_sess *s = pf_find(pf, L);

	if (s != NULL) {
		if (!(s->flags & PF_F_DELIVERY) && pf_peer_fits(s, pp) &&
		    !(handshake && (s->flags & PF_F_SUMMARY))) {
			pf_set_peer(pf, s, pp);
			return s;
		}
		pf_close(pf, s, L->off, true);
	}
	s = pf_open(pf, L, EV_DIR_OUT);
	pf_set_peer(pf, s, pp);
	return s;
}

/*
 * TLSRPT (3.10+, tlsrpt_wrapper.c), one per handshake, no queue id:
 *   TLSRPT: status=success, domain=example.com,
 *     receiving_mx=mx.example.com[192.0.2.1]
 *   TLSRPT: status=failure, domain=example.com,
 *     receiving_mx=mx.example.com[192.0.2.1],
 *     failure_type=certificate_expired[, failure_reason=...]
 * failure_type is the RFC 8460 type with '_' for '-'.
 */
struct pf_rpt {
	bool ok;
	struct span domain, freason;
	struct pf_peer mx;
	enum ev_result res;
	enum ev_policy policy;
};

static int
pf_tlsrpt(const char *s, const char *end, struct pf_rpt *r)
{
	struct span st, key, val;
	char type[PF_TYPE_MAX + 1];
	size_t i;

	memset(r, 0, sizeof(*r));
	if (PF_LIT(&s, end, "status=") == -1 ||
	    scan_until(&s, end, ',', 16, &st) == -1 ||
	    PF_LIT(&s, end, " domain=") == -1 ||
	    scan_until(&s, end, ',', EV_HOST_MAX, &r->domain) == -1 ||
	    PF_LIT(&s, end, " receiving_mx=") == -1 ||
	    pf_peer(&s, end, &r->mx) == -1)
		return -1;
	if (PF_EQ(&st, "success")) {
		r->ok = true;
		r->res = EV_RES_SUCCESS;
		return 0;
	}
	if (!PF_EQ(&st, "failure"))
		return -1;
	r->res = EV_RES_VALIDATION_FAILURE; /* unless the type says */
	while (PF_LIT(&s, end, ", ") == 0) {
		if (scan_until(&s, end, '=', 32, &key) == -1)
			return -1;
		if (scan_until(&s, end, ',', EV_REASON_MAX, &val) == 0)
			s--;
		else {
			val.p = s;
			val.len = (size_t)(end - s);
			s = end;
		}
		if (PF_EQ(&key, "failure_reason"))
			r->freason = val;
		else if (PF_EQ(&key, "failure_type") &&
			 val.len <= PF_TYPE_MAX) {
			for (i = 0; i < val.len; i++)
				type[i] = val.p[i] == '_' ? '-' : val.p[i];
			r->res = ev_result_lookup(type, val.len);
			if (r->res == EV_RES_NONE || r->res == EV_RES_SUCCESS)
				r->res = EV_RES_VALIDATION_FAILURE;
		}
	}
	if (r->res >= EV_RES_STS_POLICY_FETCH_ERROR)
		r->policy = EV_POL_STS;
	else if (r->res >= EV_RES_TLSA_INVALID)
		r->policy = EV_POL_TLSA;
	return 0;
}

static void
pf_apply_rpt(struct pf_sess *s, const struct pf_rpt *r)
{
	s->flags |= PF_F_TLSRPT;
	s->rpt_res = r->res;
	/* The policy domain: authoritative over the recipient domain. */
	ev_setdomain(&s->ev, s->ev.domain, sizeof(s->ev.domain), &r->domain);
	ev_lowerhost(s->ev.domain);
	if (r->freason.len > 0 && s->ev.reason[0] == '\0')
		pf_reason(
		    s, r->freason.p, r->freason.p + r->freason.len, false);
	pf_policy(s, r->policy);
}

/*
 * The 3.11 tls= field (MTA-LOGS.md 2.6):
 *   tls=[!]level[:final][?][/[!]requiretls[:final][?]]
 * "may:none" or "none": plaintext; "!...": a policy violation, the
 * connection was not used; "...?": undecided (the connection broke
 * before or during TLS); otherwise TLS reached that level.
 */
static void
pf_tlsfield(struct pf_sess *s, const struct span *v)
{
	const char *p = v->p, *end = v->p + v->len, *q;
	struct span level, fin = {NULL, 0};
	bool bang = false, undecided;
	struct pf_fail f = {true, EV_RES_NONE, EV_POL_UNKNOWN};

	if ((q = memchr(p, '/', v->len)) != NULL)
		end = q; /* the REQUIRETLS part says nothing about TLS */
	if (p < end && *p == '!') {
		bang = true;
		p++;
	}
	undecided = end > p && end[-1] == '?';
	if (undecided)
		end--;
	level.p = p;
	if ((q = memchr(p, ':', (size_t)(end - p))) != NULL) {
		level.len = (size_t)(q - p);
		fin.p = q + 1;
		fin.len = (size_t)(end - q - 1);
	} else
		level.len = (size_t)(end - p);
	if (PF_EQ(&level, "dane") || PF_EQ(&level, "dane-only")) {
		if (fin.len == 0 ||
		    !(PF_EQ(&fin, "none") || PF_EQ(&fin, "may")))
			pf_policy(s, EV_POL_TLSA);
		if (PF_EQ(&fin, "encrypt")) /* all TLSA records unusable */
			s->over = EV_RES_TLSA_INVALID;
	}
	if (bang) {
		if (PF_EQ(&fin, "none"))
			f.res = EV_RES_STARTTLS_NOT_SUPPORTED;
		pf_apply_fail(s, &f);
	} else if (undecided || PF_EQ(&level, "unknown"))
		return;
	else if (PF_EQ(&fin, "none") || (fin.len == 0 && PF_EQ(&level, "none")))
		s->flags |= PF_F_PLAIN;
	else
		s->flags |= PF_F_TLSFIELD;
}

/*
 * The delivery record (log_adhoc.c; MTA-LOGS.md 2.6):
 *   to=<u@example.com>, [orig_to=<...>, ]relay=mx.example.com[192.0.2.1]:25,
 *   [conn_use=2, ]delay=1.1, delays=0.1/0/0.5/0.5, [tls=may:none, ]
 *   dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Xyz)
 * relay=none/local/virtual, a unix socket or a loopback address is a
 * local hop, not an SMTP session with a peer.
 */
struct pf_dlv {
	struct span to, relay, tls, text;
	struct pf_peer peer;
	bool internal, conn_use, has_tls;
	enum ev_status status;
	bool sent;
};

/*
 * The field up to the next ", " (consumed).  memchr() for the comma:
 * scan_until_str()'s memmem() costs more on these short fields, and a
 * delivery line has seven of them.
 */
static int
pf_field(const char **s, const char *end, struct span *out)
{
	const char *p = *s, *c;
	size_t lim = (size_t)(end - p) < PF_FIELD_MAX + 2 ? (size_t)(end - p)
							  : PF_FIELD_MAX + 2;

	while ((c = memchr(p, ',', lim - (size_t)(p - *s))) != NULL) {
		if (c + 1 < end && c[1] == ' ') {
			out->p = *s;
			out->len = (size_t)(c - *s);
			*s = c + 2;
			return 0;
		}
		p = c + 1;
	}
	return -1;
}

static int
pf_delivery(const char *s, const char *end, struct pf_dlv *d)
{
	struct span key, val;
	const char *r;
	bool have_relay = false;

	memset(d, 0, sizeof(*d));
	if (scan_until_str(&s, end, ">, ", PF_FIELD_MAX, &d->to) == -1)
		return -1;
	for (;;) {
		if (scan_until(&s, end, '=', 16, &key) == -1)
			return -1;
		if (PF_EQ(&key, "status"))
			break;
		if (pf_field(&s, end, &val) == -1)
			return -1;
		if (PF_EQ(&key, "relay")) {
			d->relay = val;
			have_relay = true;
		} else if (PF_EQ(&key, "conn_use"))
			d->conn_use = true;
		else if (PF_EQ(&key, "tls")) {
			d->tls = val;
			d->has_tls = true;
		}
	}
	if (!have_relay || scan_word(&s, end, 16, &val) == -1)
		return -1;
	if (PF_EQ(&val, "sent"))
		d->status = EV_ST_SENT;
	else if (PF_EQ(&val, "deferred"))
		d->status = EV_ST_DEFERRED;
	else if (PF_EQ(&val, "bounced") || PF_EQ(&val, "expired"))
		d->status = EV_ST_BOUNCED;
	else
		d->status = EV_ST_NONE; /* address verification probes */
	if (PF_LIT(&s, end, " (") == 0) {
		d->text.p = s;
		d->text.len = (size_t)(end - s);
		if (d->text.len > 0 && s[d->text.len - 1] == ')')
			d->text.len--;
	}
	r = d->relay.p;
	if (pf_peer(&r, d->relay.p + d->relay.len, &d->peer) == -1 ||
	    d->peer.ip[0] == '\0' || ev_is_loopback(d->peer.ip))
		d->internal = true;
	return 0;
}

/*
 * A delivery line's queue id may belong to an earlier, held session of
 * a non-final MX: that session takes its domain from this recipient.
 */
static void
pf_out_borrow(struct postfix *pf, const struct span *qid,
    const struct span *dom, int64_t off)
{
	struct pf_qent *e;
	struct pf_sess *s;

	e = pf_qfind(pf, qid, pf_fnv(2166136261u, qid->p, qid->len));
	if (e == NULL)
		return;
	s = &pf->sess[e->slot];
	if (s->gen != e->gen || s->state != PF_HELD || s->ev.dir != EV_DIR_OUT)
		return;
	pf_qdel(pf, e);
	s->npending--;
	if (s->ev.domain[0] == '\0') {
		ev_setdomain(&s->ev, s->ev.domain, sizeof(s->ev.domain), dom);
		ev_lowerhost(s->ev.domain);
	}
	if (s->npending == 0)
		pf_emit_sess(pf, s, off);
}

static enum parse_rc
pf_out_delivery(struct postfix *pf, const struct pf_line *L,
    const struct span *qid, const char *s)
{
	struct pf_sess *cur;
	struct pf_fail f;
	struct pf_dlv d;
	struct span dom;
	bool same_qid, has_dom;

	if (pf_delivery(s, L->end, &d) == -1)
		return PARSE_MALFORMED;
	cur = pf_find(pf, L);
	f.fail = false;
	if (d.status != EV_ST_SENT && d.text.len > 0)
		pf_fail_text(d.text.p, d.text.p + d.text.len, &f);
	/*
	 * relay=none after a DANE failure ("TLSA lookup error for ...",
	 * "no TLSA records found"): no connection was made, but it is a TLS
	 * policy failure for RFC 8460, not a local hop.
	 */
	if (d.internal && d.peer.ip[0] == '\0' && f.fail &&
	    f.policy == EV_POL_TLSA) {
		d.internal = false;
		d.peer.host.len = 0;
		d.peer.port = 0;
	}
	if (d.internal) {
		/* A handshake with the local hop: the session is local too. */
		if (cur != NULL && !(cur->flags & PF_F_DELIVERY) &&
		    d.peer.ip[0] != '\0' && pf_peer_fits(cur, &d.peer)) {
			cur->flags |= PF_F_INTERNAL | PF_F_DELIVERY;
			return PARSE_EVENT;
		}
		pf->st->internal++;
		return PARSE_EVENT;
	}
	/*
	 * Join the pid's current connection when the relay is its peer and
	 * either nothing was delivered over it yet, or this is the same
	 * message (one line per recipient), or conn_use= says the connection
	 * was reused.  Otherwise the pid has opened another connection.
	 */
	if (cur != NULL) {
		same_qid = cur->last_qid_len == qid->len &&
			   memcmp(cur->last_qid, qid->p, qid->len) == 0;
		if (!pf_peer_fits(cur, &d.peer) ||
		    ((cur->flags & PF_F_DELIVERY) && !same_qid &&
			!d.conn_use)) {
			pf_close(pf, cur, L->off, true);
			cur = NULL;
		}
	}
	has_dom = pf_addr_domain(&d.to, &dom);
	if (has_dom && pf->qcount > 0)
		pf_out_borrow(pf, qid, &dom, L->off);
	if (cur == NULL)
		cur = pf_open(pf, L, EV_DIR_OUT);
	pf_set_peer(pf, cur, &d.peer);
	cur->flags |= PF_F_DELIVERY;
	ev_addqid(&cur->ev, qid);
	/* Only our own report mail so far: later reports leave it out. */
	if (pf->nown > 0 && pf_own_qid(pf, qid)) {
		if (!(cur->flags & PF_F_OTHERMSG))
			cur->ev.flags |= EV_F_OWN_REPORT;
	} else {
		cur->flags |= PF_F_OTHERMSG;
		cur->ev.flags &= (uint16_t)~EV_F_OWN_REPORT;
	}
	if (cur->ev.domain[0] == '\0' && has_dom) {
		ev_setdomain(
		    &cur->ev, cur->ev.domain, sizeof(cur->ev.domain), &dom);
		ev_lowerhost(cur->ev.domain);
	}
	/* messages: each queue id delivered once, whatever its recipients. */
	if (cur->last_qid_len != qid->len ||
	    memcmp(cur->last_qid, qid->p, qid->len) != 0) {
		memcpy(cur->last_qid, qid->p, qid->len);
		cur->last_qid_len = (uint8_t)qid->len;
		cur->last_qid_sent = false;
	}
	switch (d.status) {
	case EV_ST_SENT:
		cur->flags |= PF_F_SENT;
		if (!cur->last_qid_sent) {
			cur->ev.messages++;
			cur->last_qid_sent = true;
		}
		break;
	case EV_ST_DEFERRED:
		cur->flags |= PF_F_DEFERRED;
		break;
	case EV_ST_BOUNCED:
		cur->flags |= PF_F_BOUNCED;
		break;
	default:
		break;
	}
	if (d.has_tls)
		pf_tlsfield(cur, &d.tls);
	if (f.fail) {
		pf_apply_fail(cur, &f);
		pf_reason(cur, d.text.p, d.text.p + d.text.len, false);
	}
	return PARSE_EVENT;
}

/*
 * "QID: <text>" other than a delivery: a non-final MX's failure
 * (smtp_bulk_fail), e.g.
 *   4ABC: Server certificate not verified
 *   4ABC: TLS is required, but was not offered by host mx[192.0.2.1]
 *   4ABC: Cannot start TLS: handshake failure
 * or "host mx[...] said: ..." and other texts, which only add the id.
 */
static enum parse_rc
pf_out_qidline(struct postfix *pf, const struct pf_line *L,
    const struct span *qid, const char *s)
{
	const char *h, *end = L->end;
	struct pf_peer pp, *ppp = NULL;
	struct pf_sess *cur;
	struct pf_fail f;

	if (end - s >= 4 && memcmp(s, "to=<", 4) == 0)
		return pf_out_delivery(pf, L, qid, s + 4);
	pf_fail_text(s, end, &f);
	if (!f.fail) {
		cur = pf_find(pf, L);
		if (cur == NULL || (cur->flags & PF_F_DELIVERY))
			return PARSE_NONE;
		ev_addqid(&cur->ev, qid);
		return PARSE_EVENT;
	}
	/* "... by host H[IP]" / "... but host H[IP] refused ...": the peer */
	if ((h = scan_find(s, end, "host ")) != NULL) {
		h += 5;
		if (pf_peer(&h, end, &pp) == 0)
			ppp = &pp;
	}
	cur = pf_out_pre(pf, L, ppp, false);
	ev_addqid(&cur->ev, qid);
	pf_apply_fail(cur, &f);
	pf_reason(cur, s, end, false);
	return PARSE_EVENT;
}

/*
 * Certificate verification (tls_verify.c), before the summary:
 *   certificate verification failed for mx[192.0.2.1]:25: untrusted issuer ...
 *   server certificate verification failed for mx[192.0.2.1]:25: num=62:...
 *   CA certificate verification failed for mx[192.0.2.1]:25: certificate has
 * expired Returns the text after the peer in *why.
 */
static int
pf_verify_line(
    const char *s, const char *end, struct pf_peer *pp, const char **why)
{
	(void)(PF_LIT(&s, end, "server ") == 0 || PF_LIT(&s, end, "CA ") == 0);
	if (PF_LIT(&s, end, "certificate verification failed for ") == -1 ||
	    pf_peer(&s, end, pp) == -1 || PF_LIT(&s, end, ": ") == -1)
		return -1;
	*why = s;
	return 0;
}

/*
 * smtp(8) lines, dispatched on their first byte so that each line costs a
 * few compares; the common delivery record ("QID: to=<...") falls through
 * to the queue-id path at the end.
 */
static enum parse_rc
pf_smtp(struct postfix *pf, const struct pf_line *L)
{
	const char *s = L->s, *end = L->end, *why;
	enum ev_policy pol;
	struct pf_sess *cur;
	struct pf_peer pp;
	struct span qid;
	struct pf_tls t;
	struct pf_rpt r;

	if (end - s < 8)
		return PARSE_NONE;
	switch (*s) {
	case 'A':
	case 'U':
	case 'T':
	case 'V':
		if (memcmp(s, "TLSRPT: ", 8) == 0) {
			if (pf_tlsrpt(s + 8, end, &r) == -1)
				return PARSE_MALFORMED;
			pf_apply_rpt(pf_out_pre(pf, L, &r.mx, false), &r);
			return PARSE_EVENT;
		}
		if (pf_summary(s, end, &t) == 0) {
			if (!t.client)
				return PARSE_NONE;
			cur = pf_out_pre(pf, L, &t.peer, true);
			pf_apply_tls(cur, &t);
			pf_inst_mark(pf, &L->inst);
			return PARSE_EVENT;
		}
		if (pf_has(s, s + 40 < end ? s + 40 : end, "TLS connection"))
			return PARSE_MALFORMED;
		break;
	case 'c':
	case 's':
	case 'C':
		if (pf_verify_line(s, end, &pp, &why) == 0) {
			cur = pf_out_pre(pf, L, &pp, true);
			cur->flags |= PF_F_CERTLINE;
			if (cur->cand == EV_RES_NONE)
				cur->cand = pf_verify_result(why, end, &pol);
			else
				(void)pf_verify_result(why, end, &pol);
			pf_policy(cur, pol);
			pf_reason(cur, why, end, false);
			return PARSE_EVENT;
		}
		break;
	case 'S':
		/* SSL_connect error to mx[192.0.2.1]:25: -1 */
		if (PF_LIT(&s, end, "SSL_connect error to ") == 0) {
			if (pf_peer(&s, end, &pp) == -1)
				return PARSE_MALFORMED;
			cur = pf_out_pre(pf, L, &pp, true);
			cur->flags |= PF_F_FAIL;
			pf_reason(cur, L->s, end, true);
			return PARSE_EVENT;
		}
		/*
		 * 2.x, no queue id, after any handshake whose certificate did
		 * not verify: "Server certificate could not be verified".  Only
		 * a following "Server certificate not verified" says that the
		 * policy refused it; alone it is a verification note.
		 */
		if (PF_LIT(&s, end, "Server certificate could not be ") == 0) {
			cur = pf_out_pre(pf, L, NULL, false);
			cur->flags |= PF_F_CERTLINE;
			if (cur->cand == EV_RES_NONE)
				cur->cand = EV_RES_CERT_NOT_TRUSTED;
			pf_reason(cur, L->s, end, false);
			return PARSE_EVENT;
		}
		break;
	case 'H':
		/* Host offered STARTTLS: [mx.example.com] (TLS level none) */
		if (PF_LIT(&s, end, "Host offered STARTTLS: [") == 0) {
			cur = pf_out_pre(pf, L, NULL, false);
			cur->flags |= PF_F_PLAIN;
			return PARSE_EVENT;
		}
		break;
	case 'w':
		/*
		 * warning: mx[192.0.2.1]:25: all TLSA records unusable,
		 *   fallback to unauthenticated TLS
		 * warning: TLS library problem: error:0A000086:SSL
		 * routines::...
		 */
		if (PF_LIT(&s, end, "warning: ") == -1)
			break;
		if (PF_LIT(&s, end, "TLS library problem: ") == 0) {
			cur = pf_find(pf, L);
			if (cur == NULL || (cur->flags & PF_F_DELIVERY))
				return PARSE_NONE;
			pf_reason(cur, L->s + 9, end, false);
			return PARSE_EVENT;
		}
		if (pf_peer(&s, end, &pp) == 0 && pp.ip[0] != '\0' &&
		    PF_LIT(&s, end, ": all TLSA records unusable") == 0) {
			cur = pf_out_pre(pf, L, &pp, true);
			cur->cand = cur->over = EV_RES_TLSA_INVALID;
			pf_policy(cur, EV_POL_TLSA);
			pf_reason(cur, s - strlen("all TLSA records unusable"),
			    end, false);
			return PARSE_EVENT;
		}
		return PARSE_NONE;
	default:
		break;
	}
	s = L->s;
	if (pf_qid(&s, end, &qid) == 0)
		return pf_out_qidline(pf, L, &qid, s);
	return PARSE_NONE;
}

/* ------------------------------------------------------------------ */
/* tlsproxy(8). */

/* An event that one tlsproxy line completes (no session kept). */
static void
pf_single(struct postfix *pf, const struct pf_line *L, const struct pf_peer *pp,
    struct tls_event *ev)
{
	ev_init(ev);
	ev->source = EV_SRC_POSTFIX;
	ev->dir = EV_DIR_IN;
	ev->ts_us = L->m->ts_us;
	ev->start_off = ev->end_off = L->off;
	ev_setstr(ev, ev->host, sizeof(ev->host), &L->m->host);
	if (ev->host[0] == '\0')
		ev_setcstr(ev, ev->host, sizeof(ev->host), pf->host);
	memcpy(ev->peer_ip, pp->ip, sizeof(ev->peer_ip));
	ev->peer_port = pp->port;
	if (pp->host.len > 0 && !PF_EQ(&pp->host, "unknown")) {
		ev_setstr(ev, ev->peer_host, sizeof(ev->peer_host), &pp->host);
		ev_lowerhost(ev->peer_host);
	}
}

/*
 * Server role (postscreen's STARTTLS): a connection that carries no
 * mail, complete in one line.
 *   Anonymous TLS connection established from [192.0.2.7]:47992: TLSv1.2 ...
 *   SSL_accept error from [192.0.2.7]:47992: -1
 * Client role (smtp_tls_connection_reuse): facts for the smtp session.
 *   certificate verification failed for mx[192.0.2.1]:25: ...
 *   TLSRPT: status=failure, domain=..., receiving_mx=...
 */
static enum parse_rc
pf_tlsproxy(struct postfix *pf, const struct pf_line *L)
{
	const char *s = L->s, *end = L->end, *why;
	struct tls_event ev;
	struct pf_proxy *x;
	struct pf_peer pp;
	enum ev_policy pol;
	struct pf_tls t;
	struct pf_rpt r;

	if (end - s < 8)
		return PARSE_NONE;
	if (memcmp(s, "TLSRPT: ", 8) == 0) {
		if (pf_tlsrpt(s + 8, end, &r) == -1 || r.mx.ip[0] == '\0')
			return PARSE_MALFORMED;
		x = pf_proxy_slot(pf, L, &r.mx);
		x->rpt = true;
		x->rpt_res = r.res;
		x->policy = r.policy;
		/* ev only lends ev_setdomain() its flags here. */
		ev_init(&ev);
		ev_setdomain(&ev, x->domain, sizeof(x->domain), &r.domain);
		ev_lowerhost(x->domain);
		if (r.freason.len > 0 && x->reason[0] == '\0')
			ev_setstr(
			    &ev, x->reason, sizeof(x->reason), &r.freason);
		return PARSE_EVENT;
	}
	if (pf_summary(s, end, &t) == 0) {
		if (t.client) { /* smtp logs this handshake itself */
			pf_inst_mark(pf, &L->inst);
			return PARSE_EVENT;
		}
		pf_single(pf, L, &t.peer, &ev);
		ev.tls = EV_TLS_OK;
		ev.result = EV_RES_SUCCESS;
		ev.trust = t.trust;
		ev_setstr(
		    &ev, ev.tls_version, sizeof(ev.tls_version), &t.proto);
		ev_setstr(&ev, ev.cipher, sizeof(ev.cipher), &t.cipher);
		ev.cipher_bits = t.bits;
		pf->emit(pf->arg, &ev);
		return PARSE_EVENT;
	}
	if (PF_LIT(&s, end, "SSL_accept error from ") == 0) {
		if (pf_peer(&s, end, &pp) == -1)
			return PARSE_MALFORMED;
		pf_single(pf, L, &pp, &ev);
		ev.tls = EV_TLS_FAILED;
		ev.result = EV_RES_VALIDATION_FAILURE;
		ev_setstr(&ev, ev.reason, sizeof(ev.reason),
		    &(struct span){L->s, (size_t)(end - L->s)});
		pf->emit(pf->arg, &ev);
		return PARSE_EVENT;
	}
	if (pf_verify_line(s, end, &pp, &why) == 0 && pp.ip[0] != '\0') {
		x = pf_proxy_slot(pf, L, &pp);
		if (x->cand == EV_RES_NONE)
			x->cand = pf_verify_result(why, end, &pol);
		else
			(void)pf_verify_result(why, end, &pol);
		if (x->policy == EV_POL_UNKNOWN)
			x->policy = pol;
		if (x->reason[0] == '\0') {
			ev_init(&ev);
			ev_setstr(&ev, x->reason, sizeof(x->reason),
			    &(struct span){why, (size_t)(end - why)});
		}
		return PARSE_EVENT;
	}
	return PARSE_NONE;
}

/* ------------------------------------------------------------------ */
/* Inbound: smtpd(8). */

/* The pid's session, or a new one when the log starts mid-session. */
static struct pf_sess *
pf_in_cur(struct postfix *pf, const struct pf_line *L, const struct pf_peer *pp)
{
	struct pf_sess *s = pf_find(pf, L);

	if (s == NULL) {
		s = pf_open(pf, L, EV_DIR_IN);
		if (pp != NULL && ev_is_loopback(pp->ip))
			s->flags |= PF_F_INTERNAL;
	}
	pf_set_peer(pf, s, pp);
	return s;
}

/*
 * disconnect from mx.example.com[192.0.2.1] ehlo=2 starttls=1 mail=1
 *   rcpt=1 data=1 quit=1 commands=7                           (3.0+)
 * "starttls=N/M": N of M succeeded; absent: STARTTLS never issued.
 */
static void
pf_counters(struct pf_sess *s, const char *p, const char *end)
{
	const char *q, *tok;
	uint64_t ok, tot;

	s->flags |= PF_F_COUNTERS;
	if ((q = scan_find(p, end, " starttls=")) == NULL)
		return;
	tok = ++q;
	q += strlen("starttls=");
	if (scan_uint(&q, end, 1000000, &ok) == -1)
		return;
	tot = ok;
	if (PF_LIT(&q, end, "/") == 0 &&
	    scan_uint(&q, end, 1000000, &tot) == -1)
		return;
	if (ok >= 1)
		s->flags |= PF_F_STARTTLS;
	else if (tot > 0 && !(s->flags & PF_F_SUMMARY)) {
		/* starttls=0/1: tried and failed; the counter is the reason */
		s->flags |= PF_F_FAIL;
		pf_reason(s, tok, q, false);
	}
}

/*
 * smtpd(8) lines.  An smtpd process serves one client at a time, so the
 * pid's session is the client's; a new "connect from" closes a session
 * whose "disconnect" line is missing.
 */
static enum parse_rc
pf_smtpd(struct postfix *pf, const struct pf_line *L)
{
	const char *s = L->s, *end = L->end;
	struct pf_sess *cur;
	struct pf_peer pp;
	struct span qid;
	struct pf_tls t;
	size_t before;

	if (end - s < 8)
		return PARSE_NONE;
	switch (*s) {
	case 'c':
		/* connect from mx.example.com[192.0.2.1] */
		if (PF_LIT(&s, end, "connect from ") == -1)
			break;
		if (pf_peer(&s, end, &pp) == -1)
			return PARSE_MALFORMED;
		if ((cur = pf_find(pf, L)) != NULL)
			pf_close(pf, cur, L->off, true); /* lost its end */
		cur = pf_in_cur(pf, L, &pp);
		return PARSE_EVENT;
	case 'd':
		if (PF_LIT(&s, end, "disconnect from ") == -1)
			break;
		if (pf_peer(&s, end, &pp) == -1)
			return PARSE_MALFORMED;
		cur = pf_in_cur(pf, L, &pp);
		pf_counters(cur, s, end);
		pf_close(pf, cur, L->off, true);
		return PARSE_EVENT;
	case 'A':
	case 'U':
	case 'T':
	case 'V':
		if (pf_summary(s, end, &t) == -1 || t.client)
			break;
		cur = pf_in_cur(pf, L, &t.peer);
		pf_apply_tls(cur, &t);
		return PARSE_EVENT;
	case 'S':
		/* SSL_accept error from mx.example.com[192.0.2.1]: -1 */
		if (PF_LIT(&s, end, "SSL_accept error from ") == -1)
			break;
		if (pf_peer(&s, end, &pp) == -1)
			return PARSE_MALFORMED;
		cur = pf_in_cur(pf, L, &pp);
		cur->flags |= PF_F_FAIL;
		pf_reason(cur, L->s, end, true);
		return PARSE_EVENT;
	case 'l':
		/* lost connection after STARTTLS from mx[192.0.2.1] */
		if (PF_LIT(&s, end, "lost connection after STARTTLS from ") ==
		    -1)
			break;
		if (pf_peer(&s, end, &pp) == -1)
			return PARSE_MALFORMED;
		cur = pf_in_cur(pf, L, &pp);
		if (!(cur->flags & PF_F_SUMMARY)) {
			cur->flags |= PF_F_FAIL;
			pf_reason(cur, L->s, end, false);
		}
		return PARSE_EVENT;
	case 'w':
		/* warning: TLS library problem: error:0A0000C1:...:no shared
		 * cipher */
		if (PF_LIT(&s, end, "warning: TLS library problem: ") == -1)
			break;
		if ((cur = pf_find(pf, L)) == NULL)
			return PARSE_NONE;
		pf_reason(cur, L->s + 9, end, false);
		return PARSE_EVENT;
	default:
		break;
	}
	/* 4ABC: client=mx.example.com[192.0.2.1][, sasl_method=...] */
	s = L->s;
	if (pf_qid(&s, end, &qid) == -1 || PF_LIT(&s, end, "client=") == -1)
		return PARSE_NONE;
	if (pf_peer(&s, end, &pp) == -1)
		return PARSE_MALFORMED;
	cur = pf_in_cur(pf, L, &pp);
	/* messages: queue ids accepted; ev_addqid() ignores repeats. */
	before = strlen(cur->ev.queue_ids);
	ev_addqid(&cur->ev, &qid);
	if (strlen(cur->ev.queue_ids) != before) {
		cur->ev.messages++;
		if (!(cur->flags & PF_F_INTERNAL))
			pf_qadd(pf, cur, &qid);
	}
	return PARSE_EVENT;
}

/* ------------------------------------------------------------------ */
/* qmgr(8): the sender of an inbound message, and our own report mail. */

/*
 * 4ABC: from=<tlsrpt@example.org>, size=1234, nrcpt=1 (queue active)
 * with tlsrpt@example.org one of opts.own_senders: remember 4ABC.
 */
static void
pf_own_note(struct postfix *pf, const struct pf_line *L)
{
	const char *s = L->s, *end = L->end;
	struct span qid, from;
	uint32_t i;

	if (pf_qid(&s, end, &qid) == -1 || PF_LIT(&s, end, "from=<") == -1 ||
	    scan_until(&s, end, '>', PF_FIELD_MAX, &from) == -1 ||
	    qid.len > PF_QID_MAX)
		return;
	for (i = 0; i < pf->nown; i++)
		if (span_eq_ci(&from, pf->own[i])) {
			memcpy(pf->ownq[pf->ownq_next].qid, qid.p, qid.len);
			pf->ownq[pf->ownq_next].len = (uint8_t)qid.len;
			pf->ownq_next = (pf->ownq_next + 1) % PF_OWNQ_MAX;
			return;
		}
}

static bool
pf_own_qid(const struct postfix *pf, const struct span *qid)
{
	uint32_t i;

	for (i = 0; i < PF_OWNQ_MAX; i++)
		if (pf->ownq[i].len == qid->len &&
		    memcmp(pf->ownq[i].qid, qid->p, qid->len) == 0)
			return true;
	return false;
}

/*
 * 4ABC: from=<user@example.org>, size=1234, nrcpt=1 (queue active)
 */
static enum parse_rc
pf_qmgr(struct postfix *pf, const struct pf_line *L)
{
	const char *s = L->s, *end = L->end;
	struct span qid, from, dom;
	struct pf_qent *e;
	struct pf_sess *sess;

	if (pf->nown > 0)
		pf_own_note(pf, L);
	if (pf->qcount == 0 || pf_qid(&s, end, &qid) == -1 ||
	    PF_LIT(&s, end, "from=<") == -1)
		return PARSE_NONE;
	if ((e = pf_qfind(pf, &qid, pf_fnv(2166136261u, qid.p, qid.len))) ==
	    NULL)
		return PARSE_NONE;
	sess = &pf->sess[e->slot];
	/* Outbound sessions wait for a delivery line, not for this. */
	if (sess->gen != e->gen || sess->state == PF_FREE ||
	    sess->ev.dir == EV_DIR_OUT)
		return PARSE_NONE;
	pf_qdel(pf, e);
	if (sess->npending > 0)
		sess->npending--;
	if (scan_until(&s, end, '>', PF_FIELD_MAX, &from) == 0 &&
	    sess->ev.domain[0] == '\0' && pf_addr_domain(&from, &dom)) {
		ev_setdomain(
		    &sess->ev, sess->ev.domain, sizeof(sess->ev.domain), &dom);
		ev_lowerhost(sess->ev.domain);
	}
	if (sess->state == PF_HELD && sess->npending == 0)
		pf_emit_sess(pf, sess, L->off);
	return PARSE_EVENT;
}

/* ------------------------------------------------------------------ */
/* The module interface. */

bool
postfix_claims(const struct syslog_msg *m, bool strict)
{
	if (m->daemon.len == 0)
		return false;
	if (!strict)
		return true;
	return m->instance.len >= 7 && memcmp(m->instance.p, "postfix", 7) == 0;
}

enum parse_rc
postfix_line(struct postfix *pf, const struct syslog_msg *m, int64_t off)
{
	struct pf_line L;

	/*
	 * Log time only moves forward (merged or slightly unordered sources
	 * must not resurrect sessions), and timers run before the line so
	 * that a session that expired is not joined by it.
	 */
	pf->nline++;
	if (m->ts_us > pf->now_us)
		pf->now_us = m->ts_us;
	pf_tick(pf, off);
	L.daemon = pf_daemon(&m->daemon);
	if (L.daemon == PF_D_OTHER || L.daemon == PF_D_POSTSCREEN)
		return PARSE_NONE; /* cleanup, pickup, ...: nothing for us */
	if (m->instance.len > PF_INST_MAX)
		return PARSE_MALFORMED;
	L.m = m;
	L.off = off;
	L.s = m->msg.p;
	L.end = m->msg.p + m->msg.len;
	L.inst = m->instance;
	switch (L.daemon) {
	case PF_D_SMTP:
		return pf_smtp(pf, &L);
	case PF_D_SMTPD:
		return pf_smtpd(pf, &L);
	case PF_D_QMGR:
		return pf_qmgr(pf, &L);
	case PF_D_TLSPROXY:
		return pf_tlsproxy(pf, &L);
	case PF_D_LMTP:
		/* Local delivery (dovecot, cyrus): counted, never a peer. */
		if (pf_has(L.s, L.end, ": to=<")) {
			pf->st->internal++;
			return PARSE_EVENT;
		}
		return PARSE_NONE;
	default:
		return PARSE_NONE;
	}
}

void
postfix_finish(struct postfix *pf, int64_t off)
{
	while (pf->lru.head >= 0)
		pf_emit_sess(pf, &pf->sess[pf->lru.head], off);
}

bool
postfix_min_start(const struct postfix *pf, int64_t *off)
{
	int32_t i;
	bool any = false;

	/* Sessions are few; the LRU is not in start order, so look at all. */
	for (i = pf->lru.head; i >= 0; i = pf->sess[i].lru.next) {
		if (!any || pf->sess[i].ev.start_off < *off)
			*off = pf->sess[i].ev.start_off;
		any = true;
	}
	return any;
}

/* "submission submissions smtps" into the service table. */
static void
pf_services(struct postfix *pf, const char *list)
{
	const char *p = list, *end = list + strlen(list);
	struct span w;

	while (p < end && pf->nsvc < PF_SERVICES_MAX) {
		(void)scan_spaces(&p, end);
		while (p < end && *p == ',')
			p++;
		if (scan_word(&p, end, 256, &w) == -1)
			break;
		if (w.len > 0 && w.p[w.len - 1] == ',')
			w.len--;
		if (w.len == 0 || w.len > PF_SERVICE_MAX)
			continue;
		memcpy(pf->svc[pf->nsvc], w.p, w.len);
		pf->svc[pf->nsvc][w.len] = '\0';
		pf->nsvc++;
	}
}

struct postfix *
postfix_new(const struct parser_opts *o, struct parser_stats *st,
    postfix_emit_fn *emit, void *arg)
{
	struct postfix *pf = xcalloc(1, sizeof(*pf));
	uint64_t n = o->max_sessions ? o->max_sessions : PF_SESSIONS_DEFAULT;
	struct tls_event tmp;
	uint32_t i;

	if (n > PF_SESSIONS_MAX)
		n = PF_SESSIONS_MAX;
	pf->st = st;
	pf->emit = emit;
	pf->arg = arg;
	pf->idle_us = o->idle_us > 0 ? o->idle_us : PF_IDLE_DEFAULT_US;
	ev_init(&tmp);
	ev_setcstr(
	    &tmp, pf->host, sizeof(pf->host), o->host != NULL ? o->host : "");
	/*
	 * calloc() memory is untouched until a slot is first used, so a large
	 * cap costs nothing until the log needs it.
	 */
	pf->nsess = (uint32_t)n;
	pf->sess = xcalloc(n, sizeof(*pf->sess));
	pf->free_head = -1;
	pf->bmask = pf_pow2(2 * n) - 1;
	pf->bucket =
	    xreallocarray(NULL, (size_t)pf->bmask + 1, sizeof(*pf->bucket));
	memset(pf->bucket, 0xff, ((size_t)pf->bmask + 1) * sizeof(int32_t));
	/* Several queue ids per session may wait at once (multi-message). */
	pf->qmask = pf_pow2(8 * n) - 1;
	pf->qmax = (pf->qmask + 1) / 2;
	pf->qmap =
	    xreallocarray(NULL, (size_t)pf->qmask + 1, sizeof(*pf->qmap));
	for (i = 0; i <= pf->qmask; i++)
		pf->qmap[i].slot = -1;
	pf->lru.head = pf->lru.tail = -1;
	pf->held.head = pf->held.tail = -1;
	pf_services(pf, o->submission_services != NULL
			    ? o->submission_services
			    : "submission submissions smtps");
	if (o->own_senders != NULL) {
		const char *p = o->own_senders, *end = p + strlen(p);
		struct span w;

		while (p < end && pf->nown < PF_OWN_MAX) {
			(void)scan_spaces(&p, end);
			if (scan_word(&p, end, PF_FIELD_MAX, &w) == 0) {
				memcpy(pf->own[pf->nown], w.p, w.len);
				pf->own[pf->nown++][w.len] = '\0';
			} else if (p < end) {
				p++; /* a word too long for an address */
			}
		}
	}
	return pf;
}

void
postfix_free(struct postfix *pf)
{
	if (pf == NULL)
		return;
	free(pf->qmap);
	free(pf->bucket);
	free(pf->sess);
	free(pf);
}
