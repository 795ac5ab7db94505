/*
 * config.c - the table of configuration keys and where the file is found
 *
 * The config file is untrusted text (conf.c checks it).  The default state
 * directory depends on how tlsflow runs: an installed binary (in BINDIR)
 * uses LOCALSTATEDIR/lib/tlsflow, a binary run from a checkout uses ./var.
 */
#include "core/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

char *cf_db;
char *cf_state_dir;
char *cf_pg_bindir;
char *cf_pg_user;
char *cf_hostname;
char *cf_timezone;
char *cf_log_files;
char *cf_log_format;
char *cf_submission_services;
long long cf_batch_size;
long long cf_flush_interval;
long long cf_counters_interval;
long long cf_retry_max;

/* clang-format off */
const struct conf_key config_keys[] = {
	{"db",                CONF_STR,  &cf_db,                0, 0,       "",     CONF_NO_RELOAD},
	{"state_dir",         CONF_STR,  &cf_state_dir,         0, 0,       "",     CONF_NO_RELOAD},
	{"pg_bindir",         CONF_STR,  &cf_pg_bindir,         0, 0,       "",     CONF_NO_RELOAD},
	{"pg_user",           CONF_STR,  &cf_pg_user,           0, 0,       "",     CONF_NO_RELOAD},
	{"hostname",          CONF_STR,  &cf_hostname,          0, 0,       "",     0},
	{"timezone",          CONF_STR,  &cf_timezone,          0, 0,       "",     0},
	{"log_files",         CONF_STR,  &cf_log_files,         0, 0,       "/var/log/mail.log", 0},
	{"log_format",        CONF_STR,  &cf_log_format,        0, 0,       "auto", 0},
	{"submission_services", CONF_STR, &cf_submission_services, 0, 0,   "submission submissions smtps", 0},
	{"batch_size",        CONF_INT,  &cf_batch_size,        1, 100000,  "20000", 0},
	{"flush_interval",    CONF_INT,  &cf_flush_interval,    10, 60000,  "1000", 0},
	{"counters_interval", CONF_INT,  &cf_counters_interval, 0, 86400,   "300",  0},
	{"retry_max",         CONF_INT,  &cf_retry_max,         1, 3600,    "30",   0},
	{NULL, 0, NULL, 0, 0, NULL, 0}
};
/* clang-format on */

static char *conf_file;	    /* from -c, or found */
static bool conf_explicit; /* -c given: the file must exist */

int
config_args(int *argc, char **argv)
{
	char err[CONF_ERR_MAX];
	int i, o = 1;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= *argc) {
				(void)fprintf(stderr,
				    "tlsflow: %s needs a file name\n", a);
				return -1;
			}
			free(conf_file);
			conf_file = xstrdup(argv[++i]);
			conf_explicit = true;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			free(conf_file);
			conf_file = xstrdup(a + 9);
			conf_explicit = true;
			continue;
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			log_verbose(true);
			continue;
		}
		if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != NULL) {
			char key[64];
			size_t n = (size_t)(strchr(a, '=') - (a + 2));

			if (n < sizeof(key)) {
				memcpy(key, a + 2, n);
				key[n] = '\0';
				if (conf_find(config_keys, key) != NULL) {
					if (conf_override(config_keys, a + 2,
						err, sizeof(err)) == -1) {
						(void)fprintf(stderr,
						    "tlsflow: %s\n", err);
						return -1;
					}
					continue;
				}
			}
		}
		argv[o++] = argv[i];
	}
	argv[o] = NULL;
	*argc = o;
	return 0;
}

void
config_load_or_die(void)
{
	char err[CONF_ERR_MAX];

	if (conf_file == NULL) {
		if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
			conf_file = xstrdup(CONFIG_DEFAULT_PATH);
		else if (access("tlsflow.conf", F_OK) == 0)
			conf_file = xstrdup("tlsflow.conf");
	}
	if (conf_file == NULL && conf_explicit)
		fatalx("config: no file given");
	if (conf_load(config_keys, conf_file, false, err, sizeof(err)) == -1) {
		(void)fprintf(stderr, "tlsflow: config: %s\n", err);
		exit(2);
	}
	if (cf_timezone[0] != '\0') {
		(void)setenv("TZ", cf_timezone, 1);
		tzset();
	}
}

int
config_reload(void)
{
	char err[CONF_ERR_MAX];

	if (conf_load(config_keys, conf_file, true, err, sizeof(err)) == -1) {
		log_warnx("config: reload: %s", err);
		return -1;
	}
	log_info("config: reloaded %s", conf_file ? conf_file : "defaults");
	return 0;
}

const char *
config_path(void)
{
	return conf_file;
}

const char *
config_state_dir(void)
{
	static char dflt[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (cf_state_dir != NULL && cf_state_dir[0] != '\0')
		return cf_state_dir;
	if (dflt[0] != '\0')
		return dflt;
	/* An installed binary keeps its state in the system's place. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (strncmp(exe, BINDIR "/", strlen(BINDIR) + 1) == 0 &&
		    strchr(exe + strlen(BINDIR) + 1, '/') == NULL) {
			(void)snprintf(dflt, sizeof(dflt), "%s/lib/tlsflow",
			    LOCALSTATEDIR);
			return dflt;
		}
	}
	(void)snprintf(dflt, sizeof(dflt), "./var");
	return dflt;
}

const char *
config_hostname(void)
{
	static char name[256];

	if (cf_hostname != NULL && cf_hostname[0] != '\0')
		return cf_hostname;
	if (name[0] == '\0' && gethostname(name, sizeof(name) - 1) == -1)
		(void)snprintf(name, sizeof(name), "localhost");
	return name;
}

void
config_free(void)
{
	conf_free(config_keys);
	free(conf_file);
	conf_file = NULL;
}
