/*
 * mime.c - RFC 8460 section 5.3 report mail: build, sign, submit
 *
 * The message (RFC 5322, MIME RFC 2045/2046, multipart/report RFC 6522):
 * From (report_sender, else contact_info), To, the RFC 8460 Subject
 * "Report Domain: D Submitter: S Report-ID: <id>", Date, a Message-ID
 * fixed per report and destination (a retry repeats it, so a receiver
 * can drop a copy), TLS-Report-Domain, TLS-Report-Submitter (the
 * contact-info domain), TLS-Required: No (RFC 8689: report mail must get
 * through despite TLS failures, RFC 8460 section 5.3).  The DKIM
 * signature (dkim.c) covers From To Subject Date Message-ID
 * TLS-Report-Domain TLS-Report-Submitter MIME-Version Content-Type.
 *
 * Untrusted input: the mailto: address comes from a DNS TXT record; it
 * is decoded and checked before it reaches a header, an SMTP command or
 * an argv.  The domain, file name and report-id come from our own store
 * and are checked again, since they are put into header fields.
 * Submission: libcurl SMTP to report_relay (STARTTLS when offered, the
 * relay's certificate checked against the system CAs or report_ca_file),
 * else fork/exec of report_sendmail -i -f SENDER -- RCPT (no shell), the
 * message on its stdin with LF line ends (sendmail(1) convention).  Both
 * are bounded by report_timeout.
 */
#include "reporter/mime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "reporter/dkim.h"
#include "reporter/report.h"

#define MIME_MSG_MAX (96u << 20)
#define MIME_LINE_MAX 76 /* base64 lines (RFC 2045 6.8) */
#define MIME_TEXT_LINE_MAX 900
#define MIME_FOLD_COL 78
#define MIME_URL_MAX 1024

/* clang-format off */
static const char *const mime_signed[] = {
	"From", "To", "Subject", "Date", "Message-ID", "TLS-Report-Domain",
	"TLS-Report-Submitter", "MIME-Version", "Content-Type", NULL
};
/* clang-format on */

