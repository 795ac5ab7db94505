/*
 * syslog.h - the log envelope: timestamp, host, program tag, pid
 *
 * Splits one log line into its envelope and the program's message
 * (MTA-LOGS.md section 1).  Accepted forms:
 *   RFC 3164 / rsyslog traditional   "Nov  2 10:00:01 mx1 postfix/smtp[123]: "
 *   postlogd, journalctl -o short    "Nov 02 10:00:01 mx1 postfix/smtp[123]: "
 *   RFC 3339 (rsyslog high precision, journalctl -o short-iso[-precise])
 *                                     "2026-11-22T10:00:01.123+01:00 mx1 ..."
 *   RFC 5424                          "<22>1 2026-11-22T10:00:01Z mx1
 *                                      postfix/smtp 123 - - msg"
 * An optional "<PRI>" before an RFC 3164 or 3339 envelope is skipped.
 *
 * Timestamps without a zone are local time of the process TZ (tlsflow
 * sets TZ from its "timezone" setting); the UTC offset is cached per local
 * hour so that a line costs no mktime().  Timestamps without a year take
 * the clock's year (see syslog_clock_init).
 *
 * Input is untrusted: any bytes, no NUL terminator needed.  The spans in a
 * struct syslog_msg are borrowed from the line and valid as long as it is.
 */
#ifndef PARSERS_SYSLOG_H
#define PARSERS_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/scan.h"

#define SYSLOG_TAG_MAX 128 /* longest program tag accepted */
#define SYSLOG_HOST_MAX 253
#define SYSLOG_STAMP_MAX 24 /* longest timestamp text the clock caches */

enum syslog_rc {
	SYSLOG_OK = 0,
	SYSLOG_BADTIME,	 /* no timestamp we can read: the line is skipped */
	SYSLOG_MALFORMED /* a timestamp, but no "host tag[pid]: " after it */
};

/*
 * Year inference and the local-time cache.  Embedded by value in its
 * owner; the fields are private to syslog.c.
 */
struct syslog_clock {
	int year;     /* fixed year (0: infer from ref) */
	int ref_year; /* local year and month (1-12) of ref */
	int ref_mon;
	int64_t cache_key;  /* y/m/d/h of cache_base, -1: empty */
	int64_t cache_base; /* UTC seconds of local hh:00:00 */
	/*
	 * The text of the last timestamp read ("Nov 22 10:00:01",
	 * "2026-11-22 10:00:01") and its UTC seconds: consecutive lines
	 * mostly share their second, and then cost one memcmp().
	 */
	size_t stamp_len; /* 0: empty */
	int64_t stamp_t;
	char stamp[SYSLOG_STAMP_MAX];
};

struct syslog_msg {
	int64_t ts_us;	      /* UTC microseconds */
	struct span host;     /* empty when the line has none */
	struct span tag;      /* "postfix/submission/smtpd" */
	struct span instance; /* before the last '/': "postfix/submission";
				 the whole tag when it has no '/' */
	struct span daemon;   /* after the last '/': "smtpd"; or empty */
	uint32_t pid;	      /* 0 when the tag carries none */
	struct span msg;      /* the program's text */
};

/*
 * year: the year of lines that carry none (0: infer from ref_us, the
 * "now" of the source, e.g. the file's mtime: a line dated in a month
 * more than one month after ref's month belongs to the year before, so a
 * December line read in January is last year's).  A fixed year applies to
 * every line: a file that spans New Year needs the inference instead (one
 * garbage "Jan" line must not move the rest of a file into another year).
 * Reads the process TZ now: call again after changing TZ.
 */
void syslog_clock_init(struct syslog_clock *, int year, int64_t ref_us);

/*
 * Parse the envelope of `line' (len bytes).  SYSLOG_OK fills *out;
 * otherwise *out is unspecified.
 */
enum syslog_rc syslog_parse(struct syslog_clock *, const char *line, size_t len,
    struct syslog_msg *out) __attribute__((warn_unused_result));

/*
 * Local wall-clock time (process TZ) to UTC seconds, through the per-hour
 * cache.  mon 1-12.  -1 when the fields do not form a date.
 */
int syslog_local_to_utc(struct syslog_clock *, int year, int mon, int day,
    int hour, int min, int sec, int64_t *out)
    __attribute__((warn_unused_result));

/*
 * The clock's one-entry timestamp cache, for envelope readers outside
 * syslog.c (exim_envelope()).  syslog_stamp_get(): true, with *t, when
 * the n bytes at p (the caller checked they are in bounds) are the text
 * last remembered.  syslog_stamp_put() remembers n bytes (at most
 * SYSLOG_STAMP_MAX) as the local time text that reads as UTC seconds t;
 * a text must always read as the same t, whoever puts it.
 */
bool syslog_stamp_get(const struct syslog_clock *, const char *p, size_t n,
    int64_t *t) __attribute__((warn_unused_result));
void syslog_stamp_put(
    struct syslog_clock *, const char *p, size_t n, int64_t t);

#endif /* PARSERS_SYSLOG_H */
