/*
 * embed.h - files compiled into the binary by tools/embed.sh
 */
#ifndef COMMON_EMBED_H
#define COMMON_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;	   /* base name, e.g. "0001-sessions.sql" */
	const unsigned char *data; /* NUL-terminated after len bytes */
	size_t len;
};

#endif /* COMMON_EMBED_H */
