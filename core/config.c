/*
 * config.c - the table of configuration keys and where the file is found
 *
 * The config file is untrusted text (conf.c checks it).  The default state
 * directory depends on how tlsflow runs: a binary run from a source tree
 * uses ./var, an installed one LOCALSTATEDIR/lib/tlsflow.
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
char *cf_journal_directory;
char *cf_submission_services;
long long cf_batch_size;
long long cf_flush_interval;
long long cf_counters_interval;
long long cf_retry_max;
/* reporter (reporter/) */
char *cf_organization_name;
char *cf_contact_info;
char *cf_report_sender;
char *cf_report_suppress;
char *cf_report_relay;
char *cf_report_sendmail;
char *cf_dkim_selector;
char *cf_dkim_domain;
char *cf_dkim_key;
char *cf_dns_server;
char *cf_report_ca_file;
bool cf_report_https_insecure;
bool cf_report_lookups;
long long cf_report_spread;
long long cf_report_retry_base;
long long cf_report_timeout;
long long cf_dns_timeout;
/* sniffer (collector/sniff.c) */
char *cf_sniff_interface;
char *cf_sniff_ports;
char *cf_sniff_tls_ports;
char *cf_sniff_submission_ports;
char *cf_local_addresses;
char *cf_sniff_user;
long long cf_flow_max;
long long cf_flow_idle;
long long cf_flow_memcap;
char *cf_listen;
char *cf_web_root;
char *cf_web_db;
char *cf_web_auth_user;
char *cf_web_auth_password_file;
char *cf_web_token_file;
char *cf_tls_cert;
char *cf_tls_key;
char *cf_web_banner;
long long cf_web_threads;

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
	{"journal_directory", CONF_STR,  &cf_journal_directory, 0, 0,       "",     CONF_NO_RELOAD},
	{"submission_services", CONF_STR, &cf_submission_services, 0, 0,   "submission submissions smtps", 0},
	{"batch_size",        CONF_INT,  &cf_batch_size,        1, 100000,  "50000", 0},
	{"flush_interval",    CONF_INT,  &cf_flush_interval,    10, 60000,  "1000", 0},
	{"counters_interval", CONF_INT,  &cf_counters_interval, 0, 86400,   "300",  0},
	{"retry_max",         CONF_INT,  &cf_retry_max,         1, 3600,    "30",   0},
	{"organization_name", CONF_STR,  &cf_organization_name, 0, 0,       "",     0},
	{"contact_info",      CONF_STR,  &cf_contact_info,      0, 0,       "",     0},
	{"report_sender",     CONF_STR,  &cf_report_sender,     0, 0,       "",     0},
	{"report_suppress",   CONF_STR,  &cf_report_suppress,   0, 0,       "",     0},
	{"report_relay",      CONF_STR,  &cf_report_relay,      0, 0,       "",     0},
	{"report_sendmail",   CONF_STR,  &cf_report_sendmail,   0, 0,       "/usr/sbin/sendmail", 0},
	{"dkim_selector",     CONF_STR,  &cf_dkim_selector,     0, 0,       "",     0},
	{"dkim_domain",       CONF_STR,  &cf_dkim_domain,       0, 0,       "",     0},
	{"dkim_key",          CONF_STR,  &cf_dkim_key,          0, 0,       "",     0},
	{"dns_server",        CONF_STR,  &cf_dns_server,        0, 0,       "",     0},
	{"dns_timeout",       CONF_INT,  &cf_dns_timeout,       100, 60000, "3000", 0},
	{"report_ca_file",    CONF_STR,  &cf_report_ca_file,    0, 0,       "",     0},
	{"report_https_insecure", CONF_BOOL, &cf_report_https_insecure, 0, 0, "no", 0},
	{"report_lookups",    CONF_BOOL, &cf_report_lookups,    0, 0,       "yes",  0},
	{"report_spread",     CONF_INT,  &cf_report_spread,     0, 86400,   "14400", 0},
	{"report_retry_base", CONF_INT,  &cf_report_retry_base, 1, 86400,   "300",  0},
	{"report_timeout",    CONF_INT,  &cf_report_timeout,    1, 600,     "60",   0},
	{"sniff_interface",   CONF_STR,  &cf_sniff_interface,   0, 0,       "any",  CONF_NO_RELOAD},
	{"sniff_ports",       CONF_STR,  &cf_sniff_ports,       0, 0,       "25 465 587", CONF_NO_RELOAD},
	{"sniff_tls_ports",   CONF_STR,  &cf_sniff_tls_ports,   0, 0,       "465",  CONF_NO_RELOAD},
	{"sniff_submission_ports", CONF_STR, &cf_sniff_submission_ports, 0, 0, "465 587", CONF_NO_RELOAD},
	{"local_addresses",   CONF_STR,  &cf_local_addresses,   0, 0,       "",     CONF_NO_RELOAD},
	{"sniff_user",        CONF_STR,  &cf_sniff_user,        0, 0,       "nobody", CONF_NO_RELOAD},
	{"flow_max",          CONF_INT,  &cf_flow_max,          16, 16777216, "65536", CONF_NO_RELOAD},
	{"flow_idle",         CONF_INT,  &cf_flow_idle,         1, 86400,   "300",  CONF_NO_RELOAD},
	{"flow_memcap",       CONF_INT,  &cf_flow_memcap,       1, 65536,   "256",  CONF_NO_RELOAD},
	{"listen",            CONF_STR,  &cf_listen,            0, 0,       "127.0.0.1:8025", CONF_NO_RELOAD},
	{"web_root",          CONF_STR,  &cf_web_root,          0, 0,       "",     CONF_NO_RELOAD},
	{"web_db",            CONF_STR,  &cf_web_db,            0, 0,       "",     CONF_NO_RELOAD},
	{"web_auth_user",     CONF_STR,  &cf_web_auth_user,     0, 0,       "",     CONF_NO_RELOAD},
	{"web_auth_password_file", CONF_STR, &cf_web_auth_password_file, 0, 0, "", CONF_NO_RELOAD},
	{"web_token_file",    CONF_STR,  &cf_web_token_file,    0, 0,       "",     CONF_NO_RELOAD},
	{"tls_cert",          CONF_STR,  &cf_tls_cert,          0, 0,       "",     CONF_NO_RELOAD},
	{"tls_key",           CONF_STR,  &cf_tls_key,           0, 0,       "",     CONF_NO_RELOAD},
	{"web_threads",       CONF_INT,  &cf_web_threads,       1, 64,      "4",    CONF_NO_RELOAD},
	{"web_banner",        CONF_STR,  &cf_web_banner,        0, 0,       "",     CONF_NO_RELOAD},
	{NULL, 0, NULL, 0, 0, NULL, 0}
};
/* clang-format on */

static char *conf_file;	   /* from -c, or found */
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

/*
 * Is the running binary part of a source tree?  It is when core/config.c
 * sits in its directory or one of the two above it (./tlsflow,
 * build/san/tlsflow).
 */
static bool
in_source_tree(void)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n;
	char *slash;
	int up;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return false;
	exe[n] = '\0';
	for (up = 0; up < 3; up++) {
		if ((slash = strrchr(exe, '/')) == NULL)
			return false;
		*slash = '\0';
		(void)snprintf(probe, sizeof(probe), "%s/core/config.c", exe);
		if (access(probe, F_OK) == 0)
			return true;
	}
	return false;
}

const char *
config_state_dir(void)
{
	if (cf_state_dir != NULL && cf_state_dir[0] != '\0')
		return cf_state_dir;
	/* A checkout keeps its state in ./var, an installed one in /var. */
	return in_source_tree() ? "./var" : LOCALSTATEDIR "/lib/tlsflow";
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
