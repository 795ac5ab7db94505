/*
 * opensmtpd.h - OpenSMTPD log lines to TLS session events
 *
 * One object follows one log stream, fed envelopes split by syslog.c;
 * each finished session goes to the emit callback (see opensmtpd.c for the
 * line forms and evidence rules).
 *
 * Ownership: opensmtpd_new() returns a new object freed by opensmtpd_free()
 * (NULL is a no-op).  The event passed to the callback is borrowed for the
 * duration of the call.  The stats record is borrowed and must outlive
 * the object.
 */
#ifndef PARSERS_OPENSMTPD_H
#define PARSERS_OPENSMTPD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/event.h"
#include "parsers/parser.h"
#include "parsers/syslog.h"

struct opensmtpd;

/* Receives each finished session: start_off, end_off and host are set. */
typedef void opensmtpd_emit_fn(void *arg, struct tls_event *ev);

struct opensmtpd *opensmtpd_new(const struct parser_opts *,
    struct parser_stats *, opensmtpd_emit_fn *, void *arg);
void opensmtpd_free(struct opensmtpd *);

/*
 * Whether the envelope's program tag is OpenSMTPD's.  strict (format auto):
 * "smtpd" (no "/": Postfix's are "postfix/smtpd").  Otherwise (format
 * opensmtpd) every tag is accepted.
 */
bool opensmtpd_claims(const struct syslog_msg *, bool strict);

/*
 * One claimed line that starts at byte `off'.  PARSE_EVENT when the line
 * was used, PARSE_NONE when it carries nothing (counted as unused),
 * PARSE_MALFORMED when a known form did not parse (counted).
 */
enum parse_rc opensmtpd_line(
    struct opensmtpd *, const struct syslog_msg *, int64_t off);

/* End of input: every open session is emitted, ending at `off'. */
void opensmtpd_finish(struct opensmtpd *, int64_t off);

/* Smallest start offset of an open session or fact; false if none. */
bool opensmtpd_min_start(const struct opensmtpd *, int64_t *off);

#endif /* PARSERS_OPENSMTPD_H */
