/*
 * log.h - diagnostics to stderr or syslog (OpenSMTPD log.c, Postfix msg(3))
 *
 * Messages read "module: object: what happened[: cause]", lowercase, no
 * trailing period.  log_warn() appends strerror(errno) and keeps errno.
 * fatal()/fatalx() are for startup, configuration and out-of-memory only;
 * panic() is for broken invariants and aborts with a core dump.
 * Untrusted text is logged only through log_str().
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_STR_MAX 256 /* bytes of untrusted text shown by log_str() */

/* Start logging as `ident'; to stderr if `foreground', else syslog. */
void log_init(const char *ident, bool foreground);
/* Show log_debug() messages when `on'. */
void log_verbose(bool on);

void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void panic(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Printable copy of untrusted bytes for a log line: at most LOG_STR_MAX
 * bytes, anything outside printable ASCII replaced by '?'.  Returns a
 * pointer into a small rotating static pool (4 slots), valid until four
 * more calls; not thread-safe.
 */
const char *log_str(const char *p, size_t len);

#endif /* COMMON_LOG_H */
