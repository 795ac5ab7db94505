/*
 * tlshello.c - ClientHello, ServerHello and alerts as seen on the wire
 *
 * Input: one direction of a TLS connection (after STARTTLS, or from the
 * first byte on an implicit-TLS port), in order; all of it untrusted.
 * Only the plaintext part of the handshake is read: the record layer
 * (RFC 8446 5.1, RFC 5246 6.2.1), the first handshake messages (RFC 8446
 * 4.1.2 and 4.1.3, RFC 5246 7.4.1.2/7.4.1.3) and plaintext alerts (RFC
 * 8446 6).  After ChangeCipherSpec (TLS 1.2) or from the first
 * application_data record on (TLS 1.3), content is encrypted and only
 * counted.
 *
 * Every byte is read through struct rd (common/rd.h); nothing is cast
 * onto packet memory.  Handshake messages are reassembled across records
 * in a buffer of at most TLSHELLO_HS_MAX bytes, freed once the hello is
 * parsed; no other allocation.  Not thread-safe; one stream per
 * direction, owned by the caller.
 */
#include "collector/tlshello.h"

#include <string.h>

/* RFC 8446 5.1 ContentType */
#define TH_CT_CCS 20
#define TH_CT_ALERT 21
#define TH_CT_HANDSHAKE 22
#define TH_CT_APPDATA 23
#define TH_CT_HEARTBEAT 24

/* RFC 8446 4 HandshakeType */
#define TH_HS_CLIENT_HELLO 1
#define TH_HS_SERVER_HELLO 2

/* RFC 8446 4.2 ExtensionType */
#define TH_EXT_SERVER_NAME 0
#define TH_EXT_SUPPORTED_VERSIONS 43

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") */
static const uint8_t th_hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a,
    0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2,
    0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,
    0x33, 0x9c};

/* RFC 8701: GREASE values look like 0x?a?a with equal bytes. */
static bool
th_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/*
 * server_name (RFC 6066 3):
 *   ServerNameList<1..2^16-1>: { name_type(1) HostName<1..2^16-1> }
 * The first host_name (type 0) is kept.
 */
static bool
th_sni(struct rd ext, struct tlshello_client *ch)
{
	struct rd list, name;
	uint16_t llen, nlen;
	uint8_t ntype;

	if (!rd_be16(&ext, &llen) || !rd_sub(&ext, llen, &list))
		return false;
	while (rd_left(&list) > 0) {
		if (!rd_u8(&list, &ntype) || !rd_be16(&list, &nlen) ||
		    !rd_sub(&list, nlen, &name))
			return false;
		if (ntype != 0 || ch->sni_len != 0 || nlen == 0)
			continue;
		if (nlen > TLSHELLO_SNI_MAX) {
			ch->sni_cut = true;
			nlen = TLSHELLO_SNI_MAX;
		}
		memcpy(ch->sni, name.p, nlen);
		ch->sni[nlen] = '\0';
		ch->sni_len = nlen;
	}
	return true;
}

/* supported_versions in a ClientHello: versions<2..254> (RFC 8446 4.2.1) */
static bool
th_client_versions(struct rd ext, struct tlshello_client *ch)
{
	struct rd list;
	uint16_t v;
	uint8_t len;

	if (!rd_u8(&ext, &len) || !rd_sub(&ext, len, &list))
		return false;
	ch->nversions = 0;
	while (rd_left(&list) > 0) {
		if (!rd_be16(&list, &v))
			return false; /* odd length */
		if (th_grease(v) || ch->nversions >= TLSHELLO_VERSIONS_MAX)
			continue;
		ch->versions[ch->nversions++] = v;
	}
	return true;
}

bool
tlshello_client_parse(struct rd body, struct tlshello_client *ch)
{
	struct rd skip, exts, ext;
	uint16_t len, etype;
	uint8_t len8;

	memset(ch, 0, sizeof(*ch));
	if (!rd_be16(&body, &ch->legacy_version) ||
	    !rd_skip(&body, 32) || /* random */
	    !rd_u8(&body, &len8) || len8 > 32 || !rd_sub(&body, len8, &skip) ||
	    !rd_be16(&body, &len) || len < 2 || len % 2 != 0 ||
	    !rd_sub(&body, len, &skip) || !rd_u8(&body, &len8) || len8 < 1 ||
	    !rd_sub(&body, len8, &skip))
		return false;
	ch->nsuites = len / 2;
	ch->versions[0] = ch->legacy_version;
	ch->nversions = 1;
	if (rd_left(&body) == 0)
		return true; /* no extensions (allowed before TLS 1.3) */
	if (!rd_be16(&body, &len) || !rd_sub(&body, len, &exts))
		return false;
	while (rd_left(&exts) > 0) {
		if (!rd_be16(&exts, &etype) || !rd_be16(&exts, &len) ||
		    !rd_sub(&exts, len, &ext))
			return false;
		if (etype == TH_EXT_SERVER_NAME && !th_sni(ext, ch))
			return false;
		if (etype == TH_EXT_SUPPORTED_VERSIONS &&
		    !th_client_versions(ext, ch))
			return false;
	}
	return true;
}

