/*
 * log.c - diagnostics (see log.h)
 *
 * Inputs: format strings are ours; untrusted text arrives only through
 * log_str(), which caps and sanitises it.  Single-threaded: the ident and
 * the log_str() pool are process state.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char *log_ident = "tlsflow";
static bool log_to_stderr = true;
static bool log_debug_on;

void
log_init(const char *ident, bool foreground)
{
	log_ident = ident;
	log_to_stderr = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_verbose(bool on)
{
	log_debug_on = on;
}

static void
log_vemit(int prio, const char *cause, const char *fmt, va_list ap)
{
	char msg[1024];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_stderr) {
		if (cause != NULL)
			(void)fprintf(
			    stderr, "%s: %s: %s\n", log_ident, msg, cause);
		else
			(void)fprintf(stderr, "%s: %s\n", log_ident, msg);
	} else {
		if (cause != NULL)
			syslog(prio, "%s: %s", msg, cause);
		else
			syslog(prio, "%s", msg);
	}
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, saved ? strerror(saved) : NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, "panic", fmt, ap);
	va_end(ap);
	abort();
}

const char *
log_str(const char *p, size_t len)
{
	static char pool[4][LOG_STR_MAX + 4];
	static unsigned slot;
	char *out = pool[slot++ % 4];
	size_t i, n = len < LOG_STR_MAX ? len : LOG_STR_MAX;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}
