/*
 * sendmail.h - Sendmail log lines to TLS session events
 *
 * One object follows one log stream, fed envelopes split by syslog.c;
 * each finished session goes to the emit callback (see sendmail.c for the
 * line forms and evidence rules).
 *
 * Ownership: sendmail_new() returns a new object freed by sendmail_free() (NULL
 * is a no-op).  The event passed to the callback is borrowed for the
 * duration of the call.  The stats record is borrowed and must outlive
 * the object.
 */
#ifndef PARSERS_SENDMAIL_H
#define PARSERS_SENDMAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/event.h"
#include "parsers/parser.h"
#include "parsers/syslog.h"

struct sendmail;

/* Receives each finished session: start_off, end_off and host are set. */
typedef void sendmail_emit_fn(void *arg, struct tls_event *ev);

struct sendmail *sendmail_new(const struct parser_opts *, struct parser_stats *,
    sendmail_emit_fn *, void *arg);
void sendmail_free(struct sendmail *);

/*
 * Whether the envelope's program tag is Sendmail's.  strict (format auto):
 * "sendmail", "sm-mta", "sm-msp-queue".  Otherwise (format sendmail) every tag
 * is accepted.
 */
bool sendmail_claims(const struct syslog_msg *, bool strict);

/*
 * One claimed line that starts at byte `off'.  PARSE_EVENT when the line
 * was used, PARSE_NONE when it carries nothing (counted as unused),
 * PARSE_MALFORMED when a known form did not parse (counted).
 */
enum parse_rc sendmail_line(
    struct sendmail *, const struct syslog_msg *, int64_t off);

/* End of input: every open session is emitted, ending at `off'. */
void sendmail_finish(struct sendmail *, int64_t off);

/* Smallest start offset of an open session or fact; false if none. */
bool sendmail_min_start(const struct sendmail *, int64_t *off);

#endif /* PARSERS_SENDMAIL_H */
