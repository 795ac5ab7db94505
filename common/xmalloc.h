/*
 * xmalloc.h - allocation that never returns NULL: out of memory is fatal
 */
#ifndef COMMON_XMALLOC_H
#define COMMON_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* A new string built like snprintf(); never NULL. */
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif /* COMMON_XMALLOC_H */
