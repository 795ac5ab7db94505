/*
 * server.c - "tlsflow serve [--listen ADDR:PORT]": the dashboard, its JSON
 * API, CSV export, /metrics and /healthz over libmicrohttpd
 *
 * Untrusted input: every HTTP request.  Methods other than GET and HEAD
 * get 405; a URL past WEB_URL_MAX gets 414; libmicrohttpd bounds the
 * request head (WEB_CONN_MEMORY: too large gets 431) and the number of
 * connections; parameters are parsed by query.c only; static files are
 * looked up by exact name (embedded) or by a name of [A-Za-z0-9._-] in
 * web_root, so no path can leave it.  Credentials are compared in constant
 * time.  Every reply carries the security headers (a CSP with no inline
 * script or style, nosniff, frame-ancestors 'none', no referrer).
 *
 * Order of work (STYLE.md 7): args; configuration (main.c); read the
 * secrets and TLS files; start the private database; drop privileges when
 * root; open the database pool; signals; the HTTP daemon (its own thread
 * pool, web_threads threads); the main loop, which polls the data's
 * change token and refreshes the cache once a second; SIGHUP empties the
 * cache; SIGTERM/SIGINT stop.
 * Threading: handlers run on libmicrohttpd's threads and share only
 * struct web (web.h) and the immutable struct server.
 */
#include "core/cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/daemon.h"
#include "common/embed.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/pgctl.h"
#include "web/api.h"
#include "web/metrics.h"
#include "web/query.h"
#include "web/rollup.h"

#define WEB_URL_MAX 1024	    /* bytes of a request path */
#define WEB_CONN_MAX 512	    /* connections at once */
#define WEB_CONN_PER_IP 128	    /* connections from one address */
#define WEB_CONN_MEMORY (32 * 1024) /* request head and buffers */
#define WEB_CONN_TIMEOUT 30	    /* idle seconds */
#define WEB_SECRET_MAX 4096	    /* bytes of a password or token file */
#define WEB_PEM_MAX (256 * 1024)    /* bytes of a certificate or key file */
#define WEB_FILE_MAX (8u << 20)	    /* bytes of a web_root file */
#define WEB_STATEMENT_TIMEOUT_MS 60000
#define WEB_CACHE_MIN_INTERVAL 2.0 /* seconds between refreshes of a value */

extern const struct embed_file web_static[];

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct sfile {
	const char *name;
	const unsigned char *data;
	size_t len;
	const char *ctype;
	char etag[24];
};

struct server {
	struct web w;
	struct sfile *files; /* the embedded copy */
	size_t nfiles;
	char *root; /* web_root, or NULL: serve the embedded copy */
	char *user, *password, *token; /* NULL when not configured */
	bool tls;
};

static const char *
ctype_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} t[] = {{".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"}, {".svg", "image/svg+xml"},
	    {".png", "image/png"}, {".ico", "image/x-icon"},
	    {".json", "application/json"},
	    {".txt", "text/plain; charset=utf-8"}};
	size_t i, n = strlen(name), l;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l = strlen(t[i].ext);
		if (n > l && strcmp(name + n - l, t[i].ext) == 0)
			return t[i].type;
	}
	return "application/octet-stream";
}

/* Constant-time equality of two NUL-terminated secrets. */
static bool
secret_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0 && lb != 0;
}

/* A whole file of at most `max' bytes; NULL (logged) on error. */
static char *
slurp(const char *path, size_t max, size_t *lenp)
{
	struct stat sb;
	char *p = NULL;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > max) {
		(void)close(fd);
		errno = EFBIG;
		return NULL;
	}
	p = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		n = read(fd, p + got, (size_t)sb.st_size - got);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	(void)close(fd);
	p[got] = '\0';
	if (lenp != NULL)
		*lenp = got;
	return p;
}

/* The first line of a secret file, without its newline; fatal if none. */
static char *
secret_or_die(const char *key, const char *path)
{
	char *s = slurp(path, WEB_SECRET_MAX, NULL);

	if (s == NULL)
		fatal("serve: %s %s", key, path);
	s[strcspn(s, "\r\n")] = '\0';
	if (s[0] == '\0')
		fatalx("serve: %s %s: empty", key, path);
	return s;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("serve: http: %s", msg);
}

