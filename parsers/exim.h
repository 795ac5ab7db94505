/*
 * exim.h - Exim main-log lines to TLS session events
 *
 * One object follows one log stream: Exim's own main log
 * (/var/log/exim4/mainlog) or syslog lines tagged exim/exim4.  It is fed
 * envelopes split by syslog.c (or by exim_envelope() for the main log's
 * own "YYYY-MM-DD HH:MM:SS" prefix) and hands each finished session to
 * the emit callback (see exim.c for what counts as evidence of what).
 *
 * Ownership: exim_new() returns a new object freed by exim_free() (NULL
 * is a no-op).  The event passed to the callback is borrowed for the
 * duration of the call.  The stats record is borrowed and must outlive
 * the object.
 */
#ifndef PARSERS_EXIM_H
#define PARSERS_EXIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "parsers/parser.h"
#include "parsers/syslog.h"

struct exim;

/* Receives each finished session: start_off, end_off and host are set. */
typedef void exim_emit_fn(void *arg, struct tls_event *ev);

struct exim *exim_new(const struct parser_opts *, struct parser_stats *,
    exim_emit_fn *, void *arg);
void exim_free(struct exim *);

/*
 * Whether the envelope is Exim's.  strict (format auto): the program tag
 * is "exim" or "exim4" (or the main-log envelope of exim_envelope()).
 * Otherwise (format exim) every tag is accepted.
 */
bool exim_claims(const struct syslog_msg *, bool strict);

/*
 * The main log's own envelope, "2026-11-22 10:00:01[.123][ +0100]
 * [[pid] ]rest": fills *out with the time, an empty host, the program
 * tag "exim", the pid (0 without the +pid selector) and the message.
 * false when the line does not start that way.  Spans borrow the line.
 */
bool exim_envelope(struct syslog_clock *, const char *line, size_t len,
    struct syslog_msg *out) __attribute__((warn_unused_result));

/*
 * One claimed line that starts at byte `off'.  PARSE_EVENT when the line
 * was used, PARSE_NONE when it carries nothing (counted as unused),
 * PARSE_MALFORMED when a known form did not parse (counted).
 */
enum parse_rc exim_line(struct exim *, const struct syslog_msg *, int64_t off);

/* End of input: every waiting session is emitted, ending at `off'. */
void exim_finish(struct exim *, int64_t off);

/* Smallest start offset of a waiting fact or session; false if none. */
bool exim_min_start(const struct exim *, int64_t *off);

#endif /* PARSERS_EXIM_H */
