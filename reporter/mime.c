/*
 * mime.c - RFC 8460 section 5.3 report mail
 *
 * Not written yet: mailto: destinations are recorded as failed attempts
 * (and so retried by a later version within the 24 hours).
 */
#include "reporter/mime.h"

#include <stdio.h>

int
mime_send(
    const struct mime_report *mr, const char *addr, char *err, size_t errlen)
{
	(void)mr;
	(void)addr;
	(void)snprintf(err, errlen, "mailto: delivery not implemented");
	return -1;
}
