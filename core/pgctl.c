/*
 * pgctl.c - create, start and stop the private PostgreSQL cluster
 *
 * Inputs: configuration (state_dir, pg_bindir, pg_user); nothing from the
 * network.  The PostgreSQL programs run in a child process that, when we
 * are root, first drops to pg_user (default: "tlsflow" if that account
 * exists, else "postgres", else "nobody").  A flock() on STATE_DIR/pg/lock
 * keeps two tlsflow processes from racing through initdb or start.
 * Layout:
 *	STATE_DIR/pg/data	the cluster (initdb -D)
 *	STATE_DIR/pg/run	the socket directory (mode 0700)
 *	STATE_DIR/pg/postgresql.log, pgctl.log
 */
#include "core/pgctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/config.h"

struct pgpaths {
	char top[PATH_MAX];  /* STATE_DIR/pg */
	char data[PATH_MAX]; /* top/data */
	char run[PATH_MAX];  /* top/run */
	char bin[PATH_MAX];  /* PostgreSQL's bin directory */
};

/* out = dir "/" name; the caller sized out for any path (PATH_MAX). */
static void
join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	if (dl + 1 + nl + 1 > outlen)
		fatalx("pgctl: %s/%s: path too long", dir, name);
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, nl + 1);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The newest /usr/lib/postgresql/N/bin that has initdb, else PATH's. */
static int
find_bindir(char *out, size_t outlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	long best = -1;
	DIR *d;

	if (cf_pg_bindir[0] != '\0') {
		(void)snprintf(out, outlen, "%s", cf_pg_bindir);
		return 0;
	}
	if ((d = opendir("/usr/lib/postgresql")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			uint64_t v;

			if (scan_u64_str(de->d_name, 9999, &v) == -1 ||
			    (long)v <= best)
				continue;
			(void)snprintf(path, sizeof(path),
			    "/usr/lib/postgresql/%s/bin/initdb", de->d_name);
			if (access(path, X_OK) == 0)
				best = (long)v;
		}
		(void)closedir(d);
	}
	if (best >= 0) {
		(void)snprintf(
		    out, outlen, "/usr/lib/postgresql/%ld/bin", best);
		return 0;
	}
	if (access("/usr/bin/initdb", X_OK) == 0) {
		(void)snprintf(out, outlen, "/usr/bin");
		return 0;
	}
	log_warnx("pgctl: no PostgreSQL server programs found; install "
		  "postgresql or set pg_bindir");
	return -1;
}

static int
paths(struct pgpaths *pp)
{
	char abs[PATH_MAX];
	const char *sd = config_state_dir();

	if (mkdir_p(sd, 0755) == -1) {
		log_warn("pgctl: %s", sd);
		return -1;
	}
	if (realpath(sd, abs) == NULL) {
		log_warn("pgctl: %s", sd);
		return -1;
	}
	if (snprintf(pp->top, sizeof(pp->top), "%s/pg", abs) >=
	    (int)sizeof(pp->top) - 16) {
		log_warnx("pgctl: %s: path too long", abs);
		return -1;
	}
	join(pp->data, sizeof(pp->data), pp->top, "data");
	join(pp->run, sizeof(pp->run), pp->top, "run");
	/* The socket path must fit sun_path (107 bytes with the name). */
	if (strlen(pp->run) > 80) {
		log_warnx("pgctl: %s: too long for a Unix socket directory; "
			  "use a shorter state_dir",
		    pp->run);
		return -1;
	}
	return find_bindir(pp->bin, sizeof(pp->bin));
}

/* The account the cluster runs as, or NULL when not root (ourselves). */
static struct passwd *
run_user(void)
{
	static const char *fallback[] = {"tlsflow", "postgres", "nobody", NULL};
	struct passwd *pw;
	int i;

	if (geteuid() != 0)
		return NULL;
	if (cf_pg_user[0] != '\0') {
		if ((pw = getpwnam(cf_pg_user)) == NULL || pw->pw_uid == 0)
			fatalx("pgctl: pg_user %s: no such unprivileged user",
			    cf_pg_user);
		return pw;
	}
	for (i = 0; fallback[i] != NULL; i++)
		if ((pw = getpwnam(fallback[i])) != NULL && pw->pw_uid != 0)
			return pw;
	fatalx("pgctl: running as root and no unprivileged user to run "
	       "PostgreSQL as; set pg_user");
}