bool
tlshello_server_parse(struct rd body, struct tlshello_server *sh)
{
	struct rd random, skip, exts, ext;
	uint16_t len, etype;
	uint8_t len8, comp;

	memset(sh, 0, sizeof(*sh));
	if (!rd_be16(&body, &sh->legacy_version) ||
	    !rd_sub(&body, 32, &random) || !rd_u8(&body, &len8) || len8 > 32 ||
	    !rd_sub(&body, len8, &skip) || !rd_be16(&body, &sh->cipher) ||
	    !rd_u8(&body, &comp))
		return false;
	sh->hrr = memcmp(random.p, th_hrr_random, 32) == 0;
	sh->version = sh->legacy_version;
	if (rd_left(&body) == 0)
		return !sh->hrr; /* an HRR always has supported_versions */
	if (!rd_be16(&body, &len) || !rd_sub(&body, len, &exts))
		return false;
	while (rd_left(&exts) > 0) {
		if (!rd_be16(&exts, &etype) || !rd_be16(&exts, &len) ||
		    !rd_sub(&exts, len, &ext))
			return false;
		/* A ServerHello carries one selected_version (4.2.1). */
		if (etype == TH_EXT_SUPPORTED_VERSIONS &&
		    (len != 2 || !rd_be16(&ext, &sh->version)))
			return false;
	}
	return true;
}

void
tlshello_stream_init(struct tlshello_stream *s, enum tlshello_role role)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	buf_init(&s->hs, TLSHELLO_HS_MAX);
}

void
tlshello_stream_free(struct tlshello_stream *s)
{
	buf_free(&s->hs);
	buf_init(&s->hs, TLSHELLO_HS_MAX);
}

bool
tlshello_wants(const struct tlshello_stream *s)
{
	return !s->bad && (!s->hello || s->encrypted == 0);
}

/*
 * Parse the complete handshake messages at [p, p + n): the client's
 * first message must be a ClientHello; the server's a ServerHello, after
 * any number of HelloRetryRequests (the client's second ClientHello is
 * in the other stream).  Returns the bytes of the messages used.
 */
static size_t
th_parse(struct tlshello_stream *s, const uint8_t *p, size_t n)
{
	struct rd r, body;
	uint32_t mlen;
	uint8_t mtype;
	size_t used = 0;

	while (!s->hello && !s->bad) {
		r = rd_make(p + used, n - used);
		if (!rd_u8(&r, &mtype) || !rd_be24(&r, &mlen))
			break; /* header incomplete */
		if (mlen > TLSHELLO_HS_MAX - 4) {
			s->bad = true; /* will never fit */
			break;
		}
		if (!rd_sub(&r, mlen, &body))
			break; /* body incomplete */
		used = (size_t)(r.p - p);
		if (s->role == TLSHELLO_CLIENT) {
			if (mtype != TH_HS_CLIENT_HELLO ||
			    !tlshello_client_parse(body, &s->client))
				s->bad = true;
			else
				s->hello = true;
		} else if (mtype != TH_HS_SERVER_HELLO ||
			   !tlshello_server_parse(body, &s->server))
			s->bad = true;
		else if (s->server.hrr) {
			if (s->hrr < UINT8_MAX) /* wait for the real one */
				s->hrr++;
		} else
			s->hello = true;
	}
	return used;
}

/*
 * Handshake bytes of a record.  A message that is whole in the bytes at
 * hand is parsed where it lies; only a fragmented one is gathered in the
 * buffer.
 */
static void
th_handshake(struct tlshello_stream *s, const uint8_t *p, size_t n)
{
	size_t used;

	if (s->hs.len == 0) {
		used = th_parse(s, p, n);
		p += used;
		n -= used;
	} else if (buf_add(&s->hs, p, n) == -1)
		s->bad = true;
	else {
		used = th_parse(s, (const uint8_t *)s->hs.p, s->hs.len);
		memmove(s->hs.p, s->hs.p + used, s->hs.len - used);
		s->hs.len -= used;
		n = 0;
	}
	if (!s->hello && !s->bad && n > 0 && buf_add(&s->hs, p, n) == -1)
		s->bad = true;
	if (s->hello || s->bad)
		tlshello_stream_free(s);
}