static void
add_headers(struct server *s, struct MHD_Response *resp, const char *ctype,
    bool nostore)
{
	(void)MHD_add_response_header(
	    resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	(void)MHD_add_response_header(resp, "Content-Security-Policy", csp);
	(void)MHD_add_response_header(
	    resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(
	    resp, "Cross-Origin-Resource-Policy", "same-origin");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    nostore ? "no-store" : "no-cache");
	if (s->tls)
		(void)MHD_add_response_header(
		    resp, "Strict-Transport-Security", "max-age=31536000");
}

static void
count(struct server *s, unsigned status, size_t len)
{
	atomic_fetch_add(&s->w.cnt.bytes_out, len);
	if (status < 300)
		atomic_fetch_add(&s->w.cnt.status_2xx, 1);
	else if (status < 400)
		atomic_fetch_add(&s->w.cnt.status_3xx, 1);
	else if (status < 500)
		atomic_fetch_add(&s->w.cnt.status_4xx, 1);
	else
		atomic_fetch_add(&s->w.cnt.status_5xx, 1);
}

/* Queue a reply built by a handler; its body is freed by libmicrohttpd. */
static enum MHD_Result
send_reply(struct server *s, struct MHD_Connection *c, struct web_reply *r,
    const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char disp[160];

	resp = MHD_create_response_from_buffer_with_free_callback(
	    r->len, r->body, free);
	if (resp == NULL) {
		free(r->body);
		return MHD_NO;
	}
	add_headers(s, resp, r->ctype ? r->ctype : "application/json", true);
	if (r->filename[0] != '\0') {
		(void)snprintf(disp, sizeof(disp),
		    "attachment; filename=\"%s\"", r->filename);
		(void)MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	}
	if (allow != NULL)
		(void)MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (r->status == 401) {
		atomic_fetch_add(&s->w.cnt.auth_failures, 1);
		if (s->user != NULL) {
			ret = MHD_queue_basic_auth_fail_response(
			    c, "tlsflow", resp);
		} else {
			(void)MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    "Bearer realm=\"tlsflow\"");
			ret = MHD_queue_response(c, r->status, resp);
		}
	} else {
		ret = MHD_queue_response(c, r->status, resp);
	}
	count(s, r->status, r->len);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
send_error(struct server *s, struct MHD_Connection *c, unsigned status,
    const char *msg)
{
	struct web_reply r;

	memset(&r, 0, sizeof(r));
	web_reply_error(&r, status, msg);
	return send_reply(s, c, &r, status == 405 ? "GET, HEAD" : NULL);
}

/*
 * Check the credentials.  Static files need none when only a token is
 * set: they hold no data, and the page asks for the token.
 */
static bool
authorized(struct server *s, struct MHD_Connection *c, bool is_static)
{
	const char *h;
	char *user, *pass = NULL;
	bool ok = false;

	if (s->user == NULL && s->token == NULL)
		return true;
	if (s->user == NULL && is_static)
		return true;
	h = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (s->token != NULL && h != NULL &&
	    strncasecmp(h, "Bearer ", 7) == 0 && secret_eq(h + 7, s->token))
		return true;
	if (s->user != NULL) {
		user = MHD_basic_auth_get_username_password(c, &pass);
		ok = user != NULL && pass != NULL &&
		     secret_eq(user, s->user) & secret_eq(pass, s->password);
		if (user != NULL)
			MHD_free(user);
		if (pass != NULL)
			MHD_free(pass);
	}
	return ok;
}

/* A static file: the embedded copy, or web_root's. */
static enum MHD_Result
send_static(struct server *s, struct MHD_Connection *c, const char *name)
{
	struct MHD_Response *resp;
	const struct sfile *f = NULL;
	const char *inm;
	enum MHD_Result ret;
	char path[4096], *data;
	size_t i, len;

	if (s->root != NULL) {
		for (i = 0; name[i] != '\0'; i++)
			if (!((name[i] >= 'a' && name[i] <= 'z') ||
				(name[i] >= 'A' && name[i] <= 'Z') ||
				(name[i] >= '0' && name[i] <= '9') ||
				name[i] == '.' || name[i] == '-' ||
				name[i] == '_'))
				return send_error(s, c, 404, "not found");
		if (name[0] == '.' || i > 128 ||
		    snprintf(path, sizeof(path), "%s/%s", s->root, name) >=
			(int)sizeof(path) ||
		    (data = slurp(path, WEB_FILE_MAX, &len)) == NULL)
			return send_error(s, c, 404, "not found");
		resp = MHD_create_response_from_buffer_with_free_callback(
		    len, data, free);
		if (resp == NULL) {
			free(data);
			return MHD_NO;
		}
		add_headers(s, resp, ctype_of(name), false);
		ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
		count(s, 200, len);
		MHD_destroy_response(resp);
		return ret;
	}
	for (i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i].name, name) == 0)
			f = &s->files[i];
	if (f == NULL)
		return send_error(s, c, 404, "not found");
	inm = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && strcmp(inm, f->etag) == 0) {
		resp = MHD_create_response_from_buffer(
		    0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
		add_headers(s, resp, f->ctype, false);
		(void)MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_ETAG, f->etag);
		ret = MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, resp);
		count(s, 304, 0);
		MHD_destroy_response(resp);
		return ret;
	}
	resp = MHD_create_response_from_buffer(
	    f->len, (void *)(uintptr_t)f->data, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	add_headers(s, resp, f->ctype, false);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	count(s, 200, f->len);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
on_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	struct query *q = cls;

	(void)kind;
	/* A %00 would cut the C string short: refuse it. */
	if (key == NULL || strlen(key) != key_size ||
	    (value != NULL && strlen(value) != value_size)) {
		(void)query_error(q, "a parameter holds a NUL byte (%00)");
		return MHD_NO;
	}
	if (query_set(q, key, value) == -1)
		return MHD_NO; /* stop at the first error; q->err says it */
	return MHD_YES;
}