static int
mime_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mime_rcpt(const char *uri, char *out, size_t outlen)
{
	const char *p, *at = NULL;
	size_t n = 0, i;
	int hi, lo;
	char c;

	for (p = uri; *p != '\0' && *p != '?'; p++) {
		c = *p;
		if (c == '%') {
			if ((hi = mime_hex(p[1])) < 0 ||
			    (lo = mime_hex(p[2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		/* One addr-spec, nothing a header or argv could misread. */
		if (c <= ' ' || c >= 0x7f || strchr("<>\"(),;:[]\\", c) != NULL)
			return -1;
		if (n + 1 >= outlen || n + 1 > MIME_ADDR_MAX)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '@')
			at = out + i;
	if (at == NULL || at == out || at[1] == '\0' || out[0] == '-')
		return -1;
	for (p = at + 1; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return -1;
	return 0;
}

static const char *
mime_sender(void)
{
	if (cf_report_sender != NULL && cf_report_sender[0] != '\0')
		return cf_report_sender;
	return report_contact();
}

/* RFC 5322 3.3 date-time, in UTC, without the locale's names. */
static void
mime_date(time_t t, char *out, size_t n)
{
	static const char *const wd[] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)snprintf(out, n, "%s, %d %s %d %02d:%02d:%02d +0000",
	    wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Only characters we put into header fields unquoted or quoted. */
static bool
mime_safe(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
			return false;
	return true;
}

/* Base64 of p, in lines of MIME_LINE_MAX characters with CRLF. */
static int
mime_b64(struct buf *b, const void *p, size_t len)
{
	unsigned char out[MIME_LINE_MAX + 1];
	const unsigned char *s = p;
	size_t n;

	for (; len > 0; s += n, len -= n) {
		n = len < MIME_LINE_MAX / 4 * 3 ? len : MIME_LINE_MAX / 4 * 3;
		(void)EVP_EncodeBlock(out, s, (int)n);
		if (buf_addstr(b, (const char *)out) == -1 ||
		    buf_add(b, "\r\n", 2) == -1)
			return -1;
	}
	return 0;
}

/* The summary as text/plain: 7bit if it can be, else base64 UTF-8. */
static int
mime_text(struct buf *b, const char *s)
{
	const char *p;
	size_t col = 0;
	bool plain = true;

	for (p = s; *p != '\0'; p++) {
		col = *p == '\n' ? 0 : col + 1;
		if ((unsigned char)*p >= 0x80 || *p == '\r' ||
		    col > MIME_TEXT_LINE_MAX)
			plain = false;
	}
	if (!plain)
		return buf_addstr(b,
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n") == -1 ||
			       mime_b64(b, s, strlen(s)) == -1
			   ? -1
			   : 0;
	if (buf_addstr(b, "Content-Type: text/plain; charset=us-ascii\r\n"
			  "Content-Transfer-Encoding: 7bit\r\n\r\n") == -1)
		return -1;
	for (p = s; *p != '\0'; p++)
		if ((*p == '\n' ? buf_add(b, "\r\n", 2) : buf_addc(b, *p)) ==
		    -1)
			return -1;
	if (p > s && p[-1] != '\n')
		return buf_add(b, "\r\n", 2);
	return 0;
}

/* "<tlsrpt.UNIQUE.H@SUBMITTER>", H: 8 bytes of SHA-256(rcpt), hex. */
static void
mime_msgid(const struct mime_report *mr, const char *rcpt, char *out, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *at = strrchr(mr->report_id, '@');
	int len = at != NULL ? (int)(at - mr->report_id) : 0;

	(void)EVP_Digest(rcpt, strlen(rcpt), md, &mdlen, EVP_sha256(), NULL);
	(void)snprintf(out, n,
	    "<tlsrpt.%.*s.%02x%02x%02x%02x%02x%02x%02x%02x@%s>", len,
	    mr->report_id, md[0], md[1], md[2], md[3], md[4], md[5], md[6],
	    md[7], report_submitter());
}

/* The header fields and body, unsigned. */
static int
mime_compose(
    struct buf *m, const struct mime_report *mr, const char *rcpt, time_t now)
{
	unsigned char rnd[12];
	char date[64], msgid[400], bnd[64], piece[600];
	const char *sub = report_submitter();
	size_t col, i;
	int rc = 0;

	mime_date(now, date, sizeof(date));
	mime_msgid(mr, rcpt, msgid, sizeof(msgid));
	/* "=_" cannot occur in base64, and the random part not in text. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	(void)snprintf(bnd, sizeof(bnd), "=_tlsrpt_");
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(bnd + strlen(bnd), sizeof(bnd) - strlen(bnd),
		    "%02x", rnd[i]);

	rc |= buf_printf(m, "From: %s\r\nTo: %s\r\n", mime_sender(), rcpt);
	/* Subject, folded between its three parts when long. */
	(void)snprintf(piece, sizeof(piece), "Report Domain: %s", mr->domain);
	rc |= buf_printf(m, "Subject: %s", piece);
	col = strlen("Subject: ") + strlen(piece);
	(void)snprintf(piece, sizeof(piece), "Submitter: %s", sub);
	rc |= buf_printf(m, "%s%s",
	    col + 1 + strlen(piece) > MIME_FOLD_COL ? "\r\n " : " ", piece);
	col = col + 1 + strlen(piece) > MIME_FOLD_COL ? 1 + strlen(piece)
						      : col + 1 + strlen(piece);
	(void)snprintf(piece, sizeof(piece), "Report-ID: <%s>", mr->report_id);
	rc |= buf_printf(m, "%s%s\r\n",
	    col + 1 + strlen(piece) > MIME_FOLD_COL ? "\r\n " : " ", piece);
	rc |= buf_printf(m,
	    "Date: %s\r\n"
	    "Message-ID: %s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "TLS-Report-Domain: %s\r\n"
	    "TLS-Report-Submitter: %s\r\n"
	    "TLS-Required: No\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n"
	    "This is a TLS report (RFC 8460) in MIME format.\r\n"
	    "\r\n--%s\r\n",
	    date, msgid, bnd, mr->domain, sub, bnd);
	rc |= mime_text(m, mr->summary);
	rc |= buf_printf(m,
	    "\r\n--%s\r\n"
	    "Content-Type: application/tlsrpt+gzip; name=\"%s\"\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n",
	    bnd, mr->filename, mr->filename);
	rc |= mime_b64(m, mr->gz, mr->gzlen);
	rc |= buf_printf(m, "\r\n--%s--\r\n", bnd);
	return rc != 0 ? -1 : 0;
}

char *
mime_build(const struct mime_report *mr, const char *rcpt, time_t now,
    size_t *len, char *err, size_t errlen)
{
	struct dkim_key *key = NULL;
	struct buf m, out;
	const char *d;
	char *sig = NULL, *ret = NULL;
	char derr[DKIM_ERR_MAX + 1];

	buf_init(&m, MIME_MSG_MAX);
	buf_init(&out, MIME_MSG_MAX);
	/* All of these go into header fields. */
	if (!report_alabel(mr->domain) || !report_alabel(report_submitter()) ||
	    !mime_safe(mr->filename, ".!-_") ||
	    !mime_safe(mr->report_id, ".-_@") ||
	    !mime_safe(mime_sender(), ".-_+=@") ||
	    strchr(mime_sender(), '@') == NULL) {
		(void)snprintf(err, errlen,
		    "mail: domain, submitter, file name, report-id or sender "
		    "not fit for a header field");
		goto out;
	}
	if (mime_compose(&m, mr, rcpt, now) == -1) {
		(void)snprintf(err, errlen, "mail: message too large");
		goto out;
	}
	if (cf_dkim_key == NULL || cf_dkim_key[0] == '\0') {
		/* An MTA (milter) may sign; RFC 8460 receivers need it. */
		log_warnx("report: %s: mail not DKIM-signed (no dkim_key)",
		    mr->report_id);
		*len = m.len;
		return buf_steal(&m);
	}
	d = cf_dkim_domain != NULL && cf_dkim_domain[0] != '\0'
		? cf_dkim_domain
		: report_submitter();
	if (cf_dkim_selector == NULL || !mime_safe(cf_dkim_selector, ".-_") ||
	    !report_alabel(d)) {
		(void)snprintf(err, errlen,
		    "mail: dkim_selector unset, or it or dkim_domain "
		    "malformed");
		goto out;
	}
	if ((key = dkim_key_load(cf_dkim_key, derr, sizeof(derr))) == NULL ||
	    (sig = dkim_sign(key, d, cf_dkim_selector, mime_signed, m.p, m.len,
		 now, derr, sizeof(derr))) == NULL) {
		(void)snprintf(err, errlen, "%s", derr);
		goto out;
	}
	if (buf_addstr(&out, sig) == -1 || buf_add(&out, m.p, m.len) == -1) {
		(void)snprintf(err, errlen, "mail: message too large");
		goto out;
	}
	*len = out.len;
	ret = buf_steal(&out);
out:
	free(sig);
	dkim_key_free(key);
	buf_free(&m);
	buf_free(&out);
	return ret;
}

struct mime_src {
	const char *p;
	size_t left;
};

static size_t
mime_read(char *dst, size_t size, size_t n, void *arg)
{
	struct mime_src *s = arg;
	size_t k = size * n < s->left ? size * n : s->left;

	memcpy(dst, s->p, k);
	s->p += k;
	s->left -= k;
	return k;
}

/* The relay URL, with our host name as the EHLO argument if none. */
static char *
mime_relay_url(void)
{
	char *path = NULL, *url = NULL, *ret = NULL;
	CURLU *u;

	if ((u = curl_url()) == NULL)
		fatalx("mail: out of memory");
	if (curl_url_set(u, CURLUPART_URL, cf_report_relay,
		CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    path[0] == '\0' || strcmp(path, "/") == 0)
		(void)curl_url_set(u, CURLUPART_PATH, config_hostname(), 0);
	if (curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK)
		ret = xstrdup(url);
out:
	curl_free(path);
	curl_free(url);
	curl_url_cleanup(u);
	return ret;
}

static int
mime_smtp(const char *msg, size_t len, const char *from, const char *rcpt,
    char *err, size_t errlen)
{
	char ebuf[CURL_ERROR_SIZE], addr[MIME_ADDR_MAX + 3];
	struct curl_slist *to = NULL;
	struct mime_src src = {msg, len};
	char *url;
	long code = 0;
	CURLcode rc;
	CURL *c;

	if ((url = mime_relay_url()) == NULL) {
		(void)snprintf(err, errlen, "smtp: bad report_relay URL");
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c = curl_easy_init()) == NULL)
		fatalx("mail: cannot initialise libcurl");
	(void)snprintf(addr, sizeof(addr), "<%s>", rcpt);
	if ((to = curl_slist_append(NULL, addr)) == NULL)
		fatalx("mail: out of memory");
	(void)snprintf(addr, sizeof(addr), "<%s>", from);
	ebuf[0] = '\0';
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	(void)curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	if (cf_report_ca_file != NULL && cf_report_ca_file[0] != '\0')
		(void)curl_easy_setopt(c, CURLOPT_CAINFO, cf_report_ca_file);
	(void)curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
	(void)curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	(void)curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	(void)curl_easy_setopt(c, CURLOPT_READFUNCTION, mime_read);
	(void)curl_easy_setopt(c, CURLOPT_READDATA, &src);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(
	    c, CURLOPT_TIMEOUT_MS, (long)cf_report_timeout * 1000L);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	rc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		(void)snprintf(err, errlen, "smtp: %s (last reply %ld)",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc), code);
	curl_easy_cleanup(c);
	curl_slist_free_all(to);
	curl_global_cleanup();
	free(url);
	return rc == CURLE_OK ? 0 : -1;
}

static long
mime_ms_left(const struct timespec *deadline)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Write all of p to fd (non-blocking) before the deadline. */
static int
mime_write_all(
    int fd, const char *p, size_t len, const struct timespec *deadline)
{
	struct pollfd pfd = {fd, POLLOUT, 0};
	ssize_t w;
	long left;

	while (len > 0) {
		if ((left = mime_ms_left(deadline)) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
mime_sendmail(const char *msg, size_t len, const char *from, const char *rcpt,
    char *err, size_t errlen)
{
	char *const argv[] = {cf_report_sendmail, (char *)(uintptr_t) "-i",
	    (char *)(uintptr_t) "-f", (char *)(uintptr_t)from,
	    (char *)(uintptr_t) "--", (char *)(uintptr_t)rcpt, NULL};
	struct timespec deadline;
	struct buf lf;
	sigset_t all;
	const char *p, *end = msg + len;
	int fd[2], status, wrc;
	pid_t pid, w = 0;

	if (cf_report_sendmail == NULL || cf_report_sendmail[0] != '/') {
		(void)snprintf(err, errlen,
		    "sendmail: report_sendmail must be "
		    "an absolute path");
		return -1;
	}
	/* sendmail(1) reads lines ending in LF. */
	buf_init(&lf, MIME_MSG_MAX);
	for (p = msg; p < end; p++)
		if (!(p[0] == '\r' && p + 1 < end && p[1] == '\n') &&
		    buf_addc(&lf, *p) == -1)
			break;
	if (p < end || pipe2(fd, O_CLOEXEC) == -1) {
		(void)snprintf(err, errlen, "sendmail: %s",
		    p < end ? "message too large" : strerror(errno));
		buf_free(&lf);
		return -1;
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(
		    err, errlen, "sendmail: fork: %s", strerror(errno));
		(void)close(fd[0]);
		(void)close(fd[1]);
		buf_free(&lf);
		return -1;
	}
	if (pid == 0) {
		/* The child: stdin from the pipe, default signals, exec. */
		(void)signal(SIGPIPE, SIG_DFL);
		(void)sigemptyset(&all);
		(void)sigprocmask(SIG_SETMASK, &all, NULL);
		if (dup2(fd[0], 0) == -1)
			_exit(127);
		(void)close_range(3, ~0U, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	(void)close(fd[0]);
	(void)fcntl(fd[1], F_SETFL, O_NONBLOCK);
	(void)clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)cf_report_timeout;
	wrc = mime_write_all(fd[1], lf.p, lf.len, &deadline);
	(void)close(fd[1]);
	buf_free(&lf);
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 &&
	       mime_ms_left(&deadline) > 0) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		(void)nanosleep(&ts, NULL);
	}
	if (w == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		(void)snprintf(err, errlen, "sendmail: timed out");
		return -1;
	}
	if (w == -1) {
		(void)snprintf(
		    err, errlen, "sendmail: wait: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && wrc == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		(void)snprintf(err, errlen, "sendmail: cannot run %s",
		    log_str(cf_report_sendmail, strlen(cf_report_sendmail)));
	else if (WIFEXITED(status))
		(void)snprintf(err, errlen, "sendmail: exit status %d%s",
		    WEXITSTATUS(status), wrc == 0 ? "" : ", input not read");
	else
		(void)snprintf(err, errlen, "sendmail: killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

int
mime_send(
    const struct mime_report *mr, const char *addr, char *err, size_t errlen)
{
	char rcpt[MIME_ADDR_MAX + 1];
	size_t len;
	char *msg;
	int rc;

	if (mime_rcpt(addr, rcpt, sizeof(rcpt)) == -1) {
		(void)snprintf(err, errlen, "mail: not a usable address");
		return -1;
	}
	if ((msg = mime_build(mr, rcpt, time(NULL), &len, err, errlen)) == NULL)
		return -1;
	if (cf_report_relay != NULL && cf_report_relay[0] != '\0')
		rc = mime_smtp(msg, len, mime_sender(), rcpt, err, errlen);
	else
		rc = mime_sendmail(msg, len, mime_sender(), rcpt, err, errlen);
	free(msg);
	return rc;
}
