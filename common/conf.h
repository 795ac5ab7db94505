/*
 * conf.h - "key = value" configuration from a table (PgBouncer, Redis)
 *
 * A program describes its keys in a table of struct conf_key; conf_load()
 * sets every variable to its default, then applies the file, then the
 * command-line overrides (--key=value), which win.  The file is untrusted
 * text: lines are bounded, values are range-checked, and every error names
 * the file and line.
 * Ownership: string variables point to memory owned by this module, valid
 * until the next conf_load() or conf_free().
 */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_LINE_MAX 4096
#define CONF_OVERRIDES_MAX 64
#define CONF_ERR_MAX 512

enum conf_type {
	CONF_STR = 1, /* char ** */
	CONF_INT,     /* long long *, within [min, max] */
	CONF_BOOL,    /* bool *: yes/no/true/false/on/off/1/0 */
};

#define CONF_NO_RELOAD 0x01 /* a change needs a restart */

struct conf_key {
	const char *name;
	enum conf_type type;
	void *var;
	long long min, max;
	const char *def; /* default, as text; NULL: empty string */
	unsigned flags;
};

/*
 * Load the table's defaults, then `path' (NULL: none), then every
 * override recorded with conf_override().  On `reload', a changed
 * CONF_NO_RELOAD key keeps its old value (warned) and an unknown key is a
 * warning; otherwise unknown keys are errors.  Returns 0, or -1 with
 * `err' saying "FILE:LINE: what".
 */
int conf_load(const struct conf_key *tab, const char *path, bool reload,
    char *err, size_t errlen);
/*
 * Record "--key=value" (without the dashes) to apply on every load.
 * Returns 0, or -1 with err set when the key is unknown or the value bad.
 */
int conf_override(
    const struct conf_key *tab, const char *kv, char *err, size_t errlen);
/* Find a key by name, or NULL. */
const struct conf_key *conf_find(const struct conf_key *tab, const char *name);
/* Free the strings this module owns and forget the overrides. */
void conf_free(const struct conf_key *tab);

#endif /* COMMON_CONF_H */
