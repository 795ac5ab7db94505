/*
 * smtp.h - one SMTP session as a passive observer sees it
 *
 * Fed the two reassembled byte streams of one TCP connection (client to
 * server, server to client), in order per direction but in any order
 * between them, it follows commands and replies (matched in order, also
 * when pipelined, RFC 2920), the switch to TLS after STARTTLS (RFC 3207)
 * or from the start on an implicit-TLS port (RFC 8314), and the TLS
 * hellos (tlshello.h).  It keeps what it saw as separate facts (struct
 * smtp_facts) and derives the session's verdict from them only at the
 * end (smtp_event()).
 * Ownership: smtp_new() returns a new object freed by smtp_free().  It
 * holds at most SMTP_PENDING_MAX bytes per direction while one side
 * waits for the other, and TLSHELLO_HS_MAX per direction while a hello
 * is incomplete; smtp_mem() tells how much it holds now.
 */
#ifndef COLLECTOR_SMTP_H
#define COLLECTOR_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/tlshello.h"
#include "core/event.h"

#define SMTP_LINE_MAX 4096     /* longest command or reply line accepted */
#define SMTP_PENDING_MAX 65536 /* bytes held while waiting for the peer */
#define SMTP_CMDQ_MAX 128      /* commands sent and not yet answered */
#define SMTP_DOMAIN_MAX EV_HOST_MAX

enum smtp_dir { SMTP_C2S = 0, SMTP_S2C = 1 };

/* How the connection ended, for the verdict. */
enum smtp_end {
	SMTP_END_CLOSED = 1, /* FIN or RST seen */
	SMTP_END_IDLE,	     /* idle timeout: the peers went quiet */
	SMTP_END_EVICTED,    /* dropped by the flow table's memory cap */
	SMTP_END_CAPTURE     /* the capture ended (end of file, SIGTERM) */
};

/* What was seen, fact by fact; the verdict is derived from these. */
struct smtp_facts {
	bool implicit_tls;    /* TLS from the first byte (port 465) */
	bool midstream;	      /* the capture missed the connection's start */
	bool lost[2];	      /* bytes of that direction are missing */
	bool not_smtp[2];     /* bytes that are not SMTP (also sets lost) */
	uint16_t banner_code; /* greeting reply code; 0: none seen */
	char banner_host[SMTP_DOMAIN_MAX + 1]; /* first word of the greeting */
	char helo[SMTP_DOMAIN_MAX + 1];	       /* client's EHLO/HELO argument */
	bool ehlo_reply;		       /* a 250 reply to EHLO */
	char server_name[SMTP_DOMAIN_MAX + 1]; /* first word of it */
	bool starttls_offered;	 /* STARTTLS in the last EHLO reply */
	bool starttls_sent;	 /* the client sent STARTTLS */
	uint16_t starttls_reply; /* the reply matched to it; 0: none */
	uint32_t injected[2];	 /* plaintext that followed STARTTLS or its
				    220 in the same segment (discarded) */
	bool mail_clear;	 /* MAIL FROM seen before any TLS */
	uint32_t rcpts;		 /* RCPT TO commands seen before any TLS */
	char mail_domain[SMTP_DOMAIN_MAX + 1]; /* MAIL FROM domain */
	char rcpt_domain[SMTP_DOMAIN_MAX + 1]; /* first RCPT TO domain */
	uint32_t messages;	    /* end-of-data replies 2xx (plaintext) */
	uint16_t data_reply;	    /* last end-of-data reply code */
	char qids[EV_QIDS_MAX + 1]; /* "queued as" ids, space separated */
	bool quit;		    /* the client sent QUIT in clear */
	bool tls[2];		    /* that direction switched to TLS */
	struct tlshello_stream hello[2]; /* [SMTP_C2S] client, [SMTP_S2C] */
};

struct smtp;

/* A new session; `implicit_tls': TLS from the first byte (port 465). */
struct smtp *smtp_new(bool implicit_tls, bool midstream);
void smtp_free(struct smtp *); /* NULL is a no-op */
/*
 * Make `s' a new session again, as smtp_new() would (`used': it was one
 * already, release its buffers first); saves an allocation per session.
 */
void smtp_reset(struct smtp *s, bool implicit_tls, bool midstream, bool used);
/* The next n bytes of direction d (borrowed for the call only). */
void smtp_feed(struct smtp *, enum smtp_dir d, const uint8_t *p, size_t n);
/* Bytes of direction d are missing (capture loss, truncation, overflow). */
void smtp_gap(struct smtp *, enum smtp_dir d);
/* Whether bytes of direction d can still tell anything. */
bool smtp_wants(const struct smtp *, enum smtp_dir d);
/* Bytes held now (buffers), for the flow table's memory cap. */
size_t smtp_mem(const struct smtp *);
/* The facts so far (borrowed; valid until the next call on it). */
const struct smtp_facts *smtp_facts(const struct smtp *);

/*
 * Fill the session fields of `ev' from the facts (tls, tls_version,
 * cipher, cipher_bits, result, reason, domain, peer_host, peer_helo,
 * messages, status, queue_ids); `dir' is the event's direction, known to
 * the caller.  Other fields are left alone.  The rules are in smtp.c.
 */
void smtp_event(const struct smtp *, enum smtp_end end, enum ev_dir dir,
    struct tls_event *ev);

#endif /* COLLECTOR_SMTP_H */