/*
 * Run argv[0] from the bin directory with output appended to `logpath',
 * as the cluster's user.  Returns the exit status, or -1.
 */
static int
run(const struct pgpaths *pp, const char *logpath, const char *const argv[])
{
	char *av[16];
	size_t i;

	struct passwd *pw = run_user();
	char prog[PATH_MAX];
	pid_t pid;
	int status, fd;

	join(prog, sizeof(prog), pp->bin, argv[0]);
	if ((pid = fork()) == -1) {
		log_warn("pgctl: fork");
		return -1;
	}
	if (pid == 0) {
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd != -1) {
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
			(void)close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd != -1) {
			(void)dup2(fd, 0);
			(void)close(fd);
		}
		if (pw != NULL &&
		    (setgroups(1, &pw->pw_gid) == -1 ||
			setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
			setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1))
			_exit(126);
		if (chdir(pp->top) == -1)
			_exit(126);
		for (i = 0; argv[i] != NULL && i + 1 < 16; i++)
			av[i] = xstrdup(argv[i]);
		av[i] = NULL;
		execv(prog, av);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("pgctl: waitpid");
			return -1;
		}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
lock_top(const struct pgpaths *pp)
{
	char path[PATH_MAX];
	int fd;

	join(path, sizeof(path), pp->top, "lock");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("pgctl: %s", path);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			log_warn("pgctl: lock %s", path);
			(void)close(fd);
			return -1;
		}
	return fd;
}

static int
chown_to_runner(const char *path)
{
	struct passwd *pw = run_user();

	if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) == -1) {
		log_warn("pgctl: chown %s", path);
		return -1;
	}
	return 0;
}

static int
append_conf(const struct pgpaths *pp)
{
	char path[PATH_MAX];
	FILE *fp;

	join(path, sizeof(path), pp->data, "postgresql.conf");
	if ((fp = fopen(path, "a")) == NULL) {
		log_warn("pgctl: %s", path);
		return -1;
	}
	/* Unix socket only; durable commits; room for batched COPY. */
	(void)fprintf(fp,
	    "\n# added by tlsflow: private cluster, Unix socket only\n"
	    "listen_addresses = ''\n"
	    "unix_socket_directories = '%s'\n"
	    "unix_socket_permissions = 0700\n"
	    "max_wal_size = 2GB\n"
	    "logging_collector = off\n",
	    pp->run);
	if (fclose(fp) == EOF) {
		log_warn("pgctl: %s", path);
		return -1;
	}
	return 0;
}

static int
initdb(const struct pgpaths *pp)
{
	char log[PATH_MAX], pgver[PATH_MAX];
	const char *argv[] = {"initdb", "-D", pp->data, "-U", PGCTL_DBUSER,
	    "-A", "trust", "-E", "UTF8", "--locale=C", NULL};

	join(pgver, sizeof(pgver), pp->data, "PG_VERSION");
	if (access(pgver, F_OK) == 0)
		return 0;
	log_info(
	    "pgctl: creating the private PostgreSQL cluster in %s", pp->data);
	join(log, sizeof(log), pp->top, "pgctl.log");
	if (mkdir_p(pp->data, 0700) == -1 || chown_to_runner(pp->data) == -1) {
		log_warn("pgctl: %s", pp->data);
		return -1;
	}
	if (run(pp, log, argv) != 0) {
		log_warnx("pgctl: initdb failed; see %s", log);
		return -1;
	}
	return append_conf(pp);
}

static char *
conninfo_for(const struct pgpaths *pp, const char *db)
{
	return xasprintf(
	    "host=%s dbname=%s user=%s", pp->run, db, PGCTL_DBUSER);
}

static bool
ping(const struct pgpaths *pp)
{
	char *ci = conninfo_for(pp, "postgres");
	bool up = PQping(ci) == PQPING_OK;

	free(ci);
	return up;
}