static enum MHD_Result
send_healthz(struct server *s, struct MHD_Connection *c)
{
	struct web_reply r;
	PGresult *res = NULL;
	PGconn *db;
	bool ok = false;

	memset(&r, 0, sizeof(r));
	if ((db = pool_get(s->w.pool)) != NULL) {
		ok = db_exec(
		    db, "healthz", &res, PGRES_TUPLES_OK, "SELECT 1", 0, NULL);
		PQclear(res);
		pool_put(s->w.pool, db, !ok);
	}
	r.status = ok ? 200 : 503;
	r.ctype = "text/plain; charset=utf-8";
	r.body = xstrdup(ok ? "ok\n" : "database unreachable\n");
	r.len = strlen(r.body);
	return send_reply(s, c, &r, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct web_reply r;
	struct query q;
	bool is_api, is_static;

	(void)version;
	(void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		/* At once: a body is not read, the connection is closed. */
		atomic_fetch_add(&s->w.cnt.requests, 1);
		return send_error(s, c, 405, "only GET and HEAD are served");
	}
	/*
	 * Answer on the second call, when the request is complete, so that
	 * libmicrohttpd keeps the connection alive; a body on a GET is
	 * refused.
	 */
	if (*con_cls == NULL) {
		*con_cls = s;
		return MHD_YES;
	}
	atomic_fetch_add(&s->w.cnt.requests, 1);
	if (*upload_size != 0) {
		*upload_size = 0;
		return send_error(s, c, 400, "a GET or HEAD has no body");
	}
	if (strlen(url) > WEB_URL_MAX)
		return send_error(s, c, 414, "the URL is too long");
	if (url[0] != '/')
		return send_error(s, c, 400, "bad request target");
	if (strcmp(url, "/healthz") == 0)
		return send_healthz(s, c);
	is_api = strncmp(url, "/api/v1/", 8) == 0;
	is_static = !is_api && strcmp(url, "/metrics") != 0;
	if (!authorized(s, c, is_static)) {
		memset(&r, 0, sizeof(r));
		web_reply_error(&r, 401, "authentication required");
		return send_reply(s, c, &r, NULL);
	}
	if (is_static)
		return send_static(s, c, url[1] ? url + 1 : "index.html");
	memset(&r, 0, sizeof(r));
	if (!is_api) {
		metrics_render(&s->w, &r);
		return send_reply(s, c, &r, NULL);
	}
	query_init(&q);
	(void)MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, on_arg, &q);
	if (q.err[0] != '\0')
		web_reply_error(&r, 400, q.err);
	else
		api_handle(&s->w, url + 8, &q, &r);
	return send_reply(s, c, &r, NULL);
}

