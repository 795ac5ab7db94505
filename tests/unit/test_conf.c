/*
 * test_conf.c - the configuration loader (common/conf.c): defaults, file,
 * --key=value overrides, errors naming file and line
 */
#include "common/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "t.h"

static char *cf_name;
static long long cf_size;
static bool cf_on;

/* clang-format off */
static const struct conf_key keys[] = {
	{"name", CONF_STR,  &cf_name, 0, 0,    "dflt", 0},
	{"size", CONF_INT,  &cf_size, 1, 1000, "10",   CONF_NO_RELOAD},
	{"on",   CONF_BOOL, &cf_on,   0, 0,    "no",   0},
	{NULL, 0, NULL, 0, 0, NULL, 0}
};
/* clang-format on */

static char *
write_file(const char *text)
{
	static char path[] = "/tmp/test_conf.XXXXXX";
	FILE *fp;
	int fd;

	(void)snprintf(path, sizeof(path), "/tmp/test_conf.XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		abort();
	(void)fputs(text, fp);
	(void)fclose(fp);
	return path;
}

struct bad_case {
	const char *label, *text, *want_err;
};

int
main(void)
{
	static const struct bad_case bad[] = {
	    {"unknown key", "name = a\nbogus = 1\n",
		":2: unknown key \"bogus\""},
	    {"int out of range", "size = 5000\n",
		":1: size: \"5000\" is not a number from 1 to 1000"},
	    {"int not a number", "\n\nsize = 12abc\n", ":3: size:"},
	    {"bad bool", "on = maybe\n", ":1: on: \"maybe\" is not yes or no"},
	    {"no equals sign", "name\n", ":1: expected \"key = value\""},
	};
	char err[CONF_ERR_MAX];
	char *path;
	size_t i;

	log_init("test_conf", true);
	T_INT(
	    "defaults load", conf_load(keys, NULL, false, err, sizeof(err)), 0);
	T_STR("default string", cf_name, "dflt");
	T_INT("default int", cf_size, 10);
	T_OK("default bool", !cf_on);

	path = write_file("# comment\n  name = two words  # trailing\n"
			  "size=42\non = yes\nname#x = ignored? no\n");
	/* "name#x" is a key with '#' inside a word: not a comment. */
	T_INT("file with odd key fails",
	    conf_load(keys, path, false, err, sizeof(err)), -1);
	(void)unlink(path);
	path = write_file("# comment\n  name = two words  # trailing\n"
			  "size=42\non = yes\n\n");
	T_INT("file loads", conf_load(keys, path, false, err, sizeof(err)), 0);
	T_STR("value with spaces, comment cut", cf_name, "two words");
	T_INT("int from file", cf_size, 42);
	T_OK("bool from file", cf_on);

	T_INT("override accepted",
	    conf_override(keys, "size=7", err, sizeof(err)), 0);
	T_INT("override of unknown key",
	    conf_override(keys, "nope=1", err, sizeof(err)), -1);
	T_INT("override with bad value",
	    conf_override(keys, "size=0", err, sizeof(err)), -1);
	T_INT("reload", conf_load(keys, path, false, err, sizeof(err)), 0);
	T_INT("flag wins over file", cf_size, 7);
	(void)unlink(path);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_file(bad[i].text);
		T_INT(bad[i].label,
		    conf_load(keys, path, false, err, sizeof(err)), -1);
		T_OK(bad[i].label, strstr(err, bad[i].want_err) != NULL &&
				       strstr(err, path) != NULL);
		if (strstr(err, bad[i].want_err) == NULL)
			printf("  error was: %s\n", err);
		(void)unlink(path);
	}
	/* On reload an unknown key is a warning, not an error. */
	path = write_file("bogus = 1\nname = r\n");
	T_INT("reload tolerates unknown key",
	    conf_load(keys, path, true, err, sizeof(err)), 0);
	T_STR("reload applied the rest", cf_name, "r");
	(void)unlink(path);
	T_INT("missing file",
	    conf_load(keys, "/nonexistent/x.conf", false, err, sizeof(err)),
	    -1);
	conf_free(keys);
	return t_done("test_conf");
}