static int
start(const struct pgpaths *pp)
{
	char log[PATH_MAX], srvlog[PATH_MAX];
	const char *argv[] = {"pg_ctl", "-D", pp->data, "-l", srvlog, "-w",
	    "-t", "120", "start", NULL};

	if (ping(pp))
		return 0;
	join(log, sizeof(log), pp->top, "pgctl.log");
	join(srvlog, sizeof(srvlog), pp->top, "postgresql.log");
	if (mkdir_p(pp->run, 0700) == -1 || chown_to_runner(pp->run) == -1 ||
	    chown_to_runner(pp->top) == -1)
		return -1;
	if (run(pp, log, argv) != 0 || !ping(pp)) {
		log_warnx("pgctl: could not start PostgreSQL; see %s and %s",
		    log, srvlog);
		return -1;
	}
	log_info("pgctl: started the private PostgreSQL in %s (socket "
		 "directory %s, log %s); stop it with \"tlsflow db stop\" or "
		 "\"%s/pg_ctl -D %s stop\"",
	    pp->data, pp->run, srvlog, pp->bin, pp->data);
	return 0;
}

static int
create_db(const struct pgpaths *pp)
{
	const char *params[1] = {PGCTL_DBNAME};
	char *ci = conninfo_for(pp, "postgres");
	PGresult *res = NULL;
	PGconn *db;
	int rc = -1;

	db = PQconnectdb(ci);
	free(ci);
	if (PQstatus(db) != CONNECTION_OK) {
		log_warnx("pgctl: connect: %s", PQerrorMessage(db));
		goto out;
	}
	res = PQexecParams(db, "SELECT 1 FROM pg_database WHERE datname = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("pgctl: %s", PQerrorMessage(db));
		goto out;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		/* A constant statement: CREATE DATABASE takes no parameters. */
		res = PQexec(db, "CREATE DATABASE " PGCTL_DBNAME);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_warnx(
			    "pgctl: create database: %s", PQerrorMessage(db));
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(db);
	return rc;
}

char *
pgctl_conninfo(bool want_start)
{
	char marker[PATH_MAX];
	struct pgpaths pp;
	char *ci = NULL;
	int lock;

	if (cf_db[0] != '\0')
		return xstrdup(cf_db);
	if (paths(&pp) == -1 || mkdir_p(pp.top, 0755) == -1)
		return NULL;
	if (!want_start)
		return conninfo_for(&pp, PGCTL_DBNAME);
	if ((lock = lock_top(&pp)) == -1)
		return NULL;
	/* The database is made once; a marker saves a connection later. */
	join(marker, sizeof(marker), pp.top, "database-created");
	if (initdb(&pp) == 0 && start(&pp) == 0 &&
	    (access(marker, F_OK) == 0 || create_db(&pp) == 0)) {
		ci = conninfo_for(&pp, PGCTL_DBNAME);
		if (access(marker, F_OK) == -1)
			(void)close(open(marker, O_WRONLY | O_CREAT, 0644));
	}
	(void)close(lock);
	return ci;
}

bool
pgctl_running(void)
{
	struct pgpaths pp;

	return cf_db[0] == '\0' && paths(&pp) == 0 && ping(&pp);
}

int
pgctl_stop(void)
{
	char log[PATH_MAX];
	struct pgpaths pp;
	const char *argv[] = {
	    "pg_ctl", "-D", pp.data, "-m", "fast", "-w", "stop", NULL};

	if (cf_db[0] != '\0') {
		log_warnx(
		    "pgctl: db is set; tlsflow does not stop that server");
		return -1;
	}
	if (paths(&pp) == -1)
		return -1;
	if (!ping(&pp)) {
		log_info("pgctl: the private PostgreSQL in %s is not running",
		    pp.data);
		return 0;
	}
	join(log, sizeof(log), pp.top, "pgctl.log");
	if (run(&pp, log, argv) != 0) {
		log_warnx("pgctl: pg_ctl stop failed; see %s", log);
		return -1;
	}
	log_info("pgctl: stopped the private PostgreSQL in %s", pp.data);
	return 0;
}