/* "ADDR:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static int
listen_addr(const char *spec, struct sockaddr_storage *ss, bool *v6)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	const char *colon, *port;
	size_t hl;

	if (spec[0] == '[') {
		if ((colon = strstr(spec, "]:")) == NULL)
			return -1;
		hl = (size_t)(colon - spec - 1);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, hl);
		port = colon + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, spec, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host[0] && strcmp(host, "*") != 0 ? host : NULL, port,
		&hints, &ai) != 0 ||
	    ai == NULL)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

/* The account the private cluster runs as (pgctl.c), which can reach
 * its socket; else nobody. */
static const char *
unprivileged_user(void)
{
	if (cf_pg_user[0] != '\0')
		return cf_pg_user;
	if (getpwnam("tlsflow") != NULL)
		return "tlsflow";
	if (getpwnam("postgres") != NULL)
		return "postgres";
	return "nobody";
}

/* Apply pending migrations when this role may (as collect does). */
static void
schema_check(const char *ci)
{
	PGconn *db = db_connect(ci, false);
	PGresult *res = NULL;
	int n;

	if (db == NULL)
		return; /* the pool reports it and retries */
	/* A role that may only read cannot migrate: do not try. */
	if (!db_exec(db, "schema check", &res, PGRES_TUPLES_OK,
		"SELECT has_schema_privilege(current_schema(), 'CREATE')", 0,
		NULL) ||
	    strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		log_info("serve: read-only database role; migrations are "
			 "left to \"tlsflow db migrate\"");
		PQclear(res);
		PQfinish(db);
		return;
	}
	PQclear(res);
	n = migrate_pending(db);
	if (n > 0 && migrate_apply(db) < 0)
		log_warnx("serve: %d schema migration%s pending and not "
			  "applied (read-only role?): run \"tlsflow db "
			  "migrate\"",
		    n, n == 1 ? "" : "s");
	PQfinish(db);
}

static void
load_files(struct server *s)
{
	uint64_t h;
	size_t i, k;

	for (s->nfiles = 0; web_static[s->nfiles].name != NULL; s->nfiles++)
		;
	s->files = xcalloc(s->nfiles + 1, sizeof(*s->files));
	for (i = 0; i < s->nfiles; i++) {
		struct sfile *f = &s->files[i];

		f->name = web_static[i].name;
		f->data = web_static[i].data;
		f->len = web_static[i].len;
		f->ctype = ctype_of(f->name);
		h = 14695981039346656037ull; /* FNV-1a */
		for (k = 0; k < f->len; k++)
			h = (h ^ f->data[k]) * 1099511628211ull;
		(void)snprintf(f->etag, sizeof(f->etag), "\"%016llx\"",
		    (unsigned long long)h);
	}
}

