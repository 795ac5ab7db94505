/*
 * config.h - tlsflow's configuration keys (the cf_<key> globals)
 *
 * Every key is documented in etc/tlsflow.conf.sample and README.md
 * (tools/lint.sh checks).  config_load_or_die() finds the file: -c FILE,
 * else /etc/tlsflow/tlsflow.conf, else ./tlsflow.conf, else defaults only.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>

#include "common/conf.h"

#define CONFIG_DEFAULT_PATH "/etc/tlsflow/tlsflow.conf"

extern char *cf_db;
extern char *cf_state_dir;
extern char *cf_pg_bindir;
extern char *cf_pg_user;
extern char *cf_hostname;
extern char *cf_timezone;
extern char *cf_log_files;
extern char *cf_log_format;
extern char *cf_journal_directory;
extern char *cf_submission_services;
extern long long cf_batch_size;
extern long long cf_flush_interval;
extern long long cf_counters_interval;
extern long long cf_retry_max;
/* reporter */
extern char *cf_organization_name;
extern char *cf_contact_info;
extern char *cf_report_sender;
extern char *cf_report_suppress;
extern char *cf_report_relay;
extern char *cf_report_sendmail;
extern char *cf_dkim_selector;
extern char *cf_dkim_domain;
extern char *cf_dkim_key;
extern char *cf_dns_server;
extern char *cf_report_ca_file;
extern bool cf_report_https_insecure;
extern bool cf_report_lookups;
extern long long cf_report_spread;
extern long long cf_report_retry_base;
extern long long cf_report_timeout;
extern long long cf_dns_timeout;
/* sniffer (collector/sniff.c) */
extern char *cf_sniff_interface;
extern char *cf_sniff_ports;
extern char *cf_sniff_tls_ports;
extern char *cf_sniff_submission_ports;
extern char *cf_local_addresses;
extern char *cf_sniff_user;
extern long long cf_flow_max;
extern long long cf_flow_idle;
extern long long cf_flow_memcap;
/* tlsflow serve */
extern char *cf_listen;
extern char *cf_web_root;
extern char *cf_web_db;
extern char *cf_web_auth_user;
extern char *cf_web_auth_password_file;
extern char *cf_web_token_file;
extern char *cf_tls_cert;
extern char *cf_tls_key;
extern char *cf_web_banner;
extern long long cf_web_threads;

extern const struct conf_key config_keys[];

/*
 * Pull the options every command shares out of argv (-c FILE,
 * --config=FILE, -v, --key=value for any configuration key), leaving the
 * rest for the command.  Returns 0, or -1 after printing the error.
 */
int config_args(int *argc, char **argv);
/* Load the configuration; exit 2 with "FILE:LINE: ..." on any error. */
void config_load_or_die(void);
/* Reload on SIGHUP: errors are warnings and the old values stay. */
int config_reload(void);
/* The file in use, or NULL when running on defaults. */
const char *config_path(void);
/* The state directory: cf_state_dir, or the built-in default. */
const char *config_state_dir(void);
/* This MTA host's name for events: cf_hostname, else gethostname(). */
const char *config_hostname(void);
void config_free(void);

#endif /* CORE_CONFIG_H */
