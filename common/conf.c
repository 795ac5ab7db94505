/*
 * conf.c - table-driven "key = value" configuration (see conf.h)
 *
 * Input: the configuration file and command-line overrides, both treated
 * as untrusted.  Grammar, one setting per line:
 *
 *	# comment
 *	key = value with spaces   # a comment after a value needs a space
 *
 * A key may appear once per source; later sources win (file < flags).
 * Single-threaded; variables are process globals named cf_<key>.
 */
#include "conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

static char *overrides[CONF_OVERRIDES_MAX];
static size_t noverrides;

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const struct conf_key *
conf_find(const struct conf_key *tab, const char *name)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, name) == 0)
			return tab;
	return NULL;
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *yes[] = {"yes", "true", "on", "1", NULL};
	static const char *no[] = {"no", "false", "off", "0", NULL};
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	return -1;
}

/*
 * Convert `v' for key `k' and store it.  With `keep_if_changed' (reload of
 * a CONF_NO_RELOAD key) a different value is not applied.
 */
static int
set_value(const struct conf_key *k, const char *v, bool keep_if_changed,
    const char *where, char *err, size_t errlen)
{
	long long n;
	char *endp;
	bool b;

	switch (k->type) {
	case CONF_STR: {
		char **sp = k->var;

		if (keep_if_changed && *sp != NULL && strcmp(*sp, v) != 0) {
			log_warnx("conf: %s: %s changed, restart to apply",
			    where, k->name);
			return 0;
		}
		free(*sp);
		*sp = xstrdup(v);
		return 0;
	}
	case CONF_INT:
		errno = 0;
		n = strtoll(v, &endp, 10);
		if (*v == '\0' || *endp != '\0' || errno != 0 || n < k->min ||
		    n > k->max) {
			seterr(err, errlen,
			    "%s: %s: \"%s\" is not a number from %lld to %lld",
			    where, k->name, log_str(v, strlen(v)), k->min,
			    k->max);
			return -1;
		}
		if (keep_if_changed && *(long long *)k->var != n) {
			log_warnx("conf: %s: %s changed, restart to apply",
			    where, k->name);
			return 0;
		}
		*(long long *)k->var = n;
		return 0;
	case CONF_BOOL:
		if (parse_bool(v, &b) == -1) {
			seterr(err, errlen, "%s: %s: \"%s\" is not yes or no",
			    where, k->name, log_str(v, strlen(v)));
			return -1;
		}
		if (keep_if_changed && *(bool *)k->var != b) {
			log_warnx("conf: %s: %s changed, restart to apply",
			    where, k->name);
			return 0;
		}
		*(bool *)k->var = b;
		return 0;
	}
	panic("conf: %s: bad type %d", k->name, (int)k->type);
}

static void
set_defaults(const struct conf_key *tab, bool reload)
{
	char err[CONF_ERR_MAX];

	for (; tab->name != NULL; tab++) {
		if (reload && (tab->flags & CONF_NO_RELOAD))
			continue;
		if (set_value(tab, tab->def ? tab->def : "", false, "default",
			err, sizeof(err)) == -1)
			panic("conf: bad default: %s", err);
	}
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Split "key = value" (or "key=value"); returns -1 without '='. */
static int
split_kv(char *line, char **key, char **val)
{
	char *eq;

	if ((eq = strchr(line, '=')) == NULL)
		return -1;
	*eq = '\0';
	*key = trim(line);
	*val = trim(eq + 1);
	return **key == '\0' ? -1 : 0;
}

static int
load_file(const struct conf_key *tab, const char *path, bool reload, char *err,
    size_t errlen)
{
	char line[CONF_LINE_MAX + 2], where[PATH_MAX + 32];
	const struct conf_key *k;
	char *key, *val, *hash;
	unsigned lineno = 0;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		(void)snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			seterr(err, errlen, "%s: line longer than %d bytes",
			    where, CONF_LINE_MAX);
			goto out;
		}
		/* A comment starts a line or follows white space. */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == line || hash[-1] == ' ' || hash[-1] == '\t')
				break;
		if (hash != NULL)
			*hash = '\0';
		if (*trim(line) == '\0')
			continue;
		if (split_kv(line, &key, &val) == -1) {
			seterr(
			    err, errlen, "%s: expected \"key = value\"", where);
			goto out;
		}
		if ((k = conf_find(tab, key)) == NULL) {
			if (reload) {
				log_warnx("conf: %s: unknown key %s ignored",
				    where, log_str(key, strlen(key)));
				continue;
			}
			seterr(err, errlen, "%s: unknown key \"%s\"", where,
			    log_str(key, strlen(key)));
			goto out;
		}
		if (set_value(k, val, reload && (k->flags & CONF_NO_RELOAD),
			where, err, errlen) == -1)
			goto out;
	}
	if (ferror(fp)) {
		seterr(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	(void)fclose(fp);
	return rc;
}

static int
apply_override(const struct conf_key *tab, const char *kv, bool reload,
    char *err, size_t errlen)
{
	const struct conf_key *k;
	char *copy, *key, *val;
	char where[300];
	int rc = -1;

	copy = xstrdup(kv);
	if (split_kv(copy, &key, &val) == -1) {
		seterr(err, errlen, "--%s: expected --key=value",
		    log_str(kv, strlen(kv)));
		goto out;
	}
	if ((k = conf_find(tab, key)) == NULL) {
		seterr(err, errlen, "--%s: unknown option",
		    log_str(key, strlen(key)));
		goto out;
	}
	(void)snprintf(where, sizeof(where), "--%s", k->name);
	rc = set_value(
	    k, val, reload && (k->flags & CONF_NO_RELOAD), where, err, errlen);
out:
	free(copy);
	return rc;
}

int
conf_override(
    const struct conf_key *tab, const char *kv, char *err, size_t errlen)
{
	if (noverrides == CONF_OVERRIDES_MAX) {
		seterr(err, errlen, "more than %d --key=value options",
		    CONF_OVERRIDES_MAX);
		return -1;
	}
	/* Check now so that a bad flag is reported before anything runs. */
	if (apply_override(tab, kv, false, err, errlen) == -1)
		return -1;
	overrides[noverrides++] = xstrdup(kv);
	return 0;
}

int
conf_load(const struct conf_key *tab, const char *path, bool reload, char *err,
    size_t errlen)
{
	size_t i;

	set_defaults(tab, reload);
	if (path != NULL && load_file(tab, path, reload, err, errlen) == -1)
		return -1;
	for (i = 0; i < noverrides; i++)
		if (apply_override(tab, overrides[i], reload, err, errlen) ==
		    -1)
			return -1;
	return 0;
}

void
conf_free(const struct conf_key *tab)
{
	size_t i;

	for (; tab->name != NULL; tab++)
		if (tab->type == CONF_STR) {
			free(*(char **)tab->var);
			*(char **)tab->var = NULL;
		}
	for (i = 0; i < noverrides; i++)
		free(overrides[i]);
	noverrides = 0;
}
