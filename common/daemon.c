/*
 * daemon.c - flag-only signal handlers and privilege dropping (see
 * daemon.h; OpenSMTPD, Redis)
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

volatile sig_atomic_t sig_term, sig_hup, sig_usr1;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGUSR1)
		sig_usr1 = 1;
	else
		sig_term = 1;
}

void
daemon_catch_or_die(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: let poll() and sleeps return */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("daemon: sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("daemon: sigaction");
}

void
daemon_drop_privs_or_die(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0)
		fatalx("daemon: drop privileges: bad user %s", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("daemon: drop privileges to %s", user);
	if (setuid(0) != -1)
		fatalx("daemon: drop privileges: root is still reachable");
}

void
daemon_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL); /* EINTR: a signal to look at */
}
