/*
 * daemon.h - signals and privileges for the long-running commands
 *
 * Handlers only set flags (Redis); they are installed with sigaction and
 * without SA_RESTART so that poll() and sleeps return early.
 */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <signal.h>

extern volatile sig_atomic_t sig_term, sig_hup, sig_usr1;

/* Catch SIGTERM, SIGINT, SIGHUP, SIGUSR1 into the flags; ignore SIGPIPE. */
void daemon_catch_or_die(void);
/*
 * Drop to `user': setgroups, setresgid, setresuid, then check that root
 * cannot be regained.  Fatal on any failure.
 */
void daemon_drop_privs_or_die(const char *user);
/* Sleep up to `ms' milliseconds; a signal ends it early. */
void daemon_sleep_ms(long ms);

#endif /* COMMON_DAEMON_H */