/* Body bytes of the current record (content type s->type). */
static void
th_body(struct tlshello_stream *s, const uint8_t *p, size_t n)
{
	switch (s->type) {
	case TH_CT_HANDSHAKE:
		if (s->rec_enc || s->hello)
			return; /* encrypted, or Certificate etc.: not needed */
		th_handshake(s, p, n);
		return;
	case TH_CT_ALERT:
		if (s->rec_enc)
			return; /* encrypted: counted at its header */
		while (n > 0 && s->nabuf < 2) {
			s->abuf[s->nabuf++] = *p++;
			n--;
		}
		if (s->nabuf == 2 && !s->alert_clear) {
			s->alert_clear = true;
			s->alert_level = s->abuf[0];
			s->alert_desc = s->abuf[1];
		}
		return;
	default:
		return; /* CCS, application data, heartbeat: skipped */
	}
}

/* TLS 1.3 is known to be in use on this stream. */
static bool
th_tls13(const struct tlshello_stream *s)
{
	return s->tls13 || s->hrr > 0 ||
	       (s->role == TLSHELLO_SERVER && s->hello &&
		   s->server.version >= TLSHELLO_TLS13);
}

/* A complete record header in s->hdr: check it and start the record. */
static void
th_header(struct tlshello_stream *s)
{
	struct rd r = rd_make(s->hdr, 5);
	uint16_t ver, len;
	uint8_t type;

	if (!rd_u8(&r, &type) || !rd_be16(&r, &ver) || !rd_be16(&r, &len) ||
	    type < TH_CT_CCS || type > TH_CT_HEARTBEAT || (ver >> 8) != 3 ||
	    len > TLSHELLO_RECORD_MAX ||
	    (s->records == 0 && type != TH_CT_HANDSHAKE &&
		type != TH_CT_ALERT)) {
		/* Not TLS: SSLv2 hello, plaintext, or garbage. */
		s->bad = true;
		tlshello_stream_free(s);
		return;
	}
	s->records++;
	s->type = type;
	s->left = len;
	s->nabuf = 0;
	/*
	 * After ChangeCipherSpec a TLS 1.2 peer encrypts; in TLS 1.3 CCS is
	 * only for middleboxes (RFC 8446 D.4) and encrypted records are
	 * application_data.
	 */
	s->rec_enc = type == TH_CT_APPDATA || (s->ccs && !th_tls13(s));
	if (type == TH_CT_CCS)
		s->ccs = true;
	else if (s->rec_enc)
		s->encrypted++;
	if (type == TH_CT_ALERT)
		s->alert = true;
}

void
tlshello_feed(struct tlshello_stream *s, const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0 && !s->bad) {
		if (s->left == 0 && s->nhdr < 5) {
			s->hdr[s->nhdr++] = *p++;
			n--;
			if (s->nhdr == 5)
				th_header(s);
			continue;
		}
		k = n < s->left ? n : s->left;
		th_body(s, p, k);
		p += k;
		n -= k;
		s->left = (uint16_t)(s->left - k);
		if (s->left == 0)
			s->nhdr = 0; /* next record */
	}
	/* An empty record ends where its header does. */
	if (s->nhdr == 5 && s->left == 0)
		s->nhdr = 0;
}

const char *
tlshello_version_name(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "TLSv1.3";
	case 0x0303:
		return "TLSv1.2";
	case 0x0302:
		return "TLSv1.1";
	case 0x0301:
		return "TLSv1";
	case 0x0300:
		return "SSLv3";
	default:
		return NULL;
	}
}

const char *
tlshello_alert_name(uint8_t d)
{
	/* clang-format off */
	static const struct { uint8_t d; const char *name; } tab[] = {
		{0, "close_notify"}, {10, "unexpected_message"},
		{20, "bad_record_mac"}, {21, "decryption_failed"},
		{22, "record_overflow"}, {30, "decompression_failure"},
		{40, "handshake_failure"}, {41, "no_certificate"},
		{42, "bad_certificate"}, {43, "unsupported_certificate"},
		{44, "certificate_revoked"}, {45, "certificate_expired"},
		{46, "certificate_unknown"}, {47, "illegal_parameter"},
		{48, "unknown_ca"}, {49, "access_denied"},
		{50, "decode_error"}, {51, "decrypt_error"},
		{60, "export_restriction"}, {70, "protocol_version"},
		{71, "insufficient_security"}, {80, "internal_error"},
		{86, "inappropriate_fallback"}, {90, "user_canceled"},
		{100, "no_renegotiation"}, {109, "missing_extension"},
		{110, "unsupported_extension"},
		{111, "certificate_unobtainable"}, {112, "unrecognized_name"},
		{113, "bad_certificate_status_response"},
		{114, "bad_certificate_hash_value"},
		{115, "unknown_psk_identity"}, {116, "certificate_required"},
		{120, "no_application_protocol"},
	};
	/* clang-format on */
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].d == d)
			return tab[i].name;
	return NULL;
}