static int
serve_usage(void)
{
	(void)fprintf(stderr, "usage: tlsflow serve [-c FILE] "
			      "[--listen ADDR:PORT]\n");
	return 2;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = NULL;
	struct server s;
	const char *listen = cf_listen;
	char *ci = NULL, *cert = NULL, *key = NULL;
	unsigned flags;
	bool v6 = false;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'l')
			return serve_usage();
		listen = optarg;
	}
	if (optind != argc)
		return serve_usage();
	if (listen_addr(listen, &ss, &v6) == -1) {
		(void)fprintf(stderr,
		    "tlsflow: serve: listen: \"%s\" is not "
		    "ADDR:PORT\n",
		    log_str(listen, strlen(listen)));
		return 2;
	}
	memset(&s, 0, sizeof(s));
	if ((cf_web_auth_user[0] != '\0') !=
	    (cf_web_auth_password_file[0] != '\0')) {
		(void)fprintf(stderr, "tlsflow: serve: web_auth_user and "
				      "web_auth_password_file go together\n");
		return 2;
	}
	if ((cf_tls_cert[0] != '\0') != (cf_tls_key[0] != '\0')) {
		(void)fprintf(stderr, "tlsflow: serve: tls_cert and tls_key "
				      "go together\n");
		return 2;
	}
	/* Secrets and keys may be readable by root only: read them first. */
	if (cf_web_auth_user[0] != '\0') {
		s.user = xstrdup(cf_web_auth_user);
		s.password = secret_or_die(
		    "web_auth_password_file", cf_web_auth_password_file);
	}
	if (cf_web_token_file[0] != '\0')
		s.token = secret_or_die("web_token_file", cf_web_token_file);
	if (cf_tls_cert[0] != '\0') {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
			fatalx("serve: this libmicrohttpd has no TLS support");
		if ((cert = slurp(cf_tls_cert, WEB_PEM_MAX, NULL)) == NULL)
			fatal("serve: tls_cert %s", cf_tls_cert);
		if ((key = slurp(cf_tls_key, WEB_PEM_MAX, NULL)) == NULL)
			fatal("serve: tls_key %s", cf_tls_key);
		s.tls = true;
	}
	if (cf_web_root[0] != '\0')
		s.root = xstrdup(cf_web_root);
	load_files(&s);
	ci = cf_web_db[0] != '\0' ? xstrdup(cf_web_db) : pgctl_conninfo(true);
	if (ci == NULL)
		goto out;
	if (getuid() == 0)
		daemon_drop_privs_or_die(unprivileged_user());
	schema_check(ci);

	s.w.started = time(NULL);
	(void)snprintf(s.w.banner, sizeof(s.w.banner), "%s", cf_web_banner);
	s.w.pool = pool_new(
	    ci, (unsigned)cf_web_threads + 1, WEB_STATEMENT_TIMEOUT_MS);
	s.w.cache = cache_new(s.w.pool, rollup_compute, rollup_free, NULL,
	    WEB_CACHE_MIN_INTERVAL);
	api_init(&s.w);
	daemon_catch_or_die();

	flags =
	    MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (s.tls)
		flags |= MHD_USE_TLS;
	/* clang-format off */
	if (s.tls)
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cf_web_threads,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_MAX,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_CONN_PER_IP,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    MHD_OPTION_HTTPS_MEM_CERT, cert,
		    MHD_OPTION_HTTPS_MEM_KEY, key,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cf_web_threads,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_MAX,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_CONN_PER_IP,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    MHD_OPTION_END);
	/* clang-format on */
	if (d == NULL) {
		log_warn("serve: cannot listen on %s",
		    log_str(listen, strlen(listen)));
		goto out;
	}
	log_info("serve: dashboard at %s://%s/ (%s%s)",
	    s.tls ? "https" : "http", log_str(listen, strlen(listen)),
	    s.root ? "files from web_root" : "embedded files",
	    s.user || s.token ? ", authentication required" : "");
	api_tick(&s.w, 0);
	api_warm(&s.w);
	while (!sig_term) {
		if (sig_hup) {
			sig_hup = 0;
			cache_clear(s.w.cache);
			log_info("serve: SIGHUP: cache emptied");
		}
		api_tick(&s.w, 1.0);
		daemon_sleep_ms(500);
	}
	log_info("serve: stopping");
	rc = 0;
out:
	if (d != NULL)
		MHD_stop_daemon(d);
	if (s.w.views != NULL)
		api_fini(&s.w);
	cache_free(s.w.cache);
	pool_free(s.w.pool);
	free(s.files);
	free(s.root);
	free(s.user);
	free(s.password);
	free(s.token);
	free(cert);
	free(key);
	free(ci);
	return rc;
}
