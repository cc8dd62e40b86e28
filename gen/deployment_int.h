/* deployment_int.h: what deployment.c and deployment_check.c share; not an
 * interface for other modules (that is deployment.h). */
#ifndef NG_DEPLOYMENT_INT_H
#define NG_DEPLOYMENT_INT_H

#include <stddef.h>

#include "deployment.h"

/* Every value rule of docs/deployment.md; name is the file for messages. */
int deployment_validate(const char *name, const struct deployment *d, struct ng_err *err);
/* s is min..max characters from digits, lowercase letters (alpha),
 * uppercase letters (alpha && upper) and extra. */
int deployment_chars_ok(const char *s, const char *extra, int alpha, int upper, size_t min,
			size_t max);
/* An https:// URL without trailing slash, query, fragment or spaces. */
int deployment_url_ok(const char *s);

#endif
