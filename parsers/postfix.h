/*
 * postfix.h - Postfix log lines to TLS session events
 *
 * One object follows one log stream.  It is fed envelopes split by
 * syslog.c, keeps the open SMTP sessions in tables sized once by
 * postfix_new(), and hands each finished session to the emit callback
 * (see postfix.c for what counts as evidence of what).
 *
 * Ownership: postfix_new() returns a new object freed by postfix_free()
 * (NULL is a no-op).  The event passed to the callback is borrowed for
 * the duration of the call.  The stats record is borrowed and must
 * outlive the object.
 */
#ifndef PARSERS_POSTFIX_H
#define PARSERS_POSTFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/event.h"
#include "parsers/parser.h"
#include "parsers/syslog.h"

struct postfix;

/* Receives each finished session: start_off, end_off and host are set. */
typedef void postfix_emit_fn(void *arg, struct tls_event *ev);

struct postfix *postfix_new(const struct parser_opts *, struct parser_stats *,
    postfix_emit_fn *, void *arg);
void postfix_free(struct postfix *);

/*
 * Whether the envelope's program tag is Postfix's.  strict (format auto):
 * the tag is "postfix.../daemon", the default syslog_name and its
 * multi-instance variants.  Otherwise (format postfix) any "name/daemon"
 * tag is accepted, for a custom syslog_name.
 */
bool postfix_claims(const struct syslog_msg *, bool strict);

/*
 * One claimed line that starts at byte `off'.  PARSE_EVENT when the line
 * was used, PARSE_NONE when it carries nothing (counted as unused),
 * PARSE_MALFORMED when a known form did not parse (counted).
 */
enum parse_rc postfix_line(
    struct postfix *, const struct syslog_msg *, int64_t off);

/* End of input: every open or held session is emitted, ending at `off'. */
void postfix_finish(struct postfix *, int64_t off);

/* Smallest start offset of an open or held session; false if none. */
bool postfix_min_start(const struct postfix *, int64_t *off);

#endif /* PARSERS_POSTFIX_H */
